"""The dashboard of one run: who works where, for how much, and what is left undone."""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go
import polars as pl

from labsim.indicators import view
from labsim.model.units import CHANNELS, CROWD, HOURS_PER_WEEK
from labsim.report import theme
from labsim.report.page import figure_html, page, table_html
from labsim.report.theme import SERIES_LAYOUT as _LAYOUT
from labsim.results import MODERATION, Results, cohort_survival
from labsim.stats import market as _market
from labsim.stats import regional as _regional

_CROWD = CHANNELS[CROWD]


_SHARE = theme.tickformat("share")


def _count_axis(counts: pl.Series) -> dict:
    """A secondary axis of head counts: whole numbers from zero, its own ticks (not the left axis's
    grid, which would put them at 9.9, 19.8...)."""
    top = max(1.0, float(counts.max() or 0))
    step = max(1, math.ceil(top / 5))
    return dict(range=[0, step * math.ceil(top * 1.05 / step)], dtick=step, tick0=0, tickformat=",d",
                showgrid=False, tickmode="linear")


def _stacked(fig: go.Figure, color: str) -> None:
    """Colour the last stacked area added to ``fig``: its line and, lighter, its fill."""
    fig.data[-1].line.color = color
    fig.data[-1].fillcolor = theme.rgba(color, 0.55)


def workers_by_region(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).group_by("week", "region").agg(pl.col("active_workers").sum())
         .sort("region", "week"))
    fig = go.Figure()
    for (region,), g in d.group_by("region", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["active_workers"], name=theme.country_name(region),
                                 legendgroup=region, stackgroup="one", mode="lines"))
        _stacked(fig, theme.region_color(region))
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
    # The colour says the region, the dash the channel.
    for (region, channel), g in d.group_by("region", "channel", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["wage"], name=f"{theme.country_name(region)}, {channel}",
                                 legendgroup=region, mode="lines",
                                 line=dict(color=theme.region_color(region),
                                           dash=theme.CHANNEL_DASH.get(channel, "dash"))))
    fig.update_layout(title="Effective hourly wage by region (earnings over paid + unpaid hours)",
                      xaxis_title="week", yaxis_title="USD per hour", **_LAYOUT)
    return fig


def tasks_flow(ts: pl.DataFrame) -> go.Figure:
    done = _regional(ts).group_by("week").agg(pl.col("tasks_done_human").sum()).sort("week")
    market = (_market(ts).group_by("week")
              .agg(pl.col("tasks_posted", "tasks_expired", "backlog").sum()).sort("week"))
    fig = go.Figure()
    for frame, col, name, dash in ((market, "tasks_posted", "posted", "solid"),
                                   (done, "tasks_done_human", "done by humans", "solid"),
                                   (market, "tasks_expired", "expired", "solid"),
                                   (market, "backlog", "open at week end", "dot")):
        fig.add_trace(go.Scatter(x=frame["week"], y=frame[col], name=name, mode="lines",
                                 line=dict(color=theme.TASK_FLOW_COLORS[col], dash=dash)))
    fig.update_layout(title="Tasks posted, done and expired per week", xaxis_title="week",
                      yaxis_title="tasks", **_LAYOUT)
    return fig


def _by_task_type(fig: go.Figure, d: pl.DataFrame, y: str) -> None:
    """One line per task type, in the task type's colour."""
    for (t,), g in d.group_by("task_type", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g[y], name=theme.task_type_label(t), legendgroup=t, mode="lines",
                                 line=dict(color=theme.task_type_color(t))))


def piece_rates(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).filter(pl.col("channel") == _CROWD).group_by("week", "task_type")
         .agg(pl.col("earnings_usd").sum(), pl.col("tasks_done_human").sum())
         .filter(pl.col("tasks_done_human") > 0)
         .with_columns((pl.col("earnings_usd") / pl.col("tasks_done_human")).alias("rate"))
         .sort("task_type", "week"))
    fig = go.Figure()
    _by_task_type(fig, d, "rate")
    fig.update_layout(title="Mean piece rate paid on the crowd platform, by task type",
                      xaxis_title="week", yaxis_title="USD per accepted task", yaxis_type="log", **_LAYOUT)
    return fig


