#!/usr/bin/env bash
# Stop the local RabbitMQ and OpenSearch. Idempotent: services that are not running are skipped.
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

"$LOCALSTACK_DIR/rabbitmq.sh" stop &
rabbit_pid=$!
os_rc=0
"$LOCALSTACK_DIR/opensearch.sh" stop || os_rc=$?
rabbit_rc=0
wait "$rabbit_pid" || rabbit_rc=$?

(( rabbit_rc == 0 )) || log "ERROR: rabbitmq did not stop cleanly (exit $rabbit_rc)"
(( os_rc == 0 )) || log "ERROR: opensearch did not stop cleanly (exit $os_rc)"
if (( rabbit_rc != 0 || os_rc != 0 )); then
  exit 1
fi
log "all down"
