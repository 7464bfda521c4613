#!/usr/bin/env bash
# Local RabbitMQ broker (Debian's rabbitmq-server) for tests and local dev.
#   rabbitmq.sh start|stop|status
# AMQP on 127.0.0.1:${RABBITMQ_NODE_PORT:-5672} (guest/guest), management API on :${RABBITMQ_MANAGEMENT_PORT:-15672}.
# A second node beside the default one (the fault suite's): set RABBITMQ_NODENAME (e.g. dane-faults@<host>),
# RABBITMQ_NODE_PORT and RABBITMQ_MANAGEMENT_PORT; its data and logs are kept apart by node name.
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

START_TIMEOUT=${RABBITMQ_START_TIMEOUT:-90}
AMQP_PORT=$(rabbitmq_port)
MGMT_PORT=${RABBITMQ_MANAGEMENT_PORT:-15672}
# Node name: the broker's default (rabbit@<host>) unless RABBITMQ_NODENAME is set. The CLI tools get it with -n.
NODE_ARGS=()
if [ -n "${RABBITMQ_NODENAME:-}" ]; then
  NODE_ARGS=(-n "$RABBITMQ_NODENAME")
  # Each node needs its own distribution port (the default is derived from the AMQP port + 20000).
  export RABBITMQ_DIST_PORT=${RABBITMQ_DIST_PORT:-$((AMQP_PORT + 20000))}
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:-} -rabbitmq_management tcp_config [{port,$MGMT_PORT}]"
fi
ENABLED_PLUGINS_FILE=${RABBITMQ_ENABLED_PLUGINS_FILE:-/etc/rabbitmq/enabled_plugins}

installed() { command -v rabbitmq-server >/dev/null 2>&1 && command -v rabbitmqctl >/dev/null 2>&1; }

ping_ok() { installed && timeout 20 rabbitmq-diagnostics -q "${NODE_ARGS[@]}" ping >/dev/null 2>&1; }

is_up() { ping_ok && port_open 127.0.0.1 "$AMQP_PORT"; }

show_logs() {
  local f
  for f in /var/log/rabbitmq/startup_err /var/log/rabbitmq/startup_log /var/log/rabbitmq/rabbit@*.log; do
    [ -s "$f" ] || continue
    log "---- tail of $f"
    tail -n 30 "$f" >&2 || true
  done
}

enable_management() {
  if grep -qs 'rabbitmq_management' "$ENABLED_PLUGINS_FILE"; then
    return 0
  fi
  if ping_ok; then
    log "enabling rabbitmq_management on the running broker"
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null || die "could not enable rabbitmq_management"
  else
    log "enabling rabbitmq_management (offline)"
    rabbitmq-plugins -q enable --offline rabbitmq_management >/dev/null || die "could not enable rabbitmq_management"
  fi
}

wait_amqp() {
  local start=$SECONDS
  until port_open 127.0.0.1 "$AMQP_PORT"; do
    (( SECONDS - start < 30 )) || return 1
    sleep 0.5
  done
}

start() {
  installed || apt_install rabbitmq-server
  enable_management
  if ping_ok; then
    wait_amqp || die "broker answers ping but AMQP port $AMQP_PORT is not accepting connections"
    log "rabbitmq already running (amqp://guest:guest@127.0.0.1:$AMQP_PORT)"
    return 0
  fi
  if port_open 127.0.0.1 "$AMQP_PORT"; then
    die "port $AMQP_PORT is taken by something that is not a pingable local rabbitmq node"
  fi
  log "starting rabbitmq-server"
  local t0=$SECONDS
  rabbitmq-server -detached >&2 || { show_logs; die "rabbitmq-server -detached failed"; }
  until ping_ok; do
    if (( SECONDS - t0 >= START_TIMEOUT )); then
      show_logs
      timeout 30 rabbitmqctl "${NODE_ARGS[@]}" stop >/dev/null 2>&1 || true
      die "rabbitmq did not answer ping within ${START_TIMEOUT}s"
    fi
    sleep 1
  done
  if ! timeout "$START_TIMEOUT" rabbitmqctl -q "${NODE_ARGS[@]}" await_startup >&2; then
    show_logs
    timeout 30 rabbitmqctl "${NODE_ARGS[@]}" stop >/dev/null 2>&1 || true
    die "rabbitmqctl await_startup failed"
  fi
  wait_amqp || { show_logs; die "AMQP port $AMQP_PORT not accepting connections after startup"; }
  port_open 127.0.0.1 "$MGMT_PORT" || log "warning: management API port $MGMT_PORT is not open"
  log "rabbitmq up in $(( SECONDS - t0 ))s (amqp://guest:guest@127.0.0.1:$AMQP_PORT, http://127.0.0.1:$MGMT_PORT/api)"
}

stop() {
  if ping_ok; then
    log "stopping rabbitmq"
    timeout 60 rabbitmqctl -q "${NODE_ARGS[@]}" stop >&2 || log "warning: rabbitmqctl stop returned non-zero"
  elif ! port_open 127.0.0.1 "$AMQP_PORT"; then
    log "rabbitmq not running"
    return 0
  fi
  wait_port_closed 127.0.0.1 "$AMQP_PORT" 60 || die "port $AMQP_PORT still open 60s after stopping rabbitmq"
  log "rabbitmq stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if is_up; then log "rabbitmq is up (port $AMQP_PORT)"; exit 0; else log "rabbitmq is down"; exit 1; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
