"""What changes during a run: the workers, column by column, and the market's own state.

Workers are held column-wise in numpy arrays, one row per worker ever
present (rows are never removed), so a weekly update touches every worker
in one vectorised step. Each column declares what it is: identity and
schedule, a flow of the current week (reset at each weekly tick, and added
into its KPI-window total after warm-up), or a state that lasts the
worker's whole stay. The weekly reset and the totals over each named window
of weeks (``labsim.model.windows``) are derived from these declarations,
never listed by hand.

``MarketState`` holds the market-level quantities that the rules move week
by week: requesters' beliefs about each book, automation, expected wages,
channel shares, and the levers the policies set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EXIT_NONE, EXIT_LOW_PAY, EXIT_BURNOUT, EXIT_OTHER = 0, 1, 2, 3
EXIT_REASONS = ("", "low_pay", "burnout", "other")


@dataclass(frozen=True)
class Column:
    """A worker column: its type, its value for a new worker, and its role in the week."""

    dtype: type
    fill: object
    weekly: bool = False  # a flow of the current week, reset at each weekly tick
    window: str | None = None  # the per-window totals it is added into (one column per window)


COLUMNS: dict[str, Column] = {
    # identity and schedule
    "region": Column(np.int16, 0), "channel": Column(np.int8, 0), "team": Column(np.int16, -1),
    "joined_h": Column(np.float64, 0.0), "left_h": Column(np.float64, np.nan),
    "exit_reason": Column(np.int8, EXIT_NONE), "reservation_wage": Column(np.float64, 0.0),
    "utc_offset": Column(np.float64, 0.0), "start_local_h": Column(np.float64, 0.0),
    "session_h": Column(np.float64, 0.0), "usual_session_h": Column(np.float64, 0.0),
    "wage_uusd_h": Column(np.int64, 0),
    "workday": Column(np.bool_, False), "main_type": Column(np.int16, 0),
    # recent effective wage: exponentially weighted earnings and hours
    "ew_earn_usd": Column(np.float64, 0.0), "ew_hours": Column(np.float64, 0.0),
    # this week
    "wk_paid_h": Column(np.float64, 0.0, True, "win_paid_h"),
    "wk_unpaid_h": Column(np.float64, 0.0, True, "win_unpaid_h"),
    "wk_earn_uusd": Column(np.int64, 0, True, "win_earn_uusd"),
    "wk_tasks": Column(np.int64, 0, True, "win_tasks"),
    "wk_rejected": Column(np.int64, 0, True, "win_rejected"),
    "wk_toxic_h": Column(np.float64, 0.0, True),
    "wk_night_h": Column(np.float64, 0.0, True, "win_night_h"),
    "wk_exposed_h": Column(np.float64, 0.0, True),  # hours on capped (toxic) task types
    "wk_train_h": Column(np.float64, 0.0, True),  # hours in training
    # wellbeing, reputation and training, over the worker's whole stay
    "stress": Column(np.float64, 0.0), "peak_stress": Column(np.float64, 0.0),
    "sensitivity": Column(np.float64, 1.0), "toxic_hours": Column(np.float64, 0.0),
    "accepted_total": Column(np.int64, 0), "done_total": Column(np.int64, 0),
    "certified": Column(np.bool_, False), "enrolled": Column(np.bool_, False),
    "training_left_h": Column(np.float64, 0.0), "training_h": Column(np.float64, 0.0),
    # paid leave (after a burnout, where a fund pays it) lasts until this hour
    "leave_until_h": Column(np.float64, -np.inf),
    # the worker's identity for keyed random draws (``rng.worker_keys``): the same in every scenario
    "key": Column(np.uint64, 0),
}


class WorkerPool:
    """Column store of all workers ever present; rows are never removed.

    Besides the columns above, a pool holds matrices with one row per
    worker: skill, its ceiling and the week's hours per task type, plus any
    per-book caches the market keeps (``matrices``: name -> (width, dtype)).
    """

    def __init__(self, n_types: int, capacity: int = 1024,
                 matrices: dict[str, tuple[int, type]] | None = None, n_windows: int = 1) -> None:
        self.n = 0
        self._cap = max(16, capacity)
        # totals over each named window: one matrix per weekly flow, one column per window
        windows = {col.window: (n_windows, col.dtype) for col in COLUMNS.values() if col.window}
        self._matrices = {"skill": (n_types, np.float64), "skill_cap": (n_types, np.float64),
                          "wk_hours_type": (n_types, np.float64), **windows, **(matrices or {})}
        for name, col in COLUMNS.items():
            setattr(self, name, np.full(self._cap, col.fill, col.dtype))
        for name, (width, dtype) in self._matrices.items():
            setattr(self, name, np.zeros((self._cap, width), dtype))

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        for name, col in COLUMNS.items():
            new = np.full(cap, col.fill, col.dtype)
            new[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, new)
        for name, (width, dtype) in self._matrices.items():
            new = np.zeros((cap, width), dtype)
            new[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, new)
        self._cap = cap

    def add(self, k: int, **columns: np.ndarray) -> np.ndarray:
        """Append k workers with the given columns; return their row indices."""
        if self.n + k > self._cap:
            self._grow(self.n + k)
        idx = np.arange(self.n, self.n + k)
        for name, values in columns.items():
            getattr(self, name)[idx] = values
        self.n += k
        return idx

    def close_week(self, rows: np.ndarray, windows: list[int]) -> None:
        """End the week of workers ``rows``: add its flows into their totals over the
        windows (indices) the week belongs to, then reset them."""
        for name, col in COLUMNS.items():
            if col.window:
                flow = getattr(self, name)[rows]
                totals = getattr(self, col.window)
                for k in windows:
                    totals[rows, k] += flow
        for name, col in COLUMNS.items():
            if col.weekly:
                getattr(self, name)[rows] = col.fill
        self.wk_hours_type[rows] = 0.0


@dataclass
class Cover:
    """What a rule scoped by requesters' home sets for the coming week (the policies' due diligence;
    arrays empty where the uncovered requesters' values apply)."""

    covered_sub: np.ndarray  # per requester sub-group (home, size): bound by the rule
    redirect_p: np.ndarray  # per type: share of covered batches drawn on a redirectable book moved to vendors
    redirectable: np.ndarray  # per book: a supplier below the rule's standard (the incumbent's crowd books)
    crowd_charge_usd: np.ndarray  # per book: added per accepted task of a covered crowd batch
    vendor_bought: np.ndarray  # (types, 2): share of a covered vendor batch's tasks bought (there, moved there)
    vendor_extra_usd: np.ndarray  # per type: added per accepted task of a covered vendor batch (audits)
    auto_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per type, covered batches' machines
    llm_part: np.ndarray = field(default_factory=lambda: np.zeros(0))
    share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per type: share of its batches covered

    @classmethod
    def none(cls, n_sub: int, n_types: int, n_books: int) -> "Cover":
        return cls(np.zeros(n_sub, bool), np.zeros(n_types), np.zeros(n_books, bool), np.zeros(n_books),
                   np.ones((n_types, 2)), np.zeros(n_types))


