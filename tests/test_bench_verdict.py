"""`bench local`'s verdicts from synthetic phases: saturation, accounting, run folders, competing runs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from litellm_bench_cfn.bench import concurrency
from litellm_bench_cfn.bench.locust_run import LoadResult, LoadShape
from litellm_bench_cfn.bench.runner import PhaseResult, accounting, saturation_flags, user_flags
from litellm_bench_cfn.cli import bench as cli_bench
from litellm_bench_cfn.cli.common import new_run_dir

from .conftest import REPO_ROOT


def phase(
    *,
    proxy: float,
    locust: float,
    fake: float = 0.05,
    busy: float | None = None,
    cores: int = 2,
    users: dict[str, Any] | None = None,
    requests: int = 1000,
    failures: int = 0,
    upstream: dict[str, Any] | None = None,
    wall: float = 10.0,
) -> PhaseResult:
    """A phase of `wall` seconds whose processes used these many cores on average."""
    load = LoadResult(
        target="http://127.0.0.1:1/", shape=LoadShape(100, 100, 10), requests=requests, failures=failures,
        rps=requests / wall, latency_ms={}, overhead_header_ms=None, locust_cpu_s=locust * wall, wall_s=wall,
        exit_code=0, users=users,
    )  # fmt: skip
    machine = {"cores": cores, "busy_s": None if busy is None else busy * wall, "loadavg_after": [2.0, 1.5, 1.0]}
    return PhaseResult(
        name="proxy",
        load=load,
        cpu_s={"proxy": proxy * wall, "fake_endpoint": fake * wall, "locust": locust * wall},
        upstream=upstream or {},
        machine=machine,
    )


def kinds(flags: list[str]) -> list[str]:
    return [flag.split(":")[0] for flag in flags]


def test_one_worker_using_its_core_is_the_limit() -> None:
    assert kinds(saturation_flags(phase(proxy=0.95, locust=0.3, busy=1.35), workers=1)) == ["proxy-saturated"]


def test_two_workers_on_two_cores_shared_with_locust_are_the_limit() -> None:
    """The guide's shape here: 2 workers could use 2 cores, but Locust took one third of the machine.
    The proxy used everything that was left, so it was the limit and the machine was full."""
    flags = saturation_flags(phase(proxy=1.4, locust=0.55, busy=2.0), workers=2)
    assert kinds(flags) == ["proxy-saturated", "machine-saturated"]
    assert "all the machine left" in flags[0]


def test_n_workers_with_cores_to_spare_are_not_the_limit() -> None:
    assert saturation_flags(phase(proxy=2.0, locust=0.5, busy=2.6, cores=8), workers=4) == []


def test_other_load_on_the_machine_is_named() -> None:
    flags = saturation_flags(phase(proxy=0.55, locust=0.2, busy=1.95), workers=1)
    assert kinds(flags) == ["proxy-saturated", "machine-saturated", "other-load"]
    assert "1.15 core(s)" in flags[2] and "2.0, 1.5, 1.0" in flags[2]


def test_client_and_upstream_bounds() -> None:
    flags = saturation_flags(phase(proxy=0.3, locust=0.95, fake=0.9, busy=2.15, cores=4), workers=2)
    assert kinds(flags) == ["client-bound", "upstream-bound"]


def test_starved_users_are_flagged() -> None:
    users = {"users": 1000, "starved_users": 250, "starved_timed_out": 240, "starved_never_answered": 10}
    flags = user_flags(phase(proxy=1.0, locust=0.5, users=users))
    assert flags and flags[0].startswith("starved-users: 250 of 1000 users never got a success (240 timed out")
    assert user_flags(phase(proxy=1.0, locust=0.5, users={"users": 10, "starved_users": 0})) == []


def test_answers_after_the_client_gave_up_are_late_not_lost() -> None:
    users = {"no_answer": 30, "unfinished": 5, "users": 100, "starved_users": 3}
    upstream = {"requests": 1032, "status": {"200": 1032}, "chat": {"200": 1030}}
    result = accounting(phase(proxy=1, locust=1, requests=1030, failures=30, users=users, upstream=upstream))
    assert result["succeeded"] == 1000 and result["upstream_200"] == 1030
    assert result["late"] == 30 and result["balanced"] is True
    assert result["upstream_other"] == 2  # the proxy's own /v1/models, not a benchmark request
    lost = accounting(phase(proxy=1, locust=1, requests=1000, failures=0, users=users | {"no_answer": 0,
                      "unfinished": 0}, upstream={"requests": 1010, "chat": {"200": 1010}}))  # fmt: skip
    assert lost["balanced"] is False


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    args = argparse.Namespace(results_dir=str(tmp_path))
    first, second = new_run_dir(args, "local"), new_run_dir(args, "local")
    assert first != second and first.is_dir() and second.is_dir()


def test_worker_counts_beyond_the_cores_are_warned_or_refused() -> None:
    assert cli_bench.check_workers(2, cores=2, available_mib=8000) == []
    assert "share cores" in cli_bench.check_workers(3, cores=2, available_mib=8000)[0]
    assert "need ~1400 MiB" in cli_bench.check_workers(4, cores=8, available_mib=1000)[0]
    with pytest.raises(ValueError, match="--workers: 9 workers on 2 core"):
        cli_bench.check_workers(9, cores=2, available_mib=8000)


@pytest.fixture
def other_benchmark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A process that looks like another benchmark's Locust, registered as another run."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "locust", "-f", "x.py"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_another_running_benchmark_is_detected(other_benchmark: subprocess.Popen[bytes], tmp_path: Path) -> None:
    import psutil

    found = concurrency.other_benchmarks()
    assert {"pid": other_benchmark.pid, "kind": "locust"} in [{"pid": f["pid"], "kind": f["kind"]} for f in found]
    directory = concurrency.runtime_dir()
    directory.mkdir(parents=True)
    record = {"pid": other_benchmark.pid, "kind": "local", "workdir": "elsewhere"}
    record["create_time"] = psutil.Process(other_benchmark.pid).create_time()
    (directory / "run-1.json").write_text(json.dumps(record))
    (directory / "run-2.json").write_text(json.dumps({"pid": 999999999, "create_time": 1.0, "kind": "local"}))
    runs = concurrency.registered_runs()
    assert [r["pid"] for r in runs] == [other_benchmark.pid]
    assert not (directory / "run-2.json").exists()  # stale: its process is gone
    with concurrency.registered_run(tmp_path, "local") as mine:
        assert mine.exists()
    assert not mine.exists()


def test_exclusive_refuses_to_start_beside_another_benchmark(
    other_benchmark: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    import os

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "bench", "local", "--exclusive", "--results-dir",
         str(tmp_path / "results")],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert "another benchmark is running" in line and f"locust (pid {other_benchmark.pid})" in line
    assert "refusing" in line and time.monotonic() - started < 30
    assert list((tmp_path / "results").iterdir()) == []
