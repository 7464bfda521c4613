#!/usr/bin/env bash
# npm start: bring the local stack up if needed, bootstrap storage and messaging, then serve the API through
# serverless-offline on port 5500 together with the local emulation of the AWS event sources and the worker
# gateway for DANE workers (http://127.0.0.1:9201, GATEWAY_PORT). Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."

# The AWS SDK (used to invoke functions through serverless-offline) refuses to sign without credentials.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_REGION="${AWS_REGION:-eu-west-1}"

bash localstack/up.sh
npx tsx scripts/bootstrap.ts
# Auth is on: the first start creates a local admin key and prints it (every start prints it again).
# shellcheck source=../localstack/lib.sh
. localstack/lib.sh
npx tsx scripts/local-admin-key.ts "$(localstack_home)/local-admin-key.${AUTH_KEYS_INDEX:-dane-auth-keys}"

# Each child runs in its own process group so that stopping it also stops whatever it spawned (esbuild,
# worker threads), however this script is stopped (Ctrl-C, SIGTERM from a supervisor, or a child exiting).
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

setsid node_modules/.bin/serverless offline start &
pids+=($!)

# Local emulation of the RabbitMQ event source, which serverless-offline ignores.
if [ -f localstack/emulate-events.ts ]; then
  setsid node_modules/.bin/tsx localstack/emulate-events.ts &
  pids+=($!)
fi

# The worker gateway's function URL, which serverless-offline does not serve.
setsid node_modules/.bin/tsx localstack/worker-gateway.ts &
pids+=($!)

# Whichever exits first (or Ctrl-C) stops the rest.
wait -n
