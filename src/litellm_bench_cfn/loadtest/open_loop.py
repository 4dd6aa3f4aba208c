"""Open-loop arrivals for `bench sweep`: the guide's request, sent at a fixed rate.

The guide's Locust user is closed-loop: it waits for an answer before it sends again, so a slow
proxy slows the load down and queueing never shows. Here one Locust user schedules arrival k at
``start + k / OPEN_LOOP_RATE`` and sends each in its own greenlet, whether or not earlier ones
were answered; latency then includes any queueing in the proxy. The request itself, the overhead
header metric, the error file and the exit rules are the guide's (imported from locustfile.py).

The generator checks itself: each arrival's lag behind its schedule is recorded, and an arrival
that finds OPEN_LOOP_MAX_IN_FLIGHT requests already outstanding is not sent but counted as
dropped. `bench sweep` flags a step whose lag or drops show the generator, not the proxy, was
the limit.

Environment: OPEN_LOOP_RATE (requests/s), OPEN_LOOP_DURATION_S (arrival window),
OPEN_LOOP_MAX_IN_FLIGHT (default 2000), OPEN_LOOP_JSON (where the generator's own figures go),
plus the guide locustfile's variables. Run with one user: ``-u 1 -r 1``.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

import gevent
import locustfile as guide  # the guide's request and metrics; its user class stays in its module
from gevent.pool import Pool
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

if TYPE_CHECKING:
    from locust.env import Environment

RATE = float(os.getenv("OPEN_LOOP_RATE") or 0)
DURATION_S = float(os.getenv("OPEN_LOOP_DURATION_S") or 0)
MAX_IN_FLIGHT = int(os.getenv("OPEN_LOOP_MAX_IN_FLIGHT") or 2000)
CLIENT_TIMEOUT_S = 30.0
"""An answer later than this is a failure; it bounds the drain after the arrival window."""


class GeneratorStats:
    def __init__(self) -> None:
        self.scheduled = 0
        self.sent = 0
        self.dropped = 0
        self.lags_ms: list[float] = []
        self.window_s = 0.0
        self.started: float | None = None
        self.last_answer: float | None = None
        self.answered_ok = 0

    def summary(self) -> dict[str, float | int | None]:
        lags = sorted(self.lags_ms)

        def pick(fraction: float) -> float | None:
            return round(lags[min(len(lags) - 1, int(len(lags) * fraction))], 2) if lags else None

        return {
            "rate": RATE,
            "scheduled": self.scheduled,
            "sent": self.sent,
            "dropped": self.dropped,
            "window_s": round(self.window_s, 3),
            "answered_ok": self.answered_ok,
            # First arrival to last answer: a proxy that fell behind stretches it past the window.
            "span_s": round(self.last_answer - self.started, 3) if self.started and self.last_answer else None,
            "lag_p50_ms": pick(0.50),
            "lag_p99_ms": pick(0.99),
            "lag_max_ms": round(lags[-1], 2) if lags else None,
        }


GENERATOR = GeneratorStats()


class OpenLoopUser(FastHttpUser):
    """Not a subclass of the guide's user: Locust would inherit its closed-loop task too."""

    wait_time = constant(0)
    concurrency = MAX_IN_FLIGHT  # FastHttpSession's connection pool: one connection per request in flight
    network_timeout = CLIENT_TIMEOUT_S
    connection_timeout = CLIENT_TIMEOUT_S

    def on_start(self) -> None:
        guide.LiteLLMUser.on_start(self)  # type: ignore[arg-type]

    def send_one(self) -> None:
        guide.LiteLLMUser.litellm_completion(self)

    @task
    def arrivals(self) -> None:
        in_flight = Pool(MAX_IN_FLIGHT)
        total = int(RATE * DURATION_S)
        start = GENERATOR.started = time.monotonic()
        for k in range(total):
            due = start + k / RATE
            delay = due - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            GENERATOR.scheduled += 1
            GENERATOR.lags_ms.append(max(0.0, (time.monotonic() - due) * 1000))
            if in_flight.full():
                GENERATOR.dropped += 1
                continue
            GENERATOR.sent += 1
            in_flight.spawn(self.send_one)
        GENERATOR.window_s = time.monotonic() - start
        in_flight.join(timeout=CLIENT_TIMEOUT_S + 5)
        # Every arrival is answered (or timed out): end the run now rather than at -t. The quit runs
        # in a greenlet of its own, since quitting stops (kills) this user's greenlet.
        gevent.spawn(self.environment.runner.quit)
        raise StopUser()


@guide.listener(events.init)
def on_init(environment: Environment, **_kwargs: object) -> None:
    if RATE <= 0 or DURATION_S <= 0:
        guide.logger.error("set OPEN_LOOP_RATE and OPEN_LOOP_DURATION_S to positive numbers")
        raise SystemExit(2)


@guide.listener(events.request)
def on_request(exception: BaseException | None = None, **_kwargs: object) -> None:
    GENERATOR.last_answer = time.monotonic()
    if exception is None:
        GENERATOR.answered_ok += 1


@guide.listener(events.quitting)
def on_quitting(environment: Environment, **_kwargs: object) -> None:
    path = os.getenv("OPEN_LOOP_JSON")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(GENERATOR.summary(), fh, indent=2)
            fh.write("\n")
