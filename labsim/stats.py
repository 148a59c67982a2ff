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
    cols = [c for c in runs.columns if base_name(c) in names and runs.schema[c].is_numeric()]
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


def paired_differences(runs: pl.DataFrame, baseline: str = "baseline",
                       kpis: Sequence[str] = HEADLINE, by_region: bool = True) -> pl.DataFrame:
    """Each scenario minus the baseline, paired by seed and by every ``param.*`` value.

    Only runs with status ok count; a run pairs only with one over the same
    weeks (the ``weeks`` column, when the table has one); a run without a partner is dropped, and
    runs repeated under the same key (the same sweep collected twice) are
    averaged first. One row per scenario x scope (``ALL`` or a region code) x
    KPI that has at least one complete pair: n_pairs, the baseline's and the
    scenario's means over the pairs, the mean difference with its 95 % t
    interval over pairs (null below two pairs), and the relative change
    (mean difference over the baseline mean).
    """
    if baseline not in set(runs["scenario"].to_list()):
        raise ValueError(f"no scenario named {baseline!r} in the runs "
                         f"(scenarios: {', '.join(scenarios(runs)) or 'none'})")
    ok = ok_runs(runs)
    keys = ["seed", *param_columns(runs), *(["weeks"] if "weeks" in runs.columns else [])]
    wanted = [(scope, kpi, prefix + kpi) for scope, prefix in _scopes(runs, by_region) for kpi in kpis
              if prefix + kpi in ok.columns]
    value_cols = list(dict.fromkeys(col for _, _, col in wanted))
    rows = []
    if ok.height and value_cols:
        def side(name: str) -> pl.DataFrame:
            return (ok.filter(pl.col("scenario") == name)
                    .group_by(keys, maintain_order=True).agg(pl.col(value_cols).mean()))

        base = side(baseline)
        for other in scenarios(ok):
            if other != baseline:
                rows += _pair_rows(base, side(other), keys, wanted, other)
    return _nulls(pl.DataFrame(rows, schema=DIFF_SCHEMA, orient="row"))


def _pair_rows(base: pl.DataFrame, other: pl.DataFrame, keys: list[str],
               wanted: list[tuple[str, str, str]], label: str) -> list[dict]:
    """DIFF_SCHEMA rows: ``other`` minus ``base``, paired on ``keys``, for each (scope, kpi, column)."""
    pairs = base.join(other, on=keys, how="inner", suffix="__s", nulls_equal=True)
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

        rows += _pair_rows(at(low), at(high), keys, wanted, name)
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
