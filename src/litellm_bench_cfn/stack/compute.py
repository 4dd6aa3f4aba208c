"""ECS cluster, the LiteLLM Fargate task definition and the service behind the load balancer."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Region, Template, ecs, logs

from .. import proxy_config
from ..spec import BenchmarkSpec
from .database import Database
from .iam import Roles
from .load_balancer import LoadBalancer
from .network import Network
from .parameters import Parameters
from .secrets import Secrets
from .security_groups import SecurityGroups

PROXY_CONTAINER = "litellm"


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


def proxy_container(
    spec: BenchmarkSpec, params: Parameters, secrets: Secrets, database: Database, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    plain = proxy_config.container_environment(spec)
    environment = [ecs.Environment(Name=k, Value=v) for k, v in sorted(plain.items())]
    environment += [
        ecs.Environment(Name="NUM_WORKERS", Value=Ref(params.workers)),
        ecs.Environment(Name="DATABASE_HOST", Value=GetAtt(database.instance, "Endpoint.Address")),
        ecs.Environment(Name=proxy_config.API_BASE_ENV, Value=Ref(params.benchmark_api_base)),
    ]
    chc = spec.container_health_check
    return ecs.ContainerDefinition(
        Name=PROXY_CONTAINER,
        Image=spec.litellm.image,
        Essential=True,
        EntryPoint=["/bin/sh", "-c"],
        Command=[proxy_config.start_script(spec)],
        PortMappings=[ecs.PortMapping(ContainerPort=spec.litellm.port, Protocol="tcp")],
        Environment=sorted(environment, key=lambda e: e.Name),
        Secrets=[
            ecs.Secret(Name="DATABASE_PASSWORD", ValueFrom=Ref(secrets.db_password)),
            ecs.Secret(Name="LITELLM_SALT_KEY", ValueFrom=Ref(secrets.salt_key)),
            ecs.Secret(Name=proxy_config.MASTER_KEY_SECRET_ENV, ValueFrom=Ref(secrets.master_key)),
        ],
        HealthCheck=ecs.HealthCheck(
            Command=_health_check_command(spec),
            Interval=chc.interval_s,
            Timeout=chc.timeout_s,
            Retries=chc.retries,
            StartPeriod=chc.start_period_s,
        ),
        Ulimits=[ecs.Ulimit(Name="nofile", SoftLimit=65536, HardLimit=65536)],
        StopTimeout=30,
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Region,
                "awslogs-stream-prefix": "litellm",
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        ),
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
) -> Compute:
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
            ContainerDefinitions=[proxy_container(spec, params, secrets, database, log_group)],
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
            HealthCheckGracePeriodSeconds=spec.container_health_check.start_period_s,
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                MinimumHealthyPercent=100,
                MaximumPercent=200,
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
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
