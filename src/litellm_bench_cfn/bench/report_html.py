"""The HTML reports of `bench local`, `bench aws` and `bench compare`, built from bench/charts.py.

Each report is one self-contained file beside its results.json: a summary as an HTML table, the
notes that say what compares with LiteLLM's published figures, plotly charts (over time, the
overhead header's distribution, direct vs through the proxy), links to Locust's own HTML report of
every phase and to the raw JSON (beside the file and embedded as a download). Fields the report does
not know yet are shown generically, so a new measurement appears before anyone writes a chart for it.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import charts
from .charts import Line, Reference

if TYPE_CHECKING:
    from .aws_results import AwsBenchReport
    from .compare import VariantSummary
    from .locust_run import HistoryPoint, LoadResult
    from .runner import BenchReport
    from .sweep import SweepReport

THINK_TIME_S = 0.75
"""Mean of the locustfile's wait_time = between(0.5, 1): a closed-loop user's pause between requests."""
KNOWN_REPORT_KEYS = {
    "machine",
    "options",
    "boot_seconds",
    "baseline",
    "proxy",
    "flags",
    "measured_overhead_ms",
    "rate_limit",
    "published",
    "accounting",
}
KNOWN_PHASE_KEYS = {"name", "load", "cpu_s", "upstream"}
KNOWN_LOAD_KEYS = {
    "target",
    "shape",
    "requests",
    "failures",
    "rps",
    "latency_ms",
    "overhead_header_ms",
    "locust_cpu_s",
    "wall_s",
    "exit_code",
    "failure_samples",
    "history",
    "locust_html",
}


def ms(value: Any) -> str:
    if value is None:
        return "-"
    number = float(value)
    return f"{number:,.0f}" if number >= 10 else f"{number:.1f}"


def value_text(value: Any) -> str:
    """Any JSON-ish value as one short cell: numbers rounded, dicts as key=value, lists joined."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(value_text(v) for v in value)
    return str(value)


def _series(history: Sequence[HistoryPoint], attr: str) -> list[tuple[float, float]]:
    return [(p.t, float(getattr(p, attr))) for p in history if getattr(p, attr) is not None]


def _link(target: str | None, base: Path, label: str) -> str | None:
    if not target or not Path(target).exists():
        return None
    relative = os.path.relpath(Path(target).resolve(), base.resolve())
    return f"<a href='{html.escape(relative)}'>{html.escape(label)}</a>"


def json_links(json_text: str, json_name: str = "results.json") -> str:
    encoded = base64.b64encode(json_text.encode()).decode()
    return (
        f"<a href='{json_name}'>{json_name}</a> (beside this file) &middot; "
        f"<a download='{json_name}' href='data:application/json;base64,{encoded}'>download the copy embedded "
        f"in this page</a> ({len(json_text) / 1024:,.0f} KiB)"
    )


def _section(title: str, content: str) -> str:
    return f"<h2>{html.escape(title)}</h2>\n{content}"


def _key_values(data: Mapping[str, Any], caption: str | None = None) -> str:
    return charts.html_table(("field", "value"), [(str(k), value_text(v)) for k, v in data.items()], caption=caption)


def _flags(flags: Sequence[str], none_text: str) -> str:
    if not flags:
        return f"<p class='ok'>{html.escape(none_text)}</p>"
    return "".join(f"<p class='flag'>{html.escape(flag)}</p>" for flag in flags)


def _overhead(load: LoadResult) -> dict[str, Any]:
    return dict(load.overhead_header_ms or {})


def overhead_chart(load: LoadResult, published: Mapping[str, Any], div_id: str) -> str:
    """The header's distribution when the run recorded its histogram, else its percentiles as bars."""
    data = _overhead(load)
    refs = [
        Reference(f"published {k}", float(published[f"overhead_{k}_ms"]))
        for k in ("p50", "p95", "p99")
        if published.get(f"overhead_{k}_ms") is not None
    ]
    title = "LiteLLM overhead header: distribution"
    if data.get("histogram"):
        fig = charts.distribution_chart(
            title,
            data["histogram"],
            unit="ms",
            x_title="x-litellm-overhead-duration-ms (ms, log scale)",
            markers={k: data.get(k) for k in ("p50", "p95", "p99")},
            references=refs,
        )
        return charts.figure_html(fig, div_id)
    keys = [k for k in ("p50", "p90", "p95", "p99", "max") if data.get(k) is not None]
    if not keys:
        return "<p>No overhead header was recorded in this run.</p>"
    fig = charts.grouped_bars(
        "LiteLLM overhead header: percentiles",
        keys,
        {"measured": [float(data[k]) for k in keys]},
        y_title="overhead (ms)",
        unit="ms",
        markers={"published": [published.get(f"overhead_{k}_ms") for k in keys]},
    )
    return charts.figure_html(fig, div_id)


