"""`bench sweep` (open-loop capacity of the local proxy) and `size` (a spec for a target rate)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from .bench.published import PUBLISHED_RPS_PER_WORKER
from .bench.sweep import DEFAULT_P95_MS, SweepOptions
from .bench.variants import VARIANTS, variant_named
from .cli_bench import _run_dir as run_dir
from .cli_bench_aws import _bench_modes
from .processes import ProcessFailed
from .spec import SpecError

DEFAULT_TEMPLATE = Path("templates/cloudformation-ecs.yaml")


def _say(message: str) -> None:
    print(message, flush=True)


def _positive(kind: type, minimum: float = 0, inclusive: bool = False) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {'at least' if inclusive else 'above'} {minimum:g} (got {text})")
        return value

    return parse


def cmd_bench_sweep(args: argparse.Namespace) -> int:
    template = Path(args.template)
    if not template.is_file():
        print(f"--template: {template} does not exist (run from the repository root or pass a path)", file=sys.stderr)
        return 2
    if args.growth <= 1:
        print(f"--growth: must be above 1 (got {args.growth:g})", file=sys.stderr)
        return 2
    try:
        variant = variant_named(args.variant)
    except ValueError as exc:
        print(f"--variant: {exc}", file=sys.stderr)
        return 2
    try:
        workdir = run_dir(args, "sweep")  # its own folder, even when two sweeps start in one second
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    options = SweepOptions(
        template=template,
        workdir=workdir,
        workers=args.workers,
        start_rps=args.start_rps,
        growth=args.growth,
        max_rps=args.max_rps,
        step_s=args.step_duration,
        p95_ms=args.p95_ms,
        resolution=args.resolution,
        repeats=args.repeat,
        confirmations=args.confirm,
        variant=variant,
    )
    from .bench.sweep import run_sweep, sweep_table, write_sweep

    try:
        report = run_sweep(options, say=_say)
    except (ProcessFailed, RuntimeError, TimeoutError, FileNotFoundError, ValueError) as exc:
        print(f"bench sweep failed: {exc}\n(logs in {workdir})", file=sys.stderr)
        return 1
    path = write_sweep(report, workdir)
    print()
    print(sweep_table(report))
    print(f"\nresults: {path}")
    return 0 if report.summary().get("knee_rps") is not None else 1


def _capacity_from_args(args: argparse.Namespace) -> Any:
    from .sizing import Capacity

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
    from .sizing import describe, size_for, spec_overrides

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
            print(f"size: {line}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"size: {exc}", file=sys.stderr)
        return 2
    text = yaml.safe_dump(spec_overrides(plan), sort_keys=False)
    for line in describe(plan):
        print(line)
    if args.out:
        Path(args.out).write_text(text)
        print(f"spec: {args.out} (render it with `litellm-bench-cfn render --spec {args.out}`)")
    else:
        print("\n# spec (save it and `litellm-bench-cfn render --spec FILE`):")
        print(text, end="")
    return 0


def register(sub: Any) -> None:
    sweep = _bench_modes(sub).add_parser(
        "sweep",
        help="open-loop steps of offered load against the local proxy; finds the knee",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sweep.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="the template whose proxy to run")
    sweep.add_argument("--workers", type=_positive(int, 1, True), default=1, help="proxy workers")
    sweep.add_argument("--start-rps", type=_positive(float), default=20.0, help="first offered rate (req/s)")
    sweep.add_argument("--growth", type=float, default=1.5, help="factor between ramp steps until one fails")
    sweep.add_argument("--max-rps", type=_positive(float), default=2000.0, help="highest rate offered")
    sweep.add_argument("--step-duration", type=_positive(int, 1, True), default=20, help="seconds of arrivals a step")
    sweep.add_argument("--p95-ms", type=_positive(float), default=DEFAULT_P95_MS,
                       help="latency bound a step must hold (the guide's published p95)")  # fmt: skip
    sweep.add_argument("--resolution", type=_positive(float), default=0.05,
                       help="bisect until held and failed rates are this close (fraction)")  # fmt: skip
    sweep.add_argument("--repeat", type=_positive(int, 1, True), default=1, help="sweeps to run (shows the spread)")
    sweep.add_argument("--confirm", type=_positive(int, 0, True), default=1,
                       help="times a step that did not hold is run again before it counts as failed")  # fmt: skip
    sweep.add_argument(
        "--variant", default="shipped", help=f"proxy configuration[@LITELLM_VERSION]; {', '.join(VARIANTS)}"
    )
    sweep.add_argument("--results-dir", default="results", help="where sweep-<time>/ goes")
    sweep.set_defaults(handler=cmd_bench_sweep)

    size = sub.add_parser(
        "size",
        help="a spec that serves --target-rps, from a measured capacity, with its cost",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    size.add_argument("--target-rps", type=_positive(float), required=True, help="requests/s the fleet must serve")
    source = size.add_mutually_exclusive_group()
    source.add_argument("--sweep", help="a `bench sweep` sweep.json: its knee per worker is the capacity")
    source.add_argument("--rps-per-vcpu", type=_positive(float), help="a capacity you measured (e.g. `bench aws`)")
    size.add_argument("--calibration", type=_positive(float), default=1.0,
                      help="Fargate req/s per vCPU divided by this machine's (1.0 = assume equal)")  # fmt: skip
    size.add_argument("--task-cpu", type=int, choices=(1024, 2048, 4096, 8192, 16384), default=4096)
    size.add_argument("--cpu-target", type=_positive(float), default=70.0, help="autoscaling CPU target, percent")
    size.add_argument("--region", default="us-east-1", help="region whose prices to use")
    size.add_argument("--name", default="sized", help="spec name")
    size.add_argument("--out", help="write the spec here instead of printing it")
    size.set_defaults(handler=cmd_size)
