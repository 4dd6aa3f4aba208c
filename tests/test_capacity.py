"""Capacity: the open-loop generator, `bench sweep`, `size` and LiteLLM releases side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from litellm_bench_cfn.bench.litellm_versions import check_version, litellm_bin_dir
from litellm_bench_cfn.bench.sweep import (
    IDLE_CORES,
    StepResult,
    SweepOptions,
    judge,
    knee_of,
    rates_to_try,
    sweep_steps,
    wait_until_idle,
)
from litellm_bench_cfn.bench.variants import variant_named
from litellm_bench_cfn.processes import ManagedProcess, free_port
from litellm_bench_cfn.sizing import Capacity, size_for, spec_overrides
from litellm_bench_cfn.spec import parse_spec_text

from .conftest import REPO_ROOT, require_modules

OPEN_LOOP = REPO_ROOT / "loadtest" / "open_loop.py"
FAKE_ENDPOINT = REPO_ROOT / "src" / "litellm_bench_cfn" / "fake_endpoint.py"


def _step(rate: float, *, p95: float = 50, failures: int = 0, served: float | None = None, **gen: object) -> StepResult:
    return StepResult(
        offered_rps=rate, served_rps=rate if served is None else served, requests=100, failures=failures,
        latency_ms={"p50": 10, "p95": p95, "p99": p95}, overhead_header_ms=None, proxy_cpu_ms_per_request=10,
        proxy_cores=0.5, locust_cores=0.1, generator={"dropped": 0, "lag_p99_ms": 1, **gen}, upstream_200=100,
        held=False, reasons=[],
    )  # fmt: skip


# ---- pure logic ---------------------------------------------------------------------------


def test_ramp_grows_until_a_step_fails_then_bisects_to_the_resolution() -> None:
    options = SweepOptions(template=Path("t"), workdir=Path("w"), start_rps=10, growth=2, resolution=0.1)
    results: dict[float, bool] = {}
    capacity = 55.0
    tried = []
    while (rate := rates_to_try(options, results)) is not None:
        tried.append(rate)
        results[rate] = rate <= capacity
    assert tried[:4] == [10, 20, 40, 80]
    held = max(r for r, ok in results.items() if ok)
    failed = min(r for r, ok in results.items() if not ok)
    assert held <= capacity < failed
    assert (failed - held) / held <= 0.1


def test_a_first_step_that_fails_steps_down() -> None:
    options = SweepOptions(template=Path("t"), workdir=Path("w"), start_rps=100, growth=2)
    assert rates_to_try(options, {100.0: False}) == 50.0


def test_knee_is_the_highest_rate_held_with_every_lower_rate_held() -> None:
    steps = [_step(10), _step(20), _step(40, p95=900), _step(30)]
    for s in steps:
        s.reasons = judge(s, 150)
        s.held = not s.reasons
    assert knee_of(steps) == 30


def _ramp(confirmations: int = 1) -> SweepOptions:
    return SweepOptions(
        template=Path("t"), workdir=Path("w"), start_rps=10, growth=2, resolution=0.1, confirmations=confirmations
    )


def _measured(capacity: float, stalls: set[tuple[float, int]]) -> Callable[[float, int], StepResult]:
    """A proxy that holds up to `capacity` req/s, except the (rate, attempt) pairs a stall hits."""

    def measure(rate: float, attempt: int) -> StepResult:
        stalled = (rate, attempt) in stalls
        step = _step(rate, p95=900 if rate > capacity or stalled else 50)
        step.reasons = judge(step, 150)
        step.held = not step.reasons
        return step

    return measure


def test_one_stalled_step_does_not_end_the_ramp_when_failures_are_confirmed() -> None:
    options = _ramp()
    stall = {(20.0, 1)}  # the first try at 20 req/s meets a stall on the machine; the retry holds
    confirmed = sweep_steps(options, _measured(55, stall), lambda _: None, "sweep")
    assert 50 <= (knee_of(confirmed) or 0) <= 55
    at_20 = [(s.attempt, s.held) for s in confirmed if s.offered_rps == 20]
    assert at_20 == [(1, False), (2, True)]

    unconfirmed = sweep_steps(_ramp(confirmations=0), _measured(55, stall), lambda _: None, "sweep")
    assert (knee_of(unconfirmed) or 0) < 20


def test_a_rate_beyond_capacity_is_tried_confirmations_plus_one_times() -> None:
    steps = sweep_steps(_ramp(confirmations=2), _measured(55, set()), lambda _: None, "sweep")
    assert [s.attempt for s in steps if s.offered_rps == 80] == [1, 2, 3]
    assert all(s.attempt == 1 for s in steps if s.offered_rps <= 55)


class _BusyProxy:
    """CPU seconds of a proxy that serves a backlog for `busy_s` seconds of the fake clock, then idles."""

    def __init__(self, busy_s: float) -> None:
        self.busy_s, self.now = busy_s, 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def cpu(self) -> float:
        return min(self.now, self.busy_s) * 0.95 + self.now * IDLE_CORES / 10


def test_the_sweep_waits_until_the_proxy_has_served_its_backlog() -> None:
    proxy = _BusyProxy(busy_s=40)
    waited = wait_until_idle(proxy.cpu, timeout_s=300, sleep=proxy.sleep)
    assert waited is not None and 41 <= waited <= 43


def test_a_proxy_still_busy_at_the_limit_is_reported_not_waited_for_forever() -> None:
    proxy = _BusyProxy(busy_s=1000)
    assert wait_until_idle(proxy.cpu, timeout_s=30, sleep=proxy.sleep) is None
    assert proxy.now == 30


def test_judge_names_every_reason_and_voids_generator_bound_steps() -> None:
    assert judge(_step(50), 150) == []
    reasons = judge(_step(50, p95=400, failures=3, served=30, dropped=7, lag_p99_ms=120), 150)
    assert any("dropped 7" in r for r in reasons)
    assert any("lagged 120 ms" in r for r in reasons)
    assert any("3 failed" in r for r in reasons)
    assert any("served 30.0 of 50.0" in r for r in reasons)
    assert any("p95 400" in r for r in reasons)


# ---- sizing -------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [1, 50, 1170, 3000, 9000])
def test_size_gives_a_valid_spec_that_serves_the_target_at_the_cpu_target(target: float) -> None:
    plan = size_for(target, Capacity(80, "test"))
    spec = plan.spec
    per_task = spec.litellm.workers * 80
    assert spec.litellm.workers == spec.tasks.cpu // 1024
    assert spec.tasks.desired_count * per_task * spec.scaling.cpu_target_percent / 100 >= target
    assert (spec.tasks.desired_count - 1) * per_task * 0.7 < target or spec.tasks.desired_count == 2
    assert spec.scaling.min_tasks >= 2 and spec.scaling.max_tasks > spec.scaling.min_tasks
    # The written spec file is the same spec.
    reread = parse_spec_text(yaml.safe_dump(spec_overrides(plan)))
    assert reread == spec
    assert plan.hourly_usd > 0
    assert plan.usd_per_million_requests == pytest.approx(plan.hourly_usd / (target * 3600 / 1e6))


def test_calibration_scales_the_fleet() -> None:
    slow = size_for(3000, Capacity(80, "test", calibration=0.5)).spec.tasks.desired_count
    fast = size_for(3000, Capacity(80, "test", calibration=1.0)).spec.tasks.desired_count
    assert slow >= 2 * fast - 1


def _cli(*args: str, cwd: Path = REPO_ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def test_size_cli_writes_a_spec_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "sized.yaml"
    done = _cli("size", "--target-rps", "2500", "--rps-per-vcpu", "90", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "per million requests" in done.stdout
    assert _cli("validate", str(out)).returncode == 0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--target-rps", "0"], "--target-rps: must be above 0"),
        (["--target-rps", "100", "--cpu-target", "95"], "scaling.cpu_target_percent"),
        (["--target-rps", "100", "--sweep", "/nonexistent.json"], "--sweep: /nonexistent.json is not"),
        (["--target-rps", "1e9"], "above the 100 a spec allows"),
    ],
)
def test_size_cli_refuses_bad_input_in_one_line(args: list[str], fragment: str) -> None:
    done = _cli("size", *args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


# ---- releases side by side ----------------------------------------------------------------


def test_variant_names_take_a_litellm_release() -> None:
    variant = variant_named("shipped@1.108.7")
    assert variant.litellm_version == "1.108.7" and variant.name == "shipped@1.108.7"
    assert variant_named("shipped").litellm_version is None
    with pytest.raises(ValueError, match="not a release number"):
        variant_named("shipped@latest")
    with pytest.raises(ValueError, match="not a release number"):
        check_version("1.2; rm -rf /")


def test_a_release_that_is_not_installed_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"LiteLLM 9\.9\.9 is not installed"):
        litellm_bin_dir("9.9.9")


# ---- end to end ---------------------------------------------------------------------------


@pytest.fixture()
def slow_endpoint(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    argv = [sys.executable, str(FAKE_ENDPOINT), "--host", "127.0.0.1", "--port", str(port), "--delay-ms", "200"]
    with ManagedProcess("fake", argv, env=dict(os.environ), log_path=tmp_path / "fake.log") as fake:
        fake.wait_http(f"http://127.0.0.1:{port}/health", timeout=20)
        yield f"http://127.0.0.1:{port}/"


def _open_loop(host: str, tmp_path: Path, rate: int, seconds: int, max_in_flight: int = 2000) -> dict[str, object]:
    require_modules("locust")
    generator_json = tmp_path / "generator.json"
    env = {
        **os.environ, "LITELLM_MASTER_KEY": "sk-test", "OPEN_LOOP_RATE": str(rate),
        "OPEN_LOOP_DURATION_S": str(seconds), "OPEN_LOOP_JSON": str(generator_json),
        "OPEN_LOOP_MAX_IN_FLIGHT": str(max_in_flight),
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(OPEN_LOOP), "--headless", "-u", "1", "-r", "1", "-t", "60s",
         "-H", host, "--json-file", str(tmp_path / "stats"), "--only-summary", "--loglevel", "WARNING"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    stats = json.loads((tmp_path / "stats.json").read_text())
    return {"exit": done.returncode, "generator": json.loads(generator_json.read_text()), "stats": stats}


@pytest.mark.e2e
def test_open_loop_arrivals_do_not_wait_for_answers(slow_endpoint: str, tmp_path: Path) -> None:
    """Against an endpoint that takes 200 ms, one closed-loop user would send 5 req/s; the open-loop
    generator keeps its 40 req/s schedule, and ends by itself once the last answer is in."""
    run = _open_loop(slow_endpoint, tmp_path, rate=40, seconds=4)
    generator = run["generator"]
    assert isinstance(generator, dict)
    assert generator["scheduled"] == generator["sent"] == 160
    assert generator["dropped"] == 0
    assert sum(e["num_requests"] for e in run["stats"]) == 160  # type: ignore[union-attr]
    assert generator["answered_ok"] == 160
    assert 4.0 <= generator["span_s"] < 6.0


@pytest.mark.e2e
def test_open_loop_reports_arrivals_it_could_not_send(slow_endpoint: str, tmp_path: Path) -> None:
    run = _open_loop(slow_endpoint, tmp_path, rate=40, seconds=2, max_in_flight=2)
    generator = run["generator"]
    assert isinstance(generator, dict)
    assert generator["dropped"] > 0
    assert generator["sent"] + generator["dropped"] == generator["scheduled"] == 80


@pytest.mark.e2e
def test_bench_sweep_end_to_end(tmp_path: Path) -> None:
    """A short sweep against the proxy started from the committed template: every step accounts for
    its requests upstream, reports CPU per request, and the knee is found (here, bounded by
    --max-rps: the rates stay far below one worker's capacity so the test holds on a loaded CI)."""
    require_modules("locust", "litellm")
    done = _cli(
        "bench", "sweep", "--step-duration", "4", "--start-rps", "5", "--growth", "2", "--max-rps", "20",
        "--p95-ms", "5000", "--results-dir", str(tmp_path), timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "knee: 20 req/s" in done.stdout and "lower bound" in done.stdout
    (result,) = tmp_path.glob("sweep-*/sweep.json")
    data = json.loads(result.read_text())
    steps = data["runs"][0]["steps"]
    assert [s["offered_rps"] for s in steps] == [5, 10, 20]
    for step in steps:
        assert step["failures"] == 0
        assert step["upstream_200"] == step["requests"]  # only benchmark requests reached the endpoint
        assert step["served_rps"] == pytest.approx(step["offered_rps"], rel=0.15)
        assert step["proxy_cpu_ms_per_request"] > 0
        assert step["generator"]["dropped"] == 0
    assert data["summary"]["knee_rps_per_worker"] == 20


@pytest.mark.e2e
def test_compare_runs_a_variant_on_another_release(tmp_path: Path) -> None:
    """`shipped@VERSION` starts the proxy with that release's CLI from its cached virtualenv. The
    "release" here is a stand-in venv whose `litellm` records that it ran, then execs ours (a
    real second release takes minutes to install; docs/performance.md has a real comparison)."""
    require_modules("locust", "litellm")
    venv_bin = tmp_path / "cache" / "litellm-bench-cfn" / "litellm-venvs" / "9.9.9" / "bin"
    venv_bin.mkdir(parents=True)
    marker = tmp_path / "ran-9.9.9"
    real = Path(sys.executable).with_name("litellm")
    (venv_bin / "litellm").write_text(f'#!/bin/sh\necho "$@" >> {marker}\nexec {real} "$@"\n')
    (venv_bin / "litellm").chmod(0o755)
    (venv_bin / "python").symlink_to(sys.executable)
    (venv_bin.parent / ".installed").write_text("9.9.9\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "bench", "compare", "--variants", "shipped,shipped@9.9.9",
         "--rounds", "1", "--users", "5", "--duration", "5", "--results-dir", str(tmp_path / "results")],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "--config" in marker.read_text()
    (result,) = (tmp_path / "results").glob("compare-*/compare.json")
    names = [v["name"] for v in json.loads(result.read_text())]
    assert names == ["shipped", "shipped@9.9.9"]


def test_the_sweep_page_draws_a_knee_curve_per_sweep(tmp_path: Path) -> None:
    from litellm_bench_cfn.bench.sweep import SweepReport, SweepRun, write_sweep

    def run(capacity: float) -> SweepRun:
        steps = sweep_steps(_ramp(), _measured(capacity, set()), lambda _: None, "sweep")
        return SweepRun(steps=steps, knee_rps=knee_of(steps), generator_bound=False)

    options = {"workers": 1, "p95_bound_ms": 150.0}
    report = SweepReport(machine={"cpus": 2}, options=options, runs=[run(55), run(52)])
    path = write_sweep(report, tmp_path)
    assert json.loads(path.read_text())["summary"]["knees_rps"] == [knee_of(r.steps) for r in report.runs]
    page = (tmp_path / "sweep.html").read_text()
    assert page.count("Plotly.newPlot") == 2
    assert 'id="sweep-1"' in page and 'id="sweep-2"' in page
    assert f"Sweep 1: knee {report.runs[0].knee_rps:g} req\\u002fs" in page  # plotly's JSON escapes "/"
    assert "a p95 bound of 150 ms" in page


@pytest.mark.parametrize("mode", ["local", "up", "sweep"])
def test_every_local_mode_takes_a_variant_on_another_release(mode: str, tmp_path: Path) -> None:
    """`--variant NAME@VERSION` is one flag for bench local, up and sweep; a bad one is one argparse error."""
    done = _cli("bench", mode, "--variant", "shipped@x.y", "--results-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("argument --variant: LiteLLM version 'x.y' is not a release number "
                                                 "such as 1.110.2")  # fmt: skip
    assert not list(tmp_path.iterdir())  # nothing started, no run folder


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--growth", "1"], "argument --growth: must be above 1 (got 1)"),
        (["--step-duration", "0"], "argument --step-duration: must be at least 1 (got 0)"),
        (["--confirm", "-1"], "argument --confirm: must be at least 0 (got -1)"),
        (["--repeat", "two"], "argument --repeat: 'two' is not a number"),
        (["--template", "no-such.yaml"], "--template: no-such.yaml does not exist"),
    ],
)
def test_sweep_refuses_bad_input_in_one_line_and_starts_nothing(args: list[str], fragment: str, tmp_path: Path) -> None:
    done = _cli("bench", "sweep", *args, "--results-dir", str(tmp_path / "results"))
    assert done.returncode == 2
    assert fragment in done.stderr.splitlines()[-1], done.stderr
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").iterdir())
