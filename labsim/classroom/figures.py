"""The classroom's charts, from one run's tidy timeseries (and optionally the previous run's).

Plain Plotly, no Dash: the page shows these figures and the handout embeds
them. Time-series charts take a ``previous`` timeseries and overlay it as
dashed lines in the same colours, so a class sees what its last change did.
Colours, layout, number formats and KPI labels are the other pages' own
(``labsim.report.theme``): Kenya is the same brown here as in a run report.
"""

from __future__ import annotations

import html
import math
from typing import Any, Callable

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from labsim.indicators import counts, view
from labsim.report import run as run_report
from labsim.report import theme
from labsim.report.maps import animate_quarters, style_world
from labsim.stats import market as _market
from labsim.stats import quarterly_by_region
from labsim.stats import regional as _regional

FIGURES = {  # id: title shown above the chart on the page and in the handout
    "map": "Around the world: effective wage and employment, quarter by quarter",
    "wages": "Effective hourly wage by country",
    "exits": "Workers leaving, by reason",
    "automation": "Share of tasks done by models",
    "work": "Human work by task type",
    "value": "Where requesters' money goes",
}
FIGURE_HEIGHTS = {"map": 430}  # pixels; the others are SERIES_HEIGHT
SERIES_HEIGHT = 360
_LAYOUT = theme.layout(theme.SERIES_LAYOUT, height=SERIES_HEIGHT)
PREVIOUS = " (previous run)"


# --- aggregations (tested on their own) ---------------------------------------------------

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


def world_map(ts: pl.DataFrame, scale: float = 1.0) -> go.Figure:
    """Two world maps side by side, effective wage and employment by country, one frame
    per quarter with a play button. Colours are on a log scale fixed over the run, so a
    country's colour moves only when its own figure moves. A run at ``scale`` (a tenth of the
    population, say) shows head counts scaled back up to the real-world market's."""
    q = quarterly_by_region(ts).with_columns(pl.col("workers") / scale)
    regions = sorted(set(q["region"].to_list()))
    quarters = sorted(set(q["quarter"].to_list())) or [0]
    cell = {(r["quarter"], r["region"]): r for r in q.iter_rows(named=True)}
    wages = [w for w in q["wage"].to_list() if w is not None and w > 0]
    workers = [w for w in q["workers"].to_list() if w is not None and w > 0]
    wlo, whi = (min(wages), max(wages)) if wages else (0.1, 10.0)
    nlo, nhi = (min(workers), max(workers)) if workers else (1.0, 100.0)
    wticks, wtext = _log_ticks(wlo, whi, money=True)
    nticks, ntext = _log_ticks(nlo, nhi, money=False)

    def choropleth(quarter: int, key: str, geo: str, coloraxis: str, what: str, unit: str,
                   kind: str) -> go.Choropleth:
        values = [cell.get((quarter, r), {}).get(key) for r in regions]
        return go.Choropleth(
            locations=regions, locationmode="ISO-3", geo=geo, coloraxis=coloraxis, name=key,
            z=[math.log10(v) if v and v > 0 else None for v in values],
            text=[f"{theme.country_name(r)}: {theme.fmt(v, kind)} {unit}" if v
                  else f"{theme.country_name(r)}: no workers yet" for r, v in zip(regions, values)],
            hovertemplate=f"%{{text}}<extra>{what}</extra>", marker_line_color="#555", marker_line_width=0.5)

    def traces(quarter: int) -> list[go.Choropleth]:
        return [choropleth(quarter, "wage", "geo", "coloraxis", "effective wage", "USD/h", "usd"),
                choropleth(quarter, "workers", "geo2", "coloraxis2", "active workers", "workers", "count")]

    fig = make_subplots(rows=1, cols=2, specs=[[{"type": "geo"}, {"type": "geo"}]],
                        subplot_titles=["Effective hourly wage (earnings / hours online)",
                                        "Employment (active workers)" if scale == 1 else
                                        f"Employment (active workers; the run simulates 1 in {1 / scale:.3g})"],
                        horizontal_spacing=0.02)
    for i, trace in enumerate(traces(quarters[0])):
        fig.add_trace(trace, row=1, col=i + 1)
    animate_quarters(fig, quarters, traces, "Around the world", duration_ms=700, pad_top=30)
    fig.update_layout(**theme.layout(
        height=FIGURE_HEIGHTS["map"], margin=dict(l=10, r=10, t=70, b=100),
        coloraxis=dict(colorscale=theme.MONEY_SCALE, cmin=wticks[0] if wticks else 0,
                       cmax=wticks[-1] if wticks else 1,
                       colorbar=dict(title=dict(text="USD/h"), tickvals=wticks, ticktext=wtext,
                                     x=0.46, len=0.8, thickness=12)),
        coloraxis2=dict(colorscale=theme.COUNT_SCALE, cmin=nticks[0] if nticks else 0,
                        cmax=nticks[-1] if nticks else 1,
                        colorbar=dict(title=dict(text="workers"), tickvals=nticks, ticktext=ntext,
                                      x=1.0, len=0.8, thickness=12))))
    style_world(fig, (-40, 70))
    return fig