def rps_time_chart(phases: Mapping[str, LoadResult], references: Sequence[Reference], div_id: str) -> str:
    lines: list[Line] = []
    for i, (label, load) in enumerate(phases.items()):
        dash = "solid" if i == len(phases) - 1 else "dot"
        lines.append(Line(f"{label} RPS", _series(load.history, "rps"), "req/s", dash, colour=charts.COLOURS[i]))
        lines.append(
            Line(
                f"{label} failures/s",
                _series(load.history, "failures_per_s"),
                "failures/s",
                dash,
                colour=charts.COLOURS[3 + i],
            )
        )
    last = list(phases.values())[-1]
    lines.append(Line("users", _series(last.history, "users"), "users", "longdashdot", "y2", colour="#b07aa1"))
    fig = charts.time_chart(
        "Requests and failures per second over time",
        lines,
        y_title="requests per second (req/s)",
        y2_title="Locust users",
        references=references,
    )
    return charts.figure_html(fig, div_id)


def latency_time_chart(phases: Mapping[str, LoadResult], published: Mapping[str, Any], div_id: str) -> str:
    lines: list[Line] = []
    for i, (label, load) in enumerate(phases.items()):
        dash = "solid" if i == len(phases) - 1 else "dot"
        for j, key in enumerate(("p50", "p95")):
            lines.append(
                Line(f"{label} {key}", _series(load.history, key), "ms", dash, colour=charts.COLOURS[2 * i + j])
            )
    refs = [
        Reference(f"published {k}", float(published[f"{k}_ms"])) for k in ("p50", "p95") if published.get(f"{k}_ms")
    ]
    values = [v for line in lines for _, v in line.points] + [r.value for r in refs]
    fig = charts.time_chart(
        "Latency percentiles over time (Locust's history, per-second window)",
        lines,
        y_title="latency (ms)",
        references=refs,
        log_y=charts.wants_log_axis(values),
    )
    return charts.figure_html(fig, div_id)


def direct_vs_proxy_charts(report: BenchReport) -> list[str]:
    pub = report.published
    phases = {"direct (no proxy)": report.baseline, "through the proxy": report.proxy}
    present = {k: v for k, v in phases.items() if v is not None}
    keys = ("p50", "p95", "p99", "avg")
    groups = {k: [p.load.latency_ms.get(key) for key in keys] for k, p in present.items()}
    published = [pub.get(f"{k}_ms") for k in keys]
    values = [v for vs in groups.values() for v in vs] + published
    latency = charts.grouped_bars(
        "Latency: direct vs through the proxy (whole run)",
        ["p50", "p95", "p99", "average"],
        groups,
        y_title="latency (ms)",
        unit="ms",
        markers={"published (4 x 4 vCPU, 16 workers)": published},
        log_y=charts.wants_log_axis(values),
    )
    workers = int(report.options.get("workers", 1))
    per_worker = float(pub.get("rps_per_worker", 0))
    rps = charts.grouped_bars(
        "Requests per second: direct vs through the proxy",
        ["RPS"],
        {k: [p.load.rps] for k, p in present.items()},
        y_title="requests per second (req/s)",
        unit="req/s",
        references=[Reference(f"published per worker x {workers} worker(s)", per_worker * workers)],
    )
    return [
        charts.figure_html(latency, "chart-direct-vs-proxy-latency"),
        charts.figure_html(rps, "chart-direct-vs-proxy-rps"),
    ]


