"""Synthetic bench results (no processes run) for the HTML report tests: shaped like real runs."""

from __future__ import annotations

import math
from pathlib import Path

from litellm_bench_cfn.bench.aws_results import AwsBenchReport
from litellm_bench_cfn.bench.compare import VariantSummary
from litellm_bench_cfn.bench.locust_run import HistoryPoint, LoadResult, LoadShape
from litellm_bench_cfn.bench.published import FOUR_INSTANCES, PUBLISHED_RPS_PER_WORKER
from litellm_bench_cfn.bench.runner import BenchReport, PhaseResult

LOCUST_HTML = "<!doctype html><title>Locust</title><p>Locust's own report</p>"


def history(seconds: int, users: int, rps: float, p50: float, p95: float) -> list[HistoryPoint]:
    points = []
    for t in range(seconds):
        ramp = min(1.0, (t + 1) / 3)
        wobble = 1 + 0.05 * math.sin(t)
        points.append(
            HistoryPoint(
                t=float(t),
                users=int(users * ramp),
                rps=rps * ramp * wobble,
                failures_per_s=0.5 if t == seconds // 2 else 0,
                p50=p50 * wobble,
                p95=p95 * wobble,
                p99=p95 * 1.5,
                requests=int(rps * t),
                failures=1 if t > seconds // 2 else 0,
            )
        )
    return points


def overhead(p50: float, with_histogram: bool = True) -> dict[str, object]:
    data: dict[str, object] = {
        "header": "x-litellm-overhead-duration-ms",
        "unit": "ms",
        "count": 1000,
        "min": p50 / 4,
        "max": p50 * 8,
        "avg": p50 * 1.2,
        "p50": p50,
        "p90": p50 * 2,
        "p95": p50 * 3,
        "p99": p50 * 5,
    }
    if with_histogram:
        data["histogram"] = [
            [round(p50 * (0.25 + i / 10), 2), 1 + int(50 * math.exp(-((i - 8) ** 2) / 10))] for i in range(60)
        ]
    return data


def load(
    name: str,
    directory: Path | None,
    *,
    rps: float,
    p50: float,
    p95: float,
    seconds: int = 30,
    overhead_p50: float | None = None,
    with_histogram: bool = True,
) -> LoadResult:
    locust_html = None
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}_locust.html"
        path.write_text(LOCUST_HTML)
        locust_html = str(path)
    return LoadResult(
        target=f"http://127.0.0.1:4000/{name}",
        shape=LoadShape(50, 50, seconds),
        requests=int(rps * seconds),
        failures=1,
        rps=rps,
        latency_ms={"p50": p50, "p95": p95, "p99": p95 * 1.5, "avg": p50 * 1.1, "max": p95 * 3},
        overhead_header_ms=None if overhead_p50 is None else overhead(overhead_p50, with_histogram),
        locust_cpu_s=seconds * 0.3,
        wall_s=float(seconds),
        exit_code=0,
        history=history(seconds, 50, rps, p50, p95),
        locust_html=locust_html,
    )


def bench_report(directory: Path | None) -> BenchReport:
    direct = PhaseResult(
        "direct",
        load("direct", directory, rps=66, p50=1.2, p95=3),
        {"proxy": 0, "locust": 4.5, "fake_endpoint": 2},
        {"requests": 1980},
    )
    proxy = PhaseResult(
        "proxy",
        load("proxy", directory, rps=57, p50=110, p95=390, overhead_p50=61),
        {"proxy": 27, "locust": 4, "fake_endpoint": 1},
        {"requests": 1710},
    )
    return BenchReport(
        machine={
            "cpus": 2,
            "memory_gib": 24.0,
            "python": "3.11.7",
            "platform": "Linux",
            "litellm": "1.106.2",
            "locust": "2.47.0",
        },
        options={
            "template": "templates/cloudformation-ecs.yaml",
            "scenario": "guide",
            "users": 50,
            "spawn_rate": 50,
            "duration_s": 30,
            "workers": 1,
            "variant": "shipped",
        },
        boot_seconds=12.5,
        baseline=direct,
        proxy=proxy,
        flags=["proxy-saturated: the proxy used 0.90 of 1 core(s) its 1 worker(s) can use"],
        measured_overhead_ms={"p50": 108.8, "p95": 387.0, "p99": 580.0, "avg": 119.7},
        rate_limit=None,
        published={**FOUR_INSTANCES.__dict__, "rps_per_worker": round(PUBLISHED_RPS_PER_WORKER, 1)},
        accounting={
            "sent": 1710,
            "succeeded": 1709,
            "failed": 1,
            "upstream_200": 1709,
            "upstream_total": 1709,
            "balanced": True,
        },
    )


def aws_report(directory: Path | None) -> AwsBenchReport:
    loaded = load("run", directory, rps=1040, p50=100, p95=150, seconds=60, overhead_p50=2.1, with_histogram=False)
    return AwsBenchReport("litellm-bench", "litellm-bench-harness", "us-east-1", 4, "arn:aws:ecs:task/abc", loaded)


def compare_summaries(directory: Path | None) -> list[VariantSummary]:
    summaries = []
    for name, rps in (("shipped", 60.0), ("seeds-detailed-debug", 6.0), ("uvicorn", 57.0)):
        rounds = []
        for i in range(3):
            round_dir = None if directory is None else directory / f"round{i + 1}-{name}"
            result = load("proxy", round_dir, rps=rps + i, p50=800 / rps, p95=2000 / rps)
            rounds.append(
                {
                    "rps": result.rps,
                    "rps_per_worker": result.rps,
                    "requests": result.requests,
                    "failures": 0,
                    "p50_ms": 800 / rps + i,
                    "p99_ms": 3000 / rps + i,
                    "overhead_p50_ms": 400 / rps,
                    "overhead_p99_ms": 900 / rps,
                    "proxy_cpu_ms_per_request": 1000 / rps,
                    "proxy_cores": 0.9,
                    "flags": [],
                    "locust_html": result.locust_html,
                }
            )
        summaries.append(VariantSummary(name, rounds))
    summaries.append(VariantSummary("broken", [{"error": "proxy exited with status 3 before it listened"}]))
    return summaries
