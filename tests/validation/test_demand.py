"""Demand for human work answers to its cost with the declared elasticity.

Two requester-side shocks on paired seeds (scale 0.25, the ``after`` window, weeks 66-104): a levy
charged to requesters on workers' pay (``social_protection_levy``, 13 % of pay: about a tenth of an
accepted crowd task's cost) and a platform fee 20 points higher on every batch. Each must lower the
crowd tasks bought and done on every seed, with ``dln(tasks) / dln(cost)`` within +-50 % of
``-demand.elasticity`` on the mean of the seeds.

``dln(cost)`` is what the shock does to the cost of the same tasks: the mean, over the crowd batches
drawn in the window weighted by their drawn tasks, of the log of what an accepted task costs its
requester when it posts (rate x cost factor + the policies' charge it expects). Arrivals draw from
their own streams, so both runs of a pair draw the same batches; the channel choice is held
(``routing.enabled=false``: moving work to vendors and machines is the substitution of another
margin, docs/model.md 7.11). Under Robinson's markdown a fee is passed on to workers by requesters
who choose their rate: only customary-rate requesters' costs move, and only their tasks fall.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import labsim
from labsim.calibrate import load_priors

pytestmark = pytest.mark.slow  # 9 runs of 104 weeks at scale 0.25

SEEDS = (0, 1, 2)
AFTER_WEEK = 66
BASE = ("scale=0.25", "horizon_weeks=104", "routing.enabled=false", "output.report=false")
SHOCKS = {
    "levy": ("policy.social_protection_levy.enabled=true", "policy.social_protection_levy.share_of_pay=0.13"),
    "fee": ("crowd.commission=0.4", "crowd.commission_large_batch=0.6"),
}


def _run(job: tuple[int, tuple[str, ...]]) -> tuple[int, float]:
    """(crowd tasks done in the after window, mean log cost per accepted task of the crowd batches
    drawn in it, weighted by their drawn tasks)."""
    from labsim.model.rules import arrivals

    seed, extra = job
    terms = arrivals._batch_terms
    since_h = AFTER_WEEK * 168.0
    log_cost, weight, posted = [0.0], [0.0], [0.0]
    clock = [0.0]

    def post_drawn(m, now, counts, u):
        clock[0] = now
        return original(m, now, counts, u)

    def watched_terms(*args):
        out = terms(*args)
        if clock[0] >= since_h:
            size, crowd, cost = out[0], out[4], out[6]
            log_cost[0] += float((size[crowd] * np.log(cost)).sum())
            weight[0] += float(size[crowd].sum())
        return out

    bought = arrivals._tasks_bought

    def watched_bought(*args):
        out = bought(*args)
        if clock[0] >= since_h:
            posted[0] += float(out[0][args[1]].sum())
        return out

    original = arrivals.post_drawn
    arrivals.post_drawn, arrivals._batch_terms, arrivals._tasks_bought = post_drawn, watched_terms, watched_bought
    try:
        kpis = labsim.run(labsim.compose([*BASE, f"seed={seed}", *extra])).kpis
    finally:
        arrivals.post_drawn, arrivals._batch_terms, arrivals._tasks_bought = original, terms, bought
    return kpis["windows"]["after"]["by_channel"]["crowd"]["tasks_done"], log_cost[0] / weight[0], posted[0]


@pytest.fixture(scope="module")
def responses() -> dict[str, list[tuple[float, float]]]:
    jobs = [(seed, ()) for seed in SEEDS] + [(seed, extra) for extra in SHOCKS.values() for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        out = list(pool.map(_run, jobs))
    base = out[:len(SEEDS)]
    result = {}
    for i, name in enumerate(SHOCKS):
        shocked = out[len(SEEDS) * (i + 1):len(SEEDS) * (i + 2)]
        result[name] = [(math.log(t1 / t0), c1 - c0, math.log(p1 / p0)) for (t0, c0, p0), (t1, c1, p1) in zip(base, shocked)]
    return result


def _within_half(d_tasks: float, d_cost: float, elasticity: float) -> bool:
    expected = -elasticity * d_cost
    return expected * 1.5 <= d_tasks <= expected * 0.5


@pytest.mark.parametrize("shock", sorted(SHOCKS))
def test_tasks_done_answer_to_their_cost_with_the_declared_elasticity(responses, shock):
    """The crowd tasks done, and the tasks requesters post to people (after their demand and the
    posting margin), fall on every seed, by about the declared elasticity times the rise in their
    cost on the mean of the seeds."""
    declared = labsim.compose([]).demand.elasticity
    assert "demand.elasticity" in {p.key for p in load_priors()}  # declared with its prior
    pairs = responses[shock]
    assert all(d_cost > 0 and d_posted < 0 and d_done < 0 for d_done, d_cost, d_posted in pairs), pairs
    d_cost = float(np.mean([c for _, c, _ in pairs]))
    assert _within_half(float(np.mean([d for d, _, _ in pairs])), d_cost, declared), (shock, pairs)
    assert _within_half(float(np.mean([p for _, _, p in pairs])), d_cost, declared), (shock, pairs)


def test_a_fee_falls_on_workers_and_their_supply_adds_to_the_fall(responses):
    """A fee is passed on to workers by requesters who choose their rate (1.4 / 1.6 of it): workers
    supply less, more work goes undone, so the tasks done fall further than the tasks posted; a levy
    leaves rates almost as they were, and the two fall alike (within a fifth)."""
    fee, levy = _means(responses["fee"]), _means(responses["levy"])
    assert fee[0] < fee[2]
    assert abs(levy[0] - levy[2]) < 0.2 * abs(levy[2])


def _means(pairs: list[tuple[float, float, float]]) -> tuple[float, ...]:
    """(dln tasks done, dln cost, dln tasks posted to people), each the mean over the seeds."""
    return tuple(float(np.mean([p[i] for p in pairs])) for i in range(3))
