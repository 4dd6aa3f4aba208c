"""`bench local`: the guide's benchmark on this machine, direct baseline then through the proxy."""

from __future__ import annotations

import json
import os
import platform
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..processes import cpu_seconds
from ..versions import LITELLM_VERSION, LOCUST_VERSION
from .local_stack import ProxyVariant, RunningStack, load_template, running_stack
from .locust_run import LoadResult, LoadShape, run_locust
from .published import FOUR_INSTANCES, PUBLISHED_RPS_PER_WORKER

SCENARIOS = ("guide", "rate-limited")
RATE_LIMIT_DEPLOYMENTS = ("deployment-a", "deployment-b")
SATURATION = 0.85
"""A process using this share of the CPU it can use counts as the limit."""


@dataclass(frozen=True)
class BenchOptions:
    template: Path
    workdir: Path
    users: int = 100
    spawn_rate: float = 100
    duration_s: int = 45
    baseline_duration_s: int = 15
    workers: int = 1
    scenario: str = "guide"
    rpm_limit: int = 600
    variant: ProxyVariant = field(default_factory=ProxyVariant)
    upstream_latency_ms: float = 0.0
    """The fake endpoint answers after this delay (its --delay-ms): an upstream over a network."""


@dataclass
class PhaseResult:
    name: str
    load: LoadResult
    cpu_s: dict[str, float]
    upstream: dict[str, Any]

    def cpu_share(self, process: str) -> float:
        return self.cpu_s.get(process, 0.0) / max(self.load.wall_s, 1e-9)


@dataclass
class BenchReport:
    machine: dict[str, Any]
    options: dict[str, Any]
    boot_seconds: float
    baseline: PhaseResult | None
    proxy: PhaseResult
    flags: list[str]
    measured_overhead_ms: dict[str, float | None]
    rate_limit: dict[str, Any] | None
    published: dict[str, Any]
    accounting: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str)


def machine_facts() -> dict[str, Any]:
    import psutil

    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "litellm": LITELLM_VERSION,
        "locust": LOCUST_VERSION,
    }


def fake_stats(stack: RunningStack) -> dict[str, Any]:
    with urllib.request.urlopen(f"{stack.fake_url}/stats", timeout=5) as response:
        stats: dict[str, Any] = json.load(response)
        return stats


def reset_fake_stats(stack: RunningStack) -> None:
    urllib.request.urlopen(f"{stack.fake_url}/stats/reset", timeout=5).close()


def _phase(
    name: str, stack: RunningStack, host: str, shape: LoadShape, options: BenchOptions, say: Callable[[str], None]
) -> PhaseResult:
    reset_fake_stats(stack)
    before = {"proxy": cpu_seconds(stack.proxy.pid), "fake_endpoint": cpu_seconds(stack.fake_endpoint.pid)}
    load = run_locust(host, shape, options.workdir, name=name, master_key=stack.master_key, progress=say)
    after = {"proxy": cpu_seconds(stack.proxy.pid), "fake_endpoint": cpu_seconds(stack.fake_endpoint.pid)}
    cpu = {k: max(0.0, after[k] - before[k]) for k in before}
    cpu["locust"] = load.locust_cpu_s
    if load.requests == 0:
        raise RuntimeError(f"{name}: Locust sent no request; see {options.workdir}/{name}_locust.log")
    return PhaseResult(name=name, load=load, cpu_s=cpu, upstream=fake_stats(stack))


def saturation_flags(phase: PhaseResult, workers: int) -> list[str]:
    cores = os.cpu_count() or 1
    flags = []
    proxy_ceiling = min(workers, cores)
    if phase.cpu_share("proxy") >= SATURATION * proxy_ceiling:
        flags.append(
            f"proxy-saturated: the proxy used {phase.cpu_share('proxy'):.2f} of {proxy_ceiling} core(s) its "
            f"{workers} worker(s) can use"
        )
    offered = phase.load.shape.users / 0.75  # between(0.5, 1) waits 0.75 s on average
    if phase.cpu_share("locust") >= SATURATION:
        flags.append(
            f"client-bound: Locust used {phase.cpu_share('locust'):.2f} of its one core; the load generator was "
            f"the limit (offered ~{offered:.0f} req/s)"
        )
    if phase.cpu_share("fake_endpoint") >= SATURATION:
        flags.append("upstream-bound: the fake endpoint used a whole core")
    return flags


def rate_limited_models(fake_url: str) -> list[dict[str, Any]]:
    return [
        {
            "model_name": "fake-openai-endpoint",
            "litellm_params": {
                "model": "openai/any",
                "api_key": "test",
                "api_base": f"{fake_url}/deployment/{name}/v1",
            },
        }
        for name in RATE_LIMIT_DEPLOYMENTS
    ]


