"""`size`: a measured per-vCPU capacity turned into a spec that serves a target rate, with its cost.

Pure: the capacity comes in as numbers (from a `bench sweep` result, a `bench aws` result, or the
guide), the output is a validated BenchmarkSpec and what it costs. The rules, in order:

- one proxy worker per vCPU (the guide's 4 x 4; measured here: a worker is CPU-bound at ~1 core);
- enough tasks that the target is served at the autoscaling CPU target (70 % by default), never
  fewer than 2 (two AZs); autoscaling may double that for bursts;
- the database by the guide's guidance (4-8 vCPU for 1-2K RPS: see db_vcpu_for) on the
  benchmark's memory-optimised family, with max_connections for every worker's
  pool at the largest fleet, twice over while a rolling deployment replaces it.

A vCPU here is not a Fargate vCPU: `calibration` is Fargate RPS per vCPU / local RPS per vCPU,
1.0 until you measured both (see README, "Capacity and sizing").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from . import catalog
from .cost import estimate
from .spec import ROLLING_MAXIMUM_PERCENT, BenchmarkSpec, SpecError, format_validation_error


def db_vcpu_for(target_rps: float) -> int:
    """The guide's DB guidance (4-8 cores for 1-2K RPS; the benchmark runs 1,170 RPS on 4), extended:
    2 below 1K, 4 up to 2K, 8 above (the largest class here; LiteLLM writes spend in batches, so DB
    load grows slower than the request rate)."""
    return 2 if target_rps < 1000 else 4 if target_rps <= 2000 else 8


DB_FAMILY = "db.r6g."
MIN_POOL_PER_WORKER = 5
RESERVED_CONNECTIONS = 50
MAX_TASKS = 100


@dataclass(frozen=True)
class Capacity:
    rps_per_vcpu: float
    source: str
    calibration: float = 1.0

    @property
    def fargate_rps_per_vcpu(self) -> float:
        return self.rps_per_vcpu * self.calibration


@dataclass(frozen=True)
class SizingPlan:
    target_rps: float
    capacity: Capacity
    spec: BenchmarkSpec
    fleet_rps_at_target_cpu: float
    hourly_usd: float
    region: str

    @property
    def usd_per_million_requests(self) -> float:
        return self.hourly_usd / (self.target_rps * 3600 / 1_000_000)


def _db_class(vcpu_needed: int, connections_needed: int) -> str:
    candidates = sorted(
        (name for name in catalog.DB_INSTANCE_CLASSES if name.startswith(DB_FAMILY)),
        key=lambda n: catalog.DB_INSTANCE_CLASSES[n].vcpu,
    )
    for name in candidates:
        db = catalog.DB_INSTANCE_CLASSES[name]
        if db.vcpu >= vcpu_needed and db.default_max_connections >= connections_needed:
            return name
    raise ValueError(
        f"no {DB_FAMILY}* class this project knows has {vcpu_needed} vCPU and {connections_needed} connections; "
        "lower --target-rps or use a larger task size (fewer workers in all)"
    )


def size_for(
    target_rps: float,
    capacity: Capacity,
    *,
    task_cpu: int = 4096,
    cpu_target_percent: float = 70.0,
    region: str = "us-east-1",
    name: str = "sized",
) -> SizingPlan:
    if target_rps <= 0:
        raise ValueError("--target-rps must be above 0")
    if capacity.fargate_rps_per_vcpu <= 0:
        raise ValueError("the capacity per vCPU must be above 0")
    workers = task_cpu // 1024
    if workers < 1:
        raise ValueError("--task-cpu must be 1024 or more: one proxy worker needs a whole vCPU")
    per_task = workers * capacity.fargate_rps_per_vcpu
    tasks = max(2, math.ceil(target_rps / (per_task * cpu_target_percent / 100)))
    max_tasks = min(MAX_TASKS, max(tasks + 1, 2 * tasks))
    if tasks > MAX_TASKS:
        raise ValueError(
            f"{target_rps:g} req/s needs {tasks} tasks of {workers} vCPU, above the {MAX_TASKS} a spec allows; "
            "use --task-cpu 8192 or 16384"
        )
    at_once = max_tasks * ROLLING_MAXIMUM_PERCENT // 100  # a rolling deployment at the maximum
    connections = at_once * workers * MIN_POOL_PER_WORKER + RESERVED_CONNECTIONS
    db_class = _db_class(db_vcpu_for(target_rps), connections)
    ceiling = catalog.DB_INSTANCE_CLASSES[db_class].default_max_connections
    max_connections = min(ceiling, max(500, math.ceil(connections * 1.1)))
    # Keep a tenth free of the pools: the connections alarm fires at 90 % of max_connections.
    reserved = max(RESERVED_CONNECTIONS, max_connections // 10)
    memory = min(catalog.FARGATE_MEMORY_BY_CPU[task_cpu])
    data: dict[str, Any] = {
        "name": name,
        "description": f"LiteLLM proxy sized for {target_rps:g} req/s ({capacity.source})",
        "tasks": {"cpu": task_cpu, "memory": max(memory, 2048 * workers), "desired_count": tasks},
        "scaling": {
            "enabled": True,
            "min_tasks": tasks,
            "max_tasks": max_tasks,
            "cpu_target_percent": cpu_target_percent,
        },
        "litellm": {"workers": workers},
        "database": {
            "instance_class": db_class,
            "max_connections": max_connections,
            "reserved_connections": reserved,
        },
        "harness": {"enabled": False},
    }
    try:
        spec = BenchmarkSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc)) from None
    hourly = estimate(spec, region=region, hours=1).hourly
    return SizingPlan(
        target_rps=target_rps,
        capacity=capacity,
        spec=spec,
        fleet_rps_at_target_cpu=tasks * per_task * cpu_target_percent / 100,
        hourly_usd=hourly,
        region=region,
    )


def spec_overrides(plan: SizingPlan) -> dict[str, Any]:
    """The sized spec as a spec file: only what differs from the benchmark defaults."""
    defaults = BenchmarkSpec().model_dump(mode="json")
    sized = plan.spec.model_dump(mode="json")

    def diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in b.items():
            if isinstance(value, dict) and isinstance(a.get(key), dict):
                sub = diff(a[key], value)
                if sub:
                    out[key] = sub
            elif a.get(key) != value:
                out[key] = value
        return out

    return diff(defaults, sized)


def describe(plan: SizingPlan) -> list[str]:
    s = plan.spec
    cap = plan.capacity
    return [
        f"target: {plan.target_rps:g} req/s; capacity {cap.rps_per_vcpu:g} req/s per vCPU ({cap.source}) "
        f"x calibration {cap.calibration:g} = {cap.fargate_rps_per_vcpu:g} req/s per Fargate vCPU",
        f"fleet: {s.tasks.desired_count} tasks x {s.tasks.cpu // 1024} vCPU / {s.tasks.memory} MiB, "
        f"{s.litellm.workers} workers each; autoscaling {s.scaling.min_tasks}-{s.scaling.max_tasks} on CPU "
        f"{s.scaling.cpu_target_percent:g} %: serves {plan.fleet_rps_at_target_cpu:.0f} req/s at that CPU",
        f"database: {s.database.instance_class} ({s.database.instance.vcpu} vCPU), max_connections "
        f"{s.database.max_connections}, pool {s.pool_limit} per worker at {s.pool_tasks} tasks "
        f"({s.scaling.max_tasks} and a rolling deployment's replacements)",
        f"cost: ${plan.hourly_usd:.2f}/hour in {plan.region}, ${plan.usd_per_million_requests:.3f} per million "
        f"requests at {plan.target_rps:g} req/s (list prices; `litellm-bench-cfn cost` for the breakdown)",
    ]
