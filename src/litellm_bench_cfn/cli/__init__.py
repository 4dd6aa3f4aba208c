"""Command line: parse, call, print. Exit codes (exit_codes.py): 0 ok, 1 a check failed, 2 bad input.

One module per command group, each with a `register` that adds its sub-commands:

    templates   validate, render                  aws       outputs, verify, publish, launch-url, check-params
    bench       bench local, bench compare,       deploy    deploy (scripts/deploy.sh's interface)
                bench up                          reports   compliance, cost
    bench_aws   bench aws                         capacity  bench sweep, size

`common` holds what they share (printing, option types, the AWS target flags, run folders).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..spec import SpecError
from . import aws, bench, bench_aws, capacity, deploy, reports, templates
from .common import warn


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="litellm-bench-cfn",
        description="Validated LiteLLM benchmark spec -> CloudFormation stack, and LiteLLM's load benchmark.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    templates.register(sub)
    bench_modes = bench.register(sub)
    bench_aws.register(bench_modes)
    capacity.register_sweep(bench_modes)
    capacity.register_size(sub)
    aws.register(sub)
    deploy.register(sub)
    reports.register(sub)
    # Listed for --help; its own flags are parsed by fake_endpoint.main (see main()).
    sub.add_parser("fake-endpoint", help="serve the fake OpenAI endpoint (see `fake-endpoint --help`)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fake-endpoint"]:
        from .. import fake_endpoint

        return fake_endpoint.main(argv[1:])
    if argv[:1] == ["deploy"]:  # deploy.sh's interface: options before or after its command (deploy.parse)
        return deploy.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SpecError as exc:
        for line in exc.lines:
            warn(line)
        return exc.exit_code
    except KeyboardInterrupt:
        warn("interrupted")
        return 130
