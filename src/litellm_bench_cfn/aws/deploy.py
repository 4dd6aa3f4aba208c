"""Deploy, check and delete a stack with boto3: what `scripts/deploy.sh` runs.

Create or update goes through a change set (CREATE or UPDATE); every wait polls describe-* with an
overall deadline and prints a progress line when something changes (never a botocore waiter, whose
own limits would hide ours). A template over 51,200 bytes goes to S3 first. A failed operation is
explained by its first failed resource, read from the stack events of that operation only.
Messages go to stdout (progress) and stderr (failures); errors are `AwsError` with the exit code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from ..cfn_reader import load_cfn_yaml
from ..exit_codes import EXIT_BAD_INPUT
from ..names import LOAD_BALANCER_URL_OUTPUT, MASTER_KEY_SECRET_ARN_OUTPUT
from ..render import TEMPLATE_BODY_LIMIT
from .clients import AwsError, AwsTarget, describe_error
from .launch import object_url
from .param_rules import check_parameters
from .stack import describe_stack, master_key

CAPABILITIES = ("CAPABILITY_IAM",)
CHANGE_SET_POLL_S = 2.0
HEARTBEAT_S = 60.0
DONE_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
NO_CHANGE_REASONS = ("didn't contain changes", "No updates are to be performed")
CANCELLED_REASONS = {"Resource creation cancelled", "Resource update cancelled"}
SMOKE_PROMPT = "hello from deploy.sh smoke"
OVERHEAD_HEADER = "x-litellm-overhead-duration-ms"


def info(line: str) -> None:
    print(line, flush=True)


def warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _aws_message(exc: BaseException) -> str:
    """The one line a botocore error becomes, for messages that add their own context."""
    if isinstance(exc, (ClientError, BotoCoreError)):
        return str(describe_error(exc))
    return str(exc)


@dataclass(frozen=True)
class Clock:
    """Time source and sleep, replaceable in tests."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass
class StackSession:
    """One stack in one account and region, with the clients the commands need."""

    target: AwsTarget
    stack_name: str
    region: str
    account: str
    timeout_s: int = 3600
    poll_s: float = 10.0
    clock: Clock = field(default_factory=Clock)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.target.client(service)
        return self._clients[service]

    @property
    def cfn(self) -> Any:
        return self.client("cloudformation")


def resolve_region(target: AwsTarget, environ: Mapping[str, str]) -> str:
    region = target.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    return region or target.resolved_region()


