"""The dashboard of one run: who works where, for how much, and what is left undone."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl

from labsim.report.page import figure_html, page, table_html
from labsim.results import Results

_LAYOUT = dict(template="plotly_white", height=380, margin=dict(l=60, r=20, t=50, b=40),
               legend=dict(orientation="h", y=-0.18), hovermode="x unified")


def _fmt(v: object, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def _regional(ts: pl.DataFrame) -> pl.DataFrame:
    return ts.filter(pl.col("region") != "ALL")


def workers_by_region(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).group_by("week", "region").agg(pl.col("active_workers").sum())
         .sort("region", "week"))
    fig = go.Figure()
    for region, g in d.group_by("region", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["active_workers"], name=region[0],
                                 stackgroup="one", mode="lines"))
    fig.update_layout(title="Active workers by region", xaxis_title="week",
                      yaxis_title="workers", **_LAYOUT)
    return fig


def wage_by_region(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).group_by("week", "region", "channel")
         .agg(pl.col("earnings_usd").sum(), (pl.col("paid_hours") + pl.col("unpaid_hours")).sum().alias("h"))
         .filter(pl.col("h") > 0)
         .with_columns((pl.col("earnings_usd") / pl.col("h")).alias("wage"))
         .sort("channel", "region", "week"))
    fig = go.Figure()
    for (region, channel), g in d.group_by("region", "channel", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["wage"], name=f"{region} {channel}", mode="lines",
                                 line=dict(dash="solid" if channel == "crowd" else "dot")))
    fig.update_layout(title="Effective hourly wage by region (earnings over paid + unpaid hours)",
                      xaxis_title="week", yaxis_title="USD per hour", **_LAYOUT)
    return fig


def tasks_flow(ts: pl.DataFrame) -> go.Figure:
    done = _regional(ts).group_by("week").agg(pl.col("tasks_done_human").sum()).sort("week")
    market = (ts.filter(pl.col("region") == "ALL").group_by("week")
              .agg(pl.col("tasks_posted", "tasks_expired", "backlog").sum()).sort("week"))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=market["week"], y=market["tasks_posted"], name="posted", mode="lines"))
    fig.add_trace(go.Scatter(x=done["week"], y=done["tasks_done_human"], name="done by humans", mode="lines"))
    fig.add_trace(go.Scatter(x=market["week"], y=market["tasks_expired"], name="expired", mode="lines"))
    fig.add_trace(go.Scatter(x=market["week"], y=market["backlog"], name="open at week end",
                             mode="lines", line=dict(dash="dot")))
    fig.update_layout(title="Tasks posted, done and expired per week", xaxis_title="week",
                      yaxis_title="tasks", **_LAYOUT)
    return fig


def piece_rates(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).filter(pl.col("channel") == "crowd").group_by("week", "task_type")
         .agg(pl.col("earnings_usd").sum(), pl.col("tasks_done_human").sum())
         .filter(pl.col("tasks_done_human") > 0)
         .with_columns((pl.col("earnings_usd") / pl.col("tasks_done_human")).alias("rate"))
         .sort("task_type", "week"))
    fig = go.Figure()
    for t, g in d.group_by("task_type", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["rate"], name=t[0], mode="lines"))
    fig.update_layout(title="Mean piece rate paid on the crowd platform, by task type",
                      xaxis_title="week", yaxis_title="USD per accepted task", yaxis_type="log", **_LAYOUT)
    return fig


def run_figures(results: Results) -> dict[str, go.Figure]:
    ts = results.timeseries
    return {"workers": workers_by_region(ts), "wages": wage_by_region(ts),
            "tasks": tasks_flow(ts), "rates": piece_rates(ts)}


_CARDS = [("effective_wage_mean_usd_h", "effective wage, mean (USD/h)"),
          ("effective_wage_median_usd_h", "effective wage, median (USD/h)"),
          ("paid_wage_mean_usd_h", "paid-hour wage, mean (USD/h)"),
          ("unpaid_min_per_paid_hour", "unpaid minutes per paid hour"),
          ("share_below_local_min_wage", "share below local minimum wage"),
          ("hours_per_week_mean", "hours per week"),
          ("annual_turnover_rate", "annual turnover"),
          ("platform_commission_share", "platform fees / crowd spend")]
_REGION_COLS = ["workers_counted", "effective_wage_mean_usd_h", "effective_wage_median_usd_h",
                "paid_wage_mean_usd_h", "share_below_local_min_wage", "hours_per_week_mean",
                "annual_turnover_rate", "worker_pay_usd"]


def run_report(results: Results, title: str = "labsim run") -> str:
    k = results.kpis
    overall = k["overall"]
    cards = "".join(f"<div class='card'><div class='v'>{_fmt(overall.get(key))}</div>"
                    f"<div class='k'>{label}</div></div>" for key, label in _CARDS)
    rows = [[code] + [_fmt(v.get(c)) for c in _REGION_COLS] for code, v in k["by_region"].items()]
    rows += [[f"all {chan}"] + [_fmt(v.get(c)) for c in _REGION_COLS]
             for chan, v in k.get("by_channel", {}).items()]
    figs = run_figures(results)
    sections = [
        f"<div class='cards'>{cards}</div>",
        "<p class='note'>KPIs cover the weeks after warm-up; means are over workers with at least "
        "one paid hour, as surveys report them. Effective wage counts unpaid search and rejected "
        "work as working time.</p>",
        "<h2>By region and channel</h2>", table_html(["scope"] + _REGION_COLS, rows),
        "<h2>Workers</h2>", f"<div class='fig'>{figure_html(figs['workers'], 'fig-workers')}</div>",
        "<h2>Wages</h2>", f"<div class='fig'>{figure_html(figs['wages'], 'fig-wages')}</div>",
        "<h2>Tasks</h2>", f"<div class='fig'>{figure_html(figs['tasks'], 'fig-tasks')}</div>",
        "<h2>Piece rates</h2>", f"<div class='fig'>{figure_html(figs['rates'], 'fig-rates')}</div>",
    ]
    meta = results.meta
    subtitle = " · ".join(f"{key} {meta[key]}" for key in ("scenario", "seed", "labsim_version", "git_commit")
                          if meta.get(key) is not None)
    return page(title, subtitle, sections)
