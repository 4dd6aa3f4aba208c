"""ECS cluster, the LiteLLM Fargate task definition and the service behind the load balancer."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Join, Ref, Region, Template, ecs, logs

from .. import proxy_config
from ..spec import BenchmarkSpec
from .database import Database
from .iam import Roles
from .load_balancer import LoadBalancer
from .network import Network
from .parameters import Parameters
from .redis import Redis
from .secrets import Secrets
from .security_groups import SecurityGroups
from .service_discovery import ServiceDiscovery

PROXY_CONTAINER = "litellm"
MIGRATIONS_CONTAINER = "migrations"


@dataclass(frozen=True)
class Compute:
    cluster: ecs.Cluster
    task_definition: ecs.TaskDefinition
    service: ecs.Service


def _health_check_command(spec: BenchmarkSpec) -> list[str]:
    url = f"http://127.0.0.1:{spec.litellm.port}{spec.container_health_check.path}"
    probe = (
        f"import urllib.request; urllib.request.urlopen('{url}', timeout={spec.container_health_check.timeout_s - 1})"
    )
    return ["CMD-SHELL", f'python3 -c "{probe}" || exit 1']


def database_host(database: Database) -> Join:
    """host:port: LiteLLM reads no DATABASE_PORT; the port belongs in DATABASE_HOST."""
    return Join(":", [GetAtt(database.instance, "Endpoint.Address"), GetAtt(database.instance, "Endpoint.Port")])


def rolling_deployment(maximum_percent: int = 200) -> ecs.DeploymentConfiguration:
    """Full capacity during a rollout, and back to the last good revision if the new one fails."""
    return ecs.DeploymentConfiguration(
        MinimumHealthyPercent=100,
        MaximumPercent=maximum_percent,
        DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
    )


def _log_configuration(log_group: logs.LogGroup, prefix: str) -> ecs.LogConfiguration:
    return ecs.LogConfiguration(
        LogDriver="awslogs",
        Options={
            "awslogs-group": Ref(log_group),
            "awslogs-region": Region,
            "awslogs-stream-prefix": prefix,
            "mode": "non-blocking",
            "max-buffer-size": "25m",
        },
    )


def migrations_container(
    spec: BenchmarkSpec, secrets: Secrets, database: Database, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    """`litellm --skip_server_startup`: runs LiteLLM's prisma migrations, then exits 0.

    Design (issue #8): an init container in the proxy's own task, not a one-off task run by a custom
    resource. It needs no Lambda, no extra IAM and no second task definition, and it runs on every
    deploy because every new task revision starts with it. It runs once per TASK, not once per
    deploy: when 4 tasks start together, 4 migrations start together. That is safe because LiteLLM's
    migrate step (`prisma migrate deploy`) takes a PostgreSQL advisory lock, so the runs queue and
    every run after the first finds nothing to apply. What the design buys is that a proxy never
    migrates while it serves: the proxy starts only after its migrations container exited 0
    (DependsOn SUCCESS) and itself runs with DISABLE_SCHEMA_UPDATE=true. A failed migration exits
    non-zero, the proxy never starts, the task stops and the deployment circuit breaker rolls back.
    No StartTimeout: a first migration of an empty database may take minutes, and a timeout would
    turn a slow migration into a rollback.
    """
    environment = {
        "DATABASE_HOST": database_host(database),
        "DATABASE_NAME": spec.database.database_name,
        "DATABASE_USERNAME": spec.database.master_username,
        "LITELLM_LOG": spec.litellm.log_level,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    return ecs.ContainerDefinition(
        Name=MIGRATIONS_CONTAINER,
        Image=spec.litellm.image,
        Essential=False,
        Command=["--skip_server_startup"],  # the image's entrypoint stays: docker/prod_entrypoint.sh
        Environment=[ecs.Environment(Name=k, Value=v) for k, v in sorted(environment.items())],
        Secrets=[ecs.Secret(Name="DATABASE_PASSWORD", ValueFrom=Ref(secrets.db_password))],
        LogConfiguration=_log_configuration(log_group, MIGRATIONS_CONTAINER),
    )


def proxy_container(
    spec: BenchmarkSpec,
    params: Parameters,
    secrets: Secrets,
    database: Database,
    log_group: logs.LogGroup,
    redis: Redis | None = None,
    discovery: ServiceDiscovery | None = None,
) -> ecs.ContainerDefinition:
    plain = proxy_config.container_environment(spec)
    if spec.migrations.mode == "init_container":
        plain["DISABLE_SCHEMA_UPDATE"] = "true"
    environment = [ecs.Environment(Name=k, Value=v) for k, v in sorted(plain.items())]
    environment += [
        ecs.Environment(Name="NUM_WORKERS", Value=Ref(params.workers)),
        ecs.Environment(Name="DATABASE_HOST", Value=database_host(database)),
        ecs.Environment(
            Name=proxy_config.API_BASE_ENV,
            Value=discovery.api_base(Ref(params.benchmark_api_base)) if discovery else Ref(params.benchmark_api_base),
        ),
    ]
    injected = [
        ecs.Secret(Name="DATABASE_PASSWORD", ValueFrom=Ref(secrets.db_password)),
        ecs.Secret(Name="LITELLM_SALT_KEY", ValueFrom=Ref(secrets.salt_key)),
        ecs.Secret(Name=proxy_config.MASTER_KEY_SECRET_ENV, ValueFrom=Ref(secrets.master_key)),
    ]
    if redis is not None:
        environment += redis.environment()
        injected += redis.secrets()
    depends = []
    if spec.migrations.mode == "init_container":
        depends = [ecs.ContainerDependency(ContainerName=MIGRATIONS_CONTAINER, Condition="SUCCESS")]
    chc = spec.container_health_check
    return ecs.ContainerDefinition(
        Name=PROXY_CONTAINER,
        Image=spec.litellm.image,
        Essential=True,
        EntryPoint=["/bin/sh", "-c"],
        Command=[proxy_config.start_script(spec)],
        PortMappings=[ecs.PortMapping(ContainerPort=spec.litellm.port, Protocol="tcp")],
        Environment=sorted(environment, key=lambda e: e.Name),
        Secrets=injected,
        **({"DependsOn": depends} if depends else {}),
        HealthCheck=ecs.HealthCheck(
            Command=_health_check_command(spec),
            Interval=chc.interval_s,
            Timeout=chc.timeout_s,
            Retries=chc.retries,
            StartPeriod=chc.start_period_s,
        ),
        Ulimits=[ecs.Ulimit(Name="nofile", SoftLimit=65536, HardLimit=65536)],
        StopTimeout=spec.high_throughput.stop_timeout_s or 30,
        LogConfiguration=_log_configuration(log_group, "litellm"),
    )


COLLECTOR_CONTAINER = "collector"


def collector_container(
    proxy: ecs.ContainerDefinition, spec: BenchmarkSpec, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    """LiteLLM's spend-collector sidecar: the proxy's image, environment and secrets, its own process.

    It shares the task's network namespace (awsvpc), so the workers reach it, and it reaches the
    proxy container's PgBouncer, on 127.0.0.1 as in a Kubernetes pod. Essential: a dead collector
    would make every worker fall back to in-process spend tracking unnoticed."""
    environment = [e for e in proxy.Environment if e.Name != "LITELLM_COLLECTOR_ENABLED"]
    environment.append(ecs.Environment(Name="LITELLM_JOB_ROLE", Value="collector"))
    return ecs.ContainerDefinition(
        Name=COLLECTOR_CONTAINER,
        Image=spec.litellm.image,
        Essential=True,
        EntryPoint=["/bin/sh", "-c"],
        Command=[proxy_config.collector_start_script(spec)],
        Environment=sorted(environment, key=lambda e: e.Name),
        Secrets=proxy.Secrets,
        DependsOn=[ecs.ContainerDependency(ContainerName=PROXY_CONTAINER, Condition="START")],
        StopTimeout=spec.high_throughput.stop_timeout_s or 30,
        LogConfiguration=_log_configuration(log_group, COLLECTOR_CONTAINER),
    )


def add_compute(
    template: Template,
    spec: BenchmarkSpec,
    params: Parameters,
    network: Network,
    groups: SecurityGroups,
    balancer: LoadBalancer,
    database: Database,
    secrets: Secrets,
    roles: Roles,
    log_group: logs.LogGroup,
    redis: Redis | None = None,
    discovery: ServiceDiscovery | None = None,
) -> Compute:
    containers = [proxy_container(spec, params, secrets, database, log_group, redis, discovery)]
    if spec.high_throughput.spend_collector:
        containers.append(collector_container(containers[0], spec, log_group))
    if spec.migrations.mode == "init_container":
        containers.insert(0, migrations_container(spec, secrets, database, log_group))
    cluster = template.add_resource(
        ecs.Cluster("Cluster", ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")])
    )
    task_definition = template.add_resource(
        ecs.TaskDefinition(
            "ProxyTaskDefinition",
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=Ref(params.task_cpu),
            Memory=Ref(params.task_memory),
            RuntimePlatform=ecs.RuntimePlatform(CpuArchitecture="X86_64", OperatingSystemFamily="LINUX"),
            ExecutionRoleArn=GetAtt(roles.execution, "Arn"),
            TaskRoleArn=GetAtt(roles.task, "Arn"),
            ContainerDefinitions=containers,
        )
    )
    service = template.add_resource(
        ecs.Service(
            "ProxyService",
            DependsOn=balancer.listener,
            Cluster=Ref(cluster),
            TaskDefinition=Ref(task_definition),
            DesiredCount=Ref(params.desired_count),
            LaunchType="FARGATE",
            PlatformVersion="LATEST",
            PropagateTags="SERVICE",
            # A real start: migrations (init container or in the proxy), then workers booting.
            HealthCheckGracePeriodSeconds=spec.container_health_check.start_period_s
            + spec.migrations.expected_duration_s,
            DeploymentConfiguration=rolling_deployment(spec.high_throughput.deployment_maximum_percent or 200),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=[Ref(s) for s in network.private_subnets],
                    SecurityGroups=[Ref(groups.tasks)],
                )
            ),
            LoadBalancers=[
                ecs.LoadBalancer(
                    ContainerName=PROXY_CONTAINER,
                    ContainerPort=spec.litellm.port,
                    TargetGroupArn=Ref(balancer.target_group),
                )
            ],
        )
    )
    return Compute(cluster=cluster, task_definition=task_definition, service=service)
