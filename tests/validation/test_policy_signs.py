"""Policies move the market the way economics predicts, once it has settled.

Each policy starts in week 15 and is judged over its ``after`` window (weeks
28-40: the start plus ``windows.settling_weeks``, 13, to the horizon),
against the baseline over the same weeks, on three paired seeds (common
random numbers: a scenario and the baseline with the same seed share their
random streams). The warm-up ends where ``after`` begins, so the baseline's
KPI window is the same weeks. Higher reservation wages, a change of the
world rather than a policy, are judged over weeks 28-80. A tenth of the market (a quarter for the
local-minimum-wage floor, whose effects are small): the signs, not the sizes, are what these tests pin
down; each says why the sign is expected.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import labsim
from labsim.results import workers_over
from tests.validation.runs import run_all

pytestmark = pytest.mark.slow  # paired multi-seed policy runs

SEEDS = (0, 1, 2)
START, SETTLING, HORIZON = 14, 13, 40
LONG = 80  # a change with small effects on noisy counts is judged over a year (weeks 28-80)
BASE = [f"warmup_weeks={START + SETTLING}", "output.progress=false"]
ARMS = {
    "baseline": [],
    "due_diligence": ["scenario=due_diligence", f"policy.due_diligence.start_week={START}"],
    "exposure_cap": ["scenario=exposure_cap", f"policy.exposure_cap.start_week={START}"],
    # the same cap where rates do not answer to scarcity (a constant markdown), against its own baseline
    "baseline_constant_markdown": ["pricing.slack_response=false"],
    "exposure_cap_constant_markdown": ["scenario=exposure_cap", f"policy.exposure_cap.start_week={START}",
                                       "pricing.slack_response=false"],
    "min_wage_floor": ["scenario=min_wage_floor", f"policy.min_wage_floor.start_week={START}"],
    # geofencing off, so that no batch is bound to a region: the baseline of the Kenya-only floor
    "open_baseline": ["crowd.geofence_regions=[]"],
    "kenya_floor": ["crowd.geofence_regions=[]", "policy.min_wage_floor.enabled=true",
                    f"policy.min_wage_floor.start_week={START}", "policy.min_wage_floor.regions=[KEN]",
                    "policy.min_wage_floor.usd_h=2"],
    # from t = 0 (the world adjusts from the stored baseline over the 27 weeks before the window)
    "long_baseline": [],
    "reservation_wages": ["workers.reservation_wage_scale=1.1"],
}
LONG_ARMS = ("long_baseline", "reservation_wages")
# A training programme certifies a few dozen workers at a tenth of the market: twice that, so that
# their mean wage is not one worker's luck. The placebo course takes the same hours out of the
# market (the same workers enrol: same seed) and gives no skill and no credential.
TRAINING = ["scenario=training_certification", f"policy.training_certification.start_week={START}"]
ARMS["training"] = TRAINING
ARMS["training_placebo"] = [*TRAINING, "policy.training_certification.skill_gain=0",
                            "policy.training_certification.credential=false"]
SCALE = {"training": 0.2, "training_placebo": 0.2}
# The local-minimum-wage floor binds only in the United States and France, so its effect on the cost of a
# task is small against a tenth of the market's noise: it is judged at a quarter, against a baseline there.
ARMS["baseline_quarter"] = []
SCALE.update({"min_wage_floor": 0.25, "baseline_quarter": 0.25})
_RUNS: dict[tuple[str, int], dict] = {}


def _measure(key: tuple[str, int]) -> tuple[tuple[str, int], dict]:
    """What the tests read of one run: its KPI window's overall KPIs, and from the weekly
    series the moderation expiry (expired over human tasks posted), vendor moderators and the
    share of tasks done by machines (model or LLM)."""
    arm, seed = key
    horizon = LONG if arm in LONG_ARMS else HORIZON
    r = labsim.run(labsim.compose([*BASE, f"scale={SCALE.get(arm, 0.1)}", f"horizon_weeks={horizon}", *ARMS[arm],
                                   f"seed={seed}"]))
    windows = r.kpis["windows"]
    out = dict(windows["kpi"]["overall"], weeks=windows["kpi"]["weeks"],
               after=windows.get("after", {}).get("weeks"),
               kenya_work_share=windows["kpi"]["by_region"]["KEN"]["human_work_share"],
               kenya_vendor_work_share=_vendor_share_of(r, "KEN"))
    ts = r.timeseries.filter(pl.col("week") >= START + SETTLING)
    market, cells = ts.filter(pl.col("region") == "ALL"), ts.filter(pl.col("region") != "ALL")  # flows of each
    mod = market.filter(pl.col("task_type") == "content_moderation")
    out["moderation_expiry"] = mod["tasks_expired"].sum() / (mod["tasks_posted"].sum() - mod["tasks_automated"].sum())
    crowd_mod = mod.filter(pl.col("channel") == "crowd")
    out["crowd_moderation_rate"] = ((crowd_mod["mean_posted_rate_usd"].fill_null(0.0) * crowd_mod["tasks_posted"]).sum()
                                    / crowd_mod["tasks_posted"].sum())
    heads = cells.filter((pl.col("task_type") == "content_moderation") & (pl.col("channel") == "vendor"))
    out["vendor_moderators"] = heads.group_by("week").agg(pl.col("active_workers").sum())["active_workers"].mean()
    done, automated = cells["tasks_done_human"].sum(), market["tasks_automated"].sum()
    out["automated_share"] = automated / (done + automated)
    out["human_tasks_done"] = done
    # what requesters pay per task people do (their spending on human work over those tasks): the
    # cost of people's work, whatever share of the work machines take
    out["cost_per_human_task_usd"] = cells["requester_spend_usd"].sum() / done
    # and per region (spend, tasks), for a cost at fixed regional composition (``fixed_composition_cost``)
    by = cells.group_by("region").agg(pl.col("requester_spend_usd", "tasks_done_human").sum())
    out["spend_and_tasks_by_region"] = dict(zip(by["region"], zip(by["requester_spend_usd"], by["tasks_done_human"])))
    # Certified crowd workers over the window: their effective wage (earnings over paid and unpaid
    # hours, pooled) and the share whose main work is the type they trained for.
    certified = workers_over(r.workers, r.worker_windows, "kpi").filter(
        pl.col("certified") & (pl.col("channel") == "crowd") & (pl.col("paid_hours") > 0))
    hours = (certified["paid_hours"] + certified["unpaid_hours"]).sum()
    out["certified_wage"] = certified["earnings_usd"].sum() / hours if hours else float("nan")
    out["certified_on_target"] = (float((certified["main_task_type"] == "safety_evaluation").mean())
                                  if certified.height else float("nan"))
    return key, out


def _vendor_share_of(r: labsim.Results, region: str) -> float:
    """``region``'s share of the tasks vendors did after the settling weeks."""
    v = r.timeseries.filter((pl.col("week") >= START + SETTLING) & (pl.col("channel") == "vendor")
                            & (pl.col("region") != "ALL"))
    return v.filter(pl.col("region") == region)["tasks_done_human"].sum() / v["tasks_done_human"].sum()


