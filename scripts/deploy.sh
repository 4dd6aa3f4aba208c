#!/usr/bin/env bash
# Deploy, check and tear down the litellm-bench-cfn stack with the AWS CLI.
# Run `scripts/deploy.sh --help` for the commands. Every AWS call is bounded by `timeout`;
# waits poll describe-* with a deadline (never `aws ... wait`).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATE_BODY_LIMIT=51200

usage() {
  cat <<'EOF'
Usage: scripts/deploy.sh COMMAND [OPTIONS]

Commands:
  deploy    create the stack, or update it through a change set (a re-run with no change
            succeeds and says "No changes to deploy"); waits until done and, on failure,
            prints the stack events that explain it
  status    stack status, its reason and the latest stack events
  outputs   the stack outputs (LoadBalancerUrl, MasterKeyCommand, SmokeTestCommand, ...)
  smoke     GET /health/readiness, then one chat completion with the master key read
            from Secrets Manager (the key is sk-<secret value>; printed only with --show-key)
  delete    delete the stack (asks to type the stack name unless --yes) and wait until gone
  help      this text

Options (all commands):
  --stack-name NAME   stack to act on (default: litellm-bench)
  --region REGION     AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)
  --profile PROFILE   AWS CLI profile (default: AWS_PROFILE or the default profile)
  --timeout SECONDS   overall limit of a wait (default: 3600)

deploy options:
  --template FILE     template to deploy (default: templates/cloudformation-ecs.yaml)
  --param KEY=VALUE   parameter override, repeatable; parameters not given keep their
                      current value on update and their default on create
  --s3-bucket BUCKET  bucket for templates over 51,200 bytes (default: created or reused,
                      named litellm-bench-cfn-ACCOUNT-REGION)
  --dry-run           create and show the change set, then delete it without executing
  --no-preflight      skip the local parameter check (litellm-bench-cfn check-params)

smoke options:
  --url URL           proxy base URL (default: the LoadBalancerUrl output)
  --secret-id ID      master-key secret (default: the MasterKeySecretArn output)
  --model NAME        model to call (default: fake-openai-endpoint)
  --show-key          print the master key

delete options:
  --yes               do not ask for confirmation

Environment: AWS_CLI (aws binary, default: aws on PATH, else .venv/bin/aws),
  AWS_CALL_TIMEOUT (seconds per AWS CLI call, default 120), POLL_SECONDS (default 10),
  AWS_ENDPOINT_URL (e.g. a moto server, honoured by the AWS CLI and boto3).
Exit codes: 0 success (including "no changes"), 1 the operation failed, 2 bad input
  (unknown option, missing AWS CLI or credentials, a parameter the template rejects).
EOF
}

die() { echo "error: $1" >&2; exit "${2:-1}"; }
info() { echo "$*"; }

# ---------------------------------------------------------------- arguments
COMMAND=""
STACK_NAME="litellm-bench"
REGION=""
PROFILE=""
WAIT_TIMEOUT=3600
TEMPLATE="$REPO_ROOT/templates/cloudformation-ecs.yaml"
PARAMS=()
S3_BUCKET=""
DRY_RUN=0
PREFLIGHT=1
SMOKE_URL=""
SECRET_ID=""
MODEL="fake-openai-endpoint"
SHOW_KEY=0
ASSUME_YES=0
CALL_TIMEOUT="${AWS_CALL_TIMEOUT:-120}"
POLL_SECONDS="${POLL_SECONDS:-10}"

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)" 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help|help) usage; exit 0 ;;
    --stack-name) need_value "$@"; STACK_NAME="$2"; shift 2 ;;
    --region) need_value "$@"; REGION="$2"; shift 2 ;;
    --profile) need_value "$@"; PROFILE="$2"; shift 2 ;;
    --timeout) need_value "$@"; WAIT_TIMEOUT="$2"; shift 2 ;;
    --template) need_value "$@"; TEMPLATE="$2"; shift 2 ;;
    --param) need_value "$@"; PARAMS+=("$2"); shift 2 ;;
    --s3-bucket) need_value "$@"; S3_BUCKET="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --no-preflight) PREFLIGHT=0; shift ;;
    --url) need_value "$@"; SMOKE_URL="${2%/}"; shift 2 ;;
    --secret-id) need_value "$@"; SECRET_ID="$2"; shift 2 ;;
    --model) need_value "$@"; MODEL="$2"; shift 2 ;;
    --show-key) SHOW_KEY=1; shift ;;
    --yes|-y) ASSUME_YES=1; shift ;;
    -*) die "unknown option $1 (see --help)" 2 ;;
    *)
      [[ -z "$COMMAND" ]] || die "one command at a time ($COMMAND, then $1)" 2
      COMMAND="$1"; shift ;;
  esac
