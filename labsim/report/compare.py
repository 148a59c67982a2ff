"""The comparison page of a sweep: what each scenario changes, where, and how sure we are.

Built from ``runs.parquet`` (``labsim.sweep.collect``) alone, plus each run's
``timeseries.parquet`` for the world map. Differences against the baseline
are paired by seed (common random numbers), so their intervals show the
policy's effect, not the noise between replications.
"""

from __future__ import annotations

import html
import math
from itertools import combinations
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from labsim.report.maps import WEEKS_PER_QUARTER, animate_quarters, style_world
from labsim.report.page import figure_html, page, table_html
from labsim.sweep import (HEADLINE, PARAM, TIMESERIES, kpi_levels, mean_ci, paired_differences,
                          param_columns, scenarios)

_LAYOUT = dict(template="plotly_white", margin=dict(l=70, r=20, t=60, b=40))
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
MAX_HEATMAP_PARAMS = 4

# label, shown as a percentage, and what a move up means for the people concerned.
KPIS = {
    "effective_wage_mean_usd_h": (
        "Effective hourly wage, mean (USD/h)", False,
        "Right of zero: workers earn more per hour online, counting the unpaid search and "
        "rejected work that piece rates leave out."),
    "share_below_local_min_wage": (
        "Share of workers below their local minimum wage", True,
        "Left of zero: fewer workers earn less than their own country's legal minimum per "
        "hour (the axis is in percentage points)."),
    "annual_turnover_rate": (
        "Annual turnover (exits per worker per year)", True,
        "Left of zero: workers stay longer, which keeps their skills and reputation in the market."),
    "burnout_exits_per_1000_moderator_years": (
        "Burnout exits per 1,000 moderator-years", False,
        "Left of zero: fewer content moderators leave because the material they review has "
        "worn them out."),
    "exits_burnout": (
        "Burnout exits (workers, over the KPI window)", False,
        "The same burnout exits as a head count, which also moves with the size of the workforce."),
    "automation_share": (
        "Share of tasks automated", True,
        "Right of zero: models take over more of the work (the axis is in percentage points)."),
    "worker_share_of_spend": (
        "Workers' share of requester spend", True,
        "Right of zero: more of every dollar requesters spend reaches workers rather than "
        "platform fees, vendor margins or compute."),
    "requester_cost_per_task_usd": (
        "Requester cost per task (USD)", False,
        "Right of zero: the policy makes each finished task dearer for the AI companies "
        "buying the work; this is who pays."),
    "mean_wait_h": ("Mean wait of a task before a worker takes it (h)", False, ""),
    "utilization": ("Utilisation of the workers", True, ""),
}


# KPIs drawn against swept parameters (queueing mode's own two when they have values).
SWEEP_KPIS = ("effective_wage_mean_usd_h", "share_below_local_min_wage", "annual_turnover_rate",
              "burnout_exits_per_1000_moderator_years", "worker_share_of_spend",
              "requester_cost_per_task_usd", "mean_wait_h", "utilization")


def _label(kpi: str) -> str:
    return KPIS.get(kpi, (kpi,))[0]


def _is_share(kpi: str) -> bool:
    return KPIS.get(kpi, ("", False))[1]