def exits_by_reason(ts: pl.DataFrame) -> go.Figure:
    d = _regional(ts).group_by("week").agg(pl.col(list(theme.EXIT_REASONS)).sum()).sort("week")
    fig = go.Figure()
    for col, (name, color) in theme.EXIT_REASONS.items():
        fig.add_trace(go.Bar(x=d["week"], y=d[col], name=name, marker_color=color))
    fig.update_layout(title="Exits per week, by reason", barmode="stack", xaxis_title="week",
                      yaxis_title="workers leaving", **_LAYOUT)
    return fig


def survival(results: Results) -> go.Figure:
    meta = results.kpis.get("overall", {})
    weeks = meta.get("window_weeks", 0.0)
    last_week = int(results.timeseries["week"].max()) + 1 if results.timeseries.height else 0
    start_h, end_h = (last_week - weeks) * HOURS_PER_WEEK, last_week * HOURS_PER_WEEK
    d = cohort_survival(results.workers, start_h, end_h, by="channel")
    fig = go.Figure()
    if d.height:
        for (chan,), g in d.group_by("channel", maintain_order=True):
            fig.add_trace(go.Scatter(x=g["month"], y=g["share_active"], mode="lines+markers",
                                     name=f"{chan} (n={g['cohort_size'][0]})", legendgroup=chan,
                                     line=dict(color=theme.channel_color(chan))))
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="half-life")
    fig.update_layout(title="Cohort survival: share of joiners still working, by months since joining",
                      xaxis_title="months since joining", yaxis_title="share still active", yaxis_tickformat=_SHARE,
                      yaxis_range=[0, 1.02], **_LAYOUT)
    return fig


def wellbeing(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).filter(pl.col("task_type") == MODERATION).group_by("week", "channel")
         .agg(pl.col("active_workers", "high_stress_workers", "exits_burnout").sum())
         .filter(pl.col("active_workers") > 0)
         .with_columns((pl.col("high_stress_workers") / pl.col("active_workers")).alias("share"))
         .sort("channel", "week"))
    fig = go.Figure()
    for (chan,), g in d.group_by("channel", maintain_order=True):
        color = theme.channel_color(chan)
        fig.add_trace(go.Scatter(x=g["week"], y=g["share"], mode="lines", name=f"high stress, {chan}", legendgroup=chan,
                                 line=dict(color=color)))
        fig.add_trace(go.Bar(x=g["week"], y=g["exits_burnout"], name=f"burnout exits, {chan}", legendgroup=chan,
                             yaxis="y2", opacity=0.4, marker_color=color))
    fig.update_layout(title="Moderators: share with high stress, and burnout exits per week",
                      xaxis_title="week", yaxis=dict(title="share with high stress", range=[0, 1], tickformat=_SHARE),
                      yaxis2=dict(title="burnout exits", overlaying="y", side="right", **_count_axis(d["exits_burnout"])),
                      **_LAYOUT)
    return fig


def night_work(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).group_by("region", "channel")
         .agg(pl.col("night_hours").sum(), (pl.col("paid_hours") + pl.col("unpaid_hours")).sum().alias("h"))
         .filter(pl.col("h") > 0).with_columns((pl.col("night_hours") / pl.col("h")).alias("share"))
         .sort("region", "channel"))
    fig = go.Figure()
    for (chan,), g in d.group_by("channel", maintain_order=True):
        fig.add_trace(go.Bar(x=[theme.country_name(r) for r in g["region"]], y=g["share"], name=chan,
                             legendgroup=chan, marker_color=theme.channel_color(chan)))
    fig.update_layout(title="Share of working hours at night (22:00-06:00 local time)",
                      barmode="group", yaxis_title="share of hours", yaxis_tickformat=_SHARE, yaxis_range=[0, 1], **_LAYOUT)
    return fig


def automation(ts: pl.DataFrame) -> go.Figure:
    d = (_market(ts).group_by("week", "task_type").agg(pl.col("tasks_automated", "tasks_posted").sum())
         .filter(pl.col("tasks_posted") > 0)
         .with_columns((pl.col("tasks_automated") / pl.col("tasks_posted")).alias("share"))
         .sort("task_type", "week"))
    fig = go.Figure()
    _by_task_type(fig, d, "share")
    fig.update_layout(title="Share of tasks done by models, by task type", xaxis_title="week",
                      yaxis_title="automated share of tasks posted", yaxis_tickformat=_SHARE, yaxis_range=[0, 1], **_LAYOUT)
    return fig


