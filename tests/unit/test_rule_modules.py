"""One rule module at a time, on small hand-built states (no Hydra).

Each test builds a market of one or two regions, task types and workers
from ``LabsimConfig()`` (or a stand-in namespace holding exactly what the
function reads), applies one rule and checks a value worked out by hand
from the rule its module states. Pure functions already covered elsewhere
(tests/unit/test_workers.py, test_skills.py, test_matching.py,
test_wellbeing.py, test_automation.py, test_demand.py,
tests/property/test_rules.py) are not tested again here.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from labsim.config import LabsimConfig
from labsim.model.accounts import Accounts
from labsim.model.engine import Engine
from labsim.model.rules import (arrivals, automation, expiry, joining, pricing, routing, schedule, skills, turnover,
                                wellbeing, word_of_mouth)
from labsim.model.rules.matching import renewal_counts, trim_to_open
from labsim.model.rules.schedule import Online
from labsim.model.state import COLUMNS, EXIT_LOW_PAY, EXIT_NONE, EXIT_OTHER, Levers, WorkerPool
from labsim.model.units import CROWD, HOURS_PER_WEEK, VENDOR
from tests.unit.small_world import add, book_row, cell_of, config, market, night_hours, region, task, work_step

E = math.e


# --- small worlds --------------------------------------------------------------------------------


def post_one_each(m, now: float) -> None:
    """Post one batch of each task type at ``now`` with every uniform 0 (the type's first book, the
    first class of requesters, no spread: z = 0, sizes rounded down): the arrivals' rules without
    their draws."""
    n = m.types.n
    arrivals.post_drawn(m, now, np.ones(n, np.int64), np.zeros((n, 5)))


class Uniforms:
    """A stand-in for a numpy Generator whose uniform draws are given."""

    def __init__(self, u) -> None:
        self.u = np.asarray(u, float)

    def random(self, n):
        assert n == self.u.size
        return self.u.copy()


class KeyedUniforms:
    """A stand-in for ``Streams`` whose keyed uniforms (one per worker identity) are given."""

    def __init__(self, name, u) -> None:
        self.name, self.u = name, np.asarray(u, float)

    def keyed_uniforms(self, name, key, ids):
        assert name == self.name and np.asarray(ids).size == self.u.size
        return self.u.copy()


# --- state.py: the worker pool ------------------------------------------------------------------

def test_close_week_adds_the_weeks_flows_into_the_window_then_resets_them():
    """Closing a week adds each weekly flow into the totals of the windows it belongs to (here
    window 1 of 2) and resets it; states of the stay and the workers not closed are untouched."""
    pool = WorkerPool(n_types=2, capacity=16, n_windows=2)
    pool.add(2)
    pool.wk_paid_h[:2] = [3.0, 7.0]
    pool.win_paid_h[0] = [1.0, 1.0]
    pool.wk_earn_uusd[0] = 5_000_000
    pool.win_earn_uusd[0] = [2_000_000, 2_000_000]
    pool.wk_toxic_h[0] = 4.0  # a weekly flow with no window total
    pool.stress[0] = 0.3
    pool.wk_hours_type[0] = [1.5, 1.5]
    pool.close_week(np.array([0]), [1])
    assert pool.win_paid_h[0].tolist() == pytest.approx([1.0, 4.0])  # window 1: 1 + 3 h
    assert pool.win_earn_uusd[0].tolist() == [2_000_000, 7_000_000]  # 2 + 5 USD
    assert pool.wk_paid_h[0] == 0.0 and pool.wk_earn_uusd[0] == 0 and pool.wk_toxic_h[0] == 0.0
    assert pool.wk_hours_type[0].tolist() == [0.0, 0.0]
    assert pool.stress[0] == 0.3
    assert pool.wk_paid_h[1] == 7.0  # not closed


def test_close_week_derives_every_reset_and_total_from_the_column_declarations():
    """Every column declared weekly is reset to its fill, and every one with a window total is
    added into the totals of each window the week belongs to."""
    pool = WorkerPool(n_types=1, capacity=16, n_windows=3)
    pool.add(1)
    weekly = [n for n, c in COLUMNS.items() if c.weekly]
    for name in weekly:
        getattr(pool, name)[0] = 2
    for name, col in COLUMNS.items():
        if col.window:
            getattr(pool, col.window)[0] = 5
    pool.close_week(np.array([0]), [0, 2])
    for name, col in COLUMNS.items():
        if col.window:
            assert getattr(pool, col.window)[0].tolist() == [7, 5, 7], col.window  # 5 + 2 where in
    for name in weekly:
        assert getattr(pool, name)[0] == COLUMNS[name].fill, name
    assert {"wk_paid_h", "wk_unpaid_h", "wk_earn_uusd", "wk_exposed_h", "wk_train_h"} <= set(weekly)


def test_close_week_outside_every_window_resets_without_adding():
    """A week in no window (the warm-up) is reset but adds nothing to the totals."""
    pool = WorkerPool(n_types=1, capacity=16)
    pool.add(1)
    pool.wk_tasks[0], pool.win_tasks[0, 0] = 12, 3
    pool.close_week(np.array([0]), [])
    assert pool.win_tasks[0, 0] == 3 and pool.wk_tasks[0] == 0


# --- accounts.py ---------------------------------------------------------------------------------

def test_a_post_reaches_the_weeks_cell_and_the_runs_totals():
    """A post adds each flow to its (region, type, channel) cell of the week and, for whole-number
    flows, to the run's totals in the same call; hours stay in the week's record only."""
    acc = Accounts(2, 1, 2)
    cells = acc.cell(np.array([1, 1, 0]), np.array([0, 0, 0]), np.array([VENDOR, VENDOR, CROWD]))
    assert cells.tolist() == [3, 3, 0]  # (1 x 1 + 0) x 2 + 1 = 3
    acc.post(cells, {"earnings_uusd": np.array([1_500_000, 2_500_000, 700]),
                     "paid_hours": np.array([0.5, 1.0, 0.25])})
    assert acc.week["earnings_uusd"].tolist() == [700, 0, 0, 4_000_000]
    assert acc.totals["earnings_uusd"] == 4_000_700
    assert acc.week["paid_hours"].tolist() == pytest.approx([0.25, 0.0, 0.0, 1.5])
    assert "paid_hours" not in acc.totals


def test_post_market_adds_per_task_type_and_channel():
    """Market flows are summed per (task type, channel) cell, in the week and the totals."""
    acc = Accounts(1, 2, 2)
    # (type 1, vendor) is market cell 1 x 2 + 1 = 3; (type 0, crowd) is 0
    acc.post_market(np.array([3, 3, 0]), {"tasks_posted": np.array([4, 6, 5])})
    assert acc.week["tasks_posted"].tolist() == [5, 0, 0, 10]
    assert acc.totals["tasks_posted"] == 15


def test_closing_a_week_records_it_and_keeps_the_totals():
    """The week's record keeps what was posted; the next week starts from zero; the totals carry on."""
    acc = Accounts(1, 1, 2)
    acc.post(np.array([0]), {"levy_uusd": np.array([700])})
    acc.close_week(0, {}, np.zeros(2, np.int64))
    acc.post(np.array([1]), {"levy_uusd": np.array([300])})
    assert acc.rows[0]["levy_uusd"].tolist() == [700, 0]
    assert acc.week["levy_uusd"].tolist() == [0, 300]
    assert acc.totals["levy_uusd"] == 1_000


# --- engine.py -----------------------------------------------------------------------------------

class Clocked:
    """A model that only logs its phases."""

    def __init__(self, step_h, horizon_h, steps=("s1", "s2")) -> None:
        self.step_h, self.horizon_h, self.log = step_h, horizon_h, []
        self.steps = steps

    def _phase(self, name):
        return lambda t: self.log.append((name, t))

    def start(self, env) -> None:
        self.log.append(("start", env.now))

    def step_phases(self):
        return tuple(self._phase(n) for n in self.steps)

    def week_phases(self):
        return (self._phase("w1"), self._phase("w2"))

    def final_phases(self):
        return (self._phase("final"),)


def test_engine_runs_the_weeks_phases_before_the_steps_at_a_shared_instant():
    """At a time that is both a week boundary and a step, the week's phases run first, in order."""
    m = Clocked(step_h=56.0, horizon_h=420.0)  # 3 steps a week, 2.5 weeks
    Engine(m).run()
    at_168 = [name for name, t in m.log if t == 168.0]
    assert at_168 == ["w1", "w2", "s1", "s2"]
    steps = [t for name, t in m.log if name == "s1"]
    assert steps == [0, 56, 112, 168, 224, 280, 336, 392]  # every 56 h below the horizon
    assert [t for name, t in m.log if name == "w1"] == [168, 336]


def test_engine_runs_the_final_phases_at_the_horizon():
    """After the last step, the final phases close the (partial) last week at the horizon."""
    m = Clocked(step_h=56.0, horizon_h=420.0)
    Engine(m).run()
    assert m.log[0] == ("start", 0)
    assert m.log[-2:] == [("s2", 392.0), ("final", 420.0)]


def test_a_model_without_steps_gets_weekly_ticks_only():
    """With no step length the clock wakes once a week; a horizon on a week boundary is closed by the
    final phases, not by one more weekly tick."""
    m = Clocked(step_h=None, horizon_h=336.0, steps=("tick",))
    Engine(m).run()
    assert m.log == [("start", 0), ("tick", 0), ("w1", 168), ("w2", 168), ("tick", 168), ("final", 336.0)]


def test_engine_reports_progress_at_each_week_and_at_the_end():
    """Progress is the share of the horizon reached: after each weekly tick and at the horizon."""
    seen = []
    Engine(Clocked(step_h=56.0, horizon_h=420.0), progress=seen.append).run()
    assert seen == pytest.approx([168 / 420, 336 / 420, 1.0])


# --- rules/arrivals.py ---------------------------------------------------------------------------

def test_batches_arrive_at_the_books_rate_times_office_hours():
    """A step's arrival rate is the book's rate x the office-hours profile summed over the step."""
    cfg = config()
    cfg.demand.growth_per_year = 0.0
    m = market(cfg)
    # 168 batches a week = 1 an hour. Requesters (UTC-5) post 3x in office hours, 9-18 Mon-Fri:
    # 45 office hours of 168, mean weight (45 x 3 + 123) / 168 = 258 / 168, so an office hour weighs
    # 3 x 168 / 258. Monday 14:00-16:00 UTC is 09:00-11:00 in New York: 2 office hours.
    assert arrivals.arrival_rates(m, 14.0).tolist() == pytest.approx([2 * 3 * 168 / 258])  # 1.9535
    # Sunday night in New York: 2 hours at 168 / 258
    assert arrivals.arrival_rates(m, 2.0).tolist() == pytest.approx([2 * 168 / 258])


