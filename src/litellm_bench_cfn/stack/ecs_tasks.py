"""The ECS pieces both stacks build their Fargate tasks from: the main stack (compute.py) and the harness.

One definition each of: the Fargate task definition, a container whose entrypoint is replaced by a
script the template ships (the project's delivery: no image is built), the environment list, the
awslogs configuration, the HTTP health probe, the open-files ulimit, the rolling deployment, and the
start-script prelude that turns the injected master-key secret into LiteLLM's `sk-` key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from troposphere import GetAtt, Ref, Region, ecs, iam, logs

from ..names import CONFIG_INVALID_EXIT_CODE, MASTER_KEY_ENV, MASTER_KEY_SECRET_ENV
from ..spec import ROLLING_MAXIMUM_PERCENT

SHELL = ("/bin/sh", "-c")
NOFILE_LIMIT = 65536
"""Open files per container: a socket per connection (a proxied request holds two, a Locust user one)."""


def environment(values: Mapping[str, Any]) -> list[ecs.Environment]:
    """Plain environment variables, sorted by name (byte-stable renders)."""
    return [ecs.Environment(Name=k, Value=v) for k, v in sorted(values.items())]


def log_configuration(log_group: logs.LogGroup, prefix: str, *, non_blocking: bool = True) -> ecs.LogConfiguration:
    """awslogs into `log_group`, streams PREFIX/CONTAINER/TASK_ID.

    Non-blocking (the proxy's containers): a slow CloudWatch never stalls a request; under pressure
    lines beyond the 25 MB buffer are dropped. Blocking (the harness): the Locust master's results
    travel through its log, and a dropped line would lose the run.
    """
    options: dict[str, Any] = {
        "awslogs-group": Ref(log_group),
        "awslogs-region": Region,
        "awslogs-stream-prefix": prefix,
    }
    if non_blocking:
        options.update({"mode": "non-blocking", "max-buffer-size": "25m"})
    return ecs.LogConfiguration(LogDriver="awslogs", Options=options)


def http_health_check(
    port: int, path: str, *, interval_s: int, timeout_s: int, retries: int, start_period_s: int
) -> ecs.HealthCheck:
    """GET http://127.0.0.1:PORT/PATH with the image's python3; the probe's own timeout is a second below
    ECS's `Timeout`, so the probe reports its own failure before ECS cuts it off."""
    url = f"http://127.0.0.1:{port}{path}"
    probe = f"import urllib.request; urllib.request.urlopen('{url}', timeout={timeout_s - 1})"
    return ecs.HealthCheck(
        Command=["CMD-SHELL", f'python3 -c "{probe}" || exit 1'],
        Interval=interval_s,
        Timeout=timeout_s,
        Retries=retries,
        StartPeriod=start_period_s,
    )


def nofile_ulimits() -> list[ecs.Ulimit]:
    return [ecs.Ulimit(Name="nofile", SoftLimit=NOFILE_LIMIT, HardLimit=NOFILE_LIMIT)]


def script_container(
    name: str, image: str, script: str, *, essential: bool, interpreter: Sequence[str] = SHELL, **properties: Any
) -> ecs.ContainerDefinition:
    """A container of a public, pinned image whose entrypoint is `interpreter SCRIPT`: the script travels in
    the task definition (`sh -c` unless `interpreter` says otherwise)."""
    return ecs.ContainerDefinition(
        Name=name, Image=image, Essential=essential, EntryPoint=list(interpreter), Command=[script], **properties
    )


def master_key_secret(value_from: object) -> ecs.Secret:
    """The generated master key (without its `sk-` prefix), injected by ECS from Secrets Manager."""
    return ecs.Secret(Name=MASTER_KEY_SECRET_ENV, ValueFrom=value_from)


def master_key_prelude() -> str:
    """sh lines: refuse an empty injected secret (exit 78), export LiteLLM's key `sk-SECRET`, drop the secret."""
    return (
        f'if [ -z "${{{MASTER_KEY_SECRET_ENV}:-}}" ]; then echo "litellm-bench-cfn:'
        f' {MASTER_KEY_SECRET_ENV} is empty" >&2; exit {CONFIG_INVALID_EXIT_CODE}; fi\n'
        f'export {MASTER_KEY_ENV}="sk-${MASTER_KEY_SECRET_ENV}"\n'
        f"unset {MASTER_KEY_SECRET_ENV}\n"
    )


def fargate_task_definition(
    title: str,
    *,
    cpu: object,
    memory: object,
    execution_role: iam.Role,
    containers: list[ecs.ContainerDefinition],
    task_role: iam.Role | None = None,
    volumes: list[ecs.Volume] | None = None,
) -> ecs.TaskDefinition:
    """An x86-64 Linux Fargate task definition (awsvpc); a task role only where one is given."""
    optional: dict[str, Any] = {}
    if task_role is not None:
        optional["TaskRoleArn"] = GetAtt(task_role, "Arn")
    if volumes:
        optional["Volumes"] = volumes
    return ecs.TaskDefinition(
        title,
        RequiresCompatibilities=["FARGATE"],
        NetworkMode="awsvpc",
        Cpu=cpu,
        Memory=memory,
        RuntimePlatform=ecs.RuntimePlatform(CpuArchitecture="X86_64", OperatingSystemFamily="LINUX"),
        ExecutionRoleArn=GetAtt(execution_role, "Arn"),
        ContainerDefinitions=containers,
        **optional,
    )


def rolling_deployment(maximum_percent: int = ROLLING_MAXIMUM_PERCENT) -> ecs.DeploymentConfiguration:
    """Full capacity during a rollout, and back to the last good revision if the new one fails."""
    return ecs.DeploymentConfiguration(
        MinimumHealthyPercent=100,
        MaximumPercent=maximum_percent,
        DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
    )
