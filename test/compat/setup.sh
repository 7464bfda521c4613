#!/usr/bin/env bash
# Creates the Python venvs of the compatibility tests from PyPI:
#   test/compat/.venv            the DANE worker library (requirements.txt)
#   test/compat/.venv-workflows  dane-workflows, the batch client (requirements-workflows.txt; it needs dane <0.4)
# Idempotent and fast when nothing changed: a stamp in each venv records the requirements hash and the Python
# version it was built for. Needs python3 with the venv module (Debian: python3-venv, which .ci/run installs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"

build() { # build <venv> <requirements> <python statement that checks the install>
  local venv="$1" requirements="$2" check="$3"
  local stamp="$venv/.requirements.stamp"
  local want
  want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"
  ready() { [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }
  ready && return 0

  mkdir -p "$venv"
  # Test files may start workers concurrently; only one of them builds the venv.
  exec 9>"$venv/.setup.lock"
  flock 9
  if ready; then
    exec 9>&-
    return 0
  fi

  local started
  started=$(date +%s)
  echo "[compat] building $venv (from PyPI: $(basename "$requirements"))" >&2
  # A venv built by another Python (or half-built) is rebuilt from scratch; the lock file stays.
  if [ -e "$venv/pyvenv.cfg" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv/bin" "$venv/lib" "$venv/lib64" "$venv/include" "$venv/pyvenv.cfg"
  fi
  rm -f "$stamp"
  if ! "$python" -m venv "$venv"; then
    echo "[compat] '$python -m venv' failed: install the venv module (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r "$requirements"
  "$venv/bin/python" -c "$check"
  echo "$want" >"$stamp"
  exec 9>&-
  echo "[compat] $venv ready in $(($(date +%s) - started)) s" >&2
}

build "$here/.venv" "$here/requirements.txt" 'import dane, elasticsearch7, pika'
build "$here/.venv-workflows" "$here/requirements-workflows.txt" \
  'import dane_workflows.task_scheduler, dane_workflows.data_processing, elasticsearch7'
