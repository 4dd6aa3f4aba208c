"""`bench sweep` (open-loop capacity of the local proxy) and `size` (a spec for a target rate)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from ..bench.published import PUBLISHED_RPS_PER_WORKER
from ..bench.sweep import SweepOptions
from ..exit_codes import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK
from ..processes import Interrupted, handle_stop_signals
from ..spec import SpecError
from .bench import LOCAL_FAILURES, failed
from .common import DEFAULT_TEMPLATE, add_variant_flag, existing_template, new_run_dir, number, options_from, say, warn


def cmd_bench_sweep(args: argparse.Namespace) -> int:
    handle_stop_signals()
    try:
        template = existing_template(args.template)
        workdir = new_run_dir(args, "sweep")  # its own folder, even when two sweeps start in one second
    except ValueError as exc:
        warn(str(exc))
        return EXIT_BAD_INPUT
    options = options_from(SweepOptions, args, template=template, workdir=workdir)
    from ..bench.sweep import SweepInterrupted, run_sweep, sweep_table, write_sweep

    try:
        report = run_sweep(options, say=say)
    except SweepInterrupted as exc:
        path = write_sweep(exc.report, workdir)
        warn(f"{exc}: every process it started is stopped; PARTIAL results in {path}")
        return exc.exit_code
    except Interrupted as exc:  # before the proxy was up
        warn(f"interrupted by {exc.name} before the sweep began; nothing was measured")
        return exc.exit_code
    except (*LOCAL_FAILURES, ValueError) as exc:
        return failed("bench sweep", exc, workdir)
    path = write_sweep(report, workdir)
    print()
    print(sweep_table(report))
    print(f"\nresults: {path}\nreport:  {path.with_name('sweep.html')}")
    return EXIT_OK if report.summary().get("knee_rps") is not None else EXIT_CHECK_FAILED


def _capacity_from_args(args: argparse.Namespace) -> Any:
    from ..sizing import Capacity

    if args.sweep:
        try:
            summary = json.loads(Path(args.sweep).read_text())["summary"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"--sweep: {args.sweep} is not a `bench sweep` sweep.json ({exc})") from None
        per_worker = summary.get("knee_rps_per_worker")
        if not per_worker:
            raise ValueError(f"--sweep: {args.sweep} found no knee; run the sweep again")
        return Capacity(per_worker, f"bench sweep knee, {Path(args.sweep)}", args.calibration)
    if args.rps_per_vcpu is not None:
        return Capacity(args.rps_per_vcpu, "--rps-per-vcpu", args.calibration)
    return Capacity(
        round(PUBLISHED_RPS_PER_WORKER, 1),
        "the guide's 1,170 RPS / 16 workers, client-bound: a floor",
        args.calibration,
    )


def cmd_size(args: argparse.Namespace) -> int:
    from ..sizing import describe, size_for, spec_overrides

    try:
        plan = size_for(
            args.target_rps,
            _capacity_from_args(args),
            task_cpu=args.task_cpu,
            cpu_target_percent=args.cpu_target,
            region=args.region,
            name=args.name,
        )
    except SpecError as exc:
        for line in exc.lines:
            warn(f"size: {line}")
        return EXIT_BAD_INPUT
    except ValueError as exc:
        warn(f"size: {exc}")
        return EXIT_BAD_INPUT
    text = yaml.safe_dump(spec_overrides(plan), sort_keys=False)
    for line in describe(plan):
        print(line)
    if args.out:
        Path(args.out).write_text(text)
        print(f"spec: {args.out} (render it with `litellm-bench-cfn render --spec {args.out}`)")
    else:
        print("\n# spec (save it and `litellm-bench-cfn render --spec FILE`):")
        print(text, end="")
    return EXIT_OK


def register_sweep(bench_modes: Any) -> None:
    sweep = bench_modes.add_parser(
        "sweep",
        help="open-loop steps of offered load against the local proxy; finds the knee",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sweep.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="the template whose proxy to run")
    defaults = SweepOptions(template=DEFAULT_TEMPLATE, workdir=Path("."))
    sweep.add_argument("--workers", type=number(int, 1, True), default=defaults.workers, help="proxy workers")
    sweep.add_argument("--start-rps", type=number(float), default=defaults.start_rps, help="first offered rate (req/s)")
    sweep.add_argument(
        "--growth", type=number(float, 1), default=defaults.growth, help="factor between ramp steps until one fails"
    )
    sweep.add_argument("--max-rps", type=number(float), default=defaults.max_rps, help="highest rate offered")
    sweep.add_argument("--step-duration", dest="step_s", type=number(int, 1, True), default=defaults.step_s,
                       help="seconds of arrivals a step")  # fmt: skip
    sweep.add_argument("--p95-ms", type=number(float), default=defaults.p95_ms,
                       help="latency bound a step must hold (the guide's published p95)")  # fmt: skip
    sweep.add_argument("--resolution", type=number(float), default=defaults.resolution,
                       help="bisect until held and failed rates are this close (fraction)")  # fmt: skip
    sweep.add_argument("--repeat", dest="repeats", type=number(int, 1, True), default=defaults.repeats,
                       help="sweeps to run (shows the spread)")  # fmt: skip
    sweep.add_argument("--confirm", dest="confirmations", type=number(int, 0, True), default=defaults.confirmations,
                       help="times a step that did not hold is run again before it counts as failed")  # fmt: skip
    add_variant_flag(sweep)
    sweep.add_argument("--results-dir", default="results", help="where sweep-<time>/ goes")
    sweep.set_defaults(handler=cmd_bench_sweep)


def register_size(sub: Any) -> None:
    size = sub.add_parser(
        "size",
        help="a spec that serves --target-rps, from a measured capacity, with its cost",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    size.add_argument("--target-rps", type=number(float), required=True, help="requests/s the fleet must serve")
    source = size.add_mutually_exclusive_group()
    source.add_argument("--sweep", help="a `bench sweep` sweep.json: its knee per worker is the capacity")
    source.add_argument("--rps-per-vcpu", type=number(float), help="a capacity you measured (e.g. `bench aws`)")
    size.add_argument("--calibration", type=number(float), default=1.0,
                      help="Fargate req/s per vCPU divided by this machine's (1.0 = assume equal)")  # fmt: skip
    size.add_argument("--task-cpu", type=int, choices=(1024, 2048, 4096, 8192, 16384), default=4096)
    size.add_argument("--cpu-target", type=number(float), default=70.0, help="autoscaling CPU target, percent")
    size.add_argument("--region", default="us-east-1", help="region whose prices to use")
    size.add_argument("--name", default="sized", help="spec name")
    size.add_argument("--out", help="write the spec here instead of printing it")
    size.set_defaults(handler=cmd_size)
