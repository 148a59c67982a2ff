"""labsim.stats on synthetic frames whose answers are known: paired differences, levels,
grouped means, quarterly wages."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from labsim.model.units import ALL_REGIONS
from labsim.stats import (BURNOUT, WAGE_PARTS, WEEKS_PER_QUARTER, burnout_split, effective_sample_size,
                          end_differences, group_means, kpi_levels, mean_ci, mean_quarterly_wages,
                          paired_differences, quarterly_by_region, swept_parameters, wage_split)


# --- paired differences ------------------------------------------------------------------------

def _runs(rows: list[dict]) -> pl.DataFrame:
    base = {"status": "ok"}
    return pl.DataFrame([{**base, **r} for r in rows])


def test_constant_differences_give_a_collapsed_interval():
    runs = _runs([{"scenario": s, "seed": k, "w": float(k + 1) + (0.5 if s == "policy" else 0.0)}
                  for s in ("baseline", "policy") for k in range(4)])
    d = paired_differences(runs, kpis=["w"])
    assert d.height == 1
    r = d.row(0, named=True)
    assert (r["scenario"], r["scope"], r["kpi"], r["n_pairs"]) == ("policy", ALL_REGIONS, "w", 4)
    assert r["mean_diff"] == r["ci_low"] == r["ci_high"] == 0.5
    assert r["baseline_mean"] == 2.5 and r["scenario_mean"] == 3.0
    assert r["relative_change"] == pytest.approx(0.2)


def test_the_interval_is_the_t_interval_over_pairs():
    """Differences 1, 2, 4: mean 7/3, standard error sqrt(7)/3, and with two degrees of
    freedom the 97.5 % t quantile has the closed form 0.95 / sqrt(2 x 0.975 x 0.025)."""
    runs = _runs([{"scenario": "baseline", "seed": k, "w": 10.0} for k in range(3)]
                 + [{"scenario": "policy", "seed": k, "w": 10.0 + x} for k, x in enumerate([1, 2, 4])])
    r = paired_differences(runs, kpis=["w"]).row(0, named=True)
    t = 0.95 / math.sqrt(2 * 0.975 * 0.025)
    half = t * math.sqrt(7) / 3
    assert r["mean_diff"] == pytest.approx(7 / 3)
    assert r["ci_low"] == pytest.approx(7 / 3 - half) and r["ci_high"] == pytest.approx(7 / 3 + half)


def test_unpaired_and_failed_runs_are_dropped():
    """Only seeds present, and ok, on both sides count; one pair gives no interval."""
    runs = _runs([{"scenario": "baseline", "seed": k, "w": 1.0} for k in (0, 1, 2)]
                 + [{"scenario": "policy", "seed": k, "w": 2.0} for k in (1, 2, 3)]
                 + [{"scenario": "other", "seed": 0, "w": 5.0},
                    {"scenario": "other", "seed": 1, "w": None, "status": "failed"}])
    d = paired_differences(runs, kpis=["w"])
    policy = d.filter(pl.col("scenario") == "policy").row(0, named=True)
    assert policy["n_pairs"] == 2 and policy["mean_diff"] == 1.0
    other = d.filter(pl.col("scenario") == "other").row(0, named=True)
    assert other["n_pairs"] == 1 and other["mean_diff"] == 4.0
    assert other["ci_low"] is None and other["ci_high"] is None


def test_pairs_match_every_parameter_and_regions_get_their_own_rows():
    """A run pairs only with the baseline run of the same seed and the same param.* values."""
    rows = []
    for k in range(3):
        for x in (1.0, 2.0):
            rows.append({"scenario": "baseline", "seed": k, "param.x": x, "w": 10 * x, "KEN.w": x})
            rows.append({"scenario": "policy", "seed": k, "param.x": x, "w": 10 * x + x, "KEN.w": 2 * x})
    d = paired_differences(_runs(rows), kpis=["w"])
    assert d["scope"].to_list() == [ALL_REGIONS, "KEN"]
    overall, ken = d.row(0, named=True), d.row(1, named=True)
    assert overall["n_pairs"] == 6 and overall["mean_diff"] == pytest.approx(1.5)
    assert ken["n_pairs"] == 6 and ken["mean_diff"] == pytest.approx(1.5)
    assert paired_differences(_runs(rows), kpis=["w"], by_region=False)["scope"].to_list() == [ALL_REGIONS]
    with pytest.raises(ValueError, match="nope"):
        paired_differences(_runs(rows), baseline="nope", kpis=["w"])


# --- levels, intervals and grouped means ------------------------------------------------------

def test_only_runs_over_the_same_weeks_pair():
    """A baseline reported over weeks 66:104 does not pair with a policy reported over 43:104."""
    runs = _runs([{"scenario": "baseline", "seed": k, "weeks": "66:104", "w": 1.0} for k in range(3)]
                 + [{"scenario": "early", "seed": k, "weeks": "43:104", "w": 2.0} for k in range(3)]
                 + [{"scenario": "late", "seed": k, "weeks": "66:104", "w": 3.0} for k in range(3)])
    d = paired_differences(runs, kpis=["w"])
    assert d["scenario"].to_list() == ["late"] and d["mean_diff"].to_list() == [2.0]


def test_a_numeric_sweep_is_its_highest_value_minus_its_lowest_paired_by_seed():
    """w = 10 x fee + seed: from fee 0.1 to 0.5 the paired difference is exactly 4, whatever the seed,
    and the middle value plays no part."""
    runs = _runs([{"scenario": "baseline", "seed": k, "param.fee": f, "w": 10 * f + k}
                  for f in (0.1, 0.3, 0.5) for k in range(3)])
    d = end_differences(runs, "param.fee", kpis=["w"]).row(0, named=True)
    assert d["scenario"] == "baseline" and d["n_pairs"] == 3
    assert d["mean_diff"] == pytest.approx(4.0) and d["ci_low"] == pytest.approx(4.0)
    assert d["baseline_mean"] == pytest.approx(2.0) and d["scenario_mean"] == pytest.approx(6.0)
    assert paired_differences(runs, kpis=["w"]).height == 0  # one scenario: nothing to pair it with


def test_mean_ci_ignores_missing_values_and_needs_two_for_an_interval():
    m, lo, hi = mean_ci(np.array([1.0, np.nan, 3.0]))
    # sd sqrt(2) over sqrt(2) values: the half-width is the t quantile, with one degree of
    # freedom the Cauchy's: tan(pi (0.975 - 1/2)).
    half = math.tan(math.pi * 0.475)
    assert m == 2.0 and lo == pytest.approx(2.0 - half) and hi == pytest.approx(2.0 + half)
    m, lo, hi = mean_ci(np.array([5.0]))
    assert m == 5.0 and math.isnan(lo) and math.isnan(hi)
    assert all(math.isnan(v) for v in mean_ci(np.array([])))


def test_levels_are_means_over_each_scenarios_ok_runs_with_regions_on_request():
    runs = _runs([{"scenario": s, "seed": k, "w": 10.0 * (s == "policy") + k, "KEN.w": float(k)}
                  for s in ("baseline", "policy") for k in range(3)]
                 + [{"scenario": "policy", "seed": 9, "w": 1e9, "KEN.w": 1e9, "status": "failed"}])
    levels = kpi_levels(runs, kpis=["w"])
    assert levels["scenario"].to_list() == ["baseline", "policy"]
    assert levels["scope"].to_list() == [ALL_REGIONS] * 2
    assert levels["mean"].to_list() == [1.0, 11.0] and levels["n_runs"].to_list() == [3, 3]
    ken = kpi_levels(runs, kpis=["w"], by_region=True).filter(pl.col("scope") == "KEN")
    assert ken["mean"].to_list() == [1.0, 1.0]
    one = kpi_levels(_runs([{"scenario": "baseline", "seed": 0, "w": 2.0}]), kpis=["w"])
    assert one["ci_low"].to_list() == [None]  # no interval from one run: null, not NaN


def test_group_means_give_a_curve_or_a_grid_over_swept_settings():
    rows = [{"scenario": "baseline", "seed": k, "param.a": a, "param.b": b, "w": a + b + k}
            for k in range(3) for a in (1.0, 2.0) for b in (0.0, 10.0)]
    runs = _runs(rows + [{"scenario": "baseline", "seed": 5, "param.a": None, "param.b": 0.0, "w": 99.0}])
    curve = group_means(runs, ["param.a"], "w")
    assert curve["param.a"].to_list() == [1.0, 2.0]  # sorted; the run without a value is left out
    assert curve["mean"].to_list() == [7.0, 8.0] and curve["n_runs"].to_list() == [6, 6]
    grid = group_means(runs, ["param.a", "param.b"], "w")
    assert grid.height == 4 and grid.filter((pl.col("param.a") == 2.0) & (pl.col("param.b") == 10.0))[
        "mean"].to_list() == [13.0]
    assert swept_parameters(runs) == ["param.a", "param.b"]
    assert swept_parameters(runs.with_columns(pl.lit(3.0).alias("param.b"))) == ["param.a"]


# --- quarterly wages from time series ----------------------------------------------------------

def _timeseries(regions: dict[str, float], weeks: int = 2 * WEEKS_PER_QUARTER) -> pl.DataFrame:
    """Each region earns ``wage`` per hour online, 10 paid + 10 unpaid hours a week, with
    2 workers; plus market rows (region ALL) that must not count."""
    rows = [{"week": w, "region": r, "active_workers": 2, "earnings_usd": 20.0 * wage,
             "paid_hours": 10.0, "unpaid_hours": 10.0}
            for w in range(weeks) for r, wage in regions.items()]
    rows += [{"week": w, "region": ALL_REGIONS, "active_workers": 0, "earnings_usd": 1e6,
              "paid_hours": 1.0, "unpaid_hours": 0.0} for w in range(weeks)]
    return pl.DataFrame(rows)


def test_quarterly_by_region_is_earnings_over_hours_online_per_quarter():
    ts = _timeseries({"KEN": 1.5, "USA": 6.0})
    q = quarterly_by_region(ts)
    assert q["quarter"].to_list() == [0, 0, 1, 1] and q["region"].to_list() == ["KEN", "USA"] * 2
    assert q["wage"].to_list() == pytest.approx([1.5, 6.0, 1.5, 6.0])
    assert q["workers"].to_list() == [2.0] * 4
    assert quarterly_by_region(ts.lazy()).equals(q)  # a scanned file works the same
    idle = quarterly_by_region(ts.with_columns(pl.lit(0.0).alias("paid_hours"), pl.lit(0.0).alias("unpaid_hours")))
    assert idle.filter(pl.col("region") != ALL_REGIONS)["wage"].null_count() == 4  # no hours: no wage


def test_mean_quarterly_wages_average_each_scenarios_runs():
    per_run = [("baseline", quarterly_by_region(_timeseries({"KEN": 1.0}))),
               ("baseline", quarterly_by_region(_timeseries({"KEN": 2.0, "USA": 8.0}))),
               ("floor", quarterly_by_region(_timeseries({"KEN": 3.0})))]
    m = mean_quarterly_wages(per_run)
    assert m.columns == ["scenario", "quarter", "region", "wage", "runs"]
    ken = m.filter((pl.col("scenario") == "baseline") & (pl.col("region") == "KEN"))
    assert ken["wage"].to_list() == pytest.approx([1.5, 1.5]) and ken["runs"].to_list() == [2, 2]
    usa = m.filter(pl.col("region") == "USA")
    assert usa["runs"].to_list() == [1, 1]
    assert mean_quarterly_wages([]).height == 0


def test_effective_sample_size_counts_what_weighted_members_are_worth():
    assert effective_sample_size(np.full(40, 0.025)) == pytest.approx(40)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)
    # Two heavy members of equal weight and many light ones: worth a little over two.
    w = np.r_[[0.45, 0.45], np.full(100, 0.001)]
    assert effective_sample_size(w) == pytest.approx(1 / (2 * 0.45**2 + 100 * 0.001**2))
    assert effective_sample_size(3 * w) == pytest.approx(effective_sample_size(w))  # scale-free
    assert effective_sample_size(np.array([])) == 0


def test_counts_over_the_market_are_scaled_to_the_real_world_and_rates_are_not():
    """A run of a tenth of the population counts a tenth of the burnout exits: on pages and in
    comparison.csv they are divided by the run's scale (the classroom does the same)."""
    import polars as pl

    from labsim.stats import market_counts, simulated_share

    runs = pl.DataFrame({"scale": [0.1, 1.0, None], "exits_burnout": [5.0, 5.0, 5.0],
                         "KEN.exits_burnout": [2.0, 2.0, 2.0], "topup_usd": [100.0, 100.0, 100.0],
                         "effective_wage_mean_usd_h": [3.0, 3.0, 3.0], "share_below_local_min_wage": [0.2, 0.2, 0.2]})
    out = market_counts(runs)
    assert out["exits_burnout"].to_list() == pytest.approx([50.0, 5.0, 5.0])
    assert out["KEN.exits_burnout"].to_list() == pytest.approx([20.0, 2.0, 2.0])
    assert out["topup_usd"].to_list() == pytest.approx([1000.0, 100.0, 100.0])
    assert out["effective_wage_mean_usd_h"].equals(runs["effective_wage_mean_usd_h"])
    assert out["share_below_local_min_wage"].equals(runs["share_below_local_min_wage"])
    assert market_counts(runs.drop("scale")).equals(runs.drop("scale"))  # folders from before: as they are
    assert simulated_share(pl.DataFrame({"scale": [0.1, 0.1]})) == 0.1
    assert simulated_share(pl.DataFrame({"scale": [1.0]})) is None
    assert simulated_share(pl.DataFrame({"scale": [0.1, 0.2]})) is None


