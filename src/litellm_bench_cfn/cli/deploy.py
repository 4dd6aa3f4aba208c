"""`litellm-bench-cfn deploy COMMAND [OPTIONS]`: the command behind `scripts/deploy.sh`.

Its own small parser, not argparse: deploy.sh has always taken every option before or after the
command, `help` as a command, and answered a bad option with one line and exit 2; this keeps that
interface word for word. The work is in `aws/deploy.py`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..aws import deploy as ops
from ..aws.clients import AwsError, AwsTarget, describe_error
from ..aws.launch import DEFAULT_STACK_NAME
from ..exit_codes import EXIT_BAD_INPUT
from .common import DEFAULT_TEMPLATE

COMMANDS = ("deploy", "status", "outputs", "smoke", "delete")

USAGE = """\
Usage: scripts/deploy.sh COMMAND [OPTIONS]
   (or: litellm-bench-cfn deploy COMMAND [OPTIONS])

Commands:
  deploy    create the stack, or update it through a change set (a re-run with no change
            succeeds and says "No changes to deploy"); waits until done and, on failure,
            prints the stack events that explain it
  status    stack status, its reason and the latest stack events
  outputs   the stack outputs (LoadBalancerUrl, MasterKeyCommand, SmokeTestCommand, ...)
  smoke     GET /health/readiness, then one chat completion with the master key read
            from Secrets Manager (the key is sk-<secret value>; printed only with --show-key)
  delete    delete the stack (asks to type the stack name unless --yes) and wait until gone
  help      this text

Options (all commands):
  --stack-name NAME   stack to act on (default: litellm-bench)
  --region REGION     AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)
  --profile PROFILE   AWS profile (default: AWS_PROFILE or the default profile)
  --endpoint-url URL  AWS endpoint (default: AWS_ENDPOINT_URL; e.g. a moto server)
  --timeout SECONDS   overall limit of a wait (default: 3600)

deploy options:
  --template FILE     template to deploy (default: templates/cloudformation-ecs.yaml)
  --param KEY=VALUE   parameter override, repeatable; parameters not given keep their
                      current value on update and their default on create
  --s3-bucket BUCKET  bucket for templates over 51,200 bytes (default: created or reused,
                      named litellm-bench-cfn-ACCOUNT-REGION)
  --dry-run           create and show the change set, then delete it without executing
  --no-preflight      skip the local parameter check (litellm-bench-cfn check-params)

smoke options:
  --url URL           proxy base URL (default: the LoadBalancerUrl output)
  --secret-id ID      master-key secret (default: the MasterKeySecretArn output)
  --model NAME        model to call (default: fake-openai-endpoint)
  --show-key          print the master key

delete options:
  --yes               do not ask for confirmation

Environment: AWS_CALL_TIMEOUT (seconds one AWS API call may take, default 120),
  POLL_SECONDS (default 10), AWS_ENDPOINT_URL (e.g. a moto server), and boto3's usual
  AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, ... The calls are made with boto3 (no AWS CLI needed).
Exit codes: 0 success (including "no changes"), 1 the operation failed, 2 bad input
  (unknown option, missing credentials or region, a parameter the template rejects).