def summary_rows(report: BenchReport) -> list[tuple[str, str, str, str]]:
    pub, proxy, direct = report.published, report.proxy, report.baseline
    workers = int(report.options.get("workers", 1))

    def both(get: Any) -> tuple[str, str]:
        return (get(direct) if direct else "-", get(proxy))

    rows = [
        ("requests (failures)", *both(lambda p: f"{p.load.requests:,} ({p.load.failures:,})"), "312,405 in 5 min"),
        ("RPS", *both(lambda p: f"{p.load.rps:,.1f}"), f"{pub['rps']:,g} (16 workers)"),
        (f"RPS per worker ({workers})", "-", f"{proxy.load.rps / max(workers, 1):,.1f}", f"{pub['rps_per_worker']:g}"),
    ]
    for key, label in (("p50", "median"), ("p95", "p95"), ("p99", "p99"), ("avg", "average")):
        rows.append(
            (f"latency {label} (ms)", *both(lambda p, k=key: ms(p.load.latency_ms.get(k))), ms(pub.get(f"{key}_ms")))
        )
    for key in ("p50", "p95", "p99"):
        rows.append(
            (
                f"LiteLLM overhead header {key} (ms)",
                "-",
                ms(_overhead(proxy.load).get(key)),
                ms(pub.get(f"overhead_{key}_ms")),
            )
        )
    for key in ("p50", "p99"):
        rows.append((f"measured overhead {key} (ms)", "-", ms(report.measured_overhead_ms.get(key)), "-"))
    for process in ("proxy", "locust", "fake_endpoint"):
        rows.append((f"CPU {process} (cores)", *both(lambda p, n=process: f"{p.cpu_share(n):.2f}"), "-"))
    return rows


def local_notes(report: BenchReport) -> list[str]:
    users = int(report.options.get("users", report.proxy.load.shape.users))
    workers = int(report.options.get("workers", 1))
    offered = users / THINK_TIME_S
    locust_cores = report.proxy.cpu_share("locust")
    client_bound = any(flag.startswith("client-bound") for flag in report.flags)
    per_worker = report.proxy.load.rps / max(workers, 1)
    pub = report.published
    return [
        f"<b>Closed loop.</b> Each Locust user waits 0.5-1 s (0.75 s on average) after every answer, so {users} users "
        f"offer at most ~{offered:,.0f} req/s, less as latency grows. The RPS is what the users and the latency allow, "
        "not an arrival rate: a slower proxy is sent fewer requests.",
        (
            f"<b>Client-bound.</b> Locust used {locust_cores:.2f} of its one core: the load generator was the "
            "limit, so "
            "these numbers are a lower bound on what the proxy can do."
            if client_bound
            else f"<b>Not client-bound.</b> Locust used {locust_cores:.2f} of its one core, below the "
            "saturation threshold; the load generator was not the limit."
        ),
        f"<b>What compares with the published figures.</b> LiteLLM's {pub['rps']:,g} RPS ran on 16 "
        "workers (4 x 4 vCPU, "
        f"PostgreSQL), i.e. ~{pub['rps_per_worker']:g} req/s per worker; here {workers} worker(s) served "
        f"{per_worker:,.1f} req/s each. The overhead header is LiteLLM's own measure and compares directly; latency "
        "percentiles compare only while the proxy is not saturated (past it, users queue and latency grows with the "
        "load). Measured overhead is through-the-proxy minus direct latency: the header leaves out parsing, "
        "serialisation and queueing.",
        "<b>No database locally.</b> LiteLLM's Prisma engines cannot be downloaded here, so the local proxy runs "
        "without PostgreSQL (the AWS stack uses RDS). The fake endpoint runs on loopback on the same machine.",
    ]


def _phase_links(phases: Mapping[str, LoadResult], base: Path) -> str:
    links = [_link(load.locust_html, base, f"Locust's own report: {label}") for label, load in phases.items()]
    present = [link for link in links if link]
    if not present:
        return "<p>Locust wrote no HTML report for this run.</p>"
    return "<ul>" + "".join(f"<li>{link}</li>" for link in present) + "</ul>"


def _extras(report_dict: Mapping[str, Any], phases: Mapping[str, Mapping[str, Any]]) -> str:
    """Fields this page has no chart for yet (added by newer code): shown as tables, never dropped."""
    parts = []
    top = {k: v for k, v in report_dict.items() if k not in KNOWN_REPORT_KEYS}
    if top:
        parts.append(_key_values(top, caption="further results of this run"))
    names = sorted(
        {k for p in phases.values() for k in p.get("load", {}) if k not in KNOWN_LOAD_KEYS}
        | {k for p in phases.values() for k in p if k not in KNOWN_PHASE_KEYS}
    )
    if names:
        rows = []
        for name in names:
            cells = [value_text(p.get("load", {}).get(name, p.get(name))) for p in phases.values()]
            rows.append((name, *cells))
        parts.append(charts.html_table(("measurement", *phases), rows, caption="further measurements per phase"))
    return _section("Further measurements", "".join(parts)) if parts else ""


