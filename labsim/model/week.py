"""The weekly tick's bookkeeping: measure the week, record it, roll over to the next.

These phases are shared by the market and the queueing mode (the market
adds its own between them: policies' money, workers' and the market's
updates, exits and joins; ``labsim.model.market`` lists the order). A
``Week`` carries what the phases of one tick compute for the workers
active in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from labsim.model.state import EXIT_BURNOUT, EXIT_LOW_PAY, EXIT_NONE, EXIT_OTHER
from labsim.model.units import HOURS_PER_WEEK, UUSD

if TYPE_CHECKING:
    from labsim.config import LabsimConfig
    from labsim.model.accounts import Accounts
    from labsim.model.state import WorkerPool


class Kernel(Protocol):
    """What the bookkeeping needs of a model."""

    cfg: LabsimConfig
    pool: WorkerPool
    accounts: Accounts
    active: np.ndarray
    week_start_h: float
    window_start_h: float
    windows: list  # labsim.model.windows.Window, the KPI window first
    min_wage_usd_h: np.ndarray

    def backlog(self) -> np.ndarray: ...


@dataclass
class Week:
    """One weekly tick, for the workers ``a`` active in the week [start_h, end_h)."""

    start_h: float
    end_h: float
    a: np.ndarray
    hours: np.ndarray = field(default_factory=lambda: np.zeros(0))  # paid + unpaid
    earn_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    present: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # joined before the end
    cells: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # home cells
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    reasons: np.ndarray | None = None  # exit codes (None: no exits drawn)
    burnout: np.ndarray | None = None  # who burned out this week

    @property
    def number(self) -> int:
        return int(self.start_h // HOURS_PER_WEEK)


def measure(m: Kernel, week: Week) -> None:
    """Earnings and hours, main task types, and the head counts of the week."""
    pool, a = m.pool, week.a
    week.hours = pool.wk_paid_h[a] + pool.wk_unpaid_h[a]
    week.earn_usd = pool.wk_earn_uusd[a] / UUSD
    worked = pool.wk_hours_type[a].sum(axis=1) > 0
    pool.main_type[a[worked]] = np.argmax(pool.wk_hours_type[a[worked]], axis=1)
    region = pool.region[a]
    week.cells = m.accounts.cell(region, pool.main_type[a], pool.channel[a])
    week.present = pool.joined_h[a] < week.end_h
    with_hours = week.hours > 0
    eff = np.divide(week.earn_usd, week.hours, out=np.zeros_like(week.hours), where=with_hours)
    week.counts = {
        "active_workers": count(m, week, week.present),
        "joins": count(m, week, (pool.joined_h[a] >= week.start_h) & week.present),
        "workers_with_hours": count(m, week, with_hours),
        "workers_below_min_wage": count(m, week, with_hours & (eff < m.min_wage_usd_h[region])),
    }


def count(m: Kernel, week: Week, mask: np.ndarray) -> np.ndarray:
    """Workers per home cell among those where ``mask`` holds."""
    return np.bincount(week.cells[mask], minlength=m.accounts.n_cells).astype(np.int64)


def record(m: Kernel, week: Week) -> None:
    """Close the week's record: night hours, stress, exits by reason, leave, the backlog."""
    pool, a, c = m.pool, week.a, week.counts
    reasons = week.reasons if week.reasons is not None else np.full(a.size, EXIT_NONE, np.int8)
    c["night_hours"] = np.bincount(week.cells, weights=pool.wk_night_h[a], minlength=m.accounts.n_cells)
    c["high_stress_workers"] = count(
        m, week, week.present & (pool.stress[a] >= m.cfg.wellbeing.high_stress_threshold))
    c["exits_low_pay"] = count(m, week, reasons == EXIT_LOW_PAY)
    c["exits_burnout"] = count(m, week, reasons == EXIT_BURNOUT)
    c["exits_other"] = count(m, week, reasons == EXIT_OTHER)
    c["on_leave"] = count(m, week, week.present & (pool.leave_until_h[a] > week.end_h))
    m.accounts.close_week(week.number, c, m.backlog())


def roll_over(m: Kernel, week: Week) -> None:
    """Window totals and the weekly reset of the workers; leavers leave; a new week begins."""
    pool, a = m.pool, week.a
    pool.close_week(a, [k for k, w in enumerate(m.windows) if w.start_h <= week.start_h < w.end_h])
    if week.reasons is not None:
        left = week.reasons != EXIT_NONE
        if left.any():
            pool.left_h[a[left]] = week.end_h
            pool.exit_reason[a[left]] = week.reasons[left]
            m.active = a[~left]
    m.week_start_h = week.end_h