def test_demand_grows_and_evaluation_work_follows_automation():
    """Arrivals grow by (1 + growth) a year; evaluation books are multiplied by automation's demand."""
    cfg = config(types={"text": task(), "rlhf": task()})
    cfg.automation.eval_task_types = ["rlhf"]
    cfg.demand.office_hours_boost = 1.0  # a flat week
    cfg.demand.growth_per_year = 0.1
    m = market(cfg)
    m.state.eval_multiplier = 1.5
    # a year in: x 1.1; 2 hours at 1 batch an hour
    assert arrivals.arrival_rates(m, 8766.0).tolist() == pytest.approx([2 * 1.1, 2 * 1.1 * 1.5])


def test_a_batch_keeps_its_draws_whichever_book_it_goes_to():
    """Common random numbers survive routing: with the same seed, a type whose batches go 80/20 or 20/80
    to its open and geofenced books gets the same batches in a step (sizes drawn per batch of the type,
    log-normal), only their books differ."""
    def batches(open_share):
        cfg = config(types={"text": task(geofenced_share=0.2, batch_size_sigma=0.8, batches_per_week=1680.0)})
        cfg.crowd.geofence_regions = ["KEN"]
        cfg.demand.office_hours_boost = 1.0
        m = market(cfg)
        m.state.book_rate_h = np.array([open_share, 1 - open_share]) * 10.0
        arrivals.post_batches(m, 0.0)
        s = m.store
        return np.sort(s.ints[s.SIZE]), np.bincount(s.ints[s.BOOK], minlength=2)

    (a, books_a), (b, books_b) = batches(0.8), batches(0.2)
    assert a.size > 10 and np.array_equal(a, b)
    assert books_a[0] > books_a[1] and books_b[0] < books_b[1]


def _posting_market(value_usd=1.155, **task_kw):
    """One type whose tasks are worth ``value_usd`` (no spread), 20 % of them believed rejected: at a
    40 % fee, k = 1.4 / 0.8 = 1.75 and Robinson's rate is 0.1 x 1.155 / (1.1 x 1.75) = 0.06 USD."""
    m = market(config(types={"text": task(**task_kw)}))
    m.books.value_usd[:] = value_usd
    m.state.reject_share[:] = 0.2
    return m


@pytest.mark.parametrize("large_from, rate, fee", [(10, 60_000, 24_000), (11, 70_000, 14_000)])
def test_a_batch_carries_its_size_rate_and_the_platforms_fee(large_from, rate, fee):
    """A batch is priced by its requester at Robinson's markdown, e (v - s) / ((1 + e) k): the platform
    charges 40 % on top of large batches (k = 1.4 / 0.8: 0.06 USD), 20 % on small ones (k = 1.2 / 0.8:
    0.07 USD; the requester's cost per accepted task, k x rate = 0.105 USD, is the same: a fee is
    passed on to workers in full). It buys its whole drawn batch: that cost is its own best rate's."""
    m = _posting_market()
    m.cfg.crowd.large_batch_min_tasks = large_from
    post_one_each(m, 0.0)
    s = m.store
    assert s.ints[s.REM].tolist() == [10] and s.ints[s.RATE].tolist() == [rate]
    assert s.ints[s.FEE].tolist() == [fee]
    assert s.times[s.DEADLINE].tolist() == [72.0]
    wk = m.accounts.week
    assert wk["tasks_posted"][0] == 10 and wk["posted_value_uusd"][0] == 10 * rate
    assert m.state.week_posted_human.tolist() == [10]


def test_a_batch_worth_less_than_its_cost_is_not_posted():
    """A requester posts a batch only if its surplus covers its fixed cost: 10 tasks x (1.155 USD -
    1.75 x 0.06 USD) = 10.5 USD, short of an 11 USD fixed cost (its tasks count as unposted), enough
    against 10 USD."""
    for fixed, posted in ((11.0, 0), (10.0, 10)):
        m = _posting_market()
        m.requesters.fixed_cost_usd[:] = fixed
        post_one_each(m, 0.0)
        wk = m.accounts.week
        assert wk["tasks_posted"][0] == posted and wk["tasks_unposted"][0] == 10 - posted
        assert m.store.open_tasks().tolist() == [posted]


def test_a_scaled_down_world_keeps_the_batches_with_fewer_tasks():
    """At scale 0.25 a batch of 10 tasks brings 2.5, rounded at random to 2 or 3 (here the
    uniform draw 0: 2); the arrival rate of batches does not change with scale."""
    m = _posting_market()
    m.cfg.scale = 0.25
    post_one_each(m, 14.0)
    assert m.store.ints[m.store.REM].tolist() == [2]
    assert arrivals.arrival_rates(m, 14.0).tolist() == pytest.approx([2 * 3 * 168 / 258])


def test_a_model_does_its_share_of_a_batch_at_the_compute_price():
    """A model takes share x (1 - QA share) of a batch at the compute price; the rest waits for people."""
    m = _posting_market(automatable=True, automation_ceiling=0.6, automation_qa_share=0.2,
                        compute_cost_usd=0.002)
    m.state.auto_share[:] = 0.5
    post_one_each(m, 0.0)
    # 10 x 0.5 x 0.8 = 4 automated at 2_000 µUSD; 6 left to people
    wk = m.accounts.week
    assert wk["tasks_automated"][0] == 4 and wk["compute_cost_uusd"][0] == 8_000
    assert wk["tasks_posted"][0] == 10 and wk["tasks_posted_human"][0] == 6
    assert m.store.open_tasks().tolist() == [6]


def test_no_batch_pays_less_than_the_types_floor_and_a_dearer_batch_buys_fewer_tasks():
    """A piece rate below the type's floor is raised to it (0.06 USD to 0.08); an accepted task then
    costs 1.75 x 0.08 = 0.14 USD against 0.105 at the requester's own best rate, so it buys 10 x
    (0.14 / 0.105)^-0.5 = 8.66 of its 10 tasks, rounded at random (here down: 8)."""
    m = _posting_market(piece_rate_floor_usd=0.08)
    post_one_each(m, 0.0)
    assert m.store.ints[m.store.RATE].tolist() == [80_000]
    assert m.store.open_tasks().tolist() == [8]


def test_unfinished_tasks_expire_at_the_deadline():
    """At its deadline a batch leaves the book; its open tasks count as expired, in the week and accounts."""
    m = market(config())
    m.store.add(np.array([0]), np.array([10]), np.array([50_000]), np.array([10_000]), 0.0, np.array([5.0]))
    expiry.expire_batches(m, 4.0)
    assert m.store.open_tasks().tolist() == [10]
    expiry.expire_batches(m, 5.0)
    assert m.store.open_tasks().tolist() == [0]
    assert m.state.week_expired.tolist() == [10]
    assert m.accounts.week["tasks_expired"][0] == 10 and m.accounts.totals["tasks_expired"] == 10


# --- rules/schedule.py ---------------------------------------------------------------------------

def test_a_crowd_session_is_online_for_its_hours_and_counts_night_hours():
    """A 3 h session from 20:00 local (UTC) is online 2 h in the 20:00 step and 1 h in the 22:00 step,
    and that last hour is at night."""
    cfg = config()
    cfg.workers.days_per_week = 7.0  # works every day
    m = market(cfg)
    w = add(m, utc_offset=0.0, start_local_h=20.0, session_h=3.0)
    m.open_week(0.0)  # the week's rosters and crew
    assert schedule.online(m, 18.0).crowd.size == 0
    on = schedule.online(m, 20.0)
    assert on.crowd.tolist() == w.tolist() and on.crowd_h.tolist() == [2.0]
    assert night_hours(m, w[0]) == 0.0
    on = schedule.online(m, 22.0)
    assert on.crowd_h.tolist() == [1.0]
    assert night_hours(m, w[0]) == 1.0  # 22:00-23:00 local


def test_vendor_staff_work_their_shift_on_weekdays_and_night_shifts_count_as_night():
    """A shift from 22:00 local at UTC+8 is online Monday 14:00 UTC, all of it at night; not on Saturday."""
    cfg = config(regions={"PHL": region(utc_offset_h=8.0, vendor_shift_start_local_h=22, vendor_workers=1,
                                        vendor_wage_usd_h=1.0)},
                 types={"text": task(vendor_share=0.5)})
    m = market(cfg)
    v = add(m, channel=VENDOR, team=0, utc_offset=8.0)
    m.open_week(0.0)  # the week's rosters and crew
    on = schedule.online(m, 14.0)  # Monday 22:00-24:00 local
    assert on.vendor.tolist() == v.tolist() and on.vendor_h.tolist() == [2.0]
    assert night_hours(m, v[0]) == 2.0
    assert schedule.online(m, 5 * 24 + 14.0).vendor.size == 0  # Saturday 22:00 local


def test_workers_on_paid_leave_stay_home():
    """A worker whose paid leave runs past the week's start is on no roster and never online."""
    cfg = config()
    cfg.workers.days_per_week = 7.0
    m = market(cfg)
    add(m, utc_offset=0.0, start_local_h=20.0, session_h=3.0, leave_until_h=500.0)
    m.open_week(0.0)  # the week's rosters and crew
    assert m.rosters.crowd.size == 0
    assert schedule.online(m, 20.0).crowd.size == 0


def test_a_joiner_is_online_only_from_the_step_after_it_joins():
    """A worker who joins at 21:00 is not online in the 20:00 step, and is in the 22:00 one."""
    cfg = config()
    cfg.workers.days_per_week = 7.0
    m = market(cfg)
    add(m, joined_h=21.0, utc_offset=0.0, start_local_h=20.0, session_h=4.0)
    m.open_week(0.0)  # the week's rosters and crew
    assert schedule.online(m, 20.0).crowd.size == 0
    assert schedule.online(m, 22.0).crowd_h.tolist() == [2.0]


def test_a_session_at_a_half_hour_offset_is_online_for_all_its_hours():
    """A 3 h session from 19:00 local at UTC+5:30 (India) is online 3 hours over the day."""
    cfg = config(regions={"IND": region(utc_offset_h=5.5)})
    cfg.workers.days_per_week = 7.0
    m = market(cfg)
    add(m, utc_offset=5.5, start_local_h=19.0, session_h=3.0)
    m.open_week(0.0)  # the week's rosters and crew
    hours = sum(schedule.online(m, float(h)).crowd_h.sum() for h in range(0, 24, 2))
    assert hours == pytest.approx(3.0)  # 19:00-22:00 local = 13:30-16:30 UTC


