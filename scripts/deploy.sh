#!/usr/bin/env bash
# Deploy, check and tear down the litellm-bench-cfn stack: `scripts/deploy.sh --help` lists the
# commands. The work is done with boto3 by `litellm-bench-cfn deploy` (src/litellm_bench_cfn/aws/deploy.py);
# this script only finds the installed tool and keeps the command the docs name.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLI="$REPO_ROOT/.venv/bin/litellm-bench-cfn"

if [[ ! -x "$CLI" ]]; then
  echo "error: $CLI is not installed; run scripts/bootstrap.sh first" >&2
  exit 2
fi
# The default template is the checkout's, wherever this is run from; a later --template wins.
exec "$CLI" deploy --template "$REPO_ROOT/templates/cloudformation-ecs.yaml" "$@"