# --- time series with an optional previous run -------------------------------------------------

def _overlay(fig: go.Figure, previous: go.Figure | None) -> go.Figure:
    """Add ``previous``'s lines to ``fig``, dashed, in the colour of the same-named trace
    (every chart gives each series its theme colour, so a series found only in the previous
    run keeps its own colour too)."""
    if previous is None:
        return fig
    for t in previous.data:
        if not isinstance(t, go.Scatter):
            continue
        fig.add_trace(go.Scatter(
            x=t.x, y=t.y, name=f"{t.name}{PREVIOUS}", mode="lines", legendgroup=t.legendgroup or t.name,
            showlegend=False, line=dict(color=t.line.color, dash="dash", width=1.6), opacity=0.85,
            stackgroup=f"previous-{t.stackgroup}" if t.stackgroup else None,
            fill="none" if t.stackgroup else None,
            hovertemplate=f"{html.escape(str(t.name))}{PREVIOUS}: %{{y:.3~g}}<extra></extra>"))
    fig.add_annotation(text="dashed: previous run", xref="paper", yref="paper", x=1, y=1.08,
                       showarrow=False, font=dict(size=11, color="#555"), xanchor="right")
    fig.update_layout(legend_traceorder="normal")  # legend groups would stack the legend vertically
    return fig


def _mark_events(fig: go.Figure, events: list[tuple[float, str]]) -> go.Figure:
    for i, (week, what) in enumerate(events):
        fig.add_vline(x=week, line_dash="dot", line_color=theme.EVENT_COLOR, line_width=1)
        fig.add_annotation(x=week, y=1 - 0.07 * (i % 3), xref="x", yref="paper", text=html.escape(what),
                           showarrow=False,
                           xanchor="left", yanchor="top", font=dict(size=10, color="#555"),
                           bgcolor="rgba(255,255,255,0.7)")
    return fig


def _lines(d: pl.DataFrame, key: str, x: str, y: str, color: Callable[[str], str],
           label: Callable[[str], str] = str) -> go.Figure:
    """One line per value of ``key``, each in its own colour (``color(value)``), named ``label(value)``
    (the value itself stays the trace's legend group)."""
    fig = go.Figure()
    for (name,), g in d.sort(key, x).group_by(key, maintain_order=True):
        fig.add_trace(go.Scatter(x=g[x].to_list(), y=g[y].to_list(), name=label(str(name)), mode="lines",
                                 legendgroup=str(name), line=dict(color=color(str(name)))))
    return fig


def wages_figure(ts: pl.DataFrame) -> go.Figure:
    fig = _lines(weekly_wage_by_region(ts), "region", "week", "wage", theme.region_color, theme.country_name)
    ticks = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50]
    fig.update_layout(title="Effective hourly wage by country (earnings over paid and unpaid hours)",
                      xaxis_title="week", yaxis_title="USD per hour (log scale)", yaxis_type="log",
                      yaxis_tickvals=ticks, yaxis_ticktext=[f"${t:g}" for t in ticks], **_LAYOUT)
    return fig


def exits_table(ts: pl.DataFrame, smooth_weeks: int = 4) -> pl.DataFrame:
    """Exits per week by reason, as a moving average over ``smooth_weeks`` (a small
    classroom market has few exits a week)."""
    cols = {col: label for col, (label, _) in theme.EXIT_REASONS.items()}
    d = _regional(ts).group_by("week").agg(pl.col(list(cols)).sum()).sort("week")
    return (d.with_columns(pl.col(c).cast(pl.Float64).rolling_mean(smooth_weeks, min_samples=1) for c in cols)
            .unpivot(index="week", on=list(cols), variable_name="reason", value_name="exits")
            .with_columns(pl.col("reason").replace_strict(cols)))


def exits_figure(ts: pl.DataFrame) -> go.Figure:
    fig = _lines(exits_table(ts), "reason", "week", "exits", theme.exit_color)
    fig.update_layout(title="Workers leaving per week, by reason (4-week average)", xaxis_title="week",
                      yaxis_title="workers leaving per week", **_LAYOUT)
    return fig


