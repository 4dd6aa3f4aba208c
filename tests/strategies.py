"""Hypothesis strategies over the whole spec space: valid spec dicts and the mutations that break them.

`valid_specs()` draws every section and switch so that every spec rule holds by construction (no
filtering: hypothesis would discard most draws): Fargate CPU/memory pairs, a fixed fleet (desired
count only) or autoscaling (min/desired/max, cooldowns, request-count scaling), a DB class that holds
the connection budget of `spec.pool_tasks` (or PgBouncer's per-task budget over
`spec.max_tasks_in_deployment`), storage types with IOPS/throughput inside their rules, alarms on or
off, HTTPS, Redis (and its transaction buffer), Multi-AZ, NAT gateways, keep-alive above the ALB idle
timeout, cooldowns, migrations whose reruns fit their expected duration, the high-throughput switches
(collector, metrics port, timeouts, surge, offered bandwidth within the fleet), the harness and models
of every kind (the fake endpoint, a URL with a placeholder key, a provider key from a secret the stack
creates or from an existing ARN). Sizes come from the spec's own properties (`_sizing`).

`MUTATIONS` each break one rule of a valid spec and name the field the error line must start with.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from litellm_bench_cfn import catalog
from litellm_bench_cfn.spec import (
    DESCRIPTION_LIMIT,
    FAKE_ENDPOINT_RPS_PER_TASK,
    LOCUST_RPS_PER_WORKER,
    PROXY_RPS_PER_WORKER,
    BenchmarkSpec,
    DatabaseSpec,
    HighThroughputSpec,
    LiteLLMSpec,
    MigrationsSpec,
    ScalingSpec,
    TaskSpec,
)

Spec = dict[str, Any]
FAKE_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbC123"
MAX_TASKS_CEILING = 30
"""Largest scaling.max_tasks drawn; above 23 the template is over 51,200 bytes (the S3 path)."""


def _fargate(draw: st.DrawFn, cpus: list[int] | None = None) -> tuple[int, int]:
    cpu = draw(st.sampled_from(cpus or sorted(catalog.FARGATE_MEMORY_BY_CPU)))
    return cpu, draw(st.sampled_from(catalog.FARGATE_MEMORY_BY_CPU[cpu]))


def _storage(draw: st.DrawFn) -> Spec:
    kind = draw(st.sampled_from(["gp2", "gp3", "io1", "io2"]))
    rules = catalog.STORAGE_RULES[kind]
    if kind == "gp2":
        return {"storage_type": kind, "allocated_storage_gib": draw(st.integers(rules.min_gib, 2000))}
    if kind == "gp3":
        size = draw(st.one_of(st.integers(20, 399), st.integers(400, 20000)))
        db: Spec = {"storage_type": kind, "allocated_storage_gib": size}
        if size >= 400 and draw(st.booleans()):
            assert rules.iops_range and rules.iops_per_gib and rules.throughput_range
            low = max(rules.iops_range[0], math.ceil(rules.iops_per_gib[0] * size))
            high = min(rules.iops_range[1], int(rules.iops_per_gib[1] * size))
            db["iops"] = draw(st.integers(low, high))
            if draw(st.booleans()):
                cap = min(rules.throughput_range[1], int(db["iops"] * (rules.max_throughput_per_iops or 1)))
                db["storage_throughput_mibps"] = draw(st.integers(rules.throughput_range[0], cap))
        return db
    assert rules.iops_range and rules.iops_per_gib
    size = draw(st.integers(rules.min_gib, 6000))
    low = max(rules.iops_range[0], math.ceil(rules.iops_per_gib[0] * size))
    high = min(rules.iops_range[1], int(rules.iops_per_gib[1] * size))
    return {"storage_type": kind, "allocated_storage_gib": size, "iops": draw(st.integers(low, high))}


ENV_NAMES = st.sampled_from(["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_KEY", "PROVIDER2_TOKEN", "MY_KEY_1"])


def _models(draw: st.DrawFn) -> list[Spec]:
    models: list[Spec] = []
    arns: dict[str, str] = {}
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["fake", "url", "created", "existing", "shared"]))
        name = f"m{i}-{draw(st.from_regex(r'[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,20}', fullmatch=True))}"
        params: Spec
        if kind == "fake" or (kind == "shared" and not arns):
            params = {"model": "openai/any", "api_key": draw(st.sampled_from(["test", "fake", "none"]))}
        elif kind == "url":
            params = {
                "model": "openai/local",
                "api_base": draw(st.sampled_from(["http://10.0.0.5:8000/v1", "https://llm.example.com/v1"])),
                "api_key": "placeholder",
                "rpm": draw(st.integers(1, 100_000)),
            }
        elif kind == "shared":
            env = draw(st.sampled_from(sorted(arns)))
            params = {"model": "openai/gpt-4o", "api_base": "https://api.openai.com/v1", "api_key": f"os.environ/{env}"}
        else:
            env = draw(ENV_NAMES)
            arn = arns.setdefault(env, FAKE_ARN.format(name=env.lower()) if kind == "existing" else "")
            secret = {"env": env, **({"arn": arn} if arn else {})}
            params = {"model": "openai/gpt-4o-mini", "api_base": "https://api.openai.com/v1", "api_key_secret": secret}
        models.append({"model_name": name, "litellm_params": params})
    return models


def _description(draw: st.DrawFn, name: str) -> str:
    text = draw(
        st.one_of(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40),
            st.text(st.sampled_from("abc xyz-é/ü"), min_size=900, max_size=1100),
        )
    )
    room = DESCRIPTION_LIMIT - len(f"litellm-bench-cfn {name}: ".encode())
    while len(text.encode()) > room:
        text = text[:-1]
    return text


def _migrations(draw: st.DrawFn) -> Spec:
    """Reruns whose waits fit expected_duration_s (the rule: the grace period outlasts every wait)."""
    delay = draw(st.integers(1, 60))
    migrations: Spec = {
        "mode": draw(st.sampled_from(["init_container", "in_proxy"])),
        "attempts": draw(st.integers(1, 20)),
        "retry_delay_s": delay,
        "retry_delay_max_s": draw(st.integers(delay, 300)),
    }
    while (budget := MigrationsSpec(**migrations).retry_wait_budget_s) > 1800:
        migrations["attempts"] -= 1
    migrations["expected_duration_s"] = draw(st.integers(budget, 1800))
    return migrations


def _high_throughput(draw: st.DrawFn, redis: bool, proxy_port: int) -> Spec:
    """The switches that do not depend on the fleet; _fleet adds offered_rps and the PgBouncer sizes."""
    ht: Spec = {
        "pgbouncer": draw(st.booleans()),
        "spend_collector": draw(st.booleans()),
        "json_logs": draw(st.booleans()),
        "use_redis_transaction_buffer": redis and draw(st.booleans()),
    }
    metrics_port = draw(st.sampled_from([None, 9090, 4003]))
    ht["prometheus_callback"] = metrics_port is not None or draw(st.booleans())
    if metrics_port is not None:
        ht["metrics_port"] = metrics_port
    if ht["spend_collector"]:
        ht["collector_port"] = draw(
            st.sampled_from([p for p in (4002, 4001, 9000) if p not in (proxy_port, metrics_port)])
        )
    request_timeout = draw(st.one_of(st.none(), st.integers(1, 3600)))
    if request_timeout is not None:
        ht["request_timeout_s"] = request_timeout
    if draw(st.booleans()):
        ht["stop_timeout_s"] = 120 if request_timeout is not None else draw(st.integers(2, 120))
    if draw(st.booleans()):
        ht["deployment_maximum_percent"] = draw(st.integers(100, 200))
    return ht


def _sizing(spec: Spec) -> BenchmarkSpec:
    """The sections drawn so far as a spec, unvalidated, to read the spec's own sizing properties."""
    return BenchmarkSpec.model_construct(
        tasks=TaskSpec(**spec["tasks"]),
        scaling=ScalingSpec(**spec["scaling"]),
        litellm=LiteLLMSpec(**spec["litellm"]),
        high_throughput=HighThroughputSpec(**spec["high_throughput"]),
        database=DatabaseSpec(**spec.get("database", {})),
    )


