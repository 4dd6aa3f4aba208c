#!/usr/bin/env bash
# The main job on embedded defaults, no AWS account: install, then run LiteLLM's benchmark on
# this machine against the proxy exactly as templates/cloudformation-ecs.yaml starts it.
# Extra arguments go to `litellm-bench-cfn bench local` (e.g. --users 200 --duration 60).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --quiet
exec .venv/bin/litellm-bench-cfn bench local "$@"
