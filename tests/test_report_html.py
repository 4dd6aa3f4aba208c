"""The HTML reports as files: one offline page, real tables, links, charts fed from the run's data.

Built from synthetic results (tests/report_samples.py); tests/test_report_browser.py opens the
same pages in headless Chromium."""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from litellm_bench_cfn.bench import aws_results, charts
from litellm_bench_cfn.bench.compare import write_compare
from litellm_bench_cfn.bench.locust_run import LoadResult
from litellm_bench_cfn.bench.report import write_outputs
from litellm_bench_cfn.bench.runner import BenchReport

from . import report_samples

pytest.importorskip("plotly")


def figures(page: str) -> dict[str, list[dict[str, Any]]]:
    """Each chart's traces, as plotly.newPlot receives them (div id -> data)."""
    found = {}
    for div_id, data in re.findall(r'Plotly\.newPlot\(\s*"([^"]+)",\s*(\[.*?\]),\s*\{', page, flags=re.S):
        found[div_id] = json.loads(data)
    return found


def unescaped(page: str) -> str:
    """Chart labels as shown (plotly's JSON writes "/" as \\u002f)."""
    return page.replace("\\u002f", "/")


def embedded_json(page: str) -> str:
    (encoded,) = re.findall(r"href='data:application/json;base64,([A-Za-z0-9+/=]+)'", page)
    return base64.b64decode(encoded).decode()


