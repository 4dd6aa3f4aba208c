"""build_harness_template(spec, sources): the in-VPC benchmark harness, a second stack (issue #7).

Launched next to the main stack for a benchmark and deleted afterwards, it reads the main stack's
values through its exports (stack/exports.py) named after the `ProxyStackName` parameter:

- the fake OpenAI endpoint: an ECS service in the main cluster's private subnets, registered in the
  main stack's Cloud Map namespace as `fake-openai` (A records), reachable on 8080 from the proxy
  tasks' security group only; sized by the spec so it is never the bottleneck (spec rule);
- one Locust task definition (not a service: `bench aws` runs it on demand, once as the master and
  N times as a worker, the role a container override), the product's locustfile inside once, the
  master key from ECS Secrets, the main stack's ALB as target;
- a log group (the master prints its results there), a least-privilege execution role, security
  groups: Locust master/worker traffic within its own group, the optional web UI (8089) from
  `AllowedIngressCidr` only.

Pure like build_template: the code to ship comes in as `sources`, read by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import (
    GetAtt,
    ImportValue,
    Join,
    Output,
    Parameter,
    Ref,
    Split,
    Sub,
    Template,
    ec2,
    ecs,
    iam,
    logs,
    servicediscovery,
)

from ..spec import BenchmarkSpec
from ..stack import checkov, ecs_tasks
from ..stack import exports as x
from ..stack.console import console_interface
from ..stack.iam import execution_role
from ..stack.security_groups import security_group, tcp_ingress
from ..stack.service_discovery import FAKE_ENDPOINT_PORT, FAKE_ENDPOINT_SERVICE, IN_VPC_FAKE_ENDPOINT_URL
from . import scripts

DEFAULT_PROXY_STACK_NAME = "litellm-bench"  # scripts/deploy.sh and aws/launch.py's default
PYTHON_IMAGE = "public.ecr.aws/docker/library/python:3.12.11-slim-bookworm"
"""ECR Public's mirror of Docker's official image: no anonymous Docker Hub pull (rate-limited per NAT address)."""
FAKE_ENDPOINT_IMAGE = PYTHON_IMAGE
LOCUST_IMAGE = PYTHON_IMAGE  # the start script pip-installs harness_scripts.LOCUST_REQUIREMENT (not on ECR Public)
FAKE_CONTAINER = "fake-openai"
LOCUST_CONTAINER = "locust"
FAKE_TASK_DEFINITION = "FakeEndpointTaskDefinition"
LOCUST_TASK_DEFINITION = "LocustTaskDefinition"
LOCUST_TASK_DEFINITION_OUTPUT = "LocustTaskDefinition"
PARAMETER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Main stack", ("ProxyStackName",)),
    ("Harness sizing", ("FakeEndpointTasks", "LocustWorkers", "UpstreamLatencyMs")),
    ("Network and access", ("AllowedIngressCidr",)),
)
PARAMETER_LABELS: dict[str, str] = {
    "ProxyStackName": "Name of the main (proxy) stack",
    "FakeEndpointTasks": "Fake OpenAI endpoint tasks",
    "LocustWorkers": "Locust workers per run (default)",
    "UpstreamLatencyMs": "Upstream latency of the fake endpoint (ms)",
    "AllowedIngressCidr": "Who may open the Locust web UI",
}


@dataclass(frozen=True)
class Imports:
    """`Fn::ImportValue` of each main-stack export, by export key."""

    stack: Parameter

    def __call__(self, key: str) -> ImportValue:
        return ImportValue(x.export_name(Ref(self.stack), key))


def _log_configuration(log_group: logs.LogGroup, prefix: str) -> ecs.LogConfiguration:
    # Blocking: the master's results travel through its log (ecs_tasks.log_configuration).
    return ecs_tasks.log_configuration(log_group, prefix, non_blocking=False)


def _group(template: Template, title: str, description: str, imports: Imports) -> ec2.SecurityGroup:
    return security_group(template, title, description, imports(x.VPC_ID))


def _number_parameter(
    template: Template, title: str, default: int | float, bounds: tuple[int, int], description: str
) -> Parameter:
    low, high = bounds
    return template.add_parameter(
        Parameter(title, Type="Number", Default=default, MinValue=low, MaxValue=high, Description=description)
    )


def _task_definition(
    template: Template, title: str, cpu: int, memory: int, role: iam.Role, container: ecs.ContainerDefinition
) -> ecs.TaskDefinition:
    return template.add_resource(
        ecs_tasks.fargate_task_definition(
            title, cpu=str(cpu), memory=str(memory), execution_role=role, containers=[container]
        )
    )


def _locust_container(
    spec: BenchmarkSpec, sources: scripts.HarnessSources, imports: Imports, log_group: logs.LogGroup, workers: Parameter
) -> ecs.ContainerDefinition:
    """Master and workers in one container definition, so the locustfile travels once (the 64 KiB cap).

    Its environment is the master's defaults with BENCH_ROLE=master: `bench aws` (or a console user)
    runs it as is for the master and with BENCH_ROLE=worker plus BENCH_MASTER_HOST for each worker;
    a worker ignores the master's settings. Both ports are mapped: a worker opens none, and the
    security groups, not the mappings, decide who reaches a task (awsvpc)."""
    lt = spec.load_test
    plain: dict[str, Any] = {
        scripts.ROLE_ENV: scripts.MASTER_ROLE,
        scripts.LOCUST_CODE_ENV: scripts.encode_source(sources.locustfile),
        "BENCH_MASTER_PORT": str(scripts.MASTER_PORT),
        "BENCH_TARGET": Join("", ["http://", imports(x.LOAD_BALANCER_DNS), "/"]),
        "BENCH_USERS": str(lt.users),
        "BENCH_SPAWN_RATE": f"{lt.spawn_rate:g}",
        "BENCH_RUN_TIME_S": str(lt.duration_s),
        "BENCH_WORKERS": Ref(workers),
        "BENCH_MASTER_BIND": "*",
        "BENCH_WEB_UI": "false",
    }
    if spec.high_throughput.offered_rps is not None:
        # The high-throughput load: both files travel, and every Locust process runs high_throughput.py.
        plain[scripts.HIGH_THROUGHPUT_CODE_ENV] = scripts.encode_source(sources.high_throughput)
        plain[scripts.LOCUSTFILE_CHOICE_ENV] = "high_throughput.py"
    return ecs_tasks.script_container(
        LOCUST_CONTAINER,
        LOCUST_IMAGE,
        scripts.locust_script(),
        essential=True,
        Environment=ecs_tasks.environment(plain),
        Secrets=[ecs_tasks.master_key_secret(imports(x.MASTER_KEY_SECRET))],
        PortMappings=[
            ecs.PortMapping(ContainerPort=p, Protocol="tcp") for p in (scripts.MASTER_PORT, scripts.WEB_UI_PORT)
        ],
        Ulimits=ecs_tasks.nofile_ulimits(),
        LogConfiguration=_log_configuration(log_group, LOCUST_CONTAINER),
    )


def build_harness_template(spec: BenchmarkSpec, sources: scripts.HarnessSources) -> Template:
    h = spec.harness
    template = Template(
        Description=f"litellm-bench-cfn {spec.name} harness: in-VPC fake OpenAI endpoint and distributed Locust "
        "(launch after the main stack; delete after the benchmark)"
    )
    template.set_version("2010-09-09")
    template.set_metadata(console_interface(PARAMETER_GROUPS, PARAMETER_LABELS))
    stack = template.add_parameter(
        Parameter(
            "ProxyStackName",
            Type="String",
            Default=DEFAULT_PROXY_STACK_NAME,
            AllowedPattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$",
            Description="Name of the main (proxy) stack whose exports this stack imports.",
        )
    )
    cidr = template.add_parameter(
        Parameter(
            "AllowedIngressCidr",
            Type="String",
            Default=spec.network.allowed_ingress_cidr,
            AllowedPattern=r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$",
            Description="Who may open the Locust web UI (bench aws --web-ui); use the main stack's value.",
        )
    )
    fake_tasks = _number_parameter(
        template, "FakeEndpointTasks", h.fake_endpoint_tasks, (1, 20),
        f"Fake endpoint tasks (~{h.fake_endpoint_capacity_rps() // h.fake_endpoint_tasks} RPS each).",
    )  # fmt: skip
    workers = _number_parameter(
        template, "LocustWorkers", h.locust_workers, (1, 100),
        "Locust workers bench aws starts by default (~1,000 RPS each).",
    )  # fmt: skip
    upstream_latency = _number_parameter(
        template, "UpstreamLatencyMs", h.upstream_latency_ms, (0, 60000),
        "Milliseconds the fake endpoint waits before it answers, standing in for an upstream over the internet "
        f"({h.upstream_latency_ms}: the guide's 100 ms median less the proxy's share; 0: the proxy alone).",
    )  # fmt: skip
    imports = Imports(stack)

    log_group = template.add_resource(
        logs.LogGroup(
            "HarnessLogGroup",
            LogGroupName=Sub("/ecs/${AWS::StackName}"),
            RetentionInDays=spec.observability.log_retention_days,
            Metadata=checkov.skip("CKV_AWS_158"),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        )
    )
    # Public images: no ECR access. Only this stack's log group and the imported master-key secret.
    role = execution_role(
        template, "HarnessExecutionRole", "harness-task-execution", log_group, [imports(x.MASTER_KEY_SECRET)]
    )

    fake_group = _group(
        template, "FakeEndpointSecurityGroup", "Fake OpenAI endpoint: 8080 from the proxy tasks", imports
    )
    tcp_ingress(
        template, "FakeEndpointIngressFromProxy", fake_group, FAKE_ENDPOINT_PORT, "Fake endpoint from the proxy tasks",
        SourceSecurityGroupId=imports(x.TASK_SECURITY_GROUP),
    )  # fmt: skip
    locust_group = _group(template, "LocustSecurityGroup", "Locust master and workers", imports)
    tcp_ingress(
        template, "LocustMasterIngress", locust_group, scripts.MASTER_PORT, "Locust workers to the master",
        SourceSecurityGroupId=GetAtt(locust_group, "GroupId"),
    )  # fmt: skip
    web_group = _group(template, "LocustWebUiSecurityGroup", "Locust web UI from the allowed CIDR", imports)
    tcp_ingress(template, "LocustWebUiIngress", web_group, scripts.WEB_UI_PORT, "Locust web UI", CidrIp=Ref(cidr))

    fake_definition = _task_definition(
        template,
        FAKE_TASK_DEFINITION,
        h.fake_endpoint_cpu,
        h.fake_endpoint_memory,
        role,
        ecs_tasks.script_container(
            FAKE_CONTAINER,
            FAKE_ENDPOINT_IMAGE,
            scripts.fake_endpoint_script(),
            essential=True,
            Environment=ecs_tasks.environment(
                {
                    scripts.FAKE_CODE_ENV: scripts.encode_source(sources.fake_endpoint),
                    "FAKE_HOST": "0.0.0.0",
                    "FAKE_PORT": str(FAKE_ENDPOINT_PORT),
                    scripts.FAKE_DELAY_ENV: Ref(upstream_latency),
                }
            ),
            PortMappings=[ecs.PortMapping(ContainerPort=FAKE_ENDPOINT_PORT, Protocol="tcp")],
            HealthCheck=ecs_tasks.http_health_check(
                FAKE_ENDPOINT_PORT, "/health", interval_s=15, timeout_s=5, retries=3, start_period_s=30
            ),
            Ulimits=ecs_tasks.nofile_ulimits(),
            LogConfiguration=_log_configuration(log_group, FAKE_CONTAINER),
        ),
    )
    discovery = template.add_resource(
        servicediscovery.Service(
            "FakeEndpointDiscovery",
            Name=FAKE_ENDPOINT_SERVICE,
            NamespaceId=imports(x.NAMESPACE_ID),
            DnsConfig=servicediscovery.DnsConfig(
                DnsRecords=[servicediscovery.DnsRecord(Type="A", TTL=10)], RoutingPolicy="MULTIVALUE"
            ),
            HealthCheckCustomConfig=servicediscovery.HealthCheckCustomConfig(FailureThreshold=1),
        )
    )
    template.add_resource(
        ecs.Service(
            "FakeEndpointService",
            Cluster=imports(x.CLUSTER),
            TaskDefinition=Ref(fake_definition),
            DesiredCount=Ref(fake_tasks),
            LaunchType="FARGATE",
            PropagateTags="SERVICE",
            DeploymentConfiguration=ecs_tasks.rolling_deployment(),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=Split(",", imports(x.PRIVATE_SUBNETS)),
                    SecurityGroups=[GetAtt(fake_group, "GroupId")],
                )
            ),
            ServiceRegistries=[ecs.ServiceRegistry(RegistryArn=GetAtt(discovery, "Arn"))],
        )
    )

    locust = _task_definition(
        template, LOCUST_TASK_DEFINITION, h.locust_cpu, h.locust_memory, role,
        _locust_container(spec, sources, imports, log_group, workers),
    )  # fmt: skip

    # The cluster and subnets are the main stack's outputs (X<Key>): re-exporting an import is W6001.
    outputs = {
        "LocustSecurityGroup": ("Security group of every Locust task.", GetAtt(locust_group, "GroupId")),
        "WebUiSecurityGroup": ("Added to a web-UI master: 8089 from AllowedIngressCidr.", GetAtt(web_group, "GroupId")),
        LOCUST_TASK_DEFINITION_OUTPUT: ("Locust task definition: master and workers (BENCH_ROLE).", Ref(locust)),
        "LogGroupName": ("Logs of the harness; the master prints its results here.", Ref(log_group)),
        "LocustWorkers": ("Default number of Locust workers.", Ref(workers)),
        "FakeEndpointUrl": ("The fake endpoint inside the VPC.", IN_VPC_FAKE_ENDPOINT_URL),
        "UpstreamLatencyMs": ("Delay of the fake endpoint's answers (bench aws records it).", Ref(upstream_latency)),
        "BenchCommand": (
            "Runs the benchmark and pulls the results back (from the repository).",
            Sub("litellm-bench-cfn bench aws --stack-name ${ProxyStackName} --harness-stack-name ${AWS::StackName} "
                "--region ${AWS::Region}"),
        ),
    }  # fmt: skip
    for name, (description, value) in outputs.items():
        template.add_output(Output(name, Description=description, Value=value))
    return template
