"""`compliance` and `cost`: reports about a template or a spec. Exit 0 ok, 1 check failed, 2 bad input."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .. import compliance, compliance_high_throughput, cost, shipped
from ..exit_codes import EXIT_CHECK_FAILED, EXIT_OK
from ..spec import BenchmarkSpec, SpecError, load_spec

DEFAULT_LOCUSTFILE = Path("loadtest/locustfile.py")
HIGH_THROUGHPUT_LOCUSTFILE = Path("loadtest/high_throughput.py")


def _display(path: Path) -> str:
    """The path as the user would type it from the current directory (stable in generated docs)."""
    try:
        return Path(os.path.relpath(os.path.abspath(path), Path.cwd())).as_posix()  # loadtest/ holds symlinks
    except ValueError:
        return path.as_posix()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([f"{path}: cannot read it ({exc.strerror or exc})"]) from None


def _locustfile(args: argparse.Namespace, source: Path, default: Path = DEFAULT_LOCUSTFILE) -> Path | None:
    if args.locustfile:
        return Path(args.locustfile)
    # The checkout's copy first (stable paths in generated docs), then the installed package's.
    for candidate in (default, source.resolve().parent.parent / default, shipped.LOCUSTFILE.with_name(default.name)):
        if candidate.is_file():
            return candidate
    return None


def _high_throughput_report(args: argparse.Namespace, source: Path) -> tuple[list[compliance.Row], str]:
    if args.markdown:
        raise SpecError(["--markdown: the high-throughput report is text only"])
    document = compliance.load_document(_read(source), str(source))
    if not compliance.is_template(document):
        raise SpecError([f"{source}: --benchmark high-throughput checks a rendered template; render the spec first"])
    locustfile = _locustfile(args, source, HIGH_THROUGHPUT_LOCUSTFILE)
    rows = compliance_high_throughput.check(document, locustfile)
    return rows, compliance_high_throughput.format_report(rows, _display(source))


def cmd_compliance(args: argparse.Namespace) -> int:
    source = Path(args.template_or_spec)
    name = _display(source)
    if getattr(args, "benchmark", "guide") == "high-throughput":
        rows, text = _high_throughput_report(args, source)
    else:
        facts, _kind = compliance.facts_from_text(_read(source), str(source))
        locustfile = _locustfile(args, source)
        rows = compliance.check(
            facts,
            compliance.locust_wait_time(locustfile),
            _display(locustfile) if locustfile else "loadtest/locustfile.py",
        )
        text = compliance.format_markdown(rows, name) if args.markdown else compliance.format_text(rows, name)
    ok = compliance.is_compliant(rows)
    if args.check:
        target = Path(args.check)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            state = "missing" if current is None else "differs from a fresh report"
            fmt = " --markdown" if args.markdown else ""
            print(
                f"{target}: {state}; run `litellm-bench-cfn compliance {name}{fmt} --output {target}` and commit it",
                file=sys.stderr,
            )
            return EXIT_CHECK_FAILED
        print(f"{target} is up to date ({'compliant' if ok else 'NOT compliant'})")
    elif args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({'compliant' if ok else 'NOT compliant'})")
    else:
        sys.stdout.write(text)
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _spec_or_profile(value: str, profiles_dir: Path) -> BenchmarkSpec:
    path = Path(value)
    if path.is_file():
        return load_spec(path)
    for suffix in (".yaml", ".yml", ".json"):
        candidate = profiles_dir / f"{value}{suffix}"
        if candidate.is_file():
            return load_spec(candidate)
    known = sorted(p.stem for p in profiles_dir.glob("*.y*ml")) if profiles_dir.is_dir() else []
    raise SpecError([f"{value}: neither a spec file nor a profile in {profiles_dir} (profiles: {', '.join(known)})"])


def cmd_cost(args: argparse.Namespace) -> int:
    spec = _spec_or_profile(args.spec_or_profile, Path(args.profiles_dir))
    if args.hours <= 0:
        raise SpecError([f"--hours: {args.hours:g} must be above 0"])
    usage = cost.UsageAssumptions(
        alb_lcu=args.lcu, nat_gb_month=args.nat_gb, transfer_out_gb_month=args.transfer_out_gb
    )
    run = cost.RunAssumptions(create_min=args.create_min, delete_min=args.delete_min)
    try:
        est = cost.estimate(
            spec,
            region=args.region,
            hours=args.hours,
            usage=usage,
            run=run,
            load_generator=cost.LoadGenerator() if args.load_generator else None,
        )
    except cost.PricingError as exc:
        raise SpecError([f"{spec.name}: {exc}"]) from None
    sys.stdout.write(cost.format_estimate(est, usage))
    return EXIT_OK


def register(subparsers: Any) -> None:
    comp = subparsers.add_parser(
        "compliance", help="check a template or spec against LiteLLM's benchmark guide (exit 1 if not compliant)"
    )
    comp.add_argument("template_or_spec", metavar="TEMPLATE_OR_SPEC")
    comp.add_argument("--markdown", action="store_true", help="Markdown tables (for docs/benchmark-compliance.md)")
    comp.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    comp.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from the report (drift check)")
    comp.add_argument("--locustfile", help=f"Locust file whose wait_time is checked (default: {DEFAULT_LOCUSTFILE})")
    comp.add_argument(
        "--benchmark",
        choices=("guide", "high-throughput"),
        default="guide",
        help="the methodology to check against: the 1K guide (default) or the high-throughput test",
    )
    comp.set_defaults(handler=cmd_compliance)

    cst = subparsers.add_parser("cost", help="estimate the hourly, monthly and per-benchmark-run cost of a spec")
    cst.add_argument("spec_or_profile", metavar="SPEC_OR_PROFILE", help="a spec file or a profile name (dev, ...)")
    cst.add_argument("--region", default="us-east-1", help="price table region (default: us-east-1)")
    cst.add_argument("--hours", type=float, default=cost.HOURS_PER_MONTH, help="hours the stack runs (default: 730)")
    cst.add_argument("--profiles-dir", default="profiles")
    cst.add_argument("--lcu", type=float, default=cost.UsageAssumptions.alb_lcu, help="average ALB LCUs")
    cst.add_argument("--nat-gb", type=float, default=cost.UsageAssumptions.nat_gb_month, help="NAT GB per month")
    cst.add_argument(
        "--transfer-out-gb", type=float, default=cost.UsageAssumptions.transfer_out_gb_month, help="GB out per month"
    )
    cst.add_argument("--create-min", type=float, default=cost.RunAssumptions.create_min, help="stack create minutes")
    cst.add_argument("--delete-min", type=float, default=cost.RunAssumptions.delete_min, help="stack delete minutes")
    cst.add_argument("--load-generator", action="store_true", help="add a 4 vCPU / 8 GB Fargate Locust task")
    cst.set_defaults(handler=cmd_cost)