def test_local_report_is_one_offline_page_with_a_table_links_and_five_charts(tmp_path: Path) -> None:
    report = report_samples.bench_report(tmp_path)
    write_outputs(report, tmp_path / "results.json", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    # offline: plotly.js is inline, nothing is loaded from elsewhere
    from plotly.offline import get_plotlyjs

    assert "Plotly.newPlot" in page and get_plotlyjs() in page
    ours = page.replace(get_plotlyjs(), "")  # the bundle names a map CDN only geo charts would use
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", ours)
    assert "http://" not in ours and "https://" not in ours
    # the summary is a real table with the published column; the notes say what compares
    assert "<table><thead><tr><th scope='col'>metric</th><th scope='col'>direct (no proxy)</th>" in page
    assert "<th scope='row'>latency p95 (ms)</th><td>3.0</td><td>390</td><td>150</td>" in page
    assert "Closed loop." in page and "Not client-bound." in page and "What compares with the published" in page
    # the raw JSON is a link (beside the file, and embedded), never dumped into the page
    assert embedded_json(page) == report.to_json() == (tmp_path / "results.json").read_text()
    assert report.to_json()[:40] not in page and "href='results.json'" in page
    # Locust's own reports, linked relative to the report
    assert "href='direct_locust.html'" in page and "href='proxy_locust.html'" in page
    shown = figures(page)
    assert set(shown) == {"chart-rps", "chart-latency", "chart-overhead", "chart-direct-vs-proxy-latency",
                          "chart-direct-vs-proxy-rps"}  # fmt: skip
    rps = {trace["name"]: trace for trace in shown["chart-rps"]}
    assert rps["through the proxy RPS"]["y"] == [p.rps for p in report.proxy.load.history]
    assert rps["users"]["yaxis"] == "y2"
    latency = {trace["name"] for trace in shown["chart-latency"]}
    assert latency == {"direct p50", "direct p95", "through the proxy p50", "through the proxy p95"}
    bars = {trace["name"]: trace["y"] for trace in shown["chart-direct-vs-proxy-latency"]}
    assert bars["through the proxy"] == pytest.approx([110, 390, 585, 121])
    assert bars["published (4 x 4 vCPU, 16 workers)"] == [100, 150, 240, 111.7]
    # the published figures are reference lines: the p50/p95 across the latency chart
    labels = unescaped(page)
    assert "published p50: 100 ms" in labels and "published p95: 150 ms" in labels
    assert "published per worker x 1 worker(s): 73.1 req/s" in labels


def test_overhead_distribution_is_the_recorded_histogram_with_every_response(tmp_path: Path) -> None:
    report = report_samples.bench_report(None)
    page = report_html_of(report, tmp_path)
    (trace,) = figures(page)["chart-overhead"]
    histogram = report.proxy.load.overhead_header_ms["histogram"]  # type: ignore[index]
    assert sum(trace["y"][:-1]) == sum(n for _, n in histogram)  # the last point only closes the step
    assert trace["line"]["shape"] == "hv"
    assert "p50 61 ms" in page and "published p99 13 ms" in page


def test_overhead_without_a_histogram_falls_back_to_percentile_bars(tmp_path: Path) -> None:
    report = report_samples.aws_report(tmp_path / "locust")
    aws_results.write_outputs(report, tmp_path)
    page = (tmp_path / "report.html").read_text()
    measured, published = figures(page)["chart-overhead"]
    assert measured["x"] == ["p50", "p90", "p95", "p99", "max"] and measured["y"][0] == 2.1
    assert published["y"][:1] == [2] and published["mode"] == "markers"
    assert "href='locust/run_locust.html'" in page  # the in-VPC master's own Locust report, shipped back
    assert "<h1>LiteLLM benchmark inside AWS</h1>" in page


def report_html_of(report: BenchReport, directory: Path) -> str:
    write_outputs(report, directory / "results.json", directory / "report.html")
    return (directory / "report.html").read_text()


def test_log_bins_keep_every_count_in_bins_of_equal_log_width() -> None:
    histogram = [[0.5, 3], [1.0, 2], [2.04, 7], [350.0, 1], [9.99, 0]]
    bins = charts.log_bins(histogram, per_decade=10)
    assert sum(n for *_, n in bins) == 13
    widths = {round(math.log10(hi) - math.log10(lo), 9) for lo, hi, _ in bins}
    assert widths == {0.1}
    assert bins[0][0] <= 0.5 and bins[-1][1] >= 350
    assert next(n for lo, hi, n in bins if lo <= 2.04 < hi) == 7


def test_fields_added_by_newer_code_are_shown_not_dropped(tmp_path: Path) -> None:
    """Other changes add measurements (offered-load ceiling, late answers): the page lists them."""

    @dataclass
    class NewerLoad(LoadResult):
        late_answers: int = 0

    @dataclass
    class NewerReport(BenchReport):
        offered_load_ceiling: dict[str, Any] = field(default_factory=dict)

    base = report_samples.bench_report(None)
    proxy_load = NewerLoad(**{**base.proxy.load.__dict__, "late_answers": 17})
    base.proxy.load = proxy_load
    newer = NewerReport(**base.__dict__, offered_load_ceiling={"rps": 66.7, "users": 50})
    page = report_html_of(newer, tmp_path)
    assert "<th scope='row'>offered_load_ceiling</th><td>rps=66.70, users=50</td>" in page
    assert "<th scope='row'>late_answers</th><td>-</td><td>17</td>" in page


def test_compare_report_has_bars_per_variant_with_the_round_to_round_spread(tmp_path: Path) -> None:
    summaries = report_samples.compare_summaries(tmp_path)
    html_path = write_compare(summaries, tmp_path / "compare.json")
    page = html_path.read_text()
    assert html_path == tmp_path / "compare.html"
    shown = figures(page)
    assert len(shown) == len(report_html_compare_metrics())
    (rps,) = shown["chart-compare-rps-per-worker"]
    assert rps["x"] == ["shipped", "seeds-detailed-debug", "uvicorn", "broken"]
    assert rps["y"][:3] == [61.0, 7.0, 58.0] and rps["y"][3] is None  # medians over 3 rounds
    assert rps["error_y"]["array"][:3] == [1.0, 1.0, 1.0] and rps["error_y"]["arrayminus"][:3] == [1.0, 1.0, 1.0]
    assert "published per worker: 73.1 req/s" in unescaped(page)
    assert "broken: proxy exited with status 3" in page
    for round_dir in ("round1-shipped", "round3-uvicorn"):
        assert f"href='{round_dir}/proxy_locust.html'" in page
    assert embedded_json(page) == (tmp_path / "compare.json").read_text()


def report_html_compare_metrics() -> tuple[Any, ...]:
    from litellm_bench_cfn.bench.report_html import COMPARE_METRICS

    return COMPARE_METRICS


def test_knee_chart_hook_plots_achieved_rps_and_latency_per_offered_load() -> None:
    points = [charts.KneePoint(200, 190, 110, 300), charts.KneePoint(50, 50, 100, 150)]
    fig = charts.knee_chart("Knee", points, offered_title="offered load (users)")
    achieved, p50, p95 = fig.data
    assert list(achieved.x) == [50, 200] and list(achieved.y) == [50, 190]
    assert (p50.yaxis, list(p95.y)) == ("y2", [150, 300])


def test_a_run_without_baseline_or_overhead_still_renders_every_section(tmp_path: Path) -> None:
    """The rate-limited scenario has no direct phase; a run may record no overhead header at all."""
    report = report_samples.bench_report(None)
    report.baseline = None
    report.proxy.load.overhead_header_ms = None
    report.rate_limit = {"quota_rpm_total": 30, "client_successes_per_minute": 29.5, "upstream_429": 4,
                         "upstream_successes_per_deployment": {"deployment-a": 15}}  # fmt: skip
    page = report_html_of(report, tmp_path)
    shown = figures(page)
    assert "chart-overhead" not in shown and "No overhead header was recorded in this run." in page
    assert {t["name"] for t in shown["chart-direct-vs-proxy-latency"]} == {
        "through the proxy",
        "published (4 x 4 vCPU, 16 workers)",
    }
    assert "rate limit: quota_rpm_total=30, client_successes_per_minute=29.50, upstream_429=4" in page
    assert "<th scope='row'>RPS</th><td>-</td><td>57.0</td>" in page
