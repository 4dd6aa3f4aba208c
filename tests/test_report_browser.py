"""Every HTML report opened in a real browser: headless Chromium (Debian's) driven by Playwright.

Asserts the charts rendered (plotly's `.js-plotly-plot` divs, each with its SVG layers), the page
logged no console or script error and asked for nothing outside itself (every non-file request is
refused and counted), and keeps a full-page screenshot beside each report. Skips where Chromium or
Playwright is missing; fails under CI=true, where scripts/bootstrap.sh installs both."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from litellm_bench_cfn.bench import aws_results, browser, charts
from litellm_bench_cfn.bench.compare import write_compare
from litellm_bench_cfn.bench.report import write_outputs

from . import report_samples

_missing = browser.unavailable()
if _missing is not None:
    if os.environ.get("CI"):
        pytest.fail(f"{_missing} (scripts/bootstrap.sh installs them)", pytrace=False)
    pytest.skip(_missing, allow_module_level=True)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_local(directory: Path) -> Path:
    write_outputs(report_samples.bench_report(directory), directory / "results.json", directory / "report.html")
    return directory / "report.html"


def write_aws(directory: Path) -> Path:
    return aws_results.write_outputs(report_samples.aws_report(directory / "locust"), directory)[1]


def write_compare_report(directory: Path) -> Path:
    return write_compare(report_samples.compare_summaries(directory), directory / "compare.json")


@pytest.mark.parametrize(
    ("writer", "charts_expected", "tables_expected"),
    [(write_local, 5, 3), (write_aws, 3, 1), (write_compare_report, 5, 1)],
    ids=["local", "aws", "compare"],
)
def test_report_renders_its_charts_offline_without_errors(
    tmp_path: Path, writer: Callable[[Path], Path], charts_expected: int, tables_expected: int
) -> None:
    page = writer(tmp_path)
    rendered = browser.render(page, tmp_path / "report.png")
    assert rendered.plots == charts_expected
    assert rendered.svgs >= 2 * charts_expected  # plotly draws each chart in a main SVG plus an overlay SVG
    assert rendered.tables >= tables_expected
    assert rendered.console_errors == [] and rendered.page_errors == []
    assert rendered.blocked_requests == []
    shot = (tmp_path / "report.png").read_bytes()
    assert shot.startswith(PNG_MAGIC) and len(shot) > 50_000


def test_a_broken_chart_is_reported_as_a_page_error(tmp_path: Path) -> None:
    """The check can fail: a script error and a request for the network are both caught."""
    page = tmp_path / "broken.html"
    body = "<div class='chart' id='x'></div><script>Plotly.newPlot('x', undefinedData)</script>"
    body += "<img src='http://192.0.2.1/tracker.png'>"
    page.write_text(charts.page("broken", body))
    rendered = browser.render(page, timeout_s=5)
    assert rendered.plots == 0 and not rendered.clean
    assert any("undefinedData" in error for error in rendered.page_errors), rendered.page_errors
    assert "only 0 of 1 charts rendered within 5s" in rendered.page_errors
    assert rendered.blocked_requests == ["http://192.0.2.1/tracker.png"]  # refused inside the browser: never sent


def test_bench_screenshot_line_names_the_png_and_the_chart_count(tmp_path: Path) -> None:
    page = write_aws(tmp_path)
    line = browser.screenshot_report(page, tmp_path / "report.png")
    assert line == f"screenshot: {tmp_path / 'report.png'} (3 charts rendered)"
    assert (tmp_path / "report.png").read_bytes().startswith(PNG_MAGIC)
