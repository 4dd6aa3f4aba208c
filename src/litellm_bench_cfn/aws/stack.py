"""A live stack: its status, outputs, master key, and `verify` (is the benchmark really serving?)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..names import LOAD_BALANCER_URL_OUTPUT, MASTER_KEY_SECRET, MASTER_KEY_SECRET_ARN_OUTPUT
from .clients import AwsError, AwsTarget

MASTER_KEY_PREFIX = "sk-"
"""The master-key secret holds the key without this prefix (see the MasterKeySecretArn output)."""

SERVICE_TYPE = "AWS::ECS::Service"
CLUSTER_TYPE = "AWS::ECS::Cluster"
TARGET_GROUP_TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"
SECRET_TYPE = "AWS::SecretsManager::Secret"
MASTER_KEY_SECRET_ID = MASTER_KEY_SECRET
"""Logical ID of the master-key secret (public API of the template)."""


def describe_stack(cfn: Any, stack_name: str) -> dict[str, Any]:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise AwsError(f"stack {stack_name!r} does not exist in this region/account") from None
        raise
    return dict(stacks[0])


def stack_outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    stack = describe_stack(cfn, stack_name)
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def stack_resources(cfn: Any, stack_name: str) -> dict[str, dict[str, Any]]:
    """Logical ID -> resource summary (PhysicalResourceId, ResourceType, ResourceStatus)."""
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {r["LogicalResourceId"]: dict(r) for r in resources if r.get("LogicalResourceId") and r.get("ResourceType")}


def _physical_of_type(resources: dict[str, dict[str, Any]], resource_type: str) -> str | None:
    ids = sorted(r.get("PhysicalResourceId", "") for r in resources.values() if r["ResourceType"] == resource_type)
    return ids[0] if ids and ids[0] else None


def master_key(secrets: Any, secret_id: str) -> str:
    """The LiteLLM master key: `sk-` + the secret's value."""
    value = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    return MASTER_KEY_PREFIX + str(value)


def master_key_secret_id(cfn: Any, stack_name: str) -> str:
    outputs = stack_outputs(cfn, stack_name)
    if MASTER_KEY_SECRET_ARN_OUTPUT in outputs:
        return outputs[MASTER_KEY_SECRET_ARN_OUTPUT]
    physical = stack_resources(cfn, stack_name).get(MASTER_KEY_SECRET_ID, {}).get("PhysicalResourceId")
    if not physical:
        raise AwsError(
            f"stack {stack_name!r} has no {MASTER_KEY_SECRET_ARN_OUTPUT} output nor a {MASTER_KEY_SECRET_ID} resource"
        )
    return str(physical)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None
    """True passed, False failed, None skipped (could not be checked from here)."""
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{mark} {self.name}: {self.detail}"


GOOD_STATUSES = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


def check_stack_status(stack: dict[str, Any]) -> Check:
    status = str(stack["StackStatus"])
    reason = stack.get("StackStatusReason")
    detail = status + (f" ({reason})" if reason else "")
    return Check("stack status", status in GOOD_STATUSES, detail)


def check_ecs_service(ecs: Any, resources: dict[str, dict[str, Any]], outputs: dict[str, str]) -> Check:
    cluster = outputs.get("ClusterName") or _physical_of_type(resources, CLUSTER_TYPE)
    service = outputs.get("ServiceName") or _physical_of_type(resources, SERVICE_TYPE)
    if not cluster or not service:
        return Check("ECS service", False, "the stack has no ECS cluster/service")
    found = ecs.describe_services(cluster=cluster, services=[service]).get("services", [])
    if not found:
        return Check("ECS service", False, f"service {service} not found in cluster {cluster}")
    svc = found[0]
    running, desired = int(svc.get("runningCount", 0)), int(svc.get("desiredCount", 0))
    pending = int(svc.get("pendingCount", 0))
    ok = desired > 0 and running >= desired
    return Check("ECS service", ok, f"{running}/{desired} tasks running ({pending} pending) in {cluster}")


def check_targets(elbv2: Any, resources: dict[str, dict[str, Any]]) -> Check:
    target_group = _physical_of_type(resources, TARGET_GROUP_TYPE)
    if not target_group:
        return Check("target health", False, "the stack has no target group")
    states = [
        d["TargetHealth"]["State"]
        for d in elbv2.describe_target_health(TargetGroupArn=target_group).get("TargetHealthDescriptions", [])
    ]
    healthy = states.count("healthy")
    others = sorted({s for s in states if s != "healthy"})
    detail = f"{healthy}/{len(states)} targets healthy" + (f" (others: {', '.join(others)})" if others else "")
    return Check("target health", bool(states) and healthy == len(states), detail)


def check_models(url: str, key: str, model: str, timeout_s: float = 5.0) -> Check:
    """GET /v1/models with the master key; skipped (not failed) when the proxy is unreachable."""
    request = urllib.request.Request(url.rstrip("/") + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return Check("proxy /v1/models", False, f"HTTP {exc.code} from {url}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check("proxy /v1/models", None, f"{url} unreachable from here ({reason})")
    except ValueError:
        return Check("proxy /v1/models", False, "the answer is not JSON")
    ids = sorted(str(m.get("id")) for m in body.get("data", []) if isinstance(m, dict))
    return Check("proxy /v1/models", model in ids, f"lists {', '.join(ids) or 'no model'} (want {model})")


def verify(
    target: AwsTarget,
    stack_name: str,
    model: str = "fake-openai-endpoint",
    url: str | None = None,
    http_timeout_s: float = 5.0,
) -> list[Check]:
    cfn = target.client("cloudformation")
    stack = describe_stack(cfn, stack_name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources = stack_resources(cfn, stack_name)
    checks = [
        check_stack_status(stack),
        check_ecs_service(target.client("ecs"), resources, outputs),
        check_targets(target.client("elbv2"), resources),
    ]
    base = url or outputs.get(LOAD_BALANCER_URL_OUTPUT)
    if not base:
        checks.append(Check("proxy /v1/models", None, f"no {LOAD_BALANCER_URL_OUTPUT} output (pass --url)"))
        return checks
    try:
        key = master_key(target.client("secretsmanager"), master_key_secret_id(cfn, stack_name))
    except (ClientError, AwsError) as exc:
        checks.append(Check("proxy /v1/models", None, f"master key unreadable: {exc}"))
        return checks
    checks.append(check_models(base, key, model, http_timeout_s))
    return checks