@pytest.fixture(scope="module", autouse=True)
def _all_runs():
    _RUNS.update(run_all(_measure, [(arm, s) for arm in ARMS for s in SEEDS]))
    yield
    _RUNS.clear()


def paired(arm: str, kpi: str, baseline: str = "baseline") -> np.ndarray:
    """Per seed, ``kpi`` of ``arm`` minus the baseline's, over the same weeks."""
    for s in SEEDS:
        assert _RUNS[(arm, s)]["weeks"] == _RUNS[(baseline, s)]["weeks"]
        if arm not in LONG_ARMS:
            assert _RUNS[(arm, s)]["after"] == _RUNS[(arm, s)]["weeks"] == "28:40"  # the policy's after window
    return np.array([_RUNS[(arm, s)][kpi] - _RUNS[(baseline, s)][kpi] for s in SEEDS])


def test_due_diligence_raises_the_cost_per_accepted_task():
    """Bound work goes to vendors, who bill 6.25 times their wage (TIME 2023), more than the crowd costs."""
    assert (paired("due_diligence", "requester_cost_per_task_usd") > 0).all()


def test_exposure_cap_costs_heads_and_higher_rates_not_expired_work():
    """Vendors rotate moderators and hire to cover capped hours, and requesters pay for the heads:
    more vendor moderators and a higher cost per task. Work the cap moves to the crowd is bid for:
    crowd moderation rates rise on every seed, as its tasks are taken more slowly and requesters
    value the marginal task more (docs/model.md 7.3), so less of it is left undone than where rates do
    not answer to scarcity: on every seed moderation expiry rises by at most a quarter of its rise under
    a constant markdown (about a sixth: 2-3 points against 15-17)."""
    assert (paired("exposure_cap", "vendor_moderators") > 0).all()
    assert (paired("exposure_cap", "requester_cost_per_task_usd") > 0).all()
    assert (paired("exposure_cap", "crowd_moderation_rate") > 0).all()
    answering = paired("exposure_cap", "moderation_expiry")
    constant = paired("exposure_cap_constant_markdown", "moderation_expiry", baseline="baseline_constant_markdown")
    assert (constant > 0.1).all() and (answering <= 0.25 * constant).all(), (answering, constant)