def _fleet(draw: st.DrawFn, ht: Spec) -> tuple[Spec, Spec]:
    """tasks.desired_count and scaling: a fixed fleet (min/max left at their defaults) or autoscaling;
    the offered bandwidth, if any, within what desired_count tasks carry."""
    if draw(st.booleans()):
        max_tasks = draw(st.integers(1, MAX_TASKS_CEILING))
        min_tasks = draw(st.integers(1, max_tasks))
        desired = draw(st.integers(min_tasks, max_tasks))
        scaling: Spec = {"enabled": True, "min_tasks": min_tasks, "max_tasks": max_tasks}
        if draw(st.booleans()):
            scaling["cpu_target_percent"] = draw(st.floats(10, 90, allow_nan=False))
            scaling["scale_in_cooldown_s"] = draw(st.integers(0, 3600))
            scaling["scale_out_cooldown_s"] = draw(st.integers(0, 3600))
        if draw(st.booleans()):  # a second scaling policy: only with autoscaling
            ht["requests_per_target_per_s"] = draw(st.floats(0.5, 5000, allow_nan=False, allow_infinity=False))
    else:
        desired = draw(st.integers(1, MAX_TASKS_CEILING))
        scaling = {"enabled": False}
    if draw(st.booleans()):
        kib = draw(st.integers(1, 10_240))
        ht["request_kib"] = kib
        ht["offered_rps"] = draw(st.integers(1, max(1, int(desired * 1e9 / (kib * 1024 * 8)))))
        while (
            ht["offered_rps"] > 1
            and _sizing({"tasks": {"desired_count": desired}, "scaling": scaling, "litellm": {"workers": 1},
                         "high_throughput": ht}).fewest_tasks_for_bandwidth > desired
        ):  # fmt: skip
            ht["offered_rps"] -= 1
    return {"desired_count": desired}, scaling


