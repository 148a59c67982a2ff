"""Turnover: workers weigh what they earn against their outside option, and some leave.

Each week a worker's recent effective wage (earnings over paid plus unpaid
hours, exponentially weighted over ``wage_memory_weeks``) is compared with
its reservation wage. The low-pay hazard rises linearly with the relative
shortfall; a base hazard covers every other reason (vendor staff have their
own). One uniform draw per worker decides: below the low-pay part the exit
reason is ``low_pay``, else up to the total it is ``other``. Burnout exits
come from wellbeing; a policy may turn an exit into paid leave.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.state import EXIT_LOW_PAY, EXIT_NONE, EXIT_OTHER
from labsim.model.units import VENDOR


def quit_hazard(effective_wage_usd_h: np.ndarray, reservation_wage_usd_h: np.ndarray,
                base_hazard: float | np.ndarray, low_pay_hazard: float) -> tuple[np.ndarray, np.ndarray]:
    """Weekly probability of quitting, and its low-pay part.

    The low-pay hazard rises linearly with the relative shortfall of the
    recent effective wage below the reservation wage (0 when the wage meets
    it, ``low_pay_hazard`` when the worker earns nothing); the base hazard
    covers every other reason. The two are independent risks.
    """
    shortfall = np.clip(1.0 - effective_wage_usd_h / reservation_wage_usd_h, 0.0, 1.0)
    low_pay = low_pay_hazard * shortfall
    total = 1.0 - (1.0 - base_hazard) * (1.0 - low_pay)
    return total, low_pay


def exit_reasons(u: np.ndarray, total: np.ndarray, low_pay: np.ndarray) -> np.ndarray:
    """Exit reason codes from one uniform draw per worker.

    u < low_pay quits for low pay; low_pay <= u < total quits for other
    reasons. One draw per worker keeps the lottery coupled across scenarios:
    with the same draw, a larger shortfall can only turn a stay into an exit.
    """
    reasons = np.full(u.shape, EXIT_NONE, np.int8)
    reasons[u < total] = EXIT_OTHER
    reasons[u < low_pay] = EXIT_LOW_PAY
    return reasons


def recent_wage(earn_usd: np.ndarray, hours: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Recent effective wage; ``fallback`` (the reservation wage) before any hour:
    without hours a worker has no evidence of low pay."""
    return np.divide(earn_usd, hours, out=fallback.copy(), where=hours > 0)


def draw_quits(m: Context, a: np.ndarray, present: np.ndarray, earn_usd: np.ndarray,
               hours: np.ndarray) -> np.ndarray:
    """Update each worker's recent effective wage and draw this week's exits (stream ``quits``)."""
    pool, w = m.pool, m.cfg.workers
    alpha = 1.0 / w.wage_memory_weeks
    pool.ew_earn_usd[a] = (1 - alpha) * pool.ew_earn_usd[a] + earn_usd
    pool.ew_hours[a] = (1 - alpha) * pool.ew_hours[a] + hours
    res = pool.reservation_wage[a]
    recent = recent_wage(pool.ew_earn_usd[a], pool.ew_hours[a], res)
    vendor = pool.channel[a] == VENDOR
    base = np.where(vendor, w.vendor_quit_hazard_per_week, w.base_quit_hazard_per_week)
    total, low_pay = quit_hazard(recent, res, base, w.low_pay_quit_hazard_per_week)
    # Each worker's own draw this week (keyed by its identity): who else is present does not change it.
    u = m.rng.keyed_uniforms("quits", m.week.number, pool.key[a])
    reasons = exit_reasons(u, total, low_pay)
    reasons[~present] = EXIT_NONE
    return reasons
