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

from ..processes import Interrupted, cpu_seconds
from ..shipped import LOCUSTFILE
from ..versions import LITELLM_VERSION, LOCUST_VERSION
from .local_stack import RunningStack, StackOptions, load_template, running_stack
from .locust_run import LoadResult, LoadShape, run_locust
from .published import FOUR_INSTANCES, PUBLISHED_RPS_PER_WORKER
from .scenarios import fake_endpoint_args, scenario_named

SATURATION = 0.85
"""A process using this share of the CPU it can use counts as the limit."""
OTHER_LOAD_CORES = 0.25
"""CPU used by processes outside the run above which the verdict says the machine was shared."""


@dataclass(frozen=True)
class BenchOptions(StackOptions):
    users: int = 100
    spawn_rate: float = 100
    duration_s: int = 45
    baseline_duration_s: int = 15
    scenario: str = "guide"
    """A name in bench/scenarios.py's SCENARIOS."""
    rpm_limit: int = 600
    upstream_latency_ms: float = 0.0
    """The fake endpoint answers after this delay (its --delay-ms): an upstream over a network."""
    upstream: str = ""
    """The scenario's --upstream choice ("" = its default); see Scenario.upstreams."""


@dataclass
class PhaseResult:
    name: str
    load: LoadResult
    cpu_s: dict[str, float]
    upstream: dict[str, Any]
    machine: dict[str, Any] = field(default_factory=dict)
    """The whole machine over the phase: `busy_s` (CPU seconds of every process), `cores`, load averages."""

    def cpu_share(self, process: str) -> float:
        return self.cpu_s.get(process, 0.0) / max(self.load.wall_s, 1e-9)

    @property
    def own_cores(self) -> float:
        return sum(self.cpu_share(name) for name in self.cpu_s)

    @property
    def busy_cores(self) -> float:
        busy = self.machine.get("busy_s")
        return self.own_cores if busy is None else max(float(busy) / max(self.load.wall_s, 1e-9), self.own_cores)

    @property
    def other_cores(self) -> float:
        """CPU used by processes this run did not start (other benchmarks, builds, the test suite...)."""
        return max(0.0, self.busy_cores - self.own_cores)


@dataclass
class BenchReport:
    machine: dict[str, Any]
    options: dict[str, Any]
    boot_seconds: float
    baseline: PhaseResult | None
    proxy: PhaseResult
    flags: list[str]
    measured_overhead_ms: dict[str, float | None]
    published: dict[str, Any]
    rate_limit: dict[str, Any] | None = None
    accounting: dict[str, Any] = field(default_factory=dict)
    partial: str | None = None
    """Why the run stopped early (e.g. "interrupted by SIGTERM during the proxy phase"); None if complete."""
    competing: list[dict[str, Any]] = field(default_factory=list)
    """Other benchmarks seen running on this machine during the run (see bench/concurrency.py)."""
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


