"""The benchmark spec: every default and every cross-field rule of the stack lives here.

The defaults ARE LiteLLM's published benchmark ("1K RPS load test"): 4 Fargate tasks of 4 vCPU /
8 GB with 4 proxy workers each, PostgreSQL on db.r6g.xlarge with 200 GB gp3, batch writes every
60 s, the `fake-openai-endpoint` model. A spec file only lists what differs from them.

Field errors (types, bounds, unknown keys) come from pydantic; rules that involve several fields
are collected by `spec_rule_violations` so a user sees every broken rule at once, each as
`field.path: what is wrong; what to do`.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from . import catalog
from .versions import LITELLM_IMAGE_REPOSITORY, LITELLM_IMAGE_TAG, POSTGRES_ENGINE_VERSION

BENCHMARK_API_BASE = "benchmark-endpoint"
"""Sentinel `api_base`: the model talks to the benchmark's fake OpenAI endpoint, whose URL is a
stack parameter (and, locally, the endpoint `bench local` starts)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Port = Annotated[int, Field(ge=1, le=65535)]
Cidr = Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")]
HealthPath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_\-.]*$", max_length=1024)]


SECRET_ENV_NAME = r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$"
SECRETS_MANAGER_ARN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$"


class ProviderKeySecret(_Model):
    """A real provider key: kept in Secrets Manager, injected by ECS `Secrets` into `env`, read by the
    LiteLLM config as `os.environ/<env>`. Never written into the template."""

    env: Annotated[str, Field(pattern=SECRET_ENV_NAME, max_length=64)] = Field(
        description="Environment variable the proxy receives the key in, e.g. OPENAI_API_KEY."
    )
    arn: str = Field(
        "",
        description="Full ARN of an existing secret (with its 6-character suffix); empty = the stack creates "
        "the secret <stack>/provider-key/<env> and you put the key in after the stack is created.",
    )


class LiteLLMParams(_Model):
    model: str = Field("openai/any", description="LiteLLM provider/model string.")
    api_key: str = Field("test", description="Key sent upstream; the fake endpoint accepts anything.")
    api_key_secret: ProviderKeySecret | None = Field(
        None, description="Where a real provider key comes from (Secrets Manager); then leave api_key out."
    )
    api_base: str = Field(
        BENCHMARK_API_BASE,
        description=f"Upstream base URL, or `{BENCHMARK_API_BASE}` for the stack's fake OpenAI endpoint.",
    )
    rpm: Annotated[int, Field(ge=1)] | None = Field(None, description="Deployment RPM quota for routing.")
    mock_response: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        None,
        description="LiteLLM's in-process mock: the proxy answers this text itself (streamed when asked) and "
        "never calls api_base; what LiteLLM's high-throughput benchmark used.",
    )


class ModelDeployment(_Model):
    model_name: Annotated[str, Field(min_length=1, max_length=128)] = "fake-openai-endpoint"
    litellm_params: LiteLLMParams = LiteLLMParams()


class LiteLLMSpec(_Model):
    image_repository: str = LITELLM_IMAGE_REPOSITORY
    image_tag: Annotated[str, Field(min_length=1, max_length=128)] = LITELLM_IMAGE_TAG
    port: Port = Field(4000, description="Container port the proxy listens on.")
    workers: Annotated[int, Field(ge=1, le=64)] = Field(4, description="Proxy worker processes per task.")
    timeout_worker_healthcheck: Annotated[int, Field(ge=1, le=600)] = Field(
        60, description="Seconds uvicorn waits for a booting worker (several workers need ~60)."
    )
    max_requests_before_restart: Annotated[int, Field(ge=1)] | None = None
    server: Literal["gunicorn", "uvicorn"] = Field(
        "uvicorn",
        description="Process manager of the workers. uvicorn: the only one whose keep-alive LiteLLM "
        "1.106.2 lets us set; gunicorn (refused) keeps idle connections 2 s, under the ALB's idle "
        "timeout, so the ALB would answer 502 (docs/performance.md, run 5).",
    )
    keepalive_timeout_s: Annotated[int, Field(ge=1, le=4000)] = Field(
        75,
        description="Seconds the proxy keeps an idle keep-alive connection (KEEPALIVE_TIMEOUT); must exceed "
        "load_balancer.idle_timeout_s (LiteLLM's high-throughput guide: 75).",
    )
    proxy_batch_write_at: Annotated[int, Field(ge=1, le=3600)] = Field(
        60, description="Seconds between batched spend writes to the DB (guide: 60)."
    )
    store_model_in_db: bool = True
    database_connection_pool_limit: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        None,
        description="DB connections per worker; unset = the DB budget divided by max tasks x workers.",
    )
    log_level: Literal["ERROR", "WARNING", "INFO"] = Field(
        "ERROR", description="LITELLM_LOG. DEBUG is refused: it cuts throughput ~17x."
    )
    disable_spend_logs: bool = False
    disable_error_logs: bool = False
    disable_cooldowns: bool | None = Field(
        None,
        description="router_settings.disable_cooldowns. Unset: true when every model name has a single "
        "deployment (a cooldown there has nowhere else to route: one upstream 404 made the next calls answer "
        "429 for ~5 s), LiteLLM's cooldowns when a model name has several deployments to fail over to.",
    )
    models: Annotated[tuple[ModelDeployment, ...], Field(min_length=1)] = (ModelDeployment(),)

    @property
    def cooldowns_disabled(self) -> bool:
        if self.disable_cooldowns is not None:
            return self.disable_cooldowns
        names = [m.model_name for m in self.models]
        return len(names) == len(set(names))

    @property
    def image(self) -> str:
        return f"{self.image_repository}:{self.image_tag}"


class TaskSpec(_Model):
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(4096, description="Fargate CPU units.")
    memory: Annotated[int, Field(ge=512, le=122880)] = Field(8192, description="Fargate memory (MiB).")
    desired_count: Annotated[int, Field(ge=1, le=100)] = 4


class ScalingSpec(_Model):
    enabled: bool = Field(
        False,
        description="CPU target-tracking autoscaling between min_tasks and max_tasks. Off (the benchmark): a "
        "fixed fleet of tasks.desired_count, since target tracking shrinks an idle stack to min_tasks before "
        "a run and grows it during one. Profiles for real use (dev, production) turn it on.",
    )
    min_tasks: Annotated[int, Field(ge=1, le=100)] = 2
    max_tasks: Annotated[int, Field(ge=1, le=100)] = 10
    cpu_target_percent: Annotated[float, Field(ge=10, le=90)] = 70.0
    scale_in_cooldown_s: Annotated[int, Field(ge=0, le=3600)] = 300
    scale_out_cooldown_s: Annotated[int, Field(ge=0, le=3600)] = 60