def test_a_shift_at_a_half_hour_offset_lasts_its_hours():
    """An 8 h vendor shift from 09:00 local at UTC+5:30 (India) is online 8 hours on a Monday."""
    cfg = config(regions={"IND": region(utc_offset_h=5.5, vendor_workers=1, vendor_wage_usd_h=1.0)},
                 types={"text": task(vendor_share=0.5)})
    m = market(cfg)
    add(m, channel=VENDOR, team=0, utc_offset=5.5)
    m.open_week(0.0)  # the week's rosters and crew
    hours = sum(schedule.online(m, float(h)).vendor_h.sum() for h in range(0, 24, 2))
    assert hours == pytest.approx(8.0)  # 09:00-17:00 local = 03:30-11:30 UTC


# --- rules/matching.py ---------------------------------------------------------------------------

def test_tasks_of_equal_length_give_an_exact_count():
    """With every task the same length (CV 0), a stretch finishes round(mean) tasks, no spread."""
    got = renewal_counts(np.random.default_rng(0), np.array([2.4, 7.6, 0.0]), np.zeros(3))
    assert got.tolist() == [2, 8, 0]


def test_a_renewal_count_is_less_dispersed_than_poisson():
    """Tasks finished in a stretch have variance CV^2 x mean: 0.25 x 400 = 100 (Poisson: 400)."""
    got = renewal_counts(np.random.default_rng(1), np.full(20_000, 400.0), np.full(20_000, 0.25))
    assert got.mean() == pytest.approx(400.0, abs=0.5)
    assert got.var() == pytest.approx(100.0, rel=0.05)


def test_trimming_gives_the_rounding_remainder_to_the_largest_remainder():
    """Draws 3, 3, 4 from a book holding 5 keep half each, 1.5, 1.5, 2: floors 1, 1, 2, and the one task
    left goes to one of the two pairs with remainder 0.5."""
    got = trim_to_open(np.random.default_rng(0), np.array([3, 3, 4]), np.zeros(3, int), np.array([5]))
    assert got[2] == 2 and sorted(got[:2].tolist()) == [1, 2] and got.sum() == 5


# --- rules/skills.py -----------------------------------------------------------------------------

def _skills_market():
    cfg = config(types={"text": task(reject_rate_novice=0.15, reject_rate_expert=0.05,
                                     qualified_value_premium=1.3, vendor_share=0.5)},
                 regions={"KEN": region(vendor_workers=1, vendor_wage_usd_h=1.0)})
    cfg.requesters["all"].qualified_share = 0.3
    cfg.workers.novice_slowdown = 1.5
    cfg.wellbeing.reject_penalty_at_burnout = 0.1
    cfg.wellbeing.burnout_threshold = 1.0
    m = market(cfg)
    assert [(s.channel, s.needs_qualification) for s in m.books.specs] == [(CROWD, False), (CROWD, True),
                                                                          (VENDOR, False)]
    return m


def test_book_tables_hold_speed_rejections_and_paid_tasks_per_hour():
    """Skill 0.5 on 1-minute tasks (novices 1.5x slower): 60 / 1.25 = 48 tasks an hour; rejections
    0.15 + (0.05 - 0.15) x 0.5 = 0.10, plus stress 0.5 x 0.1 = 0.05; value 48 x 0.85 = 40.8."""
    m = _skills_market()
    w = add(m, skill=0.5, stress=0.5)
    row = book_row(m, w[0])
    assert row.tph.tolist() == pytest.approx([48.0, 48.0, 48.0])
    assert row.rej.tolist() == pytest.approx([0.15, 0.15, 0.15])
    assert row.value.tolist() == pytest.approx([40.8, -np.inf])  # not qualified
    assert row.team_book == -1


def test_qualification_opens_the_qualified_book():
    """20,000 approved of 21,000 (95 %) meets 15,000 at 90 %: the qualified book opens."""
    m = _skills_market()
    w = add(m, skill=0.5, accepted_total=20_000, done_total=21_000)
    assert book_row(m, w[0]).value.tolist() == pytest.approx([48 * 0.9, 48 * 0.9])  # 43.2 each


def test_vendor_staff_take_only_their_teams_book():
    """A vendor worker of team 0 takes the type's vendor book (book 2) and no crowd book."""
    m = _skills_market()
    v = add(m, channel=VENDOR, team=0, skill=0.5)
    assert book_row(m, v[0]).team_book == 2
    assert np.isneginf(book_row(m, v[0]).value).all()


def test_a_worker_below_the_required_skill_may_not_take_the_type():
    """Skill 0.5 below a type's required 0.6: its crowd book is closed to the worker."""
    m = market(config(types={"text": task(skill_required=0.6)}))
    w = add(m, skill=0.5)
    assert np.isneginf(book_row(m, w[0]).value).all()


def test_a_week_adds_to_reputation_and_skill():
    """Accepted 100 + 30 = 130, reviewed 120 + 30 + 5 = 155; 600 h (the learning hours) on the type
    close 1 - 1/e of the gap to the ceiling 0.7: 0.7 - 0.2 / e."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(1)
    pool.accepted_total[0], pool.done_total[0] = 100, 120
    pool.wk_tasks[0], pool.wk_rejected[0] = 30, 5
    pool.skill[0, 0], pool.skill_cap[0, 0], pool.wk_hours_type[0, 0] = 0.5, 0.7, 600.0
    m = SimpleNamespace(pool=pool, cfg=SimpleNamespace(workers=SimpleNamespace(learning_hours=600.0)))
    skills.update_reputation_and_skills(m, a)
    assert pool.accepted_total[0] == 130 and pool.done_total[0] == 155
    assert pool.skill[0, 0] == pytest.approx(0.7 - 0.2 / E)  # 0.62642


# --- rules/work.py -------------------------------------------------------------------------------

def _work_market(**type_kw):
    staff = 1 if type_kw.get("vendor_share") else 0  # a vendor quote only where vendors work
    cfg = config(types={"text": task(**type_kw)},
                 regions={"KEN": region(vendor_workers=staff, vendor_wage_usd_h=2.0)})
    cfg.crowd.search_min_per_hour = 6.0  # 0.1 h of each hour online
    cfg.crowd.give_up_search_h = 0.5
    cfg.vendor.margin = 1.5
    return market(cfg)


def _crowd_online(w, hours=2.0):
    return Online(np.asarray(w), np.array([hours]), np.zeros(0, np.int64), np.zeros(0))


def _batch(m, book, tasks, rate=50_000, fee=10_000):
    m.store.add(np.array([book]), np.array([tasks]), np.array([rate]), np.array([fee]), 0.0, np.array([100.0]))


def test_a_crowd_worker_searches_unpaid_then_is_paid_each_accepted_task():
    """2 h online less 6 min an hour of search = 1.8 h at 60 tasks an hour = 108 tasks at 50_000 µUSD:
    5_400_000 µUSD earned, the platform's 10_000 a task (1_080_000) on top for the requester."""
    m = _work_market()
    w = add(m)
    _batch(m, 0, 200)
    work_step(m, 0.0, _crowd_online(w))
    p = m.pool
    assert p.wk_tasks[w[0]] == 108 and p.wk_earn_uusd[w[0]] == 5_400_000
    assert p.wk_paid_h[w[0]] == pytest.approx(1.8) and p.wk_unpaid_h[w[0]] == pytest.approx(0.2)
    wk, c = m.accounts.week, cell_of(m, 0, 0, CROWD)
    assert wk["earnings_uusd"][c] == 5_400_000 and wk["platform_fees_uusd"][c] == 1_080_000
    assert wk["requester_spend_uusd"][c] == 6_480_000 and wk["tasks_done_human"][c] == 108
    assert m.store.open_tasks()[0] == 92
    assert m.state.week_labels.tolist() == [108.0]


def test_a_rationed_worker_takes_what_the_book_holds_and_searches_the_rest():
    """Wanting 108 tasks from a book of 50: 50 tasks in 50/60 h, paid 2_500_000; the rest of 2 h is unpaid."""
    m = _work_market()
    w = add(m)
    _batch(m, 0, 50)
    work_step(m, 0.0, _crowd_online(w))
    p = m.pool
    assert p.wk_tasks[w[0]] == 50 and p.wk_earn_uusd[w[0]] == 2_500_000
    assert p.wk_paid_h[w[0]] == pytest.approx(50 / 60)
    assert p.wk_unpaid_h[w[0]] == pytest.approx(2 - 50 / 60)


def test_rejected_work_is_unpaid_and_the_tasks_stay_open():
    """A worker whose every task is rejected earns nothing for 2 h online; the book still holds 200."""
    m = _work_market(reject_rate_novice=1.0, reject_rate_expert=1.0)
    w = add(m)
    _batch(m, 0, 200)
    work_step(m, 0.0, _crowd_online(w))
    p = m.pool
    assert p.wk_tasks[w[0]] == 0 and p.wk_rejected[w[0]] > 0
    assert p.wk_earn_uusd[w[0]] == 0
    assert p.wk_paid_h[w[0]] == 0.0 and p.wk_unpaid_h[w[0]] == pytest.approx(2.0)
    assert m.store.open_tasks()[0] == 200
    assert m.accounts.week["tasks_rejected"].sum() == p.wk_rejected[w[0]]


def test_a_crowd_worker_who_finds_nothing_searches_a_while_and_logs_off():
    """With every book empty, a worker searches give_up_search_h = 0.5 h unpaid and ends its day."""
    m = _work_market()
    w = add(m, workday=True)
    work_step(m, 0.0, _crowd_online(w))
    assert m.pool.wk_unpaid_h[w[0]] == pytest.approx(0.5)
    assert m.pool.wk_paid_h[w[0]] == 0.0
    assert not m.pool.workday[w[0]]


def test_vendor_staff_are_paid_every_shift_hour_whatever_they_finish():
    """A vendor worker at 2 USD/h does the 30 tasks of its book in 0.5 h and is paid 2 h: 4_000_000 µUSD;
    the vendor bills wage + a 150 % mark-up = 10_000_000, keeps 21 % of it as profit (2_100_000) and
    spends the rest of the mark-up on overheads (3_900_000)."""
    m = _work_market(vendor_share=0.5)
    assert m.books.channel.tolist() == [CROWD, VENDOR]
    v = add(m, channel=VENDOR, team=0, wage_uusd_h=2_000_000)
    _batch(m, 1, 30, rate=50_000, fee=0)
    work_step(m, 0.0, Online(np.zeros(0, np.int64), np.zeros(0), v, np.array([2.0])))
    p = m.pool
    assert p.wk_tasks[v[0]] == 30 and p.wk_paid_h[v[0]] == 2.0
    assert p.wk_earn_uusd[v[0]] == 4_000_000
    wk, c = m.accounts.week, cell_of(m, 0, 0, VENDOR)
    assert wk["vendor_margin_uusd"][c] == 2_100_000
    assert wk["vendor_overheads_uusd"][c] == 3_900_000
    assert wk["requester_spend_uusd"][c] == 10_000_000
    assert wk["earnings_uusd"][c] == 4_000_000


