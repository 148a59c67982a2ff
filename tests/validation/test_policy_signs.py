"""Policies move the market the way economics predicts, once it has settled.

Each policy starts in week 15 and is judged over its ``after`` window (weeks
28-40: the start plus ``windows.settling_weeks``, 13, to the horizon),
against the baseline over the same weeks, on three paired seeds (common
random numbers: a scenario and the baseline with the same seed share their
random streams). The warm-up ends where ``after`` begins, so the baseline's
KPI window is the same weeks. A tenth of the market: the signs, not the
sizes, are what these tests pin down; each says why the sign is expected.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import polars as pl
import pytest

import labsim

SEEDS = (0, 1, 2)
START, SETTLING, HORIZON = 14, 13, 40
BASE = ["scale=0.1", f"horizon_weeks={HORIZON}", f"warmup_weeks={START + SETTLING}", "output.progress=false"]
ARMS = {
    "baseline": [],
    "due_diligence": ["scenario=due_diligence", f"policy.due_diligence.start_week={START}"],
    "exposure_cap": ["scenario=exposure_cap", f"policy.exposure_cap.start_week={START}"],
    "min_wage_floor": ["scenario=min_wage_floor", f"policy.min_wage_floor.start_week={START}"],
}
_RUNS: dict[tuple[str, int], dict] = {}


def _measure(key: tuple[str, int]) -> tuple[tuple[str, int], dict]:
    """What the tests read of one run: its KPI window's overall KPIs, and from the weekly
    series the moderation expiry (expired over human tasks posted), vendor moderators and the
    share of tasks done by machines (model or LLM)."""
    arm, seed = key
    r = labsim.run(labsim.compose([*BASE, *ARMS[arm], f"seed={seed}"]))
    windows = r.kpis["windows"]
    out = dict(windows["kpi"]["overall"], weeks=windows["kpi"]["weeks"],
               after=windows.get("after", {}).get("weeks"))
    ts = r.timeseries.filter(pl.col("week") >= START + SETTLING)
    market, cells = ts.filter(pl.col("region") == "ALL"), ts.filter(pl.col("region") != "ALL")  # flows of each
    mod = market.filter(pl.col("task_type") == "content_moderation")
    out["moderation_expiry"] = mod["tasks_expired"].sum() / (mod["tasks_posted"].sum() - mod["tasks_automated"].sum())
    heads = cells.filter((pl.col("task_type") == "content_moderation") & (pl.col("channel") == "vendor"))
    out["vendor_moderators"] = heads.group_by("week").agg(pl.col("active_workers").sum())["active_workers"].mean()
    done, automated = cells["tasks_done_human"].sum(), market["tasks_automated"].sum()
    out["automated_share"] = automated / (done + automated)
    out["human_tasks_done"] = done
    return key, out


@pytest.fixture(scope="module", autouse=True)
def _all_runs():
    keys = [(arm, s) for arm in ARMS for s in SEEDS]
    with ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        _RUNS.update(pool.map(_measure, keys))
    yield
    _RUNS.clear()


def paired(arm: str, kpi: str) -> np.ndarray:
    """Per seed, ``kpi`` of ``arm`` minus the baseline's, over the same weeks."""
    for s in SEEDS:
        assert _RUNS[(arm, s)]["weeks"] == _RUNS[("baseline", s)]["weeks"]
        assert _RUNS[(arm, s)]["after"] == _RUNS[(arm, s)]["weeks"] == "28:40"  # the policy's after window
    return np.array([_RUNS[(arm, s)][kpi] - _RUNS[("baseline", s)][kpi] for s in SEEDS])


def test_due_diligence_raises_the_cost_per_accepted_task():
    """Bound work goes to vendors, who bill 6.25 times their wage (TIME 2023), more than the crowd costs."""
    assert (paired("due_diligence", "requester_cost_per_task_usd") > 0).all()


def test_exposure_cap_costs_heads_not_expired_work():
    """Vendors rotate moderators and hire to cover capped hours, and requesters pay for the heads:
    more vendor moderators, a higher cost per task, and moderation expiry up by at most 2 points."""
    assert (paired("exposure_cap", "vendor_moderators") > 0).all()
    assert (paired("exposure_cap", "requester_cost_per_task_usd") > 0).all()
    assert paired("exposure_cap", "moderation_expiry").mean() <= 0.02


def test_min_wage_floor_raises_cost_and_moves_work_away_from_people():
    """Requesters pay the top-ups, so a task costs more; dearer crowd work is partly not posted and partly
    sent to other channels: fewer human tasks done or a larger automated share (mean over seeds)."""
    assert (paired("min_wage_floor", "requester_cost_per_task_usd") > 0).all()
    assert (paired("min_wage_floor", "human_tasks_done").mean() < 0
            or paired("min_wage_floor", "automated_share").mean() > 0)
