"""What `bench local --scenario NAME` measures, one entry per scenario (like bench/variants.py).

A scenario names its Locust file, the model list the proxy is given (None: the template's own,
pointed at the fake endpoint), the fake endpoint's flags, whether a direct baseline phase makes
sense, whether failed requests fail the run, and the summary it adds to results.json. To add one,
add an entry to SCENARIOS; `bench local --scenario` and its --help list the names from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..shipped import HIGH_THROUGHPUT_LOCUSTFILE, LOCUSTFILE
from .published import HIGH_THROUGHPUT

if TYPE_CHECKING:
    from .runner import BenchOptions, PhaseResult

ModelList = Callable[[str], list[dict[str, Any]]]
"""The proxy's model_list, given the fake endpoint's base URL."""

BENCHMARK_MODEL = "fake-openai-endpoint"
RATE_LIMIT_DEPLOYMENTS = ("deployment-a", "deployment-b")
MOCK_RESPONSE = "Hello there, how may I assist you today?"


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    locustfile: Path
    direct_baseline: bool = True
    """Send the same load straight to the fake endpoint first (the overhead the proxy adds)."""
    failures_fail_the_run: bool = True
    """False where failures are the point (the rate-limited scenario expects 429s upstream)."""
    upstreams: tuple[str, ...] = ()
    """What `--upstream` may choose (first: the default); empty: the fake endpoint only."""
    model_list: Callable[[str], ModelList | None] = lambda _upstream: None
    """The proxy's models for an upstream choice; None keeps the template's."""
    fake_endpoint_flags: Callable[[BenchOptions], tuple[str, ...]] = lambda _options: ()
    results: Callable[[PhaseResult, BenchOptions, str], dict[str, Any]] = lambda _phase, _options, _upstream: {}
    """Extra BenchReport fields (rate_limit, high_throughput) from the proxy phase."""

    def upstream(self, chosen: str) -> str:
        """The model behind the proxy for `--upstream chosen` ("" = the default); ValueError if it takes none."""
        if not self.upstreams:
            if chosen:
                takes = [s.name for s in SCENARIOS.values() if s.upstreams]
                raise ValueError(f"--upstream: only the {', '.join(takes)} scenario takes it")
            return ""
        upstream = chosen or self.upstreams[0]
        if upstream not in self.upstreams:
            raise ValueError(f"--upstream: unknown {upstream!r}; choose one of {', '.join(self.upstreams)}")
        return upstream


# ---- rate-limited: two deployments with an RPM quota each; LiteLLM should serve ~their sum ------


def rate_limited_models(fake_url: str) -> list[dict[str, Any]]:
    return [
        {
            "model_name": BENCHMARK_MODEL,
            "litellm_params": {
                "model": "openai/any",
                "api_key": "test",
                "api_base": f"{fake_url}/deployment/{name}/v1",
            },
        }
        for name in RATE_LIMIT_DEPLOYMENTS
    ]


def rate_limit_flags(options: BenchOptions) -> tuple[str, ...]:
    return tuple(a for name in RATE_LIMIT_DEPLOYMENTS for a in ("--rpm-limit", f"{name}={options.rpm_limit}"))


def rate_limit_summary(phase: PhaseResult, options: BenchOptions, _upstream: str = "") -> dict[str, Any]:
    """Successes per minute against the sum of the deployments' quotas (the guide expects ~the sum)."""
    keys = phase.upstream.get("keys", {})
    successes = phase.load.requests - phase.load.failures
    return {
        "rate_limit": {
            "quota_rpm_per_deployment": options.rpm_limit,
            "quota_rpm_total": options.rpm_limit * len(RATE_LIMIT_DEPLOYMENTS),
            "upstream_successes_per_deployment": {n: keys.get(n, {}).get("200", 0) for n in RATE_LIMIT_DEPLOYMENTS},
            "client_successes": successes,
            "client_successes_per_minute": round(successes / (options.duration_s / 60), 1),
            "upstream_429": sum(keys.get(n, {}).get("429", 0) for n in RATE_LIMIT_DEPLOYMENTS),
        }
    }


# ---- high-throughput: LiteLLM's 3,000 RPS test, scaled to this machine ---------------------------


def mock_models(_fake_url: str) -> list[dict[str, Any]]:
    """The benchmark's model served by LiteLLM's in-process mock: no HTTP call leaves the proxy.

    litellm.main.completion returns mock_completion() before any provider code when
    `mock_response` is set; it streams for stream=true and takes the prompt tokens counted at
    budget admission as its usage, so auth, budget, token counting and spend tracking still run."""
    return [
        {
            "model_name": BENCHMARK_MODEL,
            "litellm_params": {"model": "openai/any", "api_key": "test", "mock_response": MOCK_RESPONSE},
        }
    ]


def high_throughput_summary(phase: PhaseResult, options: BenchOptions, upstream: str) -> dict[str, Any]:
    """TTFT (its own metric), RPS per worker and CPU per request, beside the published figures."""
    load = phase.load
    ttft = load.ttft_ms or {}
    successes = load.requests - load.failures
    return {
        "high_throughput": {
            "upstream": upstream,
            "ttft_ms": {key: ttft.get(key) for key in ("count", "p50", "p95", "p99", "avg")},
            "rps": round(load.rps, 2),
            "rps_per_worker": round(load.rps / max(options.workers, 1), 2),
            "proxy_cpu_ms_per_request": (
                round(1000 * phase.cpu_s.get("proxy", 0.0) / successes, 1) if successes else None
            ),
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
    }


HIGH_THROUGHPUT_UPSTREAMS = ("mock", "fake-endpoint")
"""mock: LiteLLM's in-process mock (`mock_response` in litellm_params), what the published test used;
fake-endpoint: the product's fake OpenAI endpoint over loopback HTTP, like the guide's test."""


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="guide",
            summary="LiteLLM's published benchmark: the guide's locustfile against the fake endpoint",
            locustfile=LOCUSTFILE,
        ),
        Scenario(
            name="rate-limited",
            summary="two deployments with an RPM quota each (--rpm-limit); LiteLLM should serve about their sum",
            locustfile=LOCUSTFILE,
            direct_baseline=False,
            failures_fail_the_run=False,
            model_list=lambda _upstream: rate_limited_models,
            fake_endpoint_flags=rate_limit_flags,
            results=rate_limit_summary,
        ),
        Scenario(
            name="high-throughput",
            summary="LiteLLM's 3,000 RPS test: 50K-100K-token prompts, half streamed, TTFT measured",
            locustfile=HIGH_THROUGHPUT_LOCUSTFILE,
            direct_baseline=False,
            upstreams=HIGH_THROUGHPUT_UPSTREAMS,
            model_list=lambda upstream: mock_models if upstream == "mock" else None,
            results=high_throughput_summary,
        ),
    )
}


def scenario_named(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}") from None


def fake_endpoint_args(options: BenchOptions) -> tuple[str, ...]:
    """The fake endpoint's flags for this run: the scenario's own and the upstream delay."""
    args = scenario_named(options.scenario).fake_endpoint_flags(options)
    if options.upstream_latency_ms > 0:
        args += ("--delay-ms", f"{options.upstream_latency_ms:g}")
    return args