# --- rules/wellbeing.py --------------------------------------------------------------------------

def _wellbeing_ns(pool, levers=None, toxicity=(1.0,), **wb):
    cfg = LabsimConfig()
    for k, v in {"stress_per_toxic_hour": 0.01, "recovery_per_week": 0.1, "burnout_threshold": 1.0, **wb}.items():
        setattr(cfg.wellbeing, k, v)
    return SimpleNamespace(pool=pool, cfg=cfg, state=SimpleNamespace(levers=levers or Levers()),
                           types=SimpleNamespace(toxicity=np.array(toxicity)))


def test_support_levers_scale_the_weeks_build_up_and_recovery():
    """Stress 0.5 kept at exp(-0.1 x 2); 20 toxic hours x 0.01 x 0.5 x sensitivity 2 add 0.2: 0.6094."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(1, stress=np.array([0.5]), peak_stress=np.array([0.7]), wk_toxic_h=np.array([20.0]),
                 sensitivity=np.array([2.0]), toxic_hours=np.array([5.0]))
    m = _wellbeing_ns(pool, Levers(stress_accumulation=0.5, stress_recovery=2.0))
    burnt = wellbeing.update_stress(m, a, 168.0)
    assert pool.stress[0] == pytest.approx(0.5 * math.exp(-0.2) + 0.2)  # 0.60937
    assert pool.peak_stress[0] == 0.7  # the peak so far was higher
    assert pool.toxic_hours[0] == 25.0
    assert burnt.tolist() == [False]


def test_a_worker_on_paid_leave_does_not_burn_out_again():
    """Stress 1.2 x exp(-0.1) = 1.086 passes the threshold 1; only the worker not on leave burns out."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(2, stress=np.array([1.2, 1.2]), leave_until_h=np.array([-np.inf, 1000.0]))
    burnt = wellbeing.update_stress(_wellbeing_ns(pool), a, 168.0)
    assert pool.stress[:2].tolist() == pytest.approx([1.2 * math.exp(-0.1)] * 2)
    assert burnt.tolist() == [True, False]


def test_workers_present_at_the_start_carry_the_stress_of_their_tenure():
    """10 weeks at their usual exposure: crowd 4 h x 5 days = 20 h, vendor 8 h x 5 = 40 h a week at
    toxicity 1; steady state 0.001 x 20 / (1 - e^-0.1) = 0.21017, reached to 1 - e^-1: 0.13285 (crowd),
    twice that for the vendor worker."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(2, channel=np.array([CROWD, VENDOR]), session_h=np.array([4.0, 8.0]))
    m = _wellbeing_ns(pool, stress_per_toxic_hour=0.001)
    m.cfg.workers.days_per_week = 5.0
    m.cfg.vendor.shift_hours, m.cfg.vendor.shift_days_per_week = 8.0, 5
    wellbeing.warm_stress(m, a, np.full(2, 10 * HOURS_PER_WEEK))
    crowd = 0.001 * 20 / (1 - math.exp(-0.1)) * (1 - math.exp(-1.0))
    assert pool.stress[:2].tolist() == pytest.approx([crowd, 2 * crowd])  # 0.13285, 0.26570
    assert pool.peak_stress[:2].tolist() == pytest.approx([crowd, 2 * crowd])


def test_those_present_at_the_start_stay_below_the_initial_cap():
    """Steady stress far above burnout is capped at initial_stress_cap x threshold = 0.8 x 1.5 = 1.2."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(1, channel=np.array([VENDOR]))
    m = _wellbeing_ns(pool, toxicity=(10.0,), burnout_threshold=1.5, initial_stress_cap=0.8)
    wellbeing.warm_stress(m, a, np.array([100 * HOURS_PER_WEEK]))
    assert pool.stress[0] == pytest.approx(1.2)


# --- rules/turnover.py ---------------------------------------------------------------------------

def _turnover_ns(pool, u):
    cfg = LabsimConfig()
    w = cfg.workers
    w.base_quit_hazard_per_week, w.low_pay_quit_hazard_per_week = 0.008, 0.05
    w.vendor_quit_hazard_per_week, w.wage_memory_weeks = 0.004, 4.0
    return SimpleNamespace(pool=pool, cfg=cfg, rng=KeyedUniforms("quits", u), week=SimpleNamespace(number=3))


def test_quits_follow_the_recent_wage_against_the_reservation_wage():
    """Recent earnings 0.75 x 20 + 0 = 15 USD over 0.75 x 10 + 10 = 17.5 h: 0.857 USD/h against 4;
    shortfall 0.7857, low-pay hazard 0.05 x 0.7857 = 0.0393, total 1 - 0.992 x 0.9607 = 0.0470.
    Draws 0.03, 0.045, 0.05: low pay, other, stay."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(3, reservation_wage=np.full(3, 4.0), ew_earn_usd=np.full(3, 20.0), ew_hours=np.full(3, 10.0))
    m = _turnover_ns(pool, [0.03, 0.045, 0.05])
    reasons = turnover.draw_quits(m, a, np.ones(3, bool), np.zeros(3), np.full(3, 10.0))
    assert pool.ew_earn_usd[:3].tolist() == pytest.approx([15.0] * 3)
    assert pool.ew_hours[:3].tolist() == pytest.approx([17.5] * 3)
    assert reasons.tolist() == [EXIT_LOW_PAY, EXIT_OTHER, EXIT_NONE]


def test_vendor_staff_have_their_own_base_hazard():
    """Paid their reservation wage, a crowd worker quits below 0.008, vendor staff below 0.004: u = 0.006."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(2, channel=np.array([CROWD, VENDOR]), reservation_wage=np.full(2, 4.0))
    reasons = turnover.draw_quits(_turnover_ns(pool, [0.006, 0.006]), a, np.ones(2, bool),
                                  np.full(2, 40.0), np.full(2, 10.0))  # 4 USD/h
    assert reasons.tolist() == [EXIT_OTHER, EXIT_NONE]


def test_without_hours_there_is_no_evidence_of_low_pay():
    """A worker with no hours yet faces the base hazard 0.008 only (not 1 - 0.992 x 0.95 = 0.0576)."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(1, reservation_wage=np.array([4.0]))
    reasons = turnover.draw_quits(_turnover_ns(pool, [0.009]), a, np.ones(1, bool), np.zeros(1), np.zeros(1))
    assert reasons.tolist() == [EXIT_NONE]


def test_a_worker_not_yet_present_cannot_quit():
    """Whatever the draw, a worker who joins after the week's end does not leave in it."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(1, reservation_wage=np.array([4.0]))
    reasons = turnover.draw_quits(_turnover_ns(pool, [0.0]), a, np.zeros(1, bool), np.zeros(1), np.ones(1))
    assert reasons.tolist() == [EXIT_NONE]


# --- rules/joining.py ----------------------------------------------------------------------------

def test_vendors_hire_to_their_headcount_times_the_work_routed_to_them():
    """Headcount 6 x factor 0.5 = 3 with 1 on staff: 2 hires at the week's start, at the region's
    wage of 2.5 USD/h, on 8 h shifts, in the only team."""
    cfg = config(regions={"KEN": region(vendor_workers=6, vendor_wage_usd_h=2.5)},
                 types={"text": task(vendor_share=0.5)})
    m = market(cfg)
    add(m, channel=VENDOR, team=0)
    m.state.vendor_headcount_factor = np.array([0.5])
    joining.join(m, 168.0)
    new = m.active[1:]
    assert new.size == 2
    p = m.pool
    assert p.channel[new].tolist() == [VENDOR, VENDOR] and p.joined_h[new].tolist() == [168.0, 168.0]
    assert p.wage_uusd_h[new].tolist() == [2_500_000, 2_500_000]
    assert p.team[new].tolist() == [0, 0] and p.session_h[new].tolist() == [8.0, 8.0]


def test_one_regions_hires_change_no_other_regions_joiners():
    """Synchronised common random numbers: a policy that makes Kenya's vendors hire 10 instead of 2
    leaves the Philippines' crowd joiners of that week (their number, arrival times, reservation wages
    and identities) and its own vendor hires' first draws exactly as they were."""
    def week_of(factor_ken):
        cfg = config(regions={"KEN": region(vendor_workers=10, vendor_wage_usd_h=2.5),
                              "PHL": region(potential_arrivals_per_week=40.0, vendor_workers=4,
                                            vendor_wage_usd_h=2.0)},
                     types={"text": task(vendor_share=0.5)})
        m = market(cfg)
        m.state.vendor_headcount_factor = np.array([factor_ken, 1.0])
        joining.join(m, 168.0)
        p, new = m.pool, m.active
        return {c: (p.region[new] == r) & (p.channel[new] == ch) for c, r, ch in
                (("ken_vendor", 0, VENDOR), ("phl_crowd", 1, CROWD), ("phl_vendor", 1, VENDOR))}, p, new

    (few, p1, a1), (many, p2, a2) = week_of(0.2), week_of(1.0)
    assert few["ken_vendor"].sum() == 2 and many["ken_vendor"].sum() == 10
    for who in ("phl_crowd", "phl_vendor"):
        x, y = a1[few[who]], a2[many[who]]
        assert x.size == y.size > 0
        for col in ("joined_h", "reservation_wage", "key", "sensitivity"):
            assert np.array_equal(getattr(p1, col)[x], getattr(p2, col)[y]), (who, col)
    # Kenya's first two hires are the same people either way.
    k1, k2 = a1[few["ken_vendor"]], a2[many["ken_vendor"]][:2]
    assert np.array_equal(p1.key[k1], p2.key[k2]) and np.array_equal(p1.reservation_wage[k1], p2.reservation_wage[k2])


def test_a_region_joins_only_from_its_entry_week():
    """A region entering in week 2 (336 h) gets nobody at the tick of 168 h; at 336 h its vendors hire
    2 and its crowd joiners arrive during the week [336, 504)."""
    cfg = config(regions={"KEN": region(entry_week=2.0, potential_arrivals_per_week=50.0, vendor_workers=2,
                                        vendor_wage_usd_h=1.0)},
                 types={"text": task(vendor_share=0.5)})
    m = market(cfg)
    joining.join(m, 168.0)
    assert m.active.size == 0
    joining.join(m, 336.0)
    p, a = m.pool, m.active
    assert int((p.channel[a] == VENDOR).sum()) == 2
    crowd = a[p.channel[a] == CROWD]
    assert crowd.size > 0  # Poisson(50): everyone comes to a market that looks boundless
    assert (p.joined_h[crowd] >= 336.0).all() and (p.joined_h[crowd] < 504.0).all()


def test_nobody_joins_a_market_that_pays_less_than_anyones_reservation_wage():
    """Expecting 0 USD/h, no potential worker's reservation wage is below it: no joiners."""
    m = market(config(regions={"KEN": region(potential_arrivals_per_week=1000.0)}))
    m.state.expected_wage[:] = 0.0
    joining.join(m, 168.0)
    assert m.active.size == 0


