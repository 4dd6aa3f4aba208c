"""`bench local` and `bench compare`: LiteLLM's benchmark on this machine, no AWS account."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .bench.compare import compare_table, run_compare, write_compare
from .bench.runner import HIGH_THROUGHPUT_UPSTREAMS, SCENARIOS, BenchOptions, high_throughput_upstream, run_bench
from .bench.variants import VARIANTS, variant_named
from .processes import ProcessFailed

DEFAULT_TEMPLATE = Path("templates/cloudformation-ecs.yaml")


def _say(message: str) -> None:
    print(message, flush=True)


def _options(args: argparse.Namespace, workdir: Path) -> BenchOptions:
    template = Path(args.template)
    if not template.is_file():
        raise ValueError(f"--template: {template} does not exist (run from the repository root or pass a path)")
    for name in ("users", "duration", "workers"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name}: must be at least 1 (got {getattr(args, name)})")
    if args.spawn_rate <= 0:
        raise ValueError(f"--spawn-rate: must be above 0 (got {args.spawn_rate})")
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
        upstream=getattr(args, "upstream", None) or "",
    )
    high_throughput_upstream(options)  # ValueError: --upstream without the high-throughput scenario
    return options


def _run_dir(args: argparse.Namespace, kind: str) -> Path:
    return Path(args.results_dir) / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


def cmd_bench_local(args: argparse.Namespace) -> int:
    try:
        options = _options(args, _run_dir(args, "local"))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    from .bench.report import table, write_outputs

    try:
        report = run_bench(options, say=_say)
    except (ProcessFailed, RuntimeError, TimeoutError, FileNotFoundError) as exc:
        print(f"bench local failed: {exc}\n(logs in {options.workdir})", file=sys.stderr)
        return 1
    json_path, html_path = options.workdir / "results.json", options.workdir / "report.html"
    write_outputs(report, json_path, html_path)
    print()
    print(table(report))
    print(f"\nresults: {json_path}\nreport:  {html_path}")
    if options.scenario not in ("guide", "high-throughput"):
        return 0
    failures = report.proxy.load.failures
    if failures:
        print(f"{failures} request(s) failed; samples in {options.workdir}/proxy_errors.txt", file=sys.stderr)
        return 1
    if report.accounting and not report.accounting.get("balanced", False):
        print("requests do not add up (see the accounting line): some were lost", file=sys.stderr)
        return 1
    return 0


def cmd_bench_compare(args: argparse.Namespace) -> int:
    try:
        base = _options(args, _run_dir(args, "compare"))
        names = [n.strip() for n in args.variants.split(",") if n.strip()]
        if len(names) < 2:
            raise ValueError("--variants: name at least two, e.g. shipped,seeds-detailed-debug")
        for name in names:
            variant_named(name)
        if args.rounds < 1:
            raise ValueError("--rounds: must be at least 1")
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        summaries = run_compare(base, names, args.rounds, say=_say)
    except (ProcessFailed, RuntimeError, TimeoutError, FileNotFoundError) as exc:
        print(f"bench compare failed: {exc}\n(logs in {base.workdir})", file=sys.stderr)
        return 1
    write_compare(summaries, base.workdir / "compare.json")
    print()
    print(compare_table(summaries))
    print(f"\nresults: {base.workdir / 'compare.json'}")
    return 0


def _load_flags(parser: argparse.ArgumentParser, users: int, duration: int) -> None:
    parser.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="the template whose proxy to run")
    parser.add_argument("--users", type=int, default=users, help=f"Locust users (default {users}; guide: 1000)")
    parser.add_argument("--spawn-rate", type=float, default=100, help="users started per second (guide: 500)")
    parser.add_argument("--duration", type=int, default=duration, help=f"seconds of load (default {duration})")
    parser.add_argument("--workers", type=int, default=1, help="proxy workers (default 1 on a small machine)")
    parser.add_argument("--results-dir", default="results", help="where JSON/HTML results go")


def register(sub: Any) -> None:
    bench = sub.add_parser("bench", help="run LiteLLM's load benchmark on this machine (no AWS)")
    modes = bench.add_subparsers(dest="bench_command", required=True, metavar="MODE")

    local = modes.add_parser("local", help="fake endpoint + real LiteLLM proxy from the template + Locust")
    _load_flags(local, users=100, duration=45)
    local.add_argument("--baseline-duration", type=int, default=15,
                       help="seconds of the same load sent straight to the fake endpoint (0 = skip)")  # fmt: skip
    local.add_argument("--scenario", choices=SCENARIOS, default="guide")
    local.add_argument("--rpm-limit", type=int, default=600, help="rate-limited scenario: RPM quota per deployment")
    local.add_argument("--variant", choices=sorted(VARIANTS), default="shipped", help="proxy configuration")
    local.add_argument("--upstream", choices=HIGH_THROUGHPUT_UPSTREAMS, default=None,
                       help="high-throughput scenario: the model behind the proxy (default mock: LiteLLM's "
                            "in-process mock_response, as published; fake-endpoint: the fake endpoint)")  # fmt: skip
    local.set_defaults(handler=cmd_bench_local)

    compare = modes.add_parser("compare", help="interleaved rounds of several proxy variants, same load")
    _load_flags(compare, users=100, duration=30)
    compare.add_argument("--variants", default="shipped,seeds-detailed-debug",
                         help=f"comma-separated, first is the reference; known: {', '.join(VARIANTS)}")  # fmt: skip
    compare.add_argument("--rounds", type=int, default=2)
    compare.set_defaults(handler=cmd_bench_compare)
