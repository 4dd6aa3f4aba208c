"""Issue 13 item 3: the benchmark holds a fixed fleet, and `bench aws` measures only a whole one.

Template properties: the benchmark template has no autoscaling (its DB pools sized for the tasks it
really runs), dev and production still autoscale. Pre-flight: against moto (in-process) with the
REAL benchmark template's stack. What moto returns: ECS `describe_services` gives runningCount 0
for a service CloudFormation created (env MOTO_ECS_SERVICE_RUNNING, default 0) and sets it to the
desired count on `update_service(desiredCount=...)`; elbv2 `describe_target_health` reports every
registered target "healthy" and the service registers none. So moto expresses a short fleet and one
that becomes whole; an unhealthy target or a fleet above its desired count (a deployment) needs
botocore's Stubber. moto runs no container: the harness run itself is played as in test_bench_aws.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from litellm_bench_cfn.aws.clients import AwsError
from litellm_bench_cfn.aws.fleet import FleetRef, fleet_counts, fleet_ref, wait_for_fleet
from litellm_bench_cfn.aws.harness import HarnessInfo, RunPlan, run_harness
from litellm_bench_cfn.cli import bench_aws as cli_bench_aws
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.harness.template import LOCUST_CONTAINER

from .conftest import BENCHMARK_TEMPLATE, REPO_ROOT
from .moto_in_process import (
    FakeTime,
    in_process_aws,  # noqa: F401 (the `aws` fixture)
    outputs_stack,
    register_task_definition,
)

TEMPLATES = REPO_ROOT / "templates"
AUTOSCALING = ("AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy")
STACK, HARNESS = "litellm-bench", "litellm-bench-harness"


def _template(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((TEMPLATES / name).read_text())
    return loaded


def _types(template: dict[str, Any]) -> list[str]:
    return [r["Type"] for r in template["Resources"].values()]


def _pool_limit(template: dict[str, Any]) -> int:
    (proxy,) = [
        c
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
        for c in r["Properties"]["ContainerDefinitions"]
        if any(e["Name"] == "LITELLM_CONFIG_YAML" for e in c.get("Environment", []))
    ]
    config = next(e["Value"] for e in proxy["Environment"] if e["Name"] == "LITELLM_CONFIG_YAML")
    return int(yaml.safe_load(config)["general_settings"]["database_connection_pool_limit"])


# Template properties ---------------------------------------------------------------------------


def test_benchmark_template_holds_a_fixed_fleet_without_autoscaling() -> None:
    template = _template("cloudformation-ecs.yaml")
    assert not set(AUTOSCALING) & set(_types(template))
    assert not {"MinTaskCount", "MaxTaskCount"} & set(template["Parameters"])
    assert not [name for name in template["Rules"] if name.startswith("TaskCountRange")]
    desired = template["Parameters"]["DesiredTaskCount"]
    assert (desired["Default"], desired["MinValue"], desired["MaxValue"]) == (4, 1, 4)
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    assert "fixed fleet" in interface["ParameterLabels"]["DesiredTaskCount"]["default"]
    assert "no autoscaling" in desired["Description"]
    (service,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::Service"]
    assert service["Properties"]["DesiredCount"] == {"Ref": "DesiredTaskCount"}


def test_benchmark_pools_are_sized_for_the_tasks_it_really_runs() -> None:
    """4 tasks, 8 during a rolling deployment (MaximumPercent 200), 4 workers each, 450 free connections."""
    template = _template("cloudformation-ecs.yaml")
    (service,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::Service"]
    surge = service["Properties"]["DeploymentConfiguration"]["MaximumPercent"] / 100
    peak_tasks = int(template["Parameters"]["DesiredTaskCount"]["MaxValue"] * surge)
    workers = int(template["Parameters"]["WorkersPerTask"]["MaxValue"])
    limit = _pool_limit(template)
    assert peak_tasks * workers * limit <= 500 - 50
    assert peak_tasks * workers * (limit + 1) > 500 - 50  # the whole budget, not a 10-task guess (11)
    assert limit == 14


@pytest.mark.parametrize("name", ["cloudformation-ecs-dev.yaml", "cloudformation-ecs-production.yaml"])
def test_profiles_for_real_use_keep_autoscaling(name: str) -> None:
    template = _template(name)
    assert sorted(t for t in _types(template) if t in AUTOSCALING) == sorted(AUTOSCALING)
    (target,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == AUTOSCALING[0]]
    assert (target["MinCapacity"], target["MaxCapacity"]) == ({"Ref": "MinTaskCount"}, {"Ref": "MaxTaskCount"})
    assert [n for n in template["Rules"] if n.startswith("TaskCountRange")]
    labels = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterLabels"]
    assert labels["MinTaskCount"]["default"] == "Autoscaling minimum tasks"


# Pre-flight against moto -------------------------------------------------------------------------


@pytest.fixture
def main_stack(aws: None) -> FleetRef:
    """The real benchmark template as a moto stack: its service wants 4 tasks, moto runs none."""
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=BENCHMARK_TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"])
    return fleet_ref(cfn, STACK)


def make_whole(ref: FleetRef, healthy: int = 4) -> None:
    """What ECS and the ALB do once the tasks run and pass their health checks."""
    boto3.client("ecs").update_service(cluster=ref.cluster, service=ref.service, desiredCount=4)
    targets = [{"Id": f"10.0.11.{10 + i}", "Port": 4000} for i in range(healthy)]
    boto3.client("elbv2").register_targets(TargetGroupArn=ref.target_group, Targets=targets)


def test_fleet_ref_reads_the_main_stacks_outputs(main_stack: FleetRef) -> None:
    assert main_stack.cluster.startswith(f"{STACK}-Cluster")
    assert ":targetgroup/" in main_stack.target_group


def test_a_short_fleet_is_counted_as_moto_reports_it(main_stack: FleetRef) -> None:
    counts = fleet_counts(boto3.client("ecs"), boto3.client("elbv2"), main_stack)
    assert (counts.desired, counts.running, counts.pending, counts.healthy) == (4, 0, 4, 0)
    assert not counts.ready


def test_the_wait_polls_until_the_fleet_is_whole(main_stack: FleetRef) -> None:
    fake, said = FakeTime(), []
    fake.on_sleep = lambda: make_whole(main_stack) if len(fake.sleeps) == 3 else None
    counts = wait_for_fleet(
        boto3.client("ecs"), boto3.client("elbv2"), main_stack, 600,
        say=said.append, clock=fake.clock, sleep=fake.sleep, poll_s=15,
    )  # fmt: skip
    assert counts.ready and (counts.running, counts.healthy) == (4, 4)
    assert fake.sleeps == [15, 15, 15]
    assert len(said) == 3 and said[0] == (
        "  waiting for the proxy fleet (0s of 600s): 0/4 tasks running (4 pending), 0/4 targets healthy"
    )


def test_the_wait_gives_up_at_its_deadline_with_one_line(main_stack: FleetRef) -> None:
    fake = FakeTime()
    with pytest.raises(AwsError) as caught:
        wait_for_fleet(
            boto3.client("ecs"), boto3.client("elbv2"), main_stack, 100,
            say=lambda _: None, clock=fake.clock, sleep=fake.sleep, poll_s=30,
        )  # fmt: skip
    message = str(caught.value)
    assert fake.now == 100 and fake.sleeps == [30, 30, 30, 10]
    assert message.startswith("the proxy fleet is not ready after 100s: 0/4 tasks running (4 pending), 0/4 targets")
    assert "bench aws started nothing" in message and "\n" not in message


def _stubbed(service: dict[str, Any], states: list[str]) -> tuple[Any, Any]:
    ecs, elbv2 = boto3.client("ecs", region_name="us-east-1"), boto3.client("elbv2", region_name="us-east-1")
    ecs_stub, elb_stub = Stubber(ecs), Stubber(elbv2)
    ecs_stub.add_response("describe_services", {"services": [service]}, {"cluster": "c", "services": ["s"]})
    health = [
        {"Target": {"Id": f"10.0.11.{i}", "Port": 4000}, "TargetHealth": {"State": state}}
        for i, state in enumerate(states)
    ]
    elb_stub.add_response("describe_target_health", {"TargetHealthDescriptions": health}, {"TargetGroupArn": "tg"})
    ecs_stub.activate()
    elb_stub.activate()
    return ecs, elbv2


def test_unhealthy_targets_keep_a_running_fleet_from_being_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ecs, elbv2 = _stubbed(
        {"desiredCount": 4, "runningCount": 4, "pendingCount": 0}, ["healthy", "unhealthy", "healthy", "initial"]
    )
    with pytest.raises(
        AwsError, match=r"4/4 tasks running \(0 pending\), 2/4 targets healthy \(1 initial, 1 unhealthy\)"
    ):
        wait_for_fleet(ecs, elbv2, FleetRef("c", "s", "tg"), 0, say=lambda _: None)


def test_a_fleet_in_a_deployment_above_its_desired_count_is_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ecs, elbv2 = _stubbed({"desiredCount": 4, "runningCount": 6, "pendingCount": 0}, ["healthy"] * 6)
    counts = fleet_counts(ecs, elbv2, FleetRef("c", "s", "tg"))
    assert (counts.running, counts.healthy, counts.ready) == (6, 6, False)


def _harness_stack(main: FleetRef, upstream_ms: str | None = "95") -> None:
    """The harness's outputs (its resources are moto-registered by hand: moto runs no container)."""
    ec2, ecs = boto3.client("ec2"), boto3.client("ecs")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}])["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="locust", Description="locust", VpcId=vpc)["GroupId"]

    boto3.client("logs").create_log_group(logGroupName=f"/ecs/{HARNESS}")
    outputs = {
        "LocustSecurityGroup": group, "WebUiSecurityGroup": group, "LogGroupName": f"/ecs/{HARNESS}",
        "LocustTaskDefinition": register_task_definition(ecs, "locust", LOCUST_CONTAINER), "LocustWorkers": "2",
        **({"UpstreamLatencyMs": upstream_ms} if upstream_ms is not None else {}),
    }  # fmt: skip
    outputs_stack(HARNESS, outputs)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[HarnessInfo]:
    """Stands in for run_harness in the CLI: records that a run started, then fails it."""
    started: list[HarnessInfo] = []

    def record(ecs: Any, logs: Any, info: HarnessInfo, plan: RunPlan, **_: Any) -> Any:
        started.append(info)
        raise AwsError("a run was started")

    monkeypatch.setattr(cli_bench_aws, "run_harness", record)
    return started


def test_bench_aws_refuses_a_short_fleet_and_starts_nothing(
    main_stack: FleetRef, runs: list[HarnessInfo], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _harness_stack(main_stack)
    code = main(["bench", "aws", "--stack-name", STACK, "--fleet-wait", "0", "--results-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert runs == []
    assert boto3.client("ecs").list_tasks(cluster=main_stack.cluster)["taskArns"] == []
    assert code == 1
    assert err.startswith("error: the proxy fleet is not ready after 0s: 0/4 tasks running (4 pending), 0/4 targets")
    assert err.count("\n") == 1


def test_bench_aws_refuses_a_harness_with_another_upstream_latency(
    main_stack: FleetRef, runs: list[HarnessInfo], capsys: pytest.CaptureFixture[str]
) -> None:
    _harness_stack(main_stack, upstream_ms="0")
    make_whole(main_stack)
    assert main(["bench", "aws", "--stack-name", STACK, "--upstream-latency-ms", "95"]) == 2
    err = capsys.readouterr().err
    assert runs == [] and err.count("\n") == 1
    assert "has UpstreamLatencyMs=0; update it first" in err and "--param UpstreamLatencyMs=95" in err


def test_bench_aws_records_the_fleet_before_and_after_the_run(
    main_stack: FleetRef, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from .test_bench_aws import master_finishes, results_block

    _harness_stack(main_stack)
    make_whole(main_stack)
    lines = results_block(tmp_path)

    def played(ecs: Any, logs: Any, info: HarnessInfo, plan: RunPlan, **kwargs: Any) -> Any:
        fake = FakeTime()
        finish = master_finishes(info, lines)

        def during() -> None:
            finish()  # one target fails its health checks during the run
            boto3.client("elbv2").deregister_targets(
                TargetGroupArn=main_stack.target_group, Targets=[{"Id": "10.0.11.10", "Port": 4000}]
            )

        fake.on_sleep = during
        return run_harness(ecs, logs, info, plan, say=kwargs["say"], clock=fake.clock, sleep=fake.sleep)

    monkeypatch.setattr(cli_bench_aws, "run_harness", played)
    code = main(["bench", "aws", "--stack-name", STACK, "--results-dir", str(tmp_path / "results")])
    out = capsys.readouterr().out
    assert code == 0, out
    (results,) = (tmp_path / "results").glob("aws-*/results.json")
    data = json.loads(results.read_text())
    assert {k: data["fleet_before"][k] for k in ("desired", "running", "healthy")} == {
        "desired": 4, "running": 4, "healthy": 4,
    }  # fmt: skip
    assert {k: data["fleet_after"][k] for k in ("desired", "running", "healthy")} == {
        "desired": 4, "running": 4, "healthy": 3,
    }  # fmt: skip
    assert data["upstream_latency_ms"] == 95
    assert "proxy fleet ready: 4/4 tasks running (0 pending), 4/4 targets healthy" in out
    assert any(line.startswith("proxy tasks running (before / after)") and "4/4 / 4/4" in line
               for line in out.splitlines())  # fmt: skip
    assert any(line.startswith("healthy targets (before / after)") and "4/4 / 3/4" in line for line in out.splitlines())
    assert "flag: the proxy fleet changed during the run" in out