def automation_figure(ts: pl.DataFrame) -> go.Figure:
    d = (_market(ts).group_by("week", "task_type").agg(pl.col("tasks_automated", "tasks_posted").sum())
         .filter(pl.col("tasks_posted") > 0)
         .with_columns((pl.col("tasks_automated") / pl.col("tasks_posted")).alias("share")))
    automated = (d.group_by("task_type").agg(pl.col("share").max()).filter(pl.col("share") > 0)["task_type"]
                 .to_list())
    fig = _lines(d.filter(pl.col("task_type").is_in(automated)) if automated else d, "task_type", "week",
                 "share", theme.task_type_color, theme.task_type_label)
    fig.update_layout(title="Share of new tasks done by models, by task type (the automatable ones)",
                      xaxis_title="week", yaxis_title="share of tasks posted", yaxis_range=[0, 1],
                      yaxis_tickformat=theme.tickformat("share"), **_LAYOUT)
    return fig


def work_figure(ts: pl.DataFrame) -> go.Figure:
    d = _regional(ts).group_by("week", "task_type").agg(pl.col("paid_hours").sum())
    fig = _lines(d, "task_type", "week", "paid_hours", theme.task_type_color, theme.task_type_label)
    fig.update_layout(title="Paid hours of human work per week, by task type", xaxis_title="week",
                      yaxis_title="paid hours per week", **_LAYOUT)
    return fig


def value_figure(ts: pl.DataFrame) -> go.Figure:
    fig = run_report.value_split(ts)
    fig.update_layout(**_LAYOUT)
    return fig


_SERIES = {"wages": wages_figure, "exits": exits_figure, "automation": automation_figure,
           "work": work_figure, "value": value_figure}


def classroom_figures(ts: pl.DataFrame, previous: pl.DataFrame | None = None,
                      events: list[tuple[float, str]] = (), scale: float = 1.0) -> dict[str, go.Figure]:
    """Every chart of the page, keyed as ``FIGURES``; ``previous`` adds dashed lines; ``scale`` is the
    run's (head counts on the map are scaled back up)."""
    figs = {"map": world_map(ts, scale)}
    for key, build in _SERIES.items():
        fig = _overlay(build(ts), build(previous) if previous is not None else None)
        figs[key] = _mark_events(fig, list(events))
    return figs


# --- KPIs side by side ---------------------------------------------------------------------

# The indicators of the table under the charts (labsim.indicators' classroom view).
KPI_ROWS = view("classroom")


def _diff(key: str, a: Any, b: Any) -> str:
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in (a, b)):
        return theme.MISSING
    return theme.fmt_kpi(key, float(a) - float(b), signed=True)


def _table_window(kpis: dict, previous: dict | None) -> tuple[str, str]:
    """The window the table shows: ``after`` (from a quarter after the policies start to the end) when
    both runs have it over the same weeks, else the weeks after the warm-up; and the header's words."""
    def weeks(k: dict | None, name: str) -> str | None:
        return ((k or {}).get("windows") or {}).get(name, {}).get("weeks")

    after = weeks(kpis, "after")
    if after and (previous is None or weeks(previous, "after") == after):
        return "after", f"indicator (weeks {after.replace(':', '–')}: once the policies have settled in)"
    kpi = weeks(kpis, "kpi")
    return "kpi", "indicator (after warm-up)" if not kpi else f"indicator (weeks {kpi.replace(':', '–')}, after warm-up)"


def calibration_notes(kpis: dict) -> str:
    """Why a run is outside the calibrated setting (its ``meta.outside_calibration``), as one line, or ""."""
    notes = (kpis.get("meta") or {}).get("outside_calibration") or []
    return ("Outside the calibrated setting, so read the numbers with care: " + "; ".join(notes) + ".") if notes else ""


# Rows that are totals over the market (the catalogue's counts; the rest are per worker, per task or
# shares): a run at a tenth of the population shows them scaled back up to the real-world market's.
TOTAL_ROWS = counts()


def kpi_rows(kpis: dict, previous: dict | None = None, scale: float = 1.0) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the KPI table (this run, and the previous one with the difference), over
    the weeks after the policies start when both runs have them (see ``_table_window``); totals
    (``TOTAL_ROWS``) of a run at ``scale`` are divided by it, as the real-world market's."""
    window, words = _table_window(kpis, previous)

    def scope(k: dict) -> dict:  # the window's KPIs (a kpis.json without windows: its top level)
        o = (k.get("windows") or {}).get(window, k).get("overall", {})
        return {key: (v / scale if key in TOTAL_ROWS and isinstance(v, (int, float)) else v) for key, v in o.items()}

    now = scope(kpis)
    prev = scope(previous) if previous else None
    header = [words, "this run"]
    if prev is not None:
        header += ["previous run", "difference"]
    rows = []
    for key in KPI_ROWS:
        label = theme.kpi_label(key)
        if key in TOTAL_ROWS and scale != 1:
            label += f", real-world market (the run simulates 1 in {1 / scale:.3g})"
        row = [label, theme.fmt_kpi(key, now.get(key))]
        if prev is not None:
            row += [theme.fmt_kpi(key, prev.get(key)), _diff(key, now.get(key), prev.get(key))]
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
