"""A real `bench local` / `bench up` subprocess: run to its end (`run_bench_local`), or watched line by line
with its descendants for the signal tests (`BenchProcess`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from .conftest import REPO_ROOT


def run_bench_local(results: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`bench local ARGS --results-dir RESULTS` to its end (at most 300 s): the process and its results.json
    (the newest run folder's; {} when it wrote none)."""
    result = subprocess.run(
        [sys.executable, "-m", "litellm_bench_cfn.cli", "bench", "local", "--results-dir", str(results), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    found = sorted(results.glob("local-*/results.json"))
    return result, json.loads(found[-1].read_text()) if found else {}


class BenchProcess:
    def __init__(self, *args: str, results: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "litellm_bench_cfn.cli", "bench", *args, "--results-dir", str(results)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a signal sent to it reaches it alone, as `kill PID` does
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.seen: dict[int, psutil.Process] = {}
        for stream, sink in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _pump(stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink.append(line.rstrip("\n"))

    def wait_for_line(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stdout):
                if text in line:
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no line with {text!r}:\n" + "\n".join(self.stdout + self.stderr)[-3000:])

    def descendants(self) -> list[psutil.Process]:
        try:
            found = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            return []
        self.seen.update({p.pid: p for p in found})
        return found

    def kill_everything(self) -> None:
        """Test clean-up only: whatever the code under test left behind, by the pids we saw."""
        self.descendants()
        for child in self.seen.values():  # psutil checks each is still the process we saw (pid reuse)
            with contextlib.suppress(psutil.Error):
                if child.is_running():
                    child.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


def survivors(processes: list[psutil.Process], within: float) -> list[str]:
    """The processes still running after `within` seconds (zombies count as gone)."""
    deadline = time.monotonic() + within
    alive = processes
    while time.monotonic() < deadline:
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.2)
    out = []
    for p in alive:
        with contextlib.suppress(psutil.Error):
            out.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
    return out
