"""Chart and page helpers for every bench report (local, in-VPC, compare; later sweep and versions).

Plain data in, plotly figures and HTML out: nothing here knows a BenchReport. Plotly because its
figures carry ticks, units and hover values with no extra code, and `plotly.offline.get_plotlyjs()`
hands over the whole plotly.js bundle, so a report inlines it once and opens with no network
(no CDN, no web font, no MathJax). The bundle is ~4.8 MB: one copy per report file, which keeps
each report a single file that can be mailed, attached to an issue or opened from a CI artifact.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]
Spread = tuple[float, float]

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
REFERENCE_COLOUR = "#555555"
CHART_HEIGHT = 380
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}
BINS_PER_DECADE = 12


@dataclass(frozen=True)
class Reference:
    """A published figure drawn as a dashed line across a chart."""

    label: str
    value: float


@dataclass(frozen=True)
class Line:
    """One series of a time chart; `dash` and `axis` ("y" or "y2") tell it apart from its neighbours."""

    name: str
    points: Sequence[Point]
    unit: str
    dash: str = "solid"
    axis: str = "y"
    colour: str | None = None


@dataclass(frozen=True)
class KneePoint:
    """One load step of a saturation sweep: offered load against what came back."""

    offered: float
    achieved_rps: float
    p50_ms: float | None
    p95_ms: float | None


def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _layout(fig: Any, title: str, x_title: str, y_title: str, *, log_y: bool = False) -> Any:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        height=CHART_HEIGHT,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        legend={"orientation": "h", "y": -0.22, "x": 0},
        hovermode="x unified",
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
    )
    fig.update_xaxes(title_text=x_title, showline=True, linecolor="#999", ticks="outside", zeroline=False)
    fig.update_yaxes(title_text=y_title, showline=True, linecolor="#999", ticks="outside", rangemode="tozero")
    if log_y:
        fig.update_yaxes(type="log", rangemode="normal", dtick=1)
    return fig


def _right_axis(fig: Any, title: str) -> None:
    """The second y axis (traces with `yaxis="y2"`) on the right, from zero, with room for its tick labels."""
    fig.update_layout(
        yaxis2={
            "title": {"text": title},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
            "tickmode": "auto",
            "ticks": "outside",
        },
        margin={"r": 70},
    )


def _on_axis(value: float, log: bool) -> float:
    """Annotations on a log axis are placed in log10 units; shapes in data units (plotly's convention)."""
    return math.log10(value) if log else value


def _mark(fig: Any, axis: str, value: float, text: str, colour: str, *, log: bool, dash: str = "dash",
          height: float = 1.0, vertical_text: bool = False) -> None:  # fmt: skip
    """A reference line across the plot (axis "y": horizontal at y=value; "x": vertical) with its label."""
    if log and value <= 0:
        return
    line = {"color": colour, "width": 1 if dash != "solid" else 2, "dash": dash}
    if axis == "y":
        fig.add_shape(type="line", xref="paper", x0=0, x1=1, yref="y", y0=value, y1=value, line=line)
        fig.add_annotation(xref="paper", x=0.01, yref="y", y=_on_axis(value, log), text=text, showarrow=False,
                           xanchor="left", yanchor="bottom", font={"color": colour})  # fmt: skip
    else:
        fig.add_shape(type="line", yref="paper", y0=0, y1=1, xref="x", x0=value, x1=value, line=line)
        fig.add_annotation(yref="paper", y=height, xref="x", x=_on_axis(value, log), text=text, showarrow=False,
                           xanchor="right" if vertical_text else "left", yanchor="top",
                           textangle=-90 if vertical_text else 0, font={"color": colour})  # fmt: skip


def _references(fig: Any, references: Iterable[Reference], unit: str, *, log_y: bool = False) -> None:
    for ref in references:
        _mark(fig, "y", ref.value, f"{ref.label}: {ref.value:g} {unit}", REFERENCE_COLOUR, log=log_y)


def wants_log_axis(values: Iterable[float | None], ratio: float = 30.0) -> bool:
    """A log axis when the positive values span more than `ratio` (1 ms direct vs 2 s saturated)."""
    positive = [v for v in values if v is not None and v > 0]
    return bool(positive) and max(positive) / min(positive) > ratio


def time_chart(
    title: str,
    lines: Sequence[Line],
    *,
    y_title: str,
    y2_title: str | None = None,
    references: Sequence[Reference] = (),
    x_title: str = "time since the phase started (s)",
    log_y: bool = False,
) -> Any:
    """Series over time (seconds on x), optional second axis, published figures as dashed lines."""
    go = _go()
    fig = go.Figure()
    for i, line in enumerate(lines):
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in line.points],
                y=[p[1] for p in line.points],
                name=line.name,
                mode="lines",
                yaxis=line.axis,
                line={"dash": line.dash, "color": line.colour or COLOURS[i % len(COLOURS)], "width": 2},
                hovertemplate=f"%{{y:,.1f}} {html.escape(line.unit)}",
            )
        )
    _layout(fig, title, x_title, y_title, log_y=log_y)
    fig.update_xaxes(ticksuffix=" s")
    if y2_title is not None:
        _right_axis(fig, y2_title)
    _references(fig, references, y_title.rsplit("(", 1)[-1].rstrip(")") if "(" in y_title else "", log_y=log_y)
    return fig