done
[[ -n "$COMMAND" ]] || { usage >&2; exit 2; }
[[ "$WAIT_TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout takes whole seconds, got $WAIT_TIMEOUT" 2
[[ "$STACK_NAME" =~ ^[A-Za-z][A-Za-z0-9-]{0,127}$ ]] || die "invalid stack name $STACK_NAME" 2
for p in ${PARAMS[@]+"${PARAMS[@]}"}; do
  [[ "$p" == *=* && "${p%%=*}" != "" ]] || die "--param takes KEY=VALUE, got $p" 2
done

# ---------------------------------------------------------------- AWS CLI
AWS_BIN="${AWS_CLI:-}"
if [[ -z "$AWS_BIN" ]]; then
  AWS_BIN="$(command -v aws || true)"
  [[ -n "$AWS_BIN" || ! -x "$REPO_ROOT/.venv/bin/aws" ]] || AWS_BIN="$REPO_ROOT/.venv/bin/aws"
fi
AWS_OPTS=()
[[ -z "$REGION" ]] || AWS_OPTS+=(--region "$REGION")
[[ -z "$PROFILE" ]] || AWS_OPTS+=(--profile "$PROFILE")
ERR_FILE="$(mktemp)"
TMP_FILES=("$ERR_FILE")
cleanup() { rm -f "${TMP_FILES[@]}"; }
trap cleanup EXIT

# awscli ARGS...: one bounded AWS CLI call; stdout is the result, stderr goes to ERR_FILE so that
# last_error can quote it even when the call ran inside $(...).
awscli() {
  local rc=0
  timeout "$CALL_TIMEOUT" "$AWS_BIN" ${AWS_OPTS[@]+"${AWS_OPTS[@]}"} "$@" 2>"$ERR_FILE" || rc=$?
  [[ $rc -ne 124 ]] || echo "aws $1 $2 timed out after ${CALL_TIMEOUT}s" >"$ERR_FILE"
  return $rc
}
last_error() { tr -s '\n' ' ' <"$ERR_FILE" | sed -e 's/^ *//' -e 's/ *$//'; }

require_cli() {
  [[ -n "$AWS_BIN" ]] && command -v "$AWS_BIN" >/dev/null 2>&1 \
    || die "the AWS CLI is not installed (no 'aws' on PATH; set AWS_CLI=/path/to/aws or pip install awscli)" 2
}

ACCOUNT=""
require_credentials() {
  ACCOUNT="$(awscli sts get-caller-identity --query Account --output text)" \
    || die "no usable AWS credentials: aws sts get-caller-identity failed: $(last_error). Configure them (aws configure, --profile, AWS_PROFILE) and retry." 2
}

resolve_region() {
  if [[ -z "$REGION" ]]; then
    REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
    [[ -n "$REGION" ]] || REGION="$(awscli configure get region || true)"
    [[ -n "$REGION" ]] || die "no AWS region: pass --region or set AWS_REGION" 2
    AWS_OPTS+=(--region "$REGION")
  fi
}

# stack_status: prints the status, or nothing when the stack does not exist; exit 1 on other errors.
stack_status() {
  local status
  if status="$(awscli cloudformation describe-stacks --stack-name "$STACK_NAME" \
      --query 'Stacks[0].StackStatus' --output text)"; then
    echo "$status"
  elif [[ "$(last_error)" == *"does not exist"* ]]; then
    echo ""
  else
    die "cannot read stack $STACK_NAME: $(last_error)"
  fi
}

elapsed() { echo $(( SECONDS - $1 )); }

# latest_event: "LogicalId STATUS" of the newest stack event (for the progress line).
latest_event() {
  awscli cloudformation describe-stack-events --stack-name "$STACK_NAME" \
    --query 'StackEvents[0].[LogicalResourceId,ResourceStatus]' --output text 2>/dev/null | tr '\t' ' ' || true
}

# explain_failure: the FAILED events of the latest operation, oldest (the root cause) first.
explain_failure() {
  local events line logical rtype status reason failures=()
  events="$(awscli cloudformation describe-stack-events --stack-name "$STACK_NAME" --output text \
    --query 'StackEvents[].[LogicalResourceId,ResourceType,ResourceStatus,ResourceStatusReason]')" || {
    echo "  (could not read the stack events: $(last_error))" >&2; return 0; }
  while IFS=$'\t' read -r logical rtype status reason; do
    [[ -n "$logical" ]] || continue
    if [[ "$status" == *FAILED ]]; then
      [[ "$reason" == "Resource creation cancelled" || "$reason" == "Resource update cancelled" ]] \
        || failures=("$logical ($rtype) $status: $reason" "${failures[@]+"${failures[@]}"}")
    fi
    # Events are newest first; the stack's own "User Initiated" event starts the operation.
    if [[ "$logical" == "$STACK_NAME" && "$rtype" == "AWS::CloudFormation::Stack" \
          && "$status" == *_IN_PROGRESS && "$reason" == "User Initiated" ]]; then
      break
    fi
  done <<<"$events"
  if [[ ${#failures[@]} -eq 0 ]]; then
    echo "  no failed resource events found; see: scripts/deploy.sh status --stack-name $STACK_NAME" >&2
    return 0
  fi
  echo "first failure: ${failures[0]}" >&2
  if [[ ${#failures[@]} -gt 1 ]]; then
    echo "all failures in this operation (oldest first):" >&2
    for line in "${failures[@]}"; do echo "  $line" >&2; done
  fi
}

FINAL_STATUS=""
# wait_stack OPERATION: poll until the stack leaves *_IN_PROGRESS or the deadline passes.
wait_stack() {
  local op="$1" start=$SECONDS status="" last="" line heartbeat=$SECONDS
  while :; do
    status="$(stack_status)"
    if [[ -z "$status" ]]; then
      [[ "$op" == delete ]] && { info "[$(elapsed $start)s] stack $STACK_NAME is gone"; return 0; }
      die "stack $STACK_NAME disappeared during $op"
    fi
    line="$status | $(latest_event)"
    if [[ "$line" != "$last" || $(( SECONDS - heartbeat )) -ge 60 ]]; then
      info "[$(printf '%4d' "$(elapsed $start)")s] $line"
      last="$line"; heartbeat=$SECONDS
    fi
    case "$status" in
      CREATE_COMPLETE|UPDATE_COMPLETE|IMPORT_COMPLETE) FINAL_STATUS="$status"; return 0 ;;
      DELETE_COMPLETE) [[ "$op" == delete ]] && return 0 ;;
      *ROLLBACK_COMPLETE|*_FAILED)
        echo "error: $op of stack $STACK_NAME failed: $status" >&2
        explain_failure
        return 1 ;;
    esac
    if (( SECONDS - start >= WAIT_TIMEOUT )); then
      echo "error: gave up waiting after ${WAIT_TIMEOUT}s; stack $STACK_NAME is still $status" >&2
      echo "  it keeps going in AWS: follow it with scripts/deploy.sh status --stack-name $STACK_NAME" >&2
      return 1
    fi
    sleep "$POLL_SECONDS"
  done
}

# ---------------------------------------------------------------- deploy
json_escape() { local s="${1//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\t'/\\t}"; printf '%s' "${s//$'\n'/\\n}"; }

param_value() {  # param_value KEY: the override given for KEY, exit 1 when none
  local p
  for p in ${PARAMS[@]+"${PARAMS[@]}"}; do
    [[ "${p%%=*}" == "$1" ]] && { printf '%s' "${p#*=}"; return 0; }
  done
  return 1
}

preflight() {
  local cli
  cli="$(command -v litellm-bench-cfn || true)"
  [[ -n "$cli" || ! -x "$REPO_ROOT/.venv/bin/litellm-bench-cfn" ]] || cli="$REPO_ROOT/.venv/bin/litellm-bench-cfn"
  if [[ -z "$cli" ]]; then
    info "note: litellm-bench-cfn not installed; skipping the local parameter check"
    return 0
  fi
  "$cli" check-params --template "$TEMPLATE" ${PARAMS[@]+"${PARAMS[@]}"} >/dev/null \
    || die "the template rejects these parameters (see above); nothing was sent to AWS" 2
}

# template_source: sets TEMPLATE_ARGS to --template-body or, over 51,200 bytes, --template-url.
TEMPLATE_ARGS=()
template_source() {
  local size bucket key digest
  size=$(wc -c <"$TEMPLATE" | tr -d ' ')
  if (( size <= TEMPLATE_BODY_LIMIT )); then
    TEMPLATE_ARGS=(--template-body "file://$TEMPLATE")
    return 0
  fi
  bucket="${S3_BUCKET:-litellm-bench-cfn-$ACCOUNT-$REGION}"
  if ! awscli s3api head-bucket --bucket "$bucket" >/dev/null; then
    info "template is $size bytes (> $TEMPLATE_BODY_LIMIT): creating bucket s3://$bucket for it"
    if [[ "$REGION" == us-east-1 ]]; then
      awscli s3api create-bucket --bucket "$bucket" >/dev/null || die "cannot create bucket $bucket: $(last_error)"
    else
      awscli s3api create-bucket --bucket "$bucket" --create-bucket-configuration "LocationConstraint=$REGION" \
        >/dev/null || die "cannot create bucket $bucket: $(last_error)"
    fi
  fi
  digest="$(sha256sum "$TEMPLATE" | cut -c1-16)"
  key="$STACK_NAME/$(basename "$TEMPLATE" .yaml)-$digest.yaml"
  awscli s3api put-object --bucket "$bucket" --key "$key" --body "$TEMPLATE" >/dev/null \
    || die "cannot upload the template to s3://$bucket/$key: $(last_error)"
  info "template is $size bytes (> $TEMPLATE_BODY_LIMIT): uploaded to s3://$bucket/$key"
  TEMPLATE_ARGS=(--template-url "https://$bucket.s3.$REGION.amazonaws.com/$key")
}

# unchanged STATUS: true when the deployed template and parameters already equal what was asked.
unchanged() {
  local body current key value p
  body="$(awscli cloudformation get-template --stack-name "$STACK_NAME" --query TemplateBody --output text)" \
    || return 1
  [[ "$body" == "$(cat "$TEMPLATE")" ]] || return 1
  current="$(awscli cloudformation describe-stacks --stack-name "$STACK_NAME" --output text \
    --query 'Stacks[0].Parameters[].[ParameterKey,ParameterValue]')" || return 1
  for p in ${PARAMS[@]+"${PARAMS[@]}"}; do
    key="${p%%=*}"; value="${p#*=}"
    grep -qxF "$key"$'\t'"$value" <<<"$current" || return 1
  done
  return 0
}

no_changes() {
  info "No changes to deploy: stack $STACK_NAME already runs this template with these parameters ($1)."
  exit 0
}

delete_change_set() {
  awscli cloudformation delete-change-set --stack-name "$STACK_NAME" --change-set-name "$1" >/dev/null || true
}

# describe_change_set NAME: one call, rows "status STATUS REASON", "change ACTION ID TYPE REPLACEMENT",
# "param KEY VALUE" (tab-separated).
describe_change_set() {
  awscli cloudformation describe-change-set --stack-name "$STACK_NAME" --change-set-name "$1" --output text \
    --query "[[['status',Status,StatusReason]], Changes[].ResourceChange.['change',Action,LogicalResourceId,ResourceType,Replacement], Parameters[].['param',ParameterKey,ParameterValue]][]"
}

show_change_set() {  # show_change_set NAME ROWS
  info "change set $1:"
  awk -F'\t' '$1 == "change" { r = ($5 == "" || $5 == "None") ? "" : "  replacement: " $5; printf "  %-7s %-32s %s%s\n", $2, $3, $4, r }' <<<"$2"
  local given
  given="$(awk -F'\t' '$1 == "param" { printf "%s=%s ", $2, $3 }' <<<"$2")"
  [[ -z "$given" ]] || info "  parameters: $given"
}

cmd_deploy() {
  [[ -f "$TEMPLATE" ]] || die "template not found: $TEMPLATE" 2
  require_cli
  resolve_region
  require_credentials
  [[ $PREFLIGHT -eq 0 ]] || preflight
  local status type keys key value entries="" cs status_cs reason start rows
  status="$(stack_status)"
  case "$status" in
    "" | REVIEW_IN_PROGRESS) type=CREATE ;;
    ROLLBACK_COMPLETE | ROLLBACK_FAILED | DELETE_FAILED)
      die "stack $STACK_NAME is $status and cannot be updated; delete it first (scripts/deploy.sh delete --stack-name $STACK_NAME)" ;;
    *_IN_PROGRESS) die "stack $STACK_NAME is busy ($status); wait for it (scripts/deploy.sh status) and retry" ;;
    *) type=UPDATE ;;
  esac
  info "account $ACCOUNT, region $REGION, stack $STACK_NAME: $( [[ $type == CREATE ]] && echo "create" || echo "update (now $status)")"
  if [[ $type == UPDATE ]] && unchanged; then no_changes "$status"; fi
  template_source
  keys="$(awscli cloudformation get-template-summary "${TEMPLATE_ARGS[@]}" --query 'Parameters[].ParameterKey' \
    --output text)" || die "AWS rejects the template: $(last_error)" 2
  for p in ${PARAMS[@]+"${PARAMS[@]}"}; do
    [[ " $(echo $keys) " == *" ${p%%=*} "* ]] || die "${p%%=*} is not a parameter of $TEMPLATE (it has: $keys)" 2
  done
  for key in $keys; do
    if value="$(param_value "$key")"; then
      entries+="{\"ParameterKey\":\"$key\",\"ParameterValue\":\"$(json_escape "$value")\"},"
    elif [[ $type == UPDATE ]]; then
      entries+="{\"ParameterKey\":\"$key\",\"UsePreviousValue\":true},"
    fi
  done
  cs="deploy-$(date -u +%Y%m%d-%H%M%S)"
  if ! awscli cloudformation create-change-set --stack-name "$STACK_NAME" --change-set-name "$cs" \
      --change-set-type "$type" "${TEMPLATE_ARGS[@]}" --parameters "[${entries%,}]" \
      --capabilities CAPABILITY_IAM --description "scripts/deploy.sh" >/dev/null; then
    [[ "$(last_error)" != *"No updates are to be performed"* ]] || no_changes "$status"
    die "could not create a change set: $(last_error)"
  fi
  start=$SECONDS
  while :; do
    rows="$(describe_change_set "$cs")" || die "cannot read change set $cs: $(last_error)"
    status_cs="$(awk -F'\t' '$1 == "status" { print $2 }' <<<"$rows")"
    reason="$(awk -F'\t' '$1 == "status" { print $3 }' <<<"$rows")"
    case "$status_cs" in
      CREATE_COMPLETE) break ;;
      FAILED)
        delete_change_set "$cs"
        if [[ "$reason" == *"didn't contain changes"* || "$reason" == *"No updates are to be performed"* ]]; then
          no_changes "$status"
        fi
        die "change set failed: $reason" ;;
    esac
    (( SECONDS - start < WAIT_TIMEOUT )) || die "change set $cs still not ready after ${WAIT_TIMEOUT}s"
    sleep 2
  done
  show_change_set "$cs" "$rows"
  if [[ $DRY_RUN -eq 1 ]]; then
    delete_change_set "$cs"
    if [[ $type == CREATE ]]; then
      # A CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind: remove it too.
      awscli cloudformation delete-stack --stack-name "$STACK_NAME" >/dev/null || true
    fi
    info "dry run: change set shown, not executed (deleted again); stack $STACK_NAME unchanged"
    return 0
  fi
  awscli cloudformation execute-change-set --stack-name "$STACK_NAME" --change-set-name "$cs" >/dev/null \
    || die "could not execute change set $cs: $(last_error)"
  info "executing $cs; waiting up to ${WAIT_TIMEOUT}s (polling every ${POLL_SECONDS}s)"
  wait_stack "$(tr '[:upper:]' '[:lower:]' <<<"$type")" || exit 1
  info "stack $STACK_NAME: $FINAL_STATUS. Next: scripts/deploy.sh outputs / smoke --stack-name $STACK_NAME"
}

