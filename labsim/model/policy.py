"""Policy rules as pure functions: when a policy is in force and what it pays.

The market (labsim/model/market.py) calls these at its weekly tick and in
its hourly cohorts; the configuration of each policy, with who pays for it,
is in labsim/config.py (``PolicyConfig``). Keeping the rules here makes them
testable on their own and keeps the kernel's bookkeeping in one place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

HOURS_PER_WEEK = 168.0


def in_force(policy: Any, now_h: float) -> bool:
    """Whether ``policy`` (a dataclass with ``enabled`` and ``start_week``) applies at ``now_h``."""
    return bool(policy.enabled) and now_h >= policy.start_week * HOURS_PER_WEEK - 1e-9


def hourly_floor(local_min_wage: np.ndarray, usd_h: float, local_multiple: float) -> np.ndarray:
    """The effective hourly floor per region: the higher of the global and the local one."""
    return np.maximum(usd_h, local_multiple * np.asarray(local_min_wage, float))


def floor_topup(earnings: np.ndarray, hours: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """What lifts each worker's pay for ``hours`` (paid and unpaid) to ``floor`` an hour."""
    return np.maximum(0.0, floor * hours - earnings)


def search_compensation(earnings: np.ndarray, paid_h: np.ndarray, unpaid_h: np.ndarray,
                        fallback_rate: np.ndarray, share: float) -> np.ndarray:
    """Pay for ``share`` of the unpaid hours at the week's paid hourly rate
    (``fallback_rate`` for a worker with no paid hour that week)."""
    rate = np.divide(earnings, paid_h, out=np.asarray(fallback_rate, float).copy(), where=paid_h > 0)
    return share * unpaid_h * rate


def ramp(now_h: float, start_week: float, ramp_weeks: float, target: float) -> float:
    """A share growing linearly from 0 at ``start_week`` to ``target`` ``ramp_weeks`` later."""
    weeks = now_h / HOURS_PER_WEEK - start_week
    if weeks < 0:
        return 0.0
    return float(target * min(1.0, weeks / ramp_weeks)) if ramp_weeks > 0 else float(target)


def exposure_allowance(max_hours_per_day: float, days_per_week: np.ndarray,
                       exposed_so_far: np.ndarray) -> np.ndarray:
    """Hours of toxic work a worker may still do this week under a daily cap."""
    return np.maximum(0.0, max_hours_per_day * days_per_week - exposed_so_far)


def fund_shortfall(balance: int, due: int) -> int:
    """What the public purse adds so that a fund holding ``balance`` pays ``due`` in full."""
    return max(0, due - balance)
