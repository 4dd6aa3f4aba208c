"""The proxy fleet a benchmark measures: ECS running vs desired tasks, and healthy load-balancer targets.

`bench aws` waits (bounded, polling) until the service runs its desired count with that many healthy
targets before it starts any Locust task, and refuses otherwise: a short fleet measures fewer
instances than the table says. It records the counts before and after the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exit_codes import EXIT_BAD_INPUT
from .clients import AwsError
from .stack import CLUSTER_TYPE, SERVICE_TYPE, TARGET_GROUP_TYPE, describe_stack, stack_resources


@dataclass(frozen=True)
class FleetRef:
    cluster: str
    service: str
    target_group: str


@dataclass(frozen=True)
class FleetCounts:
    desired: int
    running: int
    pending: int
    healthy: int
    registered: int
    other_states: dict[str, int]
    """Target states other than healthy (initial, unhealthy, draining, ...) and how many."""

    @property
    def ready(self) -> bool:
        """The service runs exactly its desired count, and that many targets take traffic."""
        return self.desired > 0 and self.running == self.desired and self.healthy == self.desired

    def line(self) -> str:
        others = ", ".join(f"{n} {state}" for state, n in sorted(self.other_states.items()))
        return (
            f"{self.running}/{self.desired} tasks running ({self.pending} pending), "
            f"{self.healthy}/{self.desired} targets healthy" + (f" ({others})" if others else "")
        )


def fleet_ref(cfn: Any, stack_name: str) -> FleetRef:
    """Cluster, service and target group of the main stack: its outputs, else its resources."""
    stack = describe_stack(cfn, stack_name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    wanted = {"ClusterName": CLUSTER_TYPE, "ServiceName": SERVICE_TYPE, "TargetGroupArn": TARGET_GROUP_TYPE}
    if not all(outputs.get(key) for key in wanted):
        resources = stack_resources(cfn, stack_name)
        for key, kind in wanted.items():
            if not outputs.get(key):
                ids = sorted(r.get("PhysicalResourceId") or "" for r in resources.values() if r["ResourceType"] == kind)
                if ids and ids[0]:
                    outputs[key] = ids[0]
    missing = [key for key in wanted if not outputs.get(key)]
    if missing:
        raise AwsError(
            f"stack {stack_name} has no proxy {', '.join(missing)}: is it a litellm-bench-cfn main stack?",
            EXIT_BAD_INPUT,
        )
    return FleetRef(outputs["ClusterName"], outputs["ServiceName"], outputs["TargetGroupArn"])


def fleet_counts(ecs: Any, elbv2: Any, ref: FleetRef) -> FleetCounts:
    services = ecs.describe_services(cluster=ref.cluster, services=[ref.service]).get("services", [])
    if not services:
        raise AwsError(f"ECS service {ref.service} not found in cluster {ref.cluster}")
    service = services[0]
    states = [
        str(d["TargetHealth"]["State"])
        for d in elbv2.describe_target_health(TargetGroupArn=ref.target_group).get("TargetHealthDescriptions", [])
    ]
    others: dict[str, int] = {}
    for state in states:
        if state != "healthy":
            others[state] = others.get(state, 0) + 1
    return FleetCounts(
        desired=int(service.get("desiredCount", 0)),
        running=int(service.get("runningCount", 0)),
        pending=int(service.get("pendingCount", 0)),
        healthy=states.count("healthy"),
        registered=len(states),
        other_states=others,
    )


def wait_for_fleet(
    ecs: Any,
    elbv2: Any,
    ref: FleetRef,
    timeout_s: float,
    *,
    say: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 15.0,
) -> FleetCounts:
    """The counts once the fleet is ready; AwsError (one line) if it is not within `timeout_s`."""
    started = clock()
    while True:
        counts = fleet_counts(ecs, elbv2, ref)
        if counts.ready:
            return counts
        waited = clock() - started
        if waited >= timeout_s:
            raise AwsError(
                f"the proxy fleet is not ready after {waited:.0f}s: {counts.line()} in service {ref.service}; "
                "bench aws started nothing (see `litellm-bench-cfn verify`, or wait longer with --fleet-wait)"
            )
        say(f"  waiting for the proxy fleet ({waited:.0f}s of {timeout_s:.0f}s): {counts.line()}")
        sleep(min(poll_s, max(timeout_s - waited, 0.0)))