@dataclass
class Levers:
    """What the policies in force set for the coming week (neutral values: no policy)."""

    alt_platform_share: float = 0.0  # of the open crowd batches, won by the alternative platform
    certified_binding: float = 0.0  # of crowd demand bound to certified channels
    stress_accumulation: float = 1.0  # multipliers of stress build-up and recovery
    stress_recovery: float = 1.0
    support_region: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # where they apply (empty: all)
    # vendor staff hired per hour of each type's work against the usual (empty: 1 for every type)
    vendor_staffing: np.ndarray = field(default_factory=lambda: np.ones(0))
    # the hourly wage vendors must pay at least, per region (empty: no floor)
    vendor_wage_floor_usd_h: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # per region, a levy on vendor staff's pay that vendors pass on in their bill (empty: none)
    vendor_pay_levy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # per region, whether the crowd platform has closed sign-ups there (empty: open everywhere)
    signups_closed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # a due-diligence rule scoped by the requesters' home (None: none in force)
    cover: Cover | None = None


@dataclass
class MarketState:
    """Market-level quantities that the weekly rules move."""

    labels: np.ndarray  # cumulative human labels per type, per unit of scale (automation)
    auto_share: np.ndarray  # share of new tasks a model or an LLM does, per type
    expected_wage: np.ndarray  # what potential joiners expect per hour, per region (word of mouth)
    vendor_share: np.ndarray  # share of each type's batches sent to vendors (routing)
    eval_multiplier: float = 1.0  # demand multiplier of evaluation work (automation)
    levers: Levers = field(default_factory=Levers)
    # set by routing from the shares above
    book_rate_h: np.ndarray = field(default_factory=lambda: np.zeros(0))  # batch arrivals per hour per book
    team_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # vendor staff per type
    vendor_headcount_target: float = 1.0  # vendors' headcount their contracted work needs, against the configured
    # per region: the share of that work its vendors win against the configured share (regions compete on cost)
    vendor_region_factor: np.ndarray = field(default_factory=lambda: np.ones(0))
    # per region: vendor headcount against the configured one (follows target x region factor with a lag)
    vendor_headcount_factor: np.ndarray = field(default_factory=lambda: np.ones(0))
    # channel choice (routing): per type, shares of crowd, vendor, model, LLM, and the start's costs
    channel_share: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    cost0: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # costs at the start (USD)
    channel_cost: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # this week's (USD)
    people_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))  # people's, per type (USD)
    llm_part: np.ndarray = field(default_factory=lambda: np.zeros(0))  # LLMs' part of the automated tasks
    # this week's counters
    week_labels: np.ndarray = field(default_factory=lambda: np.zeros(0))  # accepted human tasks per type
    week_expired: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per book
    week_posted_human: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per book
    # requesters' beliefs about each crowd book (pricing), and what they see this week
    reject_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # of reviewed tasks
    search_ratio: np.ndarray = field(default_factory=lambda: np.zeros(0))  # type's crowd search h per paid h
    search_ref: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the steady state's (NaN: not yet seen)
    fill_share: np.ndarray = field(default_factory=lambda: np.ones(0))  # of tasks done or expired, done
    scarcity: np.ndarray = field(default_factory=lambda: np.ones(0))  # marginal value x (pricing.scarcity)
    # what policies charge requesters per accepted crowd task beyond reward and fee (USD: wage-floor
    # top-ups, paid search, levy, support), as requesters of each book have seen it
    surcharge_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seen_search_h: np.ndarray = field(default_factory=lambda: np.zeros(0))  # averaged crowd search hours a week
    seen_paid_h: np.ndarray = field(default_factory=lambda: np.zeros(0))  # and paid hours (of the book's type)
    seen_weeks: np.ndarray = field(default_factory=lambda: np.zeros(0))  # weeks seen (first belief: one)
    week_taken: np.ndarray = field(default_factory=lambda: np.zeros(0))  # tasks accepted
    week_rejected: np.ndarray = field(default_factory=lambda: np.zeros(0))  # tasks rejected
    # paid crowd hours this week per book and region (books x regions; empty: not tracked), over which
    # each region's policy charges are billed to the books its workers worked on
    week_paid_h_region: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    # each book's share of its type's batches within its channel (routing: steering moves the
    # geofenced books' against the rest); the books' configured shares at the start
    group_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    book_cost0: np.ndarray = field(default_factory=lambda: np.zeros(0))  # cost per accepted task at the start
    # what policies charge per crowd paid hour of each region's workers, as requesters have seen it (USD),
    # and each book's paid hours per accepted task last week
    region_charge_h: np.ndarray = field(default_factory=lambda: np.zeros(0))
    paid_h_per_task: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # the share of each crowd book's batches each region's workers are offered (books x regions; empty:
    # all of them): requesters exclude the regions whose charges make their work dearer (routing.steer)
    offer: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
