#!/usr/bin/env bash
# npm run test:faults: the fault suite (test/faults) against a RabbitMQ node and an OpenSearch node of its own,
# beside the ordinary local stack (which it never touches), so that stopping and starting services mid-run
# disturbs nobody's `npm start`. Both are stopped again at the end. FAULTS_N (default 2000) sets the batch size.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_REGION="${AWS_REGION:-eu-west-1}"

export OPENSEARCH_URL="http://127.0.0.1:${FAULTS_OPENSEARCH_PORT:-9290}"
export RABBITMQ_NODENAME="dane-faults@$(hostname -s)"
export RABBITMQ_NODE_PORT="${FAULTS_AMQP_PORT:-5690}"
export RABBITMQ_MANAGEMENT_PORT="${FAULTS_MANAGEMENT_PORT:-15690}"
export AMQP_URL="amqp://guest:guest@127.0.0.1:$RABBITMQ_NODE_PORT"
export RABBITMQ_MANAGEMENT_URL="http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT"
export DANE_INDEX="${DANE_INDEX:-dane-faults}"
# The suite refuses to run without it: its scenarios stop the services these variables point at.
export FAULTS_OWN_STACK=1

stop() {
  bash localstack/down.sh || true
}
trap stop EXIT
bash localstack/up.sh
npx vitest run --config vitest.faults.config.ts "$@"
