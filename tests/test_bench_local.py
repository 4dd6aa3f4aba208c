"""`bench local` as a user runs it: short, bounded runs of the real proxy, Locust and the fake endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from litellm_bench_cfn.bench import browser
from litellm_bench_cfn.bench.local_stack import ProxyVariant, apply_variant
from litellm_bench_cfn.bench.variants import VARIANTS
from litellm_bench_cfn.task_runtime import ContainerLaunch

from .benchproc import run_bench_local
from .conftest import REPO_ROOT, require_modules

require_modules("litellm", "locust")


@pytest.mark.e2e
def test_guide_scenario_reports_every_field_and_accounts_for_every_request(tmp_path: Path) -> None:
    result, report = run_bench_local(
        tmp_path, "--users", "10", "--spawn-rate", "10", "--duration", "8", "--baseline-duration", "4"
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "through the proxy" in result.stdout and "published" in result.stdout
    assert "every request accounted for" in result.stdout
    proxy = report["proxy"]["load"]
    assert proxy["requests"] > 0 and proxy["failures"] == 0
    assert set(proxy["latency_ms"]) == {"p50", "p95", "p99", "avg", "max"}
    assert proxy["overhead_header_ms"]["count"] == proxy["requests"]
    assert report["baseline"]["load"]["requests"] > 0
    assert report["accounting"]["balanced"] and report["accounting"]["upstream_200"] == proxy["requests"]
    assert set(report["measured_overhead_ms"]) == {"p50", "p95", "p99", "avg"}
    assert {"proxy", "locust", "fake_endpoint"} <= set(report["proxy"]["cpu_s"])
    assert report["proxy"]["cpu_s"]["locust"] > 0 and report["proxy"]["cpu_s"]["proxy"] > 0
    assert report["published"]["rps"] == 1170
    assert report["machine"]["litellm"] == "1.106.2"
    html_path = next(tmp_path.glob("local-*/report.html"))
    html = html_path.read_text()
    assert "<svg" in html and "Latency percentiles" in html
    assert html.count("Plotly.newPlot(") == 5 and "<table>" in html
    # Locust's own HTML report of both phases, beside ours and linked from it
    for phase in ("direct", "proxy"):
        assert "Locust" in (html_path.parent / f"{phase}_locust.html").read_text()
        assert f"href='{phase}_locust.html'" in html
    if browser.unavailable() is None or os.environ.get("CI"):
        assert (html_path.parent / "report.png").read_bytes().startswith(b"\x89PNG"), result.stdout[-1000:]
        assert "(5 charts rendered)" in result.stdout
    accounting = report["accounting"]
    assert accounting["users"] == 10 and accounting["starved_users"] == 0 and accounting["late"] == 0
    assert accounting["upstream_chat"] == accounting["upstream_200"]  # only the benchmark's calls count
    assert report["proxy"]["machine"]["busy_s"] > 0
    assert "users: 10, starved 0" in result.stdout


@pytest.mark.e2e
def test_another_benchmark_running_meanwhile_is_recorded(tmp_path: Path) -> None:
    rival = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "locust", "-f", "rival.py"])
    try:
        result, report = run_bench_local(
            tmp_path, "--users", "2", "--spawn-rate", "2", "--duration", "3", "--baseline-duration", "0"
        )
    finally:
        rival.kill()
        rival.wait(timeout=10)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "another benchmark is running on this machine" in result.stderr
    assert rival.pid in [c["pid"] for c in report["competing"]]
    assert any(flag.startswith("competing-benchmark:") for flag in report["flags"])


@pytest.mark.e2e
def test_a_template_whose_proxy_uses_redis_runs_against_a_local_redis(tmp_path: Path) -> None:
    """The production profile's proxy keeps its router state in Redis: a private redis-server is
    started on loopback with a generated password, and stopped with the run."""
    import shutil

    if not shutil.which("redis-server") and not Path("/usr/bin/redis-server").exists():
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/bootstrap.sh installs it)")
        pytest.skip("redis-server is not installed")
    result, report = run_bench_local(
        tmp_path, "--template", "templates/cloudformation-ecs-production.yaml",
        "--users", "3", "--spawn-rate", "3", "--duration", "4", "--baseline-duration", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert report["proxy"]["load"]["requests"] > 0 and report["proxy"]["load"]["failures"] == 0
    assert "redis" in report["proxy"]["cpu_s"]
    assert "Ready to accept connections" in next(tmp_path.glob("local-*/redis.log")).read_text()


@pytest.mark.e2e
def test_rate_limited_scenario_caps_successes_at_the_quotas(tmp_path: Path) -> None:
    result, report = run_bench_local(
        tmp_path, "--scenario", "rate-limited", "--rpm-limit", "15", "--users", "10", "--spawn-rate", "10",
        "--duration", "8",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    limits = report["rate_limit"]
    assert limits["quota_rpm_total"] == 30
    # The whole run sits in one 60 s quota window, so at most 15 successes per deployment.
    assert all(count <= 15 for count in limits["upstream_successes_per_deployment"].values())
    assert limits["client_successes"] <= 30 and limits["upstream_429"] > 0
    assert "successes/minute against quotas summing to 30 RPM" in result.stdout


def test_bad_flags_are_one_line_errors(tmp_path: Path) -> None:
    result, _ = run_bench_local(tmp_path, "--users", "0")
    assert result.returncode == 2 and result.stderr.strip() == "--users: must be at least 1 (got 0)"
    result, _ = run_bench_local(tmp_path, "--template", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    for flags, message in (
        (("--rpm-limit", "0"), "--rpm-limit: must be at least 1 request per minute (got 0)"),
        (("--baseline-duration", "-5"), "--baseline-duration: must be 0 (skip) or more (got -5)"),
        (("--duration", "-1"), "--duration: must be at least 1 (got -1)"),
    ):
        result, _ = run_bench_local(tmp_path, *flags)
        assert (result.returncode, result.stderr.strip()) == (2, message), flags
    assert list(tmp_path.iterdir()) == []  # no empty run folder left behind


def test_the_fake_endpoint_refuses_a_port_out_of_range_in_one_line() -> None:
    result = subprocess.run([sys.executable, "-m", "litellm_bench_cfn.cli", "fake-endpoint", "--port", "70000"],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=30)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == "fake-endpoint: --port: 70000 is not a TCP port; use 1-65535 (0 = any free port)"


def test_help_shows_every_default() -> None:
    result = subprocess.run([sys.executable, "-m", "litellm_bench_cfn.cli", "bench", "local", "--help"],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=30)  # fmt: skip
    text = " ".join(result.stdout.split())
    for default in ("(default: 100)", "(default: 45)", "(default: 15)", "(default: 600)", "(default: guide)",
                    "(default: shipped)", "(default: results)", "(default: 1)", "(default: templates/"):  # fmt: skip
        assert default in text, default


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "spec.yaml", "is a spec file, not a template; render it first"),
        (lambda d: REPO_ROOT / "templates" / "cloudformation-ecs-harness.yaml", "has no ProxyTaskDefinition"),
        (lambda d: REPO_ROOT / "README.md", "is not YAML"),
        (lambda d: d / "list.yaml", "is not a CloudFormation template"),
    ],
)
def test_a_file_that_is_not_a_proxy_template_is_one_line(tmp_path: Path, make: Any, message: str) -> None:
    (tmp_path / "spec.yaml").write_text((REPO_ROOT / "profiles" / "dev.yaml").read_text())
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    result, _ = run_bench_local(tmp_path / "results", "--template", str(make(tmp_path)))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_variant_flags_are_appended_to_the_start_script() -> None:
    launch = ContainerLaunch(
        argv=("/bin/sh", "-c", "set -eu\nexec docker/prod_entrypoint.sh --config x --run_gunicorn\n"),
        environment={"LITELLM_CONFIG_YAML": "model_list: []\n", "LITELLM_LOG": "ERROR"},
        image="i",
        port=4000,
    )
    debug = apply_variant(launch, VARIANTS["seeds-detailed-debug"])
    assert debug.argv[-1].endswith("--config x --detailed_debug\n")
    shipped = replace(launch, argv=("/bin/sh", "-c", 'exec docker/prod_entrypoint.sh --keepalive_timeout "$K"\n'))
    gunicorn = apply_variant(shipped, VARIANTS["gunicorn"])
    assert gunicorn.argv[-1].endswith('--keepalive_timeout "$K" --run_gunicorn\n')
    keepalive = apply_variant(shipped, VARIANTS["uvicorn-keepalive-5"])
    assert keepalive.argv[-1].endswith('--keepalive_timeout "$K" --keepalive_timeout 5\n')
    aws = apply_variant(launch, VARIANTS["aws-guidance-debug-log"])
    assert aws.environment["LITELLM_LOG"] == "DEBUG"
    unset = apply_variant(launch, ProxyVariant(name="x", env={"LITELLM_LOG": None}))
    assert "LITELLM_LOG" not in unset.environment