def open_session(target: AwsTarget, stack_name: str, environ: Mapping[str, str], **kwargs: Any) -> StackSession:
    """Region and caller account first: without them nothing else can work (exit 2)."""
    region = resolve_region(target, environ)
    target = AwsTarget(region, target.profile, target.endpoint_url, target.read_timeout_s)
    try:
        account = str(target.client("sts").get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(
            f"no usable AWS credentials: sts get-caller-identity failed: {exc}. "
            "Configure them (aws configure, --profile, AWS_PROFILE) and retry.",
            EXIT_BAD_INPUT,
        ) from None
    return StackSession(target, stack_name, region, account, **kwargs)


# ---------------------------------------------------------------- stack state


def stack_status(session: StackSession) -> str | None:
    """The stack's status, or None when it does not exist."""
    try:
        stacks = session.cfn.describe_stacks(StackName=session.stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise AwsError(f"cannot read stack {session.stack_name}: {_aws_message(exc)}") from None
    return str(stacks[0]["StackStatus"]) if stacks else None


def latest_event(session: StackSession) -> str:
    """`LogicalId STATUS` of the newest stack event, for the progress line."""
    try:
        events = session.cfn.describe_stack_events(StackName=session.stack_name)["StackEvents"]
    except (ClientError, BotoCoreError):
        return ""
    return f"{events[0]['LogicalResourceId']} {events[0]['ResourceStatus']}" if events else ""


def _reason(event: Mapping[str, Any]) -> str:
    return str(event.get("ResourceStatusReason") or "")


def operation_failures(session: StackSession) -> list[str]:
    """FAILED events of the latest operation, oldest (the root cause) first; cancellations left out."""
    failures: list[str] = []
    for page in session.cfn.get_paginator("describe_stack_events").paginate(StackName=session.stack_name):
        for event in page["StackEvents"]:
            logical, rtype, status = event["LogicalResourceId"], event["ResourceType"], event["ResourceStatus"]
            if status.endswith("FAILED") and _reason(event) not in CANCELLED_REASONS:
                failures.insert(0, f"{logical} ({rtype}) {status}: {_reason(event)}")
            # Events are newest first; the stack's own "User Initiated" event starts the operation.
            if (
                logical == session.stack_name
                and rtype == "AWS::CloudFormation::Stack"
                and status.endswith("_IN_PROGRESS")
                and _reason(event) == "User Initiated"
            ):
                return failures
    return failures


def explain_failure(session: StackSession) -> None:
    try:
        failures = operation_failures(session)
    except (ClientError, BotoCoreError) as exc:
        warn(f"  (could not read the stack events: {_aws_message(exc)})")
        return
    if not failures:
        warn(f"  no failed resource events found; see: scripts/deploy.sh status --stack-name {session.stack_name}")
        return
    warn(f"first failure: {failures[0]}")
    if len(failures) > 1:
        warn("all failures in this operation (oldest first):")
        for line in failures:
            warn(f"  {line}")


def wait_stack(session: StackSession, operation: str) -> str | None:
    """Poll until the stack leaves *_IN_PROGRESS. The final status, or None after failure or deadline."""
    start = heartbeat = session.clock.now()
    last = ""
    while True:
        status = stack_status(session)
        elapsed = int(session.clock.now() - start)
        if status is None:
            if operation == "delete":
                info(f"[{elapsed}s] stack {session.stack_name} is gone")
                return "DELETE_COMPLETE"
            raise AwsError(f"stack {session.stack_name} disappeared during {operation}")
        line = f"{status} | {latest_event(session)}"
        if line != last or session.clock.now() - heartbeat >= HEARTBEAT_S:
            info(f"[{elapsed:4d}s] {line}")
            last, heartbeat = line, session.clock.now()
        if status in DONE_STATUSES:
            return status
        if status == "DELETE_COMPLETE" and operation == "delete":
            return status
        if status.endswith("ROLLBACK_COMPLETE") or status.endswith("_FAILED"):
            warn(f"error: {operation} of stack {session.stack_name} failed: {status}")
            explain_failure(session)
            return None
        if session.clock.now() - start >= session.timeout_s:
            warn(f"error: gave up waiting after {session.timeout_s}s; stack {session.stack_name} is still {status}")
            warn(f"  it keeps going in AWS: follow it with scripts/deploy.sh status --stack-name {session.stack_name}")
            return None
        session.clock.sleep(session.poll_s)


# ---------------------------------------------------------------- deploy


@dataclass(frozen=True)
class DeployRequest:
    template: Path
    overrides: Mapping[str, str]
    s3_bucket: str | None = None
    dry_run: bool = False


def preflight(template: Path, overrides: Mapping[str, str]) -> None:
    """What CloudFormation would reject about these parameters, before any AWS call (exit 2)."""
    try:
        document = load_cfn_yaml(template.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError("not a CloudFormation template (its top level is not a mapping)")
        problems = check_parameters(document, overrides)
    except (OSError, ValueError, yaml.YAMLError, AttributeError) as exc:  # ValueError: RuleEvaluationError, not UTF-8
        detail = " ".join(str(exc).split())  # YAML errors span lines
        raise AwsError(
            f"{template}: cannot check its parameters: {detail} (--no-preflight skips the check)", 2
        ) from None
    for line in problems:
        warn(line)
    if problems:
        raise AwsError("the template rejects these parameters (see above); nothing was sent to AWS", EXIT_BAD_INPUT)


def template_source(session: StackSession, request: DeployRequest) -> dict[str, str]:
    """TemplateBody, or over 51,200 bytes TemplateURL of a copy uploaded to S3."""
    body = request.template.read_bytes()
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body.decode("utf-8")}
    size = f"template is {len(body)} bytes (> {TEMPLATE_BODY_LIMIT})"
    s3 = session.client("s3")
    bucket = request.s3_bucket or f"litellm-bench-cfn-{session.account}-{session.region}"
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        info(f"{size}: creating bucket s3://{bucket} for it")
        location = {} if session.region == "us-east-1" else {"LocationConstraint": session.region}
        try:
            s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(f"cannot create bucket {bucket}: {_aws_message(exc)}") from None
    digest = hashlib.sha256(body).hexdigest()[:16]
    key = f"{session.stack_name}/{request.template.name.removesuffix('.yaml')}-{digest}.yaml"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-yaml")
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"cannot upload the template to s3://{bucket}/{key}: {_aws_message(exc)}") from None
    info(f"{size}: uploaded to s3://{bucket}/{key}")
    return {"TemplateURL": object_url(bucket, key, session.region)}


def _same_template(deployed: Any, text: str) -> bool:
    if isinstance(deployed, str):
        return deployed.rstrip("\n") == text.rstrip("\n")
    try:  # botocore hands back a JSON template already parsed
        return bool(deployed == json.loads(text))
    except ValueError:
        return False


def unchanged(session: StackSession, request: DeployRequest) -> bool:
    """True when the stack already runs this template with these parameter values."""
    try:
        deployed = session.cfn.get_template(StackName=session.stack_name)["TemplateBody"]
        stack = describe_stack(session.cfn, session.stack_name)
    except (ClientError, BotoCoreError, AwsError):
        return False
    if not _same_template(deployed, request.template.read_text(encoding="utf-8")):
        return False
    current = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    return all(current.get(key) == value for key, value in request.overrides.items())


def no_changes(session: StackSession, status: str) -> int:
    info(
        f"No changes to deploy: stack {session.stack_name} already runs this template with these parameters ({status})."
    )
    return 0


def change_set_parameters(keys: Sequence[str], overrides: Mapping[str, str], update: bool) -> list[dict[str, Any]]:
    """Overrides as given; on update every other parameter keeps its previous value."""
    entries: list[dict[str, Any]] = []
    for key in keys:
        if key in overrides:
            entries.append({"ParameterKey": key, "ParameterValue": overrides[key]})
        elif update:
            entries.append({"ParameterKey": key, "UsePreviousValue": True})
    return entries


def describe_change_set(session: StackSession, name: str) -> dict[str, Any]:
    """The change set with every page of its Changes."""
    pages = session.cfn.get_paginator("describe_change_set").paginate(StackName=session.stack_name, ChangeSetName=name)
    merged: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    for page in pages:
        merged = merged or dict(page)
        changes.extend(page.get("Changes", []))
    merged["Changes"] = changes
    return merged


def change_set_lines(name: str, change_set: Mapping[str, Any]) -> list[str]:
    lines = [f"change set {name}:"]
    for change in change_set.get("Changes", []):
        resource = change.get("ResourceChange", {})
        replacement = resource.get("Replacement")
        suffix = f"  replacement: {replacement}" if replacement else ""
        lines.append(
            f"  {resource.get('Action', ''):<7} {resource.get('LogicalResourceId', ''):<32} "
            f"{resource.get('ResourceType', '')}{suffix}"
        )
    given = " ".join(f"{p['ParameterKey']}={p.get('ParameterValue', '')}" for p in change_set.get("Parameters") or [])
    if given:
        lines.append(f"  parameters: {given}")
    return lines


def _delete_change_set(session: StackSession, name: str) -> None:
    with contextlib.suppress(ClientError, BotoCoreError):
        session.cfn.delete_change_set(StackName=session.stack_name, ChangeSetName=name)


def wait_change_set(session: StackSession, name: str) -> dict[str, Any] | None:
    """The ready change set, or None when it has no changes (it is deleted then)."""
    start = session.clock.now()
    last = ""
    while True:
        try:
            change_set = describe_change_set(session, name)
        except (ClientError, BotoCoreError) as exc:
            raise AwsError(f"cannot read change set {name}: {_aws_message(exc)}") from None
        status, reason = str(change_set.get("Status", "")), str(change_set.get("StatusReason") or "")
        if status == "CREATE_COMPLETE":
            return change_set
        if status == "FAILED":
            _delete_change_set(session, name)
            if any(text in reason for text in NO_CHANGE_REASONS):
                return None
            raise AwsError(f"change set failed: {reason}")
        elapsed = session.clock.now() - start
        if status != last:
            info(f"[{int(elapsed):4d}s] change set {name}: {status}")
            last = status
        if elapsed >= session.timeout_s:
            raise AwsError(f"change set {name} still not ready after {session.timeout_s}s")
        session.clock.sleep(min(CHANGE_SET_POLL_S, session.poll_s))


def deploy(session: StackSession, request: DeployRequest) -> int:
    status = stack_status(session) or ""
    if status in ("", "REVIEW_IN_PROGRESS"):
        change_type = "CREATE"
    elif status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
        raise AwsError(
            f"stack {session.stack_name} is {status} and cannot be updated; delete it first "
            f"(scripts/deploy.sh delete --stack-name {session.stack_name})"
        )
    elif status.endswith("_IN_PROGRESS"):
        raise AwsError(
            f"stack {session.stack_name} is busy ({status}); wait for it (scripts/deploy.sh status) and retry"
        )
    else:
        change_type = "UPDATE"
    what = "create" if change_type == "CREATE" else f"update (now {status})"
    info(f"account {session.account}, region {session.region}, stack {session.stack_name}: {what}")
    if change_type == "UPDATE" and unchanged(session, request):
        return no_changes(session, status)
    source = template_source(session, request)
    try:
        summary = session.cfn.get_template_summary(**source)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"AWS rejects the template: {_aws_message(exc)}", EXIT_BAD_INPUT) from None
    keys = [str(p["ParameterKey"]) for p in summary.get("Parameters", [])]
    for key in request.overrides:
        if key not in keys:
            raise AwsError(f"{key} is not a parameter of {request.template} (it has: {' '.join(keys)})", EXIT_BAD_INPUT)
    name = "deploy-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    try:
        session.cfn.create_change_set(
            StackName=session.stack_name,
            ChangeSetName=name,
            ChangeSetType=change_type,
            Parameters=change_set_parameters(keys, request.overrides, change_type == "UPDATE"),
            Capabilities=list(CAPABILITIES),
            Description="scripts/deploy.sh",
            **source,
        )
    except (ClientError, BotoCoreError) as exc:
        if "No updates are to be performed" in str(exc):
            return no_changes(session, status)
        raise AwsError(f"could not create a change set: {_aws_message(exc)}") from None
    change_set = wait_change_set(session, name)
    if change_set is None:
        return no_changes(session, status)
    for line in change_set_lines(name, change_set):
        info(line)
    if request.dry_run:
        _delete_change_set(session, name)
        if change_type == "CREATE":
            # A CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind: remove it too.
            with contextlib.suppress(ClientError, BotoCoreError):
                session.cfn.delete_stack(StackName=session.stack_name)
        info(f"dry run: change set shown, not executed (deleted again); stack {session.stack_name} unchanged")
        return 0
    try:
        session.cfn.execute_change_set(StackName=session.stack_name, ChangeSetName=name)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"could not execute change set {name}: {_aws_message(exc)}") from None
    info(f"executing {name}; waiting up to {session.timeout_s}s (polling every {session.poll_s:g}s)")
    final = wait_stack(session, change_type.lower())
    if final is None:
        return 1
    info(
        f"stack {session.stack_name}: {final}. "
        f"Next: scripts/deploy.sh outputs / smoke --stack-name {session.stack_name}"
    )
    return 0