@pytest.mark.parametrize("skill, main", [(0.5, 0), (0.7, 1)])
def test_a_newcomers_main_type_is_what_pays_it_best_on_paper(skill, main):
    """Type 0 pays 0.05 USD for 1-minute tasks, type 1 0.20 USD for 3-minute tasks and needs skill 0.6.
    At skill 0.5 only type 0 is open; at 0.7: 0.05 x 60 / 1.15 = 2.61 < 0.20 x 20 / 1.15 = 3.48 USD/h."""
    cfg = config(regions={"KEN": region(skill_mean=skill)},
                 types={"a": task(), "b": task(duration_median_min=3.0, base_piece_rate_usd=0.2,
                                               skill_required=0.6)})
    cfg.workers.skill_sd = 0.0
    cfg.workers.max_skill_gain = 0.2
    m = market(cfg)
    idx = joining.add_workers(m, 0, CROWD, np.array([0.0]), np.random.default_rng(0))
    assert m.pool.main_type[idx].tolist() == [main]
    assert m.pool.skill_cap[idx[0]].tolist() == pytest.approx([skill + 0.2] * 2)
    assert m.active.tolist() == idx.tolist()


def test_workers_present_at_the_start_have_a_record_at_their_skills_approval():
    """Those present at t = 0 have reviewed, per week of tenure, their weekly hours x the paid
    share x their tasks per hour: skill 0.5 and novices 3x slower make a 2-minute task take
    2 x (1 + 2 x 0.5) = 4 minutes, 15 an hour. Approved: 1 - (0.2 - 0.2 x 0.5) = 0.9 of them."""
    cfg = config(regions={"KEN": region(initial_crowd_workers=3, skill_mean=0.5)},
                 types={"text": task(reject_rate_novice=0.2, reject_rate_expert=0.0, duration_median_min=2.0,
                                     duration_sigma=0.0)})
    cfg.workers.skill_sd = 0.0
    cfg.workers.max_skill_gain = 0.0  # their tenure taught them nothing: skill stays 0.5
    cfg.workers.novice_slowdown = 3.0
    cfg.workers.initial_paid_share = 0.5
    m = market(cfg)
    joining.join(m, 0.0, initial=True)
    p, a = m.pool, m.active
    assert a.size == 3 and (p.joined_h[a] < 0).all()
    weekly = p.session_h[a] * cfg.workers.days_per_week
    done = np.rint(-p.joined_h[a] / 168.0 * weekly * 0.5 * 15.0).astype(np.int64)
    assert p.done_total[a].tolist() == done.tolist()
    assert p.accepted_total[a].tolist() == np.rint(done * 0.9).astype(np.int64).tolist()


# --- rules/pricing.py ----------------------------------------------------------------------------

def _terms(value=11.0, commission=0.4, reject=0.2, charge=0.0, start=0.05, floor=0.0, customary=False,
           budget_fee=0.4, eps=0.1, elasticity=0.5, speed=1.0, fill=1.0):
    """``pricing.batch_terms`` of one batch: (rate paid, k, cost per accepted task, share bought), its
    type's crowd searching ``speed`` times as long per paid hour as at the anchor (its tasks taken
    that much faster), ``fill`` of its tasks done."""
    scarce = pricing.scarcity(np.array([speed]), np.array([1.0]), np.array([fill]), eps, elasticity)
    paid, k, cost, ratio = pricing._terms_of(
        np.array([0]), np.array([value]), np.array([commission]), np.array([customary]), np.array([budget_fee]),
        np.array([reject]), np.array([charge]), np.array([start]), np.array([floor * 1e6]), scarce, eps)
    return float(paid[0]), float(k[0]), float(cost[0]), float(pricing.bought(ratio, elasticity)[0])


def test_the_best_rate_is_robinsons_markdown():
    """v = 11 USD, k = 1.4 / 0.8 = 1.75, e = 0.1: p = 0.1 x 11 / (1.1 x 1.75) = 0.5714 USD, an accepted
    task costs k p = e v / (1 + e) = 1 USD, a task's value is 11 times its cost, and the requester buys
    its whole batch."""
    rate, k, cost, bought = _terms()
    assert k == pytest.approx(1.75) and rate == pytest.approx(1.1 / (1.1 * 1.75))
    assert cost == pytest.approx(1.0) and bought == pytest.approx(1.0)


@pytest.mark.parametrize("elasticity", (0.5, 1.5))
@pytest.mark.parametrize("speed", (0.8, 1.25))
def test_rates_answer_to_how_fast_tasks_are_taken(elasticity, speed):
    """The type's crowd searching ``speed`` times as long per paid hour: with a matching function of
    elasticity one half, its tasks are taken ``speed`` times as fast; a requester on the demand curve
    v (Q/Q0)^(-1/eta) facing the take-up kappa p^e posts p ~ kappa^(-1/(eta + e)), so the rate is
    ``speed^(-1/(eta + 0.1))`` of the anchor's; the cost per accepted task moves with it, and it buys
    ``(that)^-eta`` of its drawn tasks: more where workers are plentiful, fewer where scarce. A
    customary requester's rate does not move. The premium is bounded (x or / 4) and 1 where the
    anchor is unknown."""
    rate, _, cost, bought = _terms()
    moved, _, moved_cost, moved_bought = _terms(speed=speed, elasticity=elasticity)
    factor = speed ** (-1 / (elasticity + 0.1))
    assert moved / rate == pytest.approx(factor) and moved_cost / cost == pytest.approx(factor)
    assert moved_bought == pytest.approx(factor ** -elasticity)
    assert (moved_bought > 1.0) == (speed > 1.0)
    assert _terms(speed=speed, customary=True)[0] == pytest.approx(0.05)
    one = np.ones(4)
    assert pricing.scarcity(np.array([100.0, 0.001, 2.0, 2.0]), np.array([1.0, 1.0, np.nan, 1.0]), one, 0.1,
                            0.5).tolist() == pytest.approx([0.25, 4.0, 1.0, 2.0 ** (-1 / 0.6)])


@pytest.mark.parametrize("elasticity", (0.5, 1.5))
def test_where_work_goes_undone_the_marginal_task_is_worth_more(elasticity):
    """A requester that expects 90 % of its tasks done is at 0.9 n on its demand curve, where the
    marginal task is worth 0.9^(-1/elasticity) times more: its rate is that much higher, and a
    customary requester's rate does not move; the share is held at 0.25 and the slope at 0.1."""
    rate = _terms(elasticity=elasticity)[0]
    scarce = _terms(fill=0.9, elasticity=elasticity)[0]
    assert scarce / rate == pytest.approx(0.9 ** (-1 / elasticity))
    assert _terms(fill=0.9, customary=True)[0] == pytest.approx(0.05)
    assert pricing.scarcity(np.ones(2), np.ones(2), np.array([0.01, 1.0]), 0.1, 0.0).tolist() == pytest.approx(
        [min(0.25 ** -10, 4.0), 1.0])


def test_a_fee_is_passed_on_to_workers_in_full():
    """From a 40 % to a 60 % fee the rate falls by 1.4 / 1.6 and the cost per accepted task stays 1 USD:
    with a constant elasticity the markdown is constant."""
    rate40, _, cost40, _ = _terms(commission=0.4)
    rate60, _, cost60, bought = _terms(commission=0.6)
    assert rate60 / rate40 == pytest.approx(1.4 / 1.6)
    assert cost60 == pytest.approx(cost40) and bought == pytest.approx(1.0)


def test_a_charge_per_task_is_borne_by_the_requester_for_one_over_one_plus_e_of_it():
    """A 0.11 USD charge per accepted task: the rate falls to 0.1 x 10.89 / (1.1 x 1.75), the cost per
    accepted task rises by 0.11 / 1.1 = 0.1 USD to 1.1, and the requester buys 1.1^-0.5 of its tasks."""
    rate, _, cost, bought = _terms(charge=0.11)
    assert rate == pytest.approx(0.1 * 10.89 / (1.1 * 1.75))
    assert cost == pytest.approx(1.1) and bought == pytest.approx(1.1 ** -0.5)


@pytest.mark.parametrize("elasticity", (0.15, 0.5, 1.5))
def test_tasks_bought_answer_to_their_cost_with_the_declared_elasticity(elasticity):
    """A floor of 0.8 USD where the best rate is 0.5714: cost 1.75 x 0.8 = 1.4 USD against 1 at the
    requester's own best rate; it buys 1.4^-elasticity of its tasks."""
    rate, _, cost, bought = _terms(floor=0.8, elasticity=elasticity)
    assert rate == pytest.approx(0.8) and cost == pytest.approx(1.4)
    assert bought == pytest.approx(1.4 ** -elasticity)


def test_a_customary_requester_pays_its_rate_and_buys_by_the_fee_it_budgeted_for():
    """Budgeted at a 40 % fee: at 20 % an accepted task costs 1.2 / 1.4 of what it planned, and it buys
    (1.2 / 1.4)^-0.5 = 1.08 times its drawn tasks; at 60 %, (1.6 / 1.4)^-0.5 = 0.935 times."""
    for fee, share in ((0.2, (1.2 / 1.4) ** -0.5), (0.6, (1.6 / 1.4) ** -0.5)):
        rate, _, _, bought = _terms(commission=fee, customary=True)
        assert rate == pytest.approx(0.05) and bought == pytest.approx(share)


def test_the_cost_factor_counts_the_fee_and_the_rejected_tasks_redone():
    """k = (1 + c) / (1 - r): a 40 % fee and 20 % of tasks rejected: 1.4 / 0.8 = 1.75."""
    assert pricing.cost_factor(np.array([0.4]), np.array([0.2])).tolist() == pytest.approx([1.75])


def _pricing_market():
    m = market(config(types={"text": task(vendor_share=0.5)}))
    assert m.books.channel.tolist() == [CROWD, VENDOR]
    return m


def test_requesters_learn_the_rejection_share_of_their_book():
    """Averaged over 8 weeks: believed 10 %, this week 30 of 100 reviewed: 7/8 x 0.1 + 1/8 x 0.3 = 0.125.
    The vendor book is not priced by its requesters."""
    m = _pricing_market()
    st = m.state
    st.seen_weeks[:] = 20.0
    st.reject_share[:] = 0.1
    st.week_taken[:] = [70.0, 50.0]
    st.week_rejected[:] = [30.0, 50.0]
    pricing.learn(m)
    assert st.reject_share.tolist() == pytest.approx([0.125, 0.1])


