"""Statistics of runs and sweeps: frames in, frames out.

Pure functions of polars frames and numpy arrays: nothing here reads or
writes a file, draws or prints, so that the sweep's command (which reads the
run folders, ``labsim.sweep``) and the pages (which draw, ``labsim.report``)
can both use them without depending on each other.

The runs table (``runs.parquet``, one row per run) has ``scenario``,
``seed``, ``status``, ``param.<key>`` columns for the swept settings and a
column per KPI: ``NAME`` overall, ``KEN.NAME`` per region. Differences
against the baseline are paired: scenarios run with the same seed share
random streams (common random numbers), so the difference within a pair is
mostly the policy, not noise, and a t interval over pairs is much narrower
than one over unpaired means.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np
import polars as pl

from labsim.indicators import base_name, counts, view
from labsim.model.units import ALL_REGIONS, WEEKS_PER_QUARTER

PARAM = "param."  # prefix of the runs table's swept settings

# The headline KPIs: pay, pay below the local floor, churn, burnout,
# automation, where the work is done, who gets the money, and what the work
# costs requesters.
HEADLINE = view("headline")  # the indicators a sweep's differences cover (labsim.indicators)
INCIDENCE = view("incidence")  # the incidence table's, for each channel in each region
PAYERS = view("payers")  # and who pays, overall

# Over the draws of the posterior (runs with posterior_draw set): how many draws, the 90 % range of the
# paired differences over draws and seeds, its variance split into parameter uncertainty and chance,
# the share of draws whose mean difference is positive, and whether the sign of the effect depends on
# the unknowns (``over_draws``).
OVER_DRAWS_SCHEMA = {"draws": pl.Int64, "low_90": pl.Float64, "high_90": pl.Float64, "var_parameter": pl.Float64,
                     "var_chance": pl.Float64, "parameter_share": pl.Float64, "positive_draws": pl.Float64,
                     "sign_depends": pl.Boolean}
DIFF_SCHEMA = {"scenario": pl.Utf8, "scope": pl.Utf8, "kpi": pl.Utf8, "n_pairs": pl.Int64,
               "baseline_mean": pl.Float64, "scenario_mean": pl.Float64, "mean_diff": pl.Float64,
               "ci_low": pl.Float64, "ci_high": pl.Float64, "relative_change": pl.Float64, **OVER_DRAWS_SCHEMA}
DRAW = PARAM + "posterior_draw"  # the runs table's column of posterior draws
SIGN_SIDE = 0.05  # the least share of draws on each side of zero for a sign to depend on the draw
Z90 = 1.6448536269514722  # the standard normal's 95th percentile: a central 90 % range is mean +- Z90 sd
LEVEL_SCHEMA = {"scenario": pl.Utf8, "scope": pl.Utf8, "kpi": pl.Utf8, "n_runs": pl.Int64,
                "mean": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64}
QUARTER_SCHEMA = {"scenario": pl.Utf8, "quarter": pl.Int64, "region": pl.Utf8, "wage": pl.Float64,
                  "runs": pl.UInt32}


# --- intervals ---------------------------------------------------------------------------

def t_quantile(n: int, level: float = 0.95) -> float:
    """The two-sided ``level`` quantile of Student's t with n - 1 degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, n - 1))


def market_counts(runs: pl.DataFrame) -> pl.DataFrame:
    """``runs`` with the indicators that are counts over the market (labsim.indicators.counts: burnout
    exits as a head count, top-ups, pay), overall and in every scope, divided by each run's ``scale``:
    a run of a tenth of the population reports them for the real-world market, as per-worker figures
    and shares already are. Runs without a scale (written before it was recorded) are left as they are."""
    if "scale" not in runs.columns:
        return runs
    names = set(counts())
    # and what each requester group bought (group:<class>:<home>:<size>.<flow>), its flag of cover aside
    cols = [c for c in runs.columns if (base_name(c) in names or (c.startswith("group:") and not c.endswith(
        ".covered"))) and runs.schema[c].is_numeric()]
    factor = pl.when(pl.col("scale") > 0).then(pl.col("scale")).otherwise(None).fill_null(1.0)
    return runs.with_columns([(pl.col(c) / factor).alias(c) for c in cols])


