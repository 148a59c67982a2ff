"""The stored steady state: it is the baseline's, it round-trips, and a run starts from it as said."""

from __future__ import annotations

import json

import numpy as np
import pytest
import simpy

import labsim
from labsim import steady_state
from labsim.model.market import Market
from labsim.model.rng import Streams
from labsim.model.steady import draw_rows, world_digest
from labsim.model.units import CROWD, VENDOR


def test_the_stored_state_is_the_baselines():
    """conf/steady_state/ was made from today's baseline configuration: after a recalibration,
    regenerate it (``python -m labsim.steady_state``) or every run starts off its steady state."""
    about = steady_state.meta()
    assert about["digest"] == world_digest(labsim.compose([])), (
        "conf/steady_state/ is stale: regenerate it with `python -m labsim.steady_state`")
    assert about["made_by"].startswith("python -m labsim.steady_state")


def test_the_digest_ignores_how_a_run_is_run_but_not_the_market():
    base = world_digest(labsim.compose([]))
    assert world_digest(labsim.compose(["seed=7", "horizon_weeks=20", "warmup_weeks=1",
                                        "scenario=min_wage_floor"])) == base
    assert world_digest(labsim.compose(["task_types.image_annotation.base_piece_rate_usd=0.2"])) != base


@pytest.mark.parametrize("n, k", [(10, 3), (10, 10), (4, 10), (3, 0)])
def test_rows_are_drawn_without_replacement_then_repeated_whole(n, k):
    rows = draw_rows(np.random.default_rng(0), n, k)
    assert rows.size == k
    counts = np.bincount(rows, minlength=n)
    assert counts.max() - counts.min() <= 1 and counts.min() == k // n


def _started(*overrides: str) -> Market:
    m = Market(labsim.compose(["scale=0.1", "horizon_weeks=1", "warmup_weeks=0", *overrides]), Streams(0),
               start=steady_state.load())
    m.start(simpy.Environment())
    return m


def test_a_run_starts_with_each_regions_stock_drawn_from_the_stored_workers():
    """As many crowd workers per region as the run's scale asks for, with the stored workers'
    reservation wages (stored as scores of the region's log-normal) and tenures."""
    m = _started()
    state, pool, a = steady_state.load(), m.pool, m.active
    for r, (code, reg) in enumerate(m.cfg.regions.items()):
        if reg.entry_week > 0:
            continue
        mine = a[(pool.region[a] == r) & (pool.channel[a] == CROWD)]
        assert mine.size == round(reg.initial_crowd_workers * m.cfg.scale), code
        stored = (state.workers["region"] == code) & (state.workers["channel"] == CROWD)
        wages = np.exp(np.log(reg.reservation_wage_median_usd_h)
                       + reg.reservation_wage_sigma * state.workers["reservation_z"][stored].astype(np.float64))
        nearest = np.abs(pool.reservation_wage[mine][:, None] / wages[None, :] - 1).min(axis=1)
        assert nearest.max() < 1e-5, code
        assert np.isin(np.float32(-pool.joined_h[mine]), state.workers["tenure_h"][stored]).all(), code
        if reg.vendor_workers:
            assert (pool.channel[a[pool.region[a] == r]] == VENDOR).sum() > 0, code


def test_stored_workers_take_the_runs_distributions():
    """The same stored people in a world where reservation wages are three times higher, and
    everyone works twice the hours: each one's reservation wage is three times as high, its
    usual session twice as long (below the longest session)."""
    base = _started()
    tripled = [f"regions.{c}.reservation_wage_median_usd_h={3 * reg.reservation_wage_median_usd_h:g}"
               for c, reg in base.cfg.regions.items()]
    hours = f"workers.hours_per_week_median={2 * base.cfg.workers.hours_per_week_median:g}"
    other = _started(*tripled, hours, "workers.max_session_h=24")
    a = base.active
    assert np.array_equal(a, other.active)
    assert other.pool.reservation_wage[a] == pytest.approx(3 * base.pool.reservation_wage[a], rel=1e-9)
    crowd = a[base.pool.channel[a] == CROWD]
    short = crowd[base.pool.usual_session_h[crowd] < base.cfg.workers.max_session_h / 2]
    assert other.pool.usual_session_h[short] == pytest.approx(2 * base.pool.usual_session_h[short], rel=1e-9)


def test_a_generated_state_round_trips(tmp_path):
    """A short run stored and read back: one row per worker present, the beliefs per crowd book,
    and the command that made it."""
    folder = steady_state.generate(weeks=1, seed=3, folder=tmp_path / "state")
    state = steady_state.load(folder)
    about = json.loads((folder / "meta.json").read_text())
    assert about["made_by"] == "python -m labsim.steady_state --weeks 1 --seed 3" and about["seed"] == 3
    assert set(state.expected_wage) <= set(labsim.compose([]).regions)
    assert state.workers["tenure_h"].size > 0 and (state.workers["tenure_h"] >= 0).all()
    assert len(set(state.beliefs["book"].tolist())) == state.beliefs["book"].size
    assert ((state.beliefs["reject_share"] >= 0) & (state.beliefs["reject_share"] < 1)).all()


def test_one_knob_scales_every_regions_reservation_wages():
    """workers.reservation_wage_scale=1.1: every region's median reservation wage, and so every
    stored worker's reservation wage at the start, is 10 % higher; the spread is kept."""
    base, higher = _started(), _started("workers.reservation_wage_scale=1.1")
    assert higher.regions.reservation_median_usd_h == pytest.approx(1.1 * base.regions.reservation_median_usd_h)
    assert np.array_equal(higher.regions.reservation_sigma, base.regions.reservation_sigma)
    a = base.active
    assert higher.pool.reservation_wage[a] == pytest.approx(1.1 * base.pool.reservation_wage[a], rel=1e-9)