"""

VALUE_OPTIONS = {
    "--stack-name": "stack_name",
    "--region": "region",
    "--profile": "profile",
    "--endpoint-url": "endpoint_url",
    "--timeout": "timeout",
    "--template": "template",
    "--s3-bucket": "s3_bucket",
    "--url": "url",
    "--secret-id": "secret_id",
    "--model": "model",
}
FLAG_OPTIONS = {
    "--dry-run": "dry_run",
    "--no-preflight": "no_preflight",
    "--show-key": "show_key",
    "--yes": "assume_yes",
    "-y": "assume_yes",
}


class UsageError(Exception):
    """Bad command line: one line, exit 2."""


class HelpRequested(Exception):
    pass


@dataclass
class Options:
    command: str = ""
    stack_name: str = DEFAULT_STACK_NAME
    region: str = ""
    profile: str = ""
    endpoint_url: str = ""
    timeout: str = "3600"
    template: str = str(DEFAULT_TEMPLATE)
    params: list[str] = field(default_factory=list)
    s3_bucket: str = ""
    dry_run: bool = False
    no_preflight: bool = False
    url: str = ""
    secret_id: str = ""
    model: str = "fake-openai-endpoint"
    show_key: bool = False
    assume_yes: bool = False


def parse(argv: Sequence[str]) -> Options:
    """Options in any order around one command; the last of a repeated option wins (but --param adds)."""
    options = Options()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help", "help"):
            raise HelpRequested
        if arg in VALUE_OPTIONS or arg == "--param":
            if not args or not args[0]:
                raise UsageError(f"{arg} needs a value (see --help)")
            value = args.pop(0)
            if arg == "--param":
                options.params.append(value)
            else:
                setattr(options, VALUE_OPTIONS[arg], value)
        elif arg in FLAG_OPTIONS:
            setattr(options, FLAG_OPTIONS[arg], True)
        elif arg.startswith("-"):
            raise UsageError(f"unknown option {arg} (see --help)")
        elif options.command:
            raise UsageError(f"one command at a time ({options.command}, then {arg})")
        else:
            options.command = arg
    if not options.command:
        raise HelpRequested("no command")
    if not re.fullmatch(r"[0-9]+", options.timeout):
        raise UsageError(f"--timeout takes whole seconds, got {options.timeout}")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", options.stack_name):
        raise UsageError(f"invalid stack name {options.stack_name}")
    for item in options.params:
        key, sep, _ = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param takes KEY=VALUE, got {item}")
    if options.command not in COMMANDS:
        raise UsageError(f"unknown command {options.command} (see --help)")
    options.url = options.url.rstrip("/")
    return options


def _overrides(params: Sequence[str]) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in params)


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name} takes seconds, got {text}") from None
    if value < 0:
        raise UsageError(f"{name} takes seconds, got {text}")
    return value


def run(options: Options, environ: Mapping[str, str]) -> int:
    target = AwsTarget(
        region=options.region or None,
        profile=options.profile or None,
        endpoint_url=options.endpoint_url or None,
        read_timeout_s=_number(environ, "AWS_CALL_TIMEOUT", 120.0),
    )
    overrides = _overrides(options.params)
    template = Path(options.template)
    if options.command == "deploy":
        if not template.is_file():
            raise AwsError(f"template not found: {template}", EXIT_BAD_INPUT)
        if not options.no_preflight:
            ops.preflight(template, overrides)
    session = ops.open_session(
        target,
        options.stack_name,
        environ,
        timeout_s=int(options.timeout),
        poll_s=_number(environ, "POLL_SECONDS", 10.0),
    )
    if options.command == "deploy":
        request = ops.DeployRequest(template, overrides, options.s3_bucket or None, options.dry_run)
        return ops.deploy(session, request)
    if options.command == "status":
        return ops.status(session)
    if options.command == "outputs":
        return ops.outputs(session)
    if options.command == "smoke":
        smoke = ops.SmokeRequest(options.url or None, options.secret_id or None, options.model, options.show_key)
        return ops.smoke(session, smoke)
    return ops.delete(session, options.assume_yes)


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    try:
        options = parse(argv)
        return run(options, os.environ if environ is None else environ)
    except HelpRequested as request:
        if request.args:  # no command: the usage is the error message
            print(USAGE, end="", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(USAGE, end="")
        return 0
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # AwsError, botocore errors and anything else: one line, never a traceback
        try:
            error = describe_error(exc)
        except Exception:
            error = AwsError(f"{type(exc).__name__}: {exc}")
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


def _from_parsed_args(args: Any) -> int:
    return main(args.arguments)


def register(sub: Any) -> None:
    """Listed in `litellm-bench-cfn --help`; cli's main hands `deploy ...` to `main` before argparse."""
    parser = sub.add_parser(
        "deploy",
        add_help=False,
        help="deploy, status, outputs, smoke or delete a stack (scripts/deploy.sh; `deploy help` for options)",
    )
    parser.add_argument("arguments", nargs="*")
    parser.set_defaults(handler=_from_parsed_args)