def simulated_share(runs: pl.DataFrame) -> float | None:
    """The share of the real-world market the runs simulate (their ``scale``), when it is one for all
    and not 1; else None."""
    if "scale" not in runs.columns:
        return None
    values = set(runs["scale"].drop_nulls().to_list())
    return values.pop() if len(values) == 1 and values != {1.0} else None


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t interval of ``x`` (finite values only); the interval is NaN below two values."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = t_quantile(x.size, level) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return m, m - half, m + half


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: Sequence[float]) -> list[float]:
    """Quantiles ``q`` of ``x`` under weights ``w`` (the inverse of the weighted distribution
    function: the smallest value whose cumulative weight reaches q)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    cum /= cum[-1]
    at = np.minimum(np.searchsorted(cum, np.asarray(q, float) - 1e-12), x.size - 1)
    return [float(v) for v in x[order][at]]


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of weights ``w``, (sum w)^2 / sum w^2: how many equal-weight
    members a weighted sample is worth (n when all weights are equal, 1 when one carries all)."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / np.square(w).sum()) if w.size and w.any() else 0.0


def _nulls(frame: pl.DataFrame) -> pl.DataFrame:
    """NaN (no value, no interval) as null, which tables and charts show as missing."""
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


# --- the runs table ----------------------------------------------------------------------

def ok_runs(runs: pl.DataFrame) -> pl.DataFrame:
    return runs.filter(pl.col("status") == "ok")


def region_codes(runs: pl.DataFrame) -> list[str]:
    """Regions present as ``<CODE>.<kpi>`` columns (codes are upper-case ISO-3)."""
    codes = {c.split(".", 1)[0] for c in runs.columns if "." in c and not c.startswith(PARAM)}
    return sorted(c for c in codes if c.isupper() and c.isalpha())


def param_columns(runs: pl.DataFrame) -> list[str]:
    return [c for c in runs.columns if c.startswith(PARAM)]


def param_name(column: str) -> str:
    """``param.crowd.commission`` -> ``crowd.commission``."""
    return column[len(PARAM):] if column.startswith(PARAM) else column


def scenarios(runs: pl.DataFrame) -> list[str]:
    """Scenarios in order of first appearance (the sweep's job order)."""
    return runs["scenario"].unique(maintain_order=True).to_list()


def swept_parameters(runs: pl.DataFrame) -> list[str]:
    """Numeric ``param.*`` columns that take more than one value among the ok runs (not the
    posterior's draws: a draw's number is a label, not a setting)."""
    ok = ok_runs(runs)
    return [c for c in param_columns(runs)
            if c != DRAW and runs.schema[c] == pl.Float64 and ok[c].drop_nulls().n_unique() > 1]


def _scopes(runs: pl.DataFrame, by_region: bool) -> list[tuple[str, str]]:
    """(scope, column prefix): all regions together, then each region."""
    return [(ALL_REGIONS, "")] + ([(r, f"{r}.") for r in region_codes(runs)] if by_region else [])


def cell_scopes(runs: pl.DataFrame) -> list[tuple[str, str]]:
    """(scope, column prefix) of the incidence table's cells, each channel in each region
    (``crowd:KEN.<kpi>`` columns): crowd first, then vendors, regions in order."""
    heads = {c.split(".", 1)[0] for c in runs.columns if "." in c and not c.startswith(PARAM)}
    cells = [h for h in heads if h.split(":")[0] in ("crowd", "vendor") and ":" in h and "+" not in h]
    order = {"crowd": 0, "vendor": 1}
    cells.sort(key=lambda h: (order.get(h.split(":")[0], 2), h))
    return [(h, f"{h}.") for h in cells]


def _pairs(runs: pl.DataFrame, baseline: str, value_cols: list[str]) -> Iterable[tuple[str, pl.DataFrame]]:
    """(scenario, its runs joined with the baseline's) for every other scenario: paired by seed, by
    every ``param.*`` value and by ``weeks``; repeated runs under one key averaged first; the
    scenario's columns suffixed ``__s``."""
    if baseline not in set(runs["scenario"].to_list()):
        raise ValueError(f"no scenario named {baseline!r} in the runs "
                         f"(scenarios: {', '.join(scenarios(runs)) or 'none'})")
    ok = ok_runs(runs)
    keys = ["seed", *param_columns(runs), *(["weeks"] if "weeks" in runs.columns else [])]
    value_cols = [c for c in dict.fromkeys(value_cols) if c in ok.columns]
    if not ok.height or not value_cols:
        return

    def side(name: str) -> pl.DataFrame:
        return (ok.filter(pl.col("scenario") == name)
                .group_by(keys, maintain_order=True).agg(pl.col(value_cols).mean()))

    base = side(baseline)
    for other in scenarios(ok):
        if other != baseline:
            yield other, base.join(side(other), on=keys, how="inner", suffix="__s", nulls_equal=True)


def paired_differences(runs: pl.DataFrame, baseline: str = "baseline",
                       kpis: Sequence[str] = HEADLINE, by_region: bool = True,
                       scopes: Sequence[tuple[str, str]] | None = None) -> pl.DataFrame:
    """Each scenario minus the baseline, paired by seed and by every ``param.*`` value.

    Only runs with status ok count; a run pairs only with one over the same
    weeks (the ``weeks`` column, when the table has one); a run without a partner is dropped, and
    runs repeated under the same key (the same sweep collected twice) are
    averaged first. One row per scenario x scope (``ALL`` or a region code) x
    KPI that has at least one complete pair: n_pairs, the baseline's and the
    scenario's means over the pairs, the mean difference with its 95 % t
    interval over pairs (null below two pairs), and the relative change
    (mean difference over the baseline mean). ``scopes``: (scope, column prefix) pairs in place
    of all regions and each region (``cell_scopes`` for the incidence table's).
    """
    if scopes is None:
        scopes = _scopes(runs, by_region)
    wanted = [(scope, kpi, prefix + kpi) for scope, prefix in scopes for kpi in kpis if prefix + kpi in runs.columns]
    rows = []
    for other, pairs in _pairs(runs, baseline, [col for _, _, col in wanted]):
        rows += _pair_rows(pairs, wanted, other)
    return _nulls(pl.DataFrame(rows, schema=DIFF_SCHEMA, orient="row"))


def _pair_rows(pairs: pl.DataFrame, wanted: list[tuple[str, str, str]], label: str) -> list[dict]:
    """DIFF_SCHEMA rows: the scenario (``__s`` columns) minus the baseline in ``pairs``, for each
    (scope, kpi, column)."""
    rows = []
    for scope, kpi, col in wanted:
        b = pairs[col].cast(pl.Float64).to_numpy()
        s = pairs[f"{col}__s"].cast(pl.Float64).to_numpy()
        keep = np.isfinite(b) & np.isfinite(s)
        n = int(keep.sum())
        if n == 0:
            continue
        b, s = b[keep], s[keep]
        mean_diff, lo, hi = mean_ci(s - b)
        base_mean = float(b.mean())
        draws = pairs[DRAW].to_numpy()[keep] if DRAW in pairs.columns else None
        means = draw_means(s - b, draws)
        if means is not None and means.size == np.unique(np.asarray(draws, float)).size:
            # Every pair has a draw: seeds of one draw share its parameters, so they are not independent
            # pairs; the interval of the mean effect over the posterior is over the draws' means.
            _, lo, hi = mean_ci(means)
        rows.append({"scenario": label, "scope": scope, "kpi": kpi, "n_pairs": n,
                     "baseline_mean": base_mean, "scenario_mean": float(s.mean()),
                     "mean_diff": mean_diff, "ci_low": lo, "ci_high": hi,
                     "relative_change": mean_diff / base_mean if base_mean else math.nan,
                     **over_draws(s - b, draws)})
    return rows


def _by_draw(diff: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pairs that have a posterior draw (-1 or missing: none): their differences, the index of
    each one's draw, the pairs per draw and each draw's mean difference."""
    g = np.array([math.nan if v is None else float(v) for v in draws])
    keep = np.isfinite(g) & (g >= 0)
    _, which, counts = np.unique(g[keep], return_inverse=True, return_counts=True)
    d = diff[keep]
    return d, which, counts, np.bincount(which, weights=d, minlength=counts.size) / np.maximum(counts, 1)


def draw_means(diff: np.ndarray, draws: np.ndarray | None) -> np.ndarray | None:
    """The mean of ``diff`` in each posterior draw (runs without a draw, -1, left out); None
    without draws."""
    if draws is None:
        return None
    means = _by_draw(diff, draws)[3]
    return means if means.size else None


def over_draws(diff: np.ndarray, draws: np.ndarray | None) -> dict[str, Any]:
    """What the paired differences ``diff`` say over the posterior's draws (``draws[i]`` the draw
    of pair i; None or a single draw: nothing, the columns stay null).

    By the law of total variance, Var(d) = E[Var(d | draw)] + Var(E[d | draw]): chance (the spread
    between seeds of one draw) plus parameter uncertainty (the spread of the draws' own effects).
    Chance is the mean within-draw variance (draws with two seeds or more; null without them);
    parameter uncertainty the variance of the draws' means less what chance puts into a mean of
    n seeds (chance / n, on average over draws), never below zero. The sign of the effect depends
    on the unknowns when the draws' effects, taken as normal, put zero inside their central 90 %
    (|mean| < 1.645 sd of the parameter part) and at least 5 % of the draws' mean effects lie on
    each side of zero."""
    empty: dict[str, Any] = dict.fromkeys(OVER_DRAWS_SCHEMA)
    if draws is None:
        return empty
    d, which, counts, means = _by_draw(diff, draws)
    if counts.size < 2:
        return empty
    low, high = np.quantile(d, [0.05, 0.95])
    out = {**empty, "draws": int(counts.size), "low_90": float(low), "high_90": float(high),
           "positive_draws": float((means > 0).mean())}
    several = counts >= 2
    if several.any():
        sq = np.bincount(which, weights=(d - means[which]) ** 2)
        chance = float(np.mean(sq[several] / (counts[several] - 1)))
        parameter = max(0.0, float(means.var(ddof=1)) - chance * float(np.mean(1.0 / counts)))
        total = parameter + chance
        # Both conditions: the parameter part alone spans zero, and draws do fall on both sides
        # (an effect that is nil in some draws and negative in the others has a sign: negative).
        both_sides = min(float((means > 0).mean()), float((means < 0).mean())) >= SIGN_SIDE
        out.update(var_parameter=parameter, var_chance=chance,
                   parameter_share=parameter / total if total > 0 else None,
                   sign_depends=bool(abs(float(d.mean())) < Z90 * math.sqrt(parameter) and both_sides))
    return out


def end_differences(runs: pl.DataFrame, param: str, kpis: Sequence[str] = HEADLINE) -> pl.DataFrame:
    """For a swept number ``param`` (a ``param.*`` column): in each scenario, the runs at its highest
    value minus those at its lowest, paired by seed, by every other swept setting and by weeks
    (DIFF_SCHEMA rows, all regions together; ``baseline_mean`` is the level at the lowest value).
    This is what moving the setting across its swept range does, with its 95 % interval."""
    ok = ok_runs(runs).filter(pl.col(param).is_not_null())
    keys = ["seed", *(c for c in param_columns(runs) if c != param),
            *(["weeks"] if "weeks" in runs.columns else [])]
    wanted = [(ALL_REGIONS, k, k) for k in kpis if k in ok.columns]
    rows: list[dict] = []
    for name in scenarios(ok):
        g = ok.filter(pl.col("scenario") == name)
        if g[param].n_unique() < 2 or not wanted:
            continue
        low, high = g[param].min(), g[param].max()

        def at(v: float) -> pl.DataFrame:
            return (g.filter(pl.col(param) == v).group_by(keys, maintain_order=True)
                    .agg(pl.col([c for _, _, c in wanted]).mean()))

        pairs = at(low).join(at(high), on=keys, how="inner", suffix="__s", nulls_equal=True)
        rows += _pair_rows(pairs, wanted, name)
    return _nulls(pl.DataFrame(rows, schema=DIFF_SCHEMA, orient="row"))


# --- reasons next to effects: exact splits -------------------------------------------------

WAGE = "effective_wage_usd_h"  # the hours-weighted effective wage: earnings over hours online
# its parts, whose product it is: pay for tasks per paid hour x paid share of hours online x top-up factor
WAGE_PARTS = view("wage_parts")
BURNOUT = "burnout_exits_per_1000_moderator_years"
# the burnout rate's shift-share parts: the rate within each channel's moderators, and the mix
BURNOUT_PARTS = ("crowd_rate", "vendor_rate", "channel_mix")
SPLIT_SCHEMA = {"scenario": pl.Utf8, "scope": pl.Utf8, "kpi": pl.Utf8, "part": pl.Utf8, "n_pairs": pl.Int64,
                "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64, "residual": pl.Float64}


def _split_rows(label: str, scope: str, kpi: str, parts: dict[str, np.ndarray]) -> list[dict]:
    """SPLIT_SCHEMA rows: each part's mean over pairs with its 95 % interval; ``residual``, on the
    total's row, the largest gap over pairs between the total and the sum of its parts."""
    total = parts["total"]
    gap = total - sum(v for k, v in parts.items() if k != "total")
    rows = []
    for part, x in parts.items():
        mean, lo, hi = mean_ci(x)
        rows.append({"scenario": label, "scope": scope, "kpi": kpi, "part": part, "n_pairs": int(x.size),
                     "value": mean, "ci_low": lo, "ci_high": hi,
                     "residual": float(np.abs(gap).max()) if part == "total" else math.nan})
    return rows


def wage_split(runs: pl.DataFrame, baseline: str = "baseline") -> pl.DataFrame:
    """Why the hours-weighted effective wage moved, with no residual term: per scenario and scope
    (all regions, each region, each channel in each region), the paired change in its log and the
    changes in the logs of its three parts (``WAGE_PARTS``), which add up to it exactly in every
    pair: earnings / hours online = (pay for tasks / paid hours) x (paid hours / hours online) x
    (earnings / pay for tasks). Pairs where a part is not positive are left out."""
    scopes = [*_scopes(runs, True), *cell_scopes(runs)]
    names = (WAGE, *WAGE_PARTS)
    cols = [prefix + k for _, prefix in scopes for k in names]
    rows: list[dict] = []
    for other, pairs in _pairs(runs, baseline, cols):
        for scope, prefix in scopes:
            if any(prefix + k not in pairs.columns for k in names):
                continue
            logs = {}
            for k in names:
                b = pairs[prefix + k].cast(pl.Float64).to_numpy()
                s = pairs[f"{prefix}{k}__s"].cast(pl.Float64).to_numpy()
                with np.errstate(divide="ignore", invalid="ignore"):
                    logs[k] = np.log(s) - np.log(b)
            keep = np.logical_and.reduce([np.isfinite(v) for v in logs.values()])
            if keep.any():
                rows += _split_rows(other, scope, WAGE, {"total": logs[WAGE][keep],
                                                         **{k: logs[k][keep] for k in WAGE_PARTS}})
    return pl.DataFrame(rows, schema=SPLIT_SCHEMA, orient="row")


def burnout_split(runs: pl.DataFrame, baseline: str = "baseline") -> pl.DataFrame:
    """Why burnout exits per 1,000 moderator-years moved, with no residual term: the rate is the
    channels' rates weighted by their shares of moderator-years, so its paired change splits
    exactly (shift-share with midpoint weights) into each channel's rate change at its mean share
    (``crowd_rate``, ``vendor_rate``: moderators burning out faster or slower where they work) and
    the change in shares at the mean rates (``channel_mix``: moderation moving between crowd
    workers and vendor staff)."""
    chans = ("crowd", "vendor")
    cols = [BURNOUT, *(f"{c}.{k}" for c in chans for k in (BURNOUT, "moderator_years"))]
    rows: list[dict] = []
    for other, pairs in _pairs(runs, baseline, cols):
        if any(c not in pairs.columns for c in cols):
            continue

        def get(col: str, side: str) -> np.ndarray:
            return pairs[col + side].cast(pl.Float64).fill_null(math.nan).to_numpy()
        years = {(c, sd): get(f"{c}.moderator_years", sd) for c in chans for sd in ("", "__s")}
        rate = {(c, sd): np.where(years[c, sd] > 0, np.nan_to_num(get(f"{c}.{BURNOUT}", sd)), 0.0)
                for c in chans for sd in ("", "__s")}
        total_years = {sd: years["crowd", sd] + years["vendor", sd] for sd in ("", "__s")}
        keep = (total_years[""] > 0) & (total_years["__s"] > 0)
        if not keep.any():
            continue
        share = {(c, sd): years[c, sd][keep] / total_years[sd][keep] for c in chans for sd in ("", "__s")}
        r = {k: v[keep] for k, v in rate.items()}
        parts = {"total": sum(share[c, "__s"] * r[c, "__s"] - share[c, ""] * r[c, ""] for c in chans)}
        for c in chans:
            parts[f"{c}_rate"] = 0.5 * (share[c, ""] + share[c, "__s"]) * (r[c, "__s"] - r[c, ""])
        parts["channel_mix"] = sum(0.5 * (r[c, ""] + r[c, "__s"]) * (share[c, "__s"] - share[c, ""]) for c in chans)
        rows += _split_rows(other, ALL_REGIONS, BURNOUT, parts)
    return pl.DataFrame(rows, schema=SPLIT_SCHEMA, orient="row")


REQUESTERS = view("requesters")  # what requesters buy from people, and its cost to them (scopes home:EU...)
# The three destinations of the work a rule covers at its start (docs/model.md 7.16), and where the moved
# part went: to requesters the rule does not bind, to machines, to a tier it does not cover (the crowd
# reached through a compliant first-tier vendor).
LEAKAGE = "covered_work"
LEAKAGE_PARTS = ("done_under_rule", "moved", "no_longer_done")
MOVED = "moved_work"
MOVED_PARTS = ("to_uncovered_requesters", "to_machines", "to_uncovered_tier")


def home_scopes(runs: pl.DataFrame) -> list[tuple[str, str]]:
    """(scope, column prefix) of requesters by home jurisdiction (``home:EU.<kpi>`` columns), in the
    order of ``labsim.config.JURISDICTIONS``."""
    from labsim.config import JURISDICTIONS

    heads = {c.split(".", 1)[0] for c in runs.columns if c.startswith("home:")}
    return [(f"home:{j}", f"home:{j}.") for j in JURISDICTIONS if f"home:{j}" in heads]


def _group_sums(pairs: pl.DataFrame, side: str, covered: np.ndarray | None) -> dict[str, dict[str, np.ndarray]]:
    """Per pair, the sums of the requester groups' flows (``group:*.<flow>`` columns, ``side`` "" for the
    baseline, "__s" for the scenario) over the groups the scenario's rule binds (``covered``, per group
    and pair) and over the rest: {"covered": {flow: per pair}, "uncovered": {...}}."""
    groups = sorted({c.split(".", 1)[0] for c in pairs.columns if c.startswith("group:") and c.endswith(".covered")})
    flows = ("tasks_human", "tasks_human_crowd", "tasks_human_vendor", "tasks_automated", "cost_human_usd")
    out = {k: {f: np.zeros(pairs.height) for f in flows} for k in ("covered", "uncovered")}
    for g in groups:
        bound = covered[g] if covered is not None else np.zeros(pairs.height, bool)
        for f in flows:
            col = f"{g}.{f}{side}"
            x = pairs[col].cast(pl.Float64).fill_null(0.0).to_numpy() if col in pairs.columns else 0.0
            out["covered"][f] = out["covered"][f] + np.where(bound, x, 0.0)
            out["uncovered"][f] = out["uncovered"][f] + np.where(bound, 0.0, x)
    return out


def _rule_pairs(runs: pl.DataFrame, baseline: str) -> Iterable[tuple[str, dict, dict]]:
    """(scenario, baseline's sums, scenario's sums) over its pairs (``_group_sums``) for every scenario
    whose rule binds some requesters (a due-diligence rule scoped by home jurisdiction)."""
    cols = [c for c in runs.columns if c.startswith("group:")]
    if not cols:
        return
    for other, pairs in _pairs(runs, baseline, cols):
        flags = {c.split(".", 1)[0]: pairs[c].cast(pl.Float64).fill_null(0.0).to_numpy() > 0
                 for c in pairs.columns if c.startswith("group:") and c.endswith(".covered__s")}
        if not pairs.height or not any(v.any() for v in flags.values()):
            continue
        yield other, _group_sums(pairs, "", flags), _group_sums(pairs, "__s", flags)


def leakage_split(runs: pl.DataFrame, baseline: str = "baseline") -> pl.DataFrame:
    """Where the work a scenario's rule covers goes (docs/model.md 7.16), per pair over the window the
    runs report: the tasks the requesters it binds bought from people in the baseline (``total``: 1,
    the whole) split into the shares of it done under the rule (bought by them from compliant suppliers,
    vendors at the standard), moved out of its reach (the rise in the tasks uncovered requesters buy from
    people, the rise in the covered requesters' tasks done by machines, and the covered requesters'
    tasks done by a crowd they reach through a compliant first-tier vendor) and no longer done (the
    rest: fewer tasks bought). The three add up to the whole in every pair; a negative part is a move
    the other way. A second split (``moved_work``) gives the moved share's three destinations."""
    rows: list[dict] = []
    for other, base, scen in _rule_pairs(runs, baseline):
        whole = base["covered"]["tasks_human"]
        keep = whole > 0
        if not keep.any():
            continue
        w = whole[keep]

        def share(x: np.ndarray) -> np.ndarray:
            return x[keep] / w
        under = share(scen["covered"]["tasks_human_vendor"])
        to_req = share(scen["uncovered"]["tasks_human"] - base["uncovered"]["tasks_human"])
        to_machines = share(scen["covered"]["tasks_automated"] - base["covered"]["tasks_automated"])
        to_tier = share(scen["covered"]["tasks_human_crowd"])
        moved = to_req + to_machines + to_tier
        rows += _split_rows(other, "rule", LEAKAGE, {"total": np.ones(w.size), "done_under_rule": under,
                                                    "moved": moved, "no_longer_done": 1.0 - under - moved})
        rows += _split_rows(other, "rule", MOVED, {"total": moved, "to_uncovered_requesters": to_req,
                                                  "to_machines": to_machines, "to_uncovered_tier": to_tier})
    return pl.DataFrame(rows, schema=SPLIT_SCHEMA, orient="row")


def rule_differences(runs: pl.DataFrame, baseline: str = "baseline") -> pl.DataFrame:
    """DIFF_SCHEMA rows for the requesters a scenario's rule binds (scope ``rule:covered``) and the rest
    (``rule:uncovered``): the paired change in what they buy from people and what it costs them per task
    (the ``requesters`` view), the same requesters on both sides of each pair."""
    rows: list[dict] = []
    for other, base, scen in _rule_pairs(runs, baseline):
        data, wanted = {}, []
        for who in ("covered", "uncovered"):
            for side, sums in (("", base), ("__s", scen)):
                human, cost = sums[who]["tasks_human"], sums[who]["cost_human_usd"]
                with np.errstate(divide="ignore", invalid="ignore"):
                    data[f"rule:{who}.people_cost_per_task_usd{side}"] = np.where(human > 0, cost / human, np.nan)
                data[f"rule:{who}.human_tasks_bought{side}"] = human
            wanted += [(f"rule:{who}", k, f"rule:{who}.{k}") for k in REQUESTERS]
        rows += _pair_rows(pl.DataFrame(data), wanted, other)
    return _nulls(pl.DataFrame(rows, schema=DIFF_SCHEMA, orient="row"))


def kpi_levels(runs: pl.DataFrame, kpis: Sequence[str] = HEADLINE, by_region: bool = False) -> pl.DataFrame:
    """Each scenario's mean of each KPI over its ok runs, with a 95 % t interval over them."""
    ok = ok_runs(runs)
    rows = []
    for name in scenarios(ok):
        g = ok.filter(pl.col("scenario") == name)
        for scope, prefix in _scopes(runs, by_region):
            for kpi in kpis:
                if prefix + kpi not in g.columns:
                    continue
                x = g[prefix + kpi].cast(pl.Float64).to_numpy()
                n = int(np.isfinite(x).sum())
                if n == 0:
                    continue
                m, lo, hi = mean_ci(x)
                rows.append({"scenario": name, "scope": scope, "kpi": kpi, "n_runs": n,
                             "mean": m, "ci_low": lo, "ci_high": hi})
    return _nulls(pl.DataFrame(rows, schema=LEVEL_SCHEMA, orient="row"))


def group_means(runs: pl.DataFrame, by: Sequence[str], kpi: str) -> pl.DataFrame:
    """The mean of ``kpi`` over the ok runs of each combination of the ``by`` columns, with
    its 95 % t interval and the number of runs: one row per combination, sorted by ``by``
    (the points of a response curve, the cells of a heat map)."""
    ok = ok_runs(runs).filter(pl.all_horizontal(pl.col(c).is_not_null() for c in by))
    rows = []
    for key, g in ok.group_by(list(by)):
        x = g[kpi].cast(pl.Float64).to_numpy()
        m, lo, hi = mean_ci(x)
        rows.append({**dict(zip(by, key)), "n_runs": int(np.isfinite(x).sum()),
                     "mean": m, "ci_low": lo, "ci_high": hi})
    schema = {**{c: runs.schema[c] for c in by}, "n_runs": pl.Int64, "mean": pl.Float64,
              "ci_low": pl.Float64, "ci_high": pl.Float64}
    return _nulls(pl.DataFrame(rows, schema=schema, orient="row")).sort(list(by))


# --- time series -------------------------------------------------------------------------

def regional(ts: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """The rows of a timeseries that belong to a region (workers' flows)."""
    return ts.filter(pl.col("region") != ALL_REGIONS)


def market(ts: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """The market-level rows (tasks posted, automated, expired; compute)."""
    return ts.filter(pl.col("region") == ALL_REGIONS)


def quarterly_by_region(ts: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One run, per quarter and region: effective wage (earnings over paid + unpaid hours,
    null without hours) and employment (active workers, mean over the quarter's weeks).
    Takes a lazy frame too, so that a run's file can be scanned rather than loaded."""
    weekly = (regional(ts.lazy()).group_by("week", "region")
              .agg(pl.col("active_workers").sum(), pl.col("earnings_usd").sum(),
                   (pl.col("paid_hours") + pl.col("unpaid_hours")).sum().alias("hours")))
    return (weekly.group_by((pl.col("week") // WEEKS_PER_QUARTER).cast(pl.Int64).alias("quarter"), "region")
            .agg(pl.col("earnings_usd").sum(), pl.col("hours").sum(),
                 pl.col("active_workers").mean().alias("workers"))
            .with_columns(pl.when(pl.col("hours") > 0).then(pl.col("earnings_usd") / pl.col("hours"))
                          .otherwise(None).alias("wage"))
            .select("quarter", "region", "wage", "workers")
            .sort("quarter", "region")
            .collect())


def mean_quarterly_wages(per_run: Iterable[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    """Effective wage per scenario x quarter x region, averaged over the scenario's runs.

    ``per_run`` gives (scenario, ``quarterly_by_region`` of one run) for each run;
    ``runs`` counts the runs with a wage in the cell.
    """
    frames = [q.select("quarter", "region", "wage").with_columns(pl.lit(name).alias("scenario"))
              for name, q in per_run]
    if not frames:
        return pl.DataFrame(schema=QUARTER_SCHEMA)
    return (pl.concat(frames, how="vertical_relaxed")
            .group_by("scenario", "quarter", "region")
            .agg(pl.col("wage").mean(), pl.col("wage").count().alias("runs"))
            .with_columns(pl.col("quarter").cast(pl.Int64))
            .select(list(QUARTER_SCHEMA))
            .sort("scenario", "quarter", "region"))
