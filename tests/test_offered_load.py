"""Issue 13 item 4: numbers that compare.

Every results table shows the closed loop's offered-load ceiling and says whether the RPS was
client-bound; the published column holds the figures that compare. The fake endpoint's upstream
delay is an option of both modes and really delays its answers: measured here on the fake endpoint
started as `bench local` starts it, and as the harness template's own container starts it.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_bench_cfn.bench import aws_results, report
from litellm_bench_cfn.bench.local_stack import fake_endpoint_process
from litellm_bench_cfn.bench.locust_run import LoadResult, LoadShape, locustfile_wait_s
from litellm_bench_cfn.bench.offered import CLIENT_BOUND_FRACTION, ceiling_rps
from litellm_bench_cfn.bench.runner import BenchOptions, BenchReport, PhaseResult, fake_endpoint_args
from litellm_bench_cfn.cli import main
from litellm_bench_cfn.harness.template import FAKE_CONTAINER, FAKE_TASK_DEFINITION
from litellm_bench_cfn.processes import ManagedProcess, free_port
from litellm_bench_cfn.task_runtime import Resolver, container_launch

from .conftest import REPO_ROOT

HARNESS_TEMPLATE = REPO_ROOT / "templates" / "cloudformation-ecs-harness.yaml"
PUBLISHED = {"rps": 1170, "rps_per_worker": 73.1, "p50_ms": 100, "p95_ms": 150, "p99_ms": 240, "avg_ms": 111.7,
             "overhead_p50_ms": 2, "overhead_p95_ms": 8, "overhead_p99_ms": 13}  # fmt: skip


def load(users: int, rps: float, avg_ms: float, failures: int = 0, requests: int = 10_000) -> LoadResult:
    return LoadResult(
        target="http://proxy/",
        shape=LoadShape(users, 100, 60),
        requests=requests,
        failures=failures,
        rps=rps,
        latency_ms={"p50": avg_ms, "p95": avg_ms * 2, "p99": avg_ms * 3, "avg": avg_ms, "max": avg_ms * 4},
        overhead_header_ms={"p50": 2.0, "p95": 5.0, "p99": 9.0},
        locust_cpu_s=1.0,
        wall_s=60.0,
        exit_code=0,
    )


def local_report(proxy: LoadResult, direct_avg_ms: float | None, delay_ms: float = 0.0) -> BenchReport:
    users = proxy.shape.users
    baseline = None
    if direct_avg_ms is not None:
        direct = load(users, ceiling_rps(users, 0.75, direct_avg_ms), direct_avg_ms)
        baseline = PhaseResult("direct", direct, {"proxy": 0.0, "locust": 1.0, "fake_endpoint": 1.0}, {})
    return BenchReport(
        machine={"cpus": 2, "litellm": "1.106.2"},
        options={
            "scenario": "guide",
            "users": users,
            "duration_s": 60,
            "workers": 1,
            "variant": "shipped",
            "upstream_latency_ms": delay_ms,
        },
        boot_seconds=1.0,
        baseline=baseline,
        proxy=PhaseResult("proxy", proxy, {"proxy": 50.0, "locust": 5.0, "fake_endpoint": 1.0}, {}),
        flags=[],
        measured_overhead_ms={"p50": 10.0, "p99": 30.0},
        rate_limit=None,
        published=PUBLISHED,
    )


def row(text: str, name: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if line.startswith(name)]
    return line[len(name) :].split()


def test_the_wait_comes_from_the_locustfile(tmp_path: Path) -> None:
    assert locustfile_wait_s() == (0.5, 1.0)  # the guide's between(0.5, 1)
    other = tmp_path / "locustfile.py"
    other.write_text("class U:\n    wait_time = between(0.1, 0.3)  # faster users\n")
    assert locustfile_wait_s(other) == (0.1, 0.3)
    assert LoadShape(10, 1, 1).mean_wait_s == 0.75


def test_local_table_shows_the_ceiling_and_a_client_bound_run() -> None:
    """100 users, 0.75 s mean wait, 20 ms through the proxy, 1 ms direct: they offer ~133 req/s."""
    text = report.table(local_report(load(100, 126.0, 20.0), direct_avg_ms=1.0))
    assert row(text, "offered-load ceiling (req/s)") == ["133", "130", "1160"]
    assert row(text, "RPS / ceiling without the proxy") == ["100%", "95%", "100%"]
    verdict = next(line for line in text.splitlines() if line.startswith("client-bound"))
    assert f"threshold {CLIENT_BOUND_FRACTION:.0%}" in verdict and ": yes, 126 req/s = 95%" in verdict
    assert "offered load: 100 users / (0.75 s mean wait of between(0.5, 1) + 20 ms mean latency)" in text
    assert "compares with the published: latency percentiles, the overhead header, the measured overhead" in text


def test_local_table_says_when_the_proxy_held_the_rps() -> None:
    """200 users through one saturated worker: 2.5 s mean latency, 61 req/s of the 266 they offer."""
    text = report.table(local_report(load(200, 61.0, 2500.0, failures=3), direct_avg_ms=1.0))
    assert row(text, "offered-load ceiling (req/s)")[1] == "62"
    assert row(text, "RPS / ceiling without the proxy")[1] == "23%"
    verdict = next(line for line in text.splitlines() if line.startswith("client-bound"))
    assert ": no, 61 req/s = 23%" in verdict and "queued" in verdict
    assert row(text, "failures (share)") == ["0", "(0.00%)", "3", "(0.03%)", "not", "published"]


def test_without_a_baseline_the_ceiling_uses_the_upstream_delay() -> None:
    """No direct phase: the path without the proxy is the fake endpoint's 95 ms delay."""
    text = report.table(local_report(load(100, 110.0, 110.0), direct_avg_ms=None, delay_ms=95.0))
    assert row(text, "RPS / ceiling without the proxy")[:2] == ["-", "93%"]  # 100 / 0.845 s = 118 req/s
    assert "without the proxy (fake endpoint's delay, 95 ms): 118 req/s" in text
    assert "fake endpoint delay (--upstream-latency-ms): 95 ms" in text


