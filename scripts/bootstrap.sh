#!/usr/bin/env bash
# Installs everything this project needs into ./.venv (idempotent). Used by the README's two
# commands and by CI. Pass --quiet to keep pip quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=()
[[ "${1:-}" == "--quiet" ]] && quiet=(-q)

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: Python 3.11+ is required (found: $("$python" --version 2>&1))" >&2
  exit 2
fi
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv"
  "$python" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
stamp=.venv/.bootstrap-stamp
want=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "bootstrap: installing litellm-bench-cfn with its benchmark and dev extras (first run takes a few minutes)"
.venv/bin/python -m pip install "${quiet[@]}" --upgrade pip
.venv/bin/python -m pip install "${quiet[@]}" -e ".[bench,dev]"
echo "$want" > "$stamp"
