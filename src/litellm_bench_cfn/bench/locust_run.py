"""Run the product's locustfile headless as a bounded subprocess and read its results back."""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import resource
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..names import MASTER_KEY_ENV
from ..processes import Interrupted, ManagedProcess
from ..shipped import LOCUSTFILE
from .progress import phase_progress

STOP_TIMEOUT_S = 30
"""Users finish their request in flight when the run time ends, so every request sent is counted."""


_WAIT_TIME = re.compile(r"^\s*wait_time\s*=\s*between\(\s*([0-9.]+)\s*,\s*([0-9.]+)\s*\)", re.MULTILINE)


@functools.cache
def locustfile_wait_s(path: Path = LOCUSTFILE) -> tuple[float, float]:
    """(a, b) of the locustfile's `wait_time = between(a, b)`: what each user waits between requests."""
    found = _WAIT_TIME.search(path.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{path}: no `wait_time = between(a, b)` line; the offered load cannot be computed")
    return float(found.group(1)), float(found.group(2))


@dataclass(frozen=True)
class LoadShape:
    users: int
    spawn_rate: float
    duration_s: int
    wait_min_s: float = field(default_factory=lambda: locustfile_wait_s()[0])
    wait_max_s: float = field(default_factory=lambda: locustfile_wait_s()[1])

    @property
    def mean_wait_s(self) -> float:
        """Mean of Locust's between(a, b), a uniform draw: (a + b) / 2."""
        return (self.wait_min_s + self.wait_max_s) / 2


@dataclass
class HistoryPoint:
    t: float
    users: int
    rps: float
    failures_per_s: float
    p50: float | None
    p95: float | None
    p99: float | None
    requests: int = 0
    """Totals so far (Locust's "Total Request Count" / "Total Failure Count")."""
    failures: int = 0


@dataclass
class LoadResult:
    target: str
    shape: LoadShape
    requests: int
    failures: int
    rps: float
    latency_ms: dict[str, float | None]
    overhead_header_ms: dict[str, Any] | None
    locust_cpu_s: float
    wall_s: float
    exit_code: int
    failure_samples: list[str] = field(default_factory=list)
    history: list[HistoryPoint] = field(default_factory=list)
    locust_html: str | None = None
    """Locust's own HTML report of this run (`--html`), when it wrote one."""
    users: dict[str, Any] | None = None
    """The locustfile's per-user summary (LOCUST_USERS_JSON): starved users, no-answer count..."""
    ttft_ms: dict[str, Any] | None = None
    """Time to first token of streamed requests (high-throughput load only): its own metric, not requests."""


def locustfile_path(locustfile: Path = LOCUSTFILE) -> Path:
    if not locustfile.is_file():
        raise FileNotFoundError(f"the locustfile is missing: {locustfile}")
    return locustfile


def _num(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def percentile(response_times: Mapping[int, int], count: int, fraction: float) -> int:
    """Locust's own percentile over its bucketed response times (locust.stats, same algorithm)."""
    wanted = int(count * fraction)
    processed = 0
    for response_time in sorted(response_times, reverse=True):
        processed += response_times[response_time]
        if count - processed <= wanted:
            return response_time
    return 0


def aggregate_stats(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of Locust's --json-file (written at shutdown, after users finished: complete,
    unlike the CSV which is flushed once a second and misses the last requests)."""
    times: dict[int, int] = {}
    for entry in entries:
        for bucket, hits in entry["response_times"].items():
            times[int(bucket)] = times.get(int(bucket), 0) + int(hits)
    requests = sum(int(e["num_requests"]) for e in entries)
    timed = requests - sum(int(e.get("num_none_requests") or 0) for e in entries)
    starts = [float(e["start_time"]) for e in entries]
    ends = [float(e["last_request_timestamp"]) for e in entries if e.get("last_request_timestamp")]
    span = (max(ends) - min(starts)) if starts and ends else 0.0
    return {
        "requests": requests,
        "failures": sum(int(e["num_failures"]) for e in entries),
        "rps": requests / span if span > 0 else 0.0,
        "latency_ms": {
            "p50": float(percentile(times, timed, 0.50)) if timed else None,
            "p95": float(percentile(times, timed, 0.95)) if timed else None,
            "p99": float(percentile(times, timed, 0.99)) if timed else None,
            "avg": sum(int(e["total_response_time"]) for e in entries) / timed if timed else None,
            "max": float(max((int(e["max_response_time"]) for e in entries), default=0)),
        },
    }


def read_history(history_csv: Path) -> list[HistoryPoint]:
    if not history_csv.exists():
        return []
    points: list[HistoryPoint] = []
    start: float | None = None
    with history_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("Name") != "Aggregated":
                continue
            stamp = float(row["Timestamp"])
            start = stamp if start is None else start
            points.append(
                HistoryPoint(
                    t=stamp - start,
                    users=int(float(row.get("User Count") or 0)),
                    rps=_num(row.get("Requests/s", "")) or 0.0,
                    failures_per_s=_num(row.get("Failures/s", "")) or 0.0,
                    p50=_num(row.get("50%", "")),
                    p95=_num(row.get("95%", "")),
                    p99=_num(row.get("99%", "")),
                    requests=int(_num(row.get("Total Request Count", "")) or 0),
                    failures=int(_num(row.get("Total Failure Count", "")) or 0),
                )
            )
    return points


def run_locust(
    host: str,
    shape: LoadShape,
    workdir: Path,
    *,
    name: str,
    master_key: str,
    progress: Callable[[str], None] | None = None,
    extra_env: Mapping[str, str] | None = None,
    locustfile: Path = LOCUSTFILE,
) -> LoadResult:
    """Headless Locust against `host` for `shape`; stops by itself (run time + stop timeout)."""
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = workdir / name
    overhead_json = workdir / f"{name}_overhead.json"
    stats_json = workdir / f"{name}_stats.json"  # Locust appends ".json" to --json-file
    errors_file = workdir / f"{name}_errors.txt"
    locust_html = workdir / f"{name}_locust.html"
    users_json = workdir / f"{name}_users.json"
    ttft_json = workdir / f"{name}_ttft.json"
    for stale in (overhead_json, errors_file, stats_json, locust_html, users_json, ttft_json):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        MASTER_KEY_ENV: master_key,
        "LITELLM_OVERHEAD_JSON": str(overhead_json),
        "LOCUST_ERROR_FILE": str(errors_file),
        "LOCUST_USERS_JSON": str(users_json),
        "LITELLM_TTFT_JSON": str(ttft_json),
        **(extra_env or {}),
    }
    argv = [
        sys.executable, "-m", "locust", "-f", str(locustfile_path(locustfile)), "--headless",
        "-u", str(shape.users), "-r", str(shape.spawn_rate), "-t", f"{shape.duration_s}s",
        "-H", host, "--csv", str(prefix), "--csv-full-history", "--only-summary",
        "--json-file", str(stats_json.with_suffix("")), "--html", str(locust_html),
        "--stop-timeout", str(STOP_TIMEOUT_S), "--loglevel", "WARNING",
    ]  # fmt: skip
    locust = ManagedProcess(f"locust ({name})", argv, env=env, log_path=workdir / f"{name}_locust.log")
    started = time.monotonic()
    deadline = started + shape.duration_s + STOP_TIMEOUT_S + 60
    # Locust is our direct child: once reaped, its CPU (and its own reaped children's) shows up
    # in RUSAGE_CHILDREN, exactly, with no sampling.
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust.start()
    history_csv = Path(f"{prefix}_stats_history.csv")
    interrupted: Interrupted | None = None
    try:
        with phase_progress(progress, name, shape.duration_s) as display:
            while locust.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"locust ({name}) did not stop within {deadline - started:.0f}s")
                time.sleep(0.5)
                history = read_history(history_csv)
                display.update(history[-1] if history else None)
    except Interrupted as exc:
        interrupted = exc
    finally:
        # SIGTERM: Locust stops its users and still writes its JSON stats (read below if partial).
        exit_code = locust.stop()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    wall = time.monotonic() - started
    if not stats_json.exists():
        if interrupted is not None:
            raise interrupted
        raise RuntimeError(f"locust ({name}) wrote no stats (exit {exit_code}):\n{locust.log_tail()}")
    try:
        result = result_from_files(
            target=host,
            shape=shape,
            stats_json=stats_json,
            overhead_json=overhead_json,
            errors_file=errors_file,
            history_csv=Path(f"{prefix}_stats_history.csv"),
            locust_cpu_s=locust_cpu,
            wall_s=wall,
            exit_code=exit_code if exit_code is not None else -1,
            users_json=users_json,
            locust_html=locust_html,
            ttft_json=ttft_json,
        )
    except (OSError, ValueError, KeyError):
        if interrupted is not None:  # files cut short by the stop: the phase has no result
            raise interrupted from None
        raise
    if interrupted is not None:
        interrupted.partial = result
        raise interrupted
    return result


def result_from_files(
    *,
    target: str,
    shape: LoadShape,
    stats_json: Path,
    overhead_json: Path,
    errors_file: Path,
    history_csv: Path,
    locust_cpu_s: float,
    wall_s: float,
    exit_code: int,
    locust_html: Path | None = None,
    users_json: Path | None = None,
    ttft_json: Path | None = None,
) -> LoadResult:
    """A LoadResult from what one Locust run wrote (locally, or pulled back from an in-VPC master)."""
    totals = aggregate_stats(json.loads(stats_json.read_text()))
    return LoadResult(
        target=target,
        shape=shape,
        requests=totals["requests"],
        failures=totals["failures"],
        rps=totals["rps"],
        latency_ms=totals["latency_ms"],
        overhead_header_ms=json.loads(overhead_json.read_text()) if overhead_json.exists() else None,
        locust_cpu_s=locust_cpu_s,
        wall_s=wall_s,
        exit_code=exit_code,
        failure_samples=errors_file.read_text(errors="replace").splitlines()[:5] if errors_file.exists() else [],
        history=read_history(history_csv),
        locust_html=str(locust_html) if locust_html is not None and locust_html.exists() else None,
        users=json.loads(users_json.read_text()) if users_json is not None and users_json.exists() else None,
        ttft_ms=json.loads(ttft_json.read_text()) if ttft_json is not None and ttft_json.exists() else None,
    )
