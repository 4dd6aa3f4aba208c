"""What a bench run prints while Locust runs: a live panel on a terminal, plain periodic lines elsewhere.

On a TTY (`rich`'s live display) the panel shows the phase, users, RPS, p50/p95, failures and the
time left, redrawn twice a second; when the phase ends it leaves one summary line behind. Without
a TTY (CI, a log file, a pipe) it prints the same line every 5 s that `bench local` always printed,
so logs stay greppable and free of escape codes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from .locust_run import HistoryPoint

PLAIN_INTERVAL_S = 5.0
LIVE_REFRESH_PER_S = 2


class PhaseProgress(Protocol):
    """Told every poll (twice a second) what Locust last wrote; decides itself what to show."""

    def update(self, point: HistoryPoint | None) -> None: ...


def plain_line(name: str, point: HistoryPoint, duration_s: int) -> str:
    return (
        f"  {name}: {point.t:4.0f}s/{duration_s}s  users {point.users:5d}  "
        f"{point.rps:7.1f} req/s  p50 {point.p50 or 0:.0f} ms  p95 {point.p95 or 0:.0f} ms  "
        f"failures/s {point.failures_per_s:.1f}"
    )


class PlainProgress(AbstractContextManager["PlainProgress"]):
    """Today's periodic line, at most every 5 s, through any `say` callable."""

    def __init__(self, say: Callable[[str], None], name: str, duration_s: int, clock: Callable[[], float]) -> None:
        self.say, self.name, self.duration_s, self.clock = say, name, duration_s, clock
        self.last = clock()

    def update(self, point: HistoryPoint | None) -> None:
        if point is None or self.clock() - self.last < PLAIN_INTERVAL_S:
            return
        self.last = self.clock()
        self.say(plain_line(self.name, point, self.duration_s))

    def __exit__(self, *exc: object) -> None:
        return None


class LiveProgress(AbstractContextManager["LiveProgress"]):
    """A `rich` live panel for one Locust phase (terminal only)."""

    def __init__(self, console: Any, name: str, duration_s: int, clock: Callable[[], float]) -> None:
        from rich.live import Live

        self.console, self.name, self.duration_s, self.clock = console, name, duration_s, clock
        self.started = clock()
        self.point: HistoryPoint | None = None
        self.live = Live(self._render(), console=console, refresh_per_second=LIVE_REFRESH_PER_S, transient=True)

    def _render(self) -> Any:
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        elapsed = self.clock() - self.started
        left = self.duration_s - elapsed
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        state = f"{max(left, 0):.0f} s left" if left > 0 else "stopping: users finish their request in flight"
        bar = ProgressBar(total=self.duration_s, completed=min(elapsed, self.duration_s), width=40)
        grid.add_row(f"{self.name}", bar)
        grid.add_row("time", f"{min(elapsed, self.duration_s):.0f} s of {self.duration_s} s ({state})")
        point = self.point
        if point is None:
            grid.add_row("Locust", "starting (no statistics yet)")
        else:
            grid.add_row("users", f"{point.users}")
            grid.add_row("RPS", f"{point.rps:.1f} req/s")
            grid.add_row("latency", f"p50 {point.p50 or 0:.0f} ms   p95 {point.p95 or 0:.0f} ms")
            failures = f"{point.failures_per_s:.1f}/s"
            if point.failures:
                failures += f"  ({point.failures} of {point.requests} so far)"
            grid.add_row("failures", f"[red]{failures}[/red]" if point.failures_per_s else failures)
        return grid

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def update(self, point: HistoryPoint | None) -> None:
        if point is not None:
            self.point = point
        self.live.update(self._render())

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.live.stop()
        if self.point is not None:  # one line stays in the scroll-back, as in the plain mode
            self.console.print(plain_line(self.name, self.point, self.duration_s), highlight=False)


class BenchConsole:
    """The `say` callable bench commands print through; also knows whether a live panel fits.

    `live=None` decides by the stream: a TTY gets the panel, anything else the plain lines."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._rich: Any = None
        if self.live:
            from rich.console import Console

            self._rich = Console(file=self.stream, highlight=False, soft_wrap=True)

    def __call__(self, message: str) -> None:
        if self._rich is not None:
            self._rich.print(message, markup=False)
        else:
            print(message, file=self.stream, flush=True)

    def phase(self, name: str, duration_s: int, clock: Callable[[], float] = time.monotonic) -> PhaseProgress:
        if self._rich is not None:
            return LiveProgress(self._rich, name, duration_s, clock)
        return PlainProgress(self, name, duration_s, clock)


def phase_progress(
    say: Callable[[str], None] | None, name: str, duration_s: int, clock: Callable[[], float] = time.monotonic
) -> AbstractContextManager[PhaseProgress]:
    """The display for one Locust phase: live when `say` is a BenchConsole on a TTY, else plain lines."""
    if isinstance(say, BenchConsole):
        display = say.phase(name, duration_s, clock)
    else:
        display = PlainProgress(say or (lambda _message: None), name, duration_s, clock)
    assert isinstance(display, AbstractContextManager)
    return display
