"""The live progress of a Locust phase: a rich panel on a terminal, today's plain lines elsewhere.

Both paths run in a child process the way `bench local` runs: its stdout is a real pseudo-terminal
(stdlib `pty`) for the live path and a pipe for the plain one. The child drives the same
`phase_progress` run_locust uses, with Locust's history points played from a list and a fake clock
(1 s per poll), so no Locust runs here; tests/test_bench_local.py covers the real run."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from .conftest import REPO_ROOT

CHILD = """
import time
from litellm_bench_cfn.bench.locust_run import HistoryPoint
from litellm_bench_cfn.bench.progress import BenchConsole, phase_progress

now = [0.0]
say = BenchConsole()
say("through the proxy: 10 users")
with phase_progress(say, "proxy", 12, clock=lambda: now[0]) as display:
    for t in range(12):
        now[0] = float(t + 1)
        display.update(HistoryPoint(t=float(t), users=10, rps=12.5, failures_per_s=0.0, p50=100.0, p95=200.0,
                                    p99=300.0, requests=12 * t, failures=0))
        if say.live:
            time.sleep(0.3)  # let the panel redraw (2 per second)
say("all processes stopped")
"""
PLAIN_LINES = [
    "through the proxy: 10 users",
    "  proxy:    4s/12s  users    10     12.5 req/s  p50 100 ms  p95 200 ms  failures/s 0.0",
    "  proxy:    9s/12s  users    10     12.5 req/s  p50 100 ms  p95 200 ms  failures/s 0.0",
    "all processes stopped",
]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "TERM": "xterm-256color", "COLUMNS": "100"}


def test_without_a_tty_it_prints_the_plain_line_every_5_seconds() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=child_env(), timeout=60, check=True
    )
    assert result.stdout.splitlines() == PLAIN_LINES
    assert "\x1b" not in result.stdout


def read_pty(fd: int, child: subprocess.Popen[bytes], timeout_s: float = 60) -> str:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif child.poll() is not None:
            break
    return b"".join(chunks).decode(errors="replace")


def test_on_a_tty_it_draws_a_live_panel_and_leaves_one_summary_line() -> None:
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=terminal, stderr=terminal, stdin=subprocess.DEVNULL, env=child_env()
    )
    os.close(terminal)
    try:
        screen = read_pty(controller, child)
        assert child.wait(timeout=30) == 0, screen
    finally:
        os.close(controller)
    assert "\x1b[" in screen  # cursor movement: the panel is redrawn in place
    for text in ("users", "12.5 req/s", "p50 100 ms   p95 200 ms", "s left", "0.0/s"):
        assert text in screen, (text, screen[-2000:])
    # the panel is transient; what stays in the scroll-back is one line per phase, as without a TTY
    assert screen.count("  proxy:   11s/12s  users    10     12.5 req/s") == 1
    assert "through the proxy: 10 users" in screen and "all processes stopped" in screen