@st.composite
def valid_specs(draw: st.DrawFn) -> Spec:
    """A spec dict the schema and every rule accept."""
    name = draw(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True))
    cpu, memory = _fargate(draw)
    workers = draw(st.integers(1, 8))
    port = draw(st.sampled_from([4000, 8080]))
    redis: Spec = {"enabled": draw(st.booleans())}
    ht = _high_throughput(draw, redis["enabled"], port)
    tasks, scaling = _fleet(draw, ht)
    tasks.update(cpu=cpu, memory=memory)
    drawn: Spec = {"tasks": tasks, "scaling": scaling, "litellm": {"workers": workers}, "high_throughput": ht}
    sizing = _sizing(drawn)
    reserved = draw(st.integers(0, 100))
    top_connections = max(c.default_max_connections for c in catalog.DB_INSTANCE_CLASSES.values())
    if ht["pgbouncer"]:
        per_task = draw(st.integers(1, min(100, (top_connections - 1 - reserved) // sizing.max_tasks_in_deployment)))
        ht["pgbouncer_max_db_connections"] = per_task
        needed = reserved + sizing.max_tasks_in_deployment * per_task
    else:
        needed = reserved + sizing.pool_tasks * workers
    classes = sorted(n for n, c in catalog.DB_INSTANCE_CLASSES.items() if c.default_max_connections >= needed + 1)
    instance_class = draw(st.sampled_from(classes))
    ceiling = catalog.DB_INSTANCE_CLASSES[instance_class].default_max_connections
    max_connections = draw(st.integers(max(20, needed, reserved + 1), ceiling))
    fit = (max_connections - reserved) // (sizing.pool_tasks * workers)
    pool = draw(st.one_of(st.none(), st.integers(1, max(1, min(fit, 1000)))))

    multi_az = draw(st.booleans())
    database: Spec = {
        "engine_version": draw(st.sampled_from(catalog.POSTGRES_ENGINE_VERSIONS)),
        "instance_class": instance_class,
        "max_connections": max_connections,
        "reserved_connections": reserved,
        "multi_az": multi_az,
        "deletion_protection": draw(st.booleans()),
        "backup_retention_days": draw(st.integers(1, 35)),
        **_storage(draw),
    }
    drawn["litellm"]["database_connection_pool_limit"] = pool
    drawn["database"] = database
    sized = _sizing(drawn)
    if ht["pgbouncer"]:
        clients = sized.pool_limit * (workers + (1 if ht["spend_collector"] else 0))
        ht["pgbouncer_max_client_conn"] = draw(st.integers(clients, max(clients, 100_000)))
    alarms_enabled = draw(st.booleans())
    evaluation = draw(st.integers(1, 10))
    alarms: Spec = {
        "enabled": alarms_enabled,
        "email": draw(st.sampled_from(["", "ops@example.com"])),
        "evaluation_periods": evaluation,
        "datapoints_to_alarm": draw(st.integers(1, evaluation)),
        "period_s": draw(st.sampled_from([10, 30, 60, 300])),
        "p95_latency_ms": draw(st.integers(1, 600_000)),
    }
    if draw(st.booleans()):
        alarms["min_healthy_hosts"] = draw(st.integers(1, sizing.fewest_tasks))
    sized = _sizing(drawn)  # with the PgBouncer sizes
    if sized.db_connections_at_max > int(max_connections * 0.9):
        alarms["db_connections_fraction"] = 1.0
    if redis["enabled"]:
        redis["replicas"] = draw(st.integers(1 if multi_az else 0, 5))
        redis["node_type"] = draw(st.sampled_from(["cache.t4g.medium", "cache.r7g.large"]))
        redis["engine_version"] = draw(st.sampled_from(catalog.ELASTICACHE_REDIS_VERSIONS))
    users = draw(st.integers(1, 5000))
    harness: Spec = {"enabled": draw(st.booleans())}
    if harness["enabled"]:
        fe_cpu, fe_memory = _fargate(draw, [1024, 2048, 4096])
        demand = 2 * sizing.most_tasks * workers * PROXY_RPS_PER_WORKER
        harness.update(
            fake_endpoint_cpu=fe_cpu,
            fake_endpoint_memory=min(fe_memory, 30720),
            fake_endpoint_tasks=max(1, -(-demand // FAKE_ENDPOINT_RPS_PER_TASK)),
            locust_workers=max(1, -(-math.ceil(users / 0.75) // LOCUST_RPS_PER_WORKER)),
            in_vpc_fake_endpoint=draw(st.booleans()),
            upstream_latency_ms=draw(st.integers(0, 60_000)),
        )
        lc_cpu, lc_memory = _fargate(draw, [256, 512, 1024, 2048, 4096])
        harness.update(locust_cpu=lc_cpu, locust_memory=min(lc_memory, 30720))
    interval = draw(st.integers(5, 300))
    idle = draw(st.integers(1, 3999))
    spec: Spec = {
        "name": name,
        "description": _description(draw, name),
        "litellm": {
            "workers": workers,
            "server": "uvicorn",  # gunicorn is refused behind the ALB (_keepalive); broken_specs draws it
            "keepalive_timeout_s": draw(st.integers(idle + 1, 4000)),
            "disable_cooldowns": draw(st.sampled_from([None, True, False])),
            "log_level": draw(st.sampled_from(["ERROR", "WARNING", "INFO"])),
            "store_model_in_db": draw(st.booleans()),
            "disable_spend_logs": draw(st.booleans()),
            "max_requests_before_restart": draw(st.one_of(st.none(), st.integers(1, 100_000))),
            "database_connection_pool_limit": pool,
            "port": port,
            "models": _models(draw),
        },
        "tasks": tasks,
        "scaling": scaling,
        "database": database,
        "network": {"nat_gateways": draw(st.sampled_from([1, 2]))},
        "load_balancer": {"idle_timeout_s": idle,
                          "health_check": {"path": "/health/readiness", "interval_s": interval,
                                           "timeout_s": draw(st.integers(2, min(120, interval - 1)))}},
        "observability": {"log_retention_days": draw(st.sampled_from(catalog.LOG_RETENTION_DAYS))},
        "load_test": {"users": users, "spawn_rate": draw(st.integers(1, 500)), "duration_s": 300},
        "migrations": _migrations(draw),
        "https": {"certificate_arn": draw(st.sampled_from(
            ["", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"])),
            "ssl_policy": draw(st.sampled_from(catalog.ALB_TLS12_POLICIES))},
        "alarms": alarms,
        "redis": redis,
        "harness": harness,
        "high_throughput": ht,
    }  # fmt: skip
    return spec


def parse(data: Spec) -> BenchmarkSpec:
    return BenchmarkSpec.model_validate(data)


@dataclass(frozen=True)
class Mutation:
    """Breaks one rule of a valid spec; `group` keeps two mutations from touching the same rule."""

    name: str
    group: str
    field: str
    apply: Callable[[Spec], None]
    schema: bool = False
    """A field (pydantic) error: reported on its own, before the cross-field rules run."""


def _set(path: str, value: Any) -> Callable[[Spec], None]:
    def apply(data: Spec) -> None:
        *parents, leaf = path.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value

    return apply


def _update(section: str, **values: Any) -> Callable[[Spec], None]:
    """Set some keys of a section, keeping the others (another mutation may have set them)."""

    def apply(data: Spec) -> None:
        data.setdefault(section, {}).update(values)

    return apply


def _memory(data: Spec) -> None:
    cpu = data["tasks"]["cpu"]
    data["tasks"]["memory"] = min(catalog.FARGATE_MEMORY_BY_CPU[cpu]) - 1 if cpu > 256 else 4096


def _autoscaling(data: Spec) -> Spec:
    """Turn autoscaling on (a fixed fleet has no range to break), around the fleet if it was fixed."""
    scaling: Spec = data["scaling"]
    if not scaling.get("enabled"):
        scaling.update(enabled=True, min_tasks=1, max_tasks=data["tasks"]["desired_count"])
    return scaling


def _desired(data: Spec) -> None:
    scaling = _autoscaling(data)
    data["tasks"]["desired_count"] = scaling["max_tasks"] + 1 if scaling["max_tasks"] < 100 else 1
    if scaling["max_tasks"] >= 100:
        scaling["min_tasks"] = 2


def _min_above_max(data: Spec) -> None:
    scaling = _autoscaling(data)
    top = scaling["max_tasks"]
    if top >= 100:
        scaling["max_tasks"] = top = 99
    scaling["min_tasks"] = top + 1


def _fixed_fleet_with_range(data: Spec) -> None:
    data["scaling"] = {"enabled": False, "max_tasks": ScalingSpec().max_tasks + 1}


def _keepalive_at_idle(data: Spec) -> None:
    data["litellm"].update(server="uvicorn", keepalive_timeout_s=data["load_balancer"]["idle_timeout_s"])


def _request_scaling_on_fixed_fleet(data: Spec) -> None:
    data["scaling"] = {"enabled": False}
    data["high_throughput"]["requests_per_target_per_s"] = 83


def _buffer_without_redis(data: Spec) -> None:
    data["redis"] = {"enabled": False}
    data["high_throughput"]["use_redis_transaction_buffer"] = True


def _model_param(field: str, value: Any) -> Callable[[Spec], None]:
    def apply(data: Spec) -> None:
        params = data["litellm"]["models"][0]["litellm_params"]
        params.pop("api_key_secret", None)
        params[field] = value

    return apply


def _gp3_small_iops(data: Spec) -> None:
    data["database"].update(storage_type="gp3", allocated_storage_gib=200, iops=3000)
    data["database"].pop("storage_throughput_mibps", None)


def _io1_ratio(data: Spec) -> None:
    data["database"].update(storage_type="io1", allocated_storage_gib=100, iops=6000)
    data["database"].pop("storage_throughput_mibps", None)


def _reserved(data: Spec) -> None:
    data["database"]["reserved_connections"] = data["database"]["max_connections"]


def _redis_single(data: Spec) -> None:
    data["database"]["multi_az"] = True
    data["redis"].update(enabled=True, replicas=0)


def _locust(data: Spec) -> None:
    data["harness"] = {**data["harness"], "enabled": True, "locust_workers": 1}
    data["load_test"]["users"] = 5000


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("fargate pair", "tasks", "tasks.memory", _memory),
    Mutation("desired outside range", "counts", "tasks.desired_count", _desired),
    Mutation("min above max", "counts", "scaling.min_tasks", _min_above_max),
    Mutation("subnet outside VPC", "network", "network.private_subnets.0",
             _set("network.private_subnets", ["192.168.0.0/24", "10.0.12.0/24"])),
    Mutation("gp3 iops below 400 GiB", "storage", "database.iops", _gp3_small_iops),
    Mutation("io1 over 50 IOPS/GiB", "storage", "database.iops", _io1_ratio),
    Mutation("reserved >= max_connections", "budget", "database.reserved_connections", _reserved),
    Mutation("lb timeout >= interval", "lb", "load_balancer.health_check.timeout_s",
             lambda data: data["load_balancer"]["health_check"].update(interval_s=10, timeout_s=10)),
    Mutation("lb /health", "lb_path", "load_balancer.health_check.path",
             _set("load_balancer.health_check.path", "/health")),
    Mutation("log retention", "logs", "observability.log_retention_days", _set("observability.log_retention_days", 8)),
    Mutation("certificate", "https", "https.certificate_arn", _set("https.certificate_arn", "arn:aws:acm:nope")),
    Mutation("tls policy", "tls", "https.ssl_policy", _set("https.ssl_policy", "ELBSecurityPolicy-2016-08")),
    Mutation("alarm email", "email", "alarms.email", _set("alarms.email", "not-an-address")),
    Mutation("datapoints", "datapoints", "alarms.datapoints_to_alarm",
             _update("alarms", evaluation_periods=2, datapoints_to_alarm=3)),
    Mutation("description", "description", "description", _set("description", "x" * 1100)),
    Mutation("engine major", "engine", "database.engine_version", _set("database.engine_version", "12.22")),
    Mutation("engine text", "schema_engine", "database.engine_version", _set("database.engine_version", "latest"),
             schema=True),
    Mutation("literal key", "model0", "litellm.models.0.litellm_params.api_key",
             _model_param("api_key", "sk-proj-abcdefghijklmnopqrstuvwxyz012345")),
    Mutation("unset env", "model0", "litellm.models.0.litellm_params.api_key",
             _model_param("api_key", "os.environ/NOBODY_SETS_THIS")),
    Mutation("bad secret arn", "model0", "litellm.models.0.litellm_params.api_key_secret.arn",
             _model_param("api_key_secret", {"env": "OPENAI_API_KEY", "arn": "arn:aws:secretsmanager:openai"})),
    Mutation("reserved env", "model0", "litellm.models.0.litellm_params.api_key_secret.env",
             _model_param("api_key_secret", {"env": "DATABASE_PASSWORD"})),
    Mutation("api_base env", "model0", "litellm.models.0.litellm_params.api_base",
             _model_param("api_base", "os.environ/UPSTREAM_URL")),
    Mutation("redis single node", "redis", "redis.replicas", _redis_single),
    Mutation("redis version", "redis", "redis.engine_version",
             _update("redis", enabled=True, engine_version="5.0.0")),
    Mutation("model name", "model_name", "litellm.models.0.model_name",
             lambda data: data["litellm"]["models"][0].update(model_name="a ${b}")),
    Mutation("image", "image", "litellm.image_repository", _set("litellm.image_repository", "Not An Image")),
    Mutation("db user", "db_user", "database.master_username", _set("database.master_username", "rdsadmin")),
    Mutation("tls 1.0 policy", "tls", "https.ssl_policy",
             _set("https.ssl_policy", "ELBSecurityPolicy-TLS13-1-0-2021-06")),
    Mutation("locust workers", "locust", "harness.locust_workers", _locust),
    Mutation("fixed fleet with max_tasks", "counts", "scaling.max_tasks", _fixed_fleet_with_range),
    Mutation("bandwidth over the fleet", "counts", "tasks.desired_count",
             _update("high_throughput", offered_rps=200_000, request_kib=300)),
    Mutation("keep-alive not above idle", "keepalive", "litellm.keepalive_timeout_s", _keepalive_at_idle),
    Mutation("gunicorn", "keepalive", "litellm.server", _set("litellm.server", "gunicorn")),
    Mutation("redis buffer without redis", "redis", "high_throughput.use_redis_transaction_buffer",
             _buffer_without_redis),
    Mutation("migrations wait budget", "migrations", "migrations.expected_duration_s",
             _update("migrations", mode="init_container", attempts=20, retry_delay_s=60, retry_delay_max_s=300,
                     expected_duration_s=60)),
    Mutation("metrics without prometheus", "metrics", "high_throughput.metrics_port",
             _update("high_throughput", metrics_port=9091, prometheus_callback=False)),
    Mutation("request scaling on a fixed fleet", "counts", "high_throughput.requests_per_target_per_s",
             _request_scaling_on_fixed_fleet),
    Mutation("stop timeout under request timeout", "stop", "high_throughput.stop_timeout_s",
             _update("high_throughput", request_timeout_s=600, stop_timeout_s=30)),
    Mutation("unknown key", "schema_extra", "tasks.colour", _set("tasks.colour", "blue"), schema=True),
    Mutation("cpu value", "schema_cpu", "tasks.cpu", _set("tasks.cpu", 3000), schema=True),
    Mutation("count type", "schema_count", "scaling.max_tasks", _set("scaling.max_tasks", "ten"), schema=True),
    Mutation("storage type", "schema_storage", "database.storage_type", _set("database.storage_type", "st1"),
             schema=True),
)  # fmt: skip


@st.composite
def broken_specs(draw: st.DrawFn) -> tuple[Spec, list[Mutation]]:
    """A valid spec with one to four rules broken (all field errors, or all cross-field rules)."""
    data = copy.deepcopy(draw(valid_specs()))
    schema = draw(st.booleans())
    pool = [m for m in MUTATIONS if m.schema == schema]
    chosen: list[Mutation] = []
    for mutation in draw(st.permutations(pool))[: draw(st.integers(1, 4))]:
        if mutation.group not in {m.group for m in chosen}:
            chosen.append(mutation)
    for mutation in chosen:
        mutation.apply(data)
    return data, chosen
