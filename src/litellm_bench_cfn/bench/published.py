"""LiteLLM's published benchmark results (docs "benchmarks"; see shared REFERENCE.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedResult:
    label: str
    instances: int
    workers: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    avg_ms: float | None
    overhead_p50_ms: float | None = None
    overhead_p95_ms: float | None = None
    overhead_p99_ms: float | None = None
    overhead_avg_ms: float | None = None
    users: int = 1000
    """The guide's Locust shape: 1,000 users, each waiting between(0.5, 1) s between requests."""
    wait_min_s: float = 0.5
    wait_max_s: float = 1.0


FOUR_INSTANCES = PublishedResult(
    label="published, 4 x 4 vCPU, 16 workers",
    instances=4,
    workers=16,
    rps=1170,
    p50_ms=100,
    p95_ms=150,
    p99_ms=240,
    avg_ms=111.7,
    overhead_p50_ms=2,
    overhead_p95_ms=8,
    overhead_p99_ms=13,
    overhead_avg_ms=3.32,
)
TWO_INSTANCES = PublishedResult(
    label="published, 2 instances", instances=2, workers=8, rps=1035, p50_ms=200, p95_ms=630, p99_ms=1200, avg_ms=None
)

PUBLISHED_RPS_PER_WORKER = FOUR_INSTANCES.rps / FOUR_INSTANCES.workers
"""~73 RPS per worker: the figure a local run with N workers is compared against."""


@dataclass(frozen=True)
class PublishedHighThroughput:
    """LiteLLM's high-throughput test (docs "benchmarks"): 33 pods x 4 workers, 3,000 users at 1 req/s."""

    pods: int = 33
    workers: int = 132
    rps: float = 3000
    gateway_p50_ms: float = 30.6
    gateway_p95_ms: float = 54.0
    gateway_p99_ms: float = 91.6
    ttft_p50_ms: float = 31.7

    @property
    def rps_per_worker(self) -> float:
        return self.rps / self.workers


HIGH_THROUGHPUT = PublishedHighThroughput()
