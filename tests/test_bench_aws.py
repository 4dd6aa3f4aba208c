"""`bench aws` orchestration against moto (in-process, no network).

What this proves: the ECS/Logs/CloudFormation calls (run_task with the one Locust task definition,
the role, subnets, security groups and container overrides; workers pointed at the master's ENI IP; batches
of 10; stop_task on timeout; log stream naming; paginated log reads) and the parsing of the results
block. What it does NOT prove: moto runs no container, so the test plays the master's part (it
stops the master task and writes the results block, produced by the template's own printer code,
into the log stream). That the containers really print that block is tests/test_harness_e2e.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

pytest.importorskip("moto")

from litellm_bench_cfn.aws.clients import AwsError
from litellm_bench_cfn.aws.harness import (
    HarnessInfo,
    RunPlan,
    eni_detail,
    harness_info,
    master_log_stream,
    run_harness,
)
from litellm_bench_cfn.bench import aws_results
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.harness.scripts import MASTER_ROLE, RESULTS_PRINTER, ROLE_ENV, WORKER_ROLE
from litellm_bench_cfn.harness.template import LOCUST_CONTAINER

from .moto_in_process import (
    FakeTime,
    in_process_aws,  # noqa: F401 (the `aws` fixture)
    outputs_stack,
    register_task_definition,
)

STATS_HEADER = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
STATS_HEADER += "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
STATS_HEADER += "99.99%,100%"
STATS = STATS_HEADER + "\nPOST,chat/completions,300000,0,100,110,5,900,500,1000.0,0,100,,,,,150,,240,,,900\n"
STATS += ",Aggregated,300000,0,100,110,5,900,500,1000.0,0,100,,,,,150,,240,,,900\n"
# What Locust's --json-file holds for the same run (the totals are read from it: it is complete).
STATS_JSON = [
    {
        "name": "chat/completions",
        "method": "POST",
        "start_time": 1000.0,
        "last_request_timestamp": 1300.0,
        "num_requests": 300000,
        "num_none_requests": 0,
        "num_failures": 0,
        "total_response_time": 33000000,
        "max_response_time": 900,
        "min_response_time": 5,
        "total_content_length": 0,
        "response_times": {"100": 165000, "150": 120000, "240": 12000, "900": 3000},
        "num_reqs_per_sec": {},
        "num_fail_per_sec": {},
    }
]


@pytest.fixture
def info(aws: None) -> HarnessInfo:
    ec2, ecs = boto3.client("ec2"), boto3.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2, 11, 12)]
    groups = [ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"] for n in ("locust", "web")]
    ecs.create_cluster(clusterName="bench-cluster")
    boto3.client("logs").create_log_group(logGroupName="/ecs/litellm-bench-harness")
    return HarnessInfo(
        cluster="bench-cluster",
        private_subnets=tuple(subnets[2:]),
        public_subnets=tuple(subnets[:2]),
        locust_security_group=groups[0],
        web_ui_security_group=groups[1],
        locust_task_definition=register_task_definition(ecs, "locust", LOCUST_CONTAINER),
        log_group="/ecs/litellm-bench-harness",
        default_workers=4,
    )


def results_block(tmp_path: Path) -> list[str]:
    """The block the master prints, made by the template's own printer code over sample files."""
    directory = tmp_path / "results"
    directory.mkdir()
    (directory / "run_stats.csv").write_text(STATS)
    (directory / "run_stats.json").write_text(json.dumps(STATS_JSON))
    (directory / "overhead.json").write_text('{"count": 299000, "p50": 2.1, "p95": 8.0, "p99": 13.0}\n')
    (directory / "run_report.html").write_text("<!doctype html><title>Locust</title>")
    printed = subprocess.run(
        [sys.executable, "-c", RESULTS_PRINTER, str(directory), "0"], capture_output=True, text=True, timeout=30
    )
    return ["Locust summary table ...", *printed.stdout.splitlines()]


def master_finishes(info: HarnessInfo, lines: list[str]) -> Any:
    """After the workers start: the master writes its log and stops, as its container would."""
    ecs, logs = boto3.client("ecs"), boto3.client("logs")

    def act() -> None:
        tasks = ecs.list_tasks(cluster=info.cluster)["taskArns"]
        described = ecs.describe_tasks(cluster=info.cluster, tasks=tasks)["tasks"]
        masters = [t for t in described if _env(t)[ROLE_ENV] == MASTER_ROLE]
        if len(described) == len(masters):
            return  # workers not started yet
        master = masters[0]
        if master["lastStatus"] == "STOPPED":
            return
        stream = master_log_stream(master["taskArn"])
        now_ms = int(time.time() * 1000)  # CloudWatch (and moto) reject events older than 14 days
        logs.create_log_stream(logGroupName=info.log_group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=info.log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": now_ms, "message": line} for line in lines],
        )
        ecs.stop_task(cluster=info.cluster, task=master["taskArn"], reason="Essential container exited")

    return act


