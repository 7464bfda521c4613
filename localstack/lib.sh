# shellcheck shell=bash
# Shared helpers for the localstack scripts. Source it, do not run it.

LOCALSTACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LOCALSTACK_DIR

log() { printf '[localstack] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Cache/state dir, outside the repo. Root runs OpenSearch as a dedicated system user that
# cannot enter /root (mode 700), so root defaults to a system cache dir instead of $HOME/.cache.
localstack_home() {
  if [ -n "${DANE_LOCALSTACK_HOME:-}" ]; then
    printf '%s\n' "$DANE_LOCALSTACK_HOME"
  elif is_root; then
    printf '%s\n' /var/cache/dane-localstack
  else
    printf '%s\n' "${HOME:?HOME is not set}/.cache/dane-localstack"
  fi
}

# port_open HOST PORT: true if a TCP connection succeeds (bash /dev/tcp, 2 s cap).
port_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# wait_port_closed HOST PORT TIMEOUT_S
wait_port_closed() {
  local host=$1 port=$2 timeout_s=$3 start=$SECONDS
  while port_open "$host" "$port"; do
    if (( SECONDS - start >= timeout_s )); then
      return 1
    fi
    sleep 0.5
  done
}

# apt_install PKG...: noninteractive install, running `apt-get update` first.
apt_install() {
  is_root || die "need root to apt-get install $* (install it yourself, then rerun)"
  log "installing $* with apt-get"
  # Serialised: up.sh starts both services at once and apt/dpkg take exclusive locks.
  (
    flock -w 600 8 || die "timed out waiting for the localstack apt lock"
    export DEBIAN_FRONTEND=noninteractive
    local out
    out=$(mktemp)
    if ! { apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 "$@"; } >"$out" 2>&1; then
      tail -n 30 "$out" >&2
      rm -f "$out"
      die "apt-get install $* failed"
    fi
    rm -f "$out"
  ) 8>/tmp/.dane-localstack-apt.lock
}

# need_cmd CMD [DEBIAN_PACKAGE]: install the package if the command is missing.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || apt_install "${2:-$1}"
}

# OPENSEARCH_URL parsing: scheme://host:port[/...]
opensearch_url() { printf '%s\n' "${OPENSEARCH_URL:-http://127.0.0.1:9200}" | sed -E 's#/+$##'; }
opensearch_host() {
  local h
  h=$(opensearch_url | sed -E 's#^[a-zA-Z]+://##; s#/.*$##; s#^[^@]*@##; s#:[0-9]+$##')
  [ "$h" = localhost ] && h=127.0.0.1
  printf '%s\n' "$h"
}
opensearch_port() {
  local hp
  hp=$(opensearch_url | sed -E 's#^[a-zA-Z]+://##; s#/.*$##; s#^[^@]*@##')
  if [[ $hp =~ :([0-9]+)$ ]]; then printf '%s\n' "${BASH_REMATCH[1]}"; else printf '9200\n'; fi
}

rabbitmq_port() { printf '%s\n' "${RABBITMQ_NODE_PORT:-5672}"; }
