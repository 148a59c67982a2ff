"""A policy can cover chosen regions only: a Kenya-only floor tops up Kenyan workers and no one else.
The exposure cap's scope is tested in tests/unit/test_policy_modules.py (it moves no money)."""

from __future__ import annotations

import polars as pl
import pytest

import labsim
from tests.conftest import small_config

SCOPED = [
    ("min_wage_floor", "KEN", "topup_usd", ["policy.min_wage_floor.usd_h=2"]),
    ("paid_search_and_rejections", "PHL", "topup_usd", []),
    ("social_protection_levy", "IND", "levy_usd", []),
    ("psych_support", "PHL", "support_cost_usd", []),
    ("training_certification", "KEN", "training_cost_usd",
     ["policy.training_certification.enrol_prob_per_week=0.2", "policy.training_certification.cost_usd_per_hour=3"]),
]


@pytest.mark.parametrize("policy, region, money, extra", SCOPED)
def test_a_policy_scoped_to_one_region_pays_there_only(policy, region, money, extra):
    cfg = small_config("horizon_weeks=6", "warmup_weeks=1", f"policy.{policy}.enabled=true",
                       f"policy.{policy}.start_week=1", f"policy.{policy}.regions=[{region}]", *extra)
    ts = labsim.run(cfg).timeseries.filter(pl.col("region") != "ALL")
    by_region = dict(ts.group_by("region").agg(pl.col(money).sum()).iter_rows())
    assert by_region[region] > 0
    assert all(v == 0 for code, v in by_region.items() if code != region), by_region


def test_an_unscoped_policy_covers_every_region():
    cfg = small_config("horizon_weeks=6", "warmup_weeks=1", "policy.social_protection_levy.enabled=true",
                       "policy.social_protection_levy.start_week=1")
    ts = labsim.run(cfg).timeseries.filter(pl.col("region") != "ALL")
    by_region = dict(ts.group_by("region").agg(pl.col("levy_usd").sum()).iter_rows())
    assert all(v > 0 for code, v in by_region.items() if code != "MDG"), by_region  # MDG enters at week 26
