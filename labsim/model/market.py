"""The market: requesters' batches meet workers' sessions, hour by hour.

SimPy drives three clocks. Every step (``step_h`` hours, one by default) one
event advances all the sessions online in that step as one vectorised cohort
(DESIGN.md's "start all sessions of one hour as one vectorised cohort"): new
batches arrive, expired ones leave, each online worker searches (unpaid),
takes a chunk of tasks from the best-paying book it qualifies for, is
reviewed and paid. A chunk is the worker's work within the step: its task
count, rejections and pay are drawn with numpy for all workers in one call. Every week a tick closes the books:
records, recent wages, quits and the next week's joiners.

``labsim.model.queueing.QueueModel`` reduces the same kernel to an M/M/c
queue, run event by event, to check it against Erlang C.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import simpy

from labsim.config import LabsimConfig
from labsim.model.automation import automation_share, evaluation_demand, split_tasks
from labsim.model.demand import UUSD, BatchStore, Book, office_hours_profile
from labsim.model.matching import allocate, piecewise_pay, renewal_counts, trim_to_open
from labsim.model.metrics import WeeklyRecorder
from labsim.model.policy import (floor_topup, fund_shortfall, hourly_floor, in_force, ramp,
                                 search_compensation, exposure_allowance)
from labsim.model.rng import Streams
from labsim.model.wellbeing import burned_out, stress_reject_penalty, stress_update
from labsim.model.workers import (CROWD, EXIT_BURNOUT, EXIT_LOW_PAY, EXIT_OTHER, VENDOR,
                                  WorkerPool, approval_rate, exit_reasons, learn, lognormal_cdf,
                                  night_share, qualified, quit_hazard, reject_probability,
                                  truncated_lognormal,
                                  session_fraction, session_phase, shift_fraction,
                                  tasks_per_hour)

HOURS_PER_WEEK = 168
HOURS_PER_YEAR = 8766.0  # 365.25 days
CHANNELS = ("crowd", "vendor")

Progress = Callable[[float], None]


@dataclass
class Records:
    """What a run returns: column arrays, ledgers and labels. No files, no frames."""

    cells: dict[str, np.ndarray]
    market: dict[str, np.ndarray]
    workers: dict[str, np.ndarray]
    ledger: dict[str, int]
    region_codes: list[str]
    type_names: list[str]
    horizon_h: float
    window_start_h: float
    extra: dict[str, float] = field(default_factory=dict)


class Kernel:
    """State and weekly bookkeeping shared by the market and the queue model."""

    turnover = True

    def __init__(self, cfg: LabsimConfig, streams: Streams, progress: Progress | None = None) -> None:
        self.cfg = cfg
        self.rng = streams
        self.progress = progress
        self.env = simpy.Environment()
        self.region_codes = list(cfg.regions)
        self.type_names = list(cfg.task_types)
        regions = [cfg.regions[c] for c in self.region_codes]
        types = [cfg.task_types[t] for t in self.type_names]
        self.n_regions, self.n_types = len(regions), len(types)
        self.horizon_h = float(round(cfg.horizon_weeks * HOURS_PER_WEEK))
        # The KPI window opens at the first week boundary at or after warm-up.
        self.window_start_h = float(np.ceil(cfg.warmup_weeks - 1e-9) * HOURS_PER_WEEK)
        self.reg_offset = np.array([r.utc_offset_h for r in regions])
        self.reg_min_wage = np.array([r.min_wage_usd_h for r in regions])
        self.reg_entry_h = np.array([r.entry_week * HOURS_PER_WEEK for r in regions])
        self.dur_mean_min = np.array([t.duration_median_min * np.exp(t.duration_sigma ** 2 / 2)
                                      for t in types])
        self.rej_novice = np.array([t.reject_rate_novice for t in types])
        self.rej_expert = np.array([t.reject_rate_expert for t in types])
        self.skill_req = np.array([t.skill_required for t in types])
        self.books: list[Book] = self.make_books()
        self.store = BatchStore(np.array([b.fifo for b in self.books], bool))
        # The recorder's (task type, channel) cell of each book.
        self.market_of_book = np.array([b.task_type * len(CHANNELS) + b.channel for b in self.books],
                                       np.int64)
        self.pool = WorkerPool(self.n_types, capacity=self._capacity_hint(),
                               matrices=self._pool_matrices())
        self.rec = WeeklyRecorder(self.n_regions, self.n_types, len(CHANNELS))
        self.ledger = {k: 0 for k in ("requester_spend_uusd", "worker_pay_uusd", "platform_fees_uusd",
                                      "vendor_margin_uusd", "compute_cost_uusd", "tasks_posted",
                                      "tasks_done_human", "tasks_automated", "tasks_expired",
                                      "tasks_rejected", "topup_uusd", "levy_uusd", "benefits_uusd",
                                      "support_cost_uusd", "training_cost_uusd", "public_spend_uusd")}
        self.fund_uusd = 0  # the social-protection fund's balance
        self.active = np.zeros(0, np.int64)
        self._week_hours: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (worker, type, hours)
        self.week_start_h = 0.0
        self.extra: dict[str, float] = {}

    def make_books(self) -> list[Book]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _capacity_hint(self) -> int:
        return 1024

    def _pool_matrices(self) -> dict[str, tuple[int, type]]:
        return {}

    # -- running -------------------------------------------------------------------

    def run(self) -> Records:
        self.start()
        self.env.process(self._weekly())
        self.env.run(until=self.horizon_h)
        self.close_week(final=True)
        return self.records()

    def start(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _weekly(self):
        while True:
            yield self.env.timeout(HOURS_PER_WEEK)
            self.close_week(final=False)

    # -- weekly tick -----------------------------------------------------------------

    def close_week(self, final: bool) -> None:
        """Record the week, update recent wages, draw quits and next week's joiners."""
        pool, env = self.pool, self.env
        week_end = min(env.now, self.horizon_h) if final else env.now
        if week_end <= self.week_start_h:
            return
        week = int(self.week_start_h // HOURS_PER_WEEK)
        self.flush_week()
        a = self.active
        if self._week_hours:
            ids, types, h = (np.concatenate(x) for x in zip(*self._week_hours))
            np.add.at(pool.wk_hours_type, (ids, types), h)
            self._week_hours.clear()
        self.weekly_money(a, week_end)
        hours = pool.wk_paid_h[a] + pool.wk_unpaid_h[a]
        earn_usd = pool.wk_earn_uusd[a] / UUSD
        worked = pool.wk_hours_type[a].sum(axis=1) > 0
        pool.main_type[a[worked]] = np.argmax(pool.wk_hours_type[a[worked]], axis=1)
        region, chan = pool.region[a], pool.channel[a]
        cells = self.rec.cell(region, pool.main_type[a], chan)
        n_cells = self.rec.n_cells

        def count(mask: np.ndarray) -> np.ndarray:
            return np.bincount(cells[mask], minlength=n_cells).astype(np.int64)

        present = pool.joined_h[a] < week_end
        with_hours = hours > 0
        eff = np.divide(earn_usd, hours, out=np.zeros_like(hours), where=with_hours)
        counts = {
            "active_workers": count(present),
            "joins": count((pool.joined_h[a] >= self.week_start_h) & present),
            "workers_with_hours": count(with_hours),
            "workers_below_min_wage": count(with_hours & (eff < self.reg_min_wage[region])),
        }
        self.record_market_state()
        reasons = np.zeros(a.size, np.int8)
        if self.turnover and not final:
            burnout = self.weekly_update(a, earn_usd, hours) & present
            reasons = self._quits(a, present, earn_usd, hours)
            reasons[burnout] = EXIT_BURNOUT
            reasons = self.transfers(a, reasons, week_end)
        counts["night_hours"] = np.bincount(cells, weights=pool.wk_night_h[a], minlength=n_cells)
        counts["high_stress_workers"] = count(
            present & (pool.stress[a] >= self.cfg.wellbeing.high_stress_threshold))
        counts["exits_low_pay"] = count(reasons == EXIT_LOW_PAY)
        counts["exits_burnout"] = count(reasons == EXIT_BURNOUT)
        counts["exits_other"] = count(reasons == EXIT_OTHER)
        counts["on_leave"] = count(present & (pool.leave_until_h[a] > week_end))
        self.flush_fills()
        self.rec.close_week(week, counts, self.backlog())
        if self.week_start_h >= self.window_start_h:
            for wk, win in (("wk_paid_h", "win_paid_h"), ("wk_unpaid_h", "win_unpaid_h"),
                            ("wk_earn_uusd", "win_earn_uusd"), ("wk_tasks", "win_tasks"),
                            ("wk_rejected", "win_rejected"), ("wk_night_h", "win_night_h")):
                getattr(pool, win)[a] += getattr(pool, wk)[a]
        for wk in ("wk_paid_h", "wk_unpaid_h", "wk_earn_uusd", "wk_tasks", "wk_rejected",
                   "wk_toxic_h", "wk_night_h", "wk_exposed_h", "wk_train_h"):
            getattr(pool, wk)[a] = 0
        pool.wk_hours_type[a] = 0.0
        left = reasons != 0
        if left.any():
            pool.left_h[a[left]] = week_end
            pool.exit_reason[a[left]] = reasons[left]
            self.active = a[~left]
        self.week_start_h = week_end
        if not final:
            self.join(week_end)
        if self.progress is not None:
            self.progress(week_end / self.horizon_h)

    def flush_week(self) -> None:
        """Move flows kept outside the recorder into it before the week closes."""

    def weekly_money(self, a: np.ndarray, week_end: float) -> None:
        """Policies' weekly payments for workers ``a`` (top-ups, levies, services)."""

    def transfers(self, a: np.ndarray, reasons: np.ndarray, week_end: float) -> np.ndarray:
        """Benefits after the week's exits; returns the exits that stand."""
        return reasons

    def flush_fills(self) -> None:
        """Record the week's filled batches and their time to fill, then reset the counters."""
        st = self.store
        self.rec.add_market_books("batches_filled", self.market_of_book, st.filled)
        self.rec.add_market_books("fill_hours", self.market_of_book, st.fill_hours)
        st.filled[:] = 0
        st.fill_hours[:] = 0.0

    def weekly_update(self, a: np.ndarray, earn_usd: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Slow state of workers ``a`` after their week; returns who burned out."""
        return np.zeros(a.size, bool)

    def record_market_state(self) -> None:
        """Put the week's market-level state (not flows) into the record."""

    def backlog(self) -> np.ndarray:
        """Open tasks per (task type, channel), in the recorder's market order."""
        return np.bincount(self.market_of_book, weights=self.store.open_tasks(),
                           minlength=self.rec.n_market).astype(np.int64)

    def _quits(self, a: np.ndarray, present: np.ndarray, earn_usd: np.ndarray,
               hours: np.ndarray) -> np.ndarray:
        """Update each worker's recent effective wage and draw this week's exits."""
        pool, w = self.pool, self.cfg.workers
        alpha = 1.0 / w.wage_memory_weeks
        pool.ew_earn_usd[a] = (1 - alpha) * pool.ew_earn_usd[a] + earn_usd
        pool.ew_hours[a] = (1 - alpha) * pool.ew_hours[a] + hours
        res = pool.reservation_wage[a]
        # Without any hours yet, a worker has no evidence of low pay.
        recent = np.divide(pool.ew_earn_usd[a], pool.ew_hours[a], out=res.copy(),
                           where=pool.ew_hours[a] > 0)
        vendor = pool.channel[a] == VENDOR
        base = np.where(vendor, w.vendor_quit_hazard_per_week, w.base_quit_hazard_per_week)
        total, low_pay = quit_hazard(recent, res, base, w.low_pay_quit_hazard_per_week)
        u = self.rng["quits"].random(a.size)
        reasons = exit_reasons(u, total, low_pay)
        reasons[~present] = 0
        return reasons

    def join(self, week_end: float) -> None:  # pragma: no cover - overridden
        pass

    # -- outputs ---------------------------------------------------------------------

    def records(self) -> Records:
        cells, market = self.rec.tables()
        p, n = self.pool, self.pool.n
        workers = {
            "worker_id": np.arange(n, dtype=np.int64),
            "region": p.region[:n].copy(), "channel": p.channel[:n].copy(),
            "main_task_type": p.main_type[:n].copy(),
            "joined_h": p.joined_h[:n].copy(), "left_h": p.left_h[:n].copy(),
            "exit_reason": p.exit_reason[:n].copy(),
            "reservation_wage_usd_h": p.reservation_wage[:n].copy(),
            "paid_hours": p.win_paid_h[:n].copy(), "unpaid_hours": p.win_unpaid_h[:n].copy(),
            "earnings_usd": p.win_earn_uusd[:n] / UUSD,
            "tasks_done": p.win_tasks[:n].copy(), "tasks_rejected": p.win_rejected[:n].copy(),
            "night_hours": p.win_night_h[:n].copy(),
            "stress": p.stress[:n].copy(), "peak_stress": p.peak_stress[:n].copy(),
            "hours_toxic": p.toxic_hours[:n].copy(),
            "reputation": approval_rate(p.accepted_total[:n], p.done_total[:n]),
            "approved_tasks": p.accepted_total[:n].copy(),
            "certified": p.certified[:n].copy(), "training_hours": p.training_h[:n].copy(),
            **{f"skill_{name}": p.skill[:n, t].copy() for t, name in enumerate(self.type_names)},
        }
        ledger = dict(self.ledger)
        ledger["tasks_open"] = int(self.backlog().sum())
        return Records(cells, market, workers, ledger, self.region_codes, self.type_names,
                       self.horizon_h, self.window_start_h, self.extra)


class Market(Kernel):
    """The micro-task market with both channels, run as hourly cohorts."""

    def make_books(self) -> list[Book]:
        cfg = self.cfg
        types = [cfg.task_types[t] for t in self.type_names]
        geo = np.isin(self.region_codes, cfg.crowd.geofence_regions)
        everyone = np.ones(self.n_regions, bool)
        books: list[Book] = []
        self.book_group_share: list[float] = []  # share of its channel's batches of the type
        self.book_price: list[float] = []  # mean piece rate multiplier
        for t, tt in enumerate(types):
            crowd = 1 - tt.vendor_share
            open_share = 1 - tt.geofenced_share - tt.qualified_share
            for chan, group, share, allowed, premium, qual in (
                (CROWD, open_share, crowd * open_share, everyone, 1.0, False),
                (CROWD, tt.geofenced_share, crowd * tt.geofenced_share, geo, tt.geofence_rate_premium, False),
                (CROWD, tt.qualified_share, crowd * tt.qualified_share, everyone, tt.qualified_rate_premium, True),
                (VENDOR, 1.0, tt.vendor_share, everyone, 1.0, False),
            ):
                if share > 0 and allowed.any():
                    books.append(Book(t, chan, allowed, fifo=chan == VENDOR, needs_qualification=qual))
                    self.book_group_share.append(group)
                    self.book_price.append(premium)
            # The fair platform's book: open to all; it gets batches once the policy starts.
            if cfg.policy.fair_platform.enabled and crowd > 0:
                books.append(Book(t, CROWD, everyone, fifo=False, fair=True))
                self.book_group_share.append(0.0)
                self.book_price.append(1.0)
        return books

    def __init__(self, cfg: LabsimConfig, streams: Streams, progress: Progress | None = None) -> None:
        super().__init__(cfg, streams, progress)
        types = [cfg.task_types[t] for t in self.type_names]
        self.profile = office_hours_profile(cfg.demand.requester_utc_offset_h,
                                            cfg.demand.office_hours_boost)
        # Batch arrivals per hour of each book before office hours and growth:
        # the type's rate x its channel's share (routing moves it) x the book's
        # share of its channel.
        self.type_rate_h = np.array([t.batches_per_week / HOURS_PER_WEEK * cfg.scale for t in types])
        self.vendor_share = np.array([t.vendor_share for t in types])
        self.routable = np.array([0 < t.vendor_share < 1 for t in types])
        self.reg_vendor_start = np.array([cfg.regions[c].vendor_shift_start_local_h
                                          for c in self.region_codes], float)
        self._split_at = -1.0  # week at which the crowd/vendor split of self.active was made
        self.step_h = float(cfg.step_h)
        self._vendor_slots: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._sub_hours = int(cfg.step_h)
        tts = [types[b.task_type] for b in self.books]
        # Per book: log size median, size sigma, mean rate (µUSD), rate sigma, 1 if fees apply.
        self.book_params = np.array([
            [np.log(t.batch_size_median) for t in tts], [t.batch_size_sigma for t in tts],
            [t.base_piece_rate_usd * UUSD * p for t, p in zip(tts, self.book_price)],
            [t.piece_rate_sigma for t in tts], [float(b.channel == CROWD) for b in self.books]])
        self.book_deadline = np.array([t.deadline_h for t in tts])
        self.book_cv2 = np.array([np.expm1(t.duration_sigma ** 2) for t in tts])  # CV^2 of a log-normal
        self.book_type = np.array([b.task_type for b in self.books], np.int64)
        self.book_allowed = np.array([b.allowed_regions for b in self.books])  # (B, R)
        self.book_is_crowd = np.array([b.channel == CROWD for b in self.books])
        self.crowd_cols = np.flatnonzero(self.book_is_crowd)
        self.book_needs_qual = np.array([b.needs_qualification for b in self.books])
        self.type_toxicity = np.array([t.toxicity for t in types])
        self.training_type = self.type_names.index(cfg.policy.training_certification.target_task_type)
        # Automation: per type learning curves in human labels per unit of scale.
        auto_on = cfg.automation.enabled
        self.auto_ceiling = np.array([t.automation_ceiling if (auto_on and t.automatable) else 0.0
                                      for t in types])
        self.auto_half = np.array([t.automation_half_labels for t in types])
        self.auto_steep = np.array([t.automation_steepness for t in types])
        self.auto_qa = np.array([t.automation_qa_share for t in types])
        self.compute_uusd = np.array([round(t.compute_cost_usd * UUSD) for t in types], np.int64)
        self.labels = np.array([t.labels_before_start for t in types], float)
        self._week_labels = np.zeros(self.n_types)
        self.is_eval = np.isin(self.type_names, cfg.automation.eval_task_types)
        self.book_is_eval = self.is_eval[self.book_type]
        self._update_automation()
        # Pricing: a multiplier of each crowd book's piece rates, moved weekly; floors per book.
        self.book_rate_mult = np.ones(len(self.books))
        self.type_rate_mult = np.ones(self.n_types)
        self.book_floor_uusd = np.array([round(types[b.task_type].piece_rate_floor_usd * UUSD)
                                         for b in self.books], float)
        self._week_expired = np.zeros(len(self.books), np.int64)
        self._week_posted_human = np.zeros(len(self.books), np.int64)
        # What potential joiners expect to earn per hour in each region (word of mouth).
        self.expected_wage = np.full(self.n_regions, np.nan)
        # The task type a vendor team member may take from each book (-2: none, a crowd book).
        self.vendor_team_of_book = np.where(self.book_is_crowd, -2, self.book_type)
        # Hours of work a type's batches bring per week (at scale 1, before growth).
        self.type_work_h = np.array([tt.batches_per_week * tt.batch_size_median
                                     * np.exp(tt.batch_size_sigma ** 2 / 2) * self.dur_mean_min[i] / 60
                                     for i, tt in enumerate(types)])
        self.vendor_work_h0 = float(self.vendor_share @ self.type_work_h)
        self.book_group_share_arr = np.array(self.book_group_share)
        self.vendor_quote_uusd = self._vendor_quote()
        self._init_policies()
        self._route()

    def _init_policies(self) -> None:
        """Per-book and per-type arrays the policies need; their shares start at 0."""
        cfg, pol = self.cfg, self.cfg.policy
        crowd = cfg.crowd
        self.book_is_fair = np.array([b.fair for b in self.books])
        self.book_is_open = np.array([b.channel == CROWD and not b.fair and not b.needs_qualification
                                      and bool(b.allowed_regions.all()) for b in self.books])
        # Commission per book (rows: small batches, large batches); vendors bill by the hour.
        fair = pol.fair_platform.commission
        self.book_comm = np.zeros((2, len(self.books)))
        self.book_comm[:, self.book_is_crowd] = [[crowd.commission], [crowd.commission_large_batch]]
        self.book_comm[:, self.book_is_fair] = fair
        self.has_fair = bool(self.book_is_fair.any())
        self.book_pays_rej = self.book_is_fair & pol.fair_platform.pays_rejections
        self.fair_share = 0.0  # of the open crowd batches, on the fair platform
        self.dd_share = 0.0  # of crowd demand bound to certified channels
        self.type_support = self.type_toxicity >= pol.psych_support.min_toxicity
        self.type_capped = self.type_toxicity >= pol.exposure_cap.min_toxicity
        self.book_capped = self.type_capped[self.book_type]
        # Hours on capped types are only tracked when the cap can come into force.
        self.track_exposure = pol.exposure_cap.enabled and bool(self.type_capped.any())
        self.cap_on = False
        self._policy_week(0.0)

    def _policy_week(self, now: float) -> None:
        """Shares and switches of the policies for the week starting at ``now``."""
        pol = self.cfg.policy
        fp = pol.fair_platform
        fair = ramp(now, fp.start_week, fp.ramp_weeks, fp.market_share) if fp.enabled else 0.0
        dd = pol.due_diligence.coverage if in_force(pol.due_diligence, now) else 0.0
        self.cap_on = in_force(pol.exposure_cap, now) and bool(self.type_capped.any())
        if (fair, dd) != (self.fair_share, self.dd_share):
            self.fair_share, self.dd_share = fair, dd
            if hasattr(self, "book_rate_h_arr"):
                self._route()

    def _route(self) -> None:
        """Book arrival rates, vendor teams and vendor headcount from the channel shares.

        Policies move shares: the fair platform takes ``fair_share`` of the open
        crowd batches; due diligence binds ``dd_share`` of crowd demand to
        certified channels (the fair platform if there is one, else vendors).
        """
        t = self.book_type
        dd, fair = self.dd_share, self.fair_share
        has_fair = bool(self.book_is_fair.any())
        vendor_share = self.vendor_share if has_fair else self.vendor_share + (1 - self.vendor_share) * dd
        group = np.where(self.book_is_open, self.book_group_share_arr * (1 - fair), self.book_group_share_arr)
        if has_fair:
            open_total = np.bincount(t[self.book_is_open], weights=self.book_group_share_arr[self.book_is_open],
                                     minlength=self.n_types)
            group = np.where(self.book_is_fair, dd + (1 - dd) * open_total[t] * fair, group * (1 - dd))
        channel_share = np.where(self.book_is_crowd, 1.0 - vendor_share[t], vendor_share[t])
        self.book_rate_h_arr = self.type_rate_h[t] * group * channel_share
        vendor_h = vendor_share * self.type_work_h
        self.team_share = (vendor_h / vendor_h.sum() if vendor_h.sum() > 0
                           else np.full(self.n_types, 1.0 / self.n_types))
        # Vendors staff up or down (by not rehiring) with the work routed to them.
        self.vendor_headcount_factor = (float(vendor_h.sum()) / self.vendor_work_h0
                                        if self.vendor_work_h0 > 0 else 1.0)

    def _vendor_quote(self) -> np.ndarray:
        """Vendors' price per accepted task of each type (µUSD), at their regions' average skill."""
        cfg = self.cfg
        regions = [cfg.regions[c] for c in self.region_codes]
        staff = np.array([r.vendor_workers for r in regions], float)
        if staff.sum() == 0:
            return np.full(self.n_types, np.nan)
        bill = np.array([r.vendor_wage_usd_h for r in regions]) * (1 + cfg.vendor.margin) * UUSD
        skill = np.array([r.skill_mean for r in regions])[:, None]
        tph = tasks_per_hour(self.dur_mean_min[None, :], skill, cfg.workers.novice_slowdown)
        accepted = tph * (1.0 - reject_probability(skill, self.rej_novice, self.rej_expert))
        return (staff @ (bill[:, None] / accepted)) / staff.sum()

    def _reroute(self) -> None:
        """Requesters move work towards the channel with the lower cost per accepted task.

        Per task type: the crowd's cost is what the week's accepted crowd tasks
        cost (spend / accepted tasks); the vendor's is its quote, the hourly
        bill (wage + margin) over the accepted tasks an hour its staff of
        average regional skill deliver, averaged over vendor regions by
        headcount. The vendor share moves by ``routing.step_per_week``
        towards the cheaper channel, within [routing.min_vendor_share,
        routing.max_vendor_share].
        """
        rc = self.cfg.routing
        n_r, n_t, n_c = self.rec.shape
        spend = self.rec.week["requester_spend_uusd"].reshape(n_r, n_t, n_c).sum(axis=0)[:, CROWD]
        done = self.rec.week["tasks_done_human"].reshape(n_r, n_t, n_c).sum(axis=0)[:, CROWD]
        seen = (done > 0) & self.routable & np.isfinite(self.vendor_quote_uusd)
        if not seen.any():
            return
        crowd_cost = np.divide(spend, done, out=np.full(n_t, np.nan), where=done > 0)
        toward_vendor = np.sign(crowd_cost - self.vendor_quote_uusd)
        moved = np.clip(self.vendor_share + rc.step_per_week * toward_vendor, rc.min_vendor_share,
                        rc.max_vendor_share)
        self.vendor_share = np.where(seen, moved, self.vendor_share)
        self._route()

    def _pool_matrices(self) -> dict[str, tuple[int, type]]:
        # Per worker and book, cached while skills are unchanged: tasks per
        # hour and rejection probability; on crowd books, the value factor:
        # accepted tasks per hour where the worker may take from the book,
        # -inf where it may not (times the book's current piece rate, the
        # expected pay per hour); for vendor staff, their team's book.
        n_books = len(self.books)
        n_crowd = int(sum(b.channel == CROWD for b in self.books))
        return {"book_tph": (n_books, np.float64), "book_rej": (n_books, np.float64),
                "crowd_tph": (n_crowd, np.float64), "crowd_value": (n_crowd, np.float64),
                "vendor_book": (1, np.int64)}

    def _refresh_book_cache(self, idx: np.ndarray) -> None:
        """Recompute the per-book caches of workers ``idx`` (after skill, stress or reputation change)."""
        pool, bt = self.pool, self.book_type
        skill = pool.skill[idx][:, bt]
        tph = tasks_per_hour(self.dur_mean_min[bt], skill, self.cfg.workers.novice_slowdown)
        wb, crowd_cfg = self.cfg.wellbeing, self.cfg.crowd
        rej = np.minimum(1.0, reject_probability(skill, self.rej_novice[bt], self.rej_expert[bt])
                         + stress_reject_penalty(pool.stress[idx], wb.burnout_threshold,
                                                 wb.reject_penalty_at_burnout)[:, None])
        is_vendor = pool.channel[idx] == VENDOR
        has_qual = qualified(pool.accepted_total[idx], pool.done_total[idx],
                             crowd_cfg.qualification_min_approved, crowd_cfg.qualification_min_approval)
        crowd_ok = (~is_vendor[:, None] & self.book_is_crowd[None, :]
                    & self.book_allowed[:, pool.region[idx]].T & (skill >= self.skill_req[bt])
                    & (~self.book_needs_qual[None, :] | has_qual[:, None]))
        vendor_ok = is_vendor[:, None] & (pool.team[idx][:, None] == self.vendor_team_of_book[None, :])
        pool.book_tph[idx] = tph
        pool.book_rej[idx] = rej
        cols = self.crowd_cols
        pool.crowd_tph[idx] = tph[:, cols]
        paid_share = np.where(self.book_pays_rej[cols], 1.0, 1.0 - rej[:, cols])
        pool.crowd_value[idx] = np.where(crowd_ok[:, cols], tph[:, cols] * paid_share, -np.inf)
        pool.vendor_book[idx, 0] = np.where(vendor_ok.any(axis=1), vendor_ok.argmax(axis=1), -1)

    def _capacity_hint(self) -> int:
        c = self.cfg
        weeks = c.horizon_weeks
        stock = sum(r.initial_crowd_workers + r.vendor_workers for r in c.regions.values())
        flow = sum(r.potential_arrivals_per_week for r in c.regions.values()) * weeks
        return int(1.3 * c.scale * (stock * 1.5 + flow)) + 64

    def start(self) -> None:
        self.join(0.0, initial=True)
        # Policies in force from week 0 apply to week 0 like to any later week:
        # vendor wages at the floor, and the first enrolments in training.
        a, pol = self.active, self.cfg.policy
        mw = pol.min_wage_floor
        if "vendor" in mw.channels and in_force(mw, 0.0):
            v = a[self.pool.channel[a] == VENDOR]
            floor = hourly_floor(self.reg_min_wage, mw.usd_h, mw.local_multiple)
            self.pool.wage_uusd_h[v] = np.maximum(self.pool.wage_uusd_h[v],
                                                  np.rint(floor[self.pool.region[v]] * UUSD).astype(np.int64))
        self._enrol(a, 0.0)
        self.env.process(self._steps())

    def _enrol(self, a: np.ndarray, now: float) -> None:
        """Crowd workers not yet certified enrol in training, from its start week."""
        tr = self.cfg.policy.training_certification
        pool = self.pool
        if tr.enabled and now >= tr.start_week * HOURS_PER_WEEK:
            free = (pool.channel[a] == CROWD) & ~pool.certified[a] & ~pool.enrolled[a]
            enrol = a[free & (self.rng["training"].random(a.size) < tr.enrol_prob_per_week)]
            pool.enrolled[enrol] = True
            pool.training_left_h[enrol] = tr.hours

    # -- population ------------------------------------------------------------------

    def join(self, week_end: float, initial: bool = False) -> None:
        """Add next week's crowd joiners and the vendor hires that refill headcount."""
        cfg, rng = self.cfg, self.rng["joins"]
        regions = [cfg.regions[c] for c in self.region_codes]
        horizon = HOURS_PER_WEEK
        for r, reg in enumerate(regions):
            if initial:
                k = int(round(reg.initial_crowd_workers * cfg.scale)) if reg.entry_week <= 0 else 0
                # Workers already in the market at t=0 have some tenure behind them.
                joined = -rng.exponential(15 * 730.5, k)
            else:
                if self.reg_entry_h[r] >= week_end + horizon:
                    continue
                # Potential joiners come if the market beats their outside option:
                # the share whose reservation wage is below the expected wage.
                expected = self._expected_wage(r)
                share = lognormal_cdf(expected, reg.reservation_wage_median_usd_h, reg.reservation_wage_sigma)
                k = int(rng.poisson(reg.potential_arrivals_per_week * cfg.scale * share))
                joined = week_end + rng.uniform(0, horizon, k)
                res = truncated_lognormal(rng, reg.reservation_wage_median_usd_h,
                                          reg.reservation_wage_sigma, share, k)
                keep = joined >= self.reg_entry_h[r]
                joined, res = joined[keep], res[keep]
                k = joined.size
            if k:
                idx = self._add_workers(r, CROWD, joined, rng, None if initial else res)
                if initial:
                    self._warm_stress(idx, -joined)
                    # Their tenure has earned them a record: about a thousand
                    # reviewed tasks a week at the approval their skill gives.
                    reviewed = np.rint(-joined / HOURS_PER_WEEK * 1000).astype(np.int64)
                    approval = 1.0 - self.pool.book_rej[idx].mean(axis=1)
                    self.pool.done_total[idx] = reviewed
                    self.pool.accepted_total[idx] = np.rint(reviewed * approval).astype(np.int64)
                    self._refresh_book_cache(idx)
            # Vendors hire to keep their headcount, once the region has entered.
            if self.reg_entry_h[r] <= week_end + (0 if initial else horizon):
                target = int(round(reg.vendor_workers * cfg.scale * self.vendor_headcount_factor))
                have = int(np.count_nonzero((self.pool.region[self.active] == r)
                                            & (self.pool.channel[self.active] == VENDOR)))
                hire = target - have
                if hire > 0:
                    start = max(week_end, self.reg_entry_h[r])
                    joined = (-rng.exponential(15 * 730.5, hire) if initial
                              else np.full(hire, start))
                    idx = self._add_workers(r, VENDOR, joined, rng)
                    if initial:
                        self._warm_stress(idx, -joined)

    def weekly_update(self, a: np.ndarray, earn_usd: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Reputation, learning, stress, training and word of mouth after the week.

        Returns the workers whose stress crossed the burnout threshold.
        """
        pool, cfg = self.pool, self.cfg
        wb, tr = cfg.wellbeing, cfg.policy.training_certification
        # Reputation: approved and reviewed tasks so far.
        pool.accepted_total[a] += pool.wk_tasks[a]
        pool.done_total[a] += pool.wk_tasks[a] + pool.wk_rejected[a]
        # Learning by doing, per task type.
        pool.skill[a] = learn(pool.skill[a], pool.wk_hours_type[a], cfg.workers.learning_hours,
                              pool.skill_cap[a])
        # Stress: the week's recovery and exposure.
        acc_f, rec_f = wb.support_accumulation_factor, wb.support_recovery_factor
        ps = cfg.policy.psych_support
        if in_force(ps, self.week_start_h):
            acc_f, rec_f = acc_f * ps.accumulation_factor, rec_f * ps.recovery_factor
        stress = stress_update(pool.stress[a], pool.wk_toxic_h[a], pool.sensitivity[a],
                               wb.stress_per_toxic_hour, wb.recovery_per_week, acc_f, rec_f)
        pool.stress[a] = stress
        pool.peak_stress[a] = np.maximum(pool.peak_stress[a], stress)
        pool.toxic_hours[a] += pool.wk_toxic_h[a]
        # Training: those who finished are certified; others may enrol.
        done = pool.enrolled[a] & (pool.training_left_h[a] <= 1e-9)
        if done.any():
            grad = a[done]
            pool.enrolled[grad] = False
            pool.certified[grad] = True
            pool.skill[grad, self.training_type] = np.minimum(
                1.0, pool.skill[grad, self.training_type] + tr.skill_gain)
            pool.skill_cap[grad, self.training_type] = np.maximum(
                pool.skill_cap[grad, self.training_type], pool.skill[grad, self.training_type])
        self._enrol(a, self.env.now)
        self._refresh_book_cache(a)
        # Automation learns from this week's human labels; prices follow the fill.
        self.labels += self._week_labels / cfg.scale
        self._week_labels[:] = 0.0
        self._update_automation()
        self._policy_week(self.env.now)
        if cfg.pricing.enabled:
            self._reprice()
        if cfg.routing.enabled:
            self._reroute()
        self._week_expired[:] = 0
        self._week_posted_human[:] = 0
        # Word of mouth: each region's expected wage follows its crowd workers' effective wage.
        crowd = (pool.channel[a] == CROWD) & (hours > 0)
        reg = pool.region[a][crowd]
        earned = np.bincount(reg, weights=earn_usd[crowd], minlength=self.n_regions)
        worked = np.bincount(reg, weights=hours[crowd], minlength=self.n_regions)
        seen = worked > 0
        observed = np.divide(earned, worked, out=np.zeros(self.n_regions), where=seen)
        alpha = 1.0 / cfg.workers.word_of_mouth_weeks
        old = self.expected_wage
        first = seen & ~np.isfinite(old)
        self.expected_wage = np.where(first, observed,
                                      np.where(seen, (1 - alpha) * old + alpha * observed, old))
        on_leave = pool.leave_until_h[a] > self.env.now
        return burned_out(stress, wb.burnout_threshold) & ~on_leave

    # -- policies' money ---------------------------------------------------------------

    def _book_home(self, rows: np.ndarray, flows: dict[str, np.ndarray]) -> None:
        """Record per-worker money (µUSD) and hours at the workers' home cells."""
        pool = self.pool
        self.rec.add_many(self.rec.cell(pool.region[rows], pool.main_type[rows], pool.channel[rows]), flows)

    def weekly_money(self, a: np.ndarray, week_end: float) -> None:
        """The week's policy payments: paid search, wage-floor top-ups, the levy,
        support and training services. Requesters pay the first four through
        the platforms and vendors; the public purse pays for training."""
        pool, pol, led = self.pool, self.cfg.policy, self.ledger
        week = self.week_start_h
        crowd = pool.channel[a] == CROWD
        topup = np.zeros(a.size)
        ps = pol.paid_search_and_rejections
        if in_force(ps, week):
            c = a[crowd]
            unpaid = pool.wk_unpaid_h[c]
            recent = np.divide(pool.ew_earn_usd[c], pool.ew_hours[c], out=np.zeros(c.size),
                               where=pool.ew_hours[c] > 0) * UUSD
            comp = np.rint(search_compensation(pool.wk_earn_uusd[c].astype(float), pool.wk_paid_h[c],
                                               unpaid, recent, ps.share))
            pool.wk_paid_h[c] += ps.share * unpaid
            pool.wk_unpaid_h[c] -= ps.share * unpaid
            self._book_home(c, {"paid_hours": ps.share * unpaid, "unpaid_hours": -ps.share * unpaid})
            topup[crowd] += comp
            pool.wk_earn_uusd[c] += comp.astype(np.int64)
        mw = pol.min_wage_floor
        if in_force(mw, week):
            floor = hourly_floor(self.reg_min_wage, mw.usd_h, mw.local_multiple)
            if "crowd" in mw.channels:
                c = a[crowd]
                hours = pool.wk_paid_h[c] + pool.wk_unpaid_h[c]
                # Rounded up to the micro-dollar: a topped-up week never pays below the floor.
                up = np.ceil(floor_topup(pool.wk_earn_uusd[c].astype(float), hours,
                                         floor[pool.region[c]] * UUSD))
                topup[crowd] += up
                pool.wk_earn_uusd[c] += up.astype(np.int64)
        if mw.enabled and "vendor" in mw.channels and in_force(mw, week_end):
            # Vendors pay at least the floor from the policy's start.
            v = a[~crowd]
            floor = hourly_floor(self.reg_min_wage, mw.usd_h, mw.local_multiple)
            pool.wage_uusd_h[v] = np.maximum(pool.wage_uusd_h[v],
                                             np.rint(floor[pool.region[v]] * UUSD).astype(np.int64))
        topup = np.rint(topup).astype(np.int64)
        levy = np.zeros(a.size, np.int64)
        lv = pol.social_protection_levy
        if in_force(lv, week):
            levy = np.rint(lv.share_of_pay * pool.wk_earn_uusd[a]).astype(np.int64)
            self.fund_uusd += int(levy.sum())
        support = np.zeros(a.size, np.int64)
        sp = pol.psych_support
        if in_force(sp, week) and self.type_support.any():
            h = pool.wk_hours_type[a][:, self.type_support].sum(axis=1)
            support = np.rint(h * sp.cost_usd_per_hour * UUSD).astype(np.int64)
        tr = self.cfg.policy.training_certification
        train_h = pool.wk_train_h[a]
        training = np.rint(train_h * tr.cost_usd_per_hour * UUSD).astype(np.int64)
        stipend = np.rint(train_h * tr.stipend_usd_per_hour * UUSD).astype(np.int64)
        if not (topup.any() or levy.any() or support.any() or training.any() or stipend.any()):
            return
        self._book_home(a, {"earnings_uusd": topup, "topup_uusd": topup, "levy_uusd": levy,
                            "support_cost_uusd": support, "requester_spend_uusd": topup + levy + support,
                            "training_cost_uusd": training, "benefits_uusd": stipend,
                            "public_spend_uusd": training + stipend})
        for key, x in (("topup_uusd", topup), ("worker_pay_uusd", topup), ("levy_uusd", levy),
                       ("support_cost_uusd", support), ("training_cost_uusd", training),
                       ("benefits_uusd", stipend), ("public_spend_uusd", training + stipend),
                       ("requester_spend_uusd", topup + levy + support)):
            led[key] += int(x.sum())

    def transfers(self, a: np.ndarray, reasons: np.ndarray, week_end: float) -> np.ndarray:
        """The social-protection fund: paid leave instead of a burnout exit, benefits
        for those on leave and for those who quit; the public purse covers a deficit."""
        lv = self.cfg.policy.social_protection_levy
        if not in_force(lv, self.week_start_h):
            return reasons
        pool = self.pool
        weekly = pool.ew_earn_usd[a] / self.cfg.workers.wage_memory_weeks * UUSD  # recent weekly pay
        burnt = reasons == EXIT_BURNOUT
        pool.leave_until_h[a[burnt]] = week_end + lv.leave_weeks * HOURS_PER_WEEK
        reasons = np.where(burnt, 0, reasons).astype(reasons.dtype)
        on_leave = pool.leave_until_h[a] > week_end
        quit_ = reasons != 0
        due = np.rint(lv.replacement_rate * weekly * (on_leave + quit_ * lv.between_jobs_weeks)).astype(np.int64)
        if not due.any():
            return reasons
        public = fund_shortfall(self.fund_uusd, int(due.sum()))
        self.fund_uusd += public - int(due.sum())
        pub = np.rint(due / due.sum() * public).astype(np.int64)
        pub[np.argmax(due)] += public - int(pub.sum())  # whole µUSD, summing exactly
        self._book_home(a, {"benefits_uusd": due, "public_spend_uusd": pub})
        self.ledger["benefits_uusd"] += int(due.sum())
        self.ledger["public_spend_uusd"] += public
        return reasons

    def record_market_state(self) -> None:
        self.rec.week["automation_share"][:] = np.repeat(self.auto_share, len(CHANNELS))

    def _update_automation(self) -> None:
        """Automation shares from cumulative labels, and the evaluation work they create."""
        self.auto_share = automation_share(self.labels, self.auto_ceiling, self.auto_half, self.auto_steep)
        auto = self.auto_ceiling > 0
        self.eval_multiplier = evaluation_demand(
            float(self.auto_share[auto].mean()) if auto.any() else 0.0, self.cfg.automation.eval_demand_boost)

    def _reprice(self) -> None:
        """Move each task type's crowd piece rates by how its batches filled last week.

        Per task type (all its crowd books together), pressure is log(mean time
        to fill / target) plus ten times the share of its human tasks that
        expired: slow or unfinished batches push rates up, batches taken at
        once pull them down, by at most max_change_per_week, and within
        [min_rate_multiplier, max_rate_multiplier] times the base rate
        (requesters' willingness to pay). Geofenced and qualified books keep
        their premiums over the open book.
        """
        pc, st = self.cfg.pricing, self.store
        crowd, t = self.book_is_crowd, self.book_type

        def per_type(x: np.ndarray) -> np.ndarray:
            return np.bincount(t[crowd], weights=x[crowd], minlength=self.n_types)

        filled, hours = per_type(st.filled), per_type(st.fill_hours)
        posted, expired = per_type(self._week_posted_human), per_type(self._week_expired)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_fill = np.where(filled > 0, hours / np.maximum(filled, 1), np.nan)
            pressure = np.log(np.maximum(mean_fill, 0.25) / pc.target_fill_h)
        pressure = np.where(np.isfinite(pressure), pressure, 0.0)
        pressure += 10.0 * np.divide(expired, posted, out=np.zeros(self.n_types), where=posted > 0)
        change = np.where(posted > 0, np.clip(pc.sensitivity * pressure, -pc.max_change_per_week,
                                              pc.max_change_per_week), 0.0)
        mult = np.clip(self.type_rate_mult * np.exp(change), pc.min_rate_multiplier, pc.max_rate_multiplier)
        self.type_rate_mult = np.where(posted > 0, mult, self.type_rate_mult)
        self.book_rate_mult = np.where(crowd, self.type_rate_mult[t], 1.0)

    def _warm_stress(self, idx: np.ndarray, tenure_h: np.ndarray) -> None:
        """Stress of workers present at t = 0: what their tenure at their usual exposure left.

        Exposure is the weekly hours of their main task type times its
        toxicity; stress approaches its steady state with the recovery rate.
        Those above burnout would have left already: survivors stay below it.
        """
        pool, wb, cfg = self.pool, self.cfg.wellbeing, self.cfg
        vendor = pool.channel[idx] == VENDOR
        weekly_h = np.where(vendor, cfg.vendor.shift_hours * cfg.vendor.shift_days_per_week,
                            pool.session_h[idx] * cfg.workers.days_per_week)
        exposure = weekly_h * self.type_toxicity[pool.main_type[idx]]
        kept = np.exp(-wb.recovery_per_week * wb.support_recovery_factor)
        steady = (wb.stress_per_toxic_hour * wb.support_accumulation_factor * pool.sensitivity[idx]
                  * exposure / (1.0 - kept))
        stress = steady * (1.0 - kept ** (tenure_h / HOURS_PER_WEEK))
        pool.stress[idx] = np.minimum(stress, 0.95 * wb.burnout_threshold)
        pool.peak_stress[idx] = pool.stress[idx]
        self._refresh_book_cache(idx)

    def _expected_wage(self, r: int) -> float:
        """Region r's expected effective wage; before it has any, the world's."""
        w = self.expected_wage
        if np.isfinite(w[r]):
            return float(w[r])
        known = w[np.isfinite(w)]
        return float(known.mean()) if known.size else np.inf

    def _add_workers(self, r: int, channel: int, joined: np.ndarray, rng: np.random.Generator,
                     res: np.ndarray | None = None) -> np.ndarray:
        cfg, w = self.cfg, self.cfg.workers
        reg = cfg.regions[self.region_codes[r]]
        k = joined.size
        skill = np.clip(rng.normal(reg.skill_mean, w.skill_sd, (k, self.n_types)), 0.0, 1.0)
        if res is None:
            res = rng.lognormal(np.log(reg.reservation_wage_median_usd_h), reg.reservation_wage_sigma, k)
        sensitivity = rng.lognormal(0.0, cfg.wellbeing.sensitivity_sigma, k)
        if channel == CROWD:
            weekly = rng.lognormal(np.log(w.hours_per_week_median), w.hours_per_week_sigma, k)
            session = np.minimum(weekly / w.days_per_week, 16.0)
            start = (reg.crowd_session_start_local_h + np.rint(rng.normal(0, 2.5, k))) % 24
            team = np.full(k, -1)
            wage = np.zeros(k, np.int64)
            # Until it has worked, a newcomer's main task type is what pays it best on paper.
            base_rate = np.array([cfg.task_types[t].base_piece_rate_usd for t in self.type_names])
            paper = np.where(skill >= self.skill_req, base_rate * tasks_per_hour(
                self.dur_mean_min, skill, w.novice_slowdown), -1.0)
            main = np.argmax(paper, axis=1)
        else:
            session = np.full(k, cfg.vendor.shift_hours)
            start = np.full(k, float(reg.vendor_shift_start_local_h))
            team = rng.choice(self.n_types, size=k, p=self.team_share)
            wage_usd = reg.vendor_wage_usd_h
            mw = cfg.policy.min_wage_floor
            if "vendor" in mw.channels and in_force(mw, float(joined.max())):
                wage_usd = max(wage_usd, float(hourly_floor(reg.min_wage_usd_h, mw.usd_h, mw.local_multiple)))
            wage = np.full(k, int(round(wage_usd * UUSD)), np.int64)
            main = team
        idx = self.pool.add(
            k, region=np.full(k, r), channel=np.full(k, channel), team=team, joined_h=joined,
            reservation_wage=res, utc_offset=np.full(k, reg.utc_offset_h), start_local_h=start,
            session_h=session, wage_uusd_h=wage, main_type=main, sensitivity=sensitivity,
        )
        self.pool.skill[idx] = skill
        self.pool.skill_cap[idx] = np.minimum(1.0, skill + w.max_skill_gain)
        self._refresh_book_cache(idx)
        self.active = np.concatenate([self.active, idx])
        return idx

    # -- the hour ----------------------------------------------------------------------

    def _steps(self):
        dt = self.step_h
        while True:
            self.step(self.env.now)
            yield self.env.timeout(dt)

    def step(self, now: float) -> None:
        """Advance every session online in [now, now + step_h) as one cohort."""
        self._post_batches(now)
        expired = self.store.expire(now)
        if expired.any():
            self._week_expired += expired
            self.ledger["tasks_expired"] += int(expired.sum())
            self.rec.add_market_books("tasks_expired", self.market_of_book, expired)
        pool, cfg = self.pool, self.cfg
        if self._split_at != self.week_start_h:
            self._split_week()
        # Crowd workers log in for their daily session (once they have joined);
        # a longer step adds up its hours, noting those that fall at night.
        c = self._crowd
        slot = int(now % 24.0) // self._sub_hours  # schedules repeat daily
        frac_c = self._day_frac[slot].copy()
        night_c = self._day_night[slot]
        starts = self._day_starts[slot]
        if now < self._last_join_h:
            frac_c[self._crowd_joined > now] = 0.0
        if starts.any():
            s = c[starts]
            pool.workday[s] = self.rng["schedule"].random(s.size) < cfg.workers.days_per_week / 7.0
        on_c = (frac_c > 0) & pool.workday[c]
        # Vendor staff work shifts set per region.
        v = self._vendor
        frac_r, night_r = self._vendor_slot(now)
        frac_v = frac_r[self._vendor_region]
        if now < self._last_join_h:
            frac_v[self._vendor_joined > now] = 0.0
        on_v = frac_v > 0
        cw, cfrac = c[on_c], frac_c[on_c]
        vw, vfrac = v[on_v], frac_v[on_v]
        pool.wk_night_h[cw] += night_c[on_c]
        pool.wk_night_h[vw] += night_r[self._vendor_region[on_v]]
        # Workers in training spend their online time on it first (unpaid).
        if self._any_training:
            train = np.minimum(cfrac, pool.training_left_h[cw])
            pool.training_left_h[cw] -= train
            pool.training_h[cw] += train
            pool.wk_train_h[cw] += train
            cfrac = cfrac - train
        if cw.size or vw.size:
            self._work(now, cw, cfrac, vw, vfrac)

    def _exposure_left(self, rows: np.ndarray) -> np.ndarray:
        """Hours of capped (toxic) work workers ``rows`` may still do this week."""
        pool, cfg = self.pool, self.cfg
        days = np.where(pool.channel[rows] == VENDOR, float(cfg.vendor.shift_days_per_week),
                        cfg.workers.days_per_week)
        return exposure_allowance(cfg.policy.exposure_cap.max_hours_per_day, days, pool.wk_exposed_h[rows])

    def _vendor_slot(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        """Per region, the hours of vendor shift in [now, now + step) and those at night.

        Shifts repeat every week, so each step of the week is computed once.
        """
        slot = int(now % HOURS_PER_WEEK)
        cached = self._vendor_slots.get(slot)
        if cached is None:
            cfg = self.cfg
            frac_r = np.zeros(self.n_regions)
            night_r = np.zeros(self.n_regions)
            for k in range(self._sub_hours):
                f = shift_fraction(slot + k, self.reg_offset, self.reg_vendor_start,
                                   cfg.vendor.shift_hours, cfg.vendor.shift_days_per_week)
                frac_r += f
                night_r += f * night_share(slot + k + self.reg_offset)
            cached = self._vendor_slots[slot] = (frac_r, night_r)
        return cached

    def _split_week(self) -> None:
        """Cache this week's crowd and vendor rosters and their schedule columns."""
        pool, a = self.pool, self.active
        a = a[pool.leave_until_h[a] <= self.week_start_h]  # those on paid leave stay home
        c = self._crowd = a[pool.channel[a] == CROWD]
        v = self._vendor = a[pool.channel[a] == VENDOR]
        # Hours since the session's local start = (now + phase) mod 24.
        phase = session_phase(pool.utc_offset[c], pool.start_local_h[c])
        session = pool.session_h[c]
        self._crowd_joined = pool.joined_h[c]
        self._vendor_region = pool.region[v]
        # Crowd schedules repeat every day: tabulate, for each step of the day,
        # the hours each worker is online, whether its session starts, and the
        # hours that fall at night (a longer step adds up its hours).
        slots = 24 // self._sub_hours
        self._day_frac = np.zeros((slots, c.size))
        self._day_night = np.zeros((slots, c.size))
        self._day_starts = np.zeros((slots, c.size), bool)
        offset = pool.utc_offset[c]
        for j in range(slots):
            for k in range(self._sub_hours):
                h = j * self._sub_hours + k
                frac, starts = session_fraction(float(h), phase, session)
                self._day_frac[j] += frac
                self._day_starts[j] |= starts
                self._day_night[j] += frac * night_share(h + offset)
        self._any_training = bool((pool.training_left_h[c] > 0).any())
        self._vendor_joined = pool.joined_h[v]
        self._last_join_h = float(pool.joined_h[a].max()) if a.size else -np.inf
        self._split_at = self.week_start_h

    def _post_batches(self, now: float) -> None:
        cfg, rng = self.cfg, self.rng["demand"]
        growth = (1.0 + cfg.demand.growth_per_year) ** (now / HOURS_PER_YEAR)
        hour = int(now) % HOURS_PER_WEEK
        lam = self.book_rate_h_arr * (self.profile[hour: hour + self._sub_hours].sum() * growth)
        lam = np.where(self.book_is_eval, lam * self.eval_multiplier, lam)
        arrivals = rng.poisson(lam)
        total = int(arrivals.sum())
        if total == 0:
            return
        which = np.repeat(np.arange(len(self.books)), arrivals)
        p = self.book_params[:, which]
        size = np.maximum(1, np.rint(np.exp(p[0] + p[1] * rng.standard_normal(total)))).astype(np.int64)
        rate = np.rint(p[2] * self.book_rate_mult[which] * np.exp(p[3] * rng.standard_normal(total)))
        rate = np.maximum(np.maximum(rate, 1), self.book_floor_uusd[which]).astype(np.int64)
        # The crowd platform's fee is charged to the requester on top of the
        # reward (the fair platform's lower fee on its books); vendors bill by
        # the hour instead.
        fee = np.rint(rate * np.where(size >= cfg.crowd.large_batch_min_tasks,
                                      self.book_comm[1, which], self.book_comm[0, which])).astype(np.int64)
        # A model does part of each batch of an automatable type at a compute price.
        t = self.book_type[which]
        human, automated = split_tasks(size, self.auto_share[t], self.auto_qa[t])
        keep = human > 0
        self.store.add(which[keep], human[keep], rate[keep], fee[keep], now,
                       now + self.book_deadline[which[keep]])
        n_books = len(self.books)

        def per_book(x: np.ndarray) -> np.ndarray:
            return np.rint(np.bincount(which, weights=x, minlength=n_books)).astype(np.int64)

        posted, auto = per_book(size), per_book(automated)
        compute = per_book(automated * self.compute_uusd[t])
        rec, mob = self.rec, self.market_of_book
        rec.add_market_books("tasks_posted", mob, posted)
        rec.add_market_books("tasks_automated", mob, auto)
        rec.add_market_books("compute_cost_uusd", mob, compute)
        rec.add_market_books("tasks_posted_human", mob, per_book(human))
        rec.add_market_books("posted_value_uusd", mob, per_book(human * rate))
        self._week_posted_human += per_book(human)
        led = self.ledger
        led["tasks_posted"] += int(posted.sum())
        led["tasks_automated"] += int(auto.sum())
        led["compute_cost_uusd"] += int(compute.sum())
        led["requester_spend_uusd"] += int(compute.sum())

    def _work(self, now: float, cw: np.ndarray, cfrac: np.ndarray, vw: np.ndarray,
              vfrac: np.ndarray) -> None:
        """One hour of work for everyone online: match, draw, take, review, pay.

        ``cw``/``cfrac``: crowd workers online and the share of the hour they
        are; ``vw``/``vfrac``: the same for vendor staff.
        """
        pool, cfg, rng = self.pool, self.cfg, self.rng["work"]
        open_tasks = self.store.open_tasks()
        # Crowd workers take the book paying them best per hour among those
        # they may take (qualification, geofence), after their unpaid search.
        cols = self.crowd_cols
        top_rate = self.store.top_rate_uusd()
        price = np.maximum(top_rate[cols], 1).astype(float)  # empty books: masked anyway
        search = min(cfg.crowd.search_min_per_hour / 60.0, 1.0)
        value = pool.crowd_value[cw] * price
        if self.cap_on:
            # Workers who used up the week's allowance of toxic work may not take more.
            at_cap = self._exposure_left(cw) <= 0
            if at_cap.any():
                value[np.ix_(at_cap, self.book_capped[cols])] = -np.inf
        w, b, hours, expected = allocate(cfrac * (1.0 - search), value,
                                         pool.crowd_tph, open_tasks[cols], rows_of=cw)
        b = cols[b]
        # Vendor staff work their team's queue, rationed when it runs short.
        vb = pool.vendor_book[vw, 0]
        has = np.flatnonzero(vb >= 0)
        if has.size:
            vbook = vb[has]
            tph = pool.book_tph[vw[has], vbook]
            want = vfrac[has] * tph
            demand = np.bincount(vbook, weights=want, minlength=len(self.books))
            ration = np.divide(open_tasks, demand, out=np.ones(len(self.books)), where=demand > open_tasks)
            got = want * ration[vbook]
            w = np.concatenate([w, cw.size + has])
            b = np.concatenate([b, vbook])
            hours = np.concatenate([hours, got / tph])
            expected = np.concatenate([expected, got])
        who = np.concatenate([cw, vw])
        m, n_c = who.size, cw.size
        if self.cap_on:
            # No stretch of toxic work beyond what the cap leaves (vendor staff sit out, paid).
            capped = self.book_capped[b]
            if capped.any():
                left = self._exposure_left(who[w[capped]])
                f = np.minimum(1.0, left / np.maximum(hours[capped], 1e-12))
                hours[capped] *= f
                expected[capped] *= f
        # Pairs sorted by book, in random order within a book: who gets the
        # best-paid tasks of a book depends on no one's position.
        order = np.argsort(b + rng.random(w.size))
        w, b, hours, expected = w[order], b[order], hours[order], expected[order]
        # Tasks finished in a stretch of work are a renewal count: for many
        # tasks it is close to normal with variance CV^2 x mean, CV the
        # coefficient of variation of one task's duration (less dispersed than
        # Poisson). Rejections are rare events: Poisson.
        ids = who[w]
        p_rej = pool.book_rej[ids, b]
        accepted = renewal_counts(rng, expected * (1.0 - p_rej), self.book_cv2[b])
        draws = np.concatenate([accepted, rng.poisson(expected * p_rej)])
        draws = trim_to_open(rng, draws, np.concatenate([b, b]), open_tasks)
        acc, r = draws[: w.size], draws[w.size:]
        n = acc + r
        per_book = np.rint(np.bincount(b, weights=acc, minlength=len(self.books))).astype(np.int64)
        taken = self.store.take(per_book, now)
        self.rec.add_market_books("wait_hours", self.market_of_book, taken.wait_h)
        self.rec.add_market_books("tasks_taken", self.market_of_book, per_book)
        # Pairs and batches are both grouped by book in book order, so task k
        # of the pairs is task k of the batches. Vendor batches carry no
        # per-task price to the worker: vendors pay by the hour.
        crowd_batch = self.book_is_crowd[taken.book]
        prices = np.stack([np.where(crowd_batch, taken.rate_uusd, 0),
                           np.where(crowd_batch, taken.fee_uusd, 0)], axis=1)
        pf = piecewise_pay(acc, taken.counts, prices)
        pay, fee = pf[:, 0], pf[:, 1]
        led = self.ledger
        led["requester_spend_uusd"] += int(taken.counts @ prices.sum(axis=1))
        led["platform_fees_uusd"] += int(taken.counts @ prices[:, 1])
        pays_rej = self.book_pays_rej[b] if self.has_fair else None
        if pays_rej is not None and pays_rej.any():
            # The fair platform pays rejected work at the book's going rate, its fee on top.
            rej_pay = np.where(pays_rej, np.rint(r * top_rate[b]), 0).astype(np.int64)
            rej_fee = np.rint(rej_pay * self.book_comm[0, b]).astype(np.int64)
            pay, fee = pay + rej_pay, fee + rej_fee
            led["requester_spend_uusd"] += int(rej_pay.sum() + rej_fee.sum())
            led["platform_fees_uusd"] += int(rej_fee.sum())
        led["tasks_done_human"] += int(acc.sum())
        led["tasks_rejected"] += int(r.sum())

        # Crowd: paid for accepted tasks only; search and rejected work are
        # unpaid. Vendor staff: paid every shift hour, worked or idle, and
        # the vendor bills the requester the wage plus its margin.
        is_vendor_pair = w >= n_c
        paid_acc = acc if pays_rej is None else np.where(pays_rej, n, acc)  # tasks paid for
        paid_pair = np.divide(hours * paid_acc, n, out=np.zeros_like(hours), where=(n > 0) & ~is_vendor_pair)
        toxic = hours * self.type_toxicity[self.book_type[b]]
        flows = [paid_pair, hours, acc, r, pay, toxic]
        if self.track_exposure:
            flows.append(hours * self.book_capped[b])
        k = len(flows)
        per_worker = np.bincount(np.concatenate([w + i * m for i in range(k)]),
                                 weights=np.concatenate(flows), minlength=k * m).reshape(k, m)
        paid, worked, tasks, rejected, earn, toxic = per_worker[:6]
        worked = worked > 0
        frac = np.concatenate([cfrac, vfrac])
        # A crowd worker who finds nothing searches a while, then gives up the session.
        unpaid = np.where(worked, frac - paid, np.minimum(frac, cfg.crowd.give_up_search_h))
        unpaid[n_c:] = 0.0
        paid[n_c:] = vfrac
        pool.workday[cw[~worked[:n_c]]] = False
        wage = np.rint(vfrac * pool.wage_uusd_h[vw]).astype(np.int64)
        margin = np.rint(wage * cfg.vendor.margin).astype(np.int64)
        earn = np.rint(earn).astype(np.int64)
        earn[n_c:] += wage
        pool.wk_paid_h[who] += paid
        pool.wk_unpaid_h[who] += unpaid
        pool.wk_earn_uusd[who] += earn
        pool.wk_tasks[who] += np.rint(tasks).astype(np.int64)
        pool.wk_rejected[who] += np.rint(rejected).astype(np.int64)
        pool.wk_toxic_h[who] += toxic
        if self.track_exposure:
            pool.wk_exposed_h[who] += per_worker[6]
        led["worker_pay_uusd"] += int(earn.sum())
        led["vendor_margin_uusd"] += int(margin.sum())
        led["requester_spend_uusd"] += int(wage.sum() + margin.sum())
        types = self.book_type[b]
        self._week_hours.append((ids, types, hours))
        self._week_labels += np.bincount(types, weights=acc, minlength=self.n_types)
        # Flows tied to tasks go to the task's cell; hours and pay not tied to
        # a task (search, vendor shifts) to the worker's main task type.
        region = pool.region[who]
        rec = self.rec
        cells = rec.cell(region[w], types, pool.channel[ids])
        task_flows = {"tasks_done_human": acc, "tasks_rejected": r, "paid_hours": paid_pair,
                      "earnings_uusd": pay, "requester_spend_uusd": pay + fee, "platform_fees_uusd": fee}
        if self.has_fair:
            task_flows["tasks_done_fair"] = acc * self.book_is_fair[b]
        rec.add_many(cells, task_flows)
        home = rec.cell(region, pool.main_type[who], pool.channel[who])
        rec.add_many(home[:n_c], {"unpaid_hours": unpaid[:n_c]})
        if vw.size:
            rec.add_many(home[n_c:], {"paid_hours": vfrac, "earnings_uusd": wage,
                                      "requester_spend_uusd": wage + margin,
                                      "vendor_margin_uusd": margin})