class DatabaseSpec(_Model):
    engine_version: Annotated[str, Field(pattern=r"^\d+(\.\d+)?$")] = Field(
        POSTGRES_ENGINE_VERSION,
        description="RDS PostgreSQL version: a major (RDS picks a supported minor, minors upgrade "
        "automatically) or major.minor; the parameter group family follows its major (versions.py).",
    )
    instance_class: str = "db.r6g.xlarge"
    allocated_storage_gib: Annotated[int, Field(ge=20, le=65536)] = 200
    storage_type: Literal["gp2", "gp3", "io1", "io2"] = "gp3"
    iops: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Provisioned IOPS; gp3 below 400 GiB has a fixed 3,000 baseline and takes none."
    )
    storage_throughput_mibps: Annotated[int, Field(ge=1)] | None = None
    backup_retention_days: Annotated[int, Field(ge=1, le=35)] = 7
    max_connections: Annotated[int, Field(ge=20, le=5000)] = Field(
        500, description="PostgreSQL max_connections (DB parameter group)."
    )
    reserved_connections: Annotated[int, Field(ge=0)] = Field(
        50, description="Connections kept free of the proxies' pools: migrations, admin, monitoring."
    )
    multi_az: bool = False
    deletion_protection: bool = False
    database_name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")] = "litellm"
    master_username: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")] = "litellm"

    @property
    def instance(self) -> catalog.DbInstanceClass:
        return catalog.DB_INSTANCE_CLASSES[self.instance_class]

    @property
    def parameter_group_family(self) -> str:
        """Derived from engine_version: a parameter group of another major cannot attach."""
        return f"postgres{self.engine_version.split('.')[0]}"


class NetworkSpec(_Model):
    vpc_cidr: Cidr = "10.0.0.0/16"
    public_subnets: tuple[Cidr, Cidr] = ("10.0.1.0/24", "10.0.2.0/24")
    private_subnets: tuple[Cidr, Cidr] = ("10.0.11.0/24", "10.0.12.0/24")
    allowed_ingress_cidr: Cidr = Field("0.0.0.0/0", description="Who may reach the load balancer.")
    nat_gateways: Literal[1, 2] = Field(
        1,
        description="1: one NAT gateway for both AZs (cheaper; an outage of its AZ cuts every task's image "
        "pulls, secrets, logs and upstream calls); 2: one per AZ, each private subnet routed through its own.",
    )


class HealthCheckSpec(_Model):
    path: HealthPath
    interval_s: Annotated[int, Field(ge=5, le=300)] = 30
    timeout_s: Annotated[int, Field(ge=2, le=120)] = 10
    healthy_threshold: Annotated[int, Field(ge=2, le=10)] = 2
    unhealthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3


class ContainerHealthCheckSpec(_Model):
    path: HealthPath = "/health/liveliness"
    interval_s: Annotated[int, Field(ge=5, le=300)] = 30
    timeout_s: Annotated[int, Field(ge=2, le=60)] = 5
    retries: Annotated[int, Field(ge=1, le=10)] = 3
    start_period_s: Annotated[int, Field(ge=0, le=300)] = 120


class LoadBalancerSpec(_Model):
    health_check: HealthCheckSpec = HealthCheckSpec(path="/health/readiness")
    idle_timeout_s: Annotated[int, Field(ge=1, le=4000)] = 60
    deregistration_delay_s: Annotated[int, Field(ge=0, le=3600)] = 30


class ObservabilitySpec(_Model):
    log_retention_days: int = 7


class MigrationsSpec(_Model):
    """How the LiteLLM DB schema is migrated on a deploy (see stack/compute.py for the design)."""

    mode: Literal["init_container", "in_proxy"] = Field(
        "init_container",
        description="init_container: a non-essential `migrations` container runs `--skip_server_startup` "
        "(rerun while it exits 1, see attempts) before the proxy starts, and the proxy runs with "
        "DISABLE_SCHEMA_UPDATE=true; in_proxy: every "
        "proxy migrates at start (LiteLLM's default).",
    )
    expected_duration_s: Annotated[int, Field(ge=0, le=1800)] = Field(
        120, description="Seconds a migration may take; added to the service's health-check grace period."
    )
    attempts: Annotated[int, Field(ge=1, le=20)] = Field(
        6,
        description="init_container: runs of `--skip_server_startup` before the task fails. A run that exits 1 "
        "(LiteLLM's rerunnable 'Database setup failed', e.g. another task holds its index-build lock) is rerun; "
        "any other failure is not.",
    )
    retry_delay_s: Annotated[int, Field(ge=1, le=60)] = Field(
        5,
        description="init_container: seconds before the first rerun, doubled before each further one up to "
        "retry_delay_max_s; every wait is jittered to 50-100 % so tasks that failed together rerun apart.",
    )
    retry_delay_max_s: Annotated[int, Field(ge=1, le=300)] = Field(
        30, description="init_container: the longest wait between two runs."
    )

    @property
    def retry_wait_budget_s(self) -> int:
        """The longest the migrations container may sleep between runs, all reruns together."""
        return sum(min(self.retry_delay_max_s, self.retry_delay_s * 2**rerun) for rerun in range(self.attempts - 1))


class HttpsSpec(_Model):
    certificate_arn: str = Field(
        "", description="Default of the CertificateArn parameter; empty = HTTP only (port 80)."
    )
    ssl_policy: str = Field("ELBSecurityPolicy-TLS13-1-2-2021-06", description="ALB TLS policy of the HTTPS listener.")


class AlarmsSpec(_Model):
    """Seed 003's recommended alarms; thresholds here, the alarm table in stack/alarms.py."""

    enabled: bool = True
    email: str = Field("", description="Default of the AlarmEmail parameter; empty = no e-mail subscription.")
    http_5xx_percent: Annotated[float, Field(gt=0, le=100)] = Field(
        1.0, description="5xx responses as a percentage of requests."
    )
    p95_latency_ms: Annotated[int, Field(ge=1, le=600_000)] = 500
    min_healthy_hosts: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None, description="Alarm below this many healthy tasks; unset = 2 (seed 003), or scaling.min_tasks if lower."
    )
    db_cpu_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    db_connections_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        0.9, description="Alarm when DB connections exceed this fraction of database.max_connections."
    )
    period_s: Literal[10, 30, 60, 300] = 60
    evaluation_periods: Annotated[int, Field(ge=1, le=60)] = 5
    datapoints_to_alarm: Annotated[int, Field(ge=1, le=60)] = 3

    def db_connections_threshold(self, max_connections: int) -> int:
        return int(max_connections * self.db_connections_fraction)


