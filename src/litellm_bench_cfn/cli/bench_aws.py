"""`bench aws`: LiteLLM's benchmark inside the VPC (harness stack), results pulled back here.

    litellm-bench-cfn bench aws --stack-name litellm-bench [--harness-stack-name litellm-bench-harness]
        [--users 1000 --spawn-rate 500 --duration 300 --workers N --web-ui --host URL]
        [--fleet-wait 600] [--upstream-latency-ms N]

Before it starts anything it waits (at most --fleet-wait seconds) until the proxy service runs its
desired count with that many healthy targets, and refuses otherwise. Writes results.json,
report.html (Locust's own report under locust/) and, where Chromium is installed, report.png under
--results-dir/aws-<time>/ (with the fleet's counts before and after the run) and prints the table.
Exit codes: 0 ran and pulled results, 1 the fleet was not ready (nothing started), or the run failed
or timed out (its tasks stopped), 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from typing import Any

from ..aws.clients import AwsError, describe_error
from ..aws.fleet import fleet_counts, fleet_ref, wait_for_fleet
from ..aws.harness import HarnessInfo, RunPlan, harness_info, run_harness
from ..aws.launch import DEFAULT_STACK_NAME
from ..exit_codes import EXIT_BAD_INPUT, EXIT_CHECK_FAILED
from ..names import API_KEY_ENV
from .common import add_aws_target, add_screenshot_flag, aws_target, new_run_dir, options_from, say, screenshot


def _plan(args: argparse.Namespace) -> RunPlan:
    problems = [f"--{flag}: must be at least 1" for flag, dest in (("users", "users"), ("duration", "duration_s"))
                if getattr(args, dest) < 1]  # fmt: skip
    if args.spawn_rate <= 0:
        problems.append("--spawn-rate: must be above 0")
    if args.workers is not None and not 1 <= args.workers <= 100:
        problems.append("--workers: must be 1-100")
    if args.host and not args.host.startswith(("http://", "https://")):
        problems.append(f"--host: {args.host!r} is not an http(s):// URL")
    if args.fleet_wait < 0:
        problems.append("--fleet-wait: must be 0 or more seconds")
    if args.upstream_latency_ms is not None and args.upstream_latency_ms < 0:
        problems.append("--upstream-latency-ms: must be 0 or more")
    if problems:
        raise ValueError("\n".join(problems))
    return options_from(RunPlan, args, api_key=args.api_key or os.environ.get(API_KEY_ENV) or None)


def _check_upstream_latency(info: HarnessInfo, wanted: float | None, harness_name: str) -> None:
    """`--upstream-latency-ms N`: refuse to measure a harness whose fake endpoint answers after another delay."""
    if wanted is None or info.upstream_latency_ms == wanted:
        return
    have = "no UpstreamLatencyMs (an older harness)" if info.upstream_latency_ms is None else (
        f"UpstreamLatencyMs={info.upstream_latency_ms:g}"
    )  # fmt: skip
    raise AwsError(
        f"--upstream-latency-ms {wanted:g}: the harness {harness_name} has {have}; update it first: "
        f"scripts/deploy.sh deploy --stack-name {harness_name} --template templates/cloudformation-ecs-harness.yaml "
        f"--param UpstreamLatencyMs={wanted:g}",
        EXIT_BAD_INPUT,
    )


def cmd_bench_aws(args: argparse.Namespace) -> int:
    from ..bench import aws_results
    from ..bench.locust_run import LoadShape

    try:
        plan = _plan(args)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    harness_name = args.harness_stack_name or f"{args.stack_name}-harness"
    target = aws_target(args)
    try:
        region = target.resolved_region()
        cfn, ecs, elbv2 = target.client("cloudformation"), target.client("ecs"), target.client("elbv2")
        info = harness_info(cfn, args.stack_name, harness_name)
        _check_upstream_latency(info, args.upstream_latency_ms, harness_name)
        fleet = fleet_ref(cfn, args.stack_name)
        say(f"bench aws: checking the proxy fleet of {args.stack_name} (waits up to {args.fleet_wait}s)")
        before = wait_for_fleet(ecs, elbv2, fleet, args.fleet_wait, say=say)
        say(f"proxy fleet ready: {before.line()}")
        say(
            f"bench aws: {plan.users} users, spawn {plan.spawn_rate:g}/s, {plan.duration_s}s, "
            f"{plan.workers or info.default_workers} worker(s), stacks {args.stack_name} + {harness_name} ({region}); "
            f"gives up after {plan.run_timeout_s():.0f}s"
        )
        outcome = run_harness(ecs, target.client("logs"), info, plan, say=say, ec2=target.client("ec2"))
    except Exception as exc:  # every AWS failure is one line, never a traceback
        error = describe_error(exc)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    try:
        after: dict[str, Any] | None = asdict(fleet_counts(ecs, elbv2, fleet))
    except Exception as exc:  # the run is done: keep its results, say what is missing
        say(f"warning: the proxy fleet's counts after the run are unknown ({describe_error(exc)})")
        after = None
    directory = new_run_dir(args, "aws")
    try:
        results = aws_results.extract_results(outcome.log_lines)
        aws_results.unpack(results, directory / "locust")
        load = aws_results.load_result(
            directory / "locust",
            plan.host or "the main stack's load balancer",
            LoadShape(plan.users, plan.spawn_rate, plan.duration_s),
            results.exit_code,
            outcome.wall_s,
        )
    except aws_results.ResultsMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    (directory / "master.log").write_text("\n".join(outcome.log_lines) + "\n")
    report = aws_results.AwsBenchReport(
        stack_name=args.stack_name,
        harness_stack_name=harness_name,
        region=region,
        workers=outcome.workers,
        master_task_arn=outcome.master_task_arn,
        load=load,
        fleet_before=asdict(before),
        fleet_after=after,
        upstream_latency_ms=info.upstream_latency_ms,
    )
    json_path, html_path = aws_results.write_outputs(report, directory)
    print(aws_results.table(report))
    print(f"\nresults: {json_path}\nreport:  {html_path}\nLocust files and the master's log: {directory}")
    screenshot(args, html_path, directory / "report.png")
    return 0 if load.requests > 0 else EXIT_CHECK_FAILED


def register(bench_modes: Any) -> None:
    aws = bench_modes.add_parser(
        "aws", help="distributed Locust inside the VPC (harness stack); results pulled back here"
    )
    aws.add_argument("--stack-name", default=DEFAULT_STACK_NAME, help="main (proxy) stack")
    aws.add_argument("--harness-stack-name", help="harness stack (default: STACK-NAME-harness)")
    aws.add_argument("--users", type=int, default=1000)
    aws.add_argument("--spawn-rate", type=float, default=500)
    aws.add_argument("--duration", dest="duration_s", type=int, default=300, help="seconds of load")
    aws.add_argument("--workers", type=int, help="Locust worker tasks (default: the harness's LocustWorkers)")
    aws.add_argument("--web-ui", action="store_true", help="master in a public subnet, web UI on 8089")
    aws.add_argument("--host", help="target base URL (default: http://<main stack's ALB DNS>/)")
    aws.add_argument("--api-key", help="virtual key the Locust tasks send (default: $LITELLM_API_KEY, else the "
                     "master key); create one with a budget via /key/generate (docs/aws-benchmark.md)")  # fmt: skip
    aws.add_argument(
        "--margin", dest="margin_s", type=int, default=600, help="seconds allowed beyond the run before giving up"
    )
    aws.add_argument("--fleet-wait", type=int, default=600,
                     help="seconds to wait, before starting, for the proxy service to run its desired count with "
                          "that many healthy targets (default 600; 0 = check once)")  # fmt: skip
    aws.add_argument("--upstream-latency-ms", type=float,
                     help="refuse to run unless the harness's fake endpoint answers after this delay "
                          "(its UpstreamLatencyMs; 95 compares with the guide, 0 = the proxy alone)")  # fmt: skip
    aws.add_argument("--results-dir", default="results")
    add_screenshot_flag(aws)
    add_aws_target(aws)
    aws.set_defaults(handler=cmd_bench_aws)
