"""`bench compare`: two or more proxy variants, interleaved rounds on the same machine and load."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..processes import ProcessFailed
from .litellm_versions import ensure_litellm
from .runner import BenchOptions, BenchReport, run_bench
from .variants import variant_named


@dataclass
class VariantSummary:
    name: str
    rounds: list[dict[str, Any]]

    def median(self, key: str) -> float | None:
        values = [r[key] for r in self.rounds if r.get(key) is not None]
        return statistics.median(values) if values else None


def _round_row(report: BenchReport) -> dict[str, Any]:
    load = report.proxy.load
    overhead = load.overhead_header_ms or {}
    workers = report.options["workers"]
    cpu = report.proxy.cpu_s.get("proxy", 0.0)
    return {
        "rps": load.rps,
        "rps_per_worker": load.rps / max(workers, 1),
        "requests": load.requests,
        "failures": load.failures,
        "p50_ms": load.latency_ms.get("p50"),
        "p99_ms": load.latency_ms.get("p99"),
        "overhead_p50_ms": overhead.get("p50"),
        "overhead_p99_ms": overhead.get("p99"),
        "proxy_cpu_ms_per_request": round(1000 * cpu / load.requests, 2) if load.requests else None,
        "proxy_cores": round(report.proxy.cpu_share("proxy"), 2),
        "flags": report.flags,
        "locust_html": load.locust_html,
    }


def run_compare(
    base: BenchOptions, names: list[str], rounds: int, say: Callable[[str], None] = print
) -> list[VariantSummary]:
    variants = [variant_named(n) for n in names]
    for version in sorted({v.litellm_version for v in variants if v.litellm_version}):
        ensure_litellm(version, say)
    summaries = {v.name: VariantSummary(v.name, []) for v in variants}
    for round_index in range(rounds):
        # Alternate the order each round so drift (thermal, other load) hits every variant alike.
        order = variants if round_index % 2 == 0 else list(reversed(variants))
        for variant in order:
            say(f"round {round_index + 1}/{rounds}: {variant.name}")
            options = replace(base, variant=variant, baseline_duration_s=0,
                              workdir=base.workdir / f"round{round_index + 1}-{variant.name}")  # fmt: skip
            try:
                report = run_bench(options, say=say)
            except (ProcessFailed, RuntimeError, TimeoutError) as exc:
                # One variant that cannot start (e.g. a server its version lacks) must not cost the others.
                first_line = str(exc).splitlines()[0]
                summaries[variant.name].rounds.append({"error": first_line})
                say(f"  -> failed: {first_line}")
                continue
            row = _round_row(report)
            summaries[variant.name].rounds.append(row)
            say(f"  -> {row['rps']:.1f} req/s, p50 {row['p50_ms']} ms, header overhead p50 {row['overhead_p50_ms']} ms")
    return list(summaries.values())


def compare_table(summaries: list[VariantSummary]) -> str:
    reference = summaries[0]
    ref_rps = reference.median("rps") or 1.0
    header = ("variant", "RPS/worker", "vs first", "p50 ms", "p99 ms", "hdr p50", "hdr p99", "CPU ms/req", "failures")
    rows = [header]
    for s in summaries:
        if all("error" in r for r in s.rounds):
            rows.append((s.name, "failed", "-", "-", "-", "-", "-", "-", s.rounds[0]["error"][:60]))
            continue
        rps = s.median("rps_per_worker")
        ratio = (s.median("rps") or 0.0) / ref_rps
        rows.append(
            (
                s.name,
                f"{rps:.1f}" if rps is not None else "-",
                f"{ratio:.2f}x",
                f"{s.median('p50_ms') or 0:.0f}",
                f"{s.median('p99_ms') or 0:.0f}",
                f"{s.median('overhead_p50_ms') or 0:.2f}",
                f"{s.median('overhead_p99_ms') or 0:.2f}",
                f"{s.median('proxy_cpu_ms_per_request') or 0:.2f}",
                str(sum(r.get("failures", 0) for r in s.rounds)),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    note = f"(medians over {len(reference.rounds)} interleaved round(s); ratio is RPS vs {reference.name})"
    return "\n".join(lines) + "\n" + note


def write_compare(summaries: list[VariantSummary], path: Path) -> Path:
    """compare.json at `path` and its HTML report beside it (compare.html); returns the report's path."""
    from .report_html import compare_report

    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps([{"name": s.name, "rounds": s.rounds} for s in summaries], indent=2, sort_keys=True)
    path.write_text(text)
    html_path = path.with_name("compare.html")
    html_path.write_text(compare_report(summaries, path.parent, compare_table(summaries), text, path.name))
    return html_path
