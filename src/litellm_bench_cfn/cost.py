"""Cost estimate of a spec's stack: per hour, per month (730 h) and per benchmark run.

Prices come from the dated table `pricing/prices.json` (one entry per region, each with `date`,
`source` and `verified`; docs/cost.md says how to update it). Every component is reduced to an
hourly rate, so a month is rate x 730 and `--hours H` is rate x H. Usage-driven charges (load
balancer LCUs, NAT data, data transfer) rest on the assumptions in `UsageAssumptions`, which the
report prints. Pure functions: the CLI reads the files and prints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from . import catalog
from .spec import BenchmarkSpec

HOURS_PER_MONTH = 730
GIB = 1024**3
GUIDE_PROMPT_CHARS = (36 + len(" This is a test there will be no cache hits and we'll fill up the context")) * 150
"""The guide's payload: `f"{uuid4()} This is a test ... context" * 150` (about 16 KB)."""
REQUEST_BYTES = GUIDE_PROMPT_CHARS + 200
RESPONSE_BYTES = 700
SECRETS_IN_STACK = 3  # DB password, master key, salt key
ALB_PUBLIC_IPV4 = 2  # one per public subnet


def nat_gateways_in_stack(spec: BenchmarkSpec) -> int:
    """`network.nat_gateways`: 1 for both AZs, or one per AZ (stack/network.py)."""
    return spec.network.nat_gateways


def public_ipv4_in_stack(spec: BenchmarkSpec) -> int:
    """The ALB's addresses and one Elastic IP per NAT gateway."""
    return ALB_PUBLIC_IPV4 + nat_gateways_in_stack(spec)


class PricingError(ValueError):
    """A region or an instance class the price table does not list."""


@dataclass(frozen=True)
class UsageAssumptions:
    """What the month's usage-driven charges assume (printed with every estimate)."""

    alb_lcu: float = 1.0
    """Average load balancer capacity units over the month (light, steady traffic)."""
    nat_gb_month: float = 50.0
    """GB through the NAT gateway per month: image pulls on deploys, upstream calls, logs."""
    transfer_out_gb_month: float = 50.0
    """GB sent to the internet per month (responses, upstream requests)."""


@dataclass(frozen=True)
class RunAssumptions:
    """One benchmark run: the stack exists create + run + delete minutes, every resource throughout."""

    create_min: float = 25.0
    delete_min: float = 15.0
    mean_response_s: float = 0.1
    """Added to Locust's mean wait to estimate the run's request rate (users / (wait + response))."""
    mean_wait_s: float = 0.75
    """The guide's `between(0.5, 1)`."""


@dataclass(frozen=True)
class LoadGenerator:
    """Optional Locust machine in AWS, priced as a Fargate task (the default runs from your machine)."""

    vcpu: float = 4.0
    memory_gb: float = 8.0


@dataclass(frozen=True)
class Component:
    name: str
    basis: str
    hourly: float

    @property
    def monthly(self) -> float:
        return self.hourly * HOURS_PER_MONTH


@dataclass(frozen=True)
class RunItem:
    name: str
    basis: str
    cost: float


@dataclass(frozen=True)
class Estimate:
    spec_name: str
    region: str
    price_date: str
    price_source: str
    verified: bool
    hours: float
    components: tuple[Component, ...]
    run_minutes: tuple[float, float, float]
    run_items: tuple[RunItem, ...]
    leftover_snapshot_monthly: float
    notes: tuple[str, ...] = field(default=())

    @property
    def hourly(self) -> float:
        return sum(c.hourly for c in self.components)

    @property
    def monthly(self) -> float:
        return self.hourly * HOURS_PER_MONTH

    @property
    def period(self) -> float:
        return self.hourly * self.hours

    @property
    def run_total(self) -> float:
        return sum(item.cost for item in self.run_items)