def accounting(phase: PhaseResult) -> dict[str, Any]:
    """Every request accounted for: what Locust recorded against what reached the fake endpoint.

    Through the proxy each successful request is one upstream call (LiteLLM retries failed ones),
    so in the guide scenario upstream 200s must equal Locust's successes."""
    successes = phase.load.requests - phase.load.failures
    upstream_ok = int(phase.upstream.get("status", {}).get("200", 0))
    return {
        "sent": phase.load.requests,
        "succeeded": successes,
        "failed": phase.load.failures,
        "upstream_200": upstream_ok,
        "upstream_total": int(phase.upstream.get("requests", 0)),
        "balanced": successes == upstream_ok,
    }


def rate_limit_summary(phase: PhaseResult, options: BenchOptions) -> dict[str, Any]:
    """Successes per minute against the sum of the deployments' quotas (the guide expects ~the sum)."""
    minutes = options.duration_s / 60
    per_deployment = {
        name: phase.upstream.get("keys", {}).get(name, {}).get("200", 0) for name in RATE_LIMIT_DEPLOYMENTS
    }
    successes = phase.load.requests - phase.load.failures
    return {
        "quota_rpm_per_deployment": options.rpm_limit,
        "quota_rpm_total": options.rpm_limit * len(RATE_LIMIT_DEPLOYMENTS),
        "upstream_successes_per_deployment": per_deployment,
        "client_successes": successes,
        "client_successes_per_minute": round(successes / minutes, 1),
        "upstream_429": sum(phase.upstream.get("keys", {}).get(n, {}).get("429", 0) for n in RATE_LIMIT_DEPLOYMENTS),
    }


def fake_endpoint_args(options: BenchOptions) -> tuple[str, ...]:
    """The fake endpoint's flags for this run: the scenario's quotas and the upstream delay."""
    args: tuple[str, ...] = ()
    if options.scenario == "rate-limited":
        args = tuple(a for name in RATE_LIMIT_DEPLOYMENTS for a in ("--rpm-limit", f"{name}={options.rpm_limit}"))
    if options.upstream_latency_ms > 0:
        args += ("--delay-ms", f"{options.upstream_latency_ms:g}")
    return args


def run_bench(options: BenchOptions, say: Callable[[str], None] = print) -> BenchReport:
    if options.scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {options.scenario!r}; choose one of {', '.join(SCENARIOS)}")
    template = load_template(options.template)
    options.workdir.mkdir(parents=True, exist_ok=True)
    shape = LoadShape(options.users, options.spawn_rate, options.duration_s)
    rate_limited = options.scenario == "rate-limited"
    fake_args = fake_endpoint_args(options)
    say(
        f"starting the fake OpenAI endpoint and the LiteLLM proxy from {options.template} "
        f"({options.workers} worker(s), variant {options.variant.name})"
    )
    started = time.monotonic()
    with running_stack(
        template,
        options.workdir,
        workers=options.workers,
        variant=options.variant,
        fake_args=fake_args,
        model_list_factory=rate_limited_models if rate_limited else None,
    ) as stack:
        say(f"proxy ready in {stack.boot_seconds:.1f}s at {stack.proxy_url}")
        baseline = None
        if options.baseline_duration_s > 0 and not rate_limited:
            seconds = options.baseline_duration_s
            say(f"direct baseline: {options.users} users straight to the fake endpoint for {seconds}s")
            base_shape = LoadShape(options.users, options.spawn_rate, options.baseline_duration_s)
            baseline = _phase("direct", stack, f"{stack.fake_url}/", base_shape, options, say)
        say(f"through the proxy: {options.users} users, spawn {options.spawn_rate:g}/s, {options.duration_s}s")
        proxy = _phase("proxy", stack, f"{stack.proxy_url}/", shape, options, say)
    say(f"all processes stopped ({time.monotonic() - started:.0f}s in all)")
    overhead: dict[str, float | None] = {}
    if baseline is not None:
        for key in ("p50", "p95", "p99", "avg"):
            through, direct = proxy.load.latency_ms.get(key), baseline.load.latency_ms.get(key)
            overhead[key] = None if through is None or direct is None else round(through - direct, 2)
    return BenchReport(
        machine=machine_facts(),
        options={
            "template": str(options.template),
            "scenario": options.scenario,
            "users": options.users,
            "spawn_rate": options.spawn_rate,
            "duration_s": options.duration_s,
            "workers": options.workers,
            "variant": options.variant.name,
            "upstream_latency_ms": options.upstream_latency_ms,
        },
        boot_seconds=stack.boot_seconds,
        baseline=baseline,
        proxy=proxy,
        flags=saturation_flags(proxy, options.workers),
        measured_overhead_ms=overhead,
        rate_limit=rate_limit_summary(proxy, options) if rate_limited else None,
        accounting=accounting(proxy),
        published={
            **asdict(FOUR_INSTANCES),
            "rps_per_worker": round(PUBLISHED_RPS_PER_WORKER, 1),
        },
    )
