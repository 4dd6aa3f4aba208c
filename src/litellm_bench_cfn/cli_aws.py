"""Subcommands that talk to AWS (verify, outputs, publish) or prepare a launch (launch-url, check-params).

Every AWS failure is one line on stderr: exit 2 for bad input (credentials, region, profile,
arguments), 1 for a failed check or a failed call (unknown stack, unhealthy service).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from .aws.clients import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, AwsError, AwsTarget, describe_error
from .aws.launch import DEFAULT_STACK_NAME, LaunchUrlError, quick_create_url
from .aws.param_rules import RuleEvaluationError, check_parameters, parse_assignments
from .aws.publish import publish_templates
from .aws.stack import master_key, master_key_secret_id, stack_outputs, verify

DEFAULT_TEMPLATE = "templates/cloudformation-ecs.yaml"


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _target(args: argparse.Namespace) -> AwsTarget:
    return AwsTarget(region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)


def _aws_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)")
    parser.add_argument("--profile", help="AWS CLI profile (default: AWS_PROFILE)")
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL; e.g. a moto server)")


def _guarded(handler: Any) -> Any:
    """Run an AWS handler; any botocore error becomes one line and an exit code, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(handler(args))
        except Exception as exc:
            error = describe_error(exc)
            _err(f"error: {error}")
            return error.exit_code

    return run


def cmd_outputs(args: argparse.Namespace) -> int:
    target = _target(args)
    cfn = target.client("cloudformation")
    if args.master_key:
        print(master_key(target.client("secretsmanager"), master_key_secret_id(cfn, args.stack_name)))
        return 0
    outputs = stack_outputs(cfn, args.stack_name)
    if args.key:
        if args.key not in outputs:
            raise AwsError(
                f"stack {args.stack_name!r} has no output {args.key!r}; it has: {', '.join(sorted(outputs))}"
            )
        print(outputs[args.key])
        return 0
    if not outputs:
        raise AwsError(f"stack {args.stack_name!r} has no outputs (yet)")
    if args.json:
        print(json.dumps(outputs, indent=2, sort_keys=True))
    else:
        for key in sorted(outputs):
            print(f"{key}: {outputs[key]}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    checks = verify(_target(args), args.stack_name, model=args.model, url=args.url, http_timeout_s=args.http_timeout)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.ok is False]
    print(f"{args.stack_name}: " + (f"{len(failed)} check(s) failed" if failed else "all checks passed"))
    return EXIT_CHECK_FAILED if failed else 0


def cmd_publish(args: argparse.Namespace) -> int:
    target = _target(args)
    region = target.resolved_region()
    published = publish_templates(target.client("s3"), args.bucket, region, Path(args.templates_dir), args.prefix)
    for item in published:
        print(f"{item.path} -> s3://{args.bucket}/{item.key}")
        print(f"  template URL: {item.url}")
        print(f"  launch:       {item.launch_url}")
    return 0


def cmd_launch_url(args: argparse.Namespace) -> int:
    try:
        params = parse_assignments(args.param)
        print(quick_create_url(args.template_url, args.region, args.stack_name, params))
    except (LaunchUrlError, ValueError) as exc:
        _err(f"error: {exc}")
        return EXIT_BAD_INPUT
    return 0


def cmd_check_params(args: argparse.Namespace) -> int:
    path = Path(args.template)
    try:
        template = yaml.safe_load(path.read_text(encoding="utf-8"))
        overrides = parse_assignments(args.assignments)
        problems = check_parameters(template, overrides)
    except (OSError, yaml.YAMLError, ValueError, RuleEvaluationError) as exc:
        _err(f"error: {path}: {exc}")
        return EXIT_BAD_INPUT
    for line in problems:
        _err(line)
    if problems:
        return EXIT_BAD_INPUT
    shown = ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "defaults only"
    print(f"{path}: parameters accepted ({shown})")
    return 0


def register(sub: Any) -> None:
    outputs = sub.add_parser("outputs", help="print a stack's outputs (or one, or the master key)")
    outputs.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    group = outputs.add_mutually_exclusive_group()
    group.add_argument("--key", help="print only this output's value")
    group.add_argument("--json", action="store_true", help="print the outputs as a JSON object")
    group.add_argument("--master-key", action="store_true", help="print the LiteLLM master key (sk-...)")
    _aws_args(outputs)
    outputs.set_defaults(handler=_guarded(cmd_outputs))

    ver = sub.add_parser("verify", help="check a live stack: status, ECS tasks, target health, /v1/models")
    ver.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    ver.add_argument("--model", default="fake-openai-endpoint", help="model /v1/models must list")
    ver.add_argument("--url", help="proxy base URL (default: the LoadBalancerUrl output)")
    ver.add_argument("--http-timeout", type=float, default=5.0, help="seconds for the /v1/models request")
    _aws_args(ver)
    ver.set_defaults(handler=_guarded(cmd_verify))

    pub = sub.add_parser("publish", help="upload templates/*.yaml to S3; print URLs and console launch links")
    pub.add_argument("--bucket", required=True)
    pub.add_argument("--prefix", default="", help="key prefix, e.g. litellm-bench/v1")
    pub.add_argument("--templates-dir", default="templates")
    _aws_args(pub)
    pub.set_defaults(handler=_guarded(cmd_publish))

    launch = sub.add_parser("launch-url", help="print the console quick-create link for a template in S3")
    launch.add_argument("--template-url", required=True, help="https://BUCKET.s3.REGION.amazonaws.com/KEY")
    launch.add_argument("--region", default="us-east-1")
    launch.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    launch.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="prefill a parameter")
    launch.set_defaults(handler=cmd_launch_url)

    check = sub.add_parser("check-params", help="pre-flight: parameter values against the template's constraints/Rules")
    check.add_argument("--template", default=DEFAULT_TEMPLATE)
    check.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    check.set_defaults(handler=cmd_check_params)
