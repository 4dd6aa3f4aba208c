"""Child processes that always stop: own session, log file, bounded waits, stop by PID.

However the parent ends, its children end too:
- a normal exit, an exception, SIGINT/SIGTERM/SIGHUP (see `handle_stop_signals`): `stop()` by PID;
- the parent killed outright (SIGKILL, OOM): each direct child has PR_SET_PDEATHSIG (Linux), and
  a watchdog process (watchdog.py) kills every registered process group, workers included,
  when the parent's end of its pipe closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FAST_STOP_GRACE_S = 3.0
"""Seconds a child gets to stop once the run was interrupted (then SIGKILL)."""
PR_SET_PDEATHSIG = 1


class ProcessFailed(RuntimeError):
    pass


class Interrupted(BaseException):
    """The run got a stop signal; a BaseException so no `except Exception` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.partial: object | None = None
        """What the interrupted step measured so far, when it could tell (e.g. a PhaseResult)."""

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_stop_requested: int | None = None


def stop_requested() -> int | None:
    """The first stop signal received, if any (children then get FAST_STOP_GRACE_S to stop)."""
    return _stop_requested


def handle_stop_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP raise Interrupted once, where the run is; later ones are noted
    and ignored so the clean-up they interrupted (stopping the children) runs to its end."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        global _stop_requested
        if _stop_requested is not None:
            return
        _stop_requested = signum
        raise Interrupted(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    return preexec


class _Watchdog:
    """One per parent process: the watchdog child and the write end of its pipe."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.owner_pid = 0

    def _ensure(self) -> subprocess.Popen[str] | None:
        if self.proc is not None and self.owner_pid == os.getpid() and self.proc.poll() is None:
            return self.proc
        source = Path(__file__).with_name("watchdog.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(source)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.owner_pid = os.getpid()
        return self.proc

    def send(self, line: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            proc = self._ensure()
            if proc is not None and proc.stdin is not None:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()

    def watch(self, pgid: int) -> None:
        self.send(f"+{pgid}")

    def forget(self, pgid: int) -> None:
        if self.proc is not None and self.owner_pid == os.getpid():
            self.send(f"-{pgid}")


WATCHDOG = _Watchdog()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    """A child in its own session so the whole tree (e.g. gunicorn workers) stops together."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_offset = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.log_offset = log.tell()
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        WATCHDOG.watch(self.proc.pid)
        return self

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_since_start(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def wait_http(self, url: str, timeout: float, expect_status: int = 200) -> float:
        """Poll `url` until it answers `expect_status`; fail fast if the process dies. Returns seconds."""
        started = time.monotonic()
        deadline = started + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            code = self.poll()
            if code is not None:
                raise ProcessFailed(f"{self.name} exited with status {code} before {url} answered:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == expect_status:
                        return time.monotonic() - started
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code == expect_status:
                    return time.monotonic() - started
            except (OSError, ValueError) as exc:
                last = str(exc)
            time.sleep(0.25)
        raise ProcessFailed(
            f"{self.name}: {url} did not answer {expect_status} within {timeout:.0f}s ({last}):\n{self.log_tail()}"
        )

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after `grace` seconds; returns the exit status."""
        if self.proc is None:
            return None
        if stop_requested() is not None:
            grace = min(grace, FAST_STOP_GRACE_S)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # Workers that outlived their parent are still in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        WATCHDOG.forget(self.proc.pid)
        return self.proc.returncode

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its live children (psutil), 0.0 once gone."""
    import psutil

    try:
        process = psutil.Process(pid)
        procs = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total