def fixed_composition_cost(arm: str, baseline: str) -> np.ndarray:
    """Per seed, what a task people do costs requesters in ``arm`` minus in ``baseline``, each region's
    cost per task weighted by the baseline's shares of the tasks (a Laspeyres index: the change in cost
    with the work where it was)."""
    out = []
    for s in SEEDS:
        b, a = _RUNS[(baseline, s)]["spend_and_tasks_by_region"], _RUNS[(arm, s)]["spend_and_tasks_by_region"]
        done = sum(t for _, t in b.values())
        out.append(sum(t / done * (a[r][0] / a[r][1] - spend / t) for r, (spend, t) in b.items() if t))
    return np.array(out)


def test_min_wage_floor_raises_cost_and_moves_work_away_from_people():
    """Requesters pay the top-ups, so a task people do costs more in every region where the floor binds:
    at the baseline's regional composition, on every seed. (Requesters also steer work to the regions
    where it does not bind (docs/model.md 7.15), so the average over where the work then goes may rise
    less, or not at all on a seed.) Dearer crowd work is partly not posted and partly sent to other
    channels: fewer human tasks done or a larger automated share (mean over seeds). (The cost per task
    over people's and machines' tasks together need not rise: machines, a fraction of a cent a task,
    take a larger share.)"""
    arm, base = "min_wage_floor", "baseline_quarter"
    assert (fixed_composition_cost(arm, base) > 0).all()
    assert paired(arm, "cost_per_human_task_usd", base).mean() > 0
    assert (paired(arm, "requester_cost_per_task_usd", base) > 0).all()
    assert paired(arm, "human_tasks_done", base).mean() < 0 or paired(arm, "automated_share", base).mean() > 0


def test_a_floor_in_one_region_moves_work_to_the_regions_without_one():
    """A $2/h floor in Kenya only (geofencing off): Kenyan vendors must pay more than the others, so
    vendor regions compete the work away from Kenya, and Kenya's share of the tasks people do falls."""
    assert (paired("kenya_floor", "kenya_vendor_work_share", "open_baseline") < -0.02).all()
    assert (paired("kenya_floor", "kenya_work_share", "open_baseline") < 0).all()


def test_higher_reservation_wages_cost_human_work():
    """Workers who want 10 % more join less and leave sooner, and vendors pay over a higher local wage:
    people's work is dearer, so fewer human tasks are done and models and LLMs take a larger share."""
    assert (paired("reservation_wages", "requester_cost_per_task_usd", "long_baseline") > 0).all()
    assert paired("reservation_wages", "human_tasks_done", "long_baseline").mean() < 0
    assert (paired("reservation_wages", "automated_share", "long_baseline") > 0).all()


def test_training_certification_pays_through_the_work_it_qualifies_for():
    """Against a placebo course (the same hours out of the market, no skill, no credential), certified
    workers move to safety evaluation and earn more per hour: the gain comes from the work they qualify
    for, not from hours removed from the market (which both arms remove alike)."""
    assert (paired("training", "certified_on_target", "training_placebo") > 0.2).all()
    assert (paired("training", "certified_wage", "training_placebo") > 0).all()
