"""`bench aws`: run distributed Locust inside the VPC on demand and pull its results back.

Order: read the main and harness stacks' outputs; run the Locust task as the master (headless in a
private subnet, or with the web UI in a public subnet with a public IP); wait for its private IP (its
ENI); run the same task definition N times as a worker pointed at that IP (the role is a container
override, BENCH_ROLE); wait, bounded, until the master stops; stop what is left;
read the master's log stream and parse the results block it printed (bench/aws_results.py).
Every wait has a deadline; on timeout every task started here is stopped and the run fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..exit_codes import EXIT_BAD_INPUT
from ..harness.scripts import MASTER_ROLE, ROLE_ENV, WEB_UI_PORT, WORKER_ROLE
from ..harness.template import LOCUST_CONTAINER, LOCUST_TASK_DEFINITION_OUTPUT
from ..names import API_KEY_ENV
from .clients import AwsError
from .stack import stack_outputs

RUN_TASK_BATCH = 10  # ecs.run_task starts at most 10 tasks per call
STOP_REASON = "litellm-bench-cfn bench aws"


@dataclass(frozen=True)
class RunPlan:
    users: int = 1000
    spawn_rate: float = 500
    duration_s: int = 300
    workers: int | None = None  # None: the harness's LocustWorkers output
    web_ui: bool = False
    host: str | None = None  # None: the main stack's load balancer (the template's BENCH_TARGET)
    api_key: str | None = None
    """A virtual key for every Locust process (LITELLM_API_KEY; the high-throughput load uses it); None: master key."""
    start_timeout_s: int = 300
    margin_s: int = 600
    log_timeout_s: int = 90

    def run_timeout_s(self) -> float:
        """Master start to master stop: workers' start, spawn, the run, stop, upload; generous."""
        return self.duration_s + self.users / self.spawn_rate + self.margin_s


@dataclass(frozen=True)
class HarnessInfo:
    cluster: str
    private_subnets: tuple[str, ...]
    public_subnets: tuple[str, ...]
    locust_security_group: str
    web_ui_security_group: str
    locust_task_definition: str
    """The one task definition of the master and the workers."""
    log_group: str
    default_workers: int
    upstream_latency_ms: float | None = None
    """The fake endpoint's answer delay (the harness's UpstreamLatencyMs); None: a harness without it."""


def _need(outputs: dict[str, str], key: str, stack: str, hint: str) -> str:
    if not outputs.get(key):
        raise AwsError(f"stack {stack} has no output {key}: {hint}", EXIT_BAD_INPUT)
    return outputs[key]


def harness_info(cfn: Any, stack_name: str, harness_stack_name: str) -> HarnessInfo:
    main = stack_outputs(cfn, stack_name)
    harness = stack_outputs(cfn, harness_stack_name)
    main_hint = "render it from a profile with harness.enabled (the benchmark profile) and update it"
    harness_hint = "launch templates/cloudformation-ecs-harness.yaml (scripts/deploy.sh deploy --template ...)"
    if "MasterTaskDefinition" in harness and LOCUST_TASK_DEFINITION_OUTPUT not in harness:
        harness_hint = (
            "an older harness (a task definition per Locust role); update it: scripts/deploy.sh deploy "
            f"--stack-name {harness_stack_name} --template templates/cloudformation-ecs-harness.yaml"
        )

    def subnets(key: str) -> tuple[str, ...]:
        return tuple(s for s in _need(main, key, stack_name, main_hint).split(",") if s)

    return HarnessInfo(
        cluster=_need(main, "XCluster", stack_name, main_hint),
        private_subnets=subnets("XPrivateSubnets"),
        public_subnets=subnets("XPublicSubnets"),
        locust_security_group=_need(harness, "LocustSecurityGroup", harness_stack_name, harness_hint),
        web_ui_security_group=_need(harness, "WebUiSecurityGroup", harness_stack_name, harness_hint),
        locust_task_definition=_need(harness, LOCUST_TASK_DEFINITION_OUTPUT, harness_stack_name, harness_hint),
        log_group=_need(harness, "LogGroupName", harness_stack_name, harness_hint),
        default_workers=int(harness.get("LocustWorkers") or 1),
        upstream_latency_ms=float(harness["UpstreamLatencyMs"]) if harness.get("UpstreamLatencyMs") else None,
    )


def _env(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in sorted(values.items())]


def _run(ecs: Any, info: HarnessInfo, env: dict[str, str], count: int, *, public: bool = False) -> list[str]:
    """`count` Locust tasks, their role and settings in `env` (container overrides)."""
    groups = [info.locust_security_group] + ([info.web_ui_security_group] if public else [])
    response = ecs.run_task(
        cluster=info.cluster,
        taskDefinition=info.locust_task_definition,
        launchType="FARGATE",
        count=count,
        startedBy="litellm-bench-cfn",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(info.public_subnets if public else info.private_subnets),
                "securityGroups": groups,
                "assignPublicIp": "ENABLED" if public else "DISABLED",
            }
        },
        overrides={"containerOverrides": [{"name": LOCUST_CONTAINER, "environment": _env(env)}]},
    )
    if response.get("failures"):
        failure = response["failures"][0]
        raise AwsError(f"ecs run_task failed: {failure.get('reason')} {failure.get('detail', '')}".strip())
    return [task["taskArn"] for task in response["tasks"]]


def _describe(ecs: Any, cluster: str, arns: Sequence[str]) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    for i in range(0, len(arns), 100):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=list(arns[i : i + 100]))["tasks"]
    return tasks


