"""Hours: crowd workers work longer when their work pays more above their reservation wage.

A crowd worker's daily session is its usual length (drawn when it joined)
times ``(w / r)^eta``, with ``w`` its recent effective wage (the one its
quit decision weighs), ``r`` its reservation wage and ``eta`` the
elasticity of labour supply to the wage (about 0.43 for Mechanical Turk
workers: Horton and Chilton, The Labor Economics of Paid Crowdsourcing,
2010), bounded by ``hours_factor_min`` and ``hours_factor_max`` and the
longest session. This is the market's quick answer to a price change: when
rates fall, the crowd works fewer hours, tasks wait longer and requesters,
who see their tasks taken more slowly, pay more again. Before a worker has
any hours it works its usual session.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.rules.turnover import recent_wage
from labsim.model.units import CROWD


def hours_factor(wage_usd_h: np.ndarray, reservation_usd_h: np.ndarray, eta: float, lo: float,
                 hi: float) -> np.ndarray:
    """Session length against the usual one: ``(wage / reservation)^eta`` within [lo, hi]."""
    ratio = np.divide(wage_usd_h, reservation_usd_h, out=np.ones(np.shape(wage_usd_h)),
                      where=np.asarray(reservation_usd_h) > 0)
    return np.clip(np.maximum(ratio, 1e-9) ** eta, lo, hi)


def adjust_sessions(m: Context, a: np.ndarray) -> None:
    """Set next week's session length of the crowd workers among ``a`` from their recent wage."""
    pool, w = m.pool, m.cfg.workers
    c = a[pool.channel[a] == CROWD]
    res = pool.reservation_wage[c]
    recent = recent_wage(pool.ew_earn_usd[c], pool.ew_hours[c], res)
    factor = hours_factor(recent, res, w.labour_supply_elasticity, w.hours_factor_min, w.hours_factor_max)
    pool.session_h[c] = np.minimum(pool.usual_session_h[c] * factor, w.max_session_h)


def warm_sessions(m: Context, idx: np.ndarray) -> None:
    """Workers ``idx`` present at t = 0 (drawn, not stored) have earned, recently, what their
    region's crowd earns (its expected wage, where known): their recent wage and sessions start
    from there."""
    pool, w = m.pool, m.cfg.workers
    c = idx[pool.channel[idx] == CROWD]
    expected = m.state.expected_wage[pool.region[c]]
    known = np.isfinite(expected)
    c, expected = c[known], expected[known]
    pool.ew_hours[c] = pool.usual_session_h[c] * w.days_per_week * w.wage_memory_weeks
    pool.ew_earn_usd[c] = pool.ew_hours[c] * expected
    adjust_sessions(m, c)