# ---------------------------------------------------------------- status / outputs


def _when(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def status(session: StackSession) -> int:
    current = stack_status(session)
    if current is None:
        raise AwsError(f"stack {session.stack_name} does not exist in {session.region}")
    stack = describe_stack(session.cfn, session.stack_name)
    reason = stack.get("StackStatusReason")
    since = _when(stack.get("LastUpdatedTime") or stack.get("CreationTime"))
    info(
        f"stack {stack['StackName']}: {stack['StackStatus']}" + (f" ({reason})" if reason else "") + f", since {since}"
    )
    info("latest events:")
    events = session.cfn.describe_stack_events(StackName=session.stack_name)["StackEvents"][:10]
    for event in events:
        suffix = f" {_reason(event)}" if _reason(event) else ""
        info(f"  {_when(event['Timestamp'])} {event['LogicalResourceId']:<32} {event['ResourceStatus']}{suffix}")
    if "ROLLBACK" in current or current.endswith("FAILED"):
        explain_failure(session)
        return 1
    return 0


def ordered_outputs(session: StackSession) -> list[tuple[str, str]]:
    stack = describe_stack(session.cfn, session.stack_name)
    return [(str(o["OutputKey"]), str(o["OutputValue"])) for o in stack.get("Outputs", [])]


def outputs(session: StackSession) -> int:
    found = ordered_outputs(session)
    if not found:
        raise AwsError(f"stack {session.stack_name} has no outputs (yet)")
    for key, value in found:
        info(f"{key}: {value}")
    return 0


# ---------------------------------------------------------------- smoke


@dataclass(frozen=True)
class SmokeRequest:
    url: str | None = None
    secret_id: str | None = None
    model: str = "fake-openai-endpoint"
    show_key: bool = False


@dataclass(frozen=True)
class HttpAnswer:
    code: int
    body: bytes
    headers: Mapping[str, str]


def http_call(
    url: str, timeout_s: float, data: bytes | None = None, headers: Mapping[str, str] | None = None
) -> HttpAnswer:
    """One request; an HTTP error status is an answer, an unreachable URL raises OSError."""
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return HttpAnswer(response.status, response.read(), {k.lower(): v for k, v in response.headers.items()})
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, exc.read(), {k.lower(): v for k, v in exc.headers.items()})