def _num(v: object, share: bool = False, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    v = float(v)
    sign = "+" if signed else ""
    if share:
        return f"{100 * v:{sign}.1f}" + (" pp" if signed else " %")
    if abs(v) >= 100:
        return f"{v:{sign},.0f}"
    if abs(v) >= 1:
        return f"{v:{sign}.2f}"
    return f"{v:{sign}.3g}"


def _pct(v: object) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{100 * float(v):+.1f} %"


def _note(text: str) -> str:
    return f"<p class='note'>{html.escape(text)}</p>"


def _fig(fig: go.Figure, div_id: str, caption: str) -> str:
    return f"<div class='fig'>{figure_html(fig, div_id)}</div>{_note(caption)}"


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _seeds(values: list) -> str:
    seeds = sorted({int(s) for s in values if s is not None})
    if not seeds:
        return "–"
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


# --- tables ------------------------------------------------------------------------------

def runs_table(runs: pl.DataFrame) -> str:
    rows = []
    for name in scenarios(runs):
        g = runs.filter(pl.col("scenario") == name)
        status = g["status"].to_list()
        secs = g["seconds"].drop_nulls()
        rows.append([name, str(g.height), str(status.count("ok")), str(status.count("failed")),
                     str(status.count("missing")), _seeds(g["seed"].to_list()),
                     _num(float(secs.mean())) if secs.len() else "–"])
    return table_html(["scenario", "runs", "ok", "failed", "did not finish", "seeds",
                       "seconds per run"], rows)


def failures_table(runs: pl.DataFrame) -> str | None:
    bad = runs.filter(pl.col("status") != "ok")
    if bad.height == 0:
        return None
    rows = [[r["job"], r["scenario"], "–" if r["seed"] is None else str(r["seed"]), r["status"],
             r["error"] or ("no status.json: the run was interrupted or never started"
                            if r["status"] == "missing" else "–"),
             r["overrides"]]
            for r in bad.iter_rows(named=True)]
    return table_html(["job", "scenario", "seed", "status", "error", "overrides"], rows)


def differences_table(diffs: pl.DataFrame) -> str:
    rows = []
    for r in diffs.filter(pl.col("scope") == "ALL").iter_rows(named=True):
        share = _is_share(r["kpi"])
        ci = ("–" if r["ci_low"] is None else
              f"{_num(r['ci_low'], share, True)} to {_num(r['ci_high'], share, True)}")
        rows.append([r["scenario"], _label(r["kpi"]), _num(r["baseline_mean"], share),
                     _num(r["scenario_mean"], share), _num(r["mean_diff"], share, True), ci,
                     _pct(r["relative_change"]), str(r["n_pairs"])])
    return table_html(["scenario", "KPI", "baseline", "scenario", "difference", "95 % interval",
                       "relative change", "paired seeds"], rows)


# --- figures -----------------------------------------------------------------------------

def forest(diffs: pl.DataFrame, kpi: str, baseline: str, order: list[str]) -> go.Figure:
    """Mean paired difference of each scenario against the baseline, overall and per region."""
    d = diffs.filter(pl.col("kpi") == kpi)
    scopes = ["ALL"] + sorted(s for s in set(d["scope"].to_list()) if s != "ALL")
    names = [s for s in order if s in set(d["scenario"].to_list())]
    share = _is_share(kpi)
    width = 0.6 / max(len(names), 1)
    fig = go.Figure()
    for j, name in enumerate(names):
        g = d.filter(pl.col("scenario") == name)
        by_scope = {r["scope"]: r for r in g.iter_rows(named=True)}
        xs, ys, plus, minus, text = [], [], [], [], []
        for i, scope in enumerate(scopes):
            r = by_scope.get(scope)
            if r is None:
                continue
            xs.append(r["mean_diff"])
            ys.append(i + (j - (len(names) - 1) / 2) * width)
            has_ci = r["ci_low"] is not None
            plus.append(r["ci_high"] - r["mean_diff"] if has_ci else None)
            minus.append(r["mean_diff"] - r["ci_low"] if has_ci else None)
            ci = (f"95 % interval {_num(r['ci_low'], share, True)} to {_num(r['ci_high'], share, True)}"
                  if has_ci else "no interval (fewer than two paired seeds)")
            text.append(f"<b>{html.escape(name)}</b> · {scope}<br>difference "
                        f"{_num(r['mean_diff'], share, True)} ({_pct(r['relative_change'])})<br>{ci}<br>"
                        f"{html.escape(baseline)} {_num(r['baseline_mean'], share)} → "
                        f"{_num(r['scenario_mean'], share)}<br>{r['n_pairs']} paired seeds")
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", name=name, marker=dict(size=10, color=_color(order.index(name))),
            error_x=dict(type="data", symmetric=False, array=plus, arrayminus=minus, thickness=2, width=4),
            hovertext=text, hovertemplate="%{hovertext}<extra></extra>"))
    fig.add_vline(x=0, line_color="#444", line_width=1)
    fig.update_layout(title=f"{_label(kpi)}: difference from {baseline}", height=140 + 45 * len(scopes),
                      xaxis_title=f"scenario − {baseline}" + (" (percentage points)" if share else ""),
                      yaxis=dict(tickvals=list(range(len(scopes))),
                                 ticktext=["all regions" if s == "ALL" else s for s in scopes],
                                 autorange="reversed", zeroline=False),
                      legend=dict(orientation="h", y=-0.25), **_LAYOUT)
    if share:
        fig.update_xaxes(tickformat=".1%")
    return fig


