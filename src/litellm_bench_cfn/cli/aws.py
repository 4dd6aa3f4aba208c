"""Subcommands that talk to AWS (verify, outputs, publish) or prepare a launch (launch-url, check-params).

Every AWS failure is one line on stderr: exit 2 for bad input (credentials, region, profile,
arguments), 1 for a failed check or a failed call (unknown stack, unhealthy service).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from ..aws.clients import AwsError
from ..aws.launch import DEFAULT_STACK_NAME, LaunchUrlError, quick_create_url
from ..aws.param_rules import RuleEvaluationError, check_parameters, parse_assignments
from ..aws.publish import publish_templates
from ..aws.stack import master_key, master_key_secret_id, stack_outputs, verify
from ..cfn_reader import is_template, load_cfn_yaml
from ..exit_codes import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK
from .common import DEFAULT_TEMPLATE, Handler, add_aws_target, aws_errors_in_one_line, aws_target, warn


def cmd_outputs(args: argparse.Namespace) -> int:
    target = aws_target(args)
    cfn = target.client("cloudformation")
    if args.master_key:
        print(master_key(target.client("secretsmanager"), master_key_secret_id(cfn, args.stack_name)))
        return EXIT_OK
    outputs = stack_outputs(cfn, args.stack_name)
    if args.key:
        if args.key not in outputs:
            raise AwsError(
                f"stack {args.stack_name!r} has no output {args.key!r}; it has: {', '.join(sorted(outputs))}"
            )
        print(outputs[args.key])
        return EXIT_OK
    if not outputs:
        raise AwsError(f"stack {args.stack_name!r} has no outputs (yet)")
    if args.json:
        print(json.dumps(outputs, indent=2, sort_keys=True))
    else:
        for key in sorted(outputs):
            print(f"{key}: {outputs[key]}")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    checks = verify(aws_target(args), args.stack_name, model=args.model, url=args.url, http_timeout_s=args.http_timeout)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.ok is False]
    print(f"{args.stack_name}: " + (f"{len(failed)} check(s) failed" if failed else "all checks passed"))
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    target = aws_target(args)
    region = target.resolved_region()
    published = publish_templates(target.client("s3"), args.bucket, region, Path(args.templates_dir), args.prefix)
    for item in published:
        print(f"{item.path} -> s3://{args.bucket}/{item.key}")
        print(f"  template URL: {item.url}")
        print(f"  launch:       {item.launch_url}")
    return EXIT_OK


def cmd_launch_url(args: argparse.Namespace) -> int:
    try:
        params = parse_assignments(args.param)
        print(quick_create_url(args.template_url, args.region, args.stack_name, params))
    except (LaunchUrlError, ValueError) as exc:
        warn(f"error: {exc}")
        return EXIT_BAD_INPUT
    return EXIT_OK


def cmd_check_params(args: argparse.Namespace) -> int:
    path = Path(args.template)
    try:
        template = load_cfn_yaml(path.read_text(encoding="utf-8"))
        if not is_template(template):
            raise ValueError("not a CloudFormation template (no Resources or AWSTemplateFormatVersion)")
        overrides = parse_assignments(args.assignments)
        problems = check_parameters(template, overrides)
    except (OSError, yaml.YAMLError, ValueError, RuleEvaluationError) as exc:
        warn(f"error: {path}: {exc}")
        return EXIT_BAD_INPUT
    for line in problems:
        warn(line)
    if problems:
        return EXIT_BAD_INPUT
    shown = ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "defaults only"
    print(f"{path}: parameters accepted ({shown})")
    return EXIT_OK


def _aws_command(sub: Any, name: str, help_text: str, handler: Handler, stack_name: bool = True) -> Any:
    """A command that calls AWS: the target flags, and every AWS error as one line."""
    parser = sub.add_parser(name, help=help_text)
    if stack_name:
        parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    add_aws_target(parser)
    parser.set_defaults(handler=aws_errors_in_one_line(handler))
    return parser


def register(sub: Any) -> None:
    outputs = _aws_command(sub, "outputs", "print a stack's outputs (or one, or the master key)", cmd_outputs)
    group = outputs.add_mutually_exclusive_group()
    group.add_argument("--key", help="print only this output's value")
    group.add_argument("--json", action="store_true", help="print the outputs as a JSON object")
    group.add_argument("--master-key", action="store_true", help="print the LiteLLM master key (sk-...)")

    ver = _aws_command(sub, "verify", "check a live stack: status, ECS tasks, target health, /v1/models", cmd_verify)
    ver.add_argument("--model", default="fake-openai-endpoint", help="model /v1/models must list")
    ver.add_argument("--url", help="proxy base URL (default: the LoadBalancerUrl output)")
    ver.add_argument("--http-timeout", type=float, default=5.0, help="seconds for the /v1/models request")

    pub = _aws_command(sub, "publish", "upload templates/*.yaml to S3; print URLs and console launch links",
                       cmd_publish, stack_name=False)  # fmt: skip
    pub.add_argument("--bucket", required=True)
    pub.add_argument("--prefix", default="", help="key prefix, e.g. litellm-bench/v1")
    pub.add_argument("--templates-dir", default="templates")

    launch = sub.add_parser("launch-url", help="print the console quick-create link for a template in S3")
    launch.add_argument("--template-url", required=True, help="https://BUCKET.s3.REGION.amazonaws.com/KEY")
    launch.add_argument("--region", default="us-east-1")
    launch.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    launch.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="prefill a parameter")
    launch.set_defaults(handler=cmd_launch_url)

    check = sub.add_parser("check-params", help="pre-flight: parameter values against the template's constraints/Rules")
    check.add_argument("--template", default=str(DEFAULT_TEMPLATE))
    check.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    check.set_defaults(handler=cmd_check_params)
