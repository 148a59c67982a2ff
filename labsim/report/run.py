"""The dashboard of one run: who works where, for how much, and what is left undone."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl

from labsim.report.page import figure_html, page, table_html
from labsim.results import MODERATION, Results, cohort_survival

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


def exits_by_reason(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).group_by("week").agg(pl.col("exits_low_pay", "exits_burnout", "exits_other").sum())
         .sort("week"))
    fig = go.Figure()
    for col, name in (("exits_low_pay", "low pay"), ("exits_burnout", "burnout"), ("exits_other", "other")):
        fig.add_trace(go.Bar(x=d["week"], y=d[col], name=name))
    fig.update_layout(title="Exits per week, by reason", barmode="stack", xaxis_title="week",
                      yaxis_title="workers leaving", **_LAYOUT)
    return fig


def survival(results: Results) -> go.Figure:
    meta = results.kpis.get("overall", {})
    weeks = meta.get("window_weeks", 0.0)
    last_week = int(results.timeseries["week"].max()) + 1 if results.timeseries.height else 0
    start_h, end_h = (last_week - weeks) * 168.0, last_week * 168.0
    d = cohort_survival(results.workers, start_h, end_h, by="channel")
    fig = go.Figure()
    if d.height:
        for (chan,), g in d.group_by("channel", maintain_order=True):
            fig.add_trace(go.Scatter(x=g["month"], y=g["share_active"], mode="lines+markers",
                                     name=f"{chan} (n={g['cohort_size'][0]})"))
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="half-life")
    fig.update_layout(title="Cohort survival: share of joiners still working, by months since joining",
                      xaxis_title="months since joining", yaxis_title="share still active",
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
        fig.add_trace(go.Scatter(x=g["week"], y=g["share"], mode="lines", name=f"high stress, {chan}"))
        fig.add_trace(go.Bar(x=g["week"], y=g["exits_burnout"], name=f"burnout exits, {chan}",
                             yaxis="y2", opacity=0.4))
    fig.update_layout(title="Moderators: share with high stress, and burnout exits per week",
                      xaxis_title="week", yaxis=dict(title="share with high stress", range=[0, 1]),
                      yaxis2=dict(title="burnout exits", overlaying="y", side="right"), **_LAYOUT)
    return fig


def night_work(ts: pl.DataFrame) -> go.Figure:
    d = (_regional(ts).group_by("region", "channel")
         .agg(pl.col("night_hours").sum(), (pl.col("paid_hours") + pl.col("unpaid_hours")).sum().alias("h"))
         .filter(pl.col("h") > 0).with_columns((pl.col("night_hours") / pl.col("h")).alias("share"))
         .sort("region", "channel"))
    fig = go.Figure()
    for (chan,), g in d.group_by("channel", maintain_order=True):
        fig.add_trace(go.Bar(x=g["region"], y=g["share"], name=chan))
    fig.update_layout(title="Share of working hours at night (22:00-06:00 local time)",
                      barmode="group", yaxis_title="share of hours", yaxis_range=[0, 1], **_LAYOUT)
    return fig


def _market(ts: pl.DataFrame) -> pl.DataFrame:
    return ts.filter(pl.col("region") == "ALL")


def automation(ts: pl.DataFrame) -> go.Figure:
    d = (_market(ts).group_by("week", "task_type").agg(pl.col("tasks_automated", "tasks_posted").sum())
         .filter(pl.col("tasks_posted") > 0)
         .with_columns((pl.col("tasks_automated") / pl.col("tasks_posted")).alias("share"))
         .sort("task_type", "week"))
    fig = go.Figure()
    for (t,), g in d.group_by("task_type", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["share"], name=t, mode="lines"))
    fig.update_layout(title="Share of tasks done by models, by task type", xaxis_title="week",
                      yaxis_title="automated share of tasks posted", yaxis_range=[0, 1], **_LAYOUT)
    return fig


def time_to_fill(ts: pl.DataFrame) -> go.Figure:
    d = _market(ts).filter(pl.col("channel") == "crowd").sort("task_type", "week")
    fig = go.Figure()
    for (t,), g in d.group_by("task_type", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["mean_time_to_fill_h"], name=t, mode="lines"))
    fig.update_layout(title="Mean time to fill a crowd batch (requesters raise rates when it is long)",
                      xaxis_title="week", yaxis_title="hours", **_LAYOUT)
    return fig


def work_shares(ts: pl.DataFrame) -> go.Figure:
    d = _regional(ts).group_by("week", "region").agg(pl.col("paid_hours").sum()).sort("region", "week")
    total = d.group_by("week").agg(pl.col("paid_hours").sum().alias("all"))
    d = d.join(total, on="week").with_columns((pl.col("paid_hours") / pl.col("all")).alias("share"))
    fig = go.Figure()
    for (region,), g in d.group_by("region", maintain_order=True):
        fig.add_trace(go.Scatter(x=g["week"], y=g["share"], name=region, stackgroup="one", mode="lines"))
    fig.update_layout(title="Where the work is done: share of paid hours by region", xaxis_title="week",
                      yaxis_title="share of paid hours", yaxis_range=[0, 1], **_LAYOUT)
    return fig


def value_split(ts: pl.DataFrame) -> go.Figure:
    """Where requesters' money (and any public money) goes each week, stacked.

    Worker pay is split into pay for work and policy top-ups (wage floor,
    paid search); the levy, support and training services and benefits appear
    once a policy puts money there, so a policy's cost is visible.
    """
    money = ("earnings_usd", "topup_usd", "platform_fees_usd", "vendor_margin_usd", "levy_usd",
             "support_cost_usd", "training_cost_usd", "benefits_usd", "public_spend_usd")
    have = [c for c in money if c in ts.columns]
    reg = _regional(ts).group_by("week").agg(pl.col(have).sum())
    comp = _market(ts).group_by("week").agg(pl.col("compute_cost_usd").sum())
    d = reg.join(comp, on="week", how="left").fill_null(0).sort("week")
    if "topup_usd" in have:
        d = d.with_columns((pl.col("earnings_usd") - pl.col("topup_usd")).alias("earnings_usd"))
    fig = go.Figure()
    for col, name in (("earnings_usd", "workers: pay for work"), ("topup_usd", "workers: policy top-ups"),
                      ("platform_fees_usd", "platform fees"), ("vendor_margin_usd", "vendor margin"),
                      ("compute_cost_usd", "compute"), ("levy_usd", "social-protection levy"),
                      ("support_cost_usd", "psychological support"),
                      ("training_cost_usd", "training (public)")):
        if col in d.columns and (col in ("earnings_usd", "platform_fees_usd", "vendor_margin_usd",
                                         "compute_cost_usd") or d[col].abs().sum() > 0):
            fig.add_trace(go.Scatter(x=d["week"], y=d[col], name=name, stackgroup="one", mode="lines"))
    for col, name in (("benefits_usd", "benefits paid to workers (fund, stipends)"),
                      ("public_spend_usd", "public money (training, fund deficit)")):
        if col in d.columns and d[col].abs().sum() > 0:
            fig.add_trace(go.Scatter(x=d["week"], y=d[col], name=name, mode="lines",
                                     line={"dash": "dot"}))
    fig.update_layout(title="Where requesters' money goes, per week (dotted: transfers outside the stack)",
                      xaxis_title="week", yaxis_title="USD", **_LAYOUT)
    return fig


def run_figures(results: Results) -> dict[str, go.Figure]:
    ts = results.timeseries
    return {"workers": workers_by_region(ts), "wages": wage_by_region(ts),
            "tasks": tasks_flow(ts), "rates": piece_rates(ts), "exits": exits_by_reason(ts),
            "survival": survival(results), "wellbeing": wellbeing(ts), "night": night_work(ts),
            "automation": automation(ts), "pricing": time_to_fill(ts), "shares": work_shares(ts),
            "value": value_split(ts)}


_CARDS = [("effective_wage_mean_usd_h", "effective wage, mean (USD/h)"),
          ("effective_wage_median_usd_h", "effective wage, median (USD/h)"),
          ("paid_wage_mean_usd_h", "paid-hour wage, mean (USD/h)"),
          ("unpaid_min_per_paid_hour", "unpaid minutes per paid hour"),
          ("share_below_local_min_wage", "share below local minimum wage"),
          ("hours_per_week_mean", "hours per week"),
          ("annual_turnover_rate", "annual turnover"),
          ("worker_half_life_months", "worker half-life (months)"),
          ("moderator_high_stress_share", "moderators with high stress"),
          ("burnout_exits_per_1000_moderator_years", "burnout exits per 1,000 moderator-years"),
          ("night_hours_share", "share of hours at night"),
          ("platform_commission_share", "platform fees / crowd spend"),
          ("worker_share_of_spend", "workers' share of requester spend"),
          ("automation_share", "share of tasks automated"),
          ("effective_wage_gini", "Gini of effective wages")]
_REGION_COLS = {"workers_counted": "workers", "effective_wage_mean_usd_h": "effective wage (mean)",
                "effective_wage_median_usd_h": "effective wage (median)",
                "paid_wage_mean_usd_h": "paid-hour wage", "share_below_local_min_wage": "below local min. wage",
                "hours_per_week_mean": "hours / week", "annual_turnover_rate": "annual turnover",
                "worker_half_life_months": "half-life (months)", "night_hours_share": "night share",
                "worker_pay_usd": "pay (USD)"}


def run_report(results: Results, title: str = "labsim run") -> str:
    k = results.kpis
    overall = k["overall"]
    cards = "".join(f"<div class='card'><div class='v'>{_fmt(overall.get(key))}</div>"
                    f"<div class='k'>{label}</div></div>" for key, label in _CARDS)
    rows = [[code] + [_fmt(v.get(c)) for c in _REGION_COLS] for code, v in k["by_region"].items()]
    rows += [[f"all {chan}"] + [_fmt(v.get(c)) for c in _REGION_COLS]
             for chan, v in k.get("by_channel", {}).items()]
    header = ["scope"] + list(_REGION_COLS.values())
    figs = run_figures(results)
    sections = [
        f"<div class='cards'>{cards}</div>",
        "<p class='note'>KPIs cover the weeks after warm-up; means are over workers with at least "
        "one paid hour, as surveys report them. Effective wage counts unpaid search and rejected "
        "work as working time.</p>",
        "<h2>By region and channel</h2>",
        "<p class='note'>Wages in USD per hour. Effective wage counts unpaid hours; the paid-hour "
        "wage does not.</p>",
        f"<div class='scroll'>{table_html(header, rows)}</div>",
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
    return page(title, subtitle, sections)
