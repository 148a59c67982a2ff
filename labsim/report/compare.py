"""The comparison page of a sweep: what each scenario changes, where, and how sure we are.

Drawn from frames handed in: the runs table (``runs.parquet``, see
``labsim.sweep.collect``) and, for the world map, the effective wage per
scenario, quarter and region (``labsim.sweep.quarterly_wages`` reads it from
the runs' folders). This module reads no file; its statistics come from
``labsim.stats``. Differences against the baseline are paired by seed
(common random numbers), so their intervals show the policy's effect, not
the noise between replications.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from itertools import combinations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from labsim.indicators import LOWERS, NO_CLEAR_CHANGE, RAISES, verdict_of, view
from labsim.config import CALIBRATED_MIN_KPI_WEEKS
from labsim.model.units import ALL_REGIONS
from labsim.report import theme
from labsim.report.maps import animate_quarters, style_world
from labsim.report.page import figure_html, page, table_html
from labsim.report.theme import fmt, fmt_kpi, fmt_unit, kpi_kind, kpi_label
from labsim.stats import (BURNOUT, HEADLINE, INCIDENCE, LEAKAGE, LEAKAGE_PARTS, MOVED, MOVED_PARTS, PAYERS,
                          REQUESTERS, WAGE, WAGE_PARTS, burnout_split, cell_scopes, home_scopes, leakage_split,
                          rule_differences,
                          end_differences, group_means, kpi_levels, market_counts, ok_runs, paired_differences,
                          param_columns, param_name, scenarios, simulated_share, swept_parameters, wage_split)

MAX_HEATMAP_PARAMS = 4

# KPIs drawn against swept parameters (queueing mode's own two when they have values).
SWEEP_KPIS = view("sweep")


def _note(text: str) -> str:
    return f"<p class='note'>{html.escape(text)}</p>"


def _fig(fig: go.Figure, div_id: str, caption: str) -> str:
    return f"<div class='fig'>{figure_html(fig, div_id)}</div>{_note(caption)}"


def _scope_label(scope: str) -> str:
    return "all regions" if scope == ALL_REGIONS else theme.country_name(scope)


def _seeds(values: list) -> str:
    seeds = sorted({int(s) for s in values if s is not None})
    if not seeds:
        return theme.MISSING
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


# The indicators the page's answers speak of, in the order a reader asks about them: pay, pay
# below the legal minimum, harm, churn, who gets the money, automation, and who pays.
ANSWER_KPIS = view("answer")


# --- answers in words --------------------------------------------------------------------

def _amount(kpi: str, value: float) -> str:
    """The size of a change, unsigned, in words' units: $0.80 an hour, 12.3 percentage points."""
    k = theme.kpi(kpi)
    if k.kind == "usd":
        return f"${abs(value):,.2f}{k.unit}"
    if k.kind == "share":
        return f"{fmt(abs(value), 'share', True)[1:-3]} percentage points"
    return fmt(abs(value), k.kind) + k.unit


def _smallest(kpi: str) -> str:
    """The smallest change that matters for ``kpi`` (labsim.indicators), in words' units."""
    k = theme.kpi(kpi)
    if k.kind == "usd":
        return f"${k.delta:,.3g}{k.unit}"
    return _amount(kpi, k.delta)


def row_verdict(row: dict) -> str:
    """A difference's verdict (labsim.indicators.verdict_of): raises, lowers, no clear change, or too
    few runs to tell."""
    return verdict_of(row["kpi"], row["ci_low"], row["ci_high"], bool(row.get("sign_depends")))


def significant(row: dict) -> bool:
    """Whether a difference's 95 % interval excludes zero, and (over posterior draws) its sign does
    not depend on the unknown parameters: it raises or lowers the indicator."""
    return row_verdict(row) in (RAISES, LOWERS)


def over_draws_words(row: dict) -> str:
    """What a difference over the posterior's draws adds (empty without draws): the range of paired
    runs over draws and seeds, how much of its spread the unknown parameters make and how much
    chance, and a warning when the sign of the effect depends on the parameters."""
    if not row.get("draws"):
        return ""
    kpi = row["kpi"]
    text = (f"Over {row['draws']} draws of the calibrated parameters and their seeds, 90 % of paired runs "
            f"differ by {_interval(kpi, row['low_90'], row['high_90'], True)}")
    share = row.get("parameter_share")
    if share is None:
        text += " (one seed per draw, so parameter uncertainty and chance cannot be told apart: add seed=0,1)."
    else:
        text += (f"; {100 * share:.0f} % of that spread is uncertainty about the parameters, "
                 f"{100 * (1 - share):.0f} % chance.")
    if row.get("sign_depends"):
        text += (f" The sign of this effect depends on the unknown parameters: it is positive in "
                 f"{100 * row['positive_draws']:.0f} % of the draws, so the model cannot say which way it goes.")
    return text


def answer(row: dict) -> str:
    """One difference (a DIFF_SCHEMA row) as a sentence: what moves, by how much, from what to what,
    with its 95 % interval, or that chance cannot be ruled out."""
    kpi, d = row["kpi"], row["mean_diff"]
    noun = theme.kpi_noun(kpi)
    levels = theme.fmt_range(kpi, row["baseline_mean"], row["scenario_mean"], joint=" → ")
    rel = row["relative_change"]
    if rel is not None and theme.kpi_kind(kpi) != "share" and math.isfinite(rel):
        levels += f", {fmt(rel, 'change')}"
    said = row_verdict(row)
    delta = theme.kpi(kpi).delta
    if row["ci_low"] is None:
        text = (f"too few runs to tell whether {noun} changes: {fmt_unit(kpi, d, True)} ({levels}); one pair "
                "of runs, so no interval")
    elif said in (RAISES, LOWERS):
        text = (f"{said} {noun} by {_amount(kpi, d)} ({levels}; 95 % interval "
                f"{_interval(kpi, row['ci_low'], row['ci_high'], True)})")
    elif said == NO_CLEAR_CHANGE:
        text = (f"no clear change in {noun}: {fmt_unit(kpi, d, True)} ({levels}), and the 95 % interval, "
                f"{_interval(kpi, row['ci_low'], row['ci_high'], True)}, lies within ±{_smallest(kpi)}, the "
                "smallest change that matters")
    else:
        within = f", wider than ±{_smallest(kpi)}, the smallest change that matters" if delta is not None else ""
        text = (f"too few runs to tell whether {noun} changes: {fmt_unit(kpi, d, True)} ({levels}), and the 95 % "
                f"interval, {_interval(kpi, row['ci_low'], row['ci_high'], True)}, includes zero{within}: "
                "more seeds would tell")
    text = text[:1].upper() + text[1:] + "."
    extra = over_draws_words(row)
    return f"{text} {extra}" if extra else text