def eni_detail(task: dict[str, Any], name: str) -> str | None:
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == name and detail.get("value"):
                return str(detail["value"])
    return None


def stop_tasks(ecs: Any, cluster: str, arns: Sequence[str]) -> None:
    for arn in arns:
        try:
            ecs.stop_task(cluster=cluster, task=arn, reason=STOP_REASON)
        except Exception:
            continue


def master_log_stream(task_arn: str) -> str:
    """awslogs names streams PREFIX/CONTAINER/TASK_ID; the prefix is the container name here."""
    return f"{LOCUST_CONTAINER}/{LOCUST_CONTAINER}/{task_arn.rsplit('/', 1)[-1]}"


def read_log_lines(logs: Any, group: str, stream: str) -> list[str]:
    lines: list[str] = []
    token: str | None = None
    for _ in range(1000):  # bounded: 1000 pages of up to 10,000 events
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            kwargs["nextToken"] = token
        try:
            page = logs.get_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return lines  # the stream appears with the container's first line

        lines += [event["message"] for event in page.get("events", [])]
        if page.get("nextForwardToken") in (None, token):
            break
        token = page["nextForwardToken"]
    return lines


@dataclass
class RunOutcome:
    master_task_arn: str
    worker_task_arns: list[str]
    workers: int
    log_lines: list[str]
    master_exit_code: int | None
    wall_s: float


def run_harness(
    ecs: Any,
    logs: Any,
    info: HarnessInfo,
    plan: RunPlan,
    *,
    say: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 10.0,
    ec2: Any = None,
) -> RunOutcome:
    """Master, then workers, then a bounded wait; raises AwsError (after stopping the tasks) on timeout."""
    from ..bench.aws_results import ResultsMissing, extract_results

    workers = plan.workers or info.default_workers
    env = {
        ROLE_ENV: MASTER_ROLE,
        "BENCH_USERS": str(plan.users),
        "BENCH_SPAWN_RATE": f"{plan.spawn_rate:g}",
        "BENCH_RUN_TIME_S": str(plan.duration_s),
        "BENCH_WORKERS": str(workers),
        "BENCH_WEB_UI": "true" if plan.web_ui else "false",
    }
    if plan.host:
        env["BENCH_TARGET"] = plan.host if plan.host.endswith("/") else plan.host + "/"
    key_env = {API_KEY_ENV: plan.api_key} if plan.api_key else {}
    env.update(key_env)
    started = clock()
    (master,) = _run(ecs, info, env, 1, public=plan.web_ui)
    say(f"Locust master started: {master}")
    started_tasks = [master]
    try:
        deadline = clock() + plan.start_timeout_s
        ip: str | None = None
        while ip is None:
            (task,) = _describe(ecs, info.cluster, [master])
            if task.get("lastStatus") == "STOPPED":
                raise AwsError(
                    f"the Locust master stopped before it ran: {task.get('stoppedReason', 'no reason given')}"
                )
            ip = eni_detail(task, "privateIPv4Address")
            if ip is None:
                if clock() > deadline:
                    raise AwsError(f"the Locust master got no IP address within {plan.start_timeout_s}s")
                sleep(poll_s)
        say(f"master private IP {ip}; starting {workers} worker(s)")
        if plan.web_ui and ec2 is not None:
            eni = eni_detail(task, "networkInterfaceId")
            if eni:
                described = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
                public_ip = (described[0].get("Association") or {}).get("PublicIp") if described else None
                if public_ip:
                    say(f"web UI: http://{public_ip}:{WEB_UI_PORT}/ (reachable from AllowedIngressCidr only)")
        worker_env = {ROLE_ENV: WORKER_ROLE, "BENCH_MASTER_HOST": ip, **key_env}
        worker_arns: list[str] = []
        for batch in range(0, workers, RUN_TASK_BATCH):
            count = min(RUN_TASK_BATCH, workers - batch)
            worker_arns += _run(ecs, info, worker_env, count)
        started_tasks += worker_arns
        timeout = plan.run_timeout_s()
        deadline = started + timeout
        last_say = clock()
        while True:
            (task,) = _describe(ecs, info.cluster, [master])
            if task.get("lastStatus") == "STOPPED":
                break
            if clock() > deadline:
                raise AwsError(f"the run did not finish within {timeout:.0f}s; its tasks were stopped")
            if clock() - last_say >= 30:
                last_say = clock()
                running = sum(t.get("lastStatus") == "RUNNING" for t in _describe(ecs, info.cluster, worker_arns))
                say(
                    f"  {clock() - started:5.0f}s: master {task.get('lastStatus')}, "
                    f"{running}/{workers} worker(s) running"
                )
            sleep(poll_s)
        exit_code = next(
            (c.get("exitCode") for c in task.get("containers", []) if c.get("name") == LOCUST_CONTAINER), None
        )
        say(f"master stopped (exit {exit_code}) after {clock() - started:.0f}s; reading its log")
    except BaseException:
        stop_tasks(ecs, info.cluster, started_tasks)
        raise
    stop_tasks(ecs, info.cluster, worker_arns)  # workers quit with the master; make sure
    stream = master_log_stream(master)
    deadline = clock() + plan.log_timeout_s
    while True:  # CloudWatch Logs may lag the task's stop by a few seconds
        lines = read_log_lines(logs, info.log_group, stream)
        try:
            extract_results(lines)
            break
        except ResultsMissing as exc:
            if clock() > deadline:
                raise AwsError(f"{exc} (log group {info.log_group}, stream {stream})") from None
            sleep(min(poll_s, 5.0))
    return RunOutcome(master, worker_arns, workers, lines, exit_code, clock() - started)
