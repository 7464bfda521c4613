#!/usr/bin/env bash
# Start the local RabbitMQ and OpenSearch (concurrently). Idempotent: running services are left alone.
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

t0=$SECONDS
"$LOCALSTACK_DIR/rabbitmq.sh" start &
rabbit_pid=$!
os_rc=0
"$LOCALSTACK_DIR/opensearch.sh" start || os_rc=$?
rabbit_rc=0
wait "$rabbit_pid" || rabbit_rc=$?

(( rabbit_rc == 0 )) || log "ERROR: rabbitmq failed to start (exit $rabbit_rc)"
(( os_rc == 0 )) || log "ERROR: opensearch failed to start (exit $os_rc)"
if (( rabbit_rc != 0 || os_rc != 0 )); then
  exit 1
fi
log "all up in $(( SECONDS - t0 ))s: OPENSEARCH_URL=$(opensearch_url) AMQP=amqp://guest:guest@127.0.0.1:$(rabbitmq_port)"
