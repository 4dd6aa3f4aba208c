"""Bench results as a terminal table, a JSON file and a self-contained HTML report (inline SVG)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from .locust_run import HistoryPoint
from .runner import BenchReport, PhaseResult


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _overhead(phase: PhaseResult, key: str) -> float | None:
    data = phase.load.overhead_header_ms or {}
    value = data.get(key)
    return None if value is None else float(value)


def table(report: BenchReport) -> str:
    pub = report.published
    proxy = report.proxy
    workers = report.options["workers"]
    rows: list[tuple[str, str, str, str]] = [("metric", "direct (no proxy)", "through the proxy", "published")]
    direct = report.baseline
    per_worker = proxy.load.rps / max(workers, 1)

    def add(name: str, direct_value: str, proxy_value: str, published: str) -> None:
        rows.append((name, direct_value, proxy_value, published))

    add("requests (failures)", f"{direct.load.requests} ({direct.load.failures})" if direct else "-",
        f"{proxy.load.requests} ({proxy.load.failures})", "312,405 in 5 min")  # fmt: skip
    add("RPS", f"{direct.load.rps:.1f}" if direct else "-", f"{proxy.load.rps:.1f}", f"{pub['rps']:g} (16 workers)")
    add(f"RPS per worker ({workers})", "-", f"{per_worker:.1f}", f"{pub['rps_per_worker']:g}")
    for key, label in (("p50", "median"), ("p95", "p95"), ("p99", "p99"), ("avg", "average")):
        published = pub.get(f"{key}_ms") if key != "avg" else pub.get("avg_ms")
        add(
            f"latency {label} (ms)",
            _ms(direct.load.latency_ms.get(key)) if direct else "-",
            _ms(proxy.load.latency_ms.get(key)),
            _ms(published),
        )
    for key in ("p50", "p95", "p99"):
        add(f"LiteLLM overhead header {key} (ms)", "-", _ms(_overhead(proxy, key)), _ms(pub.get(f"overhead_{key}_ms")))
    for key in ("p50", "p99"):
        add(f"measured overhead {key} (ms)", "-", _ms(report.measured_overhead_ms.get(key)), "-")
    for process in ("proxy", "locust", "fake_endpoint"):
        add(
            f"CPU {process} (cores)",
            f"{direct.cpu_share(process):.2f}" if direct else "-",
            f"{proxy.cpu_share(process):.2f}",
            "-",
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    header = (
        f"LiteLLM benchmark on this machine ({report.machine['cpus']} CPUs, litellm {report.machine['litellm']}, "
        f"scenario {report.options['scenario']}, {report.options['users']} users, {report.options['duration_s']}s, "
        f"variant {report.options['variant']}; no database: see README)"
    )
    out = [header, "", *lines, ""]
    if report.rate_limit:
        rl = report.rate_limit
        out.append(
            f"rate-limited: {rl['client_successes_per_minute']:.0f} successes/minute against quotas summing to "
            f"{rl['quota_rpm_total']} RPM (per deployment upstream: {rl['upstream_successes_per_deployment']}, "
            f"upstream 429s: {rl['upstream_429']})"
        )
    out.extend(high_throughput_lines(report))
    acc = report.accounting
    if acc:
        verdict = "every request accounted for" if acc["balanced"] else "MISMATCH"
        out.append(
            f"accounting: {acc['sent']} sent = {acc['succeeded']} succeeded + {acc['failed']} failed; "
            f"upstream answered {acc['upstream_200']} x 200 ({verdict})"
        )
    if report.flags:
        out.extend(f"flag: {flag}" for flag in report.flags)
    else:
        out.append("flags: none (neither the proxy, Locust nor the fake endpoint saturated)")
    return "\n".join(out)


def high_throughput_lines(report: BenchReport) -> list[str]:
    """TTFT (its own metric, not in the request counts), RPS per worker and CPU per request."""
    ht = report.high_throughput
    if not ht:
        return []
    ttft, pub = ht["ttft_ms"], ht["published"]
    cpu = ht["proxy_cpu_ms_per_request"]
    return [
        f"high-throughput ({ht['upstream']} upstream; prompts 50K/75K/100K tokens, half streamed, max_tokens 16; "
        f"{ht['offered_rps']} users x 1 req/s offered):",
        f"  TTFT of streamed requests (own metric, not counted as requests): {ttft['count'] or 0} samples, "
        f"p50 {_ms(ttft['p50'])} / p95 {_ms(ttft['p95'])} / p99 {_ms(ttft['p99'])} ms "
        f"(published p50 {_ms(pub['ttft_p50_ms'])} ms)",
        f"  RPS per worker {ht['rps_per_worker']:.1f} (published {pub['rps_per_worker']:g}: {pub['rps']:g} RPS over "
        f"132 workers); proxy CPU per request {'-' if cpu is None else f'{cpu:.1f}'} ms",
    ]


def _polyline(points: Sequence[tuple[float, float]], x_max: float, y_max: float, width: int, height: int) -> str:
    coords = " ".join(
        f"{40 + (x / x_max) * (width - 50):.1f},{height - 20 - (y / y_max) * (height - 30):.1f}" for x, y in points
    )
    return coords


def _chart(title: str, series: dict[str, list[tuple[float, float]]], unit: str) -> str:
    width, height = 640, 240
    colours = ["#1f77b4", "#ff7f0e", "#d62728", "#2ca02c"]
    all_points = [p for pts in series.values() for p in pts]
    if not all_points:
        return f"<p>{html.escape(title)}: no data</p>"
    x_max = max(p[0] for p in all_points) or 1.0
    y_max = max(p[1] for p in all_points) * 1.1 or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
        f'<text x="{width / 2}" y="14" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
        f'<line x1="40" y1="{height - 20}" x2="{width - 10}" y2="{height - 20}" stroke="#999"/>',
        f'<line x1="40" y1="20" x2="40" y2="{height - 20}" stroke="#999"/>',
        f'<text x="2" y="26" font-size="10">{y_max:.0f} {html.escape(unit)}</text>',
        f'<text x="{width - 60}" y="{height - 5}" font-size="10">{x_max:.0f} s</text>',
    ]
    for i, (name, points) in enumerate(series.items()):
        colour = colours[i % len(colours)]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
            f'points="{_polyline(points, x_max, y_max, width, height)}"/>'
        )
        label = html.escape(name)
        parts.append(f'<text x="{50 + i * 90}" y="{height - 25}" font-size="11" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _series(history: list[HistoryPoint], attr: str) -> list[tuple[float, float]]:
    return [(p.t, float(getattr(p, attr))) for p in history if getattr(p, attr) is not None]


def html_report(report: BenchReport) -> str:
    history = report.proxy.load.history
    charts = [
        _chart(
            "Requests per second (through the proxy)",
            {"RPS": _series(history, "rps"), "failures/s": _series(history, "failures_per_s")},
            "req/s",
        ),
        _chart(
            "Latency percentiles (through the proxy)",
            {"p50": _series(history, "p50"), "p95": _series(history, "p95"), "p99": _series(history, "p99")},
            "ms",
        ),
    ]
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>litellm-bench-cfn bench local</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}</style></head><body>"
        "<h1>LiteLLM benchmark on this machine</h1>"
        f"<pre>{html.escape(table(report))}</pre>{''.join(charts)}"
        f"<h2>Raw results</h2><pre>{html.escape(report.to_json())}</pre></body></html>"
    )


def write_outputs(report: BenchReport, json_path: Path, html_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(report.to_json())
    html_path.write_text(html_report(report))
