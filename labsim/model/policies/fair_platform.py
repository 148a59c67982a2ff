"""A fair platform: a low commission, rejected work paid, and a growing share of the market.

From the start week a platform with a ``commission`` below the incumbent's
(one rate for all batch sizes), which pays rejected work at the rate of the
batches the worker was taking when ``pays_rejections``, wins a share of the open crowd batches rising
linearly to ``market_share`` over ``ramp_weeks``. Its books sit beside the
incumbent's; workers prefer them where all their work is paid. It is a
certified channel for due-diligence rules. Its tasks are counted in
``tasks_done_fair``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labsim.model.books import BookSpec
from labsim.model.context import Context
from labsim.model.policies.base import Policy
from labsim.model.units import CROWD, HOURS_PER_WEEK

if TYPE_CHECKING:
    from labsim.config import TaskTypeConfig


def ramp(now_h: float, start_week: float, ramp_weeks: float, target: float) -> float:
    """A share growing linearly from 0 at ``start_week`` to ``target`` ``ramp_weeks`` later."""
    weeks = now_h / HOURS_PER_WEEK - start_week
    if weeks < 0:
        return 0.0
    return float(target * min(1.0, weeks / ramp_weeks)) if ramp_weeks > 0 else float(target)


class FairPlatform(Policy):
    name = "fair_platform"

    def books(self, t: int, tt: TaskTypeConfig) -> list[BookSpec]:
        everyone = np.ones(len(self.cfg.regions), bool)
        return [BookSpec(t, CROWD, everyone, group_share=0.0, alt_platform=True, certified=True,
                         commission=self.p.commission, pays_rejections=self.p.pays_rejections,
                         count_as="tasks_done_fair")]

    def set_levers(self, m: Context, now: float) -> None:
        m.state.levers.alt_platform_share = ramp(now, self.p.start_week, self.p.ramp_weeks,
                                                 self.p.market_share)
