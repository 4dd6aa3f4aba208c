"""What a closed-loop Locust run offers, and whether its RPS measured the client or the proxy.

Each Locust user waits `between(a, b)` (mean (a + b) / 2), sends one request, waits for the answer,
and starts over. N users therefore send at most N / (mean wait + mean latency) requests per second:
the offered-load ceiling. In a closed loop the measured RPS always sits near that line (Little's
law), so the line alone cannot say who set the RPS. What can: the same ceiling at the latency the
path has WITHOUT the proxy (the direct baseline, or the fake endpoint's configured delay). A proxy
that keeps up adds a few ms and the RPS stays within CLIENT_BOUND_FRACTION of it: the RPS is then
client-bound, set by the users and their wait, and says nothing about the proxy's capacity. A
saturated proxy queues, the latency grows and the RPS falls below it.

The guide's ~1,170 RPS is such a number: 1,000 users at 0.75 s mean wait and 112 ms mean latency
offer ~1,160. What compares across setups is the latency, LiteLLM's overhead header, the measured
overhead and the failures at that offered load.
"""

from __future__ import annotations

from dataclasses import dataclass

from .locust_run import LoadResult, LoadShape
from .published import PublishedResult

CLIENT_BOUND_FRACTION = 0.90
"""RPS at or above this share of the no-proxy ceiling is client-bound."""
COMPARABLE = "latency percentiles, the overhead header, the measured overhead and failures"


def ceiling_rps(users: int, mean_wait_s: float, mean_latency_ms: float) -> float:
    """Requests/s `users` closed-loop users send at most: users / (mean wait + mean latency)."""
    cycle_s = mean_wait_s + max(mean_latency_ms, 0.0) / 1000
    return users / cycle_s if cycle_s > 0 else float("inf")


@dataclass(frozen=True)
class OfferedLoad:
    users: int
    wait_s: tuple[float, float]
    rps: float
    mean_latency_ms: float | None
    """Measured mean latency of the run."""
    baseline_latency_ms: float
    """Mean latency of the path without the proxy: the direct baseline, or the upstream delay."""
    baseline_source: str
    """Where baseline_latency_ms comes from, for the table ("direct baseline", "upstream delay", ...)."""

    @property
    def mean_wait_s(self) -> float:
        return (self.wait_s[0] + self.wait_s[1]) / 2

    @property
    def ceiling_rps(self) -> float | None:
        """The offered-load ceiling at the measured latency."""
        if self.mean_latency_ms is None:
            return None
        return ceiling_rps(self.users, self.mean_wait_s, self.mean_latency_ms)

    @property
    def baseline_ceiling_rps(self) -> float:
        """The offered-load ceiling if the proxy added no latency."""
        return ceiling_rps(self.users, self.mean_wait_s, self.baseline_latency_ms)

    @property
    def share_of_baseline(self) -> float:
        return self.rps / self.baseline_ceiling_rps

    @property
    def client_bound(self) -> bool:
        return self.share_of_baseline >= CLIENT_BOUND_FRACTION

    def summary(self) -> dict[str, object]:
        """For results.json."""
        ceiling = self.ceiling_rps
        return {
            "users": self.users,
            "wait_s": list(self.wait_s),
            "mean_wait_s": self.mean_wait_s,
            "mean_latency_ms": self.mean_latency_ms,
            "ceiling_rps": None if ceiling is None else round(ceiling, 1),
            "baseline_latency_ms": self.baseline_latency_ms,
            "baseline_source": self.baseline_source,
            "baseline_ceiling_rps": round(self.baseline_ceiling_rps, 1),
            "share_of_baseline_ceiling": round(self.share_of_baseline, 3),
            "client_bound": self.client_bound,
            "client_bound_threshold": CLIENT_BOUND_FRACTION,
        }

    def short(self) -> str:
        verdict = "client-bound" if self.client_bound else "not client-bound"
        return f"{self.rps:.0f} req/s = {self.share_of_baseline:.0%} of {self.baseline_ceiling_rps:.0f}: {verdict}"

    def verdict(self) -> str:
        head = (
            f"client-bound (closed loop; threshold {CLIENT_BOUND_FRACTION:.0%} of the ceiling without the proxy): "
            f"{'yes' if self.client_bound else 'no'}, {self.rps:.0f} req/s = {self.share_of_baseline:.0%}"
        )
        if self.client_bound:
            return f"{head}: the users and their wait set the RPS, not the proxy; compare {COMPARABLE}, not RPS"
        return f"{head}: the proxy (or what is behind it) queued the requests and held the RPS below the offered load"

    def lines(self) -> list[str]:
        low, high = self.wait_s
        ceiling = self.ceiling_rps
        measured = (
            "mean latency) = - (no latency measured)"
            if ceiling is None
            else f"{self.mean_latency_ms:.0f} ms mean latency) = ceiling {ceiling:.0f} req/s"
        )
        return [
            f"offered load: {self.users} users / ({self.mean_wait_s:g} s mean wait of between({low:g}, {high:g}) + "
            f"{measured}; without the proxy ({self.baseline_source}, {self.baseline_latency_ms:.0f} ms): "
            f"{self.baseline_ceiling_rps:.0f} req/s",
            self.verdict(),
        ]


def offered_load(load: LoadResult, baseline_latency_ms: float, baseline_source: str) -> OfferedLoad:
    shape: LoadShape = load.shape
    return OfferedLoad(
        users=shape.users,
        wait_s=(shape.wait_min_s, shape.wait_max_s),
        rps=load.rps,
        mean_latency_ms=load.latency_ms.get("avg"),
        baseline_latency_ms=baseline_latency_ms,
        baseline_source=baseline_source,
    )


def published_offered_load(published: PublishedResult) -> OfferedLoad:
    """The guide's run: its latency without the proxy is not published; estimated as its mean latency
    less the overhead header's mean."""
    mean = published.avg_ms or published.p50_ms
    overhead = published.overhead_avg_ms or published.overhead_p50_ms or 0.0
    return OfferedLoad(
        users=published.users,
        wait_s=(published.wait_min_s, published.wait_max_s),
        rps=published.rps,
        mean_latency_ms=mean,
        baseline_latency_ms=round(mean - overhead, 2),
        baseline_source="guide's mean latency less its mean overhead header",
    )
