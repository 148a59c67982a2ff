"""Psychological support for workers on toxic task types.

Counselling makes stress build more slowly (x ``accumulation_factor``) and
fade faster (x ``recovery_factor``) for the workers of the regions it
covers (``regions``; empty: every region), from the start week. It costs
``cost_usd_per_hour`` per hour of their work on task types of toxicity at
least ``min_toxicity``, paid by requesters.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.policies.base import Policy, post_home
from labsim.model.units import UUSD


class PsychSupport(Policy):
    name = "psych_support"

    def set_levers(self, m: Context, now: float) -> None:
        on = self.active(now)
        m.state.levers.stress_accumulation = self.p.accumulation_factor if on else 1.0
        m.state.levers.stress_recovery = self.p.recovery_factor if on else 1.0
        m.state.levers.support_region = self.region_mask(m)

    def weekly_money(self, m: Context, a: np.ndarray, week_start_h: float) -> None:
        supported = m.types.toxicity >= self.p.min_toxicity
        if not self.active(week_start_h) or not supported.any():
            return
        a = self.covered(m, a)
        h = m.pool.wk_hours_type[a][:, supported].sum(axis=1)
        support = np.rint(h * self.p.cost_usd_per_hour * UUSD).astype(np.int64)
        post_home(m, a, {"support_cost_uusd": support, "requester_spend_uusd": support})