def _log_pct(x: float | None) -> str:
    """A change in logs as a percentage change (exp(x) - 1)."""
    return theme.MISSING if x is None or not math.isfinite(x) else fmt(math.expm1(x), "change")


PART_WORDS = {"task_pay_per_paid_hour_usd": "pay for tasks per paid hour",
              "paid_share_of_online_hours": "paid share of hours online",
              "topup_factor": "top-ups",
              "crowd_rate": "the rate among crowd moderators",
              "vendor_rate": "the rate among vendor staff",
              "channel_mix": "moderation moving between crowd workers and vendor staff"}


def _parts(splits: pl.DataFrame, name: str, kpi: str, scope: str = ALL_REGIONS) -> dict[str, dict]:
    if splits is None or not splits.height:
        return {}
    return {r["part"]: r for r in splits.filter((pl.col("scenario") == name) & (pl.col("kpi") == kpi)
                                                & (pl.col("scope") == scope)).iter_rows(named=True)}


def wage_reason(splits: pl.DataFrame, name: str, scope: str = ALL_REGIONS) -> str:
    """Why the wage per hour online moved, in words: its change and the three parts it splits into
    exactly (changes in logs, written as percentages); empty without the split."""
    parts = _parts(splits, name, WAGE, scope)
    if "total" not in parts:
        return ""
    said = ", ".join(f"{PART_WORDS[k]} {_log_pct(parts[k]['value'])}" for k in WAGE_PARTS if k in parts)
    return (f"Why: the wage per hour online (earnings over paid and unpaid hours) moves "
            f"{_log_pct(parts['total']['value'])}, which is exactly {said} (the wage is their product, so "
            "the changes multiply; in logs they add up with nothing left over).")


def burnout_reason(splits: pl.DataFrame, name: str) -> str:
    """Why burnout exits per 1,000 moderator-years moved: the shift-share split, in words."""
    parts = _parts(splits, name, BURNOUT)
    if "total" not in parts:
        return ""
    said = "; ".join(f"{PART_WORDS[k]} {fmt(parts[k]['value'], 'number', True)}"
                     for k in ("vendor_rate", "crowd_rate", "channel_mix") if k in parts)
    return (f"Why: of the change in burnout exits per 1,000 moderator-years "
            f"({fmt(parts['total']['value'], 'number', True)}), {said} (a shift-share split, which adds up "
            "exactly). Burnout exits are few, so read the parts' intervals in comparison.csv before "
            "reading much into them.")


def answers_html(diffs: pl.DataFrame, heads: dict[str, str], splits: pl.DataFrame | None = None) -> str:
    """For each scenario (``heads``: scenario -> its heading), one sentence per answer KPI; the
    changes the sweep tells apart from chance are marked. With ``splits`` (``labsim.stats.wage_split``
    and ``burnout_split``), the wage's and burnout's sentences carry their reasons."""
    out = []
    reasons = {"effective_wage_mean_usd_h": wage_reason, BURNOUT: burnout_reason}
    for name, head in heads.items():
        rows = {r["kpi"]: r for r in diffs.filter((pl.col("scenario") == name)
                                                  & (pl.col("scope") == ALL_REGIONS)).iter_rows(named=True)}
        items = []
        for k in ANSWER_KPIS:
            if k not in rows:
                continue
            why = reasons[k](splits, name) if k in reasons and splits is not None else ""
            items.append(f"<li class='{'sig' if significant(rows[k]) else 'nosig'}' data-kpi='{k}' "
                         f"data-verdict='{row_verdict(rows[k])}'>{html.escape(answer(rows[k]))}"
                         + (f"<br><span class='why'>{html.escape(why)}</span>" if why else "") + "</li>")
        if items:
            out.append(f"<h3>{head}</h3><ul class='answers'>{''.join(items)}</ul>")
    return "".join(out)


def _cell_label(scope: str) -> str:
    chan, _, region = scope.partition(":")
    return f"{theme.country_name(region)}, {'crowd' if chan == 'crowd' else 'vendor staff'}"


SIG_MARK = " *"  # beside a difference whose 95 % interval excludes zero (it raises or lowers)


def _diff_cell(r: dict | None, relative: bool = False) -> str:
    """A difference for the incidence table, marked where the sweep tells it apart from chance."""
    if r is None:
        return theme.MISSING
    kpi = r["kpi"]
    size = (fmt(r["relative_change"], "change") if relative else fmt_kpi(kpi, r["mean_diff"], signed=True))
    return size + (SIG_MARK if significant(r) else "")


def incidence_table(incidence: pl.DataFrame, splits: pl.DataFrame, name: str) -> str:
    """One scenario's incidence table: for each channel in each region, the change in workers, hours
    online, the wage per hour online (with its verdict and its exact split) and pay."""
    rows, keys = [], []
    frame = incidence.filter(pl.col("scenario") == name)
    for scope in frame["scope"].unique(maintain_order=True).to_list():
        if scope == ALL_REGIONS:
            continue
        got = {r["kpi"]: r for r in frame.filter(pl.col("scope") == scope).iter_rows(named=True)}
        wage = got.get(WAGE)
        if wage is None or not (wage["baseline_mean"] or wage["scenario_mean"]):
            continue  # no one of this channel works in this region
        parts = _parts(splits, name, WAGE, scope)
        rows.append([_cell_label(scope), _diff_cell(got.get("workers_counted")),
                     _diff_cell(got.get("online_hours"), relative=True),
                     theme.fmt_range(WAGE, wage["baseline_mean"], wage["scenario_mean"], joint=" → "),
                     _diff_cell(wage, relative=True),
                     *[_log_pct(parts[k]["value"]) if k in parts else theme.MISSING for k in WAGE_PARTS],
                     _diff_cell(got.get("worker_pay_usd"), relative=True),
                     _diff_cell(got.get("human_work_share"))])
        keys.append(scope)
    header = ["workers of", "workers", "hours online", "wage per hour online", "wage change",
              "of which: pay for tasks per paid hour", "paid share of hours", "top-ups", "pay", "share of tasks"]
    return table_html(header, rows, None, None) if rows else ""