def test_beliefs_are_running_means_until_the_averaging_window_is_full():
    """The first guess counts as one week: after one week seen, belief and week weigh half each,
    (0.1 + 0.3) / 2 = 0.2; a week later a third each for the new week: (2 x 0.2 + 0.5) / 3 = 0.3."""
    m = _pricing_market()
    st = m.state
    st.seen_weeks[:] = 1.0
    st.reject_share[:] = 0.1
    st.week_taken[:], st.week_rejected[:] = [70.0, 0.0], [30.0, 0.0]
    pricing.learn(m)
    assert st.reject_share[0] == pytest.approx(0.2)
    assert st.seen_weeks.tolist() == [2.0, 1.0]
    st.week_taken[:], st.week_rejected[:] = [50.0, 0.0], [50.0, 0.0]
    pricing.learn(m)
    assert st.reject_share[0] == pytest.approx(0.3)


def test_requesters_learn_the_slack_of_their_type_and_the_share_of_their_tasks_done():
    """The type's crowd search hours per paid hour: the first week with crowd work replaces an
    unknown ratio (25 search hours over 100 paid: 0.25) and, with no stored state, becomes the
    anchor (scarcity 1). Later weeks average the counts over 8 weeks: 7/8 x 25 + 1/8 x 45 = 27.5
    search hours over 100 paid, so the book's scarcity is 1.1^(-1/(0.5 + 0.1)). The fill share:
    believed 100 %, 90 accepted and 10 expired: 7/8 + 1/8 x 0.9 = 0.9875, which multiplies the
    scarcity by 0.9875^(-1/0.5); with ``pricing.slack_response`` off it stays 1. The vendor book
    learns none of it."""
    m = _pricing_market()
    st, wk = m.state, m.accounts.week
    cell = m.accounts.shape

    def hours(search_h, paid_h):
        for name, h in (("unpaid_hours", search_h), ("paid_hours", paid_h)):
            wk[name][:] = 0
            wk[name].reshape(cell)[0, 0, CROWD] = h
    hours(25.0, 100.0)
    st.week_taken[:] = [100.0, 50.0]
    pricing.learn(m)
    assert st.search_ratio[0] == pytest.approx(0.25) and st.search_ref[0] == pytest.approx(0.25)
    assert st.scarcity[0] == pytest.approx(1.0) and np.isnan(st.search_ref[1]) and st.search_ratio[1] == 0.0
    st.seen_weeks[:] = 20.0
    hours(45.0, 100.0)
    st.week_taken[:] = [90.0, 0.0]
    st.week_expired[:] = [10, 0]
    pricing.learn(m)
    assert st.search_ratio[0] == pytest.approx(0.275) and st.fill_share.tolist() == pytest.approx([0.9875, 1.0])
    assert st.scarcity[0] == pytest.approx(1.1 ** (-1 / 0.6) * 0.9875 ** -2)
    m.cfg.pricing.slack_response = False
    pricing.learn(m)
    assert st.scarcity.tolist() == [1.0, 1.0]


def test_a_book_with_nothing_reviewed_keeps_its_beliefs():
    m = _pricing_market()
    m.state.reject_share[:] = 0.3
    pricing.learn(m)
    assert m.state.reject_share.tolist() == [0.3, 0.3]


def test_values_follow_from_the_observed_rate_through_the_markdown():
    """The small world's batches (10 tasks: the 40 % fee; 10 % believed rejected at the start) are worth
    k p (1 + e) / e = 1.4 / 0.9 x 0.05 x 11 = 0.856 USD, so their best rate is the observed 0.05 USD;
    a scenario's fees leave that value as it is."""
    m = _pricing_market()
    assert m.state.reject_share[0] == pytest.approx(0.1)
    assert m.books.value_usd[0] == pytest.approx(1.4 / 0.9 * 0.05 * 11)
    assert pricing.mean_posted_rate_usd(m, m.state.reject_share)[0] == pytest.approx(0.05)
    cfg = config(types={"text": task(vendor_share=0.5)})
    cfg.crowd.commission_large_batch = 0.6
    dearer = market(cfg)
    assert dearer.books.value_usd[0] == pytest.approx(m.books.value_usd[0])
    assert pricing.mean_posted_rate_usd(dearer, dearer.state.reject_share)[0] == pytest.approx(0.05 * 1.4 / 1.6)


# --- rules/routing.py ----------------------------------------------------------------------------

def _routing_market(**type_kw):
    cfg = config(types={"text": task(vendor_share=0.25, geofenced_share=0.2, **type_kw)},
                 regions={"KEN": region(vendor_workers=1, vendor_wage_usd_h=1.0)})
    cfg.crowd.geofence_regions = ["KEN"]
    m = market(cfg)
    assert [(s.channel, s.group_share) for s in m.books.specs] == [(CROWD, 0.8), (CROWD, 0.2), (VENDOR, 1.0)]
    return m


def test_each_books_arrivals_are_its_channel_and_group_share_of_the_types():
    """1 batch an hour, 25 % to vendors; crowd 75 % split open 0.8, geofenced 0.2: 0.6, 0.15, 0.25 an hour."""
    m = _routing_market()
    assert m.state.book_rate_h.tolist() == pytest.approx([0.6, 0.15, 0.25])
    assert m.state.vendor_headcount_factor == pytest.approx(1.0)


def test_vendor_headcount_follows_the_work_routed_to_vendors_with_a_hiring_lag():
    """Vendor share 0.25 -> 0.5 doubles vendors' work, and the headcount it needs: 0.5 / 0.25 = 2. With a
    4-week lag, vendors close a quarter of the gap a week: 1 + 0.25 = 1.25, then 1.25 + 0.75 x 0.25 = 1.4375;
    with none, all of it."""
    m = _routing_market()
    m.state.vendor_share[:] = 0.5
    routing.route(m)
    assert m.state.book_rate_h.tolist() == pytest.approx([0.4, 0.1, 0.5])
    assert m.state.vendor_headcount_target == pytest.approx(2.0)
    assert m.state.vendor_headcount_factor == pytest.approx(1.0)
    m.cfg.routing.hiring_lag_weeks = 4.0
    routing.hire_toward_target(m)
    assert m.state.vendor_headcount_factor == pytest.approx(1.25)
    routing.hire_toward_target(m)
    assert m.state.vendor_headcount_factor == pytest.approx(1.4375)
    m.cfg.routing.hiring_lag_weeks = 0.0
    routing.hire_toward_target(m)
    assert m.state.vendor_headcount_factor == pytest.approx(2.0)


def test_vendor_teams_follow_the_hours_of_work_routed_to_each_type():
    """Type a: 168 batches x 10 tasks x 1 min = 28 h a week, 25 % to vendors = 7 h; type b: 3-minute
    tasks, 84 h, 50 % = 42 h. Teams: 7/49 and 42/49."""
    m = market(config(types={"a": task(vendor_share=0.25), "b": task(vendor_share=0.5, duration_median_min=3.0)},
                      regions={"KEN": region(vendor_workers=1, vendor_wage_usd_h=1.0)}))
    assert m.state.team_share.tolist() == pytest.approx([1 / 7, 6 / 7])


def test_the_vendor_quote_is_the_bill_over_accepted_tasks_averaged_by_headcount():
    """Region A: 2 staff billed 2 x 2.5 = 5 USD/h, experts at 60 accepted tasks an hour: 0.08333 USD;
    region B: 6 staff billed 2.5 USD/h, skill 0.5: 48 tasks an hour, 10 % rejected, 43.2 accepted: 0.05787.
    Quote (2 x 0.08333 + 6 x 0.05787) / 8 = 0.0642361 USD = 64_236.1 µUSD."""
    cfg = config(regions={"AAA": region(vendor_workers=2, vendor_wage_usd_h=2.0, skill_mean=1.0),
                          "BBB": region(vendor_workers=6, vendor_wage_usd_h=1.0, skill_mean=0.5)},
                 types={"text": task(vendor_share=0.5, reject_rate_novice=0.2, reject_rate_expert=0.0)})
    cfg.vendor.margin = 1.5
    cfg.workers.novice_slowdown = 1.5
    m = market(cfg)
    assert routing.vendor_quote(m).tolist() == pytest.approx([64_236.1], abs=0.1)


def _two_vendor_regions():
    cfg = config(regions={"KEN": region(vendor_workers=2, vendor_wage_usd_h=1.0),
                          "IND": region(vendor_workers=6, vendor_wage_usd_h=1.0)},
                 types={"text": task(vendor_share=0.5)})
    cfg.routing.substitution_elasticity = 2.0
    return market(cfg)


def test_a_region_whose_vendors_must_pay_more_wins_less_of_vendors_work():
    """Kenyan vendors held to 1.5 USD/h against their 1.0: weight 1.5^-2 = 0.4444 against India's 1.
    Headcount 2 and 6 share 8: Kenya's factor 0.4444 x 8 / (2 x 0.4444 + 6) = 0.5161, India's 1.1613;
    the total stays 8. With no floor, both 1; the quote averages regions by the heads they win."""
    m = _two_vendor_regions()
    assert routing.vendor_region_factor(m).tolist() == pytest.approx([1.0, 1.0])
    free = routing.vendor_quote(m)[0]
    m.state.levers.vendor_wage_floor_usd_h = np.array([1.5, 0.0])
    f = routing.vendor_region_factor(m)
    assert f.tolist() == pytest.approx([0.4444444 * 8 / 6.8888889, 8 / 6.8888889])
    assert float(m.regions.vendor_workers @ f) == pytest.approx(8.0)
    assert routing.vendor_wage_paid(m).tolist() == pytest.approx([1.5, 1.0])
    # Kenya's 2 x 0.5161 heads bill 1.5x, India's 6 x 1.1613 as before: the quote rises by their mix.
    share_ken = 2 * f[0] / 8
    assert routing.vendor_quote(m)[0] == pytest.approx(free * (share_ken * 1.5 + (1 - share_ken)))
    routing.route(m)
    m.cfg.routing.hiring_lag_weeks = 0.0
    routing.hire_toward_target(m)
    assert m.state.vendor_headcount_factor.tolist() == pytest.approx(f.tolist())


def test_vendors_over_their_headcount_lay_off_the_last_hired():
    """Kenya's target 6 x 0.5 = 3 with 5 staff staying (one more already quitting): the two hired last
    leave (reason other); a crowd worker and India's vendor are untouched."""
    m = _two_vendor_regions()
    joined = [-50.0, -40.0, -30.0, -20.0, -10.0, -5.0]
    v = add(m, 6, channel=VENDOR, team=0, region=0, joined_h=joined)
    c = add(m, 1, region=0)
    iv = add(m, 1, channel=VENDOR, team=0, region=1)
    a = np.concatenate([v, c, iv])
    reasons = np.array([EXIT_NONE] * 5 + [EXIT_LOW_PAY] + [EXIT_NONE, EXIT_NONE], np.int8)
    m.state.vendor_headcount_factor = np.array([0.5, 1.0])
    m.regions.vendor_workers[0] = 6  # the table the market reads (built from the config)
    out = joining.lay_off(m, a, np.ones(a.size, bool), reasons)
    assert out.tolist() == [EXIT_NONE, EXIT_NONE, EXIT_NONE, EXIT_OTHER, EXIT_OTHER, EXIT_LOW_PAY, EXIT_NONE,
                            EXIT_NONE]