def _wage_runs(rng: np.random.Generator, scopes: tuple[str, ...]) -> pl.DataFrame:
    """Runs whose wage KPIs come from drawn earnings, top-ups, paid and unpaid hours, as results.py
    computes them: two scenarios x four seeds."""
    rows = []
    for scenario in ("baseline", "floor"):
        for seed in range(4):
            row = {"scenario": scenario, "seed": seed, "status": "ok"}
            for scope in scopes:
                prefix = "" if scope == ALL_REGIONS else f"{scope}."
                paid, unpaid = rng.uniform(100, 1000), rng.uniform(10, 500)
                for_tasks = rng.uniform(100, 5000)
                topup = rng.uniform(0, 2000) if scenario == "floor" else 0.0
                earned = for_tasks + topup
                row.update({prefix + "effective_wage_usd_h": earned / (paid + unpaid),
                            prefix + "task_pay_per_paid_hour_usd": for_tasks / paid,
                            prefix + "paid_share_of_online_hours": paid / (paid + unpaid),
                            prefix + "topup_factor": earned / for_tasks})
            rows.append(row)
    return pl.DataFrame(rows)


def test_the_wage_splits_exactly_into_pay_per_paid_hour_paid_share_and_top_ups():
    """In every scope (all regions, a region, a channel in a region), the paired change in the log of
    the hours-weighted wage is the sum of its three parts' to 1e-9, pair by pair and on average."""
    runs = _wage_runs(np.random.default_rng(3), (ALL_REGIONS, "KEN", "crowd:KEN", "vendor:PHL"))
    split = wage_split(runs)
    assert set(split["scope"]) == {ALL_REGIONS, "KEN", "crowd:KEN", "vendor:PHL"}
    for scope in split["scope"].unique():
        rows = {r["part"]: r for r in split.filter(pl.col("scope") == scope).iter_rows(named=True)}
        assert set(rows) == {"total", *WAGE_PARTS}
        assert rows["total"]["n_pairs"] == 4 and rows["total"]["residual"] < 1e-9
        assert abs(rows["total"]["value"] - sum(rows[k]["value"] for k in WAGE_PARTS)) < 1e-9
        prefix = "" if scope == ALL_REGIONS else f"{scope}."
        b = runs.filter(pl.col("scenario") == "baseline")[prefix + "effective_wage_usd_h"].to_numpy()
        s = runs.filter(pl.col("scenario") == "floor")[prefix + "effective_wage_usd_h"].to_numpy()
        assert rows["total"]["value"] == pytest.approx(np.mean(np.log(s / b)), abs=1e-12)
    # The baseline has no top-ups, so the top-up part is the log of the scenario's factor, positive.
    assert (split.filter(pl.col("part") == "topup_factor")["value"] > 0).all()