def payers_table(incidence: pl.DataFrame, name: str) -> str:
    """Who pays, for all regions together: the change in what requesters spend, platforms' fees,
    vendors' margin, public money and workers' pay, with intervals and verdicts."""
    frame = incidence.filter((pl.col("scenario") == name) & (pl.col("scope") == ALL_REGIONS))
    rows = []
    for r in frame.iter_rows(named=True):
        kpi = r["kpi"]
        if r["baseline_mean"] == 0 and r["scenario_mean"] == 0 and r["ci_low"] == r["ci_high"] == 0:
            continue  # nothing either way (no public money, no top-ups): not a payer here
        ci = theme.MISSING if r["ci_low"] is None else _interval(kpi, r["ci_low"], r["ci_high"], True)
        rows.append([kpi_label(kpi), fmt_kpi(kpi, r["baseline_mean"]), fmt_kpi(kpi, r["scenario_mean"]),
                     fmt_kpi(kpi, r["mean_diff"], signed=True), ci, row_verdict(r)])
    return table_html(["who", "baseline", "scenario", "difference", "95 % interval", "verdict"], rows,
                      None, frame["kpi"].to_list()) if rows else ""


INCIDENCE_NOTE = (
    "Each row is one channel's workers in one country, all seeds paired against the baseline: the change "
    "in how many work, their hours online, their wage per hour online (earnings over paid and unpaid "
    "hours) and that wage's change split exactly into three parts, pay for tasks per paid hour, the paid "
    "share of hours online and top-ups (the wage is their product, so the parts' changes multiply to the "
    "wage's). * marks a change whose 95 % interval excludes zero; the others chance cannot be ruled out "
    "for (comparison.csv has every interval). A policy that binds in one country shows there as top-ups; where it raises "
    "requesters' cost, the work and the pay it moves show in the other rows. Below it, who pays: "
    "requesters (people and machines), platforms (their fees), vendors (their margin) and the public "
    "purse. comparison.csv holds every row with its interval (kind 'difference', scope 'crowd:KEN'; the "
    "splits as kind 'split:...').")


LEAKAGE_LABELS = {"done_under_rule": "done under the rule (by compliant suppliers)",
                  "moved": "moved out of the rule's reach", "no_longer_done": "no longer done",
                  "to_uncovered_requesters": "… to requesters the rule does not bind",
                  "to_machines": "… to machines", "to_uncovered_tier": "… to a tier the rule does not cover"}


def leakage_table(leakage: pl.DataFrame, name: str) -> str:
    """Where the work a scenario's rule covers went: its three parts as shares of the covered work (they add
    up to it), and the moved part's three destinations, each with its 95 % interval over pairs."""
    frame = leakage.filter(pl.col("scenario") == name)
    rows = []
    for kpi, parts in ((LEAKAGE, LEAKAGE_PARTS), (MOVED, MOVED_PARTS)):
        got = {r["part"]: r for r in frame.filter(pl.col("kpi") == kpi).iter_rows(named=True)}
        for part in parts:
            r = got.get(part)
            if r is None or (kpi == MOVED and r["value"] == r["ci_low"] == r["ci_high"] == 0):
                continue
            ci = (theme.MISSING if r["ci_low"] is None or not math.isfinite(r["ci_low"]) else
                  f"{fmt(r['ci_low'], 'share')} to {fmt(r['ci_high'], 'share')}")
            rows.append([LEAKAGE_LABELS[part], fmt(r["value"], "share"), ci])
    return table_html(["of the work the rule covers", "share", "95 % interval"], rows, None, None) if rows else ""


def requesters_table(requesters: pl.DataFrame, name: str) -> str:
    """What the scenario did to requesters: those its rule binds and the rest, then each home jurisdiction:
    the change in their cost per task bought from people and in the tasks they buy from people."""
    frame = requesters.filter(pl.col("scenario") == name)
    rows = []
    for scope in frame["scope"].unique(maintain_order=True).to_list():
        got = {r["kpi"]: r for r in frame.filter(pl.col("scope") == scope).iter_rows(named=True)}
        cost, bought = got.get("people_cost_per_task_usd"), got.get("human_tasks_bought")
        if cost is None or not cost["baseline_mean"]:
            continue
        rows.append([REQUESTER_SCOPES.get(scope, scope.replace("home:", "homed in ")),
                     fmt_kpi("people_cost_per_task_usd", cost["baseline_mean"]), _diff_cell(cost, relative=True),
                     row_verdict(cost), _diff_cell(bought, relative=True),
                     row_verdict(bought) if bought is not None else theme.MISSING])
    header = ["requesters", "cost per task from people (USD, baseline)", "its change", "verdict", "tasks bought from people",
              "verdict"]
    return table_html(header, rows, None, None) if rows else ""


REQUESTER_SCOPES = {"rule:covered": "bound by the rule", "rule:uncovered": "not bound by the rule",
                    "home:US": "homed in the United States", "home:EU": "homed in the EU",
                    "home:UK": "homed in the United Kingdom", "home:CN": "homed in China",
                    "home:IN": "homed in India", "home:other": "homed elsewhere"}
LEAKAGE_NOTE = (
    "The work a rule scoped by requesters' home covers is what the requesters it binds bought from people in "
    "the baseline over the same weeks. Under the rule it splits exactly, seed by seed, into work still done "
    "for them by suppliers that meet its standard, work moved out of its reach (bought instead by requesters "
    "it does not bind, as the crowd's rates fall where the covered ones leave; done by machines; done by a "
    "crowd reached through a compliant first-tier vendor) and work no longer done; a negative share is a "
    "move the other way. Below, what the rule did to each group of requesters, with * where the 95 % "
    "interval excludes zero. Theory expects a rule adopted alone to leak more than one adopted together "
    "(docs/model.md 7.16). comparison.csv holds every row (kinds 'split:covered_work', 'split:moved_work'; "
    "scopes 'rule:covered', 'home:EU').")


