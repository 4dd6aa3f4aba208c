"""`bench sweep`: open-loop steps of offered load against the local proxy, and the knee they show.

The guide's closed loop measures the client: 1,000 users that wait for each answer offer what
the latency lets them. Capacity needs arrivals that do not wait (loadtest/open_loop.py, Locust's
FastHttpUser with one greenlet per arrival): past the proxy's capacity its queue grows, latency
climbs and requests time out, instead of the load quietly shrinking.

Each sweep (`--repeat N` runs N) gets a stack of its own: the fake endpoint and the proxy started
from the template. For each offered rate the step records served RPS, latency, the overhead
header, the proxy's CPU per request and the generator's own lag. A step *holds* when nothing
failed, the served rate kept up with the offer and p95 stayed under the bound; the knee is the
highest rate held with every lower step held too. A coarse ramp finds the bracket, then
bisection narrows it to `resolution`.

Four things keep one sweep's knee close to the next one's:
- a fresh proxy per sweep: a proxy that went past its knee stays slower (its CPU per request grew
  by ~20 % in the sweep after, here), so repeats on one proxy drift instead of repeating;
- a warm-up step (discarded) first: the proxy's first requests after boot run slow (p99 ~1 s here);
- after every step the sweep waits until the proxy is idle: a step started while the proxy is still
  busy with the last one measures that instead (seen here without the wait: all 1,392 requests at
  46 req/s timed out right after two overloaded steps);
- a step that does not hold is run again (`confirmations` times) before it counts as failed: on a
  shared machine one stall of a fraction of a second puts a short step's p95 over the bound, and a
  ramp that stops there reports a knee at half the real one. A rate the proxy cannot carry fails
  every time, so confirming costs one step at the knee and nothing below it.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..processes import Interrupted, cpu_seconds
from ..shipped import OPEN_LOOP_LOCUSTFILE
from .local_stack import RunningStack, StackOptions, load_template, running_stack
from .locust_run import LoadShape, run_locust
from .published import FOUR_INSTANCES
from .runner import fake_stats, machine_facts, reset_fake_stats

SERVED_FRACTION = 0.97
"""A step keeps up when at least this share of its arrivals was answered within the window."""
GENERATOR_LAG_LIMIT_MS = 50.0
"""p99 lag of arrivals behind their schedule above which the generator, not the proxy, limited."""
GENERATOR_CPU_LIMIT = 0.85
DRAIN_S = 35  # loadtest/open_loop.py's client timeout + a margin
DEFAULT_P95_MS = FOUR_INSTANCES.p95_ms
WARMUP_S = 10
IDLE_CORES = 0.05
"""The proxy counts as idle once it uses less CPU than this (cores, over one second)."""
SETTLE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class SweepOptions(StackOptions):
    start_rps: float = 20.0
    growth: float = 1.5
    max_rps: float = 2000.0
    step_s: int = 20
    p95_ms: float = DEFAULT_P95_MS
    resolution: float = 0.05
    repeats: int = 1
    confirmations: int = 1


@dataclass
class StepResult:
    offered_rps: float
    served_rps: float
    requests: int
    failures: int
    latency_ms: dict[str, float | None]
    overhead_header_ms: dict[str, Any] | None
    proxy_cpu_ms_per_request: float | None
    proxy_cores: float
    locust_cores: float
    generator: dict[str, Any]
    upstream_200: int
    held: bool
    reasons: list[str]
    attempt: int = 1
    settle_s: float | None = None
    """Seconds the proxy took to go idle after the step (its backlog); None: still busy at the limit."""

    @property
    def generator_bound(self) -> bool:
        return any(r.startswith("generator") for r in self.reasons)


@dataclass
class SweepRun:
    steps: list[StepResult]
    knee_rps: float | None
    generator_bound: bool
    warmup: StepResult | None = None
    """The discarded first step on this run's fresh proxy."""
    boot_s: float | None = None

    @property
    def knee_is_lower_bound(self) -> bool:
        """No step failed: the proxy held up to --max-rps, so its knee is at least that."""
        return all(s.held for s in self.steps)


