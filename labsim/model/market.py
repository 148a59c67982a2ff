"""The micro-task market: its state, rules and policies, wired in the order they run.

Every step (``step_h`` hours) the engine runs ``STEP`` phases: requesters'
batches arrive, expired ones leave, the workers online in the step (crowd
sessions, vendor shifts) are found, policies take their share of the time,
and everyone online works as one vectorised cohort. Every week it first runs
``WEEK`` phases: the week is measured and recorded, workers and the market
are updated, exits drawn, joiners added, and the next week opened. The
phases are listed here, in order; each names the rule or policy hook it
applies. ``labsim.model.queueing.QueueModel`` reduces the same kernel to an
M/M/c queue, run event by event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import simpy

import labsim.model.week as wk
from labsim.model.accounts import Accounts
from labsim.model.books import Books, book_specs
from labsim.model.store import BatchStore
from labsim.model.context import Context
from labsim.model.crew import Crew
from labsim.model.engine import Engine, Progress
from labsim.model.policies import PolicySet
from labsim.model import steady
from labsim.model.records import Records, records
from labsim.model.rng import hold
from labsim.model.rules import (arrivals, automation, expiry, posting, hours, joining, pricing, routing, schedule, skills,
                                turnover, wellbeing, word_of_mouth)
from labsim.model.rules.work import work, work_slots
from labsim.model.state import EXIT_BURNOUT, Cover, MarketState, WorkerPool
from labsim.model.tables import Regions, Requesters, TaskTypes
from labsim.model.units import CHANNELS, HOURS_PER_WEEK
from labsim.model.windows import named_windows

if TYPE_CHECKING:
    from labsim.config import LabsimConfig
    from labsim.model.rng import Streams


def run_window(cfg: LabsimConfig) -> tuple[float, float]:
    """(horizon, start of the KPI window) in hours: the window opens at the first
    week boundary at or after the warm-up."""
    return (float(round(cfg.horizon_weeks * HOURS_PER_WEEK)),
            float(np.ceil(cfg.warmup_weeks - 1e-9) * HOURS_PER_WEEK))


def capacity_hint(cfg: LabsimConfig) -> int:
    """Rows to reserve for workers: those present at the start and the likely joiners."""
    stock = sum(r.initial_crowd_workers + r.vendor_workers for r in cfg.regions.values())
    flow = sum(r.potential_arrivals_per_week for r in cfg.regions.values()) * cfg.horizon_weeks
    return int(1.3 * cfg.scale * (stock * 1.5 + flow)) + 64


class Market(Context):
    """The micro-task market with both channels, run as cohort steps and weekly ticks."""

    def __init__(self, cfg: LabsimConfig, streams: Streams, progress: Progress | None = None,
                 start: steady.StartState | None = None) -> None:
        self.cfg, self.rng, self.progress = cfg, streams, progress
        self.start_state = start  # the stored steady state to start from (None: stylised draws)
        self.regions, self.types = Regions.from_config(cfg), TaskTypes.from_config(cfg)
        # The streams the steps draw from, held for compiled code: each type's batches and their
        # count, then the work and the schedule.
        names = ([f"demand.{t}" for t in self.types.names] + [f"demand.{t}.count" for t in self.types.names]
                 + ["work", "schedule"])
        self.held = hold(streams, names)
        self.held_work, self.held_schedule = len(names) - 2, len(names) - 1
        self.requesters = Requesters.from_config(cfg)
        self.min_wage_usd_h = self.regions.min_wage_usd_h
        self.horizon_h, self.window_start_h = run_window(cfg)
        self.windows = named_windows(cfg)
        self.step_h, self.sub_hours = float(cfg.step_h), int(cfg.step_h)
        self.policies = PolicySet(cfg)
        self.books = Books(cfg, self.types, book_specs(cfg, self.regions, self.policies.books))
        self.store = BatchStore(self.books.fifo, cfg.pricing.supply_elasticity)
        self.accounts = Accounts(self.regions.n, self.types.n, len(CHANNELS))
        self.work_slots = work_slots(self.accounts, tuple(self.books.count_as))
        self.batch_slots = self.accounts.slots(arrivals.BATCH_FLOWS)
        self.expiry_slots = self.accounts.slots(expiry.EXPIRY_FLOWS)
        self.pool = WorkerPool(self.types.n, capacity_hint(cfg), n_windows=len(self.windows))
        self.profile = posting.posting_profile(cfg, self.types)
        t, n_books = self.types, self.books.n
        self.state = MarketState(
            labels=t.labels_before_start.copy(), auto_share=np.zeros(t.n),
            expected_wage=np.full(self.regions.n, np.nan), vendor_share=t.vendor_share.copy(),
            week_labels=np.zeros(t.n), week_expired=np.zeros(n_books, np.int64),
            week_posted_human=np.zeros(n_books, np.int64),
            reject_share=np.zeros(n_books), scarcity=np.ones(n_books), fill_share=np.ones(n_books),
            search_ratio=np.zeros(n_books), search_ref=np.full(n_books, np.nan), seen_search_h=np.zeros(n_books),
            seen_paid_h=np.zeros(n_books), surcharge_usd=np.zeros(n_books), seen_weeks=np.zeros(n_books),
            week_taken=np.zeros(n_books), week_rejected=np.zeros(n_books),
            group_share=self.books.group_share.copy())
        if cfg.pricing.charges_by_book and self.policies.all:  # only policies charge requesters
            self.state.week_paid_h_region = np.zeros((n_books, self.regions.n))
            self.state.region_charge_h = np.zeros(self.regions.n)
            self.state.paid_h_per_task = np.zeros(n_books)
        # Requester groups (class, home, size): what each buys, week by week (arrivals.GROUP_FLOWS); the
        # neutral cover of a rule scoped by home; each type's vendor book (-1: none).
        req = self.requesters
        self.group_week = np.zeros((len(arrivals.GROUP_FLOWS), req.n_groups))
        self.group_rows: list[np.ndarray] = []
        self.no_cover = Cover.none(req.n_sub, t.n, n_books)
        books = self.books
        self.vendor_book = np.full(t.n, -1, np.int64)
        for b in np.flatnonzero(~books.is_crowd & ~books.certified)[::-1]:
            self.vendor_book[books.type[b]] = b
        self.vendor_work_h0 = routing.vendor_work_h(self)  # vendor work as configured
        self.vendor_shifts = schedule.VendorShifts(self)
        self.active = np.zeros(0, np.int64)  # workers present (rows of the pool)
        self.week_start_h = 0.0
        self.week: wk.Week | None = None
        self.rosters: schedule.Rosters | None = None
        self.crew: Crew | None = None  # the rosters' workers, dense, while the week's steps run
        self.online: schedule.Online | None = None
        self.policies.set_levers(self, 0.0)
        routing.choose_channels(self)  # the start shares (no costs seen yet)
        self.state.vendor_headcount_factor = routing.headcount_target(self)

    # --- the order of things ---------------------------------------------------------------

    def step_phases(self):
        return (self.post_batches,       # rules.arrivals, rules.pricing: batches priced and posted
                self.expire_batches,     # rules.expiry: unfinished tasks expire
                self.find_online,        # rules.schedule: sessions and shifts in the step
                self.policy_time,        # policies: time that goes to something else (training)
                self.work)               # rules.work: match, draw, take, review, pay

    def week_phases(self):
        return (self.open_tick,          # the week [start, now) closes
                self.weekly_money,       # policies: top-ups, levies, services
                self.measure_week,       # earnings, hours, main types, head counts
                self.update_workers,     # rules.skills, rules.wellbeing, policies
                self.update_market,      # rules.automation, policies' levers, pricing's beliefs, routing, word of mouth
                self.draw_exits,         # rules.turnover, burnouts, policies' exits; rules.hours: next week's sessions
                self.record_week,        # the week's record
                self.roll_over,          # window totals, weekly reset, leavers
                self.join,               # rules.joining: next week's joiners and hires
                self.open_week)          # rosters, then policies' settings for the week

    def final_phases(self):
        if self.horizon_h <= self.week_start_h:
            return ()
        return (self.open_tick, self.weekly_money, self.measure_week,
                self.record_week, self.roll_over)

    def run(self) -> Records:
        self.engine = Engine(self, self.progress)
        self.engine.run()
        return self.records()

    def start(self, env: simpy.Environment) -> None:
        """The market at t = 0: from the stored steady state it was given (``steady``), and from
        stylised draws where it has none or it has nothing to say (``joining``,
        ``pricing.init_beliefs``)."""
        state = self.start_state
        covered = steady.start_workers(self, state, self.rng["joins"]) if state is not None else set()
        n = self.pool.n
        joining.join(self, 0.0, initial=True, covered=covered)
        pricing.init_beliefs(self)
        if state is not None:
            steady.start_beliefs(self, state)
        pricing.anchor_values(self)
        self.state.cost0 = routing.channel_costs(self)  # what each channel costs at the start
        self.state.book_cost0 = routing.book_costs(self)  # and each crowd book (steering's reference)
        if state is not None:
            steady.start_costs(self, state)  # or, where the stored state knows, in the baseline
        hours.warm_sessions(self, np.arange(n, self.pool.n))
        self.open_week(0.0)

    # --- step phases -----------------------------------------------------------------------

    def post_batches(self, now: float) -> None:
        arrivals.post_batches(self, now)

    def expire_batches(self, now: float) -> None:
        expiry.expire_batches(self, now)

    def find_online(self, now: float) -> None:
        self.online = schedule.online(self, now)

    def policy_time(self, now: float) -> None:
        for policy in self.policies.step_limits:
            policy.online_time(self, self.online)

    def work(self, now: float) -> None:
        if self.online.crowd.size or self.online.vendor.size:
            work(self, now, self.online)

    # --- week phases -----------------------------------------------------------------------

    def open_tick(self, now: float) -> None:
        self.crew.flush(self.pool)  # the week's flows, from its steps
        self.week = wk.Week(self.week_start_h, now, self.active)

    def weekly_money(self, now: float) -> None:
        self.policies.weekly_money(self, self.week.a, self.week.start_h)

    def measure_week(self, now: float) -> None:
        wk.measure(self, self.week)
        week, state, n = self.accounts.week, self.state, len(CHANNELS)
        week["automation_share"][:] = np.repeat(state.auto_share, n)
        if state.people_cost.size:
            week["people_cost_usd"][:] = np.repeat(state.people_cost, n)
            machine = np.where(self.types.automation_ceiling > 0, state.channel_cost[:, routing.C_MODEL], np.nan)
            week["machine_cost_usd"][:] = np.repeat(machine, n)

    def update_workers(self, now: float) -> None:
        a = self.week.a
        skills.update_reputation_and_skills(self, a)
        self.week.burnout = wellbeing.update_stress(self, a, now) & self.week.present
        self.policies.update_workers(self, a, now)

    def update_market(self, now: float) -> None:
        if self.cfg.automation.learning:
            automation.learn_from_week(self)
        self.policies.set_levers(self, now)
        if self.cfg.pricing.enabled:
            pricing.learn(self)
        pricing.reset_week(self)
        routing.choose_channels(self)
        routing.hire_toward_target(self)
        self.state.week_expired[:] = 0
        self.state.week_posted_human[:] = 0
        word_of_mouth.hear(self, self.week.a, self.week.earn_usd, self.week.hours)

    def draw_exits(self, now: float) -> None:
        week = self.week
        reasons = turnover.draw_quits(self, week.a, week.present, week.earn_usd, week.hours)
        reasons[week.burnout] = EXIT_BURNOUT
        reasons = self.policies.exits(self, week.a, reasons, now)
        week.reasons = joining.lay_off(self, week.a, week.present, reasons)
        hours.adjust_sessions(self, week.a)

    def record_week(self, now: float) -> None:
        st = self.store
        self.accounts.post_market(self.books.market_cell, {"batches_filled": st.filled,
                                                           "fill_hours": st.fill_hours})
        st.filled[:] = 0
        st.fill_hours[:] = 0.0
        wk.record(self, self.week)
        self.group_rows.append((self.week.number, self.group_week.copy()))  # what requester groups bought
        self.group_week[:] = 0.0

    def roll_over(self, now: float) -> None:
        wk.roll_over(self, self.week)

    def join(self, now: float) -> None:
        joining.join(self, now)

    def open_week(self, now: float) -> None:
        self.rosters = schedule.Rosters.for_week(self, now)
        self.policies.start_week(self, now)
        self.crew = Crew.gather(self, self.rosters.crowd, self.rosters.vendor)

    # --- outputs -----------------------------------------------------------------------------

    def backlog(self) -> np.ndarray:
        """Open tasks per (task type, channel), in the accounts' market order."""
        return np.bincount(self.books.market_cell, weights=self.store.open_tasks(),
                           minlength=self.accounts.n_market).astype(np.int64)

    def records(self) -> Records:
        return records(self, self.regions.codes, self.types.names)