def _tasks(info: HarnessInfo) -> list[dict[str, Any]]:
    ecs = boto3.client("ecs")
    arns = ecs.list_tasks(cluster=info.cluster, desiredStatus="STOPPED")["taskArns"]
    arns += ecs.list_tasks(cluster=info.cluster)["taskArns"]
    return list(ecs.describe_tasks(cluster=info.cluster, tasks=sorted(set(arns)))["tasks"]) if arns else []


def _env(task: dict[str, Any]) -> dict[str, str]:
    (override,) = task["overrides"]["containerOverrides"]
    return {e["name"]: e["value"] for e in override["environment"]}


def _run(info: HarnessInfo, plan: RunPlan, fake: FakeTime) -> Any:
    return run_harness(
        boto3.client("ecs"), boto3.client("logs"), info, plan, say=lambda _: None, clock=fake.clock, sleep=fake.sleep
    )


def test_run_pulls_the_results_block_back_from_the_master_log(info: HarnessInfo, tmp_path: Path) -> None:
    fake = FakeTime()
    fake.on_sleep = master_finishes(info, results_block(tmp_path))
    outcome = _run(info, RunPlan(users=1000, spawn_rate=500, duration_s=300, workers=3), fake)
    results = aws_results.extract_results(outcome.log_lines)
    aws_results.unpack(results, tmp_path / "pulled")
    load = aws_results.load_result(tmp_path / "pulled", "alb", aws_results.LoadShape(1000, 500, 300), 0, 1.0)
    assert (load.requests, load.rps) == (300000, 1000.0)
    assert (load.latency_ms["p50"], load.latency_ms["p95"], load.latency_ms["avg"]) == (100.0, 240.0, 110.0)
    assert load.overhead_header_ms == {"count": 299000, "p50": 2.1, "p95": 8.0, "p99": 13.0}
    assert load.locust_html == str(tmp_path / "pulled" / "run_report.html")  # Locust's own report, shipped back


def test_master_gets_the_load_shape_as_container_overrides(info: HarnessInfo, tmp_path: Path) -> None:
    fake = FakeTime()
    fake.on_sleep = master_finishes(info, results_block(tmp_path))
    outcome = _run(info, RunPlan(users=200, spawn_rate=50, duration_s=60, workers=2), fake)
    (master,) = [t for t in _tasks(info) if t["taskArn"] == outcome.master_task_arn]
    env = _env(master)
    assert {k: env[k] for k in ("BENCH_USERS", "BENCH_SPAWN_RATE", "BENCH_RUN_TIME_S", "BENCH_WORKERS")} == {
        "BENCH_USERS": "200",
        "BENCH_SPAWN_RATE": "50",
        "BENCH_RUN_TIME_S": "60",
        "BENCH_WORKERS": "2",
    }
    assert "BENCH_TARGET" not in env  # the template's default: the main stack's load balancer


def test_master_and_workers_run_the_one_locust_task_definition_in_their_roles(
    info: HarnessInfo, tmp_path: Path
) -> None:
    fake = FakeTime()
    fake.on_sleep = master_finishes(info, results_block(tmp_path))
    outcome = _run(info, RunPlan(workers=3), fake)
    tasks = {t["taskArn"]: t for t in _tasks(info)}
    assert {t["taskDefinitionArn"] for t in tasks.values()} == {info.locust_task_definition}
    roles = {arn: _env(task)[ROLE_ENV] for arn, task in tasks.items()}
    assert roles.pop(outcome.master_task_arn) == MASTER_ROLE
    assert sorted(roles) == sorted(outcome.worker_task_arns) and set(roles.values()) == {WORKER_ROLE}
    assert {o["name"] for t in tasks.values() for o in t["overrides"]["containerOverrides"]} == {LOCUST_CONTAINER}


def test_workers_point_at_the_masters_private_ip_and_start_in_batches(info: HarnessInfo, tmp_path: Path) -> None:
    fake = FakeTime()
    fake.on_sleep = master_finishes(info, results_block(tmp_path))
    outcome = _run(info, RunPlan(workers=12), fake)
    tasks = {t["taskArn"]: t for t in _tasks(info)}
    master_ip = eni_detail(tasks[outcome.master_task_arn], "privateIPv4Address")
    assert len(outcome.worker_task_arns) == 12
    assert {_env(tasks[arn])["BENCH_MASTER_HOST"] for arn in outcome.worker_task_arns} == {master_ip}


