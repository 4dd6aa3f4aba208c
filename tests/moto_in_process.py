"""moto in this process (no server, no network) for the `bench aws` and fleet tests, and a fake clock.

The `aws` fixture (import `in_process_aws`) is an empty moto account in us-east-1 whose ECS tasks
stay RUNNING until stop_task (moto would advance them to STOPPED on every describe; real tasks stop
when their container exits, which the tests play). It fixes two moto 5.2 gaps the tests reach:
ECS run_task reads eni.private_dns_name, which its NetworkInterface lacks, and `Ref` to an
AWS::RDS::DBParameterGroup yields the Python object instead of its name (as tests/moto_server.py).
moto itself is imported only when the fixture runs: a module without it still collects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest


@pytest.fixture(name="aws")
def in_process_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    moto = pytest.importorskip("moto")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "MOTO_ECS_SERVICE_RUNNING"):
        monkeypatch.delenv(name, raising=False)
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.moto_api import state_manager
    from moto.rds import models

    monkeypatch.setattr(models.DBParameterGroup, "physical_resource_id", property(lambda s: s.name), raising=False)
    if not hasattr(NetworkInterface, "private_dns_name"):
        dns = property(lambda eni: f"ip-{eni.private_ip_address.replace('.', '-')}.ec2.internal")
        monkeypatch.setattr(NetworkInterface, "private_dns_name", dns, raising=False)
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
    try:
        with moto.mock_aws():
            yield
    finally:
        state_manager.unset_transition(model_name="ecs::task")


def register_task_definition(ecs: Any, family: str, container: str, image: str = "locustio/locust:2.47.0") -> str:
    """A one-container Fargate task definition; its ARN."""
    arn: str = ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="1024",
        memory="2048",
        # container-level memory: moto's run_task needs it (Fargate does not)
        containerDefinitions=[{"name": container, "image": image, "essential": True, "memory": 2048}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def outputs_stack(name: str, outputs: dict[str, str]) -> None:
    """A stack that holds nothing but these outputs (its resources, where a test needs any, are made by hand)."""
    body = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(body))


class FakeTime:
    """Clock + sleep for run_harness / wait_for_fleet; `on_sleep` plays what AWS would do meanwhile."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps.append(seconds)
        if self.on_sleep:
            self.on_sleep()