def aws_report(rps: float, avg_ms: float, delay_ms: float | None) -> aws_results.AwsBenchReport:
    fleet = {"desired": 4, "running": 4, "pending": 0, "healthy": 4, "registered": 4, "other_states": {}}
    return aws_results.AwsBenchReport(
        stack_name="litellm-bench", harness_stack_name="litellm-bench-harness", region="us-east-1", workers=4,
        master_task_arn="arn:task/1", load=load(1000, rps, avg_ms, requests=300_000),
        fleet_before=fleet, fleet_after=fleet, upstream_latency_ms=delay_ms,
    )  # fmt: skip


def test_aws_table_shows_the_ceiling_and_client_bound_flag_both_ways() -> None:
    bound = aws_results.table(aws_report(1165.0, 102.0, 95.0))  # offers 1000 / 0.845 s = 1183
    assert row(bound, "offered-load ceiling (req/s)") == ["1174", "1160"]
    assert row(bound, "RPS / ceiling without the proxy") == ["98%", "100%"]
    assert "): yes, 1165 req/s = 98%" in bound
    assert "fake endpoint delay (UpstreamLatencyMs): 95 ms" in bound
    held = aws_results.table(aws_report(700.0, 680.0, 0.0))  # offers 1333 with a 0 ms upstream
    assert row(held, "RPS / ceiling without the proxy") == ["52%", "100%"]
    assert "): no, 700 req/s = 52%" in held


def test_aws_results_json_holds_the_offered_load() -> None:
    data = json.loads(aws_report(1165.0, 102.0, 95.0).to_json())
    offered = data["offered_load"]
    assert (offered["client_bound"], offered["client_bound_threshold"], offered["baseline_latency_ms"]) == (
        True, CLIENT_BOUND_FRACTION, 95.0,
    )  # fmt: skip
    assert offered["ceiling_rps"] == 1173.7 and data["load"]["shape"]["wait_min_s"] == 0.5


def test_published_rps_is_not_set_beside_ours_as_if_it_compared() -> None:
    text = aws_results.table(aws_report(1165.0, 102.0, 95.0))
    assert row(text, "RPS (closed loop: see offered load)")[-3:] == ["(16", "workers,", "client-bound)"]
    assert "not RPS (published: 1170 req/s = 100% of 1165: client-bound)" in text


# The upstream delay really delays ------------------------------------------------------------


def chat_ms(url: str) -> float:
    body = json.dumps({"model": "fake-openai-endpoint", "messages": [{"role": "user", "content": "hi"}]}).encode()
    times = []
    for _ in range(3):
        request = urllib.request.Request(f"{url}/v1/chat/completions", data=body, method="POST")
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measured(process: ManagedProcess, port: int) -> float:
    with process:
        process.wait_http(f"http://127.0.0.1:{port}/health", timeout=20)
        return chat_ms(f"http://127.0.0.1:{port}")


def test_bench_local_option_delays_the_fake_endpoint(tmp_path: Path) -> None:
    options = BenchOptions(template=Path("t.yaml"), workdir=tmp_path, upstream_latency_ms=150)
    port = free_port()
    delayed = measured(fake_endpoint_process(tmp_path, port, fake_endpoint_args(options)), port)
    port = free_port()
    prompt = measured(
        fake_endpoint_process(tmp_path, port, fake_endpoint_args(BenchOptions(Path("t"), tmp_path))), port
    )
    assert delayed >= 150 - 5
    assert delayed - prompt >= 100


def test_bench_local_refuses_a_negative_upstream_latency(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "local", "--template", str(REPO_ROOT / "templates/cloudformation-ecs.yaml"),
                 "--upstream-latency-ms", "-1"]) == 2  # fmt: skip
    assert capsys.readouterr().err == "--upstream-latency-ms: must be 0-60000 (got -1)\n"


def harness_fake(tmp_path: Path, overrides: dict[str, str]) -> tuple[ManagedProcess, int]:
    """The harness's fake endpoint container as its task definition starts it (command + environment)."""
    template: dict[str, Any] = yaml.safe_load(HARNESS_TEMPLATE.read_text())
    launch = container_launch(
        Resolver(template=template, parameter_overrides=overrides), FAKE_TASK_DEFINITION, FAKE_CONTAINER, {}
    )
    port = free_port()
    work = tmp_path / f"fake-{port}"
    (work / "tmp").mkdir(parents=True)
    env = {**launch.environment, "FAKE_HOST": "127.0.0.1", "FAKE_PORT": str(port), "TMPDIR": str(work / "tmp"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}  # fmt: skip
    return ManagedProcess("fake", launch.argv, env=env, cwd=work, log_path=work / "fake.log"), port


def test_harness_template_feeds_upstream_latency_to_its_fake_endpoint(tmp_path: Path) -> None:
    template = yaml.safe_load(HARNESS_TEMPLATE.read_text())
    assert template["Parameters"]["UpstreamLatencyMs"]["Default"] == 95
    assert template["Outputs"]["UpstreamLatencyMs"]["Value"] == {"Ref": "UpstreamLatencyMs"}
    delayed = measured(*harness_fake(tmp_path, {"UpstreamLatencyMs": "200"}))
    prompt = measured(*harness_fake(tmp_path, {"UpstreamLatencyMs": "0"}))
    assert delayed >= 200 - 5
    assert delayed - prompt >= 150
