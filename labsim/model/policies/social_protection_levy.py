"""A social-protection levy and the fund it pays for.

A levy of ``share_of_pay`` on all pay, charged to requesters, goes into a
fund. A worker who burns out gets ``leave_weeks`` of paid leave and comes
back instead of leaving; those on leave and those who quit (for
``between_jobs_weeks``) receive ``replacement_rate`` of their recent weekly
earnings. The public purse covers any deficit of the fund. It covers the
workers of ``regions`` (empty: every region): only their pay is levied and
only they are insured.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.policies.base import Policy, post_home
from labsim.model.state import EXIT_BURNOUT, EXIT_NONE
from labsim.model.units import HOURS_PER_WEEK, UUSD

FUND = "fund_balance_uusd"  # the fund's balance, kept beside the run's totals


def fund_shortfall(balance: int, due: int) -> int:
    """What the public purse adds so that a fund holding ``balance`` pays ``due`` in full."""
    return max(0, due - balance)


class SocialProtectionLevy(Policy):
    name = "social_protection_levy"

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self.fund_uusd = 0

    def set_levers(self, m: Context, now: float) -> None:
        """Vendors pass the levy on their covered staff's pay on in their bill."""
        on = self.active(now)
        m.state.levers.vendor_pay_levy = np.where(on & self.region_mask(m), self.p.share_of_pay, 0.0)

    def weekly_money(self, m: Context, a: np.ndarray, week_start_h: float) -> None:
        if not self.active(week_start_h):
            return
        a = self.covered(m, a)
        levy = np.rint(self.p.share_of_pay * m.pool.wk_earn_uusd[a]).astype(np.int64)
        self._fund(m, int(levy.sum()))
        post_home(m, a, {"levy_uusd": levy, "requester_spend_uusd": levy})

    def _fund(self, m: Context, change: int) -> None:
        self.fund_uusd += change
        m.accounts.balances[FUND] += change

    def exits(self, m: Context, a: np.ndarray, reasons: np.ndarray, week_end: float) -> np.ndarray:
        """Paid leave instead of a burnout exit; benefits for those on leave and those who quit."""
        if not self.active(m.week_start_h):
            return reasons
        mine = np.isin(a, self.covered(m, a))
        if not mine.all():
            out = reasons.copy()
            out[mine] = self.exits(m, a[mine], reasons[mine], week_end) if mine.any() else reasons[mine]
            return out
        lv, pool = self.p, m.pool
        weekly = pool.ew_earn_usd[a] / self.cfg.workers.wage_memory_weeks * UUSD  # recent weekly pay
        burnt = reasons == EXIT_BURNOUT
        pool.leave_until_h[a[burnt]] = week_end + lv.leave_weeks * HOURS_PER_WEEK
        reasons = np.where(burnt, EXIT_NONE, reasons).astype(reasons.dtype)
        on_leave = pool.leave_until_h[a] > week_end
        quit_ = reasons != EXIT_NONE
        due = np.rint(lv.replacement_rate * weekly * (on_leave + quit_ * lv.between_jobs_weeks)).astype(np.int64)
        if not due.any():
            return reasons
        total = int(due.sum())
        public = fund_shortfall(self.fund_uusd, total)
        self._fund(m, public - total)
        pub = np.rint(due / due.sum() * public).astype(np.int64)
        pub[np.argmax(due)] += public - int(pub.sum())  # whole µUSD, summing exactly
        post_home(m, a, {"benefits_uusd": due, "public_spend_uusd": pub})
        return reasons