def weeks_note(runs: pl.DataFrame) -> str:
    """Which weeks the results cover, as users count them (from 1, both ends included)."""
    ok = ok_runs(runs)
    if "weeks" not in ok.columns or ok.height == 0:
        return ""
    windows = ok.select("scenario", "window", "weeks").unique(maintain_order=True)
    if windows.select("window", "weeks").n_unique() == 1:
        w = windows.row(0, named=True)
        if w["window"] == "after":
            return (f"Results cover weeks {_weeks(w['weeks'])} of every run: from a settling period after "
                    "the policies start (time for the market to adjust) to the end, the same weeks for the "
                    "baseline. The weeks before a policy are left out, so they do not dilute its effect.")
        return f"Results cover weeks {_weeks(w['weeks'])} of every run ({_WINDOW_WORDS.get(w['window'], w['window'])})."
    parts = "; ".join(f"{r['scenario']}: weeks {_weeks(r['weeks'])}" for r in windows.iter_rows(named=True))
    return (f"Runs cover different weeks ({parts}). Only runs over the same weeks are compared; to "
            "compare a baseline with a policy that starts in another week than the baseline's "
            "windows.reference_week, set windows.reference_week to that week for the whole sweep.")


_WINDOW_WORDS = {"kpi": "all weeks after the warm-up", "before": "before the first policy starts",
                 "after": "after the policies start and the market settles"}


def _span(label: str) -> int:
    """How many weeks a window's label (``66:104``, both ends included) covers."""
    first, _, last = label.partition(":")
    return int(last) - int(first) + 1 if first.isdigit() and last.isdigit() else CALIBRATED_MIN_KPI_WEEKS


def _weeks(label: str | None) -> str:
    return theme.MISSING if not label else label.replace(":", "–")


# --- tables ------------------------------------------------------------------------------

def runs_table(runs: pl.DataFrame) -> str:
    rows = []
    for name in scenarios(runs):
        g = runs.filter(pl.col("scenario") == name)
        status = g["status"].to_list()
        secs = g["seconds"].drop_nulls()
        rows.append([name, fmt(g.height, "count"), fmt(status.count("ok"), "count"),
                     fmt(status.count("failed"), "count"), fmt(status.count("missing"), "count"),
                     _seeds(g["seed"].to_list()), fmt(float(secs.mean()) if secs.len() else None)])
    return table_html(["scenario", "runs", "ok", "failed", "did not finish", "seeds",
                       "seconds per run"], rows)


def failures_table(runs: pl.DataFrame) -> str | None:
    bad = runs.filter(pl.col("status") != "ok")
    if bad.height == 0:
        return None
    rows = [[r["job"], r["scenario"], theme.MISSING if r["seed"] is None else str(r["seed"]), r["status"],
             r["error"] or ("no status.json: the run was interrupted or never started"
                            if r["status"] == "missing" else theme.MISSING),
             r["overrides"]]
            for r in bad.iter_rows(named=True)]
    return table_html(["job", "scenario", "seed", "status", "error", "overrides"], rows)


def _interval(kpi: str, low: float | None, high: float | None, signed: bool) -> str:
    return theme.fmt_range(kpi, low, high, signed)


def differences_table(diffs: pl.DataFrame, against: str = "baseline") -> str:
    """Every difference for all regions together; rows whose interval excludes zero in bold. Over
    posterior draws, three more columns: the 90 % range over draws and seeds, the share of its
    spread that is parameter uncertainty, and whether the sign depends on the parameters."""
    rows, marks = [], []
    frame = diffs.filter(pl.col("scope") == ALL_REGIONS)
    drawn = frame["draws"].drop_nulls().len() > 0
    for r in frame.iter_rows(named=True):
        kpi = r["kpi"]
        ci = theme.MISSING if r["ci_low"] is None else _interval(kpi, r["ci_low"], r["ci_high"], True)
        row = [r["scenario"], kpi_label(kpi), fmt_kpi(kpi, r["baseline_mean"]),
               fmt_kpi(kpi, r["scenario_mean"]), fmt_kpi(kpi, r["mean_diff"], signed=True), ci,
               fmt(r["relative_change"], "change"), fmt(r["n_pairs"], "count"), row_verdict(r)]
        if drawn:
            row += [theme.MISSING if r["low_90"] is None else _interval(kpi, r["low_90"], r["high_90"], True),
                    theme.MISSING if r["parameter_share"] is None else f"{100 * r['parameter_share']:.0f} %",
                    "depends" if r["sign_depends"] else ("clear" if r["sign_depends"] is not None else theme.MISSING)]
        rows.append(row)
        marks.append("sig" if significant(r) else "")
    header = ["scenario", "indicator", against, "scenario", "difference", "95 % interval",
              "relative change", "pairs", "verdict"]
    if drawn:
        header += ["90 % over draws and seeds", "share from parameters", "sign"]
    return table_html(header, rows, marks, frame["kpi"].to_list())


DRAWS_NOTE = ("These runs draw their parameters from labsim's calibrated posterior (posterior_draw). The "
              "95 % interval is that of the average effect over the posterior (taken over the draws' own "
              "averages, since the seeds of one draw share its parameters); '90 % over draws and "
              "seeds' is the range of the effect in single runs, and its spread is split (law of total "
              "variance) into what the unknown parameters make (the spread of each draw's own average "
              "effect) and what chance makes (the spread between seeds of one draw). An effect whose "
              "sign depends on the parameters is never shown in bold.")


# --- figures -----------------------------------------------------------------------------