@dataclass
class SweepReport:
    machine: dict[str, Any]
    options: dict[str, Any]
    runs: list[SweepRun]
    partial: str | None = None
    """Why the sweep stopped early (a stop signal); None if it ran to its end."""

    @property
    def knees(self) -> list[float]:
        return [r.knee_rps for r in self.runs if r.knee_rps is not None]

    def summary(self) -> dict[str, Any]:
        knees = self.knees
        workers = self.options["workers"]
        if not knees:
            return {"knee_rps": None}
        median = statistics.median(knees)
        at_knee = [_step_at(run, run.knee_rps) for run in self.runs if run.knee_rps is not None]
        cpu_ms = [s.proxy_cpu_ms_per_request for s in at_knee if s and s.proxy_cpu_ms_per_request]
        cores = [s.proxy_cores for s in at_knee if s]
        return {
            "knee_rps": round(median, 1),
            "knees_rps": [round(k, 1) for k in knees],
            "spread_percent": round(100 * (max(knees) - min(knees)) / 2 / median, 1) if median else None,
            "knee_rps_per_worker": round(median / workers, 1),
            "proxy_cores_at_knee": round(statistics.median(cores), 2) if cores else None,
            "knee_rps_per_vcpu": round(median / statistics.median(cores), 1) if cores else None,
            "proxy_cpu_ms_per_request_at_knee": round(statistics.median(cpu_ms), 2) if cpu_ms else None,
            "generator_bound": any(r.generator_bound for r in self.runs),
            "knee_is_lower_bound": any(r.knee_is_lower_bound for r in self.runs),
        }

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "summary": self.summary()}, indent=2, sort_keys=True, default=str)


def _step_at(run: SweepRun, rate: float | None) -> StepResult | None:
    return next((s for s in run.steps if s.offered_rps == rate and s.held), None)


def judge(step: StepResult, p95_bound_ms: float) -> list[str]:
    """Why a step did not hold (empty: it held). Generator problems void the step."""
    reasons = []
    gen = step.generator
    if gen.get("dropped"):
        reasons.append(f"generator dropped {gen['dropped']} arrivals (too many in flight)")
    lag = gen.get("lag_p99_ms")
    if lag is not None and lag > GENERATOR_LAG_LIMIT_MS:
        reasons.append(f"generator lagged {lag:.0f} ms (p99) behind its schedule")
    if step.locust_cores >= GENERATOR_CPU_LIMIT:
        reasons.append(f"generator used {step.locust_cores:.2f} of its core")
    if step.failures:
        reasons.append(f"{step.failures} failed")
    if step.served_rps < SERVED_FRACTION * step.offered_rps:
        reasons.append(f"served {step.served_rps:.1f} of {step.offered_rps:.1f} req/s")
    p95 = step.latency_ms.get("p95")
    if p95 is None or p95 > p95_bound_ms:
        reasons.append(f"p95 {p95} ms above {p95_bound_ms:g} ms")
    return reasons


class SweepInterrupted(Exception):
    """A stop signal ended the sweep; every process is stopped and `report` holds the steps so far."""

    def __init__(self, interrupted: Interrupted, report: SweepReport) -> None:
        super().__init__(f"interrupted by {interrupted.name}")
        self.exit_code = interrupted.exit_code
        self.report = report