def grouped_bars(
    title: str,
    categories: Sequence[str],
    groups: Mapping[str, Sequence[float | None]],
    *,
    y_title: str,
    unit: str,
    spread: Mapping[str, Sequence[Spread | None]] | None = None,
    references: Sequence[Reference] = (),
    markers: Mapping[str, Sequence[float | None]] | None = None,
    log_y: bool = False,
    colour_per_category: bool = False,
) -> Any:
    """Bars per category, one colour per group (or per category: variants, versions); `spread` adds
    min-max error bars (round-to-round), `markers` draws reference values per category (e.g. the
    published p50/p95/p99) as diamonds."""
    go = _go()
    fig = go.Figure()
    for i, (group, values) in enumerate(groups.items()):
        error_y = None
        ranges = (spread or {}).get(group)
        if ranges is not None:
            plus = [None if r is None or v is None else r[1] - v for r, v in zip(ranges, values, strict=True)]
            minus = [None if r is None or v is None else v - r[0] for r, v in zip(ranges, values, strict=True)]
            error_y = {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "thickness": 1.5}
        fig.add_trace(
            go.Bar(
                x=list(categories),
                y=list(values),
                name=group,
                marker_color=[COLOURS[j % len(COLOURS)] for j in range(len(categories))]
                if colour_per_category
                else COLOURS[i % len(COLOURS)],
                error_y=error_y,
                text=[None if v is None else f"{v:,.1f}" for v in values],
                textposition="outside" if error_y is None else "inside",
                cliponaxis=False,
                hovertemplate=f"{html.escape(group)}: %{{y:,.2f}} {html.escape(unit)}<extra></extra>",
            )
        )
    for name, values in (markers or {}).items():
        fig.add_trace(
            go.Scatter(
                x=list(categories),
                y=list(values),
                name=name,
                mode="markers",
                marker={
                    "symbol": "diamond",
                    "size": 12,
                    "color": REFERENCE_COLOUR,
                    "line": {"width": 1, "color": "white"},
                },
                hovertemplate=f"{html.escape(name)}: %{{y:,.1f}} {html.escape(unit)}<extra></extra>",
            )
        )
    _layout(fig, title, "", y_title, log_y=log_y)
    fig.update_layout(barmode="group", hovermode="closest")
    _references(fig, references, unit, log_y=log_y)
    return fig


def log_bins(histogram: Sequence[Sequence[float]], per_decade: int = BINS_PER_DECADE) -> list[tuple[float, float, int]]:
    """(low, high, count) bins of equal width on a log axis from exact (value, count) pairs."""
    pairs = [(float(v), int(n)) for v, n in histogram if n > 0]
    if not pairs:
        return []
    floor_value = min(v for v, _ in pairs if v > 0) if any(v > 0 for v, _ in pairs) else 0.01
    low_exp = math.floor(math.log10(floor_value) * per_decade) / per_decade
    high_exp = math.ceil(math.log10(max(max(v for v, _ in pairs), floor_value)) * per_decade) / per_decade
    count = max(1, round((high_exp - low_exp) * per_decade) + 1)
    edges = [10 ** (low_exp + i / per_decade) for i in range(count + 1)]
    counts = [0] * count
    for value, n in pairs:
        index = 0 if value <= 0 else int((math.log10(value) - low_exp) * per_decade + 1e-9)
        counts[min(max(index, 0), count - 1)] += n
    return [(edges[i], edges[i + 1], counts[i]) for i in range(count)]