def forest(diffs: pl.DataFrame, kpi: str, baseline: str, order: list[str]) -> go.Figure:
    """Mean paired difference of each scenario against the baseline, overall and per region."""
    d = diffs.filter(pl.col("kpi") == kpi)
    scopes = [ALL_REGIONS] + sorted(s for s in set(d["scope"].to_list()) if s != ALL_REGIONS)
    names = [s for s in order if s in set(d["scenario"].to_list())]
    share = kpi_kind(kpi) == "share"
    points = 100.0 if share else 1.0  # a difference of shares is drawn in percentage points
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
            xs.append(r["mean_diff"] * points)
            ys.append(i + (j - (len(names) - 1) / 2) * width)
            has_ci = r["ci_low"] is not None
            plus.append((r["ci_high"] - r["mean_diff"]) * points if has_ci else None)
            minus.append((r["mean_diff"] - r["ci_low"]) * points if has_ci else None)
            ci = (f"95 % interval {_interval(kpi, r['ci_low'], r['ci_high'], True)}"
                  if has_ci else "no interval (fewer than two paired seeds)")
            text.append(f"<b>{html.escape(name)}</b> · {html.escape(_scope_label(scope))}<br>difference "
                        f"{fmt_unit(kpi, r['mean_diff'], True)} ({fmt(r['relative_change'], 'change')})<br>"
                        f"{ci}<br>{html.escape(baseline)} {fmt_unit(kpi, r['baseline_mean'])} → "
                        f"{fmt_unit(kpi, r['scenario_mean'])}<br>{r['n_pairs']} paired seeds"
                        + (f"<br>90 % over {r['draws']} draws and seeds: "
                           f"{_interval(kpi, r['low_90'], r['high_90'], True)}" if r.get("draws") else ""))
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", name=name,
            marker=dict(size=10, color=theme.series_color(order.index(name))),
            error_x=dict(type="data", symmetric=False, array=plus, arrayminus=minus, thickness=2, width=4),
            hovertext=text, hovertemplate="%{hovertext}<extra></extra>"))
    fig.add_vline(x=0, line_color="#444", line_width=1)
    fig.update_layout(**theme.layout(
        title=f"{kpi_label(kpi)}: difference from {baseline}", height=140 + 45 * len(scopes),
        xaxis_title=f"scenario − {baseline}" + (" (percentage points)" if share else ""),
        yaxis=dict(tickvals=list(range(len(scopes))), ticktext=[_scope_label(s) for s in scopes],
                   autorange="reversed", zeroline=False),
        legend=dict(orientation="h", y=-0.25), margin=dict(l=110, t=60)))
    if share:  # ticks in points, as the title says: "-30 pp", never "-30 %"
        fig.update_xaxes(tickformat=".2~f", ticksuffix=" pp")
    return fig