def local_report(report: BenchReport, base: Path, terminal_table: str) -> str:
    """`bench local`'s report; `base` is the folder the file is written to (links are relative to it)."""
    phases: dict[str, LoadResult] = {}
    if report.baseline is not None:
        phases["direct"] = report.baseline.load
    phases["through the proxy"] = report.proxy.load
    workers = int(report.options.get("workers", 1))
    per_worker = float(report.published.get("rps_per_worker", 0))
    rps_ref = [Reference(f"published per worker x {workers} worker(s)", per_worker * workers)]
    report_dict = asdict(report)
    chart_divs = [
        rps_time_chart(phases, rps_ref, "chart-rps"),
        latency_time_chart(phases, report.published, "chart-latency"),
        overhead_chart(report.proxy.load, report.published, "chart-overhead"),
        *direct_vs_proxy_charts(report),
    ]
    notes = "".join(f"<li>{note}</li>" for note in local_notes(report))
    extra_lines = []
    if report.accounting:
        acc = report.accounting
        verdict = "every request accounted for" if acc.get("balanced") else "MISMATCH"
        extra_lines.append(
            f"accounting: {acc.get('sent')} sent = {acc.get('succeeded')} succeeded + "
            f"{acc.get('failed')} failed; upstream answered {acc.get('upstream_200')} x 200 ({verdict})"
        )
    if report.rate_limit:
        extra_lines.append("rate limit: " + value_text(report.rate_limit))
    run_facts = {**report.options, "proxy boot (s)": round(report.boot_seconds, 1)}
    body = "\n".join(
        [
            "<h1>LiteLLM benchmark on this machine</h1>",
            f"<p class='facts'>{html.escape(_machine_line(report.machine))}</p>",
            _flags(report.flags, "flags: none (neither the proxy, Locust nor the fake endpoint saturated)"),
            "".join(f"<p>{html.escape(line)}</p>" for line in extra_lines),
            _section(
                "Summary",
                charts.html_table(
                    ("metric", "direct (no proxy)", "through the proxy", "published"), summary_rows(report)
                ),
            ),
            f"<ul class='notes'>{notes}</ul>",
            _section("Charts", f"<div class='grid'>{''.join(chart_divs)}</div>"),
            _section("Files", _phase_links(phases, base) + f"<p>Raw results: {json_links(report.to_json())}</p>"),
            _extras(
                report_dict,
                {k: v for k, v in (("direct", report_dict.get("baseline")), ("proxy", report_dict.get("proxy"))) if v},
            ),
            _section("Run", _key_values(run_facts, caption="options") + _key_values(report.machine, caption="machine")),
            f"<details><summary>The table as printed in the terminal</summary><pre>{html.escape(terminal_table)}</pre>"
            "</details>",
        ]
    )
    return charts.page("litellm-bench-cfn bench local", body)


def _machine_line(machine: Mapping[str, Any]) -> str:
    return (
        f"{machine.get('cpus')} CPUs, {machine.get('memory_gib')} GiB, Python {machine.get('python')}, "
        f"litellm {machine.get('litellm')}, Locust {machine.get('locust')}"
    )