def time_to_fill(ts: pl.DataFrame) -> go.Figure:
    d = _market(ts).filter(pl.col("channel") == _CROWD).sort("task_type", "week")
    fig = go.Figure()
    _by_task_type(fig, d, "mean_time_to_fill_h")
    fig.update_layout(title="Mean time to fill a crowd batch",
                      xaxis_title="week", yaxis_title="hours", **_LAYOUT)
    return fig


def work_shares(ts: pl.DataFrame) -> go.Figure:
    d = _regional(ts).group_by("week", "region").agg(pl.col("paid_hours").sum()).sort("region", "week")
    total = d.group_by("week").agg(pl.col("paid_hours").sum().alias("all"))
    d = d.join(total, on="week").with_columns((pl.col("paid_hours") / pl.col("all")).alias("share"))
    fig = go.Figure()
    for (region,), g in d.group_by("region", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["share"], name=theme.country_name(region), legendgroup=region,
                                 stackgroup="one", mode="lines"))
        _stacked(fig, theme.region_color(region))
    fig.update_layout(title="Where the work is done: share of paid hours by region", xaxis_title="week",
                      yaxis_title="share of paid hours", yaxis_tickformat=_SHARE, yaxis_range=[0, 1], **_LAYOUT)
    return fig


def value_split(ts: pl.DataFrame) -> go.Figure:
    """Where requesters' money (and any public money) goes each week, stacked.

    Worker pay is split into pay for work and policy top-ups (wage floor,
    paid search); the levy, support and training services and benefits appear
    once a policy puts money there, so a policy's cost is visible. Each flow
    has its own colour (``theme.MONEY_FLOWS``), whichever others are drawn.
    """
    compute = "compute_cost_usd"  # a market flow: on the ALL rows, not the regions'
    have = [f.column for f in theme.MONEY_FLOWS if f.column in ts.columns and f.column != compute]
    reg = _regional(ts).group_by("week").agg(pl.col(have).sum())
    comp = _market(ts).group_by("week").agg(pl.col(compute).sum())
    d = reg.join(comp, on="week", how="left").fill_null(0).sort("week")
    if "topup_usd" in have:
        d = d.with_columns((pl.col("earnings_usd") - pl.col("topup_usd")).alias("earnings_usd"))
    fig = go.Figure()
    for flow in theme.MONEY_FLOWS:
        if flow.column not in d.columns or not (flow.always or d[flow.column].abs().sum() > 0):
            continue
        if flow.stacked:
            fig.add_trace(go.Scatter(x=d["week"], y=d[flow.column], name=flow.label, legendgroup=flow.column, stackgroup="one",
                                     mode="lines"))
            _stacked(fig, flow.color)
        else:
            fig.add_trace(go.Scatter(x=d["week"], y=d[flow.column], name=flow.label, legendgroup=flow.column, mode="lines",
                                     line=dict(color=flow.color, dash="dot")))
    fig.update_layout(title="Where requesters' money goes, per week (dotted: benefits and public money, paid beside it)",
                      xaxis_title="week", yaxis_title="USD", **_LAYOUT)
    return fig


def run_figures(results: Results) -> dict[str, go.Figure]:
    ts = results.timeseries
    figs = {"workers": workers_by_region(ts), "wages": wage_by_region(ts),
            "tasks": tasks_flow(ts), "rates": piece_rates(ts), "exits": exits_by_reason(ts),
            "survival": survival(results), "wellbeing": wellbeing(ts), "night": night_work(ts),
            "automation": automation(ts), "pricing": time_to_fill(ts), "shares": work_shares(ts),
            "value": value_split(ts)}
    for fig in figs.values():
        if fig.layout.xaxis.title.text == "week":
            mark_events(fig, results.meta.get("events") or [])
    return figs


def mark_events(fig: go.Figure, events: list[dict]) -> None:
    """A dotted line where each policy starts or region enters (weeks from 0, as the x axis)."""
    for e in events:
        fig.add_vline(x=e["week"], line_dash="dot", line_color=theme.EVENT_COLOR, line_width=1.5,
                      annotation_text=e["what"], annotation_position="top left",
                      annotation_font_size=11, annotation_font_color=theme.EVENT_COLOR)


