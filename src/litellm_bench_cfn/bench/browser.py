"""Open a report in headless Chromium: check that its charts rendered and keep a screenshot.

Playwright drives Debian's Chromium (`/usr/bin/chromium`, or $CHROMIUM); it never downloads a
browser of its own. Every request that is not the report itself (file:, data:, about:) is refused
and counted, so a report that would need the network shows up as `blocked_requests`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1400, 900


@dataclass
class Rendered:
    """What the browser saw: plotly plots and their SVG layers, console errors, refused requests."""

    plots: int
    svgs: int
    tables: int
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def clean(self) -> bool:
        return not (self.console_errors or self.page_errors or self.blocked_requests)


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable() -> str | None:
    """Why no report can be opened here (None when Chromium and Playwright are both installed)."""
    missing = []
    if find_chromium() is None:
        missing.append("chromium (Debian package `chromium`, or set CHROMIUM)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright (pip)")
    return f"not installed: {', '.join(missing)}" if missing else None


def render(report: Path, screenshot: Path | None = None, *, timeout_s: float = 60) -> Rendered:
    """Open `report` (a local HTML file) offline, wait for its plots, return what rendered."""
    from playwright.sync_api import Route, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium is not installed (Debian package `chromium`, or set CHROMIUM)")
    console_errors: list[str] = []
    page_errors: list[str] = []
    blocked: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT},
            timeout=timeout_s * 1000,
        )
        try:
            page = context.new_page()

            def route(request_route: Route) -> None:
                url = request_route.request.url
                if url.startswith(LOCAL_SCHEMES):
                    request_route.continue_()
                else:
                    blocked.append(url)
                    request_route.abort()

            page.route("**/*", route)
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.goto(report.resolve().as_uri(), wait_until="load", timeout=timeout_s * 1000)
            plots = page.locator(".js-plotly-plot")
            expected = page.locator("div.chart").count()
            if expected:
                try:
                    page.wait_for_function(
                        f"document.querySelectorAll('.js-plotly-plot').length >= {expected}",
                        timeout=timeout_s * 1000,
                    )
                except PlaywrightTimeout:
                    page_errors.append(f"only {plots.count()} of {expected} charts rendered within {timeout_s:g}s")
            rendered = Rendered(
                plots=plots.count(),
                svgs=page.locator(".js-plotly-plot .main-svg").count(),
                tables=page.locator("table").count(),
                console_errors=console_errors,
                page_errors=page_errors,
                blocked_requests=blocked,
            )
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
                rendered.screenshot = screenshot
        finally:
            context.close()
    return rendered


def screenshot_report(report: Path, screenshot: Path) -> str:
    """For the bench commands: keep a screenshot beside the report; one line saying what happened."""
    reason = unavailable()
    if reason is not None:
        return f"screenshot: skipped ({reason})"
    try:
        rendered = render(report, screenshot)
    except Exception as exc:  # a browser problem must never cost the results already written
        return f"screenshot: failed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    problems = rendered.console_errors + rendered.page_errors + [f"blocked {u}" for u in rendered.blocked_requests]
    suffix = f"; the page reported: {problems[0]}" if problems else ""
    return f"screenshot: {screenshot} ({rendered.plots} charts rendered){suffix}"
