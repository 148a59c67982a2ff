"""Piece rates are requesters' markdowns, and the market moves the way economics says it should.

docs/model.md derives them: each requester posts Robinson's markdown of a task's
value at the rejections and policy charges it believes, and beliefs are what the
market realises. These tests run the baseline from its stored steady state and
check (1) the mean posted rate of each task type against the rule's, at the
rejection shares, fill shares and search ratios the market realised, (2) comparative
statics on paired seeds: more workers lower rates, more demand raises them
(and a constant markdown ignores slack), (3)
that demand answers price: a dearer platform gets fewer tasks posted.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import polars as pl
import pytest

import labsim
from labsim import steady_state
from labsim.model.engine import Engine
from labsim.model.market import Market
from labsim.model.rng import Streams
from labsim.model.rules import pricing
from labsim.model.units import CROWD
from tests.conftest import small_config

pytestmark = pytest.mark.slow  # half-scale runs of 39 weeks

SEEDS = (0, 1, 2)


class Watched(Market):
    """The market, keeping per book, over the weeks after ``since_week``: tasks accepted and rejected
    (what requesters learn from), the rejection share believed, human tasks posted and their value."""

    def __init__(self, cfg, since_week: int) -> None:
        super().__init__(cfg, Streams(cfg.seed), start=steady_state.load())
        self.since_h = since_week * 168.0
        (self.taken, self.rejected, self.believed, self.posted, self.value, self.search_h, self.paid_h,
         self.expired) = (np.zeros(self.books.n) for _ in range(8))
        insert = self.store.insert  # where the arrivals put the batches posted

        def watched_insert(book, tasks, rate, fee, posted_h, deadline_h, *rest):
            if posted_h >= self.since_h:
                np.add.at(self.posted, book, tasks)
                np.add.at(self.value, book, tasks * rate / 1e6)
            return insert(book, tasks, rate, fee, posted_h, deadline_h, *rest)

        self.store.insert = watched_insert

    def update_market(self, now: float) -> None:
        if now > self.since_h:
            self.taken += self.state.week_taken
            self.rejected += self.state.week_rejected
            reviewed = self.state.week_taken + self.state.week_rejected
            self.believed += self.state.reject_share * reviewed  # the belief the week was priced at
            search_h, paid_h = pricing.crowd_hours(self)
            self.search_h += search_h
            self.paid_h += paid_h
            self.expired += self.state.week_expired
        super().update_market(now)


@pytest.mark.parametrize("seed", (0, 1))
def test_mean_piece_rates_are_the_requesters_markdowns(seed):
    """Over weeks 9-39 of the baseline (scale 0.5), each task type's mean posted crowd rate is
    within 5 % of the rule's (``mean_posted_rate_usd``, in expectation over each book's classes,
    values and batch sizes) at the rejection shares, fill shares and search ratios (the type's crowd
    search hours per paid hour) the market realised over those weeks, book by book, rather than the
    ones requesters believed. And what they believed, averaged over those weeks like the realised figures, is within
    10 % of them on every book with at least a fortieth of the crowd's tasks: beliefs and the
    market agree."""
    m = Watched(small_config("scale=0.5", "horizon_weeks=39", "warmup_weeks=8", f"seed={seed}"), since_week=8)
    Engine(m).run()
    crowd = m.books.crowd_cols
    reviewed = m.taken[crowd] + m.rejected[crowd]
    realised = m.rejected[crowd] / reviewed
    shares = m.state.reject_share.copy()
    shares[crowd] = realised
    search = m.search_h[crowd] / m.paid_h[crowd]
    fill = m.taken[crowd] / (m.taken[crowd] + m.expired[crowd])
    m.state.scarcity[crowd] = pricing.scarcity(search, m.state.search_ref[crowd], fill, *pricing.demand_settings(m))
    derived = pricing.mean_posted_rate_usd(m, shares)
    for t, name in enumerate(m.types.names):
        books = crowd[m.books.type[crowd] == t]
        simulated = m.value[books].sum() / m.posted[books].sum()
        rule = (derived[books] * m.posted[books]).sum() / m.posted[books].sum()
        assert simulated == pytest.approx(rule, rel=0.05), (name, simulated, rule)
    big = m.posted[crowd] >= m.posted[crowd].sum() / 40
    believed = m.believed[crowd] / reviewed
    assert np.allclose(believed[big], realised[big], rtol=0.10), np.round(believed / realised, 3)


def _market_figures(run: tuple[int, tuple[str, ...]]) -> tuple[float, int, float]:
    """(mean posted crowd piece rate over all types, weighted by tasks; tasks posted; the crowd's
    unpaid minutes per paid hour) over weeks 14-39 of a scale-0.1 run."""
    seed, extra = run
    result = labsim.run(small_config("horizon_weeks=39", "warmup_weeks=13", f"seed={seed}", *extra))
    ts = result.timeseries
    rows = ts.filter((pl.col("region") == "ALL") & (pl.col("week") > 13))
    crowd = rows.filter(pl.col("channel") == "crowd")
    value = (crowd["mean_posted_rate_usd"].fill_null(0.0) * crowd["tasks_posted"]).sum()
    unpaid = result.kpis["by_channel"]["crowd"]["unpaid_min_per_paid_hour"]
    return float(value / crowd["tasks_posted"].sum()), int(rows["tasks_posted"].sum()), float(unpaid)


def _paired(*variants: tuple[str, ...]) -> np.ndarray:
    """Figures of each variant (rows) on each seed of ``SEEDS`` (columns), run side by side."""
    runs = [(seed, extra) for extra in variants for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        out = list(pool.map(_market_figures, runs))
    return np.array(out, dtype=object).reshape(len(variants), len(SEEDS), 3)


def _times(key: str, factor: float, cfg=None) -> tuple[str, ...]:
    """Overrides multiplying ``key`` of every region (``regions.*.key``) or task type by ``factor``."""
    cfg = cfg or labsim.compose([])
    table = "regions" if key in ("potential_arrivals_per_week", "initial_crowd_workers") else "task_types"
    return tuple(f"{table}.{name}.{key}={getattr(row, key) * factor:g}" for name, row in getattr(cfg, table).items())


def test_comparative_statics_of_the_fixed_point():
    """On paired seeds, twice the workers (twice the potential arrivals, and so twice the steady
    crowd present at the start) lower every seed's mean piece rate: tasks are taken faster, the
    marginal task is worth less (requesters are further down their demand curve) and they mark
    that down (docs/model.md 7.3); workers search longer for each paid hour. Twice the demand
    (twice the batches of every type) raises it: tasks wait longer for the same crowd, and workers
    search less. With ``pricing.slack_response`` off (Robinson's constant markdown), twice the
    workers leave every seed's rate within 2 %."""
    more_workers = _times("potential_arrivals_per_week", 2) + _times("initial_crowd_workers", 2)
    constant = ("pricing.slack_response=false",)
    figures = _paired((), more_workers, _times("batches_per_week", 2), constant, constant + more_workers)
    rate, unpaid = figures[:, :, 0].astype(float), figures[:, :, 2].astype(float)
    assert np.all(rate[1] < rate[0] * 0.98), rate
    assert np.all(rate[2] > rate[0] * 1.02), rate
    assert np.all(unpaid[1] > unpaid[0]), unpaid
    assert np.all(unpaid[2] < unpaid[0]), unpaid
    assert np.allclose(rate[4], rate[3], rtol=0.02), rate


def test_a_dearer_platform_gets_fewer_tasks_posted():
    """A platform fee 20 points higher (20 -> 40 % on small batches, 40 -> 60 % on large ones)
    lowers the tasks posted on every paired seed: requesters who pay a customary rate out of a
    fixed budget buy fewer tasks, and marginal batches no longer cover their fixed cost."""
    figures = _paired((), ("crowd.commission=0.4", "crowd.commission_large_batch=0.6"))
    base, dearer = (figures[i, :, 1].astype(int) for i in range(2))
    assert np.all(dearer < base), (base, dearer)