# ---------------------------------------------------------------- status / outputs
cmd_status() {
  require_cli; resolve_region; require_credentials
  local status
  status="$(stack_status)"
  [[ -n "$status" ]] || die "stack $STACK_NAME does not exist in $REGION"
  awscli cloudformation describe-stacks --stack-name "$STACK_NAME" --output text \
    --query 'Stacks[0].[StackName,StackStatus,StackStatusReason,LastUpdatedTime||CreationTime]' \
    | awk -F'\t' '{ printf "stack %s: %s", $1, $2; if ($3 != "None" && $3 != "") printf " (%s)", $3; printf ", since %s\n", $4 }'
  info "latest events:"
  awscli cloudformation describe-stack-events --stack-name "$STACK_NAME" --output text \
    --query 'StackEvents[:10].[Timestamp,LogicalResourceId,ResourceStatus,ResourceStatusReason]' \
    | awk -F'\t' '{ r = ($4 == "None") ? "" : " " $4; printf "  %s %-32s %s%s\n", $1, $2, $3, r }'
  case "$status" in *ROLLBACK*|*FAILED) explain_failure; return 1 ;; esac
}

outputs_text() {  # tab-separated OutputKey, OutputValue lines
  awscli cloudformation describe-stacks --stack-name "$STACK_NAME" --output text \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' || die "cannot read stack $STACK_NAME: $(last_error)"
}