def aws_report(report: AwsBenchReport, base: Path, terminal_table: str) -> str:
    load, pub = report.load, report.published
    rps_ref = [Reference(f"published ({pub.get('workers', 16)} workers)", float(pub["rps"]))]
    phases = {"in-VPC": load}
    charts_html = [
        rps_time_chart(phases, rps_ref, "chart-rps"),
        latency_time_chart(phases, pub, "chart-latency"),
        overhead_chart(load, pub, "chart-overhead"),
    ]
    rows = [
        ("requests (failures)", f"{load.requests:,} ({load.failures:,})", "312,405 in 5 min"),
        ("RPS", f"{load.rps:,.1f}", f"{pub['rps']:,g} (16 workers)"),
    ]
    for key, label in (("p50", "median"), ("p95", "p95"), ("p99", "p99"), ("avg", "average")):
        rows.append((f"latency {label} (ms)", ms(load.latency_ms.get(key)), ms(pub.get(f"{key}_ms"))))
    for key in ("p50", "p95", "p99"):
        rows.append(
            (f"LiteLLM overhead header {key} (ms)", ms(_overhead(load).get(key)), ms(pub.get(f"overhead_{key}_ms")))
        )
    shape = load.shape
    flags = (
        [f"the Locust master exited with status {load.exit_code} (failures or no requests; see its log)"]
        if load.exit_code
        else []
    )
    notes = [
        f"<b>Closed loop.</b> {shape.users} users waiting 0.5-1 s between requests offer at most "
        f"~{shape.users / THINK_TIME_S:,.0f} req/s; the published 1,170 RPS is set by its 1,000 users the same way.",
        "<b>What compares with the published figures.</b> With the benchmark profile (4 tasks x 4 vCPU, 16 workers, "
        "RDS) and the guide's load shape, RPS, latency and the overhead header all compare; the latency here includes "
        "the ALB hop. Locust's CPU is not measured in the VPC: watch the workers' CPU in the dashboard "
        "for client-bound runs.",
    ]
    facts = (
        f"{report.stack_name} in {report.region}, harness {report.harness_stack_name}, {report.workers} Locust "
        f"worker(s), {shape.users} users, spawn {shape.spawn_rate:g}/s, {shape.duration_s} s, target {load.target}"
    )
    body = "\n".join(
        [
            "<h1>LiteLLM benchmark inside AWS</h1>",
            f"<p class='facts'>{html.escape(facts)}</p>",
            _flags(flags, "the Locust master exited with status 0"),
            _section("Summary", charts.html_table(("metric", "in-VPC run", "published"), rows)),
            "<ul class='notes'>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>",
            _section("Charts", f"<div class='grid'>{''.join(charts_html)}</div>"),
            _section("Files", _phase_links(phases, base) + f"<p>Raw results: {json_links(report.to_json())}</p>"),
            _extras({}, {"in-VPC": {"load": asdict(load)}}),
            "".join(f"<p class='flag'>failure sample: {html.escape(line[:200])}</p>" for line in load.failure_samples),
            f"<details><summary>The table as printed in the terminal</summary><pre>{html.escape(terminal_table)}</pre>"
            "</details>",
        ]
    )
    return charts.page("litellm-bench-cfn bench aws", body)


COMPARE_METRICS = (
    ("rps_per_worker", "Requests per second per proxy worker", "req/s per worker", "req/s"),
    ("p50_ms", "Latency p50 through the proxy", "latency (ms)", "ms"),
    ("p99_ms", "Latency p99 through the proxy", "latency (ms)", "ms"),
    ("overhead_p50_ms", "LiteLLM overhead header p50", "overhead (ms)", "ms"),
    ("proxy_cpu_ms_per_request", "Proxy CPU per request", "CPU (ms per request)", "ms"),
)


def spread_of(rounds: Sequence[Mapping[str, Any]], key: str) -> tuple[float | None, charts.Spread | None]:
    """Median and (min, max) of one metric over the rounds that measured it."""
    values = sorted(float(r[key]) for r in rounds if r.get(key) is not None)
    if not values:
        return None, None
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return median, (values[0], values[-1])


def compare_charts(
    variants: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], published: Mapping[str, Any]
) -> list[str]:
    """Grouped bars per variant (median over rounds, min-max error bars); reusable for a version comparison."""
    names = [name for name, _ in variants]
    out = []
    for key, title, y_title, unit in COMPARE_METRICS:
        stats = [spread_of(rounds, key) for _, rounds in variants]
        refs = []
        if key == "rps_per_worker" and published.get("rps_per_worker"):
            refs = [Reference("published per worker", float(published["rps_per_worker"]))]
        elif key == "overhead_p50_ms" and published.get("overhead_p50_ms") is not None:
            refs = [Reference("published p50", float(published["overhead_p50_ms"]))]
        fig = charts.grouped_bars(
            f"{title} (median, min-max over rounds)",
            names,
            {"median": [s[0] for s in stats]},
            y_title=y_title,
            unit=unit,
            spread={"median": [s[1] for s in stats]},
            references=refs,
            colour_per_category=True,
        )
        out.append(charts.figure_html(fig, f"chart-compare-{key.replace('_', '-')}"))
    return out