def _two_teams(team_share):
    cfg = config(regions={"KEN": region(vendor_workers=10, vendor_wage_usd_h=1.0)},
                 types={"text": task(vendor_share=0.5), "moderation": task(vendor_share=0.5)})
    m = market(cfg)
    m.state.team_share = np.array(team_share)
    return m


def test_vendors_hire_for_the_teams_short_of_staff():
    """Target 10, the work now 40 % text and 60 % moderation (4 and 6 heads); on staff 1 text and 5
    moderation: the 4 hires fill the gaps (3 text, 1 moderation) in expectation, not the shares (1.6 and
    2.4). Over 400 weeks of draws, text takes 3/4 of the hires (to within 0.05)."""
    m = _two_teams([0.4, 0.6])
    add(m, 1, channel=VENDOR, team=0)
    add(m, 5, channel=VENDOR, team=1)
    assert joining.team_surplus(m, 0, m.active).tolist() == pytest.approx([-3.0, -1.0])
    text = 0
    for week in range(400):
        before = m.active
        joining.join(m, 168.0 * (week + 1))
        new = m.active[before.size:]
        new = new[m.pool.channel[new] == VENDOR]
        assert new.size == 4
        text += int((m.pool.team[new] == 0).sum())
        m.active = before  # the same week again, with the next week's draws
    assert text / 1600 == pytest.approx(0.75, abs=0.05)


def test_vendors_over_their_headcount_lay_off_from_the_teams_over_their_work():
    """Target 10 x 0.5 = 5 of 8 staying: 3 leave. The work is 80 % text (4 heads) and 20 % moderation (1):
    text has 4 (no surplus), moderation 4 (surplus 3), so the 3 leave moderation, last hired first."""
    m = _two_teams([0.8, 0.2])
    t = add(m, 4, channel=VENDOR, team=0, joined_h=[-9.0, -8.0, -7.0, -6.0])
    mo = add(m, 4, channel=VENDOR, team=1, joined_h=[-50.0, -1.0, -3.0, -2.0])
    a = np.concatenate([t, mo])
    m.state.vendor_headcount_factor = np.array([0.5])
    out = joining.lay_off(m, a, np.ones(a.size, bool), np.full(a.size, EXIT_NONE, np.int8))
    assert out.tolist() == [EXIT_NONE] * 4 + [EXIT_NONE, EXIT_OTHER, EXIT_OTHER, EXIT_OTHER]


def test_largest_remainders_split_a_whole_number_in_proportion_and_within_each_cap():
    """5 over weights 3.2, 1.9, 0, 0.4: shares 2.91, 1.73, 0, 0.36, floors 2, 1, 0, 0, the two left to the
    largest remainders (0.91, 0.73): 3, 2, 0, 0. One over 0.5 and 0.5 (each rounds up to 1): 1, 0."""
    assert joining._largest_remainders(5, np.array([3.2, 1.9, 0.0, 0.4])).tolist() == [3, 2, 0, 0]
    assert joining._largest_remainders(1, np.array([0.5, 0.5])).tolist() == [1, 0]
    assert joining._largest_remainders(4, np.array([1.0, 1.0, 2.5])).tolist() == [1, 1, 2]


def test_ces_shares_move_work_away_from_the_channel_that_got_dearer():
    """Benchmark 0.5 / 0.3 / 0.2 / 0, the crowd 10 % dearer, sigma 2: weights 0.5 / 1.21 = 0.41322, 0.3,
    0.2, 0 (an unused channel stays unused whatever its cost); shares over 0.91322. At the benchmark's
    costs, the benchmark; with sigma 0, too (no substitution)."""
    bench = np.array([[0.5, 0.3, 0.2, 0.0]])
    rel = np.array([[1.1, 1.0, 1.0, 0.5]])
    x = np.array([0.5 / 1.21, 0.3, 0.2, 0.0])
    assert routing.ces_shares(bench, rel, 2.0)[0].tolist() == pytest.approx((x / x.sum()).tolist())
    assert routing.ces_shares(bench, np.ones((1, 4)), 2.0)[0].tolist() == pytest.approx(bench[0].tolist())
    assert routing.ces_shares(bench, rel, 0.0)[0].tolist() == pytest.approx(bench[0].tolist())


def test_the_ces_price_index_is_the_benchmark_mean_at_the_start_and_between_the_costs_after():
    """At the benchmark's costs, 1; with the crowd (share 0.75) 20 % dearer at sigma 2, ((0.75 / 1.2 +
    0.25))^-1 = 1.14286, between 1 and 1.2; at sigma 1 the geometric mean 1.2^0.75."""
    bench = np.array([[0.75, 0.25]])
    assert routing.ces_index(bench, np.ones((1, 2)), 2.0)[0] == pytest.approx(1.0)
    assert routing.ces_index(bench, np.array([[1.2, 1.0]]), 2.0)[0] == pytest.approx(1 / (0.75 / 1.2 + 0.25))
    assert routing.ces_index(bench, np.array([[1.2, 1.0]]), 1.0)[0] == pytest.approx(1.2 ** 0.75)


def _channel_market(sigma: float = 2.0, switch_weeks: float = 0.0, vendor_share: float = 0.25):
    cfg = config(types={"text": task(vendor_share=vendor_share, automatable=True, automation_ceiling=0.6,
                                     automation_half_labels=2000.0, automation_steepness=1.5,
                                     automation_qa_share=0.1, llm_share=0.1, compute_cost_usd=0.001)},
                 regions={"KEN": region(vendor_workers=1, vendor_wage_usd_h=1.0)})
    cfg.routing.substitution_elasticity = sigma
    cfg.routing.switch_weeks = switch_weeks
    m = market(cfg)
    m.state.cost0 = routing.channel_costs(m)
    return m


def test_at_the_start_costs_each_channel_takes_its_benchmark_share():
    """No labels yet: the model has no share; LLMs 0.1; people 0.9, a quarter of it to vendors."""
    m = _channel_market()
    routing.choose_channels(m)
    assert m.state.channel_share[0].tolist() == pytest.approx([0.675, 0.225, 0.0, 0.1])
    assert m.state.auto_share.tolist() == pytest.approx([0.1])
    assert m.state.llm_part.tolist() == pytest.approx([1.0])
    assert m.state.vendor_share.tolist() == pytest.approx([0.25])


def test_a_better_model_takes_its_learning_curves_share_from_llms_and_people_alike():
    """No labels at the start: LLM labels' odds 0.1 / (0.6 - 0.1) = 0.2 give the table's share, and the
    model's odds are its curve's times 0.6 / 0.5 = 1.2. 2000 labels = half_labels: the curve's odds 1, the
    model's 1.2; of the 0.6 machines can do, the model takes 1.2 / 2.4 (its curve's share, 0.3) and LLMs
    0.2 / 2.4 (a multinomial logit: 0.05, half what they did), people the rest, a quarter to vendors."""
    m = _channel_market()
    m.state.labels[:] = 2000.0
    routing.choose_channels(m)
    model, llm = 0.6 * 1.2 / 2.4, 0.6 * 0.2 / 2.4
    human = 1.0 - model - llm
    assert m.state.channel_share[0].tolist() == pytest.approx([0.75 * human, 0.25 * human, model, llm])
    assert m.state.auto_share.tolist() == pytest.approx([model + llm])
    assert m.state.llm_part.tolist() == pytest.approx([llm / (model + llm)])


@pytest.mark.parametrize("factor", [0.0, 1.0, 10.0, 1e6])
def test_machines_never_take_more_than_the_ceiling_whatever_people_cost(factor):
    """However cheap machines get against people, the tasks no machine can do stay people's."""
    m = _channel_market()
    m.state.labels[:] = 2000.0
    s = routing.channel_shares(m, m.state.labels, np.full((1, 2), factor), np.ones((1, 2)))
    assert s[0, 2] + s[0, 3] <= 0.6 + 1e-12
    assert s.sum() == pytest.approx(1.0)
    assert (s >= 0).all()


def test_a_dearer_crowd_loses_work_to_vendors_by_sigma_and_to_machines_by_theta():
    """A policy charges requesters a fifth of the crowd's cost on every accepted crowd task; requesters
    bear 1 / (1 + e) of it (their rate falls by the rest), so the crowd is 0.2 / 1.1 = 18 % dearer. Within
    people's work, the crowd's and vendors' shares follow b x (c/c0)^-2; people's cost is that nest's price
    index; a model's and LLM labels' odds follow ((c_h - c_k) / (c_h0 - c_k0))^2, their cost rising by the
    review of a tenth of their output at the crowd's (the cheaper channel's) cost only."""
    m = _channel_market()
    m.state.labels[:] = 2000.0
    before = routing.channel_costs(m)[0]
    m.state.surcharge_usd = np.where(m.books.is_crowd, 0.2 * before[0], 0.0)
    after = routing.channel_costs(m)[0]
    assert after[0] == pytest.approx((1 + 0.2 / 1.1) * before[0])
    assert after[1] == pytest.approx(before[1])  # vendors' quote is their own
    assert before[0] < before[1]  # the crowd is the cheaper channel, so it reviews machines' output
    assert after[2] - before[2] == pytest.approx(0.1 * 0.2 / 1.1 * before[0])
    assert after[3] - before[3] == pytest.approx(0.1 * 0.2 / 1.1 * before[0])
    routing.choose_channels(m)
    rel = after / before
    people0 = 0.75 * before[0] + 0.25 * before[1]
    people = people0 / (0.75 / rel[0] + 0.25 / rel[1])
    odds = np.array([1.2, 0.2]) * ((people - after[2:]) / (people0 - before[2:])) ** 2
    machines = 0.6 * odds / (1 + odds.sum())
    inner = np.array([0.75, 0.25]) * rel[:2] ** -2.0
    inner /= inner.sum()
    expected = [*((1 - machines.sum()) * inner), *machines]
    assert m.state.channel_share[0].tolist() == pytest.approx(expected)
    assert m.state.auto_share[0] > 0.6 * 1.4 / 2.4  # machines gain on the dearer crowd
    assert m.state.people_cost[0] == pytest.approx(people)