def test_burnout_splits_exactly_into_each_channels_rate_and_the_mix():
    """Shift-share with midpoint weights: the change in the rate over all moderators is the rate
    changes within crowd and vendor moderators at their mean shares plus the shift between them at
    the mean rates, with nothing left over; a shift of moderators from the channel with the higher
    rate to the other with no change of rates shows as mix alone."""
    def run(scenario, seed, years, exits):
        total = sum(exits.values()) / sum(years.values())
        return {"scenario": scenario, "seed": seed, "status": "ok", BURNOUT: 1000 * total,
                **{f"{c}.moderator_years": y for c, y in years.items()},
                **{f"{c}.{BURNOUT}": 1000 * exits[c] / y if y else math.nan for c, y in years.items()}}
    rng = np.random.default_rng(5)
    rows = []
    for seed in range(3):
        for scenario in ("baseline", "policy"):
            years = {"crowd": rng.uniform(0, 50), "vendor": rng.uniform(50, 200)}
            rows.append(run(scenario, seed, years, {c: rng.uniform(0, 5) for c in years}))
    split = burnout_split(pl.DataFrame(rows))
    parts = {r["part"]: r for r in split.iter_rows(named=True)}
    assert parts["total"]["residual"] < 1e-9
    b = np.array([r[BURNOUT] for r in rows if r["scenario"] == "baseline"])
    s = np.array([r[BURNOUT] for r in rows if r["scenario"] == "policy"])
    assert parts["total"]["value"] == pytest.approx(np.mean(s - b), abs=1e-9)
    assert parts["total"]["value"] == pytest.approx(
        sum(parts[k]["value"] for k in ("crowd_rate", "vendor_rate", "channel_mix")), abs=1e-9)
    # Pure mix: vendors burn out at 20 per 1,000, the crowd at 0; half the vendor years move to the crowd.
    mix = burnout_split(pl.DataFrame([run("baseline", 0, {"crowd": 0.0, "vendor": 100.0}, {"crowd": 0, "vendor": 2}),
                                      run("policy", 0, {"crowd": 50.0, "vendor": 50.0}, {"crowd": 0, "vendor": 1})]))
    got = {r["part"]: r["value"] for r in mix.iter_rows(named=True)}
    assert got["total"] == pytest.approx(-10.0) and got["channel_mix"] == pytest.approx(-10.0)
    assert got["vendor_rate"] == pytest.approx(0.0) and got["crowd_rate"] == pytest.approx(0.0)
