"""End to end, offline: the harness template's own containers run here against a local proxy.

The fake endpoint, Locust master and Locust worker are started with the EXACT entrypoint + command
+ environment of their task definitions in templates/cloudformation-ecs-harness.yaml (the
`sh -c` scripts decode the shipped code and exec it; master and worker are the one Locust task
definition, the worker with bench aws's role override), imports resolved to local values, the master
key injected as ECS would inject the imported secret. What differs from ECS is only what ECS
container overrides would differ in: the role, the load shape (10 users, 10 s), loopback bind
addresses and ports, TMPDIR, PATH (python3 and locust from .venv/bin, where the pinned Locust is installed, so the
scripts' pip-install step finds it and installs nothing; tests/test_infra.py runs that step with a
stand-in python3 that has no Locust). The proxy is the main template's
proxy container (bench local's launcher) pointed at the harness's fake endpoint. The master's log
must then hold a results block that `bench aws` parses into results with requests and the overhead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn.bench import aws_results
from litellm_bench_cfn.bench.local_stack import GeneratedSecrets, load_template, proxy_launch, proxy_process
from litellm_bench_cfn.bench.locust_run import LoadShape
from litellm_bench_cfn.harness.scripts import ROLE_ENV, WORKER_ROLE
from litellm_bench_cfn.harness.template import (
    FAKE_CONTAINER,
    FAKE_TASK_DEFINITION,
    LOCUST_CONTAINER,
    LOCUST_TASK_DEFINITION,
)
from litellm_bench_cfn.processes import ManagedProcess, free_port
from litellm_bench_cfn.stack import exports
from litellm_bench_cfn.task_runtime import ContainerLaunch, Resolver, container_launch

from .conftest import BENCHMARK_TEMPLATE, REPO_ROOT, require_modules

pytestmark = pytest.mark.e2e
require_modules("litellm", "locust")

HARNESS_TEMPLATE = REPO_ROOT / "templates" / "cloudformation-ecs-harness.yaml"
STACK = "litellm-bench"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:litellm-bench/master-key-AbCdEf"
RUN_S = 10
MASTER_EXIT_TIMEOUT_S = RUN_S + 90


def harness_resolver(template: dict[str, Any], alb_dns: str) -> Resolver:
    values = {exports.LOAD_BALANCER_DNS: alb_dns, exports.MASTER_KEY_SECRET: SECRET_ARN}
    return Resolver(template=template, imports={f"{STACK}-{k}": v for k, v in values.items()})


def local_process(name: str, launch: ContainerLaunch, workdir: Path, **overrides: str) -> ManagedProcess:
    """The container's argv and environment as-is, plus what container overrides / the host change."""
    tmp = workdir / name / "tmp"
    tmp.mkdir(parents=True)
    env = {
        **launch.environment,
        **overrides,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "TMPDIR": str(tmp),
        "HOME": str(workdir / name),
        "LANG": "C.UTF-8",
    }
    return ManagedProcess(name, launch.argv, env=env, cwd=workdir / name, log_path=workdir / f"{name}.log")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("harness")
    harness = yaml.safe_load(HARNESS_TEMPLATE.read_text())
    secrets = GeneratedSecrets()
    with ExitStack() as stack:
        fake_port = free_port()
        fake_launch = container_launch(harness_resolver(harness, "unused"), FAKE_TASK_DEFINITION, FAKE_CONTAINER, {})
        fake = stack.enter_context(
            local_process("fake", fake_launch, workdir, FAKE_HOST="127.0.0.1", FAKE_PORT=str(fake_port))
        )
        fake.wait_http(f"http://127.0.0.1:{fake_port}/health", timeout=20)

        proxy_port = free_port()
        launch = proxy_launch(
            load_template(BENCHMARK_TEMPLATE),
            api_base=f"http://127.0.0.1:{fake_port}/",
            test_secrets=secrets,
            parameter_overrides={"InVpcFakeEndpoint": "false"},
        )
        proxy = stack.enter_context(proxy_process(launch, workdir, proxy_port, workers=1))
        proxy.wait_http(f"http://127.0.0.1:{proxy_port}/health/readiness", timeout=180)

        resolver = harness_resolver(harness, f"127.0.0.1:{proxy_port}")
        secret = {SECRET_ARN: secrets.master_key_secret}
        master_launch = container_launch(resolver, LOCUST_TASK_DEFINITION, LOCUST_CONTAINER, secret)
        worker_launch = master_launch  # the same task definition; bench aws overrides the role
        port = str(free_port())
        shape = {"BENCH_USERS": "10", "BENCH_SPAWN_RATE": "10", "BENCH_RUN_TIME_S": str(RUN_S), "BENCH_WORKERS": "1"}
        master = stack.enter_context(
            local_process("master", master_launch, workdir, **shape, BENCH_MASTER_BIND="127.0.0.1",
                          BENCH_MASTER_PORT=port)
        )  # fmt: skip
        worker_overrides = {ROLE_ENV: WORKER_ROLE, "BENCH_MASTER_HOST": "127.0.0.1", "BENCH_MASTER_PORT": port}
        worker = stack.enter_context(local_process("worker", worker_launch, workdir, **worker_overrides))
        code = master.wait_exit(timeout=MASTER_EXIT_TIMEOUT_S)
        worker_code = worker.wait_exit(timeout=30)
        yield {
            "master_code": code,
            "worker_code": worker_code,
            "master_log": master.log_path.read_text(errors="replace"),
            "master_launch": master_launch,
            "proxy_url": f"http://127.0.0.1:{proxy_port}/",
            "workdir": workdir,
        }


def test_master_uses_the_templates_target_from_the_imported_alb_dns(run: dict[str, Any]) -> None:
    assert run["master_launch"].environment["BENCH_TARGET"] == run["proxy_url"]


def test_master_and_worker_exit_cleanly(run: dict[str, Any]) -> None:
    assert (run["master_code"], run["worker_code"]) == (0, 0), run["master_log"][-3000:]


def test_master_log_holds_results_that_parse_into_requests_and_overhead(run: dict[str, Any]) -> None:
    results = aws_results.extract_results(run["master_log"].splitlines())
    directory = run["workdir"] / "pulled"
    names = {p.name for p in aws_results.unpack(results, directory)}
    assert {"run_stats.csv", "run_stats_history.csv", "overhead.json", "run_report.html"} <= names
    load = aws_results.load_result(directory, run["proxy_url"], LoadShape(10, 10, RUN_S), results.exit_code, RUN_S)
    assert load.requests > 0 and load.failures == 0
    assert load.overhead_header_ms is not None and load.overhead_header_ms["count"] > 0
    assert load.overhead_header_ms["p50"] is not None


def test_results_render_as_json_table_and_html(run: dict[str, Any]) -> None:
    results = aws_results.extract_results(run["master_log"].splitlines())
    directory = run["workdir"] / "report"
    aws_results.unpack(results, directory)
    load = aws_results.load_result(directory, run["proxy_url"], LoadShape(10, 10, RUN_S), results.exit_code, RUN_S)
    report = aws_results.AwsBenchReport(STACK, f"{STACK}-harness", "local", 1, "local", load)
    json_path, html_path = aws_results.write_outputs(report, directory)
    page = html_path.read_text()
    assert '"requests"' in json_path.read_text() and "<svg" in page
    assert page.count("Plotly.newPlot(") == 3 and "href='run_report.html'" in page
    assert "LiteLLM overhead header p50" in aws_results.table(report)