class RedisSpec(_Model):
    """Optional ElastiCache Redis for cross-instance rate limits and usage (never response caching)."""

    enabled: bool = False
    node_type: Annotated[str, Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")] = "cache.t4g.medium"
    engine_version: str = "7.1"
    replicas: Annotated[int, Field(ge=0, le=5)] = Field(
        1, description="Read replicas besides the primary; 1+ enables automatic failover across AZs."
    )
    port: Port = 6379


class LoadTestSpec(_Model):
    """The guide's Locust shape, recorded so reports and outputs quote what was run."""

    users: Annotated[int, Field(ge=1, le=100_000)] = 1000
    spawn_rate: Annotated[float, Field(gt=0)] = 500
    duration_s: Annotated[int, Field(ge=1, le=86_400)] = 300


ROLLING_MAXIMUM_PERCENT = 200
"""The service's rolling deployment (stack/compute.py) may run this share of the desired count at once."""


class HighThroughputSpec(_Model):
    """LiteLLM's high-throughput deployment profile (docs `proxy/high_throughput`, Helm chart 1.104.2)
    translated to ECS Fargate. Every switch is off by default, so other profiles render unchanged;
    profiles/high-throughput.yaml turns them on and says where ECS differs from Kubernetes."""

    pgbouncer: bool = Field(
        False,
        description="LiteLLM's in-container PgBouncer (LITELLM_PGBOUNCER_ENABLED, litellm/proxy/db/pgbouncer.py): "
        "transaction pooling on the task's loopback, DATABASE_URL rewritten with pgbouncer=true for Prisma.",
    )
    pgbouncer_max_db_connections: Annotated[int, Field(ge=1, le=100)] = Field(
        8, description="PostgreSQL connections per task, shared by every worker (Helm profile: 8 per pod)."
    )
    pgbouncer_max_client_conn: Annotated[int, Field(ge=1, le=100_000)] = Field(
        1000, description="Client connections PgBouncer accepts from the workers (Helm profile: 1000)."
    )
    spend_collector: bool = Field(
        False,
        description="A `collector` sidecar container (python -m litellm.proxy.collector) that runs the spend "
        "pipeline; the workers push events to it over loopback (LITELLM_COLLECTOR_ENABLED).",
    )
    collector_port: Port = 4002
    metrics_port: Port | None = Field(
        None,
        description="--prometheus_metrics_port: LiteLLM serves /metrics from its own process on this port, "
        "so a scrape never runs on an inference worker (unset: off).",
    )
    prometheus_callback: bool = Field(False, description="litellm_settings.callbacks: [prometheus].")
    json_logs: bool = Field(False, description="litellm_settings.json_logs: true.")
    use_redis_transaction_buffer: bool = Field(
        False, description="general_settings.use_redis_transaction_buffer: spend updates queue in Redis."
    )
    request_timeout_s: Annotated[int, Field(ge=1, le=3600)] | None = Field(
        None, description="litellm_settings.request_timeout (Helm profile: 600)."
    )
    stop_timeout_s: Annotated[int, Field(ge=2, le=120)] | None = Field(
        None, description="Container StopTimeout: Fargate's cap is 120 s (Helm profile: 620 s grace)."
    )
    deployment_maximum_percent: Annotated[int, Field(ge=100, le=200)] | None = Field(
        None, description="Rolling-update surge (Helm maxSurge 25 % = 125); minimum stays 100 (no capacity dip)."
    )
    requests_per_target_per_s: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description="Also scale on ALBRequestCountPerTarget (requests/s per task; Helm profile: 83).",
    )
    offered_rps: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Requests/s the benchmark offers (3,000): sizes the ALB/NAT/task bandwidth checks."
    )
    request_kib: Annotated[int, Field(ge=1, le=10_240)] = Field(
        300, description="Average request size in KiB (50K-100K-token prompts: ~300)."
    )


FAKE_ENDPOINT_RPS_PER_TASK = 5_000
"""Conservative capacity of one fake-endpoint task (one asyncio process on 1 vCPU); measured
~13,500 RPS per core on loopback. The process is single-threaded: more CPU per task adds nothing."""
LOCUST_RPS_PER_WORKER = 1_000
"""Conservative requests/s one Locust worker (FastHttpUser, one core) offers; measured ~1,300."""
PROXY_RPS_PER_WORKER = 75
"""Requests/s one LiteLLM worker serves at the guide's shape (measured 70-80)."""


class HarnessSpec(_Model):
    """The in-VPC benchmark harness: a second template (`*-harness.yaml`) holding the fake OpenAI
    endpoint as an ECS service and Locust master/worker task definitions run on demand."""

    enabled: bool = Field(
        True, description="Render the harness template and the main stack's hooks for it (off: no harness)."
    )
    in_vpc_fake_endpoint: bool = Field(
        True, description="Default of the main stack's InVpcFakeEndpoint parameter (api_base = the harness's)."
    )
    fake_endpoint_tasks: Annotated[int, Field(ge=1, le=20)] = 2
    upstream_latency_ms: Annotated[int, Field(ge=0, le=60_000)] = Field(
        95,
        description="Default of the harness's UpstreamLatencyMs: the fake endpoint answers after this delay. "
        "95 stands in for the guide's upstream, a public host over the internet: the guide's 100 ms median "
        "less the ~5 ms the proxy and the in-VPC hops add (docs/aws-benchmark.md). 0 measures the proxy alone.",
    )
    fake_endpoint_cpu: Literal[256, 512, 1024, 2048, 4096] = 1024
    fake_endpoint_memory: Annotated[int, Field(ge=512, le=30720)] = 2048
    locust_workers: Annotated[int, Field(ge=1, le=100)] = Field(
        4, description="Default worker count of `bench aws` (one Locust process, ~1,000 RPS, per worker task)."
    )
    locust_cpu: Literal[256, 512, 1024, 2048, 4096] = 1024
    locust_memory: Annotated[int, Field(ge=512, le=30720)] = 2048

    def fake_endpoint_capacity_rps(self) -> int:
        return self.fake_endpoint_tasks * FAKE_ENDPOINT_RPS_PER_TASK * min(self.fake_endpoint_cpu, 1024) // 1024


