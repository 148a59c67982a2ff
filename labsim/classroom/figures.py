"""The classroom's charts, from one run's tidy timeseries (and optionally the previous run's).

Plain Plotly, no Dash: the page shows these figures and the handout embeds
them. Time-series charts take a ``previous`` timeseries and overlay it as
dashed lines in the same colours, so a class sees what its last change did.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from labsim.report import run as run_report
from labsim.report.maps import WEEKS_PER_QUARTER, animate_quarters, style_world

FIGURES = {  # id: title shown above the chart on the page and in the handout
    "map": "Around the world: effective wage and employment, quarter by quarter",
    "wages": "Effective hourly wage by country",
    "exits": "Workers leaving, by reason",
    "automation": "Share of tasks done by models",
    "work": "Human work by task type",
    "value": "Where requesters' money goes",
}
FIGURE_HEIGHTS = {"map": 430}  # pixels; the others are 360
_LAYOUT = dict(template="plotly_white", height=360, margin=dict(l=60, r=20, t=50, b=40),
               legend=dict(orientation="h", y=-0.2), hovermode="x unified")
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f"]
REGION_COLORS = {"USA": "#1f77b4", "FRA": "#9467bd", "IND": "#ff7f0e", "PHL": "#2ca02c",
                 "VEN": "#d62728", "KEN": "#8c564b", "MDG": "#e377c2", "BGD": "#17becf"}
PREVIOUS = " (previous run)"


def _regional(ts: pl.DataFrame) -> pl.DataFrame:
    return ts.filter(pl.col("region") != "ALL")


def _market(ts: pl.DataFrame) -> pl.DataFrame:
    return ts.filter(pl.col("region") == "ALL")


# --- aggregations (tested on their own) ---------------------------------------------------

def quarterly_by_region(ts: pl.DataFrame) -> pl.DataFrame:
    """Per quarter and region: effective wage (earnings over paid + unpaid hours, null
    without hours) and employment (active workers, mean over the quarter's weeks)."""
    weekly = (_regional(ts).group_by("week", "region")
              .agg(pl.col("active_workers").sum(), pl.col("earnings_usd").sum(),
                   (pl.col("paid_hours") + pl.col("unpaid_hours")).sum().alias("hours")))
    return (weekly.group_by((pl.col("week") // WEEKS_PER_QUARTER).cast(pl.Int64).alias("quarter"), "region")
            .agg(pl.col("earnings_usd").sum(), pl.col("hours").sum(),
                 pl.col("active_workers").mean().alias("workers"))
            .with_columns(pl.when(pl.col("hours") > 0).then(pl.col("earnings_usd") / pl.col("hours"))
                          .otherwise(None).alias("wage"))
            .select("quarter", "region", "wage", "workers")
            .sort("quarter", "region"))


def weekly_wage_by_region(ts: pl.DataFrame) -> pl.DataFrame:
    """Per week and region, both channels together: earnings over paid + unpaid hours."""
    return (_regional(ts).group_by("week", "region")
            .agg(pl.col("earnings_usd").sum(), (pl.col("paid_hours") + pl.col("unpaid_hours")).sum().alias("h"))
            .filter(pl.col("h") > 0)
            .with_columns((pl.col("earnings_usd") / pl.col("h")).alias("wage"))
            .sort("region", "week"))


# --- the map ---------------------------------------------------------------------------

def _log_ticks(lo: float, hi: float, money: bool) -> tuple[list[float], list[str]]:
    steps = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000,
             5000, 10000, 20000, 50000]
    vals = [s for s in steps if lo / 1.01 <= s <= hi * 1.01] or [lo, hi]
    text = [(f"${v:g}" if money else f"{v:,.0f}" if v >= 1 else f"{v:g}") for v in vals]
    return [math.log10(v) for v in vals], text


def world_map(ts: pl.DataFrame) -> go.Figure:
    """Two world maps side by side, effective wage and employment by country, one frame
    per quarter with a play button. Colours are on a log scale fixed over the run, so a
    country's colour moves only when its own figure moves."""
    q = quarterly_by_region(ts)
    regions = sorted(set(q["region"].to_list()))
    quarters = sorted(set(q["quarter"].to_list())) or [0]
    cell = {(r["quarter"], r["region"]): r for r in q.iter_rows(named=True)}
    wages = [w for w in q["wage"].to_list() if w is not None and w > 0]
    workers = [w for w in q["workers"].to_list() if w is not None and w > 0]
    wlo, whi = (min(wages), max(wages)) if wages else (0.1, 10.0)
    nlo, nhi = (min(workers), max(workers)) if workers else (1.0, 100.0)
    wticks, wtext = _log_ticks(wlo, whi, money=True)
    nticks, ntext = _log_ticks(nlo, nhi, money=False)

    def choropleth(quarter: int, key: str, geo: str, coloraxis: str, what: str, fmt: str) -> go.Choropleth:
        values = [cell.get((quarter, r), {}).get(key) for r in regions]
        return go.Choropleth(
            locations=regions, locationmode="ISO-3", geo=geo, coloraxis=coloraxis, name=key,
            z=[math.log10(v) if v and v > 0 else None for v in values],
            text=[f"{r}: {fmt.format(v)}" if v else f"{r}: no workers yet" for r, v in zip(regions, values)],
            hovertemplate=f"%{{text}}<extra>{what}</extra>", marker_line_color="#555", marker_line_width=0.5)

    def traces(quarter: int) -> list[go.Choropleth]:
        return [choropleth(quarter, "wage", "geo", "coloraxis", "effective wage", "{:.2f} USD/h"),
                choropleth(quarter, "workers", "geo2", "coloraxis2", "active workers", "{:,.0f} workers")]

    fig = make_subplots(rows=1, cols=2, specs=[[{"type": "geo"}, {"type": "geo"}]],
                        subplot_titles=["Effective hourly wage (earnings / hours online)",
                                        "Employment (active workers)"],
                        horizontal_spacing=0.02)
    for i, trace in enumerate(traces(quarters[0])):
        fig.add_trace(trace, row=1, col=i + 1)
    animate_quarters(fig, quarters, traces, "Around the world", duration_ms=700, pad_top=30)
    fig.update_layout(
        height=430, template="plotly_white", margin=dict(l=10, r=10, t=70, b=100),
        coloraxis=dict(colorscale="Viridis", cmin=wticks[0] if wticks else 0, cmax=wticks[-1] if wticks else 1,
                       colorbar=dict(title=dict(text="USD/h"), tickvals=wticks, ticktext=wtext,
                                     x=0.46, len=0.8, thickness=12)),
        coloraxis2=dict(colorscale="Blues", cmin=nticks[0] if nticks else 0, cmax=nticks[-1] if nticks else 1,
                        colorbar=dict(title=dict(text="workers"), tickvals=nticks, ticktext=ntext,
                                      x=1.0, len=0.8, thickness=12)))
    style_world(fig, (-40, 70))
    return fig


# --- time series with an optional previous run -------------------------------------------------

def _color(name: str, i: int) -> str:
    return REGION_COLORS.get(name, PALETTE[i % len(PALETTE)])


def _style(fig: go.Figure) -> dict[str, str]:
    """Give every trace a fixed colour (by region code or by order); return name -> colour."""
    colors = {}
    for i, t in enumerate(fig.data):
        c = _color(t.name, i)
        colors[t.name] = c
        if isinstance(t, go.Scatter):
            t.line.color = c
            if t.stackgroup:
                t.fillcolor = _rgba(c, 0.55)
        else:
            t.marker.color = c
    return colors


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _overlay(fig: go.Figure, previous: go.Figure | None) -> go.Figure:
    """Add ``previous``'s lines to ``fig``, dashed, in the colour of the same-named trace."""
    colors = _style(fig)
    if previous is None:
        return fig
    n = len(colors)
    for t in previous.data:
        if not isinstance(t, go.Scatter):
            continue
        c = colors.get(t.name) or PALETTE[n % len(PALETTE)]
        n += t.name not in colors
        fig.add_trace(go.Scatter(
            x=t.x, y=t.y, name=f"{t.name}{PREVIOUS}", mode="lines", legendgroup=t.name,
            showlegend=False, line=dict(color=c, dash="dash", width=1.6), opacity=0.85,
            stackgroup=f"previous-{t.stackgroup}" if t.stackgroup else None,
            fill="none" if t.stackgroup else None,
            hovertemplate=f"{html.escape(str(t.name))}{PREVIOUS}: %{{y:.3~g}}<extra></extra>"))
    fig.add_annotation(text="dashed: previous run", xref="paper", yref="paper", x=1, y=1.08,
                       showarrow=False, font=dict(size=11, color="#555"), xanchor="right")
    fig.update_layout(legend_traceorder="normal")  # legend groups would stack the legend vertically
    return fig


def _mark_events(fig: go.Figure, events: list[tuple[float, str]]) -> go.Figure:
    for i, (week, what) in enumerate(events):
        fig.add_vline(x=week, line_dash="dot", line_color="#888", line_width=1)
        fig.add_annotation(x=week, y=1 - 0.07 * (i % 3), xref="x", yref="paper", text=html.escape(what),
                           showarrow=False,
                           xanchor="left", yanchor="top", font=dict(size=10, color="#555"),
                           bgcolor="rgba(255,255,255,0.7)")
    return fig


def _lines(d: pl.DataFrame, key: str, x: str, y: str, **scatter: Any) -> go.Figure:
    fig = go.Figure()
    for (name,), g in d.sort(key, x).group_by(key, maintain_order=True):
        fig.add_trace(go.Scatter(x=g[x].to_list(), y=g[y].to_list(), name=str(name), mode="lines", **scatter))
    return fig


def wages_figure(ts: pl.DataFrame) -> go.Figure:
    fig = _lines(weekly_wage_by_region(ts), "region", "week", "wage")
    ticks = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50]
    fig.update_layout(title="Effective hourly wage by country (earnings over paid and unpaid hours)",
                      xaxis_title="week", yaxis_title="USD per hour (log scale)", yaxis_type="log",
                      yaxis_tickvals=ticks, yaxis_ticktext=[f"${t:g}" for t in ticks], **_LAYOUT)
    return fig


def exits_table(ts: pl.DataFrame, smooth_weeks: int = 4) -> pl.DataFrame:
    """Exits per week by reason, as a moving average over ``smooth_weeks`` (a small
    classroom market has few exits a week)."""
    d = (_regional(ts).group_by("week").agg(pl.col("exits_low_pay", "exits_burnout", "exits_other").sum())
         .sort("week"))
    cols = {"exits_low_pay": "low pay", "exits_burnout": "burnout", "exits_other": "other reasons"}
    return (d.with_columns(pl.col(c).cast(pl.Float64).rolling_mean(smooth_weeks, min_samples=1) for c in cols)
            .unpivot(index="week", on=list(cols), variable_name="reason", value_name="exits")
            .with_columns(pl.col("reason").replace_strict(cols)))


def exits_figure(ts: pl.DataFrame) -> go.Figure:
    fig = _lines(exits_table(ts), "reason", "week", "exits")
    fig.update_layout(title="Workers leaving per week, by reason (4-week average)", xaxis_title="week",
                      yaxis_title="workers leaving per week", **_LAYOUT)
    return fig


def automation_figure(ts: pl.DataFrame) -> go.Figure:
    d = (_market(ts).group_by("week", "task_type").agg(pl.col("tasks_automated", "tasks_posted").sum())
         .filter(pl.col("tasks_posted") > 0)
         .with_columns((pl.col("tasks_automated") / pl.col("tasks_posted")).alias("share")))
    automated = (d.group_by("task_type").agg(pl.col("share").max()).filter(pl.col("share") > 0)["task_type"]
                 .to_list())
    fig = _lines(d.filter(pl.col("task_type").is_in(automated)) if automated else d, "task_type", "week", "share")
    fig.update_layout(title="Share of new tasks done by models, by task type (the automatable ones)",
                      xaxis_title="week", yaxis_title="share of tasks posted", yaxis_range=[0, 1],
                      yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def work_figure(ts: pl.DataFrame) -> go.Figure:
    d = _regional(ts).group_by("week", "task_type").agg(pl.col("paid_hours").sum())
    fig = _lines(d, "task_type", "week", "paid_hours")
    fig.update_layout(title="Paid hours of human work per week, by task type", xaxis_title="week",
                      yaxis_title="paid hours per week", **_LAYOUT)
    return fig


def value_figure(ts: pl.DataFrame) -> go.Figure:
    fig = run_report.value_split(ts)
    fig.update_layout(height=_LAYOUT["height"], legend=dict(orientation="h", y=-0.2))
    return fig


_SERIES = {"wages": wages_figure, "exits": exits_figure, "automation": automation_figure,
           "work": work_figure, "value": value_figure}


def classroom_figures(ts: pl.DataFrame, previous: pl.DataFrame | None = None,
                      events: list[tuple[float, str]] = ()) -> dict[str, go.Figure]:
    """Every chart of the page, keyed as ``FIGURES``; ``previous`` adds dashed lines."""
    figs = {"map": world_map(ts)}
    for key, build in _SERIES.items():
        fig = _overlay(build(ts), build(previous) if previous is not None else None)
        figs[key] = _mark_events(fig, list(events))
    return figs


# --- KPIs side by side ---------------------------------------------------------------------

KPI_ROWS = [  # key, label, format
    ("effective_wage_mean_usd_h", "Effective hourly wage, mean (USD/h)", "{:.2f}"),
    ("share_below_local_min_wage", "Workers below their local minimum wage", "pct"),
    ("annual_turnover_rate", "Annual turnover (exits per worker per year)", "{:.2f}"),
    ("exits_burnout", "Burnout exits", "{:,.0f}"),
    ("moderator_high_stress_share", "Moderators with high stress", "pct"),
    ("automation_share", "Share of tasks automated", "pct"),
    ("worker_share_of_spend", "Workers' share of requester spend", "pct"),
    ("requester_cost_per_task_usd", "Requester cost per task (USD)", "{:.4f}"),
    ("topup_usd", "Policy top-ups paid to workers (USD)", "{:,.0f}"),
]


def _fmt(v: Any, how: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if how == "pct":
        return f"{100 * float(v):.1f} %"
    return how.format(float(v))


def _fmt_diff(a: Any, b: Any, how: str) -> str:
    if a is None or b is None or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in (a, b)):
        return "–"
    d = float(a) - float(b)
    if how == "pct":
        return f"{100 * d:+.1f} pp"
    return ("+" if d >= 0 else "") + how.format(d)


def kpi_rows(kpis: dict, previous: dict | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the KPI table (this run, and the previous one with the difference)."""
    now = kpis.get("overall", {})
    prev = (previous or {}).get("overall", {}) if previous else None
    header = ["indicator (after warm-up)", "this run"]
    if prev is not None:
        header += ["previous run", "difference"]
    rows = []
    for key, label, how in KPI_ROWS:
        row = [label, _fmt(now.get(key), how)]
        if prev is not None:
            row += [_fmt(prev.get(key), how), _fmt_diff(now.get(key), prev.get(key), how)]
        rows.append(row)
    return header, rows


def figure_signature(fig: go.Figure) -> list[Any]:
    """The data of a figure as plain numbers (to tell whether two figures differ)."""
    out = []
    for t in fig.data:
        for attr in ("x", "y", "z"):
            v = getattr(t, attr, None)
            if v is not None:
                out.append([None if x is None else float(x) if isinstance(x, (int, float, np.number)) else str(x)
                            for x in v])
    return out