def levels_figure(levels: pl.DataFrame, order: list[str]) -> go.Figure:
    """Each scenario's level of each headline KPI: mean over seeds with its 95 % interval."""
    kpis = [k for k in HEADLINE if k in set(levels["kpi"].to_list())]
    cols = 2
    rows = max(1, math.ceil(len(kpis) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[_label(k) for k in kpis],
                        vertical_spacing=0.5 / rows, horizontal_spacing=0.12)
    for n, kpi in enumerate(kpis):
        g = levels.filter(pl.col("kpi") == kpi)
        by = {r["scenario"]: r for r in g.iter_rows(named=True)}
        names = [s for s in order if s in by]
        share = _is_share(kpi)
        ys = [by[s]["mean"] for s in names]
        plus = [None if by[s]["ci_high"] is None else by[s]["ci_high"] - by[s]["mean"] for s in names]
        minus = [None if by[s]["ci_low"] is None else by[s]["mean"] - by[s]["ci_low"] for s in names]
        text = [f"<b>{html.escape(s)}</b><br>{_num(by[s]['mean'], share)}"
                + (f" (95 % interval {_num(by[s]['ci_low'], share)} to {_num(by[s]['ci_high'], share)})"
                   if by[s]["ci_low"] is not None else "") + f"<br>{by[s]['n_runs']} runs" for s in names]
        fig.add_trace(go.Scatter(
            x=names, y=ys, mode="markers", showlegend=False,
            marker=dict(size=10, color=[_color(order.index(s)) for s in names]),
            error_y=dict(type="data", symmetric=False, array=plus, arrayminus=minus, thickness=2, width=6,
                         color="#444"),
            hovertext=text, hovertemplate="%{hovertext}<extra></extra>"), row=n // cols + 1, col=n % cols + 1)
        if share:
            fig.update_yaxes(tickformat=".1%", row=n // cols + 1, col=n % cols + 1)
    fig.update_layout(title="Headline KPIs per scenario (mean over seeds, 95 % interval)",
                      height=120 + 260 * rows, **_LAYOUT)
    return fig


def swept_parameters(runs: pl.DataFrame) -> list[str]:
    """Numeric ``param.*`` columns that take more than one value among the ok runs."""
    ok = runs.filter(pl.col("status") == "ok")
    return [c for c in param_columns(runs)
            if runs.schema[c] == pl.Float64 and ok[c].drop_nulls().n_unique() > 1]


def _short(param: str) -> str:
    return param[len(PARAM):]


def _dropdown(labels: list[str], per_option: int, titles: list[str],
              layouts: list[dict] | None = None) -> list[dict]:
    """A menu that shows option i's ``per_option`` traces (and sets its title and layout)."""
    n = len(labels) * per_option
    buttons = []
    for i, (label, title) in enumerate(zip(labels, titles)):
        visible = [i * per_option <= k < (i + 1) * per_option for k in range(n)]
        layout = {"title": title, **(layouts[i] if layouts else {})}
        buttons.append(dict(label=label, method="update", args=[{"visible": visible}, layout]))
    return [dict(buttons=buttons, direction="down", x=1, xanchor="right", y=1.2, yanchor="bottom",
                 showactive=True)]


def heatmap(runs: pl.DataFrame, px: str, py: str, kpis: list[str], order: list[str]) -> go.Figure:
    """Mean over seeds (and over any other swept setting) of each KPI on the px x py grid."""
    ok = runs.filter(pl.col("status") == "ok")
    xs = sorted(ok[px].drop_nulls().unique().to_list())
    ys = sorted(ok[py].drop_nulls().unique().to_list())
    fig = go.Figure()
    labels, titles = [], []
    for kpi in kpis:
        share = _is_share(kpi)
        for name in order:
            g = (ok.filter(pl.col("scenario") == name)
                 .group_by(px, py).agg(pl.col(kpi).mean().alias("m"), pl.col(kpi).count().alias("n")))
            if g.height == 0:
                continue
            cell = {(r[px], r[py]): (r["m"], r["n"]) for r in g.iter_rows(named=True)}
            z = [[cell.get((x, y), (None, 0))[0] for x in xs] for y in ys]
            text = [[f"{_short(px)} = {x:g}<br>{_short(py)} = {y:g}<br>{_num(cell.get((x, y), (None, 0))[0], share)}"
                     f" ({cell.get((x, y), (None, 0))[1]} runs)" for x in xs] for y in ys]
            fig.add_trace(go.Heatmap(
                x=[f"{x:g}" for x in xs], y=[f"{y:g}" for y in ys], z=z, text=text,
                hovertemplate="%{text}<extra></extra>", colorscale="Viridis", visible=not fig.data,
                colorbar=dict(tickformat=".1%" if share else None)))
            labels.append(f"{_label(kpi)} — {name}" if len(order) > 1 else _label(kpi))
            titles.append(f"{labels[-1]}: mean over seeds")
    fig.update_layout(title=titles[0] if titles else "", height=480, updatemenus=_dropdown(labels, 1, titles),
                      xaxis=dict(title=_short(px), type="category"),
                      yaxis=dict(title=_short(py), type="category"),
                      **{**_LAYOUT, "margin": dict(l=90, r=20, t=110, b=50)})
    return fig


def response_curve(runs: pl.DataFrame, p: str, kpis: list[str], order: list[str]) -> go.Figure:
    """One swept number: each KPI's mean over seeds against it, with a 95 % band."""
    ok = runs.filter(pl.col("status") == "ok")
    fig = go.Figure()
    labels, titles = [], []
    for kpi in kpis:
        share = _is_share(kpi)
        for j, name in enumerate(order):
            g = ok.filter(pl.col("scenario") == name)
            xs = sorted(g[p].drop_nulls().unique().to_list())
            stats = [mean_ci(g.filter(pl.col(p) == x)[kpi].cast(pl.Float64).to_numpy()) for x in xs]
            lo = [None if math.isnan(s[1]) else s[1] for s in stats]
            hi = [None if math.isnan(s[2]) else s[2] for s in stats]
            mean = [None if math.isnan(s[0]) else s[0] for s in stats]
            color = _color(j)
            fig.add_trace(go.Scatter(x=xs, y=hi, mode="lines", line=dict(width=0), hoverinfo="skip",
                                     showlegend=False, legendgroup=name))
            fig.add_trace(go.Scatter(x=xs, y=lo, mode="lines", line=dict(width=0), fill="tonexty",
                                     fillcolor=_rgba(color, 0.2), hoverinfo="skip", showlegend=False,
                                     legendgroup=name))
            fig.add_trace(go.Scatter(x=xs, y=mean, mode="lines+markers", name=name,
                                     line=dict(color=color), legendgroup=name,
                                     hovertemplate=f"{html.escape(name)}<br>{_short(p)} = %{{x:g}}<br>"
                                                   "%{y:.3g}<extra></extra>"))
        labels.append(_label(kpi))
        titles.append(f"{_label(kpi)} against {_short(p)} (mean over seeds, 95 % band)")
    per = 3 * len(order)
    # The first KPI's traces (all scenarios) start visible.
    for k, trace in enumerate(fig.data):
        trace.visible = k < per
    formats = [{"yaxis.tickformat": ".1%" if _is_share(k) else ""} for k in kpis]
    fig.update_layout(title=titles[0] if titles else "", height=440, xaxis_title=_short(p),
                      updatemenus=_dropdown(labels, per, titles, formats),
                      legend=dict(orientation="h", y=-0.2),
                      **{**_LAYOUT, "margin": dict(l=70, r=20, t=110, b=40)})
    if kpis:
        fig.update_yaxes(tickformat=formats[0]["yaxis.tickformat"])
    return fig


def quarterly_wages(runs: pl.DataFrame) -> pl.DataFrame:
    """Effective wage (earnings over paid + unpaid hours) per scenario x quarter x region,
    each run's regional rows summed per quarter, then averaged over the scenario's runs."""
    frames = []
    for r in runs.filter(pl.col("status") == "ok").iter_rows(named=True):
        path = Path(r["run_dir"]) / TIMESERIES
        if not path.is_file():
            continue
        try:
            ts = (pl.scan_parquet(path)
                  .filter(pl.col("region") != "ALL")
                  .group_by((pl.col("week") // WEEKS_PER_QUARTER).alias("quarter"), "region")
                  .agg(pl.col("earnings_usd").sum(), (pl.col("paid_hours") + pl.col("unpaid_hours")).sum().alias("h"))
                  .collect())
        except (OSError, pl.exceptions.PolarsError):
            continue
        frames.append(ts.with_columns(
            pl.when(pl.col("h") > 0).then(pl.col("earnings_usd") / pl.col("h")).alias("wage"),
            pl.lit(r["scenario"]).alias("scenario"), pl.lit(r["run_dir"]).alias("run")))
    if not frames:
        return pl.DataFrame(schema={"scenario": pl.Utf8, "quarter": pl.Int64, "region": pl.Utf8,
                                    "wage": pl.Float64, "runs": pl.UInt32})
    return (pl.concat(frames, how="vertical_relaxed")
            .group_by("scenario", "quarter", "region")
            .agg(pl.col("wage").mean(), pl.col("wage").count().alias("runs"))
            .with_columns(pl.col("quarter").cast(pl.Int64))
            .sort("scenario", "quarter", "region"))


def wage_map(wages: pl.DataFrame, order: list[str]) -> go.Figure:
    """One world map per scenario of the effective wage by country, a slider over quarters."""
    names = [s for s in order if s in set(wages["scenario"].to_list())]
    regions = sorted(set(wages["region"].to_list()))
    quarters = sorted(set(wages["quarter"].to_list()))
    cell = {(r["scenario"], r["quarter"], r["region"]): r["wage"] for r in wages.iter_rows(named=True)}
    cols = 1 if len(names) == 1 else 2
    rows = math.ceil(len(names) / cols)
    fig = make_subplots(rows=rows, cols=cols, specs=[[{"type": "geo"}] * cols] * rows,
                        subplot_titles=names, vertical_spacing=0.06, horizontal_spacing=0.02)
    values = [w for w in cell.values() if w is not None and math.isfinite(w)]

    def traces(q: int) -> list[go.Choropleth]:
        out = []
        for i, name in enumerate(names):
            z = [cell.get((name, q, reg)) for reg in regions]
            out.append(go.Choropleth(
                locations=regions, z=z, locationmode="ISO-3", coloraxis="coloraxis",
                geo="geo" if i == 0 else f"geo{i + 1}", name=name,
                text=[f"{reg}: {_num(w)} USD/h" if w is not None else f"{reg}: no workers yet" for reg, w
                      in zip(regions, z)],
                hovertemplate=f"{html.escape(name)}<br>%{{text}}<extra></extra>",
                marker_line_color="#555", marker_line_width=0.5))
        return out

    for i, trace in enumerate(traces(quarters[0])):
        fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
    animate_quarters(fig, quarters, traces, "Effective hourly wage by country", duration_ms=600, pad_top=40)
    fig.update_layout(
        height=80 + 330 * rows + 110, template="plotly_white", margin=dict(l=10, r=10, t=70, b=110),
        coloraxis=dict(colorscale="Viridis", cmin=min(values) if values else 0,
                       cmax=max(values) if values else 1,
                       colorbar=dict(title=dict(text="USD/h"))))
    style_world(fig, (-45, 75))
    return fig


# --- the page ----------------------------------------------------------------------------

def comparison_page(runs: pl.DataFrame, baseline: str | None = "baseline") -> str:
    """The sweep's comparison page: self-contained HTML (plotly.js and the world outline inlined)."""
    baseline = baseline or "baseline"
    order = scenarios(runs)
    ok = runs.filter(pl.col("status") == "ok")
    ok_order = [s for s in order if s in set(ok["scenario"].to_list())]
    n_runs, n_ok = runs.height, ok.height
    versions = sorted({v for v in runs["labsim_version"].drop_nulls().to_list()})
    commits = sorted({c[:10] for c in runs["git_commit"].drop_nulls().to_list()})
    sweeps = sorted(set(runs["sweep_dir"].to_list()))
    subtitle = " · ".join(x for x in (
        f"{n_runs} runs ({n_ok} ok) of {len(order)} scenario{'s' * (len(order) != 1)}",
        f"sweep {sweeps[0]}" if len(sweeps) == 1 else f"{len(sweeps)} sweep folders",
        f"labsim {', '.join(versions)}" if versions else "",
        f"commit {', '.join(commits)}" if commits else "") if x)

    sections = ["<h2>Runs</h2>", runs_table(runs),
                _note("Each scenario ran once per seed. Scenarios that share a seed share their random "
                      "draws (common random numbers), so comparing them seed by seed isolates the "
                      "policy's effect from chance.")]
    failures = failures_table(runs)
    if failures:
        sections += ["<h3>Runs that failed or did not finish</h3>", f"<div class='scroll'>{failures}</div>",
                     _note("These runs count nowhere below. Rerunning the same `labsim -m` command "
                           "reruns only them.")]

    has_base = baseline in ok_order
    kpis = [k for k in HEADLINE if k in ok.columns]
    if has_base and len(ok_order) > 1:
        diffs = paired_differences(runs, baseline, kpis, by_region=True)
        sections += [f"<h2>What each scenario changes, against {html.escape(baseline)}</h2>",
                     f"<div class='scroll'>{differences_table(diffs)}</div>",
                     _note(f"Difference = scenario minus {baseline}, computed seed by seed and averaged; "
                           "the 95 % interval says how far chance alone could move that average. An "
                           "interval that does not cross zero is a change the sweep can tell apart "
                           "from noise; with few seeds intervals are wide, so add seeds before "
                           "reading much into a small change.")]
        for kpi in kpis:
            if diffs.filter(pl.col("kpi") == kpi).height == 0:
                continue
            regional = diffs.filter((pl.col("kpi") == kpi) & (pl.col("scope") != "ALL")).height > 0
            sections.append(_fig(
                forest(diffs, kpi, baseline, ok_order), f"fig-diff-{kpi}",
                f"{KPIS.get(kpi, ('', False, ''))[2]} Each dot is a scenario's average difference from "
                f"{baseline}, the bar its 95 % interval"
                + (", for all regions together and for each region (a policy can help one country "
                   "and not another)." if regional else ".")))
    elif len(ok_order) > 1:
        sections.append(_note(f"No finished runs of a scenario named '{baseline}' in this sweep, so no "
                              "differences are shown; rebuild the page with "
                              "`labsim-compare DIR --baseline NAME`."))

    levels = kpi_levels(runs, kpis)
    if levels.height:
        sections += ["<h2>Levels per scenario</h2>", _fig(
            levels_figure(levels, ok_order), "fig-levels",
            "Where each scenario ends up, not how it differs: the mean over its seeds with a 95 % "
            "interval. Intervals here are wider than the paired differences above because they "
            "include the luck of each seed, which pairing cancels.")]

    swept = swept_parameters(runs)
    sweep_kpis = [k for k in SWEEP_KPIS if k in ok.columns and ok[k].drop_nulls().len()]
    if swept and sweep_kpis:
        sections.append("<h2>Parameter sweeps</h2>")
        others = [c for c in param_columns(runs) if c not in swept and ok[c].n_unique() > 1]
        pooled = (" Other swept settings (" + ", ".join(_short(c) for c in others) + ") are averaged over."
                  if others else "")
        if len(swept) == 1:
            p = swept[0]
            sections.append(_fig(
                response_curve(runs, p, sweep_kpis, ok_order), "fig-sweep-1d",
                f"How each KPI responds to {_short(p)} (pick the KPI in the menu): the line is the mean "
                f"over seeds, the band its 95 % interval. A steep stretch is where the setting matters "
                f"most; a flat one is where changing it buys little.{pooled}"))
        else:
            use = swept[:MAX_HEATMAP_PARAMS]
            for a, b in combinations(use, 2):
                sections.append(_fig(
                    heatmap(runs, a, b, sweep_kpis, ok_order), f"fig-heat-{_short(a)}-{_short(b)}",
                    f"Each cell is the mean over seeds of the KPI chosen in the menu for one combination "
                    f"of {_short(a)} and {_short(b)}. Look for the region of the grid where the outcome "
                    f"you care about is acceptable, and for whether one setting can make up for the "
                    f"other (colours that run diagonally).{pooled}"))
            if len(swept) > MAX_HEATMAP_PARAMS:
                sections.append(_note("Only the first four swept numbers get heat maps; runs.parquet "
                                      "holds them all."))

    wages = quarterly_wages(runs)
    has_map = wages.height > 0 and wages["wage"].drop_nulls().len() > 0
    if has_map:
        sections += ["<h2>Effective wages around the world</h2>", _fig(
            wage_map(wages, ok_order), "fig-map",
            "Earnings per hour online (paid plus unpaid hours) of the workers in each country, per "
            "quarter, averaged over seeds; press play or drag the slider to see the market evolve, "
            "and compare maps to see where a policy lifts pay. Grey countries have no workers in "
            "labsim (or none yet: emerging regions enter later). The first quarter includes the "
            "warm-up weeks that the KPIs above leave out.")]
    return page("labsim — sweep comparison", subtitle, sections, geo=has_map)
