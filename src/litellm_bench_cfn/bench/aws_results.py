"""Results of an in-VPC run (`bench aws`): read back from the Locust master's log, as JSON/table/HTML.

The master prints its result files between RESULTS_MARKER lines (harness_scripts.py). This module
turns those lines back into the files, then into the same `LoadResult` `bench local` produces (same
CSV parsing, same overhead JSON), and reports it with bench/report_html.py's charts.
"""

from __future__ import annotations

import base64
import io
import json
import re
import tarfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..harness.scripts import RESULTS_MARKER
from .locust_run import LoadResult, LoadShape, result_from_files
from .offered import COMPARABLE, OfferedLoad, offered_load, published_offered_load
from .published import FOUR_INSTANCES, HIGH_THROUGHPUT, PUBLISHED_RPS_PER_WORKER
from .report import _ms

RESULT_FILES = (
    "run_stats.json",
    "run_stats.csv",
    "run_stats_history.csv",
    "run_failures.csv",
    "overhead.json",
    "errors.txt",
    "run_report.html",
    "ttft.json",
)
_BEGIN = re.compile(rf"{RESULTS_MARKER} BEGIN exit=(-?\d+) parts=(\d+)")
_PART = re.compile(rf"{RESULTS_MARKER} (\d+) ([A-Za-z0-9+/=]+)")


class ResultsMissing(ValueError):
    """The log holds no complete results block (the master did not finish, or logs were cut)."""


@dataclass(frozen=True)
class MasterResults:
    exit_code: int
    archive: bytes


def extract_results(lines: Iterable[str]) -> MasterResults:
    """The master's results block from its log lines, in any order, other lines ignored."""
    exit_code: int | None = None
    expected = 0
    parts: dict[int, str] = {}
    ended = False
    for line in lines:
        if (begin := _BEGIN.search(line)) is not None:
            exit_code, expected, parts, ended = int(begin.group(1)), int(begin.group(2)), {}, False
        elif (part := _PART.search(line)) is not None:
            parts[int(part.group(1))] = part.group(2)
        elif f"{RESULTS_MARKER} END" in line:
            ended = True
    if exit_code is None:
        raise ResultsMissing(f"no '{RESULTS_MARKER} BEGIN' line: the Locust master printed no results")
    missing = sorted(set(range(expected)) - set(parts))
    if missing or not ended:
        raise ResultsMissing(f"incomplete results block: {len(parts)} of {expected} parts, end marker {ended}")
    archive = base64.b64decode("".join(parts[i] for i in range(expected)))
    return MasterResults(exit_code=exit_code, archive=archive)


