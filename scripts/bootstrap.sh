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
# Real servers the end-to-end tests and `bench local` start on loopback (PostgreSQL for the
# migration tests, Redis for templates whose proxy uses it), shellcheck for scripts/test.sh and
# Chromium for the reports. Debian's packages; installed only where they are missing and we may
# install (root with apt-get), else the tests that need them skip.
debian_packages=()
command -v redis-server >/dev/null 2>&1 || debian_packages+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || debian_packages+=(postgresql)
command -v shellcheck >/dev/null 2>&1 || debian_packages+=(shellcheck)
# Headless Chromium opens every HTML report in the browser tests and screenshots it after a bench run.
command -v chromium >/dev/null 2>&1 || debian_packages+=(chromium)
if ((${#debian_packages[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages: ${debian_packages[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debian_packages[@]}" >/dev/null
  else
    echo "bootstrap: not installed (needs root and apt-get): ${debian_packages[*]}; the tests that use them skip" >&2
  fi
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