output_value() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' <<<"$2"; }

cmd_outputs() {
  require_cli; resolve_region; require_credentials
  local out
  out="$(outputs_text)"
  [[ -n "$out" && "$out" != None ]] || die "stack $STACK_NAME has no outputs (yet)"
  awk -F'\t' '{ printf "%s: %s\n", $1, $2 }' <<<"$out"
}

# ---------------------------------------------------------------- smoke
cmd_smoke() {
  command -v curl >/dev/null || die "curl is not installed" 2
  require_cli; resolve_region; require_credentials
  local out="" secret key code body_file hdr_file cfg_file
  if [[ -z "$SMOKE_URL" || -z "$SECRET_ID" ]]; then
    out="$(outputs_text)"
    [[ -n "$SMOKE_URL" ]] || SMOKE_URL="$(output_value LoadBalancerUrl "$out")"
    [[ -n "$SECRET_ID" ]] || SECRET_ID="$(output_value MasterKeySecretArn "$out")"
  fi
  [[ -n "$SMOKE_URL" && "$SMOKE_URL" != None ]] || die "no LoadBalancerUrl output on $STACK_NAME; pass --url" 2
  [[ -n "$SECRET_ID" && "$SECRET_ID" != None ]] || die "no MasterKeySecretArn output on $STACK_NAME; pass --secret-id" 2
  SMOKE_URL="${SMOKE_URL%/}"
  secret="$(awscli secretsmanager get-secret-value --secret-id "$SECRET_ID" --query SecretString --output text)" \
    || die "cannot read the master key from $SECRET_ID: $(last_error)"
  key="sk-$secret"   # the secret holds the key without its sk- prefix
  if [[ $SHOW_KEY -eq 1 ]]; then info "master key: $key"; else info "master key: sk-... (${#key} chars; --show-key prints it)"; fi
  body_file="$(mktemp)"; hdr_file="$(mktemp)"; cfg_file="$(mktemp)"
  TMP_FILES+=("$body_file" "$hdr_file" "$cfg_file")
  code="$(curl -sS --max-time 15 -o "$body_file" -w '%{http_code}' "$SMOKE_URL/health/readiness" 2>&1)" \
    || die "GET $SMOKE_URL/health/readiness failed: $code"
  [[ "$code" == 200 ]] || die "GET /health/readiness answered HTTP $code: $(head -c 300 "$body_file")"
  info "ok   GET /health/readiness: $(head -c 200 "$body_file")"
  # The key goes to curl through a private config file, never on a command line (ps shows those).
  chmod 600 "$cfg_file"
  printf 'header = "Authorization: Bearer %s"\n' "$key" >"$cfg_file"
  code="$(curl -sS --max-time 60 -K "$cfg_file" -o "$body_file" -D "$hdr_file" -w '%{http_code}' \
    -H 'Content-Type: application/json' \
    -d "{\"model\": \"$(json_escape "$MODEL")\", \"messages\": [{\"role\": \"user\", \"content\": \"hello from deploy.sh smoke\"}]}" \
    "$SMOKE_URL/v1/chat/completions" 2>&1)" || die "POST $SMOKE_URL/v1/chat/completions failed: $code"
  [[ "$code" == 200 ]] || die "POST /v1/chat/completions answered HTTP $code: $(head -c 300 "$body_file")"
  grep -q '"choices"' "$body_file" || die "POST /v1/chat/completions returned no choices: $(head -c 300 "$body_file")"
  local overhead
  overhead="$(tr -d '\r' <"$hdr_file" | awk -F': ' 'tolower($1) == "x-litellm-overhead-duration-ms" { print $2 }')"
  info "ok   POST /v1/chat/completions ($MODEL): HTTP 200${overhead:+, LiteLLM overhead ${overhead} ms}"
  info "smoke test passed against $SMOKE_URL"
}

