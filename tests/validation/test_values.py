"""What a task is worth to its buyer follows from the rates observed, through Robinson's markdown.

A requester facing a take-up elasticity ``e`` (``pricing.supply_elasticity``) that maximises
``(v - k p) p^e`` pays ``p = e v / ((1 + e) k)``: a task's value is ``v = k p (1 + e) / e``, with
``k`` the cost of an accepted task per unit of rate (the fee on top, rejected tasks redone). The
range of value-to-rate ratios the prior's bounds allow was committed here before the model used
it; the model's posted tasks must fall inside it, task type by task type.
"""

from __future__ import annotations

import numpy as np
import pytest

from labsim.calibrate import load_priors
from labsim.config import CrowdPlatformConfig

# Committed before the model changed (docs/model.md 7.2): the value of a posted crowd task over
# its posted rate, at the prior's bounds of the requester-level elasticity (0.03 to 0.3), the
# platform's two fees (20 and 40 %) and rejected shares up to 30 %.
VALUE_TO_RATE = (5.2, 68.7)
MOST_REJECTED = 0.3


def markdown_ratio(e: float, k: float) -> float:
    """Robinson's value-to-rate ratio ``k (1 + e) / e``."""
    return k * (1.0 + e) / e


def test_the_committed_range_is_the_priors():
    prior = {p.key: p for p in load_priors()}["pricing.supply_elasticity"]
    fees = CrowdPlatformConfig()
    k_low = 1.0 + min(fees.commission, fees.commission_large_batch)
    k_high = (1.0 + max(fees.commission, fees.commission_large_batch)) / (1.0 - MOST_REJECTED)
    low, high = markdown_ratio(prior.high, k_low), markdown_ratio(prior.low, k_high)
    assert (round(low, 1), round(high, 1)) == VALUE_TO_RATE


def test_robinsons_markdown_is_the_requesters_best_rate():
    """The closed form is the maximum of ``(v - k p) p^e``, checked on a grid."""
    v, k, e = 10.0, 1.4 / 0.9, 0.1
    grid = np.linspace(0.01, 5.0, 200_001)
    best = grid[np.argmax((v - k * grid) * grid ** e)]
    assert best == pytest.approx(e * v / ((1 + e) * k), rel=1e-4)
    assert v / best == pytest.approx(markdown_ratio(e, k), rel=1e-4)


def test_posted_tasks_are_worth_what_the_committed_range_allows():
    """Each task type's posted crowd tasks (13 weeks at scale 0.1 from the stored steady state): their
    mean value over their mean posted rate lies inside the committed range, and near Robinson's
    ``k (1 + e) / e`` at the default elasticity (about 11 x 1.3 to 1.6)."""
    import labsim
    from labsim import steady_state
    from labsim.model.engine import Engine
    from labsim.model.market import Market
    from labsim.model.rng import Streams

    cfg = labsim.compose(["scale=0.1", "horizon_weeks=13", "warmup_weeks=1"])
    m = Market(cfg, Streams(0), start=steady_state.load())
    value, paid, tasks = (np.zeros(m.books.n) for _ in range(3))
    insert = m.store.insert

    def watched(book, n, rate, fee, posted_h, deadline_h, worth, *rest):
        np.add.at(value, book, n * worth)
        np.add.at(paid, book, n * rate / 1e6)
        np.add.at(tasks, book, n)
        return insert(book, n, rate, fee, posted_h, deadline_h, worth, *rest)

    m.store.insert = watched
    Engine(m).run()
    crowd = m.books.is_crowd
    low, high = VALUE_TO_RATE
    e = cfg.pricing.supply_elasticity
    for t, name in enumerate(m.types.names):
        mine = crowd & (m.books.type == t)
        assert tasks[mine].sum() > 0, name
        ratio = value[mine].sum() / paid[mine].sum()
        assert low <= ratio <= high, (name, ratio)
        assert markdown_ratio(e, 1.2) <= ratio <= markdown_ratio(e, 1.4 / 0.7), (name, ratio)
    # The alternatives' prices per accepted task, a check and not a value: every channel costs less
    # than what the work of its open books is worth (else requesters would not buy it).
    from labsim.model.rules import routing

    costs = routing.channel_costs(m)
    for t, name in enumerate(m.types.names):
        worth = m.books.value_usd[m.books.is_open & (m.books.type == t)].min()
        assert np.all(costs[t][np.isfinite(costs[t])] < worth), (name, costs[t], worth)
