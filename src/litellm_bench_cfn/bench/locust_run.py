"""Run the product's locustfile headless as a bounded subprocess and read its results back."""

from __future__ import annotations

import csv
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..processes import ManagedProcess

STOP_TIMEOUT_S = 30
"""Users finish their request in flight when the run time ends, so every request sent is counted."""
LOCUSTFILE = Path(__file__).resolve().parents[3] / "loadtest" / "locustfile.py"


@dataclass(frozen=True)
class LoadShape:
    users: int
    spawn_rate: float
    duration_s: int


@dataclass
class HistoryPoint:
    t: float
    users: int
    rps: float
    failures_per_s: float
    p50: float | None
    p95: float | None
    p99: float | None


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


def locustfile_path() -> Path:
    if not LOCUSTFILE.is_file():
        raise FileNotFoundError(f"the locustfile is missing: {LOCUSTFILE}")
    return LOCUSTFILE


def _num(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _aggregated_row(stats_csv: Path) -> dict[str, str]:
    with stats_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("Name") == "Aggregated":
                return row
    raise ValueError(f"{stats_csv} has no Aggregated row")


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
) -> LoadResult:
    """Headless Locust against `host` for `shape`; stops by itself (run time + stop timeout)."""
    workdir.mkdir(parents=True, exist_ok=True)
    prefix = workdir / name
    overhead_json = workdir / f"{name}_overhead.json"
    errors_file = workdir / f"{name}_errors.txt"
    for stale in (overhead_json, errors_file):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": master_key,
        "LITELLM_OVERHEAD_JSON": str(overhead_json),
        "LOCUST_ERROR_FILE": str(errors_file),
        **(extra_env or {}),
    }
    argv = [
        sys.executable, "-m", "locust", "-f", str(locustfile_path()), "--headless",
        "-u", str(shape.users), "-r", str(shape.spawn_rate), "-t", f"{shape.duration_s}s",
        "-H", host, "--csv", str(prefix), "--csv-full-history", "--only-summary",
        "--stop-timeout", str(STOP_TIMEOUT_S), "--loglevel", "WARNING",
    ]  # fmt: skip
    locust = ManagedProcess(f"locust ({name})", argv, env=env, log_path=workdir / f"{name}_locust.log")
    started = time.monotonic()
    deadline = started + shape.duration_s + STOP_TIMEOUT_S + 60
    # Locust is our direct child: once reaped, its CPU (and its own reaped children's) shows up
    # in RUSAGE_CHILDREN, exactly, with no sampling.
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust.start()
    last_report = started
    try:
        while locust.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"locust ({name}) did not stop within {deadline - started:.0f}s")
            time.sleep(0.5)
            if progress and time.monotonic() - last_report >= 5:
                last_report = time.monotonic()
                history = read_history(Path(f"{prefix}_stats_history.csv"))
                if history:
                    point = history[-1]
                    progress(
                        f"  {name}: {point.t:4.0f}s/{shape.duration_s}s  users {point.users:5d}  "
                        f"{point.rps:7.1f} req/s  p50 {point.p50 or 0:.0f} ms  p95 {point.p95 or 0:.0f} ms  "
                        f"failures/s {point.failures_per_s:.1f}"
                    )
    finally:
        exit_code = locust.stop()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    wall = time.monotonic() - started
    stats_csv = Path(f"{prefix}_stats.csv")
    if not stats_csv.exists():
        raise RuntimeError(f"locust ({name}) wrote no stats (exit {exit_code}):\n{locust.log_tail()}")
    row = _aggregated_row(stats_csv)
    overhead = json.loads(overhead_json.read_text()) if overhead_json.exists() else None
    samples = errors_file.read_text(errors="replace").splitlines()[:5] if errors_file.exists() else []
    return LoadResult(
        target=host,
        shape=shape,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=float(row["Requests/s"]),
        latency_ms={
            "p50": _num(row["50%"]),
            "p95": _num(row["95%"]),
            "p99": _num(row["99%"]),
            "avg": _num(row["Average Response Time"]),
            "max": _num(row["Max Response Time"]),
        },
        overhead_header_ms=overhead,
        locust_cpu_s=locust_cpu,
        wall_s=wall,
        exit_code=exit_code if exit_code is not None else -1,
        failure_samples=samples,
        history=read_history(Path(f"{prefix}_stats_history.csv")),
    )
