#!/usr/bin/env bash
# Packages the stage that AWS would run (`prod` with its defaults: every resource created) into .serverless-aws,
# offline and without credentials, and lints its CloudFormation template with cfn-lint (from PyPI, in a venv under
# .venv/). CI then checks the same template in test/unit/aws-template.test.ts (DANE_AWS_TEMPLATE).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv/cfn-lint
if [ ! -x "$venv/bin/cfn-lint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==1.58.0"
fi

# The template is linted, never deployed: a stand-in for the worker gateway's credential, which a real deployment
# takes from the deploying shell.
GATEWAY_WORKER_USERNAME=${GATEWAY_WORKER_USERNAME:-lint-only} GATEWAY_WORKER_PASSWORD=${GATEWAY_WORKER_PASSWORD:-lint-only} \
  npx serverless package --stage prod --package .serverless-aws
"$venv/bin/cfn-lint" .serverless-aws/cloudformation-template-update-stack.json
echo "[check-aws-template] cfn-lint $("$venv/bin/cfn-lint" --version | cut -d' ' -f2): no errors, no unexplained warnings"