class BenchmarkSpec(_Model):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")] = "benchmark"
    description: str = "LiteLLM proxy on ECS Fargate, sized as LiteLLM's published 1K RPS benchmark"
    litellm: LiteLLMSpec = LiteLLMSpec()
    tasks: TaskSpec = TaskSpec()
    scaling: ScalingSpec = ScalingSpec()
    database: DatabaseSpec = DatabaseSpec()
    network: NetworkSpec = NetworkSpec()
    load_balancer: LoadBalancerSpec = LoadBalancerSpec()
    container_health_check: ContainerHealthCheckSpec = ContainerHealthCheckSpec()
    observability: ObservabilitySpec = ObservabilitySpec()
    load_test: LoadTestSpec = LoadTestSpec()
    migrations: MigrationsSpec = MigrationsSpec()
    https: HttpsSpec = HttpsSpec()
    alarms: AlarmsSpec = AlarmsSpec()
    redis: RedisSpec = RedisSpec()
    harness: HarnessSpec = HarnessSpec()
    high_throughput: HighThroughputSpec = HighThroughputSpec()

    @model_validator(mode="after")
    def _cross_field_rules(self) -> BenchmarkSpec:
        violations = spec_rule_violations(self)
        if violations:
            raise PydanticCustomError(
                "spec_rules",
                "{summary}",
                {"summary": "; ".join(f"{p}: {m}" for p, m in violations), "violations": violations},
            )
        return self

    @property
    def template_description(self) -> str:
        return f"litellm-bench-cfn {self.name}: {self.description}"

    @property
    def provider_key_secrets(self) -> tuple[ProviderKeySecret, ...]:
        """Every distinct provider-key secret the models name, in the order they first appear."""
        found: dict[str, ProviderKeySecret] = {}
        for deployment in self.litellm.models:
            secret = deployment.litellm_params.api_key_secret
            if secret is not None and secret.env not in found:
                found[secret.env] = secret
        return tuple(found.values())

    @property
    def db_connection_budget(self) -> int:
        return self.database.max_connections - self.database.reserved_connections

    @property
    def fewest_tasks(self) -> int:
        """Fewest tasks the service runs: the autoscaling minimum, or the fixed fleet."""
        return self.scaling.min_tasks if self.scaling.enabled else self.tasks.desired_count

    @property
    def most_tasks(self) -> int:
        """Most tasks the service is sized for: the autoscaling maximum, or the fixed fleet."""
        return self.scaling.max_tasks if self.scaling.enabled else self.tasks.desired_count

    @property
    def fewest_tasks_for_bandwidth(self) -> int:
        """Tasks the offered request bandwidth needs (1 without high_throughput.offered_rps)."""
        return max(1, math.ceil(request_gbitps(self) * 1000 / TASK_INGRESS_MBITPS))

    @property
    def rolling_maximum_percent(self) -> int:
        """MaximumPercent of the service's rolling deployment (stack/compute.py)."""
        return self.high_throughput.deployment_maximum_percent or ROLLING_MAXIMUM_PERCENT

    @property
    def pool_tasks(self) -> int:
        """Tasks whose DB pools must fit the budget at once: the most tasks (scaling.max_tasks, or the
        fixed fleet) plus the rolling deployment's surge, since ECS starts the replacements before it
        stops the old tasks, at the autoscaling maximum too."""
        return self.max_tasks_in_deployment

    @property
    def min_healthy_hosts(self) -> int:
        """Healthy-host alarm threshold: the spec's, else seed 003's 2 capped at the fewest tasks."""
        if self.alarms.min_healthy_hosts is not None:
            return self.alarms.min_healthy_hosts
        return min(2, self.fewest_tasks)

    @property
    def max_tasks_in_deployment(self) -> int:
        """Tasks that can run at once: the most tasks plus the rolling update's surge."""
        return self.most_tasks * self.rolling_maximum_percent // 100

    @property
    def db_connections_at_max(self) -> int:
        """PostgreSQL connections the proxies may hold at once (PgBouncer caps them per task)."""
        if self.high_throughput.pgbouncer:
            return self.max_tasks_in_deployment * self.high_throughput.pgbouncer_max_db_connections
        return self.pool_limit * self.pool_tasks * self.litellm.workers

    @property
    def pool_limit(self) -> int:
        """Connections each proxy worker may open, sized for the most tasks that can run at once."""
        if self.litellm.database_connection_pool_limit is not None:
            return self.litellm.database_connection_pool_limit
        return max(1, self.db_connection_budget // (self.pool_tasks * self.litellm.workers))


Violation = tuple[str, str]


def _fargate_pair(spec: BenchmarkSpec) -> Iterable[Violation]:
    allowed = catalog.FARGATE_MEMORY_BY_CPU[spec.tasks.cpu]
    if spec.tasks.memory not in allowed:
        yield (
            "tasks.memory",
            f"{spec.tasks.memory} MiB is not valid with {spec.tasks.cpu} CPU units on Fargate; "
            f"choose {catalog.describe_memory_choices(spec.tasks.cpu)}",
        )


def _task_counts(spec: BenchmarkSpec) -> Iterable[Violation]:
    s, desired = spec.scaling, spec.tasks.desired_count
    if not s.enabled:
        # A value that differs from its default was meant for autoscaling (a full dump, as
        # `validate --show` prints, repeats the defaults and is fine).
        defaults = ScalingSpec()
        for name in sorted(n for n in s.model_fields_set - {"enabled"} if getattr(s, n) != getattr(defaults, n)):
            yield (
                f"scaling.{name}",
                "has no effect with scaling.enabled false (a fixed fleet of tasks.desired_count); "
                "remove it or set scaling.enabled: true",
            )
        return
    if s.min_tasks > s.max_tasks:
        yield "scaling.min_tasks", f"{s.min_tasks} is above scaling.max_tasks ({s.max_tasks}); lower it"
    elif not s.min_tasks <= desired <= s.max_tasks:
        yield (
            "tasks.desired_count",
            f"{desired} is outside the autoscaling range {s.min_tasks}-{s.max_tasks}; "
            "choose a value in it or widen scaling.min_tasks/max_tasks",
        )


def _subnets(spec: BenchmarkSpec) -> Iterable[Violation]:
    net = spec.network
    try:
        vpc = ipaddress.ip_network(net.vpc_cidr)
    except ValueError as exc:
        yield "network.vpc_cidr", f"{exc}; write the network address, e.g. 10.0.0.0/16"
        return
    if not 16 <= vpc.prefixlen <= 28:
        yield "network.vpc_cidr", f"/{vpc.prefixlen} is outside what a VPC accepts; use /16 to /28"
    seen: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    named = [(f"network.public_subnets.{i}", c) for i, c in enumerate(net.public_subnets)]
    named += [(f"network.private_subnets.{i}", c) for i, c in enumerate(net.private_subnets)]
    for path, cidr in named:
        try:
            subnet = ipaddress.ip_network(cidr)
        except ValueError as exc:
            yield path, f"{exc}; write the network address of the subnet"
            continue
        if not subnet.subnet_of(vpc):  # type: ignore[arg-type]
            yield path, f"{cidr} is not inside the VPC {net.vpc_cidr}; pick a range within it"
        elif subnet.prefixlen > 28:
            yield path, f"{cidr} is smaller than a subnet may be (/28); use /28 or larger"
        for other_path, other in seen:
            if subnet.overlaps(other):
                yield path, f"{cidr} overlaps {other_path} ({other}); subnets must not overlap"
        seen.append((path, subnet))
    try:
        ipaddress.ip_network(net.allowed_ingress_cidr)
    except ValueError as exc:
        yield "network.allowed_ingress_cidr", f"{exc}; write a network address such as 203.0.113.0/24"


def _db_instance_class(spec: BenchmarkSpec) -> Iterable[Violation]:
    db = spec.database
    if db.instance_class not in catalog.DB_INSTANCE_CLASSES:
        known = ", ".join(sorted(catalog.DB_INSTANCE_CLASSES))
        yield "database.instance_class", f"{db.instance_class!r} is not a known class; choose one of {known}"
        return
    ceiling = db.instance.default_max_connections
    if db.max_connections > ceiling:
        yield (
            "database.max_connections",
            f"{db.max_connections} is more than {db.instance_class} ({db.instance.memory_gib:g} GiB) "
            f"can hold (~{ceiling}); lower it or choose a larger instance class",
        )


def _db_storage(spec: BenchmarkSpec) -> Iterable[Violation]:
    db = spec.database
    rules = catalog.STORAGE_RULES[db.storage_type]
    size, iops, mibps = db.allocated_storage_gib, db.iops, db.storage_throughput_mibps
    where = f"{db.storage_type} storage"
    if not rules.min_gib <= size <= rules.max_gib:
        yield (
            "database.allocated_storage_gib",
            f"{size} GiB is outside {rules.min_gib}-{rules.max_gib} GiB for {where}",
        )
        return
    if rules.iops_range is None:
        if iops is not None:
            yield "database.iops", f"{where} takes no provisioned IOPS; remove it or use gp3/io1/io2"
    elif rules.provisioned_from_gib is not None and size < rules.provisioned_from_gib:
        base_iops, base_mibps = rules.baseline_below or (0, 0)
        for field, value in (("iops", iops), ("storage_throughput_mibps", mibps)):
            if value is not None:
                yield (
                    f"database.{field}",
                    f"gp3 below {rules.provisioned_from_gib} GiB has a fixed baseline of {base_iops} IOPS "
                    f"and {base_mibps} MiB/s; remove it or allocate at least {rules.provisioned_from_gib} GiB",
                )
    elif iops is None and rules.provisioned_from_gib is None:
        yield "database.iops", f"{where} needs provisioned IOPS; set {rules.iops_range[0]}-{rules.iops_range[1]}"
    elif iops is not None:
        low, high = rules.iops_range
        if not low <= iops <= high:
            yield "database.iops", f"{iops} is outside {low}-{high} IOPS for {where}"
        if rules.iops_per_gib is not None:
            lo_ratio, hi_ratio = rules.iops_per_gib
            if not lo_ratio * size <= iops <= hi_ratio * size:
                yield (
                    "database.iops",
                    f"{iops} IOPS on {size} GiB is outside {lo_ratio:g}-{hi_ratio:g} IOPS per GiB for {where}; "
                    f"choose {int(lo_ratio * size)}-{int(hi_ratio * size)}",
                )
    if mibps is not None and rules.throughput_range is None:
        yield "database.storage_throughput_mibps", f"{where} takes no throughput setting; remove it"
    elif mibps is not None and (rules.provisioned_from_gib is None or size >= rules.provisioned_from_gib):
        low, high = rules.throughput_range or (0, 0)
        if iops is None:
            yield "database.storage_throughput_mibps", "set database.iops too: RDS provisions both together"
        elif not low <= mibps <= high:
            yield "database.storage_throughput_mibps", f"{mibps} MiB/s is outside {low}-{high} for {where}"
        elif rules.max_throughput_per_iops and mibps > iops * rules.max_throughput_per_iops:
            yield (
                "database.storage_throughput_mibps",
                f"{mibps} MiB/s needs at least {int(mibps / rules.max_throughput_per_iops)} IOPS "
                f"(at most {rules.max_throughput_per_iops:g} MiB/s per IOPS); raise database.iops",
            )


def _db_connection_budget(spec: BenchmarkSpec) -> Iterable[Violation]:
    db, workers, max_tasks = spec.database, spec.litellm.workers, spec.pool_tasks
    sized_for = "scaling.max_tasks" if spec.scaling.enabled else "tasks.desired_count"
    of = f"scaling.max_tasks {spec.most_tasks}" if spec.scaling.enabled else str(spec.most_tasks)
    tasks = f"{max_tasks} tasks (a rolling deployment runs {spec.rolling_maximum_percent}% of {of})"
    if db.reserved_connections >= db.max_connections:
        yield "database.reserved_connections", "must be below database.max_connections"
        return
    if spec.high_throughput.pgbouncer:
        return  # the workers' pools end at the task's PgBouncer: _high_throughput checks its upstream side
    budget = spec.db_connection_budget
    per_worker = spec.litellm.database_connection_pool_limit
    if per_worker is None:
        if max_tasks * workers > budget:
            yield (
                "database.max_connections",
                f"{tasks} x {workers} workers need at least one connection each "
                f"({max_tasks * workers}) but only {budget} are free after {db.reserved_connections} reserved; "
                f"raise max_connections or lower {sized_for} / litellm.workers",
            )
        return
    needed = max_tasks * workers * per_worker
    if needed > budget:
        fit = budget // (max_tasks * workers)
        yield (
            "litellm.database_connection_pool_limit",
            f"{tasks} x {workers} workers x {per_worker} = {needed} connections exceed "
            f"max_connections {db.max_connections} less {db.reserved_connections} reserved ({budget}); "
            f"use at most {fit}, or unset it to derive it",
        )


def _health_checks(spec: BenchmarkSpec) -> Iterable[Violation]:
    hc = spec.load_balancer.health_check
    if hc.timeout_s >= hc.interval_s:
        yield "load_balancer.health_check.timeout_s", f"{hc.timeout_s} must be below interval_s ({hc.interval_s})"
    if hc.path.rstrip("/") == "/health":
        yield "load_balancer.health_check.path", "/health calls the real LLMs; use /health/readiness"
    chc = spec.container_health_check
    if chc.timeout_s >= chc.interval_s:
        yield "container_health_check.timeout_s", f"{chc.timeout_s} must be below interval_s ({chc.interval_s})"
    if chc.path.rstrip("/") == "/health":
        yield "container_health_check.path", "/health calls the real LLMs; use /health/liveliness"


def _models(spec: BenchmarkSpec) -> Iterable[Violation]:
    for i, deployment in enumerate(spec.litellm.models):
        base = deployment.litellm_params.api_base
        if base != BENCHMARK_API_BASE and not base.startswith(("http://", "https://", "os.environ/")):
            yield (
                f"litellm.models.{i}.litellm_params.api_base",
                f"{base!r} is neither a URL nor {BENCHMARK_API_BASE!r}; write http(s)://host/",
            )
    if spec.litellm.store_model_in_db is False and not spec.litellm.models:
        yield "litellm.models", "no model would be served; list at least one"


def _log_retention(spec: BenchmarkSpec) -> Iterable[Violation]:
    days = spec.observability.log_retention_days
    if days not in catalog.LOG_RETENTION_DAYS:
        closest = min(catalog.LOG_RETENTION_DAYS, key=lambda d: abs(d - days))
        yield "observability.log_retention_days", f"{days} is not a CloudWatch Logs retention; try {closest}"


ACM_CERTIFICATE_ARN = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _operations(spec: BenchmarkSpec) -> Iterable[Violation]:
    arn = spec.https.certificate_arn
    if arn and not re.match(ACM_CERTIFICATE_ARN, arn):
        yield (
            "https.certificate_arn",
            f"{arn!r} is not an ACM certificate ARN; write arn:aws:acm:REGION:ACCOUNT:certificate/ID or leave it empty",
        )
    if not spec.https.ssl_policy.startswith("ELBSecurityPolicy-TLS13-"):
        yield (
            "https.ssl_policy",
            f"{spec.https.ssl_policy} allows pre-TLS 1.2 clients; use an ELBSecurityPolicy-TLS13-* policy",
        )
    alarms = spec.alarms
    if alarms.email and not re.match(EMAIL, alarms.email):
        yield "alarms.email", f"{alarms.email!r} is not an e-mail address; fix it or leave it empty"
    if alarms.datapoints_to_alarm > alarms.evaluation_periods:
        yield (
            "alarms.datapoints_to_alarm",
            f"{alarms.datapoints_to_alarm} is above alarms.evaluation_periods ({alarms.evaluation_periods}); lower it",
        )
    hosts = alarms.min_healthy_hosts
    if alarms.enabled and hosts is not None and hosts > spec.fewest_tasks:
        if spec.scaling.enabled:
            yield (
                "alarms.min_healthy_hosts",
                f"{hosts} is above scaling.min_tasks ({spec.scaling.min_tasks}): the alarm would "
                "fire whenever the service is scaled in; lower it or raise scaling.min_tasks",
            )
        else:
            yield (
                "alarms.min_healthy_hosts",
                f"{hosts} is above tasks.desired_count ({spec.tasks.desired_count}): the alarm would "
                "always fire; lower it or raise tasks.desired_count",
            )
    pools = spec.db_connections_at_max
    # Only for an otherwise valid DB: else the database rules already say what to fix.
    fits = not any(True for rule in (_db_instance_class, _db_connection_budget) for _ in rule(spec))
    fits = fits and spec.db_connections_at_max <= spec.db_connection_budget
    if alarms.enabled and fits and alarms.db_connections_threshold(spec.database.max_connections) < pools:
        yield (
            "alarms.db_connections_fraction",
            f"{alarms.db_connections_fraction:g} x max_connections ({spec.database.max_connections}) is below the "
            f"{pools} connections the proxies' pools may open at {spec.pool_tasks} tasks: the alarm would fire in "
            "normal operation; raise it",
        )
    if spec.redis.enabled and spec.redis.replicas == 0 and spec.database.multi_az:
        yield "redis.replicas", "a Multi-AZ database with a single-node Redis is not highly available; set 1 or more"


def _migrations(spec: BenchmarkSpec) -> Iterable[Violation]:
    m = spec.migrations
    if m.mode != "init_container":
        return
    if m.retry_delay_max_s < m.retry_delay_s:
        yield (
            "migrations.retry_delay_max_s",
            f"{m.retry_delay_max_s} is below migrations.retry_delay_s ({m.retry_delay_s}); raise it",
        )
    elif m.expected_duration_s < m.retry_wait_budget_s:
        yield (
            "migrations.expected_duration_s",
            f"{m.expected_duration_s} s is shorter than the {m.retry_wait_budget_s} s the migrations container may "
            f"wait between its {m.attempts} runs, so the health-check grace period could end while a task still "
            f"migrates; raise it to at least {m.retry_wait_budget_s} or lower migrations.attempts / retry_delay_max_s",
        )


def _harness(spec: BenchmarkSpec) -> Iterable[Violation]:
    h = spec.harness
    if not h.enabled:
        return
    for name, cpu, memory in (
        ("fake_endpoint", h.fake_endpoint_cpu, h.fake_endpoint_memory),
        ("locust", h.locust_cpu, h.locust_memory),
    ):
        if memory not in catalog.FARGATE_MEMORY_BY_CPU[cpu]:
            yield (
                f"harness.{name}_memory",
                f"{memory} MiB is not valid with {cpu} CPU units on Fargate; "
                f"choose {catalog.describe_memory_choices(cpu)}",
            )
    ceiling = spec.most_tasks * spec.litellm.workers * PROXY_RPS_PER_WORKER
    capacity = h.fake_endpoint_capacity_rps()
    # Only for proxies the DB can hold: else the database rules already say what to fix first.
    sized = not any(True for _ in _db_connection_budget(spec))
    if sized and capacity < 2 * ceiling:
        per_task = capacity // h.fake_endpoint_tasks
        needed = -(-2 * ceiling // max(per_task, 1))
        yield (
            "harness.fake_endpoint_tasks",
            f"{h.fake_endpoint_tasks} task(s) serve ~{capacity} RPS, less than twice the proxies' ceiling "
            f"({spec.most_tasks} tasks x {spec.litellm.workers} workers x {PROXY_RPS_PER_WORKER} "
            f"= {ceiling} RPS): "
            f"the fake endpoint would be the bottleneck; use at least {needed} tasks of 1024 CPU units",
        )
    offered = spec.load_test.users / 0.75  # between(0.5, 1) waits 0.75 s on average
    if h.locust_workers * LOCUST_RPS_PER_WORKER < offered:
        yield (
            "harness.locust_workers",
            f"{h.locust_workers} worker(s) offer ~{h.locust_workers * LOCUST_RPS_PER_WORKER} RPS, below the "
            f"~{offered:.0f} RPS that load_test.users ({spec.load_test.users}) ask for; use at least "
            f"{-(-int(offered) // LOCUST_RPS_PER_WORKER)}",
        )


DESCRIPTION_LIMIT = 1024
"""Bytes CloudFormation allows in a template's Description."""


def _template_description(spec: BenchmarkSpec) -> Iterable[Violation]:
    size = len(spec.template_description.encode())
    if size > DESCRIPTION_LIMIT:
        room = DESCRIPTION_LIMIT - (size - len(spec.description.encode()))
        yield (
            "description",
            f"the template description would be {size} bytes, over CloudFormation's {DESCRIPTION_LIMIT}; "
            f"shorten it to at most {room} bytes",
        )


def _engine_version(spec: BenchmarkSpec) -> Iterable[Violation]:
    version = spec.database.engine_version
    known = catalog.POSTGRES_ENGINE_VERSIONS
    if version in known or version in {v.split(".")[0] for v in known}:
        return  # a major alone: RDS creates its default minor (versions.POSTGRES_ENGINE_VERSION)
    major = version.split(".")[0]
    same_major = [v for v in known if v.split(".")[0] == major]
    choices = f"{same_major[0]}-{same_major[-1]}" if same_major else f"{known[0]}-{known[-1]}"
    yield (
        "database.engine_version",
        f"{version!r} is not a PostgreSQL version RDS creates new instances with; choose a major such as "
        f"{major if same_major else '16'} or one of {choices} (the parameter group family follows the major)",
    )


TASK_ENVIRONMENT_NAMES = frozenset(
    {"PORT", "PATH", "HOME", "TMPDIR", "NUM_WORKERS", "STORE_MODEL_IN_DB", "TIMEOUT_WORKER_HEALTHCHECK",
     "MAX_REQUESTS_BEFORE_RESTART", "DISABLE_SCHEMA_UPDATE", "BENCHMARK_API_BASE"}
)  # fmt: skip
TASK_ENVIRONMENT_PREFIXES = ("LITELLM_", "DATABASE_", "REDIS_", "AWS_", "ECS_", "PYTHON", "PRISMA")
"""Names the task or the image already sets; a provider-key variable must not replace one."""
REAL_KEY_PREFIXES = ("sk-", "sk_", "AKIA", "ASIA", "AIza", "gsk_", "xai-", "hf_", "r8_", "pplx-", "key-", "Bearer ")
PLACEHOLDER_KEY_MAX_LENGTH = 19
"""A literal api_key longer than this, or with a provider's key prefix, is taken for a real key."""


def looks_like_real_key(value: str) -> bool:
    return value.startswith(REAL_KEY_PREFIXES) or len(value) > PLACEHOLDER_KEY_MAX_LENGTH


def _provider_keys(spec: BenchmarkSpec) -> Iterable[Violation]:
    """Real keys only through Secrets Manager, and every `os.environ/` reference set by the task."""
    secrets: dict[str, ProviderKeySecret] = {}
    ids: dict[str, str] = {}
    fix = "store the key in Secrets Manager and write api_key_secret: {env: NAME} (or {env: NAME, arn: ARN})"
    for i, deployment in enumerate(spec.litellm.models):
        where, params = f"litellm.models.{i}.litellm_params", deployment.litellm_params
        secret = params.api_key_secret
        if secret is None:
            continue
        if secret.arn and not re.match(SECRETS_MANAGER_ARN, secret.arn):
            yield (
                f"{where}.api_key_secret.arn",
                f"{secret.arn!r} is not a full Secrets Manager secret ARN; write "
                "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX (as describe-secret prints it) "
                "or leave it empty",
            )
        if secret.env in TASK_ENVIRONMENT_NAMES or secret.env.startswith(TASK_ENVIRONMENT_PREFIXES):
            yield f"{where}.api_key_secret.env", f"{secret.env} is a variable the task sets itself; choose another"
        earlier = secrets.setdefault(secret.env, secret)
        if earlier.arn != secret.arn:
            yield (
                f"{where}.api_key_secret.arn",
                f"{secret.env} is also given by another model with arn {earlier.arn!r}; one variable holds one secret",
            )
        logical = provider_key_logical_id(secret.env)
        if ids.setdefault(logical, secret.env) != secret.env:
            yield f"{where}.api_key_secret.env", f"{secret.env} and {ids[logical]} differ only in underscores; rename"
        # The default stays accepted: `validate --show` writes it out, and the output must read back.
        if params.api_key not in (LiteLLMParams.model_fields["api_key"].default, f"os.environ/{secret.env}"):
            yield f"{where}.api_key", "the key comes from api_key_secret; remove api_key"
    for i, deployment in enumerate(spec.litellm.models):
        where, params = f"litellm.models.{i}.litellm_params", deployment.litellm_params
        key = params.api_key
        if params.api_key_secret is not None:
            continue
        if key.startswith("os.environ/"):
            name = key.removeprefix("os.environ/")
            if name not in secrets:
                yield (
                    f"{where}.api_key",
                    f"{key} names a variable the task does not set, so the proxy would stop at start; "
                    f"write api_key_secret: {{env: {name}}} instead (the stack creates the secret) "
                    f"or {{env: {name}, arn: ARN}}",
                )
        elif looks_like_real_key(key):
            yield (
                f"{where}.api_key",
                f"looks like a real provider key and would be written in plain text into the task definition; {fix}",
            )
    for i, deployment in enumerate(spec.litellm.models):
        base = deployment.litellm_params.api_base
        name = base.removeprefix("os.environ/")
        if base.startswith("os.environ/") and name not in secrets:
            yield (
                f"litellm.models.{i}.litellm_params.api_base",
                f"{base} names a variable the task does not set, so the proxy would stop at start; write the URL, "
                f"or {BENCHMARK_API_BASE!r} for the stack's fake endpoint",
            )


MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$"
IMAGE_REPOSITORY = r"^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$"
IMAGE_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"


def _names_in_the_template(spec: BenchmarkSpec) -> Iterable[Violation]:
    """Values written into commands and identifiers AWS checks only at create time."""
    for i, deployment in enumerate(spec.litellm.models):
        if not re.match(MODEL_NAME, deployment.model_name):
            yield (
                f"litellm.models.{i}.model_name",
                f"{deployment.model_name!r} would break the SmokeTestCommand output and request bodies; "
                "use letters, digits and . _ : / @ + - (no spaces, quotes or ${)",
            )
    litellm = spec.litellm
    if not re.match(IMAGE_REPOSITORY, litellm.image_repository):
        yield "litellm.image_repository", f"{litellm.image_repository!r} is not an image repository; e.g. ghcr.io/o/n"
    if not re.match(IMAGE_TAG, litellm.image_tag):
        yield "litellm.image_tag", f"{litellm.image_tag!r} is not an image tag; use letters, digits and . _ -"
    db = spec.database
    for field, value in (("database_name", db.database_name), ("master_username", db.master_username)):
        if value.lower() in catalog.RDS_RESERVED_NAMES | catalog.POSTGRES_RESERVED_WORDS:
            yield f"database.{field}", f"{value!r} is reserved by RDS or PostgreSQL; choose another name, e.g. litellm"
    policy = spec.https.ssl_policy
    if policy.startswith("ELBSecurityPolicy-TLS13-") and policy not in catalog.ALB_TLS12_POLICIES:
        yield (
            "https.ssl_policy",
            f"{policy} is not an ALB policy with TLS 1.2 as its oldest protocol; use "
            f"{catalog.ALB_TLS12_POLICIES[0]} or another ELBSecurityPolicy-TLS13-1-2-*/1-3-* policy",
        )
    if spec.redis.enabled and spec.redis.engine_version not in catalog.ELASTICACHE_REDIS_VERSIONS:
        yield (
            "redis.engine_version",
            f"{spec.redis.engine_version!r} is not a Redis version ElastiCache serves with TLS and AUTH; "
            f"choose one of {', '.join(catalog.ELASTICACHE_REDIS_VERSIONS)}",
        )


TASK_DEFINITION_LIMIT = 65_536
"""Bytes ECS accepts for one task definition."""
CONFIG_BUDGET = 49_152
"""Bytes of LiteLLM config that leave room in the task definition for the start script and the rest."""


def _config_size(spec: BenchmarkSpec) -> Iterable[Violation]:
    from .proxy_config import litellm_config_yaml  # it imports this module

    size = len(litellm_config_yaml(spec).encode())
    if size > CONFIG_BUDGET:
        per_model = size // len(spec.litellm.models)
        yield (
            "litellm.models",
            f"the LiteLLM config would be {size} bytes and it travels in the task definition, which ECS caps "
            f"at {TASK_DEFINITION_LIMIT}; list at most ~{CONFIG_BUDGET // max(per_model, 1)} models here and "
            "add the rest through the proxy's API (store_model_in_db)",
        )


def provider_key_logical_id(env: str) -> str:
    """`OPENAI_API_KEY` -> `ProviderKeyOpenaiApiKey` (the Secret's logical ID adds `Secret`)."""
    return "ProviderKey" + "".join(part[:1] + part[1:].lower() for part in env.split("_"))


GUNICORN_KEEPALIVE_S = 2
"""gunicorn's default keep-alive; LiteLLM 1.106.2 builds gunicorn's options itself and sets none."""


def _keepalive(spec: BenchmarkSpec) -> Iterable[Violation]:
    # The ALB reuses an idle connection for up to its idle timeout; if the target closed it first,
    # the ALB answers 502. AWS: the target's keep-alive must exceed the load balancer's idle timeout.
    idle = spec.load_balancer.idle_timeout_s
    if spec.litellm.server == "gunicorn":
        yield (
            "litellm.server",
            f"gunicorn closes idle connections after {GUNICORN_KEEPALIVE_S} s (LiteLLM 1.106.2 does not pass "
            f"--keepalive_timeout to it), under load_balancer.idle_timeout_s ({idle} s): the ALB would reuse "
            "connections the proxy closed (502); use uvicorn",
        )
    elif spec.litellm.keepalive_timeout_s <= idle:
        yield (
            "litellm.keepalive_timeout_s",
            f"{spec.litellm.keepalive_timeout_s} s does not exceed load_balancer.idle_timeout_s ({idle} s): the ALB "
            f"would reuse connections the proxy closed (502); set it above {idle}, e.g. {max(75, idle + 15)}",
        )


ALB_LCU_BYTES_PER_HOUR = 1 << 30
"""One ALB LCU covers 1 GB of processed bytes per hour (EC2 targets)."""
NAT_GATEWAY_GBITPS = 100
"""A NAT gateway scales to 100 Gbit/s; the request path (ALB -> tasks) never crosses it."""
TASK_INGRESS_MBITPS = 1000
"""Conservative sustained ingress of one 4-vCPU Fargate task (AWS publishes no per-task figure)."""


def request_gbitps(spec: BenchmarkSpec) -> float:
    """Client -> ALB -> tasks bandwidth the benchmark offers (0 when offered_rps is unset)."""
    ht = spec.high_throughput
    return (ht.offered_rps or 0) * ht.request_kib * 1024 * 8 / 1e9


def _high_throughput(spec: BenchmarkSpec) -> Iterable[Violation]:
    ht, db = spec.high_throughput, spec.database
    if ht.pgbouncer and db.reserved_connections < db.max_connections:
        needed = spec.db_connections_at_max
        if needed > spec.db_connection_budget:
            yield (
                "high_throughput.pgbouncer_max_db_connections",
                f"{spec.max_tasks_in_deployment} tasks at scaling.max_tasks plus the deployment surge x "
                f"{ht.pgbouncer_max_db_connections} = {needed} connections exceed max_connections "
                f"{db.max_connections} less {db.reserved_connections} reserved ({spec.db_connection_budget}); "
                f"use at most {spec.db_connection_budget // spec.max_tasks_in_deployment} or raise max_connections",
            )
        clients = spec.litellm.workers * spec.pool_limit + (1 if ht.spend_collector else 0) * spec.pool_limit
        if clients > ht.pgbouncer_max_client_conn:
            yield (
                "high_throughput.pgbouncer_max_client_conn",
                f"{spec.litellm.workers} workers x {spec.pool_limit} pool connections (+ the collector) = {clients} "
                f"clients exceed {ht.pgbouncer_max_client_conn}; raise it or lower "
                "litellm.database_connection_pool_limit",
            )
    if ht.requests_per_target_per_s is not None and not spec.scaling.enabled:
        yield (
            "high_throughput.requests_per_target_per_s",
            "scales nothing with scaling.enabled false (a fixed fleet of tasks.desired_count); "
            "remove it or set scaling.enabled: true",
        )
    if ht.use_redis_transaction_buffer and not spec.redis.enabled:
        yield "high_throughput.use_redis_transaction_buffer", "needs Redis; set redis.enabled: true"
    if ht.spend_collector and ht.collector_port in (spec.litellm.port, ht.metrics_port):
        yield "high_throughput.collector_port", f"{ht.collector_port} is already used in the task; choose another"
    if ht.metrics_port is not None and ht.metrics_port == spec.litellm.port:
        yield "high_throughput.metrics_port", f"{ht.metrics_port} is the proxy's port; choose another"
    if ht.metrics_port is not None and not ht.prometheus_callback:
        yield "high_throughput.metrics_port", "serves nothing without prometheus_callback: true; set it or unset this"
    if ht.stop_timeout_s is not None and ht.request_timeout_s is not None and ht.stop_timeout_s < 120:
        yield (
            "high_throughput.stop_timeout_s",
            f"{ht.stop_timeout_s} s cuts long requests (request_timeout_s {ht.request_timeout_s}) sooner than "
            "Fargate allows; use 120, the Fargate maximum",
        )
    gbitps = request_gbitps(spec)
    if gbitps:
        per_task_mbitps = gbitps * 1000 / spec.tasks.desired_count
        if spec.tasks.desired_count < spec.fewest_tasks_for_bandwidth:
            yield (
                "tasks.desired_count",
                f"{ht.offered_rps} RPS x {ht.request_kib} KiB = {gbitps:.1f} Gbit/s is {per_task_mbitps:.0f} Mbit/s "
                f"per task, above the ~{TASK_INGRESS_MBITPS} Mbit/s a task sustains; run at least "
                f"{spec.fewest_tasks_for_bandwidth} tasks",
            )
        if gbitps > NAT_GATEWAY_GBITPS:
            yield "high_throughput.offered_rps", f"{gbitps:.1f} Gbit/s exceeds what one NAT gateway carries"


SPEC_RULES: tuple[Callable[[BenchmarkSpec], Iterable[Violation]], ...] = (
    _fargate_pair,
    _task_counts,
    _subnets,
    _db_instance_class,
    _db_storage,
    _db_connection_budget,
    _health_checks,
    _models,
    _log_retention,
    _operations,
    _migrations,
    _harness,
    _template_description,
    _engine_version,
    _provider_keys,
    _names_in_the_template,
    _config_size,
    _keepalive,
    _high_throughput,
)


def spec_rule_violations(spec: BenchmarkSpec) -> list[Violation]:
    """Every cross-field rule the spec breaks, as (field path, message with the fix)."""
    return [violation for rule in SPEC_RULES for violation in rule(spec)]


class SpecError(Exception):
    """A spec that cannot be used; `lines` holds one `field.path: message` per problem."""

    def __init__(self, lines: list[str], exit_code: int = 2):
        super().__init__("\n".join(lines))
        self.lines = lines
        self.exit_code = exit_code
        """2: bad input (the file or its content); 1: the system failed to read an existing file."""


def format_validation_error(error: ValidationError) -> list[str]:
    """One readable line per problem: `tasks.memory: 4096 MiB is not valid with ...`."""
    lines: list[str] = []
    for err in error.errors(include_url=False):
        location = ".".join(str(part) for part in err["loc"])
        if err["type"] == "spec_rules":
            prefix = f"{location}." if location else ""
            lines.extend(f"{prefix}{path}: {message}" for path, message in err["ctx"]["violations"])
            continue
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key; check the spelling against the spec reference"
        elif err["type"] == "literal_error":
            message = f"{err['input']!r} is not allowed; {message[0].lower()}{message[1:]}"
        elif "input" in err and not isinstance(err["input"], dict | list):
            message = f"{message} (got {err['input']!r})"
        lines.append(f"{location or '<spec>'}: {message}")
    return lines


class _RefusedYaml(yaml.constructor.ConstructorError):
    """Valid YAML that a spec refuses (a duplicate key, a tag); its problem text is the whole message."""


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that refuses what a spec never needs and would silently lose: a key written twice
    (PyYAML keeps the last block) and any explicit tag (`!!python/...`, `!Ref`, ...)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                first = seen[key].start_mark.line + 1
                raise _RefusedYaml(
                    None, None, f"key {key!r} is written twice (first on line {first}); keep one", key_node.start_mark
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _refuse_tags(loader: Any, suffix: str, node: yaml.Node) -> Any:
    raise _RefusedYaml(
        None, None, f"YAML tag {node.tag!r} is not allowed in a spec; write plain values", node.start_mark
    )


_SpecLoader.add_constructor("tag:yaml.org,2002:map", _SpecLoader.construct_mapping)
_SpecLoader.add_multi_constructor("!", _refuse_tags)
_SpecLoader.add_multi_constructor("tag:yaml.org,2002:python/", _refuse_tags)
for _tag in ("binary", "set", "omap", "pairs", "timestamp"):
    _SpecLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", lambda loader, node: _refuse_tags(loader, "", node))
# Unquoted dates (2026-01-01) stay strings: a spec has no date field, and pydantic then says which field.
_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_problem(exc: yaml.YAMLError, source: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark else source
    if isinstance(exc, _RefusedYaml):
        return f"{where}: {exc.problem}"
    if isinstance(exc, yaml.composer.ComposerError) and "single document" in str(exc.context):
        return f"{where}: a second YAML document starts here (---); a spec file holds one document"
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return f"{source}: character #x{code:04x} at offset {exc.position} is not allowed in YAML; remove it"
    problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
    return f"{where}: not valid YAML or JSON ({problem})"


def parse_spec_text(text: str, source: str = "<spec>") -> BenchmarkSpec:
    """Parse YAML or JSON text into a validated spec; raises SpecError with readable lines."""
    try:
        data: Any = yaml.load(text, Loader=_SpecLoader) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_problem(exc, source)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([f"{source}: the spec must be a mapping of keys to values, not {type(data).__name__}"])
    try:
        return BenchmarkSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc)) from None


_NOT_THERE = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def decode_spec_bytes(raw: bytes, source: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is allowed); anything else is a SpecError naming the fix."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise SpecError([f"{source}: is UTF-16 or UTF-32 encoded; save the file as UTF-8"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            [f"{source}: is not UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}); save the file as UTF-8"]
        ) from None


def load_spec(path: str | Path) -> BenchmarkSpec:
    """Read a spec file (YAML or JSON, UTF-8; unknown keys, duplicate keys and tags are errors).

    A missing file, a directory or a file you may not read is bad input (SpecError, exit 2); any other
    operating-system error while reading is an I/O failure (SpecError with exit_code 1)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except _NOT_THERE as exc:
        raise SpecError([f"{path}: cannot read the spec ({exc.strerror or exc})"]) from None
    except OSError as exc:
        raise SpecError([f"{path}: I/O error reading the spec ({exc.strerror or exc})"], exit_code=1) from None
    return parse_spec_text(decode_spec_bytes(raw, str(path)), source=str(path))


def spec_to_json(spec: BenchmarkSpec) -> str:
    return json.dumps(spec.model_dump(mode="json"), indent=2, sort_keys=True)