def distribution_chart(
    title: str,
    histogram: Sequence[Sequence[float]],
    *,
    unit: str,
    x_title: str,
    markers: Mapping[str, float | None] = {},
    references: Sequence[Reference] = (),
) -> Any:
    """A histogram on a log axis (equal-width bins per decade) with percentile and published lines."""
    go = _go()
    bins = log_bins(histogram)
    fig = go.Figure()
    total = sum(n for *_, n in bins) or 1
    # A filled step line, not bars: bar widths on a log axis are not in data units.
    xs = [lo for lo, _, _ in bins] + [bins[-1][1]] if bins else []
    ys = [n for *_, n in bins] + [bins[-1][2]] if bins else []
    ranges = [[lo, hi, 100 * n / total] for lo, hi, n in bins] + ([[bins[-1][0], bins[-1][1], 0.0]] if bins else [])
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            customdata=ranges,
            mode="lines",
            line={"shape": "hv", "color": COLOURS[0], "width": 1.5},
            fill="tozeroy",
            name="responses",
            hovertemplate=(
                f"%{{customdata[0]:.3g}}-%{{customdata[1]:.3g}} {unit}: %{{y:,}} responses "
                "(%{customdata[2]:.1f} %)<extra></extra>"
            ),
        )
    )
    _layout(fig, title, x_title, "responses")
    fig.update_xaxes(type="log", ticksuffix=f" {unit}")
    fig.update_layout(hovermode="closest", showlegend=False)
    for i, (label, value) in enumerate(markers.items()):
        if value is not None:
            colour = COLOURS[(i + 1) % len(COLOURS)]
            _mark(fig, "x", value, f"{label} {value:g} {unit}", colour, log=True, dash="solid", height=1 - 0.08 * i)
    for ref in references:
        _mark(fig, "x", ref.value, f"{ref.label} {ref.value:g} {unit}", REFERENCE_COLOUR, log=True, vertical_text=True)
    return fig


def knee_chart(title: str, points: Sequence[KneePoint], *, offered_title: str) -> Any:
    """The knee curve of a saturation sweep: achieved RPS (left) and p50/p95 (right) per offered load."""
    go = _go()
    ordered = sorted(points, key=lambda p: p.offered)
    x = [p.offered for p in ordered]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p.achieved_rps for p in ordered],
            name="achieved RPS",
            mode="lines+markers",
            line={"color": COLOURS[0], "width": 2},
            hovertemplate="%{y:,.1f} req/s",
        )
    )
    for i, (name, values) in enumerate((("p50", [p.p50_ms for p in ordered]), ("p95", [p.p95_ms for p in ordered]))):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                name=f"{name} latency",
                mode="lines+markers",
                yaxis="y2",
                line={"color": COLOURS[i + 1], "dash": "dot"},
                hovertemplate="%{y:,.0f} ms",
            )
        )
    _layout(fig, title, offered_title, "achieved (req/s)")
    _right_axis(fig, "latency (ms)")
    return fig


def figure_html(fig: Any, div_id: str) -> str:
    """One figure as a <div> + <script> (plotly.js itself is in the page's head, once)."""
    fragment: str = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG)
    return f'<div class="chart">{fragment}</div>'


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str | None = None) -> str:
    """A plain HTML table; cells are escaped, the first column is the row's name."""
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        first, *rest = row
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in rest)
        body.append(f"<tr><th scope='row'>{html.escape(first)}</th>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1400px;margin:0 auto;padding:1.5em 2em 3em}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.facts{color:#555;margin:.2em 0 1em}
table{border-collapse:collapse;background:#fff;margin:.5em 0;font-variant-numeric:tabular-nums}
caption{text-align:left;color:#555;padding:.3em 0}
th,td{border:1px solid #ddd;padding:.35em .8em;text-align:right}
th[scope=row]{text-align:left;font-weight:500}thead th{background:#f0f3f7;text-align:center}
tbody tr:nth-child(even){background:#fbfcfd}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1em}
.chart{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:.3em}
.flag{background:#fff4e5;border-left:4px solid #f0a020;padding:.4em .8em;margin:.3em 0}
.ok{background:#eef8ee;border-left:4px solid #3a3;padding:.4em .8em;margin:.3em 0}
.notes li{margin:.3em 0}details{margin:1em 0}pre{background:#f3f3f3;padding:1em;overflow:auto}
a{color:#1a5fb4}
"""


def page(title: str, body: str) -> str:
    """The whole report: one HTML file, plotly.js inline, no request leaves the page."""
    from plotly.offline import get_plotlyjs

    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head>\n<body><main>\n{body}\n</main></body></html>\n"
    )
