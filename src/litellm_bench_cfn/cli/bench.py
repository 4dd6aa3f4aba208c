"""`bench local`, `bench compare` and `bench up`: LiteLLM's benchmark on this machine, no AWS account."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from ..bench.compare import compare_table, run_compare, write_compare
from ..bench.local_stack import TemplateError
from ..bench.progress import BenchConsole
from ..bench.runner import BenchOptions, RunInterrupted, run_bench
from ..bench.scenarios import HIGH_THROUGHPUT_UPSTREAMS, SCENARIOS, scenario_named
from ..bench.variants import VARIANTS, variant_named
from ..exit_codes import EXIT_BAD_INPUT, EXIT_CHECK_FAILED
from ..processes import Interrupted, ProcessFailed, handle_stop_signals
from .common import (
    DEFAULT_TEMPLATE,
    add_screenshot_flag,
    add_variant_flag,
    existing_template,
    new_run_dir,
    options_from,
    say,
    screenshot,
    warn,
)

WORKER_MEMORY_MIB = 350
"""What one proxy worker takes once booted (REFERENCE.md)."""
MAX_WORKERS_PER_CORE = 4
EXIT_COMPETING = EXIT_CHECK_FAILED
LOCAL_FAILURES = (TemplateError, ProcessFailed, RuntimeError, TimeoutError, FileNotFoundError)
"""What a run on this machine can fail with once it started: one line (see `failed`)."""


def failed(command: str, exc: BaseException, workdir: Path) -> int:
    """One line for a local run that could not go on: bad input (the template) or a failure, with its logs."""
    if isinstance(exc, TemplateError):
        warn(str(exc))
        return EXIT_BAD_INPUT
    warn(f"{command} failed: {exc}\n(logs in {workdir})")
    return EXIT_CHECK_FAILED


def check_workers(workers: int, cores: int | None = None, available_mib: float | None = None) -> list[str]:
    """Warnings for a worker count this machine runs badly; ValueError for one it cannot run at all."""
    import psutil

    cores = cores or os.cpu_count() or 1
    if available_mib is None:
        available_mib = psutil.virtual_memory().available / 2**20
    if workers > MAX_WORKERS_PER_CORE * cores:
        raise ValueError(
            f"--workers: {workers} workers on {cores} core(s) only queue behind each other; "
            f"use at most {MAX_WORKERS_PER_CORE * cores} (one per core measures best)"
        )
    warnings = []
    if workers > cores:
        warnings.append(
            f"warning: --workers {workers} on {cores} core(s): each worker is one event loop (one core at most), "
            f"so past {cores} they share cores with each other and with Locust; expect no more RPS"
        )
    if workers * WORKER_MEMORY_MIB > available_mib:
        warnings.append(
            f"warning: --workers {workers} need ~{workers * WORKER_MEMORY_MIB} MiB, {available_mib:.0f} MiB available"
        )
    return warnings


def check_load_flags(args: argparse.Namespace) -> None:
    """ValueError naming the flag for a load shape no run can have."""
    for flag, dest in (("users", "users"), ("duration", "duration_s"), ("workers", "workers")):
        if getattr(args, dest) < 1:
            raise ValueError(f"--{flag}: must be at least 1 (got {getattr(args, dest)})")
    if args.spawn_rate <= 0:
        raise ValueError(f"--spawn-rate: must be above 0 (got {args.spawn_rate})")
    if not 0 <= args.upstream_latency_ms <= 60_000:
        raise ValueError(f"--upstream-latency-ms: must be 0-60000 (got {args.upstream_latency_ms:g})")
    if getattr(args, "baseline_duration_s", 0) < 0:
        raise ValueError(f"--baseline-duration: must be 0 (skip) or more (got {args.baseline_duration_s})")
    if getattr(args, "rpm_limit", 1) < 1:
        raise ValueError(f"--rpm-limit: must be at least 1 request per minute (got {args.rpm_limit})")


def _options(args: argparse.Namespace, workdir: Path) -> BenchOptions:
    from ..bench.local_stack import load_template

    template = existing_template(args.template)
    check_load_flags(args)
    load_template(template)  # TemplateError: one line saying what the file is instead
    options = options_from(BenchOptions, args, template=template, workdir=workdir)
    scenario_named(options.scenario).upstream(options.upstream)  # ValueError: --upstream the scenario does not take
    return options


def _prepared(args: argparse.Namespace, kind: str) -> Path:
    """Warn about the worker count, then a new run folder (ValueError: bad input)."""
    for warning in check_workers(args.workers):
        warn(warning)
    return new_run_dir(args, kind)


def _competing(args: argparse.Namespace) -> list[dict[str, Any]]:
    from ..bench.concurrency import other_benchmarks

    others = other_benchmarks()
    if others:
        kinds = ", ".join(f"{o['kind']} (pid {o['pid']})" for o in others[:5])
        verb = "refusing to start (--exclusive)" if getattr(args, "exclusive", False) else "recorded in the results"
        warn(f"warning: another benchmark is running on this machine and competes for the CPU: {kinds}; {verb}")
    return others


def _interrupted(exc: RunInterrupted, workdir: Path) -> int:
    from ..bench.report import write_outputs

    json_path = workdir / "results.json"
    if exc.report is not None:
        write_outputs(exc.report, json_path, workdir / "report.html")
    else:
        json_path.write_text(json.dumps(exc.summary, indent=2, sort_keys=True, default=str))
    warn(
        f"{exc.summary['partial']}: every process it started is stopped; PARTIAL results in {json_path} "
        f"(raw Locust, proxy and endpoint files in {workdir})"
    )
    return exc.exit_code


def cmd_bench_local(args: argparse.Namespace) -> int:
    from ..bench.concurrency import registered_run

    handle_stop_signals()
    try:
        workdir = _prepared(args, "local")
    except ValueError as exc:
        warn(str(exc))
        return EXIT_BAD_INPUT
    try:
        options = _options(args, workdir)
    except ValueError as exc:
        workdir.rmdir()
        warn(str(exc))
        return EXIT_BAD_INPUT
    from ..bench.report import table, write_outputs

    try:
        with registered_run(workdir, "local"):
            competing = _competing(args)
            if competing and args.exclusive:
                workdir.rmdir()
                return EXIT_COMPETING
            report = run_bench(options, say=BenchConsole(), competing=competing)
    except RunInterrupted as exc:
        return _interrupted(exc, workdir)
    except Interrupted as exc:  # before the run began
        warn(f"interrupted by {exc.name} before the run began; nothing was measured")
        return exc.exit_code
    except LOCAL_FAILURES as exc:
        return failed("bench local", exc, options.workdir)
    json_path, html_path = options.workdir / "results.json", options.workdir / "report.html"
    write_outputs(report, json_path, html_path)
    print()
    print(table(report))
    print(f"\nresults: {json_path}\nreport:  {html_path}")
    screenshot(args, html_path, options.workdir / "report.png")
    if not scenario_named(options.scenario).failures_fail_the_run:
        return 0
    failures = report.proxy.load.failures
    if failures:
        warn(f"{failures} request(s) failed; samples in {options.workdir}/proxy_errors.txt")
        return EXIT_CHECK_FAILED
    if report.accounting and not report.accounting.get("balanced", False):
        warn("requests do not add up (see the accounting line): some were lost")
        return EXIT_CHECK_FAILED
    return 0


def cmd_bench_compare(args: argparse.Namespace) -> int:
    handle_stop_signals()
    try:
        workdir = _prepared(args, "compare")
        base = _options(args, workdir)
        names = [n.strip() for n in args.variants.split(",") if n.strip()]
        if len(names) < 2:
            raise ValueError("--variants: name at least two, e.g. shipped,seeds-detailed-debug")
        for name in names:
            variant_named(name)
        if args.rounds < 1:
            raise ValueError("--rounds: must be at least 1")
    except ValueError as exc:
        warn(str(exc))
        return EXIT_BAD_INPUT
    try:
        summaries = run_compare(base, names, args.rounds, say=BenchConsole())
    except RunInterrupted as exc:
        warn(f"{exc.summary['partial']}: every process it started is stopped; raw files in {base.workdir}")
        return exc.exit_code
    except Interrupted as exc:
        warn(f"interrupted by {exc.name}: every process it started is stopped; raw files in {base.workdir}")
        return exc.exit_code
    except LOCAL_FAILURES as exc:
        return failed("bench compare", exc, base.workdir)
    html_path = write_compare(summaries, base.workdir / "compare.json")
    print()
    print(compare_table(summaries))
    print(f"\nresults: {base.workdir / 'compare.json'}\nreport:  {html_path}")
    screenshot(args, html_path, base.workdir / "compare.png")
    return 0


def cmd_bench_up(args: argparse.Namespace) -> int:
    """The stack `bench local` measures, kept up for your own client until a stop signal."""
    from ..bench.concurrency import registered_run
    from ..bench.local_stack import load_template, running_stack

    handle_stop_signals()
    try:
        if args.workers < 1:
            raise ValueError(f"--workers: must be at least 1 (got {args.workers})")
        template = load_template(existing_template(args.template))
        workdir = _prepared(args, "up")
    except ValueError as exc:
        warn(str(exc))
        return EXIT_BAD_INPUT
    try:
        with (
            registered_run(workdir, "up"),
            running_stack(template, workdir, workers=args.workers, variant=args.variant) as stack,
        ):
            model = "fake-openai-endpoint"
            facts = {
                "base_url": f"{stack.proxy_url}/",
                "openai_base_url": f"{stack.proxy_url}/v1",
                "master_key": stack.master_key,
                "model": model,
                "fake_endpoint_url": f"{stack.fake_url}/",
                "workers": len(stack.worker_pids),
                "logs": str(workdir),
                "pid": os.getpid(),
            }
            if args.json:
                print(json.dumps(facts), flush=True)
            else:
                say(
                    f"LiteLLM proxy up: {facts['base_url']}  (OpenAI SDK base_url {facts['openai_base_url']})\n"
                    f"master key: {stack.master_key}   model: {model}   workers: {facts['workers']}\n"
                    f"guide's locustfile: API_KEY={stack.master_key} locust -f locustfile.py -H {facts['base_url']}\n"
                    f"logs in {workdir}; Ctrl-C (or SIGTERM) stops everything"
                )
            while True:
                for process in stack.processes():
                    if process.poll() is not None:
                        warn(f"{process.name} exited with status {process.poll()}; stopping (logs in {workdir})")
                        return EXIT_CHECK_FAILED
                time.sleep(0.5)
    except Interrupted as exc:
        warn(f"stopped by {exc.name}: every process it started is stopped (logs in {workdir})")
        return exc.exit_code
    except LOCAL_FAILURES as exc:
        return failed("bench up", exc, workdir)


def _load_flags(parser: argparse.ArgumentParser, users: int, duration: int) -> None:
    parser.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="the template whose proxy to run")
    parser.add_argument("--users", type=int, default=users, help="Locust users (guide: 1000)")
    parser.add_argument("--spawn-rate", type=float, default=100, help="users started per second (guide: 500)")
    parser.add_argument("--duration", dest="duration_s", type=int, default=duration, help="seconds of load")
    parser.add_argument("--workers", type=int, default=1, help="proxy workers (one per core measures best)")
    parser.add_argument("--results-dir", default="results", help="where each run's folder of JSON/HTML results goes")
    parser.add_argument("--upstream-latency-ms", type=float, default=0.0,
                        help="the fake endpoint answers after this delay, as an upstream over a network would "
                             "(default 0: the proxy alone; 95 compares latency with the guide)")  # fmt: skip
    add_screenshot_flag(parser)


def register(sub: Any) -> Any:
    """`bench` and its local, compare and up modes; returns the modes for the other `bench` modules."""
    formatter = argparse.ArgumentDefaultsHelpFormatter
    bench = sub.add_parser("bench", help="run LiteLLM's load benchmark on this machine (no AWS)")
    modes = bench.add_subparsers(dest="bench_command", required=True, metavar="MODE")

    local = modes.add_parser(
        "local", help="fake endpoint + real LiteLLM proxy from the template + Locust", formatter_class=formatter
    )
    _load_flags(local, users=100, duration=45)
    local.add_argument("--baseline-duration", dest="baseline_duration_s", type=int, default=15,
                       help="seconds of the same load sent straight to the fake endpoint (0 = skip)")  # fmt: skip
    scenarios = "; ".join(f"{s.name}: {s.summary}" for s in SCENARIOS.values())
    local.add_argument("--scenario", choices=SCENARIOS, default="guide", help=f"what to measure ({scenarios})")
    local.add_argument("--rpm-limit", type=int, default=600, help="rate-limited scenario: RPM quota per deployment")
    add_variant_flag(local)
    local.add_argument(
        "--exclusive", action="store_true", help="refuse to start while another benchmark runs here (not just warn)"
    )
    local.add_argument("--upstream", choices=HIGH_THROUGHPUT_UPSTREAMS, default="",
                       help="high-throughput scenario: the model behind the proxy (default mock: LiteLLM's "
                            "in-process mock_response, as published; fake-endpoint: the fake endpoint)")  # fmt: skip
    local.set_defaults(handler=cmd_bench_local)

    compare = modes.add_parser(
        "compare", help="interleaved rounds of several proxy variants, same load", formatter_class=formatter
    )
    _load_flags(compare, users=100, duration=30)
    compare.add_argument("--variants", default="shipped,seeds-detailed-debug",
                         help=f"comma-separated, first is the reference; known: {', '.join(VARIANTS)}")  # fmt: skip
    compare.add_argument("--rounds", type=int, default=2, help="rounds per variant")
    compare.set_defaults(handler=cmd_bench_compare, baseline_duration_s=0)

    up = modes.add_parser(
        "up",
        help="start the fake endpoint and the proxy exactly as `bench local` does and keep them up for your client",
        formatter_class=formatter,
    )
    up.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="the template whose proxy to run")
    up.add_argument("--workers", type=int, default=1, help="proxy workers")
    add_variant_flag(up)
    up.add_argument("--results-dir", default="results", help="where the run folder with the logs goes")
    up.add_argument("--json", action="store_true", help="print one JSON line (base_url, master_key, ...) for scripts")
    up.set_defaults(handler=cmd_bench_up)
    return modes
