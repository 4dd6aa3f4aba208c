"""Bench results as a terminal table, a JSON file and a self-contained HTML report (bench/report_html.py)."""

from __future__ import annotations

from pathlib import Path

from .offered import COMPARABLE, OfferedLoad, offered_load, published_offered_load
from .published import FOUR_INSTANCES
from .runner import BenchReport, PhaseResult


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _overhead(phase: PhaseResult, key: str) -> float | None:
    data = phase.load.overhead_header_ms or {}
    value = data.get(key)
    return None if value is None else float(value)


def local_offered_load(report: BenchReport, phase: PhaseResult) -> OfferedLoad:
    """The phase's offered load; the latency without the proxy is the direct baseline's, else the
    fake endpoint's configured delay."""
    if report.baseline is not None and report.baseline.load.latency_ms.get("avg") is not None:
        return offered_load(phase.load, float(report.baseline.load.latency_ms["avg"] or 0.0), "direct baseline")
    delay = float(report.options.get("upstream_latency_ms") or 0.0)
    return offered_load(phase.load, delay, "fake endpoint's delay")


def _offered_rows(report: BenchReport) -> list[tuple[str, str, str, str]]:
    direct = report.baseline
    guide = published_offered_load(FOUR_INSTANCES)
    phases = [local_offered_load(report, direct) if direct else None, local_offered_load(report, report.proxy)]

    def ceiling(o: OfferedLoad | None) -> str:
        return "-" if o is None or o.ceiling_rps is None else f"{o.ceiling_rps:.0f}"

    def share(o: OfferedLoad | None) -> str:
        return "-" if o is None else f"{o.share_of_baseline:.0%}"

    def failures(phase: PhaseResult | None) -> str:
        if phase is None:
            return "-"
        load = phase.load
        return f"{load.failures} ({load.failures / load.requests:.2%})" if load.requests else "0"

    return [
        ("failures (share)", failures(direct), failures(report.proxy), "not published"),
        ("offered-load ceiling (req/s)", ceiling(phases[0]), ceiling(phases[1]), ceiling(guide)),
        ("RPS / ceiling without the proxy", share(phases[0]), share(phases[1]), share(guide)),
    ]


def offered_lines(report: BenchReport) -> list[str]:
    """Under the table: the proxy phase's offered load, whether it was client-bound, what compares."""
    guide = published_offered_load(FOUR_INSTANCES)
    return [
        *local_offered_load(report, report.proxy).lines(),
        f"compares with the published: {COMPARABLE}; not RPS (published: {guide.short()})",
    ]


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
    add(
        "RPS",
        f"{direct.load.rps:.1f}" if direct else "-",
        f"{proxy.load.rps:.1f}",
        f"{pub['rps']:g} (16 workers, client-bound)",
    )
    add(f"RPS per worker ({workers})", "-", f"{per_worker:.1f}", f"{pub['rps_per_worker']:g} (client-bound)")
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
    for row in _offered_rows(report):
        add(*row)
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
    delay = float(report.options.get("upstream_latency_ms") or 0.0)
    out = [header, f"fake endpoint delay (--upstream-latency-ms): {delay:g} ms", "", *lines, "", *offered_lines(report)]
    if report.partial:
        out.insert(0, f"PARTIAL RESULTS: {report.partial}; the numbers below cover only what ran")
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
        if acc.get("late"):
            out.append(
                f"late: {acc['late']} answered upstream after the client gave up ({acc.get('no_answer', 0)} got no "
                f"answer within Locust's 60 s timeout, {acc.get('unfinished_at_stop', 0)} were still open at the "
                "stop); late, not lost"
            )
        if acc.get("upstream_other"):
            out.append(f"upstream: {acc['upstream_other']} other call(s) (the proxy's own: /v1/models...) not counted")
        if acc.get("users") is not None:
            out.append(f"users: {acc['users']}, starved {acc.get('starved_users', 0)} (never got a success)")
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


def html_report(report: BenchReport, base: Path | None = None) -> str:
    """The HTML report (bench/report_html.py); `base` is its folder, for the links to sibling files."""
    from .report_html import local_report

    return local_report(report, base or Path.cwd(), table(report))


def write_outputs(report: BenchReport, json_path: Path, html_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(report.to_json())
    html_path.write_text(html_report(report, html_path.parent))
