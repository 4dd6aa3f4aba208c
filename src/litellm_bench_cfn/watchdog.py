"""Stops what a run started when the run itself dies without stopping it (SIGKILL, OOM, crash).

Stdlib only, started by processes.ManagedProcess as its own session. It reads lines from its
stdin, a pipe whose write end only the run holds: "+PGID" registers a process group the run
started, "-PGID" forgets one. The kernel closes the pipe however the run ends, so end-of-file
is the signal: every group still registered gets SIGTERM, then SIGKILL after GRACE_S.
"""

import contextlib
import os
import signal
import sys
import time

GRACE_S = 3.0


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def main() -> int:
    # The run's terminal may send SIGINT/SIGHUP to everyone: the watchdog outlives them on purpose.
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin:
        line = line.strip()
        if line[:1] in "+-" and line[1:].isdigit():
            (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
    for pgid in groups:
        _signal(pgid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and any(_alive(g) for g in groups):
        time.sleep(0.1)
    for pgid in groups:
        _signal(pgid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