def unpack(results: MasterResults, directory: Path) -> list[Path]:
    """Write the archived result files (plain names only) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tarfile.open(fileobj=io.BytesIO(results.archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name
            if not member.isfile() or "/" in name or "\\" in name or name.startswith("."):
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            target = directory / name
            target.write_bytes(handle.read())
            written.append(target)
    return sorted(written)


def load_result(directory: Path, target: str, shape: LoadShape, exit_code: int, wall_s: float) -> LoadResult:
    """The same LoadResult `bench local` builds, from the unpacked files (Locust's CPU is not known)."""
    stats = directory / "run_stats.json"  # complete at shutdown, unlike the CSV (flushed once a second)
    if not stats.exists():
        raise ResultsMissing(f"the results hold no {stats.name}: Locust wrote no statistics (exit {exit_code})")
    return result_from_files(
        target=target,
        shape=shape,
        stats_json=stats,
        overhead_json=directory / "overhead.json",
        errors_file=directory / "errors.txt",
        history_csv=directory / "run_stats_history.csv",
        locust_cpu_s=0.0,
        wall_s=wall_s,
        exit_code=exit_code,
        locust_html=directory / "run_report.html",
        ttft_json=directory / "ttft.json",
    )


@dataclass
class AwsBenchReport:
    """One in-VPC run: where, what shape, with how many workers, and what Locust measured."""

    stack_name: str
    harness_stack_name: str
    region: str
    workers: int
    master_task_arn: str
    load: LoadResult
    published: dict[str, Any] = field(
        default_factory=lambda: {**asdict(FOUR_INSTANCES), "rps_per_worker": round(PUBLISHED_RPS_PER_WORKER, 1)}
    )
    fleet_before: dict[str, Any] | None = None
    """The proxy service's counts when the run started (aws/fleet.py FleetCounts)."""
    fleet_after: dict[str, Any] | None = None
    upstream_latency_ms: float | None = None
    """The harness's UpstreamLatencyMs: the fake endpoint's answer delay (None: a harness without it)."""

    def offered(self) -> OfferedLoad:
        if self.upstream_latency_ms is None:
            return offered_load(self.load, 0.0, "fake endpoint's delay (unknown: taken as 0)")
        return offered_load(self.load, self.upstream_latency_ms, "fake endpoint's delay")

    def to_json(self) -> str:
        data = {**asdict(self), "offered_load": self.offered().summary()}
        return json.dumps(data, indent=2, sort_keys=True, default=str)


def _fleet(counts: dict[str, Any] | None, healthy: bool) -> str:
    if counts is None:
        return "-"
    return f"{counts['healthy' if healthy else 'running']}/{counts['desired']}"


def fleet_changed(report: AwsBenchReport) -> bool:
    keys = ("desired", "running", "healthy")
    before, after = report.fleet_before, report.fleet_after
    return before is not None and after is not None and any(before[k] != after[k] for k in keys)


def table(report: AwsBenchReport) -> str:
    load, pub = report.load, report.published
    overhead = load.overhead_header_ms or {}
    offered, guide = report.offered(), published_offered_load(FOUR_INSTANCES)
    rows: list[tuple[str, str, str]] = [("metric", "in-VPC run", "published")]
    before, after = report.fleet_before, report.fleet_after
    rows.append(
        ("proxy tasks running (before / after)", f"{_fleet(before, False)} / {_fleet(after, False)}",
         f"{pub['instances']} instances")
    )  # fmt: skip
    rows.append(("healthy targets (before / after)", f"{_fleet(before, True)} / {_fleet(after, True)}", "-"))
    rows.append(("requests (failures)", f"{load.requests} ({load.failures})", "312,405 in 5 min"))
    share = load.failures / load.requests if load.requests else 0.0
    rows.append(("failures (share)", f"{load.failures} ({share:.2%})", "not published"))
    rows.append(
        ("RPS (closed loop: see offered load)", f"{load.rps:.1f}", f"{pub['rps']:g} (16 workers, client-bound)")
    )
    ceiling = offered.ceiling_rps
    rows.append(
        ("offered-load ceiling (req/s)", "-" if ceiling is None else f"{ceiling:.0f}", f"{guide.ceiling_rps:.0f}")
    )
    rows.append(
        ("RPS / ceiling without the proxy", f"{offered.share_of_baseline:.0%}", f"{guide.share_of_baseline:.0%}")
    )
    for key, label in (("p50", "median"), ("p95", "p95"), ("p99", "p99"), ("avg", "average")):
        rows.append((f"latency {label} (ms)", _ms(load.latency_ms.get(key)), _ms(pub.get(f"{key}_ms"))))
    for key in ("p50", "p95", "p99"):
        value = overhead.get(key)
        rows.append(
            (f"LiteLLM overhead header {key} (ms)", _ms(None if value is None else float(value)),
             _ms(pub.get(f"overhead_{key}_ms")))
        )  # fmt: skip
    if report.upstream_latency_ms is not None:
        for key in ("p50", "p99"):
            value = load.latency_ms.get(key)
            above = None if value is None else value - report.upstream_latency_ms
            rows.append((f"latency above the upstream delay {key} (ms; proxy + ALB)", _ms(above), "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    shape = load.shape
    header = (
        f"LiteLLM benchmark inside AWS ({report.stack_name} in {report.region}, {report.workers} Locust worker(s), "
        f"{shape.users} users, spawn {shape.spawn_rate:g}/s, {shape.duration_s}s, target {load.target})"
    )
    upstream = "unknown" if report.upstream_latency_ms is None else f"{report.upstream_latency_ms:g} ms"
    out = [header, f"fake endpoint delay (UpstreamLatencyMs): {upstream}", "", *lines, ""]
    out.extend(offered.lines())
    out.append(f"compares with the published: {COMPARABLE}; not RPS (published: {guide.short()})")
    if fleet_changed(report):
        out.append(
            f"flag: the proxy fleet changed during the run ({_fleet(before, False)} -> {_fleet(after, False)} "
            f"running, {_fleet(before, True)} -> {_fleet(after, True)} healthy): the result is not one fleet's"
        )
    if load.ttft_ms:  # the high-throughput load: TTFT of streamed requests, its own metric
        ttft, published = load.ttft_ms, HIGH_THROUGHPUT
        out.append(
            f"TTFT of streamed requests (own metric, not counted as requests): {ttft.get('count')} samples, "
            f"p50 {_ms(ttft.get('p50'))} / p95 {_ms(ttft.get('p95'))} / p99 {_ms(ttft.get('p99'))} ms; "
            f"high-throughput test published: TTFT p50 {published.ttft_p50_ms:g} ms at {published.rps:g} RPS "
            f"(its p50/p95/p99 {published.gateway_p50_ms:g}/{published.gateway_p95_ms:g}/"
            f"{published.gateway_p99_ms:g} ms are server-side, from Prometheus: compare with /metrics, not above)"
        )
    if load.exit_code != 0:
        out.append(
            f"flag: the Locust master exited with status {load.exit_code} (failures or no requests; see its log)"
        )
    out.extend(f"failure sample: {line[:200]}" for line in load.failure_samples)
    return "\n".join(out)


def html_report(report: AwsBenchReport, base: Path | None = None) -> str:
    from .report_html import aws_report

    return aws_report(report, base or Path.cwd(), table(report))


def write_outputs(report: AwsBenchReport, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "results.json", directory / "report.html"
    json_path.write_text(report.to_json())
    html_path.write_text(html_report(report, directory))
    return json_path, html_path