def levels_figure(levels: pl.DataFrame, order: list[str]) -> go.Figure:
    """Each scenario's level of each headline KPI: mean over seeds with its 95 % interval."""
    kpis = [k for k in HEADLINE if k in set(levels["kpi"].to_list())]
    cols = 2
    rows = max(1, math.ceil(len(kpis) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[kpi_label(k) for k in kpis],
                        vertical_spacing=0.5 / rows, horizontal_spacing=0.12)
    for n, kpi in enumerate(kpis):
        g = levels.filter(pl.col("kpi") == kpi)
        by = {r["scenario"]: r for r in g.iter_rows(named=True)}
        names = [s for s in order if s in by]
        ys = [by[s]["mean"] for s in names]
        plus = [None if by[s]["ci_high"] is None else by[s]["ci_high"] - by[s]["mean"] for s in names]
        # Every headline level is a count, a rate, a share or a price: none below zero, nor its interval.
        minus = [None if by[s]["ci_low"] is None else by[s]["mean"] - max(by[s]["ci_low"], 0.0) for s in names]
        text = [f"<b>{html.escape(s)}</b><br>{fmt_kpi(kpi, by[s]['mean'])}"
                + (f" (95 % interval {_interval(kpi, by[s]['ci_low'], by[s]['ci_high'], False)})"
                   if by[s]["ci_low"] is not None else "") + f"<br>{by[s]['n_runs']} runs" for s in names]
        fig.add_trace(go.Scatter(
            x=names, y=ys, mode="markers", showlegend=False,
            marker=dict(size=10, color=[theme.series_color(order.index(s)) for s in names]),
            error_y=dict(type="data", symmetric=False, array=plus, arrayminus=minus, thickness=2, width=6,
                         color="#444"),
            hovertext=text, hovertemplate="%{hovertext}<extra></extra>"), row=n // cols + 1, col=n % cols + 1)
        fig.update_yaxes(tickformat=theme.tickformat(kpi_kind(kpi)), row=n // cols + 1, col=n % cols + 1)
    fig.update_layout(**theme.layout(title="Headline KPIs per scenario (mean over seeds, 95 % interval)",
                                     height=120 + 260 * rows, margin=dict(l=70, t=60)))
    return fig


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
    ok = ok_runs(runs)
    xs = sorted(ok[px].drop_nulls().unique().to_list())
    ys = sorted(ok[py].drop_nulls().unique().to_list())
    fig = go.Figure()
    labels, titles = [], []
    for kpi in kpis:
        for name in order:
            g = group_means(ok.filter(pl.col("scenario") == name), [px, py], kpi)
            if g.height == 0:
                continue
            cell = {(r[px], r[py]): (r["mean"], r["n_runs"]) for r in g.iter_rows(named=True)}
            z = [[cell.get((x, y), (None, 0))[0] for x in xs] for y in ys]
            text = [[f"{param_name(px)} = {x:g}<br>{param_name(py)} = {y:g}<br>"
                     f"{fmt_kpi(kpi, cell.get((x, y), (None, 0))[0])} ({cell.get((x, y), (None, 0))[1]} runs)"
                     for x in xs] for y in ys]
            fig.add_trace(go.Heatmap(
                x=[f"{x:g}" for x in xs], y=[f"{y:g}" for y in ys], z=z, text=text,
                hovertemplate="%{text}<extra></extra>", colorscale=theme.MONEY_SCALE, visible=not fig.data,
                colorbar=dict(tickformat=theme.tickformat(kpi_kind(kpi)) or None)))
            labels.append(f"{kpi_label(kpi)} — {name}" if len(order) > 1 else kpi_label(kpi))
            titles.append(f"{labels[-1]}: mean over seeds")
    fig.update_layout(**theme.layout(
        title=titles[0] if titles else "", height=480, updatemenus=_dropdown(labels, 1, titles),
        xaxis=dict(title=param_name(px), type="category"), yaxis=dict(title=param_name(py), type="category"),
        margin=dict(l=90, t=110, b=50)))
    return fig


def response_curve(runs: pl.DataFrame, p: str, kpis: list[str], order: list[str]) -> go.Figure:
    """One swept number: each KPI's mean over seeds against it, with a 95 % band."""
    ok = ok_runs(runs)
    fig = go.Figure()
    labels, titles = [], []
    for kpi in kpis:
        for j, name in enumerate(order):
            g = group_means(ok.filter(pl.col("scenario") == name), [p], kpi)
            xs = g[p].to_list()
            color = theme.series_color(j)
            fig.add_trace(go.Scatter(x=xs, y=g["ci_high"].to_list(), mode="lines", line=dict(width=0),
                                     hoverinfo="skip", showlegend=False, legendgroup=name))
            fig.add_trace(go.Scatter(x=xs, y=g["ci_low"].to_list(), mode="lines", line=dict(width=0),
                                     fill="tonexty", fillcolor=theme.rgba(color, 0.2), hoverinfo="skip",
                                     showlegend=False, legendgroup=name))
            fig.add_trace(go.Scatter(x=xs, y=g["mean"].to_list(), mode="lines+markers", name=name,
                                     line=dict(color=color), legendgroup=name,
                                     hovertemplate=f"{html.escape(name)}<br>{param_name(p)} = %{{x:g}}<br>"
                                                   "%{y:.3g}<extra></extra>"))
        labels.append(kpi_label(kpi))
        titles.append(f"{kpi_label(kpi)} against {param_name(p)} (mean over seeds, 95 % band)")
    per = 3 * len(order)
    # The first KPI's traces (all scenarios) start visible.
    for k, trace in enumerate(fig.data):
        trace.visible = k < per
    formats = [{"yaxis.tickformat": theme.tickformat(kpi_kind(k))} for k in kpis]
    fig.update_layout(**theme.layout(
        title=titles[0] if titles else "", height=440, xaxis_title=param_name(p),
        updatemenus=_dropdown(labels, per, titles, formats), legend=dict(orientation="h", y=-0.2),
        margin=dict(l=70, t=110)))
    if kpis:
        fig.update_yaxes(tickformat=formats[0]["yaxis.tickformat"])
    return fig


def wage_map(wages: pl.DataFrame, order: list[str]) -> go.Figure:
    """One world map per scenario of the effective wage by country, a slider over quarters.

    ``wages``: scenario, quarter, region, wage (``labsim.stats.mean_quarterly_wages``).
    """
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
                text=[f"{theme.country_name(reg)}: {fmt(w, 'usd')} USD/h" if w is not None
                      else f"{theme.country_name(reg)}: no workers yet" for reg, w in zip(regions, z)],
                hovertemplate=f"{html.escape(name)}<br>%{{text}}<extra></extra>",
                marker_line_color="#555", marker_line_width=0.5))
        return out

    for i, trace in enumerate(traces(quarters[0])):
        fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
    animate_quarters(fig, quarters, traces, "Effective hourly wage by country", duration_ms=600, pad_top=40)
    fig.update_layout(**theme.layout(
        height=80 + 330 * rows + 110, margin=dict(l=10, r=10, t=70, b=110),
        coloraxis=dict(colorscale=theme.MONEY_SCALE, cmin=min(values) if values else 0,
                       cmax=max(values) if values else 1, colorbar=dict(title=dict(text="USD/h")))))
    style_world(fig, (-45, 75))
    return fig


# --- the page ----------------------------------------------------------------------------

def scenarios_table(order: list[str], about: dict[str, tuple[str, str]]) -> str:
    """Each scenario of the sweep with the title and one-line description its file declares."""
    rows = [[about.get(name, (name, ""))[0], about.get(name, (name, ""))[1], name] for name in order]
    return table_html(["scenario", "what it does", "file (scenario=)"], rows)


def scenario_titles(order: list[str], about: dict[str, tuple[str, str]]) -> dict[str, str]:
    """scenario name -> the title the page shows (its file's; the name where titles would clash)."""
    titles = {n: (about.get(n) or (n, ""))[0] or n for n in order}
    clash = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    return {n: f"{t} ({n})" if t in clash else t for n, t in titles.items()}


def _runs_note(runs: pl.DataFrame) -> str:
    """How the runs were laid out, true for the sweep at hand."""
    swept = [param_name(c) for c in param_columns(runs) if ok_runs(runs)[c].n_unique() > 1]
    per = "once per seed" + (f" and per value of {', '.join(swept)}" if swept else "")
    return (f"Each scenario ran {per}. Runs that share a seed share their random draws (common random "
            "numbers), so comparing them seed by seed isolates the change from chance.")


@dataclass
class Comparison:
    """What the page and the figure export both start from: the runs with scenarios named by their
    titles, the paired differences and what was swept."""

    runs: pl.DataFrame
    wages: pl.DataFrame | None
    names: list[str]  # scenario names, in the sweep's order
    titles: dict[str, str]
    baseline: str  # the baseline's name, as asked
    base_title: str
    ok_order: list[str]  # titles of the scenarios with finished runs
    kpis: list[str]
    diffs: pl.DataFrame | None
    swept: list[str]
    sweep_kpis: list[str]
    incidence: pl.DataFrame | None = None  # each channel in each region, and who pays (paired differences)
    splits: pl.DataFrame | None = None  # the wage's and burnout's exact splits
    requesters: pl.DataFrame | None = None  # requesters by home and by a rule's reach (paired differences)
    leakage: pl.DataFrame | None = None  # where the work a rule covers went (exact splits)

    @property
    def has_map(self) -> bool:
        return self.wages is not None and self.wages.height > 0 and self.wages["wage"].drop_nulls().len() > 0


def prepare(runs: pl.DataFrame, baseline: str | None = "baseline", wages: pl.DataFrame | None = None,
            about: dict[str, tuple[str, str]] | None = None) -> Comparison:
    about = about or {}
    baseline = baseline or "baseline"
    names = scenarios(runs)
    titles = scenario_titles(names, about)
    base_title = titles.get(baseline, baseline)
    # Every table and chart speaks of scenarios by their titles.
    runs = runs.with_columns(pl.col("scenario").replace(titles))
    if wages is not None:
        wages = wages.with_columns(pl.col("scenario").replace(titles))
    runs = market_counts(runs)  # counts for the real-world market, as the per-worker figures are
    ok = ok_runs(runs)
    ok_order = [titles[n] for n in names if titles[n] in set(ok["scenario"].to_list())]
    kpis = [k for k in HEADLINE if k in ok.columns]
    paired = base_title in ok_order and len(ok_order) > 1
    diffs = paired_differences(runs, base_title, kpis, by_region=True) if paired else None
    incidence = (pl.concat([paired_differences(runs, base_title, INCIDENCE, scopes=cell_scopes(runs)),
                            paired_differences(runs, base_title, PAYERS, by_region=False)]) if paired else None)
    splits = pl.concat([wage_split(runs, base_title), burnout_split(runs, base_title)]) if paired else None
    requesters = (pl.concat([rule_differences(runs, base_title),
                             paired_differences(runs, base_title, REQUESTERS, scopes=home_scopes(runs))])
                  if paired else None)
    return Comparison(runs, wages, names, titles, baseline, base_title, ok_order, kpis, diffs,
                      swept_parameters(runs), [k for k in SWEEP_KPIS if k in ok.columns and ok[k].drop_nulls().len()],
                      incidence, splits, requesters, leakage_split(runs, base_title) if paired else None)


def comparison_figures(c: Comparison) -> dict[str, go.Figure]:
    """Every chart of the comparison page, by the id of its place on the page, in page order."""
    figs: dict[str, go.Figure] = {}
    if c.diffs is not None:
        for kpi in c.kpis:
            if c.diffs.filter(pl.col("kpi") == kpi).height:
                figs[f"fig-diff-{kpi}"] = forest(c.diffs, kpi, c.base_title, c.ok_order)
    levels = kpi_levels(c.runs, c.kpis)
    if levels.height:
        figs["fig-levels"] = levels_figure(levels, c.ok_order)
    if c.swept and c.sweep_kpis:
        if len(c.swept) == 1:
            figs["fig-sweep-1d"] = response_curve(c.runs, c.swept[0], c.sweep_kpis, c.ok_order)
        else:
            for a, b in combinations(c.swept[:MAX_HEATMAP_PARAMS], 2):
                figs[f"fig-heat-{param_name(a)}-{param_name(b)}"] = heatmap(c.runs, a, b, c.sweep_kpis, c.ok_order)
    if c.has_map:
        figs["fig-map"] = wage_map(c.wages, c.ok_order)
    return figs


def comparison_page(runs: pl.DataFrame, baseline: str | None = "baseline",
                    wages: pl.DataFrame | None = None, about: dict[str, tuple[str, str]] | None = None) -> str:
    """The sweep's comparison page: self-contained HTML (plotly.js, and the world outline
    when there is a map, inlined). ``wages`` (scenario, quarter, region, wage) draws the
    world map; without it, or with no wage in it, the page has no map. ``about`` gives each
    scenario's title and one-line description (from its file; the page reads none).

    The page answers first (one sentence per scenario and indicator, with its interval), then
    gives the table, the charts, and last the housekeeping (runs, failures)."""
    c = prepare(runs, baseline, wages, about)
    figs = comparison_figures(c)
    runs, ok_order, base_title, diffs, swept, kpis = c.runs, c.ok_order, c.base_title, c.diffs, c.swept, c.kpis
    ok = ok_runs(runs)
    n_runs, n_ok = runs.height, ok.height
    versions = sorted({v for v in runs["labsim_version"].drop_nulls().to_list()})
    commits = sorted({x[:10] for x in runs["git_commit"].drop_nulls().to_list()})
    sweeps = sorted(set(runs["sweep_dir"].to_list()))
    subtitle = " · ".join(x for x in (
        f"{n_runs} runs ({n_ok} ok) of {len(c.names)} scenario{'s' * (len(c.names) != 1)}",
        f"sweep {sweeps[0]}" if len(sweeps) == 1 else f"{len(sweeps)} sweep folders",
        f"labsim {', '.join(versions)}" if versions else "",
        f"commit {', '.join(commits)}" if commits else "") if x)

    sections: list[str] = []
    weeks = weeks_note(runs)
    sig = ("Bold: a change the sweep tells apart from chance (its 95 % interval excludes zero). \"No clear "
           "change\": the interval lies within the smallest change that matters (docs/guide/kpis.md); \"too few "
           "runs to tell\": it holds zero and larger changes too, so add seeds before reading much into it.")
    share = simulated_share(runs)
    if share is not None:
        sig += (f" Counts over the market (burnout exits as a head count, top-ups, pay) are scaled to the "
                f"real-world market: the runs simulate 1 in {1 / share:.3g} of it.")
    if diffs is not None and diffs.height:
        heads = {t: f"{html.escape(t)}, against {html.escape(base_title)}" for t in ok_order if t != base_title}
        sections += ["<h2>The answer</h2>", answers_html(diffs, heads, c.splits), _note(sig)]
        if c.incidence is not None and c.incidence.height:
            tables = []
            for t in heads:
                cells, payers = incidence_table(c.incidence, c.splits, t), payers_table(c.incidence, t)
                if cells or payers:
                    tables += [f"<h3>{html.escape(t)}</h3>", f"<div class='scroll'>{cells}</div>" if cells else "",
                               f"<div class='scroll'>{payers}</div>" if payers else ""]
            if tables:
                sections += ["<h2>Who gains, who pays</h2>", *tables, _note(INCIDENCE_NOTE)]
        if c.leakage is not None and c.leakage.height:
            tables = []
            for t in heads:
                where, who = leakage_table(c.leakage, t), requesters_table(c.requesters, t)
                if where:
                    tables += [f"<h3>{html.escape(t)}</h3>", f"<div class='scroll'>{where}</div>",
                               f"<div class='scroll'>{who}</div>" if who else ""]
            if tables:
                sections += ["<h2>Where the covered work goes</h2>", *tables, _note(LEAKAGE_NOTE)]
    elif swept:
        for p in swept[:MAX_HEATMAP_PARAMS]:
            ends = end_differences(runs, p, kpis)
            if ends.height == 0:
                continue
            ok_p = ok[p].drop_nulls()
            move = f"{param_name(p)} from {ok_p.min():g} to {ok_p.max():g}"
            heads = {t: html.escape(f"Raising {move}" + (f" ({t})" if len(ok_order) > 1 else ""))
                     for t in ok_order}
            if not sections:
                sections.append("<h2>The answer</h2>")
            sections.append(answers_html(ends, heads))
        if sections:
            sections.append(_note(sig + " Runs at the two ends of the range are paired by seed"
                                  + (" and by the other swept settings." if len(swept) > 1 else ".")))
    if weeks:
        sections.append(_note(weeks))
    notes = sorted({n for text in ok["outside_calibration"].drop_nulls().to_list() for n in text.split("; ")}
                   if "outside_calibration" in ok.columns else set())
    # (a short KPI window has its own note; this is about a short 'after' or 'before')
    windowed = (ok.filter(pl.col("window") != "kpi")["weeks"].drop_nulls().to_list()
                if {"window", "weeks"} <= set(ok.columns) else [])
    short = sorted({w for w in windowed if _span(w) < CALIBRATED_MIN_KPI_WEEKS})
    if short:
        notes.append(f"the weeks compared ({', '.join(_weeks(w) for w in short)}) are fewer than a quarter: "
                     "turnover, tenure and burnout rates rest on few exits; run longer")
    if notes:
        sections.append("<p class='note warn'>Outside the calibrated setting, so read levels with care "
                        "(differences between paired runs are less affected): "
                        + html.escape("; ".join(notes)) + ".</p>")
    if about:
        sections += ["<h2>Scenarios compared</h2>", f"<div class='scroll'>{scenarios_table(c.names, about)}</div>"]

    if diffs is not None:
        sections += [f"<h2>What each scenario changes, against {html.escape(base_title)}</h2>",
                     f"<div class='scroll'>{differences_table(diffs, base_title)}</div>",
                     _note(f"Difference = scenario minus {base_title}, computed seed by seed and averaged. "
                           + sig.split('. ', 1)[1]),
                     *([_note(DRAWS_NOTE)] if diffs["draws"].drop_nulls().len() else []),
                     _note("In each chart below a dot is a scenario's average difference from "
                           f"{base_title} and its bar the 95 % interval, for all regions together and "
                           "for each region (a policy can help one country and not another).")]
        for kpi in kpis:
            if f"fig-diff-{kpi}" in figs:
                meaning = theme.kpi(kpi).meaning
                sections.append(f"<div class='fig'>{figure_html(figs[f'fig-diff-{kpi}'], f'fig-diff-{kpi}')}"
                                "</div>" + (_note(meaning) if meaning else ""))
    elif len(ok_order) > 1:
        sections.append(_note(f"No finished runs of a scenario named '{c.baseline}' in this sweep, so no "
                              "differences are shown; rebuild the page with "
                              "`labsim-compare DIR --baseline NAME`."))

    if "fig-levels" in figs:
        sections += ["<h2>Levels per scenario</h2>", _fig(
            figs["fig-levels"], "fig-levels",
            "Where each scenario ends up, not how it differs: the mean over its runs with a 95 % "
            "interval."
            + (" Intervals here are wider than the paired differences above because they include "
               "the luck of each seed, which pairing cancels." if diffs is not None else "")
            + (" A scenario's runs at different values of the swept settings are pooled here."
               if swept else ""))]

    if swept and c.sweep_kpis:
        sections.append("<h2>Parameter sweeps</h2>")
        others = [x for x in param_columns(runs) if x not in swept and ok[x].n_unique() > 1]
        pooled = (" Other swept settings (" + ", ".join(param_name(x) for x in others) + ") are averaged over."
                  if others else "")
        if len(swept) == 1:
            p = swept[0]
            sections.append(_fig(
                figs["fig-sweep-1d"], "fig-sweep-1d",
                f"How each indicator responds to {param_name(p)} (pick it in the menu): the line is the mean "
                f"over seeds, the band its 95 % interval. A steep stretch is where the setting matters "
                f"most; a flat one is where changing it buys little.{pooled}"))
        else:
            for a, b in combinations(swept[:MAX_HEATMAP_PARAMS], 2):
                div = f"fig-heat-{param_name(a)}-{param_name(b)}"
                sections.append(_fig(
                    figs[div], div,
                    f"Each cell is the mean over seeds of the indicator chosen in the menu for one combination "
                    f"of {param_name(a)} and {param_name(b)}. Look for the region of the grid where the "
                    f"outcome you care about is acceptable, and for whether one setting can make up for "
                    f"the other (colours that run diagonally).{pooled}"))
            if len(swept) > MAX_HEATMAP_PARAMS:
                sections.append(_note("Only the first four swept numbers get heat maps; runs.parquet "
                                      "holds them all."))

    if "fig-map" in figs:
        sections += ["<h2>Effective wages around the world</h2>", _fig(
            figs["fig-map"], "fig-map",
            "Earnings per hour online (paid plus unpaid hours) of the workers in each country, per "
            "quarter, averaged over seeds; press play or drag the slider to see the market evolve, "
            "and compare maps to see where a policy lifts pay. Grey countries have no workers in "
            "labsim (or none yet: emerging regions enter later). The map covers every quarter, "
            "the warm-up and the weeks before a policy included.")]

    sections += ["<h2>Runs</h2>", runs_table(runs), _note(_runs_note(runs))]
    failures = failures_table(runs)
    if failures:
        sections += ["<h3>Runs that failed or did not finish</h3>", f"<div class='scroll'>{failures}</div>",
                     _note("These runs count nowhere above. Rerunning the same `labsim -m` command "
                           "reruns only them.")]
    return page("labsim — sweep comparison", subtitle, sections, geo=c.has_map)
