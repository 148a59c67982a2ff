"""An effective minimum wage for platform work.

Every covered worker's pay for the hours they put in, search and rejected
work included, is lifted to at least a floor: the higher of a global
``usd_h`` and ``local_multiple`` x the region's minimum wage. It covers the
workers of ``regions`` (empty: every region), on ``channels``. Crowd platforms top each
week's pay up to it, counting search up to ``counted_search_min_per_paid_hour``
(by default all of it; a platform may count only what its market normally needs), close sign-ups
where its top-ups are a large share of pay (``close_signups_above_topup_share``), and bill
requesters for the books the topped-up hours were worked on
(``pricing.week_surcharge_usd``); vendors raise hourly wages to it
from the start week (their margin on top), so their quote rises and, where
one region regulates and others do not, its vendors lose work to the
others' (``routing``). Paid by requesters.
"""

from __future__ import annotations

import numpy as np

from labsim.config import ALL_SEARCH_MIN
from labsim.model.context import Context
from labsim.model.policies.base import Policy, in_force, post_home
from labsim.model.rules import pricing
from labsim.model.units import CROWD, UUSD, VENDOR


def hourly_floor(local_min_wage: np.ndarray, usd_h: float, local_multiple: float) -> np.ndarray:
    """The effective hourly floor per region: the higher of the global and the local one."""
    return np.maximum(usd_h, local_multiple * np.asarray(local_min_wage, float))


def floor_topup(earnings: np.ndarray, hours: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """What lifts each worker's pay for ``hours`` (paid and unpaid) to ``floor`` an hour."""
    return np.maximum(0.0, floor * hours - earnings)


def topup_share(m: Context) -> np.ndarray:
    """Per region, this week's top-ups as a share of its crowd workers' pay (top-ups included)."""
    pay = pricing.crowd_cells(m, "earnings_uusd").sum(axis=1)
    return np.divide(pricing.crowd_cells(m, "topup_uusd").sum(axis=1), pay, out=np.zeros(pay.size), where=pay > 0)


class MinWageFloor(Policy):
    name = "min_wage_floor"
    _table_floor: np.ndarray | None = None  # the task types' own piece-rate floors, per book

    def _floor(self, m: Context) -> np.ndarray:
        return hourly_floor(m.regions.min_wage_usd_h, self.p.usd_h, self.p.local_multiple)

    def set_levers(self, m: Context, now: float) -> None:
        """The wage floor vendors' quotes must pay in each covered region (0 elsewhere); and the
        regions where the crowd platform closes sign-ups: those where last week's top-ups came to
        more than ``close_signups_above_topup_share`` of its crowd workers' pay."""
        on = "vendor" in self.p.channels and self.active(now)
        levers = m.state.levers
        levers.vendor_wage_floor_usd_h = np.where(on & self.region_mask(m), self._floor(m), 0.0)
        crowd = "crowd" in self.p.channels and self.active(now)
        if crowd and self.p.close_signups_above_topup_share < 1.0:
            levers.signups_closed = topup_share(m) > self.p.close_signups_above_topup_share
        else:
            levers.signups_closed = np.zeros(0, bool)
        if self.p.min_reward_hours_at_floor > 0:
            # The platform's minimum reward per task: the lowest covered floor for this share of an
            # hour per mean task duration (a Prolific-style minimum pay per estimated time).
            if self._table_floor is None:
                self._table_floor = m.books.floor_uusd.copy()
            lowest = float(self._floor(m)[self.region_mask(m)].min(initial=np.inf))
            least = (self.p.min_reward_hours_at_floor * lowest * m.types.duration_mean_min[m.books.type] / 60.0 * UUSD
                     if crowd and np.isfinite(lowest) else 0.0)
            m.books.floor_uusd = np.where(m.books.is_crowd, np.maximum(self._table_floor, np.rint(least)),
                                          self._table_floor)

    def start_week(self, m: Context, now: float) -> None:
        """Vendors pay at least the floor by the hour, from the start week."""
        if "vendor" not in self.p.channels or not in_force(self.p, now):
            return
        pool, a = m.pool, m.active
        v = self.covered(m, a[pool.channel[a] == VENDOR])
        floor = self._floor(m)
        pool.wage_uusd_h[v] = np.maximum(pool.wage_uusd_h[v],
                                         np.rint(floor[pool.region[v]] * UUSD).astype(np.int64))

    def weekly_money(self, m: Context, a: np.ndarray, week_start_h: float) -> None:
        """Crowd platforms top the week's pay up to the floor over paid and unpaid hours."""
        if "crowd" not in self.p.channels or not self.active(week_start_h):
            return
        pool = m.pool
        c = self.covered(m, a[pool.channel[a] == CROWD])
        # The platform counts search up to a cap per paid hour (``counted_search_min_per_paid_hour``); at
        # its maximum, the default, all search counts, in a week without a paid task too.
        limit = self.p.counted_search_min_per_paid_hour
        cap = np.inf if limit >= ALL_SEARCH_MIN else limit / 60.0 * pool.wk_paid_h[c]
        hours = pool.wk_paid_h[c] + np.minimum(pool.wk_unpaid_h[c], cap)
        # Rounded up to the micro-dollar: a topped-up week never pays below the floor.
        up = np.ceil(floor_topup(pool.wk_earn_uusd[c].astype(float), hours,
                                 self._floor(m)[pool.region[c]] * UUSD)).astype(np.int64)
        pool.wk_earn_uusd[c] += up
        post_home(m, c, {"earnings_uusd": up, "topup_uusd": up, "requester_spend_uusd": up})
