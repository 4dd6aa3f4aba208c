"""`bench local`, `bench compare` and `bench up`: LiteLLM's benchmark on this machine, no AWS account."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .bench.compare import compare_table, run_compare, write_compare
from .bench.progress import BenchConsole
from .bench.runner import (
    HIGH_THROUGHPUT_UPSTREAMS,
    SCENARIOS,
    BenchOptions,
    RunInterrupted,
    high_throughput_upstream,
    run_bench,
)
from .bench.variants import VARIANTS, variant_named
from .processes import Interrupted, ProcessFailed, handle_stop_signals

DEFAULT_TEMPLATE = Path("templates/cloudformation-ecs.yaml")
WORKER_MEMORY_MIB = 350
"""What one proxy worker takes once booted (REFERENCE.md)."""
MAX_WORKERS_PER_CORE = 4
EXIT_BAD_INPUT = 2
EXIT_COMPETING = 1


def _say(message: str) -> None:
    print(message, flush=True)


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def _options(args: argparse.Namespace, workdir: Path) -> BenchOptions:
    from .bench.local_stack import load_template

    template = Path(args.template)
    if not template.is_file():
        raise ValueError(f"--template: {template} does not exist (run from the repository root or pass a path)")
    for name in ("users", "duration", "workers"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name}: must be at least 1 (got {getattr(args, name)})")
    if args.spawn_rate <= 0:
        raise ValueError(f"--spawn-rate: must be above 0 (got {args.spawn_rate})")
    if not 0 <= args.upstream_latency_ms <= 60_000:
        raise ValueError(f"--upstream-latency-ms: must be 0-60000 (got {args.upstream_latency_ms:g})")
    if getattr(args, "baseline_duration", 0) < 0:
        raise ValueError(f"--baseline-duration: must be 0 (skip) or more (got {args.baseline_duration})")
    if getattr(args, "rpm_limit", 1) < 1:
        raise ValueError(f"--rpm-limit: must be at least 1 request per minute (got {args.rpm_limit})")
    load_template(template)  # TemplateError: one line saying what the file is instead
    options = BenchOptions(
        template=template,
        workdir=workdir,
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration_s=args.duration,
        baseline_duration_s=getattr(args, "baseline_duration", 0),
        workers=args.workers,
        scenario=getattr(args, "scenario", "guide"),
        rpm_limit=getattr(args, "rpm_limit", 600),
        variant=variant_named(getattr(args, "variant", "shipped")),
        upstream_latency_ms=args.upstream_latency_ms,
        upstream=getattr(args, "upstream", None) or "",
    )
    high_throughput_upstream(options)  # ValueError: --upstream without the high-throughput scenario
    return options


def _run_dir(args: argparse.Namespace, kind: str) -> Path:
    """A new folder for this run, created here: two runs started in the same second get two folders."""
    root = Path(args.results_dir)
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    for suffix in range(1, 1000):
        candidate = root / (stem if suffix == 1 else f"{stem}-{suffix}")
        try:
            candidate.mkdir()  # exclusive: fails if another run took the name first
        except FileExistsError:
            continue
        return candidate
    raise ValueError(f"--results-dir: cannot create a new run folder under {root}")


def _competing(args: argparse.Namespace) -> list[dict[str, Any]]:
    from .bench.concurrency import other_benchmarks

    others = other_benchmarks()
    if others:
        kinds = ", ".join(f"{o['kind']} (pid {o['pid']})" for o in others[:5])
        verb = "refusing to start (--exclusive)" if getattr(args, "exclusive", False) else "recorded in the results"
        _warn(f"warning: another benchmark is running on this machine and competes for the CPU: {kinds}; {verb}")
    return others


def _interrupted(exc: RunInterrupted, workdir: Path) -> int:
    from .bench.report import write_outputs

    json_path = workdir / "results.json"
    if exc.report is not None:
        write_outputs(exc.report, json_path, workdir / "report.html")
    else:
        json_path.write_text(json.dumps(exc.summary, indent=2, sort_keys=True, default=str))
    _warn(
        f"{exc.summary['partial']}: every process it started is stopped; PARTIAL results in {json_path} "
        f"(raw Locust, proxy and endpoint files in {workdir})"
    )
    return exc.exit_code


def cmd_bench_local(args: argparse.Namespace) -> int:
    from .bench.concurrency import registered_run
    from .bench.local_stack import TemplateError

    handle_stop_signals()
    try:
        for warning in check_workers(args.workers):
            _warn(warning)
        workdir = _run_dir(args, "local")
    except ValueError as exc:
        _warn(str(exc))
        return EXIT_BAD_INPUT
    try:
        options = _options(args, workdir)
    except ValueError as exc:
        workdir.rmdir()
        _warn(str(exc))
        return EXIT_BAD_INPUT
    from .bench.report import table, write_outputs

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
        _warn(f"interrupted by {exc.name} before the run began; nothing was measured")
        return exc.exit_code
    except TemplateError as exc:
        _warn(str(exc))
        return EXIT_BAD_INPUT
    except (ProcessFailed, RuntimeError, TimeoutError, FileNotFoundError) as exc:
        _warn(f"bench local failed: {exc}\n(logs in {options.workdir})")
        return 1
    json_path, html_path = options.workdir / "results.json", options.workdir / "report.html"
    write_outputs(report, json_path, html_path)
    print()
    print(table(report))
    print(f"\nresults: {json_path}\nreport:  {html_path}")
    _screenshot(args, html_path, options.workdir / "report.png")
    if options.scenario not in ("guide", "high-throughput"):
        return 0
    failures = report.proxy.load.failures
    if failures:
        _warn(f"{failures} request(s) failed; samples in {options.workdir}/proxy_errors.txt")
        return 1
    if report.accounting and not report.accounting.get("balanced", False):
        _warn("requests do not add up (see the accounting line): some were lost")
        return 1
    return 0


def cmd_bench_compare(args: argparse.Namespace) -> int:
    handle_stop_signals()
    try:
        for warning in check_workers(args.workers):
            _warn(warning)
        workdir = _run_dir(args, "compare")
        base = _options(args, workdir)
        names = [n.strip() for n in args.variants.split(",") if n.strip()]
        if len(names) < 2:
            raise ValueError("--variants: name at least two, e.g. shipped,seeds-detailed-debug")
        for name in names:
            variant_named(name)
        if args.rounds < 1:
            raise ValueError("--rounds: must be at least 1")
    except ValueError as exc:
        _warn(str(exc))
        return EXIT_BAD_INPUT
    try:
        summaries = run_compare(base, names, args.rounds, say=BenchConsole())
    except RunInterrupted as exc:
        _warn(f"{exc.summary['partial']}: every process it started is stopped; raw files in {base.workdir}")
        return exc.exit_code
    except Interrupted as exc:
        _warn(f"interrupted by {exc.name}: every process it started is stopped; raw files in {base.workdir}")
        return exc.exit_code
    except (ProcessFailed, RuntimeError, TimeoutError, FileNotFoundError) as exc:
        _warn(f"bench compare failed: {exc}\n(logs in {base.workdir})")
        return 1
    html_path = write_compare(summaries, base.workdir / "compare.json")
    print()
    print(compare_table(summaries))
    print(f"\nresults: {base.workdir / 'compare.json'}\nreport:  {html_path}")
    _screenshot(args, html_path, base.workdir / "compare.png")
    return 0


def _screenshot(args: argparse.Namespace, html_path: Path, png: Path) -> None:
    """Open the report in headless Chromium (when installed) and keep a screenshot beside it."""
    if args.screenshot:
        from .bench.browser import screenshot_report

        print(screenshot_report(html_path, png), flush=True)


def cmd_bench_up(args: argparse.Namespace) -> int:
    """The stack `bench local` measures, kept up for your own client until a stop signal."""
    from .bench.concurrency import registered_run
    from .bench.local_stack import TemplateError, load_template, running_stack
    from .bench.variants import variant_named as variant_for

    handle_stop_signals()
    try:
        if args.workers < 1:
            raise ValueError(f"--workers: must be at least 1 (got {args.workers})")
        for warning in check_workers(args.workers):
            _warn(warning)
        template_path = Path(args.template)
        if not template_path.is_file():
            raise ValueError(
                f"--template: {template_path} does not exist (run from the repository root or pass a path)"
            )
        template = load_template(template_path)
        workdir = _run_dir(args, "up")
    except ValueError as exc:
        _warn(str(exc))
        return EXIT_BAD_INPUT
    try:
        with (
            registered_run(workdir, "up"),
            running_stack(template, workdir, workers=args.workers, variant=variant_for(args.variant)) as stack,
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
                _say(
                    f"LiteLLM proxy up: {facts['base_url']}  (OpenAI SDK base_url {facts['openai_base_url']})\n"
                    f"master key: {stack.master_key}   model: {model}   workers: {facts['workers']}\n"
                    f"guide's locustfile: API_KEY={stack.master_key} locust -f locustfile.py -H {facts['base_url']}\n"
                    f"logs in {workdir}; Ctrl-C (or SIGTERM) stops everything"
                )
            while True:
                for process in stack.processes():
                    if process.poll() is not None:
                        _warn(f"{process.name} exited with status {process.poll()}; stopping (logs in {workdir})")
                        return 1
                time.sleep(0.5)
    except Interrupted as exc:
        _warn(f"stopped by {exc.name}: every process it started is stopped (logs in {workdir})")
        return exc.exit_code
    except TemplateError as exc:
        _warn(str(exc))
        return EXIT_BAD_INPUT
    except (ProcessFailed, RuntimeError, TimeoutError, FileNotFoundError) as exc:
        _warn(f"bench up failed: {exc}\n(logs in {workdir})")
        return 1


def _load_flags(parser: argparse.ArgumentParser, users: int, duration: int) -> None:
    parser.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="the template whose proxy to run")
    parser.add_argument("--users", type=int, default=users, help="Locust users (guide: 1000)")
    parser.add_argument("--spawn-rate", type=float, default=100, help="users started per second (guide: 500)")
    parser.add_argument("--duration", type=int, default=duration, help="seconds of load")
    parser.add_argument("--workers", type=int, default=1, help="proxy workers (one per core measures best)")
    parser.add_argument("--results-dir", default="results", help="where each run's folder of JSON/HTML results goes")
    parser.add_argument("--upstream-latency-ms", type=float, default=0.0,
                        help="the fake endpoint answers after this delay, as an upstream over a network would "
                             "(default 0: the proxy alone; 95 compares latency with the guide)")  # fmt: skip
    parser.add_argument("--screenshot", action=argparse.BooleanOptionalAction, default=True,
                        help="open the report in headless Chromium, if installed, and keep a PNG of it")  # fmt: skip


def register(sub: Any) -> None:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    bench = sub.add_parser("bench", help="run LiteLLM's load benchmark on this machine (no AWS)")
    modes = bench.add_subparsers(dest="bench_command", required=True, metavar="MODE")

    local = modes.add_parser(
        "local", help="fake endpoint + real LiteLLM proxy from the template + Locust", formatter_class=formatter
    )
    _load_flags(local, users=100, duration=45)
    local.add_argument("--baseline-duration", type=int, default=15,
                       help="seconds of the same load sent straight to the fake endpoint (0 = skip)")  # fmt: skip
    local.add_argument("--scenario", choices=SCENARIOS, default="guide", help="what to measure")
    local.add_argument("--rpm-limit", type=int, default=600, help="rate-limited scenario: RPM quota per deployment")
    local.add_argument("--variant", choices=sorted(VARIANTS), default="shipped", help="proxy configuration")
    local.add_argument(
        "--exclusive", action="store_true", help="refuse to start while another benchmark runs here (not just warn)"
    )
    local.add_argument("--upstream", choices=HIGH_THROUGHPUT_UPSTREAMS, default=None,
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
    compare.set_defaults(handler=cmd_bench_compare)

    up = modes.add_parser(
        "up",
        help="start the fake endpoint and the proxy exactly as `bench local` does and keep them up for your client",
        formatter_class=formatter,
    )
    up.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="the template whose proxy to run")
    up.add_argument("--workers", type=int, default=1, help="proxy workers")
    up.add_argument("--variant", choices=sorted(VARIANTS), default="shipped", help="proxy configuration")
    up.add_argument("--results-dir", default="results", help="where the run folder with the logs goes")
    up.add_argument("--json", action="store_true", help="print one JSON line (base_url, master_key, ...) for scripts")
    up.set_defaults(handler=cmd_bench_up)