def load_prices() -> dict[str, Any]:
    text = resources.files("litellm_bench_cfn.pricing").joinpath("prices.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def region_prices(prices: dict[str, Any], region: str) -> dict[str, Any]:
    regions: dict[str, Any] = prices["regions"]
    if region not in regions:
        raise PricingError(f"no prices for region {region!r}; known: {', '.join(sorted(regions))} (see docs/cost.md)")
    table: dict[str, Any] = regions[region]
    return table


@dataclass(frozen=True)
class RedisNodes:
    node_type: str
    count: int


def redis_nodes(spec: BenchmarkSpec) -> RedisNodes | None:
    """The spec's Redis, if it has one. The field is being added (issue #8): read it defensively."""
    redis = getattr(spec, "redis", None) or getattr(spec, "cache", None)
    if redis is None or getattr(redis, "enabled", True) is False:
        return None
    node_type = getattr(redis, "node_type", None) or getattr(redis, "cache_node_type", None) or "cache.r7g.large"
    count = getattr(redis, "num_nodes", None) or getattr(redis, "num_cache_nodes", None)
    if count is None:
        count = 1 + int(getattr(redis, "replicas", 0) or getattr(redis, "replicas_per_node_group", 0) or 0)
    return RedisNodes(str(node_type), int(count))


def _db_storage_components(spec: BenchmarkSpec, rds: dict[str, Any], az: int) -> list[Component]:
    db = spec.database
    rules = catalog.STORAGE_RULES[db.storage_type]
    per_gb = rds["storage_gb_month"][db.storage_type]
    where = " x 2 (Multi-AZ)" if az == 2 else ""
    items = [
        Component(
            "RDS storage",
            f"{db.allocated_storage_gib} GB {db.storage_type} x ${per_gb}/GB-month{where}",
            db.allocated_storage_gib * per_gb * az / HOURS_PER_MONTH,
        )
    ]
    if db.storage_type == "gp3" and rules.baseline_below and rules.baseline_from and rules.provisioned_from_gib:
        large = db.allocated_storage_gib >= rules.provisioned_from_gib
        base_iops, base_mibps = rules.baseline_from if large else rules.baseline_below
        extra_iops = max(0, (db.iops or base_iops) - base_iops)
        extra_mibps = max(0, (db.storage_throughput_mibps or base_mibps) - base_mibps)
        if extra_iops:
            items.append(
                Component(
                    "RDS gp3 IOPS",
                    f"{extra_iops} IOPS above the {base_iops} baseline x ${rds['gp3_iops_month']}/IOPS-month{where}",
                    extra_iops * rds["gp3_iops_month"] * az / HOURS_PER_MONTH,
                )
            )
        if extra_mibps:
            items.append(
                Component(
                    "RDS gp3 throughput",
                    f"{extra_mibps} MiB/s above {base_mibps} x ${rds['gp3_mibps_month']}/MiBps-month{where}",
                    extra_mibps * rds["gp3_mibps_month"] * az / HOURS_PER_MONTH,
                )
            )
    elif db.storage_type in ("io1", "io2") and db.iops:
        items.append(
            Component(
                "RDS provisioned IOPS",
                f"{db.iops} IOPS x ${rds['io_iops_month']}/IOPS-month{where}",
                db.iops * rds["io_iops_month"] * az / HOURS_PER_MONTH,
            )
        )
    return items


def components(
    spec: BenchmarkSpec,
    table: dict[str, Any],
    usage: UsageAssumptions,
    load_generator: LoadGenerator | None = None,
) -> list[Component]:
    """Every billed component of the stack as an hourly rate, at the spec's desired task count."""
    fargate, rds = table["fargate"], table["rds_postgres"]
    tasks = spec.tasks
    vcpu, mem_gb = tasks.cpu / 1024, tasks.memory / 1024
    db = spec.database
    try:
        db_hour = rds["instance_hour"][db.instance_class]
    except KeyError:
        raise PricingError(f"no RDS price for {db.instance_class}; add it to pricing/prices.json") from None
    az = 2 if db.multi_az else 1
    items = [
        Component(
            "Fargate vCPU",
            f"{tasks.desired_count} tasks x {vcpu:g} vCPU x ${fargate['vcpu_hour']}/vCPU-hour",
            tasks.desired_count * vcpu * fargate["vcpu_hour"],
        ),
        Component(
            "Fargate memory",
            f"{tasks.desired_count} tasks x {mem_gb:g} GB x ${fargate['gb_hour']}/GB-hour",
            tasks.desired_count * mem_gb * fargate["gb_hour"],
        ),
        Component(
            "RDS instance",
            f"{db.instance_class} x ${db_hour}/hour" + (" x 2 (Multi-AZ)" if az == 2 else " (Single-AZ)"),
            db_hour * (rds["multi_az_factor"] if az == 2 else 1),
        ),
        *_db_storage_components(spec, rds, az),
        Component(
            "Load balancer",
            f"ALB ${table['alb']['hour']}/hour + {usage.alb_lcu:g} LCU x ${table['alb']['lcu_hour']}/LCU-hour",
            table["alb"]["hour"] + usage.alb_lcu * table["alb"]["lcu_hour"],
        ),
        Component(
            "NAT gateway",
            f"{nat_gateways_in_stack(spec)} x ${table['nat_gateway']['hour']}/hour + {usage.nat_gb_month:g} GB/month x "
            f"${table['nat_gateway']['gb_processed']}/GB",
            nat_gateways_in_stack(spec) * table["nat_gateway"]["hour"]
            + usage.nat_gb_month * table["nat_gateway"]["gb_processed"] / HOURS_PER_MONTH,
        ),
        Component(
            "Public IPv4",
            f"{public_ipv4_in_stack(spec)} addresses x ${table['public_ipv4_hour']}/hour",
            public_ipv4_in_stack(spec) * table["public_ipv4_hour"],
        ),
        Component(
            "Data transfer out",
            f"{usage.transfer_out_gb_month:g} GB/month x ${table['data_transfer_out_gb']}/GB",
            usage.transfer_out_gb_month * table["data_transfer_out_gb"] / HOURS_PER_MONTH,
        ),
        Component(
            "Secrets Manager",
            f"{SECRETS_IN_STACK} secrets x ${table['secrets_manager_secret_month']}/month",
            SECRETS_IN_STACK * table["secrets_manager_secret_month"] / HOURS_PER_MONTH,
        ),
    ]
    redis = redis_nodes(spec)
    if redis is not None:
        node_prices = table["elasticache_node_hour"]
        if redis.node_type not in node_prices:
            raise PricingError(f"no ElastiCache price for {redis.node_type}; add it to pricing/prices.json")
        items.append(
            Component(
                "ElastiCache Redis",
                f"{redis.count} x {redis.node_type} x ${node_prices[redis.node_type]}/hour",
                redis.count * node_prices[redis.node_type],
            )
        )
    if load_generator is not None:
        items.append(
            Component(
                "Load generator",
                f"Fargate {load_generator.vcpu:g} vCPU / {load_generator.memory_gb:g} GB (Locust)",
                load_generator.vcpu * fargate["vcpu_hour"] + load_generator.memory_gb * fargate["gb_hour"],
            )
        )
    return items


def run_request_rate(spec: BenchmarkSpec, run: RunAssumptions) -> float:
    if spec.high_throughput.offered_rps is not None:  # constant_throughput(1): the rate is set, not waited for
        return float(spec.high_throughput.offered_rps)
    return spec.load_test.users / (run.mean_wait_s + run.mean_response_s)


def _request_bytes(spec: BenchmarkSpec) -> int:
    if spec.high_throughput.offered_rps is not None:
        return spec.high_throughput.request_kib * 1024
    return REQUEST_BYTES


def _mock_model_only(spec: BenchmarkSpec) -> bool:
    """Every model is LiteLLM's in-process mock: no request leaves the proxy for an upstream."""
    return all(m.litellm_params.mock_response is not None for m in spec.litellm.models)


def _harness_items(spec: BenchmarkSpec, table: dict[str, Any], life_min: float, run_min: float) -> list[RunItem]:
    """The in-VPC harness of a high-throughput run: Locust workers + master for the run, the fake
    endpoint service for the stack's life (priced only for specs with high_throughput.offered_rps)."""
    h, fargate = spec.harness, table["fargate"]
    if not h.enabled or spec.high_throughput.offered_rps is None:
        return []
    locust_h = (h.locust_workers + 1) * (
        h.locust_cpu / 1024 * fargate["vcpu_hour"] + h.locust_memory / 1024 * fargate["gb_hour"]
    )
    fake_h = h.fake_endpoint_tasks * (
        h.fake_endpoint_cpu / 1024 * fargate["vcpu_hour"] + h.fake_endpoint_memory / 1024 * fargate["gb_hour"]
    )
    return [
        RunItem(
            "Harness Locust",
            f"{h.locust_workers} workers + master x {h.locust_cpu / 1024:g} vCPU for {run_min + 5:g} min",
            locust_h * (run_min + 5) / 60,
        ),
        RunItem("Harness fake endpoint", f"{h.fake_endpoint_tasks} tasks for {life_min:g} min", fake_h * life_min / 60),
    ]


def run_items(spec: BenchmarkSpec, table: dict[str, Any], parts: list[Component], run: RunAssumptions) -> list[RunItem]:
    """One benchmark run: the stack lives create + run + delete minutes.

    Billing granularity: RDS per second with a 10-minute minimum; Fargate per second with a
    1-minute minimum; the ALB and NAT gateway per started hour; public IPv4 per started hour;
    storage and secrets pro rata. The run's traffic adds LCUs, NAT data (the proxy sends each
    prompt to the fake endpoint on the internet) and data transfer out.
    """
    run_min = spec.load_test.duration_s / 60
    life_min = run.create_min + run_min + run.delete_min
    life_h = life_min / 60
    started_h = math.ceil(life_h)
    by_name = {c.name: c for c in parts}
    items: list[RunItem] = []

    def add(name: str, basis: str, cost: float) -> None:
        items.append(RunItem(name, basis, cost))

    fargate_h = max(life_min, 1) / 60
    for name in ("Fargate vCPU", "Fargate memory", "Load generator"):
        if name in by_name:
            add(name, f"{life_min:g} min", by_name[name].hourly * fargate_h)
    rds_h = max(life_min, 10) / 60
    add("RDS instance", f"{life_min:g} min (10-min minimum)", by_name["RDS instance"].hourly * rds_h)
    for c in parts:
        if (c.name.startswith("RDS ") and c.name != "RDS instance") or c.name == "Secrets Manager":
            add(c.name, f"{life_min:g} min pro rata", c.hourly * life_h)
    if "ElastiCache Redis" in by_name:
        add("ElastiCache Redis", f"{started_h} started hour(s)", by_name["ElastiCache Redis"].hourly * started_h)

    rps = run_request_rate(spec, run)
    requests = rps * spec.load_test.duration_s
    request_bytes = _request_bytes(spec)
    alb_gb_per_h = rps * (request_bytes + RESPONSE_BYTES) * 3600 / 1e9
    run_lcu = max(alb_gb_per_h, rps / 1000)  # processed bytes (1 GB/h) vs rule evaluations (1,000/s)
    alb = table["alb"]
    add(
        "Load balancer",
        f"{started_h} started hour(s) + {run_lcu:.0f} LCU for {run_min:g} min (~{rps:,.0f} req/s)",
        alb["hour"] * started_h + run_lcu * alb["lcu_hour"] * run_min / 60,
    )
    upstream_gb = requests * (request_bytes + RESPONSE_BYTES) / 1e9
    nat = table["nat_gateway"]
    if spec.high_throughput.offered_rps is not None and spec.harness.enabled:
        # The harness runs in the private subnets and targets the internet-facing ALB: every byte
        # leaves through the NAT gateway and comes back in through the ALB's public address.
        where = "Locust (private subnets) to the public ALB"
        out_gb = 0.0 if _mock_model_only(spec) else upstream_gb
        nat_gb = upstream_gb + out_gb
    else:
        where, nat_gb, out_gb = "to the fake endpoint", upstream_gb, upstream_gb
    add(
        "NAT gateway",
        f"{started_h} started hour(s) + {nat_gb:.1f} GB {where}",
        nat["hour"] * nat_gateways_in_stack(spec) * started_h + nat_gb * nat["gb_processed"],
    )
    add(
        "Public IPv4",
        f"{public_ipv4_in_stack(spec)} x {started_h} started hour(s)",
        public_ipv4_in_stack(spec) * table["public_ipv4_hour"] * started_h,
    )
    add("Data transfer out", f"{out_gb:.1f} GB (prompts upstream, responses)", out_gb * table["data_transfer_out_gb"])
    items.extend(_harness_items(spec, table, life_min, run_min))
    return items


def estimate(
    spec: BenchmarkSpec,
    region: str = "us-east-1",
    hours: float = HOURS_PER_MONTH,
    usage: UsageAssumptions | None = None,
    run: RunAssumptions | None = None,
    load_generator: LoadGenerator | None = None,
    prices: dict[str, Any] | None = None,
) -> Estimate:
    usage = usage or UsageAssumptions()
    run = run or RunAssumptions()
    table = region_prices(prices or load_prices(), region)
    parts = components(spec, table, usage, load_generator)
    notes = []
    if redis_nodes(spec) is None:
        notes.append("no Redis in this spec (the guide's benchmark runs without it)")
    snapshot = spec.database.allocated_storage_gib * table["rds_postgres"]["snapshot_gb_month"]
    return Estimate(
        spec_name=spec.name,
        region=region,
        price_date=table["date"],
        price_source=table["source"],
        verified=bool(table.get("verified", False)),
        hours=hours,
        components=tuple(parts),
        run_minutes=(run.create_min, spec.load_test.duration_s / 60, run.delete_min),
        run_items=tuple(run_items(spec, table, parts, run)),
        leftover_snapshot_monthly=snapshot,
        notes=tuple(notes),
    )


def format_estimate(est: Estimate, usage: UsageAssumptions | None = None) -> str:
    usage = usage or UsageAssumptions()
    period = f"$/{est.hours:g} h" if est.hours != HOURS_PER_MONTH else "$/month"
    rows = [(c.name, c.basis, f"{c.hourly:.4f}", f"{c.hourly * est.hours:,.2f}") for c in est.components]
    rows.append(("Total", "", f"{est.hourly:.4f}", f"{est.period:,.2f}"))
    head = ("Component", "Basis", "$/hour", period)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]

    def line(r: tuple[str, str, str, str]) -> str:
        return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}".rstrip()

    verified = "verified" if est.verified else "NOT verified against AWS: see docs/cost.md"
    out = [
        f"Cost estimate for '{est.spec_name}' in {est.region}, on-demand prices as of {est.price_date} ({verified})",
        line(head),
        line(("-" * widths[0], "-" * widths[1], "-" * widths[2], "-" * widths[3])),
        *(line(r) for r in rows),
        "",
        f"Monthly ({HOURS_PER_MONTH} h): ${est.monthly:,.2f}",
        f"Assumptions: {usage.alb_lcu:g} LCU average, {usage.nat_gb_month:g} GB/month through NAT, "
        f"{usage.transfer_out_gb_month:g} GB/month out to the internet; tasks at the desired count; no free tier, "
        "savings plans, CloudWatch (logs, Container Insights) or snapshot storage beyond the free backup allowance.",
    ]
    out.extend(f"Note: {n}" for n in est.notes)
    create, run_min, delete = est.run_minutes
    life = create + run_min + delete
    out += [
        "",
        f"One benchmark run: stack up {create:g} min create + {run_min:g} min load test + {delete:g} min delete "
        f"= {life:g} min, every resource billed throughout",
    ]
    width = max(len(i.name) for i in est.run_items)
    out += [f"  {i.name:<{width}}  ${i.cost:8.2f}  {i.basis}" for i in est.run_items]
    out += [
        f"  {'Total':<{width}}  ${est.run_total:8.2f}",
        f"  Afterwards: the final DB snapshot (DeletionPolicy: Snapshot) costs ~${est.leftover_snapshot_monthly:,.2f}"
        "/month until you delete it.",
    ]
    return "\n".join(out) + "\n"