def _head(body: bytes, limit: int = 300) -> str:
    return body[:limit].decode("utf-8", "replace")


def smoke(session: StackSession, request: SmokeRequest) -> int:
    url, secret_id = request.url, request.secret_id
    if not url or not secret_id:
        found = dict(ordered_outputs(session))
        url = url or found.get(LOAD_BALANCER_URL_OUTPUT)
        secret_id = secret_id or found.get(MASTER_KEY_SECRET_ARN_OUTPUT)
    if not url:
        raise AwsError(f"no {LOAD_BALANCER_URL_OUTPUT} output on {session.stack_name}; pass --url", EXIT_BAD_INPUT)
    if not secret_id:
        raise AwsError(
            f"no {MASTER_KEY_SECRET_ARN_OUTPUT} output on {session.stack_name}; pass --secret-id", EXIT_BAD_INPUT
        )
    url = url.rstrip("/")
    try:
        key = master_key(session.client("secretsmanager"), secret_id)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"cannot read the master key from {secret_id}: {_aws_message(exc)}") from None
    if request.show_key:
        info(f"master key: {key}")
    else:
        info(f"master key: sk-... ({len(key)} chars; --show-key prints it)")
    try:
        health = http_call(f"{url}/health/readiness", 15)
    except OSError as exc:
        raise AwsError(f"GET {url}/health/readiness failed: {getattr(exc, 'reason', exc)}") from None
    if health.code != 200:
        raise AwsError(f"GET /health/readiness answered HTTP {health.code}: {_head(health.body)}")
    info(f"ok   GET /health/readiness: {_head(health.body, 200)}")
    payload = {"model": request.model, "messages": [{"role": "user", "content": SMOKE_PROMPT}]}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        answer = http_call(f"{url}/v1/chat/completions", 60, json.dumps(payload).encode(), headers)
    except OSError as exc:
        raise AwsError(f"POST {url}/v1/chat/completions failed: {getattr(exc, 'reason', exc)}") from None
    if answer.code != 200:
        raise AwsError(f"POST /v1/chat/completions answered HTTP {answer.code}: {_head(answer.body)}")
    try:
        choices = json.loads(answer.body).get("choices")
    except (ValueError, AttributeError):
        choices = None
    if not choices:
        raise AwsError(f"POST /v1/chat/completions returned no choices: {_head(answer.body)}")
    overhead = answer.headers.get(OVERHEAD_HEADER)
    info(
        f"ok   POST /v1/chat/completions ({request.model}): HTTP 200"
        + (f", LiteLLM overhead {overhead} ms" if overhead else "")
    )
    info(f"smoke test passed against {url}")
    return 0


# ---------------------------------------------------------------- delete


def delete(session: StackSession, assume_yes: bool, read_line: Callable[[], str] = sys.stdin.readline) -> int:
    current = stack_status(session)
    if current is None:
        info(f"stack {session.stack_name} does not exist in {session.region}: nothing to delete")
        return 0
    if not assume_yes:
        print(
            f"Delete stack {session.stack_name} ({current}) in {session.region}, with its database and secrets? "
            "Type the stack name to confirm: ",
            end="",
            flush=True,
        )
        if read_line().strip("\n") != session.stack_name:
            raise AwsError("not confirmed; nothing deleted (pass --yes to skip the question)")
    try:
        session.cfn.delete_stack(StackName=session.stack_name)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"delete-stack failed: {_aws_message(exc)}") from None
    info(f"deleting {session.stack_name}; waiting up to {session.timeout_s}s")
    if wait_stack(session, "delete") is None:
        return 1
    info(
        f"stack {session.stack_name} deleted "
        "(a template bucket litellm-bench-cfn-ACCOUNT-REGION, if one was made, is kept)"
    )
    info(
        f"kept: the DB's final snapshot and the salt key secret {session.stack_name}/salt-key-* "
        "a restore needs (docs/deploy.md)"
    )
    return 0
