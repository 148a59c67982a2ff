"""A policy comparison as a policymaker runs it: the after-window effects on the page and in runs.parquet.

Baseline, the minimum-wage floor and psychological support; 3 seeds, 104 weeks, policies from week
52, at scale 0.1 (the smallest scale at which per-worker KPIs agree with scale 1, tests/validation/
test_scale.py). The sweep reports every run over its 'after' window, weeks 66 to 104 (a quarter after
week 52 to the end), the baseline included, so the year before the policies does not dilute them.
"""

from __future__ import annotations

import html

import polars as pl
import pytest

from labsim.stats import paired_differences
from tests.cli.conftest import run_labsim

pytestmark = pytest.mark.slow  # paired multi-seed sweeps

SCENARIOS = ("baseline", "min_wage_floor", "psych_support")


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("policy_comparison")
    out = cwd / "sweep"
    rc, _, err = run_labsim(["-m", f"scenario={','.join(SCENARIOS)}", "seed=0,1,2", "horizon_weeks=104",
                             "scale=0.1", "output.report=false", "output.progress=false",
                             f"hydra.sweep.dir={out}"], cwd, timeout=900)
    assert rc == 0, err
    return out, pl.read_parquet(out / "runs.parquet"), (out / "comparison.html").read_text()


def test_the_sweep_reports_every_run_over_the_weeks_after_the_policies(comparison):
    _, runs, page = comparison
    assert runs["status"].to_list() == ["ok"] * 9
    assert set(runs["window"]) == {"after"} and set(runs["weeks"]) == {"66:104"}
    assert "Results cover weeks 66–104 of every run" in page


def test_a_wage_floor_leaves_no_one_below_the_local_minimum_wage_after_it_starts(comparison):
    _, runs, page = comparison
    floor = runs.filter(pl.col("scenario") == "min_wage_floor")
    assert floor["share_below_local_min_wage"].to_list() == [0.0] * 3
    assert (runs.filter(pl.col("scenario") == "baseline")["share_below_local_min_wage"] > 0.05).all()
    # The page says it in words, marked as a change the sweep tells apart from chance.
    assert ("<li class='sig' data-kpi='share_below_local_min_wage' data-verdict='lowers'>Lowers the share of workers "
            "paid below their local minimum wage by" in page)
    assert html.escape("→ 0.0 %") in page


def test_psychological_support_lowers_moderators_high_stress_beyond_chance(comparison):
    _, runs, page = comparison
    d = paired_differences(runs).filter((pl.col("scenario") == "psych_support") & (pl.col("scope") == "ALL")
                                        & (pl.col("kpi") == "moderator_high_stress_share")).row(0, named=True)
    assert d["n_pairs"] == 3 and d["ci_high"] < 0, d
    assert ("<li class='sig' data-kpi='moderator_high_stress_share' data-verdict='lowers'>Lowers the share of "
            "content moderators under high stress by" in page)