def wait_until_idle(
    cpu_now: Callable[[], float],
    timeout_s: float = SETTLE_TIMEOUT_S,
    interval_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> float | None:
    """Seconds until two intervals in a row used under IDLE_CORES of CPU; None if not within timeout_s."""
    waited, quiet, last = 0.0, 0, cpu_now()
    while waited < timeout_s:
        sleep(interval_s)
        waited += interval_s
        now = cpu_now()
        quiet = quiet + 1 if (now - last) / interval_s < IDLE_CORES else 0
        last = now
        if quiet >= 2:
            return waited
    return None


def run_step(
    stack: RunningStack, rate: float, options: SweepOptions, name: str, seconds: int | None = None
) -> StepResult:
    reset_fake_stats(stack)
    generator_json = options.workdir / f"{name}_generator.json"
    window_s = seconds or options.step_s
    before = cpu_seconds(stack.proxy.pid)
    load = run_locust(
        f"{stack.proxy_url}/",
        LoadShape(users=1, spawn_rate=1, duration_s=window_s + DRAIN_S + 10),
        options.workdir,
        name=name,
        master_key=stack.master_key,
        locustfile=OPEN_LOOP_LOCUSTFILE,
        extra_env={
            "OPEN_LOOP_RATE": f"{rate:g}",
            "OPEN_LOOP_DURATION_S": str(window_s),
            "OPEN_LOOP_JSON": str(generator_json),
        },
    )
    proxy_cpu = max(0.0, cpu_seconds(stack.proxy.pid) - before)
    generator = json.loads(generator_json.read_text()) if generator_json.exists() else {}
    successes = load.requests - load.failures
    # First arrival to last answer: a backlog drained after the arrival window stretches it, so a
    # proxy that fell behind serves less than it was offered.
    span = max(float(generator.get("span_s") or 0.0), float(generator.get("window_s") or window_s), 1e-9)
    served = successes / span
    step = StepResult(
        offered_rps=rate,
        served_rps=round(served, 2),
        requests=load.requests,
        failures=load.failures,
        latency_ms=load.latency_ms,
        overhead_header_ms=load.overhead_header_ms,
        proxy_cpu_ms_per_request=round(1000 * proxy_cpu / successes, 2) if successes else None,
        proxy_cores=round(proxy_cpu / span, 2),
        locust_cores=round(load.locust_cpu_s / max(load.wall_s, 1e-9), 2),
        generator=generator,
        upstream_200=int(fake_stats(stack).get("status", {}).get("200", 0)),
        held=False,
        reasons=[],
    )
    step.reasons = judge(step, options.p95_ms)
    step.held = not step.reasons
    return step


def rates_to_try(options: SweepOptions, results: dict[float, bool]) -> float | None:
    """Next offered rate: grow until a step fails, then bisect between the last held and first failed."""
    held = [r for r, ok in results.items() if ok]
    failed = [r for r, ok in results.items() if not ok]
    if not failed:
        if not results:
            return options.start_rps
        nxt = round(max(results) * options.growth, 1)
        return nxt if nxt <= options.max_rps else None
    low = max((r for r in held if r < min(failed)), default=0.0)
    high = min(failed)
    if low == 0.0:
        nxt = round(high / options.growth, 1)
        return nxt if nxt >= 1 and nxt not in results else None
    if (high - low) / low <= options.resolution:
        return None
    return round((low + high) / 2, 1)


def knee_of(steps: list[StepResult]) -> float | None:
    """The highest rate held with every lower rate held too; a rate holds when any attempt at it held."""
    held_at: dict[float, bool] = {}
    for step in steps:
        held_at[step.offered_rps] = held_at.get(step.offered_rps, False) or step.held
    knee = None
    for rate in sorted(held_at):
        if not held_at[rate]:
            break
        knee = rate
    return knee


def sweep_steps(
    options: SweepOptions, measure: Callable[[float, int], StepResult], say: Callable[[str], None], label: str
) -> list[StepResult]:
    """One sweep: ramp, confirm each failure, bisect; `measure(rate, attempt)` runs one step."""
    results: dict[float, bool] = {}
    steps: list[StepResult] = []
    while (rate := rates_to_try(options, results)) is not None:
        for attempt in range(1, options.confirmations + 2):
            again = f" (again, {attempt}/{options.confirmations + 1})" if attempt > 1 else ""
            say(f"{label}: offering {rate:g} req/s for {options.step_s}s{again}")
            step = measure(rate, attempt)
            step.attempt = attempt
            say(_step_line(step))
            steps.append(step)
            if step.held or step.generator_bound:
                break
        results[rate] = step.held
    return steps


def _step_line(step: StepResult) -> str:
    lat = step.latency_ms
    verdict = "held" if step.held else "NOT held: " + "; ".join(step.reasons)
    return (
        f"  offered {step.offered_rps:7.1f} req/s  served {step.served_rps:7.1f}  p50 {lat.get('p50') or 0:.0f} "
        f"p95 {lat.get('p95') or 0:.0f} p99 {lat.get('p99') or 0:.0f} ms  "
        f"CPU {step.proxy_cpu_ms_per_request or 0:.1f} ms/req  -> {verdict}"
    )


def run_sweep(options: SweepOptions, say: Callable[[str], None] = print) -> SweepReport:
    """`options.repeats` sweeps, each on a stack of its own: repeats are independent runs, as a user
    re-running the command gets (one proxy that served a sweep is not the proxy that starts one:
    docs/performance.md measured its CPU per request grow by a fifth after a sweep past the knee)."""
    template = load_template(options.template)
    options.workdir.mkdir(parents=True, exist_ok=True)
    report = SweepReport(machine=machine_facts(), options=_options_record(options), runs=[])
    steps: list[StepResult] = []
    try:
        for repeat in range(options.repeats):
            label = f"sweep {repeat + 1}/{options.repeats}"
            say(f"{label}: starting the fake OpenAI endpoint and the LiteLLM proxy from {options.template} "
                f"({options.workers} worker(s))")  # fmt: skip
            stack_dir = options.workdir / f"stack{repeat + 1}"
            with running_stack(template, stack_dir, workers=options.workers, variant=options.variant) as stack:
                say(
                    f"proxy ready in {stack.boot_seconds:.1f}s; open-loop steps of {options.step_s}s, "
                    f"p95 bound {options.p95_ms:g} ms"
                )

                def settled(step: StepResult, stack: RunningStack = stack) -> StepResult:
                    step.settle_s = wait_until_idle(lambda: cpu_seconds(stack.proxy.pid))
                    if step.settle_s is None:
                        say(f"  warning: the proxy was still busy {SETTLE_TIMEOUT_S:.0f}s after the step")
                    elif step.settle_s > 5:
                        say(f"  (the proxy served the step's backlog for {step.settle_s:.0f}s more before going idle)")
                    return step

                def measure(rate: float, attempt: int, repeat: int = repeat, stack: RunningStack = stack) -> StepResult:
                    step = settled(run_step(stack, rate, options, name=f"sweep{repeat + 1}-{rate:g}-{attempt}"))
                    steps.append(step)
                    return step

                say(f"{label}: warm-up, {options.start_rps:g} req/s for {WARMUP_S}s (not counted)")
                warmup = settled(
                    run_step(stack, options.start_rps, options, name=f"sweep{repeat + 1}-warmup", seconds=WARMUP_S)
                )
                sweep_steps(options, measure, say, label)
            report.runs.append(_run_of(steps, warmup, stack.boot_seconds))
            steps.clear()  # the partial sweep an interruption keeps
            knee = report.runs[-1].knee_rps
            say(f"sweep {repeat + 1}: knee {knee if knee is not None else 'not found'} req/s")
    except Interrupted as exc:
        if steps:
            report.runs.append(_run_of(steps))
        report.partial = f"interrupted by {exc.name}"
        raise SweepInterrupted(exc, report) from None
    return report


def _run_of(steps: list[StepResult], warmup: StepResult | None = None, boot_s: float | None = None) -> SweepRun:
    ordered = sorted(steps, key=lambda s: (s.offered_rps, s.attempt))
    return SweepRun(
        steps=ordered,
        knee_rps=knee_of(steps),
        generator_bound=any(s.generator_bound for s in steps),
        warmup=warmup,
        boot_s=boot_s,
    )


def _options_record(options: SweepOptions) -> dict[str, Any]:
    return {
        "template": str(options.template),
        "workers": options.workers,
        "step_s": options.step_s,
        "p95_bound_ms": options.p95_ms,
        "start_rps": options.start_rps,
        "growth": options.growth,
        "resolution": options.resolution,
        "repeats": options.repeats,
        "confirmations": options.confirmations,
        "variant": options.variant.name,
        "cpus": os.cpu_count(),
    }


def sweep_table(report: SweepReport) -> str:
    header = ("run", "offered", "try", "served", "fail", "p50", "p95", "p99", "hdr p50", "CPU ms/req", "proxy cores",
              "gen lag p99", "settle", "held")  # fmt: skip
    rows: list[tuple[str, ...]] = [header]
    for index, run in enumerate(report.runs, start=1):
        for s in run.steps:
            lat, hdr = s.latency_ms, s.overhead_header_ms or {}
            rows.append(
                (
                    str(index),
                    f"{s.offered_rps:g}",
                    str(s.attempt),
                    f"{s.served_rps:.1f}",
                    str(s.failures),
                    f"{lat.get('p50') or 0:.0f}",
                    f"{lat.get('p95') or 0:.0f}",
                    f"{lat.get('p99') or 0:.0f}",
                    f"{hdr.get('p50') or 0:.2f}",
                    f"{s.proxy_cpu_ms_per_request or 0:.1f}",
                    f"{s.proxy_cores:.2f}",
                    f"{s.generator.get('lag_p99_ms') or 0:.1f} ms",
                    "busy" if s.settle_s is None else f"{s.settle_s:.0f} s",
                    "yes" if s.held else "no",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.rjust(widths[i]) for i, c in enumerate(r)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    summary = report.summary()
    workers = report.options["workers"]
    if summary.get("knee_rps") is None:
        lines.append("knee: not found (no step held; lower --start-rps or relax --p95-ms)")
    else:
        lines.append(
            f"knee: {summary['knee_rps']:g} req/s with {workers} worker(s) = {summary['knee_rps_per_worker']:g} "
            f"req/s per worker, {summary['knee_rps_per_vcpu']} per vCPU the proxy used "
            f"({summary['proxy_cores_at_knee']} cores, {summary['proxy_cpu_ms_per_request_at_knee']} ms CPU/request); "
            f"p95 bound {report.options['p95_bound_ms']:g} ms"
        )
        if summary["knee_is_lower_bound"]:
            lines.append("  (a lower bound: no step failed up to --max-rps; raise it to find the real knee)")
        if len(summary["knees_rps"]) > 1:
            lines.append(
                f"repeats: knees {', '.join(f'{k:g}' for k in summary['knees_rps'])} req/s: "
                f"within +/-{summary['spread_percent']}% of the median"
            )
    if summary.get("generator_bound"):
        lines.append("WARNING generator-bound: some step was limited by the load generator; those steps are void")
    lines.append(
        "(open loop: fixed arrival rate, latency includes queueing; ~0 ms upstream on loopback; a step that did not "
        "hold was tried again (try); settle: seconds the proxy kept serving abandoned requests after the step)"
    )
    if report.partial:
        lines.insert(0, f"PARTIAL RESULTS: {report.partial}; the steps below are the ones that ran")
    return "\n".join(lines)


def write_sweep(report: SweepReport, directory: Path) -> Path:
    """sweep.json and its page, sweep.html (the knee curves), in `directory`; returns the JSON's path."""
    from .report_html import sweep_report

    path = directory / "sweep.json"
    text = report.to_json()
    path.write_text(text)
    (directory / "sweep.html").write_text(sweep_report(report, sweep_table(report), text))
    return path
