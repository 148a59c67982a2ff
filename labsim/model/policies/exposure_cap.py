"""A cap on exposure to toxic material: at most ``max_hours_per_day`` a working day.

It covers the workers of ``regions`` (empty: every region).

Task types of toxicity at least ``min_toxicity`` are capped. The cap is
enforced over the week (hours per day x working days): a worker who used up
the week's allowance may not take capped work, and no stretch of capped work
runs past what is left. Vendors rotate their staff: each spends at most
the capped share of every step of its shift on capped work and the rest on
other duties, paid, so a team's capacity lasts the whole shift instead of
running out half-way. Vendors hire to cover the work: each capped type's
team is staffed ``shift_hours / max_hours_per_day`` times over (headcount follows
with the hiring lag, ``routing.hiring_lag_weeks``). The cap
is announced ``notice_weeks`` ahead: vendors staff up then, so the new heads
have learnt the work when it binds, and requesters pay for the extra heads
from then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labsim.model.context import Context
from labsim.model.policies.base import Policy
from labsim.model.units import HOURS_PER_WEEK, VENDOR

if TYPE_CHECKING:
    from labsim.model.rules.work import Pairs


def exposure_allowance(max_hours_per_day: float, days_per_week: np.ndarray,
                       exposed_so_far: np.ndarray) -> np.ndarray:
    """Hours of toxic work a worker may still do this week under a daily cap."""
    return np.maximum(0.0, max_hours_per_day * days_per_week - exposed_so_far)


class ExposureCap(Policy):
    name = "exposure_cap"
    has_step_limits = True

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        toxicity = np.array([t.toxicity for t in cfg.task_types.values()])
        self.capped_type = toxicity >= self.p.min_toxicity
        self.capped_book = np.zeros(0, bool)
        self.mask = np.zeros(0, bool)  # regions covered (set with the levers)
        # The share of a shift vendor staff may spend on capped work; vendors staff each capped
        # team its inverse times over.
        self.shift_share = min(1.0, self.p.max_hours_per_day / cfg.vendor.shift_hours)

    def limits_step(self, now: float) -> bool:
        return bool(self.capped_type.any()) and self.active(now)

    def set_levers(self, m: Context, now: float) -> None:
        self.capped_book = self.capped_type[m.books.type]
        # Vendors staff up for the capped work of the regions covered (their share of vendor heads).
        self.mask = self.region_mask(m)
        factor = m.state.vendor_region_factor
        heads = m.regions.vendor_workers * (factor if factor.size else 1.0)
        covered = float(heads @ self.mask / heads.sum()) if heads.sum() > 0 else 1.0
        extra = 1.0 + (1.0 / self.shift_share - 1.0) * covered
        # The cap is announced: vendors staff up ``notice_weeks`` ahead, so the new heads have
        # learnt the work when it binds (from the first week: the market at t = 0 is the
        # baseline's, its staff drawn from the stored steady state).
        ahead = self.p.notice_weeks * HOURS_PER_WEEK if now > 0 else 0.0
        m.state.levers.vendor_staffing = (np.where(self.capped_type, extra, 1.0) if self.active(now + ahead)
                                          else np.ones(self.capped_type.size))

    def left(self, m: Context, rows: np.ndarray) -> np.ndarray:
        """Hours of capped work workers ``rows`` may still do this week."""
        pool, cfg = m.pool, m.cfg
        days = np.where(pool.channel[rows] == VENDOR, float(cfg.vendor.shift_days_per_week),
                        cfg.workers.days_per_week)
        allowance = exposure_allowance(self.p.max_hours_per_day, days, pool.wk_exposed_h[rows])
        return np.where(self.mask[pool.region[rows]], allowance, np.inf)

    def restrict_choices(self, m: Context, rows: np.ndarray, value: np.ndarray) -> None:
        """Workers who used up the week's allowance may not take capped books."""
        at_cap = self.left(m, rows) <= 0
        if at_cap.any():
            value[np.ix_(at_cap, self.capped_book[m.books.crowd_cols])] = -np.inf

    def trim_hours(self, m: Context, pairs: Pairs) -> None:
        """No capped work beyond what the cap leaves (vendor staff rotate to other duties, paid): a
        worker's capped stretches of the step use up its allowance one after another."""
        capped = np.flatnonzero(self.capped_book[pairs.b])
        if not capped.size:
            return
        w = pairs.w[capped]
        order = np.argsort(w, kind="stable")
        idx, w = capped[order], w[order]
        hours = pairs.hours[idx]
        # Hours of capped work the worker's earlier stretches of this step already took.
        before = np.cumsum(hours) - hours
        first = np.r_[True, w[1:] != w[:-1]]
        before -= np.maximum.accumulate(np.where(first, before, 0.0))
        rows = pairs.who[w]
        allowed = self.left(m, rows)
        # Vendors rotate their staff: each spends the capped share of every step of its shift on
        # capped work (and the rest on other duties), so the team's capacity lasts the whole shift.
        rotating = (m.pool.channel[rows] == VENDOR) & np.isfinite(allowed)  # covered vendor staff
        allowed = np.where(rotating, np.minimum(allowed, self.shift_share * m.sub_hours), allowed)
        left = np.maximum(0.0, allowed - before)
        f = np.minimum(1.0, left / np.maximum(hours, 1e-12))
        pairs.hours[idx] *= f
        pairs.expected[idx] *= f

    def after_work(self, m: Context, pairs: Pairs) -> None:
        m.pool.wk_exposed_h[pairs.who] += np.bincount(
            pairs.w, weights=pairs.hours * self.capped_book[pairs.b], minlength=pairs.who.size)
