"""Machines take work when people get dearer, by what the declared elasticity implies.

Requesters give a task to a machine (their model, LLM labels) where its error rate is below the
break-even ``(c_h - c_k) / v`` (labsim/model/rules/routing.py): the odds that a machine does a task
it can do follow ``x_k = b_k ((c_h - c_k) / (c_h0 - c_k0))^theta``, ``theta`` =
``routing.automation_elasticity``. Two ways of making people dearer, each against the baseline on
three paired seeds (common random numbers), at a quarter of the market, over the ``after`` window
(weeks 66-104, the policies' default start plus the settling weeks):

- workers who want 25 % more (``workers.reservation_wage_scale=1.25``, a change of the world from
  t = 0): they join less and leave sooner, vendors pay over a higher local wage;
- a levy on all pay from week 53, with none of the fund's benefits (a pure tax), at 23 % of pay:
  about a tenth of what requesters spend on people's work before anyone responds.

For each, the share of tasks done by machines (model and LLM labels together, per task type, weighted
by the baseline's tasks posted) must rise on every seed, by at least half of what ``theta`` implies at
the measured change in people's cost and in the machines' (recorded per type each week as
``people_cost_usd`` and ``machine_cost_usd``). What may take the rest: the weekly switching lag, and a
model that learns a little less from fewer human labels.
"""

from __future__ import annotations

import sys

import numpy as np
import polars as pl
import pytest

import labsim
from tests.validation.runs import run_all

pytestmark = pytest.mark.slow  # paired multi-seed runs at a quarter of the market

SEEDS = (0, 1, 2)
SCALE, HORIZON, AFTER = 0.25, 104, 65  # weeks 66-104 counted from 1
LEVY = ["scenario=social_protection_levy", "policy.social_protection_levy.share_of_pay=0.23",
        "policy.social_protection_levy.replacement_rate=0", "policy.social_protection_levy.leave_weeks=0"]
ARMS = {"baseline": [], "reservation_wages": ["workers.reservation_wage_scale=1.25"], "levy": LEVY}
_RUNS: dict[tuple[str, int], dict] = {}


def _measure(key: tuple[str, int]) -> tuple[tuple[str, int], dict]:
    """Per automatable type over the after window: tasks posted, done by the model and by LLMs, and the
    mean of the weekly costs; the levy's worth against people's spending."""
    arm, seed = key
    cfg = labsim.compose([f"scale={SCALE}", f"horizon_weeks={HORIZON}", "output.progress=false", *ARMS[arm],
                          f"seed={seed}"])
    r = labsim.run(cfg)
    assert r.kpis["windows"]["after"]["weeks"] == f"{AFTER + 1}:{HORIZON}"
    ts = r.timeseries.filter(pl.col("week") >= AFTER)
    market = ts.filter(pl.col("machine_cost_usd").is_not_null() & (pl.col("region") == "ALL"))
    per_type = market.group_by("task_type").agg(
        pl.col("tasks_posted").sum(), pl.col("tasks_automated").sum(), pl.col("tasks_llm").sum(),
        pl.col("people_cost_usd").mean(), pl.col("machine_cost_usd").mean()).sort("task_type")
    cells = ts.filter(pl.col("region") != "ALL")
    out = {row["task_type"]: row for row in per_type.iter_rows(named=True)}
    for name, row in out.items():
        t = cfg.task_types[name]
        row["ceiling"], row["compute"] = t.automation_ceiling, t.compute_cost_usd
    out["_llm_price"] = cfg.routing.llm_cost_usd
    out["_theta"] = cfg.routing.automation_elasticity
    out["_levy_share"] = float(cells["levy_usd"].sum() / (cells["requester_spend_usd"].sum() - cells["levy_usd"].sum()))
    return key, out


@pytest.fixture(scope="module", autouse=True)
def _all_runs():
    _RUNS.update(run_all(_measure, [(arm, s) for arm in ARMS for s in SEEDS], workers=3))
    yield
    _RUNS.clear()


def machine_shares(base: dict, arm: dict) -> tuple[float, float, float]:
    """(baseline's machine share, the arm's, the arm's as ``theta`` predicts it from the baseline's
    shares and both runs' costs), per type, weighted by the baseline's tasks posted."""
    theta, llm_price = base["_theta"], base["_llm_price"]
    types = [k for k in base if not k.startswith("_")]
    weight = np.array([base[t]["tasks_posted"] for t in types], float)
    weight /= weight.sum()
    before, after, predicted = [], [], []
    for t in types:
        b, a, c = base[t], arm[t], base[t]["ceiling"]
        s_llm = b["tasks_llm"] / b["tasks_posted"]
        s_model = (b["tasks_automated"] - b["tasks_llm"]) / b["tasks_posted"]
        free = c - s_model - s_llm  # of the tasks machines can do, people's share
        odds = np.array([s_model, s_llm]) / free
        # A model label costs compute + review; an LLM label its price + the same review.
        machine_b = np.array([b["machine_cost_usd"], b["machine_cost_usd"] - b["compute"] + llm_price])
        machine_a = np.array([a["machine_cost_usd"], a["machine_cost_usd"] - a["compute"] + llm_price])
        factor = ((a["people_cost_usd"] - machine_a) / (b["people_cost_usd"] - machine_b)) ** theta
        x = odds * factor
        before.append(s_model + s_llm)
        after.append(a["tasks_automated"] / a["tasks_posted"])
        predicted.append(c * x.sum() / (1.0 + x.sum()))
    return float(weight @ before), float(weight @ after), float(weight @ predicted)


def _check(arm: str) -> list[tuple[float, float, float]]:
    rows = [machine_shares(_RUNS[("baseline", s)], _RUNS[(arm, s)]) for s in SEEDS]
    for before, after, predicted in rows:
        assert predicted > before  # people got dearer against machines
        assert after - before >= 0.5 * (predicted - before), (before, after, predicted)
    return rows


def test_higher_reservation_wages_send_work_to_machines_by_the_declared_elasticity():
    _check("reservation_wages")


def test_a_levy_on_pay_sends_work_to_machines_by_the_declared_elasticity():
    """The levy is worth about a tenth of what requesters spend on people's work (the statutory
    charge, before rates respond); machines gain by what the change in people's cost implies."""
    for s in SEEDS:
        assert 0.08 < _RUNS[("levy", s)]["_levy_share"] < 0.12
    _check("levy")


if __name__ == "__main__":  # python -m tests.validation.test_machines_answer_to_cost: the figures
    _RUNS.update(run_all(_measure, [(arm, s) for arm in ARMS for s in SEEDS], workers=3))
    for arm in ("reservation_wages", "levy"):
        for s in SEEDS:
            before, after, predicted = machine_shares(_RUNS[("baseline", s)], _RUNS[(arm, s)])
            cost = {t: (_RUNS[(arm, s)][t]["people_cost_usd"] / _RUNS[("baseline", s)][t]["people_cost_usd"] - 1)
                    for t in _RUNS[(arm, s)] if not t.startswith("_")}
            print(f"{arm} seed {s}: machines' share {before:.4f} -> {after:.4f} (theta predicts {predicted:.4f}; "
                  f"{(after - before) / (predicted - before):.2f} of it); people's cost "
                  + ", ".join(f"{t} {c:+.1%}" for t, c in cost.items())
                  + f"; levy {_RUNS[(arm, s)]['_levy_share']:.3f} of spending", file=sys.stdout)