def test_headless_master_runs_in_a_private_subnet_without_public_ip(info: HarnessInfo, tmp_path: Path) -> None:
    fake = FakeTime()
    fake.on_sleep = master_finishes(info, results_block(tmp_path))
    outcome = _run(info, RunPlan(workers=1), fake)
    tasks = {t["taskArn"]: t for t in _tasks(info)}
    assert eni_detail(tasks[outcome.master_task_arn], "subnetId") in info.private_subnets


def test_web_ui_master_runs_in_a_public_subnet_with_the_web_ui_group(info: HarnessInfo, tmp_path: Path) -> None:
    fake = FakeTime()
    fake.on_sleep = master_finishes(info, results_block(tmp_path))
    outcome = _run(info, RunPlan(workers=1, web_ui=True), fake)
    tasks = {t["taskArn"]: t for t in _tasks(info)}
    master = tasks[outcome.master_task_arn]
    assert eni_detail(master, "subnetId") in info.public_subnets
    assert _env(master)["BENCH_WEB_UI"] == "true"
    eni = eni_detail(master, "networkInterfaceId")
    groups = boto3.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert info.web_ui_security_group in {g["GroupId"] for g in groups["Groups"]}


def test_a_run_that_does_not_finish_is_stopped_and_fails(info: HarnessInfo) -> None:
    fake = FakeTime()  # the master never stops by itself
    with pytest.raises(AwsError, match="did not finish within"):
        _run(info, RunPlan(users=10, spawn_rate=10, duration_s=30, workers=2, margin_s=60), fake)
    statuses = [t["lastStatus"] for t in _tasks(info)]
    assert len(statuses) == 3 and set(statuses) == {"STOPPED"}
    assert fake.now <= 30 + 1 + 60 + 10 + 1  # gave up at the deadline, not later


def test_a_master_that_prints_no_results_fails_after_the_log_timeout(info: HarnessInfo) -> None:
    fake = FakeTime()
    fake.on_sleep = master_finishes(info, ["Traceback: something broke"])
    with pytest.raises(AwsError, match="no 'LITELLM-BENCH-RESULTS BEGIN' line"):
        _run(info, RunPlan(workers=1, log_timeout_s=20), fake)


def test_harness_info_reads_both_stacks_outputs(aws: None) -> None:
    outputs_stack("main", {"XCluster": "c", "XPrivateSubnets": "s1,s2", "XPublicSubnets": "p1,p2"})
    outputs_stack(
        "main-harness",
        {"LocustSecurityGroup": "sg-1", "WebUiSecurityGroup": "sg-2", "LocustTaskDefinition": "l",
         "LogGroupName": "/ecs/main-harness", "LocustWorkers": "6"},
    )  # fmt: skip
    info = harness_info(boto3.client("cloudformation"), "main", "main-harness")
    assert (info.cluster, info.private_subnets, info.default_workers) == ("c", ("s1", "s2"), 6)
    assert info.locust_task_definition == "l"


def test_an_older_harness_with_a_task_definition_per_role_is_told_to_update(aws: None) -> None:
    outputs_stack("main", {"XCluster": "c", "XPrivateSubnets": "s1,s2", "XPublicSubnets": "p1,p2"})
    outputs_stack(
        "main-harness",
        {"LocustSecurityGroup": "sg-1", "WebUiSecurityGroup": "sg-2", "MasterTaskDefinition": "m",
         "WorkerTaskDefinition": "w", "LogGroupName": "/ecs/main-harness", "LocustWorkers": "6"},
    )  # fmt: skip
    with pytest.raises(AwsError) as caught:
        harness_info(boto3.client("cloudformation"), "main", "main-harness")
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    assert str(caught.value) == (
        "stack main-harness has no output LocustTaskDefinition: an older harness (a task definition per Locust "
        "role); update it: scripts/deploy.sh deploy --stack-name main-harness "
        "--template templates/cloudformation-ecs-harness.yaml"
    )


def test_a_missing_harness_stack_output_is_bad_input(aws: None) -> None:
    outputs_stack("main", {"XCluster": "c", "XPrivateSubnets": "s1,s2", "XPublicSubnets": "p1,p2"})
    outputs_stack("main-harness", {"LogGroupName": "/ecs/x"})
    with pytest.raises(AwsError, match="has no output LocustSecurityGroup") as caught:
        harness_info(boto3.client("cloudformation"), "main", "main-harness")
    assert caught.value.exit_code == 2


def test_cli_rejects_a_bad_load_shape_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "aws", "--users", "0", "--spawn-rate", "0"]) == 2
    err = capsys.readouterr().err
    assert "--users: must be at least 1" in err and "--spawn-rate: must be above 0" in err


def test_cli_reports_a_missing_stack_in_one_line(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "aws", "--stack-name", "nope"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: stack 'nope' does not exist") and "\n" not in err
