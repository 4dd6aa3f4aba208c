#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then lints, type-checks,
# checks every generated file is in sync, runs the policy checks and every test (including the
# end-to-end ones that start the real LiteLLM proxy, Locust and a moto server on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "install (scripts/bootstrap.sh)"
scripts/bootstrap.sh --quiet
export PATH="$PWD/.venv/bin:$PATH"

step "ruff"
ruff check src tests loadtest
ruff format --check src tests loadtest

step "mypy"
mypy

step "shellcheck"
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck scripts/*.sh .ci/run
  echo "shellcheck: no findings"
elif [[ -n "${CI:-}" ]]; then
  echo "shellcheck is not installed (scripts/bootstrap.sh installs it as root with apt-get)" >&2
  exit 1
else
  echo "shellcheck is not installed: skipped here (CI fails without it)"
fi

step "templates in sync with profiles/ (render --check)"
litellm-bench-cfn render --check

step "cfn-lint $(cfn-lint --version | awk '{print $2}') over every template"
cfn-lint templates/*.yaml
echo "cfn-lint: no findings"

step "benchmark compliance doc in sync"
litellm-bench-cfn compliance templates/cloudformation-ecs.yaml --markdown --check docs/benchmark-compliance.md

step "policy as code (checkov, cfn-guard)"
scripts/policy-check.sh

step "pytest"
python -m pytest -p no:cacheprovider "$@"