def test_review_is_peoples_labour_a_wage_rise_reaches_a_machine_label_by_reviews_share_only():
    """Hand-built: people's work all goes to vendors (no crowd book), who also review a tenth of a
    machine's output. Vendors' wage 50 % higher: people's cost per accepted task
    +50 %, a model's label by 0.1 x 0.5 = 5 % of a human label's cost (its review), not 50 %. At the
    break-even task (where a machine's errors cost what it saves), a machine label's full cost equals
    people's, so it rises by 5 %; the margin machines win on rises by 50 %, and with it their odds."""
    m = _channel_market(vendor_share=1.0)
    m.state.cost0 = routing.channel_costs(m)
    before = m.state.cost0[0].copy()
    assert np.isnan(before[0])
    m.regions.vendor_wage_usd_h[:] *= 1.5
    after = routing.channel_costs(m)[0]
    assert after[1] == pytest.approx(1.5 * before[1])
    assert after[2] - before[2] == pytest.approx(0.05 * before[1])
    assert after[3] - before[3] == pytest.approx(0.05 * before[1])
    # The break-even task's machine label: its cash cost plus the errors' loss, which equals people's cost.
    full_before = before[2] + (before[1] - before[2])
    full_after = full_before + (after[2] - before[2])
    assert full_after / full_before == pytest.approx(1.05)
    cost = np.array([after])
    factor = routing.machine_factor(m, cost, m.state.cost0, routing.people_cost(m, cost, m.state.cost0))[0]
    assert (factor > 1.5 ** 2).all()  # the margin rose by more than people's cost: compute does not


def test_requesters_move_a_switch_weeks_share_of_the_way_each_week():
    """switch_weeks 4: from the benchmark towards the shares a 5-cent charge on crowd tasks brings, a
    quarter of the gap a week."""
    m = _channel_market(switch_weeks=4.0)
    routing.choose_channels(m)  # the first choice is the target itself (nothing chosen before)
    start = m.state.channel_share.copy()
    m.state.surcharge_usd = np.where(m.books.is_crowd, 0.05, 0.0)
    m.cfg.routing.switch_weeks = 0.0
    target = (routing.choose_channels(m), m.state.channel_share.copy())[1]
    m.state.channel_share = start
    m.cfg.routing.switch_weeks = 4.0
    routing.choose_channels(m)
    assert target[0, 0] < start[0, 0] - 0.05  # the charge moves work away from the crowd
    assert m.state.channel_share[0].tolist() == pytest.approx((start + 0.25 * (target - start))[0].tolist())
    assert m.state.channel_share.sum() == pytest.approx(1.0)


# --- rules/automation.py -------------------------------------------------------------------------

def test_models_learn_from_the_weeks_labels_per_unit_of_scale():
    """500 labels at scale 0.5 count 1000: 1000 + 1000 = 2000 = half_labels, so at the start's costs the
    model's share is half the ceiling 0.6 = 0.3; evaluation demand x (1 + 2 x 0.3) = 1.6; the week's
    count restarts at 0."""
    cfg = config(types={"text": task(automatable=True, automation_ceiling=0.6, automation_half_labels=2000.0,
                                     automation_steepness=1.5),
                        "rlhf": task()})
    cfg.automation.eval_task_types = ["rlhf"]
    cfg.automation.eval_demand_boost = 2.0
    cfg.routing.switch_weeks = 0.0
    cfg.scale = 0.5
    m = market(cfg)
    m.state.labels[:] = [1000.0, 0.0]
    m.state.week_labels[:] = [500.0, 40.0]
    automation.learn_from_week(m)
    routing.choose_channels(m)
    assert m.state.labels.tolist() == pytest.approx([2000.0, 80.0])
    assert m.state.auto_share.tolist() == pytest.approx([0.3, 0.0])
    assert m.state.eval_multiplier == pytest.approx(1.6)
    assert m.state.week_labels.tolist() == [0.0, 0.0]


# --- rules/word_of_mouth.py ----------------------------------------------------------------------

def test_expected_wages_move_towards_what_the_regions_crowd_earned_per_hour():
    """Region 0: crowd earned 6 + 4 USD in 2 + 2 h = 2.5 USD/h; over 8 weeks 2.0 x 7/8 + 2.5/8 = 2.0625
    (its vendor worker does not count). Region 1's first week, 3 USD in 1 h, replaces its missing value.
    Region 2's only worker had no hours: still unknown."""
    pool = WorkerPool(n_types=1, capacity=16)
    a = pool.add(5, region=np.array([0, 0, 0, 1, 2]), channel=np.array([CROWD, CROWD, VENDOR, CROWD, CROWD]))
    state = SimpleNamespace(expected_wage=np.array([2.0, np.nan, np.nan]))
    m = SimpleNamespace(pool=pool, regions=SimpleNamespace(n=3), state=state, cfg=LabsimConfig())
    assert m.cfg.workers.word_of_mouth_weeks == 8.0
    word_of_mouth.hear(m, a, np.array([6.0, 4.0, 100.0, 3.0, 5.0]), np.array([2.0, 2.0, 8.0, 1.0, 0.0]))
    assert state.expected_wage[:2].tolist() == pytest.approx([2.0625, 3.0])
    assert np.isnan(state.expected_wage[2])


def test_a_region_without_evidence_goes_by_the_worlds_average():
    """Unknown in region 1: the mean of the regions that know, (2 + 3) / 2 = 2.5; none known: boundless."""
    assert word_of_mouth.expected_wage(np.array([2.0, np.nan, 3.0]), 1) == pytest.approx(2.5)
    assert word_of_mouth.expected_wage(np.array([np.nan, np.nan]), 0) == np.inf


def test_requesters_see_a_policys_charges_per_accepted_task():
    """3 USD of top-ups and 1 USD of levy on 40 accepted crowd tasks of the type this week:
    0.1 USD a task; averaged with a belief of 0 after 20 weeks seen (1/8 weight): 0.0125."""
    m = _pricing_market()
    st, acc = m.state, m.accounts
    cell = acc.cell(np.array([0]), np.array([0]), np.array([CROWD]))
    acc.post(cell, {"topup_uusd": np.array([3_000_000]), "levy_uusd": np.array([1_000_000]),
                    "tasks_done_human": np.array([40])})
    assert pricing.week_surcharge_usd(m)[m.books.is_crowd].tolist() == pytest.approx([0.1])
    st.seen_weeks[:] = 20.0
    st.surcharge_usd[:] = 0.0
    pricing.learn(m)
    assert st.surcharge_usd.tolist() == pytest.approx([0.0125, 0.0])


def test_a_vendor_keeps_at_most_what_its_bill_leaves_above_the_wage():
    """Billed at the wage plus 10 % (a mark-up of 400_000 µUSD on a 4_000_000 wage), a vendor whose
    profit share is 21 % of the bill keeps only the mark-up, 400_000, and has nothing for overheads."""
    m = _work_market(vendor_share=0.5)
    m.cfg.vendor.margin = 0.1
    v = add(m, channel=VENDOR, team=0, wage_uusd_h=2_000_000)
    _batch(m, 1, 30, rate=50_000, fee=0)
    work_step(m, 0.0, Online(np.zeros(0, np.int64), np.zeros(0), v, np.array([2.0])))
    wk, c = m.accounts.week, cell_of(m, 0, 0, VENDOR)
    assert wk["vendor_margin_uusd"][c] == 400_000 and wk["vendor_overheads_uusd"][c] == 0
    assert wk["requester_spend_uusd"][c] == 4_400_000


# --- charges billed where they arise, requesters that steer (issue 31) ----------------------------

def _two_region_market():
    """Kenya and the United States, one type with an open and a US-only (geofenced) crowd book and a
    local floor in force, so that charges are tallied by book and region."""
    cfg = config("min_wage_floor", regions={"KEN": region(), "USA": region()},
                 types={"text": task(geofenced_share=0.5)}, start_week=0.0)
    cfg.crowd.geofence_regions = ["USA"]
    m = market(cfg)
    assert m.books.is_crowd.tolist() == [True, True] and m.books.geofenced.tolist() == [False, True]
    assert m.state.week_paid_h_region.shape == (2, 2)
    return m


def test_charges_are_billed_to_the_books_whose_workers_caused_them():
    """6 USD of US top-ups over 6 US paid hours is 1 USD an hour; the US workers spent 2 h on the open
    book (20 tasks accepted) and 4 h on the geofenced one (10 tasks): 0.1 and 0.4 USD per accepted task.
    Kenya's 10 hours on the open book carry no charge. Pooled, both books would pay 6 / 30 = 0.2."""
    m = _two_region_market()
    st = m.state
    st.week_paid_h_region[:] = [[10.0, 2.0], [0.0, 4.0]]
    st.week_taken[:] = [20.0, 10.0]
    us = m.accounts.cell(np.array([1]), np.array([0]), np.array([CROWD]))
    m.accounts.post(us, {"topup_uusd": np.array([6_000_000]), "tasks_done_human": np.array([30])})
    assert pricing.region_charge_per_hour(m).tolist() == pytest.approx([0.0, 1.0])
    assert pricing.week_surcharge_usd(m).tolist() == pytest.approx([0.1, 0.4])
    m.state.week_paid_h_region = np.zeros((0, 0))  # pooled: one charge per task of the type
    assert pricing.week_surcharge_usd(m).tolist() == pytest.approx([0.2, 0.2])


def test_requesters_offer_the_workers_whose_charges_they_pay_less_of_their_batches():
    """A task costs 0.1 USD without charges and takes 0.1 paid hour; US workers carry 1 USD an hour of
    charges (0.1 USD a task), Kenyans none. On the open book a US worker's task costs twice a Kenyan's:
    at sigma 2 US workers are offered 2^-2 = a quarter of its batches, Kenyans all. On the US-only book
    the US is the cheapest region that may take it: offered all. No charge anywhere: all offered."""
    m = _two_region_market()
    st = m.state
    st.paid_h_per_task[:] = 0.1
    st.surcharge_usd[:] = 0.0
    st.region_charge_h[:] = [0.0, 1.0]
    routing.offer_by_region(m, np.array([0.1, 0.1]))
    np.testing.assert_allclose(st.offer, [[1.0, 0.25], [1.0, 1.0]])
    st.region_charge_h[:] = 0.0
    routing.offer_by_region(m, np.array([0.1, 0.1]))
    assert (st.offer == 1.0).all()


def test_requesters_move_batches_from_dearer_geofenced_books_by_a_ces():
    """The geofenced book's cost per accepted task doubles against the open book's (each against the
    start): at sigma 2 its odds fall to a quarter, from 1:1 to 1:4, so its share of the type's crowd
    batches heads for 0.2, a quarter of the gap (switch_weeks 4) a week: 0.5 -> 0.425."""
    m = _two_region_market()
    st = m.state
    st.book_cost0 = np.array([0.1, 0.1])
    st.region_charge_h = np.zeros(0)  # the offer by region is another test's
    routing.steer(m, np.array([0.1, 0.2]))
    assert st.group_share.tolist() == pytest.approx([0.575, 0.425])
