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
from .locust_run import HIGH_THROUGHPUT_LOCUSTFILE, LOCUSTFILE, LoadResult, LoadShape, run_locust
from .published import FOUR_INSTANCES, HIGH_THROUGHPUT, PUBLISHED_RPS_PER_WORKER

SCENARIOS = ("guide", "rate-limited", "high-throughput")
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
    upstream: str = ""
    """high-throughput only: "mock" (default) or "fake-endpoint"; see HIGH_THROUGHPUT_UPSTREAMS."""


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
    high_throughput: dict[str, Any] | None = None

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
    name: str,
    stack: RunningStack,
    host: str,
    shape: LoadShape,
    options: BenchOptions,
    say: Callable[[str], None],
    locustfile: Path = LOCUSTFILE,
) -> PhaseResult:
    reset_fake_stats(stack)
    before = {"proxy": cpu_seconds(stack.proxy.pid), "fake_endpoint": cpu_seconds(stack.fake_endpoint.pid)}
    load = run_locust(
        host, shape, options.workdir, name=name, master_key=stack.master_key, progress=say, locustfile=locustfile
    )
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


def run_bench(options: BenchOptions, say: Callable[[str], None] = print) -> BenchReport:
    if options.scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {options.scenario!r}; choose one of {', '.join(SCENARIOS)}")
    high_throughput = options.scenario == "high-throughput"
    upstream = high_throughput_upstream(options)
    template = load_template(options.template)
    options.workdir.mkdir(parents=True, exist_ok=True)
    shape = LoadShape(options.users, options.spawn_rate, options.duration_s)
    rate_limited = options.scenario == "rate-limited"
    fake_args: tuple[str, ...] = ()
    if rate_limited:
        fake_args = tuple(a for name in RATE_LIMIT_DEPLOYMENTS for a in ("--rpm-limit", f"{name}={options.rpm_limit}"))
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
        model_list_factory=rate_limited_models if rate_limited else mock_models if upstream == "mock" else None,
    ) as stack:
        say(f"proxy ready in {stack.boot_seconds:.1f}s at {stack.proxy_url}")
        baseline = None
        if options.baseline_duration_s > 0 and not rate_limited and not high_throughput:
            seconds = options.baseline_duration_s
            say(f"direct baseline: {options.users} users straight to the fake endpoint for {seconds}s")
            base_shape = LoadShape(options.users, options.spawn_rate, options.baseline_duration_s)
            baseline = _phase("direct", stack, f"{stack.fake_url}/", base_shape, options, say)
        say(f"through the proxy: {options.users} users, spawn {options.spawn_rate:g}/s, {options.duration_s}s")
        locustfile = HIGH_THROUGHPUT_LOCUSTFILE if high_throughput else LOCUSTFILE
        proxy = _phase("proxy", stack, f"{stack.proxy_url}/", shape, options, say, locustfile=locustfile)
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
            **({"upstream": upstream} if high_throughput else {}),
        },
        boot_seconds=stack.boot_seconds,
        baseline=baseline,
        proxy=proxy,
        flags=saturation_flags(proxy, options.workers),
        measured_overhead_ms=overhead,
        rate_limit=rate_limit_summary(proxy, options) if rate_limited else None,
        accounting=accounting(proxy) if upstream != "mock" else {},
        high_throughput=high_throughput_summary(proxy, options, upstream) if high_throughput else None,
        published={
            **asdict(FOUR_INSTANCES),
            "rps_per_worker": round(PUBLISHED_RPS_PER_WORKER, 1),
        },
    )


# --------------------------------------------------------------------------------------------
# high-throughput scenario (LiteLLM's 3,000 RPS test, scaled to this machine)
# --------------------------------------------------------------------------------------------

HIGH_THROUGHPUT_UPSTREAMS = ("mock", "fake-endpoint")
"""mock: LiteLLM's in-process mock (`mock_response` in litellm_params), what the published test used;
fake-endpoint: the product's fake OpenAI endpoint over loopback HTTP, like the guide's test."""
MOCK_RESPONSE = "Hello there, how may I assist you today?"


def high_throughput_upstream(options: BenchOptions) -> str:
    """The model behind the proxy: "" for the guide and rate-limited scenarios (the fake endpoint)."""
    if options.scenario != "high-throughput":
        if options.upstream:
            raise ValueError("--upstream: only the high-throughput scenario takes it")
        return ""
    upstream = options.upstream or "mock"
    if upstream not in HIGH_THROUGHPUT_UPSTREAMS:
        raise ValueError(f"--upstream: unknown {upstream!r}; choose one of {', '.join(HIGH_THROUGHPUT_UPSTREAMS)}")
    return upstream


def mock_models(_fake_url: str) -> list[dict[str, Any]]:
    """The benchmark's model served by LiteLLM's in-process mock: no HTTP call leaves the proxy.

    litellm.main.completion returns mock_completion() before any provider code when
    `mock_response` is set; it streams for stream=true and takes the prompt tokens counted at
    budget admission as its usage, so auth, budget, token counting and spend tracking still run."""
    return [
        {
            "model_name": "fake-openai-endpoint",
            "litellm_params": {"model": "openai/any", "api_key": "test", "mock_response": MOCK_RESPONSE},
        }
    ]


def high_throughput_summary(phase: PhaseResult, options: BenchOptions, upstream: str) -> dict[str, Any]:
    """TTFT (its own metric), RPS per worker and CPU per request, beside the published figures."""
    load = phase.load
    ttft = load.ttft_ms or {}
    successes = load.requests - load.failures
    return {
        "upstream": upstream,
        "ttft_ms": {key: ttft.get(key) for key in ("count", "p50", "p95", "p99", "avg")},
        "rps": round(load.rps, 2),
        "rps_per_worker": round(load.rps / max(options.workers, 1), 2),
        "proxy_cpu_ms_per_request": round(1000 * phase.cpu_s.get("proxy", 0.0) / successes, 1) if successes else None,
        "offered_rps": options.users,
        "published": {
            "rps": HIGH_THROUGHPUT.rps,
            "rps_per_worker": round(HIGH_THROUGHPUT.rps_per_worker, 1),
            "gateway_p50_ms": HIGH_THROUGHPUT.gateway_p50_ms,
            "gateway_p95_ms": HIGH_THROUGHPUT.gateway_p95_ms,
            "gateway_p99_ms": HIGH_THROUGHPUT.gateway_p99_ms,
            "ttft_p50_ms": HIGH_THROUGHPUT.ttft_p50_ms,
        },
    }
