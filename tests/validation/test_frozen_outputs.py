"""The model's outputs are frozen: a change of code that should not change results does not.

For the baseline, every shipped scenario and a few switches the scenarios
leave off (routing on, pricing off, six-hour steps, a certified fair
platform), a short small run (a twentieth of the market, 30 weeks, every
policy and region entry moved to week 10 so that it acts inside the run) is
decoded from Parquet and reduced to one SHA-256 digest per table. The
digests are stored in ``frozen_digests.json``.

A change that is meant to change results re-records them in one commit that
says why::

    python -m tests.validation.test_frozen_outputs --record

Digests are kept per class of processor (``labsim.behaviour.platform``: a
run is reproducible on one class of machine, not across them); ``--record``
records the class it runs on, and a class with no digests fails the test with
the command that records them. Found when the project moved to an AMD EPYC
machine without AVX-512: every market case's digest changed with no change of
code (numpy 2.2 to 2.4 and polars 1.36 to 2.1 left them unchanged there); an
AMD EPYC machine with AVX-512 later reproduced every AVX512_SKX digest, and
with numpy's AVX-512 paths turned off (``NPY_DISABLE_CPU_FEATURES="X86_V4
AVX512_ICL"``) every no-AVX512 one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from labsim.behaviour import frame_digest, platform, run_digests
from labsim.hydra_app import scenario_names

DIGESTS = Path(__file__).with_name("frozen_digests.json")
START = 10
SIZE = ["scale=0.05", "horizon_weeks=30", "warmup_weeks=4", "output.progress=false"]
POLICIES = ("min_wage_floor", "paid_search_and_rejections", "psych_support", "exposure_cap",
            "social_protection_levy", "fair_platform", "due_diligence")
# Switches no shipped scenario turns, so that their code is frozen too.
VARIANTS = {
    "routing_on": ["scenario=baseline", "routing.enabled=true"],
    "pricing_off": ["scenario=baseline", "pricing.enabled=false"],
    "six_hour_steps": ["scenario=fair_work_package", "step_h=6"],
    "certified_fair_platform": ["scenario=fair_platform", "policy.due_diligence.enabled=true"],
    # demand's elasticity where a floor makes tasks dearer, at both ends of its prior; a vendor's
    # profit share at its prior's low end where due diligence moves work to vendors
    "floor_elastic_demand": ["scenario=min_wage_floor", "demand.elasticity=1.5"],
    "floor_inelastic_demand": ["scenario=min_wage_floor", "demand.elasticity=0.15"],
    "vendor_low_profit": ["scenario=due_diligence", "vendor.profit_share=0.12"],
    # Robinson's constant markdown, rates deaf to the take-up speed, where a region's entry adds slack
    "constant_markdown": ["scenario=new_region_entry", "pricing.slack_response=false"],
    # machines that answer to people's cost at the prior's ends, where a levy on pay (passed on in
    # vendors' bills) makes people dearer
    "levy_machines_elastic": ["scenario=social_protection_levy", "routing.automation_elasticity=4",
                              "policy.social_protection_levy.share_of_pay=0.2"],
    "levy_machines_inelastic": ["scenario=social_protection_levy", "routing.automation_elasticity=1"],
    # who pays for a floor (docs/model.md 7.15): charges pooled per task type as before; requesters
    # that do not steer; a platform that counts search only up to 20 minutes per paid hour, or never
    # closes sign-ups; a minimum reward per task
    "floor_pooled_charges": ["scenario=min_wage_floor", "pricing.charges_by_book=false"],
    "floor_no_steering": ["scenario=min_wage_floor", "routing.steering_elasticity=0"],
    "floor_search_capped": ["scenario=min_wage_floor", "policy.min_wage_floor.counted_search_min_per_paid_hour=20"],
    "floor_open_signups": ["scenario=min_wage_floor", "policy.min_wage_floor.close_signups_above_topup_share=1"],
    "floor_min_reward": ["scenario=crowd_floor_8usd", "policy.min_wage_floor.min_reward_hours_at_floor=1"],
    # rules by jurisdiction (docs/model.md 7.16): an EU rule on direct suppliers only (a compliant vendor may
    # pass work on to the crowd), or with a wage standard that binds vendors; requesters posting in their
    # home jurisdictions' office hours
    "dd_eu_first_tier": ["scenario=eu_due_diligence", "policy.due_diligence.chain_depth=first_tier"],
    "dd_eu_binding_standard": ["scenario=eu_due_diligence", "policy.due_diligence.wage_standard_local_multiple=3"],
    "office_hours_by_home": ["scenario=baseline", "demand.office_hours_by_home=true"],
}


def cases() -> dict[str, list[str]]:
    """Name -> overrides of every frozen run."""
    moved = [f"policy.{p}.start_week={START}" for p in POLICIES] + [f"policy.training_certification.start_week={START}"]
    out = {name: [f"scenario={name}"] for name in scenario_names()}
    out.update(VARIANTS)
    for name, overrides in out.items():
        extra = [f"regions.BGD.entry_week={START}"] if name == "new_region_entry" else []
        out[name] = [*SIZE, *overrides, *moved, *extra]
    return out


def recorded() -> dict[str, dict[str, str]]:
    """This platform's recorded digests (a test failure naming the command when there are none)."""
    by_platform = json.loads(DIGESTS.read_text())
    if platform() not in by_platform:
        pytest.fail(f"no frozen digests recorded for processors of class {platform()} (recorded: "
                    f"{', '.join(sorted(by_platform))}): record them with "
                    f"`python -m tests.validation.test_frozen_outputs --record` at a commit whose outputs are trusted")
    return by_platform[platform()]


def _one(item: tuple[str, list[str]]) -> tuple[str, dict[str, str]]:
    return item[0], run_digests(item[1])


def compute_all() -> dict[str, dict[str, str]]:
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return dict(sorted(pool.map(_one, cases().items())))


@pytest.fixture(scope="module")
def computed() -> dict[str, dict[str, str]]:
    return compute_all()


def test_every_frozen_case_is_recorded():
    """Each scenario and variant has recorded digests on every platform, and none is recorded that
    no longer runs."""
    for name, digests in json.loads(DIGESTS.read_text()).items():
        assert set(digests) == set(cases()), name
    assert recorded()


@pytest.mark.parametrize("name", sorted(cases()))
def test_outputs_match_the_recorded_digests(name, computed):
    """The decoded timeseries and workers tables are exactly those recorded."""
    assert computed[name] == recorded()[name], (
        f"{name}: outputs changed; if the change is meant, re-record with "
        "`python -m tests.validation.test_frozen_outputs --record` in a commit that says why")


def test_the_digest_sees_a_one_ulp_change():
    """A digest that missed small changes would freeze nothing."""
    df = pl.DataFrame({"x": [1.0, 2.0, None], "s": ["a", None, "c"]})
    bumped = df.with_columns(pl.Series("x", [1.0, np.nextafter(2.0, 3.0), None]))
    assert frame_digest(df) == frame_digest(df.clone())
    assert frame_digest(df) != frame_digest(bumped)
    assert frame_digest(df) != frame_digest(df.with_columns(pl.Series("s", ["a", "", "c"])))


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python -m tests.validation.test_frozen_outputs --record")
    digests = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
    digests[platform()] = compute_all()
    DIGESTS.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
    print(f"recorded {DIGESTS} for processors of class {platform()}")