# ---------------------------------------------------------------- delete
cmd_delete() {
  require_cli; resolve_region; require_credentials
  local status answer=""
  status="$(stack_status)"
  if [[ -z "$status" ]]; then info "stack $STACK_NAME does not exist in $REGION: nothing to delete"; return 0; fi
  if [[ $ASSUME_YES -ne 1 ]]; then
    printf 'Delete stack %s (%s) in %s, with its database and secrets? Type the stack name to confirm: ' \
      "$STACK_NAME" "$status" "$REGION"
    read -r answer || true
    [[ "$answer" == "$STACK_NAME" ]] || die "not confirmed; nothing deleted (pass --yes to skip the question)"
  fi
  awscli cloudformation delete-stack --stack-name "$STACK_NAME" >/dev/null || die "delete-stack failed: $(last_error)"
  info "deleting $STACK_NAME; waiting up to ${WAIT_TIMEOUT}s"
  wait_stack delete || exit 1
  info "stack $STACK_NAME deleted (a template bucket litellm-bench-cfn-ACCOUNT-REGION, if one was made, is kept)"
  info "kept: the DB's final snapshot and the salt key secret $STACK_NAME/salt-key-* a restore needs (docs/deploy.md)"
}

case "$COMMAND" in
  deploy) cmd_deploy ;;
  status) cmd_status ;;
  outputs) cmd_outputs ;;
  smoke) cmd_smoke ;;
  delete) cmd_delete ;;
  *) die "unknown command $COMMAND (see --help)" 2 ;;
esac