def _stack_cpu(stack: RunningStack) -> dict[str, float]:
    cpu = {"proxy": cpu_seconds(stack.proxy.pid), "fake_endpoint": cpu_seconds(stack.fake_endpoint.pid)}
    if stack.redis is not None:
        cpu["redis"] = cpu_seconds(stack.redis.pid)
    return cpu


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine used since boot (all cores; idle and iowait excluded)."""
    import psutil

    times = psutil.cpu_times()
    total = sum(times)
    return float(total - times.idle - getattr(times, "iowait", 0.0))


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
    before = _stack_cpu(stack)
    busy_before, load_before = machine_busy_seconds(), os.getloadavg()

    def measured(load: LoadResult) -> PhaseResult:
        after = _stack_cpu(stack)
        cpu = {k: max(0.0, after[k] - before[k]) for k in before}
        cpu["locust"] = load.locust_cpu_s
        machine = {
            "cores": os.cpu_count() or 1,
            "busy_s": round(machine_busy_seconds() - busy_before, 3),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        }
        try:
            upstream = fake_stats(stack)
        except OSError:
            upstream = {}
        return PhaseResult(name=name, load=load, cpu_s=cpu, upstream=upstream, machine=machine)

    try:
        load = run_locust(
            host, shape, options.workdir, name=name, master_key=stack.master_key, progress=say, locustfile=locustfile
        )
    except Interrupted as exc:
        if isinstance(exc.partial, LoadResult):
            exc.partial = measured(exc.partial)
        raise
    if load.requests == 0:
        raise RuntimeError(f"{name}: Locust sent no request; see {options.workdir}/{name}_locust.log")
    return measured(load)


def saturation_flags(phase: PhaseResult, workers: int, cores: int | None = None) -> list[str]:
    """What limited the phase, from the CPU every process used (ours and the machine's other load).

    A worker is one event loop: at most one core. The proxy is the limit when its workers used
    what they can (~one core each), or when the machine's cores were all busy and the proxy used
    everything the other processes (Locust, the fake endpoint, anything else running) left it."""
    cores = cores or int(phase.machine.get("cores") or os.cpu_count() or 1)
    proxy, locust, fake = phase.cpu_share("proxy"), phase.cpu_share("locust"), phase.cpu_share("fake_endpoint")
    others_in_run = phase.own_cores - proxy
    busy, other = phase.busy_cores, phase.other_cores
    machine_full = busy >= SATURATION * cores
    left_for_proxy = max(0.0, cores - others_in_run - other)
    usage = f"proxy {proxy:.2f}, Locust {locust:.2f}, fake endpoint {fake:.2f}, other processes {other:.2f}"
    flags = []
    if proxy >= SATURATION * workers:
        flags.append(
            f"proxy-saturated: the proxy's {workers} worker(s) used {proxy:.2f} core(s), about one each, "
            f"all they can use"
        )
    elif machine_full and proxy >= SATURATION * min(workers, left_for_proxy):
        flags.append(
            f"proxy-saturated: the proxy used {proxy:.2f} core(s), all the machine left its {workers} worker(s) "
            f"(the rest went to Locust, the fake endpoint and other processes)"
        )
    if machine_full:
        flags.append(
            f"machine-saturated: {busy:.2f} of {cores} core(s) busy ({usage}): more workers or users cannot "
            f"go faster on this machine"
        )
    offered = phase.load.shape.users / 0.75  # between(0.5, 1) waits 0.75 s on average
    if locust >= SATURATION:
        flags.append(
            f"client-bound: Locust used {locust:.2f} of its one core; the load generator was "
            f"the limit (offered ~{offered:.0f} req/s)"
        )
    if fake >= SATURATION:
        flags.append("upstream-bound: the fake endpoint used a whole core")
    if other >= OTHER_LOAD_CORES:
        load_after = phase.machine.get("loadavg_after") or []
        flags.append(
            f"other-load: processes this run did not start used {other:.2f} core(s) "
            f"(load average {', '.join(str(x) for x in load_after) or 'unknown'}); the numbers are lower than "
            f"on an idle machine"
        )
    return flags


def user_flags(phase: PhaseResult) -> list[str]:
    users = phase.load.users or {}
    starved = int(users.get("starved_users", 0))
    if not starved:
        return []
    timed_out = int(users.get("starved_timed_out", 0))
    return [
        f"starved-users: {starved} of {users.get('users', '?')} users never got a success "
        f"({timed_out} timed out after Locust's 60 s client timeout, {users.get('starved_never_answered', 0)} "
        f"never got any answer); the stack served fewer users than were offered"
    ]


def accounting(phase: PhaseResult) -> dict[str, Any]:
    """Every request accounted for: what Locust recorded against the chat completions the fake endpoint served.

    Only chat completions count upstream (not the proxy's own /v1/models or health calls). Through
    the proxy each successful request is one upstream 200 (LiteLLM retries failed ones). A client
    that gave up (Locust's 60 s timeout, or a request still open when the run stopped) may still
    be answered upstream: those are *late*, not lost. Balanced: upstream 200s = successes + late,
    with late at most the requests that got no answer."""
    successes = phase.load.requests - phase.load.failures
    chat = phase.upstream.get("chat")
    by_status = chat if isinstance(chat, dict) else phase.upstream.get("status", {})
    upstream_ok = int(by_status.get("200", 0))
    users = phase.load.users or {}
    no_answer = int(users.get("no_answer", 0))
    unfinished = int(users.get("unfinished", 0))
    late = upstream_ok - successes
    upstream_chat = sum(int(n) for n in by_status.values())
    return {
        "sent": phase.load.requests,
        "succeeded": successes,
        "failed": phase.load.failures,
        "no_answer": no_answer,
        "unfinished_at_stop": unfinished,
        "upstream_200": upstream_ok,
        "upstream_chat": upstream_chat,
        "upstream_other": max(0, int(phase.upstream.get("requests", 0)) - upstream_chat),
        "upstream_total": int(phase.upstream.get("requests", 0)),
        "late": max(0, late),
        "balanced": 0 <= late <= no_answer + unfinished,
        "users": users.get("users"),
        "starved_users": users.get("starved_users"),
    }


class RunInterrupted(Exception):
    """A stop signal ended the run; every process is stopped. `report` holds what was measured
    when the proxy phase had begun (marked partial), `summary` a JSON-able record in every case."""

    def __init__(self, signal_name: str, exit_code: int, report: BenchReport | None, summary: dict[str, Any]):
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name = signal_name
        self.exit_code = exit_code
        self.report = report
        self.summary = summary


def _options_record(options: BenchOptions) -> dict[str, Any]:
    return {
        "template": str(options.template),
        "scenario": options.scenario,
        "users": options.users,
        "spawn_rate": options.spawn_rate,
        "duration_s": options.duration_s,
        "workers": options.workers,
        "variant": options.variant.name,
        "upstream_latency_ms": options.upstream_latency_ms,
    }


def run_bench(
    options: BenchOptions,
    say: Callable[[str], None] = print,
    competing: list[dict[str, Any]] | None = None,
) -> BenchReport:
    """The run; `competing` (benchmarks seen at the start) is recorded and extended at the end."""
    from .concurrency import other_benchmarks

    scenario = scenario_named(options.scenario)
    upstream = scenario.upstream(options.upstream)
    template = load_template(options.template)
    options.workdir.mkdir(parents=True, exist_ok=True)
    shape = LoadShape(options.users, options.spawn_rate, options.duration_s)
    say(
        f"starting the fake OpenAI endpoint and the LiteLLM proxy from {options.template} "
        f"({options.workers} worker(s), variant {options.variant.name})"
    )
    started = time.monotonic()
    seen = list(competing or [])
    baseline: PhaseResult | None = None
    proxy: PhaseResult | None = None
    step = "start-up"
    boot_seconds = 0.0
    try:
        with running_stack(
            template,
            options.workdir,
            workers=options.workers,
            variant=options.variant,
            fake_args=fake_endpoint_args(options),
            model_list_factory=scenario.model_list(upstream),
        ) as stack:
            boot_seconds = stack.boot_seconds
            workers_up = len(stack.worker_pids)
            say(f"proxy ready in {stack.boot_seconds:.1f}s at {stack.proxy_url} ({workers_up} worker(s) up)")
            if options.baseline_duration_s > 0 and scenario.direct_baseline:
                step = "direct baseline"
                seconds = options.baseline_duration_s
                say(f"direct baseline: {options.users} users straight to the fake endpoint for {seconds}s")
                base_shape = LoadShape(options.users, options.spawn_rate, options.baseline_duration_s)
                baseline = _phase("direct", stack, f"{stack.fake_url}/", base_shape, options, say)
            step = "proxy phase"
            say(f"through the proxy: {options.users} users, spawn {options.spawn_rate:g}/s, {options.duration_s}s")
            proxy = _phase("proxy", stack, f"{stack.proxy_url}/", shape, options, say, locustfile=scenario.locustfile)
            own = {p.pid for p in stack.processes()}
            seen += [c for c in other_benchmarks(own) if c["pid"] not in {s["pid"] for s in seen}]
    except Interrupted as exc:
        say(f"{exc.name}: stopped every process it started ({time.monotonic() - started:.0f}s in all)")
        partial_phase = exc.partial if isinstance(exc.partial, PhaseResult) else None
        if step == "direct baseline":
            baseline = partial_phase
        elif step == "proxy phase":
            proxy = partial_phase
        reason = f"interrupted by {exc.name} during the {step}"
        report = None
        if proxy is not None:
            report = _report(options, boot_seconds, baseline, proxy, seen, partial=reason)
        summary = {
            "partial": reason,
            "options": _options_record(options),
            "machine": machine_facts(),
            "baseline": None if baseline is None else asdict(baseline),
            "proxy": None if proxy is None else asdict(proxy),
            "competing": seen,
        }
        raise RunInterrupted(exc.name, exc.exit_code, report, summary) from None
    say(f"all processes stopped ({time.monotonic() - started:.0f}s in all)")
    assert proxy is not None
    return _report(options, boot_seconds, baseline, proxy, seen)


def _report(
    options: BenchOptions,
    boot_seconds: float,
    baseline: PhaseResult | None,
    proxy: PhaseResult,
    competing: list[dict[str, Any]],
    partial: str | None = None,
) -> BenchReport:
    overhead: dict[str, float | None] = {}
    if baseline is not None:
        for key in ("p50", "p95", "p99", "avg"):
            through, direct = proxy.load.latency_ms.get(key), baseline.load.latency_ms.get(key)
            overhead[key] = None if through is None or direct is None else round(through - direct, 2)
    scenario = scenario_named(options.scenario)
    upstream = scenario.upstream(options.upstream)
    flags = saturation_flags(proxy, options.workers) + user_flags(proxy)
    if competing:
        flags.append(
            f"competing-benchmark: {len(competing)} other benchmark process(es) ran on this machine "
            f"({', '.join(sorted({c['kind'] for c in competing}))}); see `competing` in results.json"
        )
    return BenchReport(
        machine=machine_facts(),
        options={**_options_record(options), **({"upstream": upstream} if upstream else {})},
        boot_seconds=boot_seconds,
        baseline=baseline,
        proxy=proxy,
        flags=flags,
        measured_overhead_ms=overhead,
        accounting=accounting(proxy) if upstream != "mock" else {},
        published={
            **asdict(FOUR_INSTANCES),
            "rps_per_worker": round(PUBLISHED_RPS_PER_WORKER, 1),
        },
        partial=partial,
        competing=competing,
        **scenario.results(proxy, options, upstream),
    )