# The headline cards and the columns of the table by region and channel (labsim.indicators' views).
_CARDS = view("cards")
_REGION_COLS = view("by_region")


def _simulated(scale: object) -> str:
    """What the table's counts are, for a run of part of the market (its ``scale``)."""
    if not isinstance(scale, (int, float)) or scale in (0, 1):
        return ""
    return (f" Workers and pay are counted in the simulated market, which is 1 in {1 / scale:.3g} of the "
            "real one (a comparison of runs scales them up).")


def run_report(results: Results, title: str = "labsim run", plotlyjs: str | None = None) -> str:
    """The run's dashboard; ``plotlyjs`` a relative path to a shared plotly.js (``page.page``)."""
    k = results.kpis
    overall = k["overall"]
    cards = "".join(f"<div class='card' data-kpi='{key}'><div class='v'>{theme.fmt_kpi(key, overall.get(key))}</div>"
                    f"<div class='k'>{html.escape(theme.kpi_label(key))}</div></div>" for key in _CARDS)
    rows = [[theme.country_name(code)] + [theme.fmt_kpi(c, v.get(c)) for c in _REGION_COLS]
            for code, v in k["by_region"].items()]
    rows += [[f"all {chan}"] + [theme.fmt_kpi(c, v.get(c)) for c in _REGION_COLS]
             for chan, v in k.get("by_channel", {}).items()]
    header = ["scope"] + [theme.kpi(c).short or theme.kpi_label(c) for c in _REGION_COLS]
    figs = run_figures(results)
    notes = "".join(f"<p class='note warn'>Outside the calibrated setting: {html.escape(n)}.</p>"
                    for n in results.meta.get("outside_calibration") or [])
    sections = [
        notes,
        f"<div class='cards'>{cards}</div>",
        "<p class='note'>KPIs cover the weeks after warm-up; means are over workers with at least "
        "one paid hour, as surveys report them. Effective wage counts unpaid search and rejected "
        "work as working time.</p>",
        "<h2>By region and channel</h2>",
        "<p class='note'>Wages in USD per hour. Effective wage counts unpaid hours; the paid-hour "
        "wage does not. Shares and turnover in per cent." + _simulated(results.meta.get("scale")) + "</p>",
        f"<div class='scroll'>{table_html(header, rows, columns=['', *_REGION_COLS])}</div>",
        "<h2>Workers</h2>", f"<div class='fig'>{figure_html(figs['workers'], 'fig-workers')}</div>",
        "<h2>Wages</h2>", f"<div class='fig'>{figure_html(figs['wages'], 'fig-wages')}</div>",
        "<h2>Tasks</h2>", f"<div class='fig'>{figure_html(figs['tasks'], 'fig-tasks')}</div>",
        "<h2>Piece rates</h2>", f"<div class='fig'>{figure_html(figs['rates'], 'fig-rates')}</div>",
        f"<div class='fig'>{figure_html(figs['pricing'], 'fig-pricing')}</div>",
        "<h2>Automation</h2>",
        f"<div class='fig'>{figure_html(figs['automation'], 'fig-automation')}</div>",
        "<h2>Regions competing for work</h2>",
        f"<div class='fig'>{figure_html(figs['shares'], 'fig-shares')}</div>",
        "<h2>Value split</h2>",
        f"<div class='fig'>{figure_html(figs['value'], 'fig-value')}</div>",
        "<h2>Turnover and tenure</h2>",
        f"<div class='fig'>{figure_html(figs['exits'], 'fig-exits')}</div>",
        f"<div class='fig'>{figure_html(figs['survival'], 'fig-survival')}</div>",
        "<h2>Moderators' wellbeing</h2>",
        f"<div class='fig'>{figure_html(figs['wellbeing'], 'fig-wellbeing')}</div>",
        "<h2>Working at night</h2>",
        f"<div class='fig'>{figure_html(figs['night'], 'fig-night')}</div>",
    ]
    meta = results.meta
    subtitle = " · ".join(f"{key} {meta[key]}" for key in ("scenario", "seed", "labsim_version", "git_commit")
                          if meta.get(key) is not None)
    return page(title, subtitle, sections, plotlyjs=plotlyjs)
