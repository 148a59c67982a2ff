"""Paid search and rejections: crowd platforms pay for the time their rules leave unpaid.

A share ``share`` of each crowd worker's unpaid hours (searching for tasks,
work that was rejected) becomes paid time, at the worker's paid hourly rate
of the week (its recent effective wage if it had no paid hour), for the
crowd workers of ``regions`` (empty: every region). Paid by requesters
through the platform.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.policies.base import Policy, post_home
from labsim.model.units import CROWD, UUSD


def search_compensation(earnings: np.ndarray, paid_h: np.ndarray, unpaid_h: np.ndarray,
                        fallback_rate: np.ndarray, share: float) -> np.ndarray:
    """Pay for ``share`` of the unpaid hours at the week's paid hourly rate
    (``fallback_rate`` for a worker with no paid hour that week)."""
    rate = np.divide(earnings, paid_h, out=np.asarray(fallback_rate, float).copy(), where=paid_h > 0)
    return share * unpaid_h * rate


class PaidSearch(Policy):
    name = "paid_search_and_rejections"

    def weekly_money(self, m: Context, a: np.ndarray, week_start_h: float) -> None:
        if not self.active(week_start_h):
            return
        pool, share = m.pool, self.p.share
        c = self.covered(m, a[pool.channel[a] == CROWD])
        unpaid = pool.wk_unpaid_h[c]
        recent = np.divide(pool.ew_earn_usd[c], pool.ew_hours[c], out=np.zeros(c.size),
                           where=pool.ew_hours[c] > 0) * UUSD
        comp = np.rint(search_compensation(pool.wk_earn_uusd[c].astype(float), pool.wk_paid_h[c],
                                           unpaid, recent, share))
        pool.wk_paid_h[c] += share * unpaid
        pool.wk_unpaid_h[c] -= share * unpaid
        post_home(m, c, {"paid_hours": share * unpaid, "unpaid_hours": -share * unpaid})
        pool.wk_earn_uusd[c] += comp.astype(np.int64)
        post_home(m, c, {"earnings_uusd": comp, "topup_uusd": comp, "requester_spend_uusd": comp})
