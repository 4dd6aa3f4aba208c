"""Every way of stopping `bench local` stops every process it started, and keeps what was measured.

A real `bench local` subprocess (short, few users) gets each signal during its proxy phase; psutil
then checks that none of its descendants (fake endpoint, proxy and its workers, Locust, the
watchdog) survives. SIGKILL stands for the parent dying: nothing in `bench local` runs then, the
children must die by themselves (PR_SET_PDEATHSIG and the watchdog).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import psutil
import pytest

from .benchproc import BenchProcess, survivors
from .conftest import require_modules

pytestmark = pytest.mark.e2e
require_modules("litellm", "locust")

RUN = ("local", "--users", "4", "--spawn-rate", "4", "--duration", "60", "--baseline-duration", "0")


def _listening(processes: list[psutil.Process]) -> set[tuple[str, int]]:
    found = set()
    for proc in processes:
        try:
            found |= {(c.laddr.ip, c.laddr.port) for c in proc.net_connections(kind="inet") if c.status == "LISTEN"}
        except psutil.Error:
            continue
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_everything_and_keeps_partial_results(tmp_path: Path, signum: signal.Signals) -> None:
    bench = BenchProcess(*RUN, results=tmp_path)
    try:
        bench.wait_for_line("through the proxy:", timeout=200)
        time.sleep(4)  # Locust has sent requests through the proxy
        children = bench.descendants()
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "locust" in names and "fake_endpoint" in names and "litellm" in names, names
        listening = _listening(children)
        assert listening and {ip for ip, _ in listening} == {"127.0.0.1"}, listening  # loopback only
        sent = time.monotonic()
        bench.proc.send_signal(signum)
        code = bench.proc.wait(timeout=30)
        took = time.monotonic() - sent
        assert survivors(children, within=5) == []
        assert code == 128 + signum, "\n".join(bench.stderr)
        assert took < 20, took
        time.sleep(0.5)  # the reader threads drain the pipes
        lines = [line for line in bench.stderr if "PARTIAL results in" in line]
        assert len(lines) == 1 and signal.Signals(signum).name in lines[0], bench.stderr
        (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
        assert str(run_dir) in lines[0]
        report = json.loads((run_dir / "results.json").read_text())
        assert report["partial"] == f"interrupted by {signal.Signals(signum).name} during the proxy phase"
        assert report["proxy"]["load"]["requests"] > 0  # what was measured before the signal is kept
        assert (run_dir / "proxy_locust.log").exists()
    finally:
        bench.kill_everything()


def test_the_parent_dying_takes_every_child_with_it(tmp_path: Path) -> None:
    bench = BenchProcess(*RUN, results=tmp_path)
    try:
        bench.wait_for_line("through the proxy:", timeout=200)
        time.sleep(4)
        children = bench.descendants()
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "locust" in names and "fake_endpoint" in names and "litellm" in names, names
        bench.proc.send_signal(signal.SIGKILL)
        bench.proc.wait(timeout=10)
        assert survivors(children, within=8) == []
    finally:
        bench.kill_everything()


def test_a_stop_signal_ends_a_sweep_with_its_steps_so_far(tmp_path: Path) -> None:
    """`bench sweep` takes the same signals: everything stops, the steps measured so far are kept."""
    sweep = BenchProcess("sweep", "--step-duration", "5", "--start-rps", "5", "--growth", "2", "--max-rps", "10",
                         "--p95-ms", "5000", "--repeat", "3", results=tmp_path)  # fmt: skip
    try:
        sweep.wait_for_line("sweep 1: knee", timeout=300)
        sweep.wait_for_line("sweep 2/3: offering", timeout=120)
        time.sleep(2)
        children = sweep.descendants()
        assert "open_loop" in " ".join(" ".join(p.cmdline()) for p in children)
        sweep.proc.send_signal(signal.SIGTERM)
        code = sweep.proc.wait(timeout=30)
        assert survivors(children, within=5) == []
        assert code == 128 + signal.SIGTERM, "\n".join(sweep.stderr)
        time.sleep(0.5)
        assert any("PARTIAL results in" in line for line in sweep.stderr), sweep.stderr
        (result,) = tmp_path.glob("sweep-*/sweep.json")
        data = json.loads(result.read_text())
        assert data["partial"] == "interrupted by SIGTERM"
        assert [s["offered_rps"] for s in data["runs"][0]["steps"]] == [5, 10]  # the whole first sweep is kept
        assert data["summary"]["knee_rps"] == 10
        # each sweep ran on a proxy of its own, started for it
        assert sorted(log.parent.name for log in result.parent.glob("stack*/proxy.log")) == ["stack1", "stack2"]
    finally:
        sweep.kill_everything()