def compare_report(
    summaries: Sequence[VariantSummary],
    base: Path,
    terminal_table: str,
    json_text: str,
    json_name: str = "compare.json",
) -> str:
    from .published import FOUR_INSTANCES, PUBLISHED_RPS_PER_WORKER

    published = {**asdict(FOUR_INSTANCES), "rps_per_worker": round(PUBLISHED_RPS_PER_WORKER, 1)}
    variants = [(s.name, [r for r in s.rounds if "error" not in r]) for s in summaries]
    header = ("variant", "rounds", *(title for _, title, _, _ in COMPARE_METRICS), "failures")
    rows = []
    for summary, (_, ok_rounds) in zip(summaries, variants, strict=True):
        cells = []
        for key, *_ in COMPARE_METRICS:
            median, spread = spread_of(ok_rounds, key)
            cells.append(
                "-"
                if median is None
                else f"{median:,.2f}"
                + (f" ({spread[0]:,.2f}-{spread[1]:,.2f})" if spread and len(ok_rounds) > 1 else "")
            )
        failed = len(summary.rounds) - len(ok_rounds)
        rounds = f"{len(ok_rounds)}" + (f" (+{failed} failed)" if failed else "")
        rows.append((summary.name, rounds, *cells, f"{sum(int(r.get('failures', 0)) for r in ok_rounds):,}"))
    errors = [f"{s.name}: {r['error']}" for s in summaries for r in s.rounds if "error" in r]
    links = []
    for summary in summaries:
        for i, round_row in enumerate(summary.rounds, start=1):
            link = _link(round_row.get("locust_html"), base, f"{summary.name}, round {i}")
            if link:
                links.append(f"<li>Locust's own report: {link}</li>")
    flags = sorted({flag for s in summaries for r in s.rounds for flag in r.get("flags", [])})
    body = "\n".join(
        [
            "<h1>LiteLLM proxy variants compared on this machine</h1>",
            f"<p class='facts'>{len(summaries)} variants, interleaved rounds (the order alternates each round so drift "
            f"hits every variant alike); the first, {html.escape(summaries[0].name)}, is the reference.</p>",
            "".join(f"<p class='flag'>{html.escape(e)}</p>" for e in errors),
            _section("Summary", charts.html_table(header, rows, caption="median over rounds (min-max)")),
            "<ul class='notes'><li><b>Closed loop, same load for every variant.</b> Differences in RPS are "
            "differences in how fast each variant answers the same users; compare RPS per worker with the "
            f"published ~{published['rps_per_worker']:g}.</li></ul>",
            _flags(flags, "flags: none in any round"),
            _section("Charts", f"<div class='grid'>{''.join(compare_charts(variants, published))}</div>"),
            _section(
                "Files",
                ("<ul>" + "".join(links) + "</ul>" if links else "")
                + f"<p>Raw results: {json_links(json_text, json_name)}</p>",
            ),
            f"<details><summary>The table as printed in the terminal</summary><pre>{html.escape(terminal_table)}</pre>"
            "</details>",
        ]
    )
    return charts.page("litellm-bench-cfn bench compare", body)


def sweep_report(report: SweepReport, terminal_table: str, json_text: str) -> str:
    """`bench sweep`'s page: the knee curve of each sweep (served RPS and p50/p95 per offered rate)."""
    summary = report.summary()
    figures = []
    for index, run in enumerate(report.runs, start=1):
        last_try = {step.offered_rps: step for step in run.steps}  # the attempt that decided each rate
        points = [
            charts.KneePoint(rate, step.served_rps, step.latency_ms.get("p50"), step.latency_ms.get("p95"))
            for rate, step in last_try.items()
        ]
        knee = f"knee {run.knee_rps:g} req/s" if run.knee_rps is not None else "no knee"
        fig = charts.knee_chart(f"Sweep {index}: {knee}", points, offered_title="offered (req/s, open loop)")
        figures.append(charts.figure_html(fig, f"sweep-{index}"))
    knee_line = (
        f"knee {summary['knee_rps']:g} req/s = {summary['knee_rps_per_worker']:g} per worker"
        if summary.get("knee_rps") is not None
        else "no knee found"
    )
    body = "\n".join(
        [
            "<h1>Open-loop capacity sweep of the LiteLLM proxy on this machine</h1>",
            f"<p class='facts'>{html.escape(_machine_line(report.machine))}; {html.escape(knee_line)} at a p95 bound "
            f"of {report.options['p95_bound_ms']:g} ms.</p>",
            f"<p class='flag'>PARTIAL RESULTS: {html.escape(report.partial)}</p>" if report.partial else "",
            _section("Knee curves", f"<div class='grid'>{''.join(figures)}</div>"),
            _section("Files", f"<p>Raw results: {json_links(json_text, 'sweep.json')}</p>"),
            f"<details open><summary>The table as printed in the terminal</summary><pre>{html.escape(terminal_table)}"
            "</pre></details>",
        ]
    )
    return charts.page("litellm-bench-cfn bench sweep", body)
