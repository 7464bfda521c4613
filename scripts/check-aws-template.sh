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

npx serverless package --stage prod --package .serverless-aws
"$venv/bin/cfn-lint" .serverless-aws/cloudformation-template-update-stack.json
echo "[check-aws-template] cfn-lint $("$venv/bin/cfn-lint" --version | cut -d' ' -f2): no errors, no unexplained warnings"
