"""Well-understood effects go the expected way, over paired seeds.

Each comparison runs the same seeds with and without the change (common
random numbers) and compares totals over the seeds.
"""

import dataclasses

import numpy as np
import pytest

import labsim
from tests.conftest import small_config

pytestmark = pytest.mark.slow  # paired runs for the signs of comparative statics

SEEDS = (0, 1, 2)
BASE = ("scale=0.1", "horizon_weeks=30", "warmup_weeks=4")


def _runs(change=None, *overrides):
    out = []
    for seed in SEEDS:
        cfg = small_config(*BASE, f"seed={seed}", *overrides)
        if change is not None:
            change(cfg)
        out.append(labsim.run(cfg).kpis["overall"])
    return out


def _total(runs, key):
    return float(np.sum([r[key] for r in runs]))


@pytest.fixture(scope="module")
def baseline():
    return _runs()


def test_higher_reservation_wages_raise_low_pay_exits():
    """Workers who expect more quit more often for low pay. The channel mix is held (routing off): vendors
    pay over the local wage, so tripled reservation wages triple their quote and, with routing on, send
    vendors' work to the crowd, whose wages then rise with the demand: a different effect."""
    def raise_reservation_wages(cfg):
        for code, region in cfg.regions.items():
            cfg.regions[code] = dataclasses.replace(
                region, reservation_wage_median_usd_h=3 * region.reservation_wage_median_usd_h)

    held = "routing.enabled=false"
    richer = _runs(raise_reservation_wages, held)
    assert _total(richer, "exits_low_pay") > 1.5 * _total(_runs(None, held), "exits_low_pay")


def test_more_toxic_exposure_raises_burnout_exits(baseline):
    """Doubling the stress each toxic hour brings raises burnout exits."""
    harsher = _runs(None, "wellbeing.stress_per_toxic_hour=0.0036")
    assert _total(harsher, "exits_burnout") > _total(baseline, "exits_burnout") > 0


def test_psychological_support_lowers_burnout_exits(baseline):
    """Support that halves accumulation and doubles recovery lowers burnout exits and high stress."""
    supported = _runs(None, "wellbeing.support_accumulation_factor=0.5",
                      "wellbeing.support_recovery_factor=2")
    assert _total(supported, "exits_burnout") < 0.5 * _total(baseline, "exits_burnout")
    assert _total(supported, "moderator_high_stress_share") < _total(baseline, "moderator_high_stress_share")


def test_better_pay_attracts_more_joiners(baseline):
    """Arrivals follow the market: when rates are twice as high (and so, through the markdown, the
    work is worth twice as much to requesters), higher pay brings more people in."""
    def double_rates(cfg):
        for name, t in cfg.task_types.items():
            cfg.task_types[name] = dataclasses.replace(t, base_piece_rate_usd=2 * t.base_piece_rate_usd)

    def joins(runs):
        return sum(r["active_workers_mean"] for r in runs)

    richer = _runs(double_rates)
    assert _total(richer, "effective_wage_mean_usd_h") > _total(baseline, "effective_wage_mean_usd_h")
    assert joins(richer) > joins(baseline)


def test_training_certifies_workers_and_opens_safety_evaluation():
    """A training programme certifies workers and lifts the crowd's skill in safety evaluation,
    so more workers clear its skill requirement (who then gets the work depends on demand)."""
    import polars as pl

    for seed in SEEDS[:2]:
        runs = {}
        for flag in (True, False):
            res = labsim.run(small_config(*BASE, f"seed={seed}", f"policy.training_certification.enabled={str(flag).lower()}",
                                          "policy.training_certification.enrol_prob_per_week=0.1"))
            runs[flag] = res.workers.filter(pl.col("channel") == "crowd")
        need = small_config().task_types["safety_evaluation"].skill_required
        trained, plain = runs[True], runs[False]
        assert trained["certified"].sum() > 0 and plain["certified"].sum() == 0
        assert (trained["skill_safety_evaluation"] >= need).mean() > (plain["skill_safety_evaluation"] >= need).mean()
        assert trained["training_hours"].sum() > 0
