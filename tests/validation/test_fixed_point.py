"""The piece-rate market has a real fixed point, and it moves the way economics says it should.

docs/model.md derives it: each requester posts the rate that maximises its
expected surplus given the take-up speed ``kappa`` it believes, and the market
is at its fixed point when that belief is the speed the market realises. These
tests run the baseline from its stored steady state and check (1) the mean
posted rate of each task type against the rate the formula gives at the
realised speed, (2) comparative statics on paired seeds, (3) that demand
answers price: a dearer platform gets fewer tasks posted.
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
    """The market, keeping per book, over the weeks after ``since_week``: tasks taken and
    pull-hours waiting (what requesters learn from), human tasks posted and their value."""

    def __init__(self, cfg, since_week: int) -> None:
        super().__init__(cfg, Streams(cfg.seed), start=steady_state.load())
        self.since_h = since_week * 168.0
        self.taken, self.pull_h, self.believed, self.posted, self.value = (np.zeros(self.books.n)
                                                                          for _ in range(5))
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
            self.pull_h += self.state.week_pull_h
            self.believed += self.state.kappa * self.state.week_pull_h  # the belief the week was priced at
        super().update_market(now)


@pytest.mark.parametrize("seed", (0, 1))
def test_mean_piece_rates_sit_at_the_derived_fixed_point(seed):
    """Over weeks 9-39 of the baseline (scale 0.5), each task type's mean posted crowd rate is
    within 5 % of the fixed point: the rate the requesters' rule gives (``price_batches``, in
    expectation over each book's classes, values and batch sizes: ``mean_posted_rate_usd``)
    at the take-up speed the market realised over those weeks (tasks taken per pull-hour,
    book by book) rather than the one requesters believed. And what they believed, averaged
    over those weeks like the realised speed, is within 10 % of it on every book with at least a
    fortieth of the crowd's tasks: beliefs and the market agree (beliefs are 8-week averages,
    so they trail the market's week-to-week moves)."""
    m = Watched(small_config("scale=0.5", "horizon_weeks=39", "warmup_weeks=8", f"seed={seed}"), since_week=8)
    Engine(m).run()
    crowd = m.books.crowd_cols
    realised = m.taken[crowd] / m.pull_h[crowd]
    kappa = m.state.kappa.copy()
    kappa[crowd] = realised
    derived = pricing.mean_posted_rate_usd(m, kappa, m.state.reject_share)
    for t, name in enumerate(m.types.names):
        books = crowd[m.books.type[crowd] == t]
        simulated = m.value[books].sum() / m.posted[books].sum()
        fixed_point = (derived[books] * m.posted[books]).sum() / m.posted[books].sum()
        assert simulated == pytest.approx(fixed_point, rel=0.05), (name, simulated, fixed_point)
    big = m.posted[crowd] >= m.posted[crowd].sum() / 40
    believed = m.believed[crowd] / m.pull_h[crowd]
    assert np.allclose(believed[big], realised[big], rtol=0.10), np.round(believed / realised, 3)


def _market_figures(run: tuple[int, tuple[str, ...]]) -> tuple[float, int]:
    """(mean posted crowd piece rate over all types, weighted by tasks; tasks posted) over
    weeks 14-39 of a scale-0.1 run."""
    seed, extra = run
    ts = labsim.run(small_config("horizon_weeks=39", "warmup_weeks=13", f"seed={seed}", *extra)).timeseries
    rows = ts.filter((pl.col("region") == "ALL") & (pl.col("week") > 13))
    crowd = rows.filter(pl.col("channel") == "crowd")
    value = (crowd["mean_posted_rate_usd"].fill_null(0.0) * crowd["tasks_posted"]).sum()
    return float(value / crowd["tasks_posted"].sum()), int(rows["tasks_posted"].sum())


def _paired(*variants: tuple[str, ...]) -> np.ndarray:
    """Figures of each variant (rows) on each seed of ``SEEDS`` (columns), run side by side."""
    runs = [(seed, extra) for extra in variants for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        out = list(pool.map(_market_figures, runs))
    return np.array(out, dtype=object).reshape(len(variants), len(SEEDS), 2)


def _times(key: str, factor: float, cfg=None) -> tuple[str, ...]:
    """Overrides multiplying ``key`` of every region (``regions.*.key``) or task type by ``factor``."""
    cfg = cfg or labsim.compose([])
    table = "regions" if key in ("potential_arrivals_per_week", "initial_crowd_workers") else "task_types"
    return tuple(f"{table}.{name}.{key}={getattr(row, key) * factor:g}" for name, row in getattr(cfg, table).items())


def test_comparative_statics_of_the_fixed_point():
    """On paired seeds, twice the workers (twice the potential arrivals, and so twice the
    steady crowd present at the start) lower every seed's mean piece rate: tasks are taken
    faster, requesters believe it and pay less. Twice the demand (twice the batches of every
    type) raises it: tasks wait longer for the same crowd."""
    more_workers = _times("potential_arrivals_per_week", 2) + _times("initial_crowd_workers", 2)
    figures = _paired((), more_workers, _times("batches_per_week", 2))
    base, workers, demand = (figures[i, :, 0].astype(float) for i in range(3))
    assert np.all(workers < base), (base, workers)
    assert np.all(demand > base), (base, demand)


def test_a_dearer_platform_gets_fewer_tasks_posted():
    """A platform fee 20 points higher (20 -> 40 % on small batches, 40 -> 60 % on large ones)
    lowers the tasks posted on every paired seed: requesters who pay a customary rate out of a
    fixed budget buy fewer tasks, and marginal batches no longer cover their fixed cost."""
    figures = _paired((), ("crowd.commission=0.4", "crowd.commission_large_batch=0.6"))
    base, dearer = (figures[i, :, 1].astype(int) for i in range(2))
    assert np.all(dearer < base), (base, dearer)
