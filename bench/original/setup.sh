#!/usr/bin/env bash
# Creates bench/original/.venv with DANE-server 0.3.1 from PyPI (requirements.txt). Idempotent and fast
# when nothing changed: a stamp in the venv records the requirements hash and the Python version it was built for.
# Needs python3 with the venv module (Debian: python3-venv, which .ci/run installs when missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.stamp"
python="${PYTHON:-python3}"

want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"
ready() { [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }
ready && exit 0

mkdir -p "$venv"
# Two runs started together: only one of them builds the venv.
exec 9>"$venv/.setup.lock"
flock 9
ready && exit 0

started=$(date +%s)
echo "[bench] building $venv (dane-server 0.3.1 and its dependencies from PyPI)" >&2
# A venv built by another Python (or half-built) is rebuilt from scratch; the lock file stays.
if [ -e "$venv/pyvenv.cfg" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv/bin" "$venv/lib" "$venv/lib64" "$venv/include" "$venv/pyvenv.cfg"
fi
rm -f "$stamp"
if ! "$python" -m venv "$venv"; then
  echo "[bench] '$python -m venv' failed: install the venv module (Debian: apt-get install python3-venv)" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r "$requirements"
"$venv/bin/python" -c 'import dane_server, flask, elasticsearch7, pika'
echo "$want" >"$stamp"
echo "[bench] venv ready in $(($(date +%s) - started)) s" >&2
