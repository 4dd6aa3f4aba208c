"""What the command modules share: printing, option types, the AWS target flags, run folders."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..aws.clients import AwsTarget, describe_error

DEFAULT_TEMPLATE = Path("templates/cloudformation-ecs.yaml")
"""The benchmark profile's template, relative to a checkout (the README's commands run there)."""

Handler = Callable[[argparse.Namespace], int]
Options = TypeVar("Options")


def say(message: str) -> None:
    print(message, flush=True)


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def number(kind: type, minimum: float = 0, inclusive: bool = False) -> Callable[[str], Any]:
    """An argparse type: a number above (or at least) `minimum`, refused in one line otherwise."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {'at least' if inclusive else 'above'} {minimum:g} (got {text})")
        return value

    return parse


def existing_template(value: str) -> Path:
    template = Path(value)
    if not template.is_file():
        raise ValueError(f"--template: {template} does not exist (run from the repository root or pass a path)")
    return template


def options_from(cls: Callable[..., Options], args: argparse.Namespace, **given: Any) -> Options:
    """`cls(...)` from the parsed flags whose dest is one of its fields, plus `given` (which wins)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    parsed = {name: value for name, value in vars(args).items() if name in names}
    return cls(**{**parsed, **given})


def new_run_dir(args: argparse.Namespace, kind: str) -> Path:
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


def add_aws_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)")
    parser.add_argument("--profile", help="AWS CLI profile (default: AWS_PROFILE)")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL; e.g. a moto server)")


def aws_target(args: argparse.Namespace) -> AwsTarget:
    return AwsTarget(region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)


def aws_errors_in_one_line(handler: Handler) -> Handler:
    """Run an AWS handler; any botocore error becomes one line and an exit code, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(handler(args))
        except Exception as exc:
            error = describe_error(exc)
            warn(f"error: {error}")
            return error.exit_code

    return run


def add_variant_flag(parser: argparse.ArgumentParser) -> None:
    """--variant NAME[@LITELLM_VERSION]: a proxy configuration of bench/variants.py, on this or another release."""
    from ..bench.variants import VARIANTS, variant_named

    def parse(text: str) -> Any:
        try:
            return variant_named(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    known = ", ".join(VARIANTS)
    parser.add_argument("--variant", type=parse, default="shipped", metavar="NAME[@VERSION]",
                        help=f"proxy configuration, optionally on another LiteLLM release; {known}")  # fmt: skip


def add_screenshot_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--screenshot", action=argparse.BooleanOptionalAction, default=True,
                        help="open the report in headless Chromium, if installed, and keep a PNG of it")  # fmt: skip


def screenshot(args: argparse.Namespace, html_path: Path, png: Path) -> None:
    """Open the report in headless Chromium (when installed) and keep a screenshot beside it."""
    if args.screenshot:
        from ..bench.browser import screenshot_report

        print(screenshot_report(html_path, png), flush=True)
