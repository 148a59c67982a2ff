"""A policy over posterior draws x seeds: ``labsim -m scenario=baseline,min_wage_floor
'posterior_draw=range(20)' seed=0,1`` writes a comparison whose intervals include parameter
uncertainty and split it from chance.

The 20 draws come from the priors (``tests.conftest.write_test_posterior``, through
``$LABSIM_POSTERIOR``), so that the test is about how draws are run and compared, whatever the
shipped posterior holds; the runs are short (ten weeks at a tenth of the market, six-hour steps,
the floor from week 3) to keep the 80 runs within a couple of minutes.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from labsim.posterior import ENV
from labsim.stats import ALL_REGIONS, DRAW, HEADLINE, PAYERS, mean_ci
from tests.cli.conftest import run_labsim
from tests.conftest import write_test_posterior

pytestmark = pytest.mark.slow  # an 80-run sweep over posterior draws

DRAWS, SEEDS = 20, 2
SIZE = ["horizon_weeks=10", "warmup_weeks=1", "scale=0.1", "step_h=6", "policy.min_wage_floor.start_week=3",
        "windows.reference_week=3", "output.progress=false", "output.report=false"]


@pytest.fixture(scope="module")
def over_draws(tmp_path_factory):
    base = tmp_path_factory.mktemp("draws").resolve()
    folder = write_test_posterior(base / "posterior", n=DRAWS, seed=11)
    out = base / "sw"
    rc, _, err = run_labsim(["-m", "scenario=baseline,min_wage_floor", f"posterior_draw=range({DRAWS})",
                             "seed=0,1", *SIZE, f"hydra.sweep.dir={out}"], base, env={ENV: str(folder)},
                            timeout=1200)
    return out, rc, err


def test_every_draw_and_seed_runs(over_draws):
    out, rc, err = over_draws
    n = 2 * DRAWS * SEEDS
    assert rc == 0, err
    assert f"labsim: {n} runs ({n} ok, 0 failed)" in err and "Traceback" not in err
    runs = pl.read_parquet(out / "runs.parquet")
    assert runs.height == n and runs[DRAW].value_counts()["count"].to_list() == [2 * SEEDS] * DRAWS
    assert sorted(runs[DRAW].unique().to_list()) == [float(k) for k in range(DRAWS)]


def test_the_comparison_splits_each_difference_into_parameters_and_chance(over_draws):
    """comparison.csv's difference rows carry the range over draws and seeds and the split, and
    the split is the one recomputed here from runs.parquet, pair by pair."""
    out, _, _ = over_draws
    table = pl.read_csv(out / "comparison.csv")
    diffs = table.filter((pl.col("kind") == "difference") & (pl.col("scope") == ALL_REGIONS))
    # the headline indicators, and who pays (the incidence table's overall rows)
    assert set(diffs["kpi"]) == set(HEADLINE) | set(PAYERS) and diffs["draws"].to_list() == [DRAWS] * diffs.height
    # A share for every KPI that moves at all (a KPI the floor leaves exactly as it was has none).
    moves = diffs.filter(pl.col("var_parameter") + pl.col("var_chance") > 0)
    assert moves.height >= diffs.height - 2 and moves["parameter_share"].is_between(0.0, 1.0).all()
    assert diffs.filter(pl.col("var_parameter") + pl.col("var_chance") == 0)["parameter_share"].is_null().all()
    assert (diffs["low_90"] <= diffs["high_90"]).all()
    runs = pl.read_parquet(out / "runs.parquet")
    kpi = "effective_wage_mean_usd_h"
    wide = (runs.select("scenario", "seed", DRAW, kpi)
            .pivot(on="scenario", index=["seed", DRAW], values=kpi).sort(DRAW, "seed"))
    d = (wide["min_wage_floor"] - wide["baseline"]).to_numpy().reshape(DRAWS, SEEDS)
    chance = float(d.var(axis=1, ddof=1).mean())
    parameter = max(0.0, float(d.mean(axis=1).var(ddof=1)) - chance / SEEDS)
    row = diffs.filter(pl.col("kpi") == kpi).row(0, named=True)
    assert row["var_chance"] == pytest.approx(chance, rel=1e-9)
    assert row["var_parameter"] == pytest.approx(parameter, rel=1e-9, abs=1e-15)
    assert row["low_90"] == pytest.approx(float(np.quantile(d, 0.05)))
    means = d.mean(axis=1)
    both_sides = min((means > 0).mean(), (means < 0).mean()) >= 0.05
    assert row["sign_depends"] == (abs(float(d.mean())) < 1.6448536269514722 * math.sqrt(parameter) and both_sides)
    assert row["positive_draws"] == pytest.approx(float((means > 0).mean()))
    _, lo, hi = mean_ci(means)  # the interval of the mean effect: over the draws' means
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))


def test_the_comparison_page_shows_the_combined_intervals_in_words(over_draws):
    out, _, _ = over_draws
    page = (out / "comparison.html").read_text(encoding="utf-8")
    for words in ("90 % over draws and seeds", "share from parameters", f"Over {DRAWS} draws of the calibrated",
                  "is uncertainty about the parameters", "These runs draw their parameters from labsim"):
        assert words in page, words
    table = pl.read_csv(out / "comparison.csv").filter(pl.col("kind") == "difference")
    flipped = table.filter(pl.col("sign_depends") & (pl.col("scope") == ALL_REGIONS)).height
    assert page.count("The sign of this effect depends on the unknown parameters") >= min(flipped, 1)
