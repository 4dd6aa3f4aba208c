#!/usr/bin/env bash
# Policy as code over every rendered template: checkov (security best practice) and cfn-guard
# (the benchmark's compliance items and this stack's security rules, policy/guard/).
# Idempotent: installs what it lacks into ./.venv-checkov, then runs both; exits non-zero when
# either reports a failure. Offline once installed (checkov runs with --skip-download).
#
#   scripts/policy-check.sh            # install if needed, then check templates/
#   scripts/policy-check.sh --install  # install only
#
# Why its own virtualenv: checkov pins boto3/botocore versions that clash with the project's .venv.
# Why the npm package: cfn-guard's CLI is a Rust binary; `cargo install` cannot reach its registry
# here, and @cdklabs/cdk-validator-cfnguard ships the statically linked binary (only it is unpacked).
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
CFNGUARD_NPM_PACKAGE=@cdklabs/cdk-validator-cfnguard@0.0.62  # ships cfn-guard 3.1.1
tools=.venv-checkov
checkov=$tools/bin/checkov
guard=$tools/bin/cfn-guard
export PIP_DISABLE_PIP_VERSION_CHECK=1

install_checkov() {
  if [[ -x $checkov ]] && [[ "$("$checkov" --version 2>/dev/null)" == "$CHECKOV_VERSION" ]]; then
    return
  fi
  echo "policy-check: installing checkov $CHECKOV_VERSION into $tools"
  [[ -x $tools/bin/python ]] || "${PYTHON:-python3}" -m venv "$tools"
  "$tools/bin/python" -m pip install -q "checkov==$CHECKOV_VERSION"
}

install_cfn_guard() {
  if [[ -x $guard ]] && "$guard" --version >/dev/null 2>&1; then
    return
  fi
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) echo "policy-check: no cfn-guard binary for $(uname -m)" >&2; exit 2 ;;
  esac
  echo "policy-check: installing cfn-guard from $CFNGUARD_NPM_PACKAGE into $tools"
  mkdir -p "$tools/bin"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$CFNGUARD_NPM_PACKAGE" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" "package/bin/ubuntu/$arch/cfn-guard"
  install -m 0755 "$tmp/package/bin/ubuntu/$arch/cfn-guard" "$guard"
}

install_checkov
install_cfn_guard
[[ "${1:-}" == "--install" ]] && exit 0

status=0
echo "== checkov $("$checkov" --version) over templates/"
"$checkov" --config-file policy/checkov.yaml || status=1

echo "== cfn-guard: security rules over every template"
"$guard" validate --rules policy/guard/all --data templates --show-summary fail || status=1

echo "== cfn-guard: benchmark compliance over templates/cloudformation-ecs.yaml"
"$guard" validate --rules policy/guard/benchmark --data templates/cloudformation-ecs.yaml --show-summary fail || status=1

if [[ $status -ne 0 ]]; then
  echo "policy-check: FAILED (fix the template, or skip a checkov check on its resource with a reason)" >&2
else
  echo "policy-check: ok"
fi
exit $status
