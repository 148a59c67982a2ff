"""Word of mouth: what potential workers expect to earn in each region.

Each week a region's expected effective wage moves towards what its crowd
workers actually earned per hour online that week (earnings over paid plus
unpaid hours), exponentially weighted over ``word_of_mouth_weeks``. Before a
region has any crowd hours, its newcomers go by the world's average of the
regions that have; before any region has, the market looks boundless.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.units import CROWD


def expected_wage(expected: np.ndarray, r: int) -> float:
    """Region r's expected effective wage; before it has any, the world's."""
    if np.isfinite(expected[r]):
        return float(expected[r])
    known = expected[np.isfinite(expected)]
    return float(known.mean()) if known.size else np.inf


def smooth(old: np.ndarray, observed: np.ndarray, seen: np.ndarray, weeks: float) -> np.ndarray:
    """Exponential smoothing over ``weeks``; the first observation replaces a missing value."""
    alpha = 1.0 / weeks
    first = seen & ~np.isfinite(old)
    return np.where(first, observed, np.where(seen, (1 - alpha) * old + alpha * observed, old))


def hear(m: Context, a: np.ndarray, earn_usd: np.ndarray, hours: np.ndarray) -> None:
    """Update each region's expected wage from its crowd workers' week (of workers ``a``)."""
    pool, n = m.pool, m.regions.n
    crowd = (pool.channel[a] == CROWD) & (hours > 0)
    reg = pool.region[a][crowd]
    earned = np.bincount(reg, weights=earn_usd[crowd], minlength=n)
    worked = np.bincount(reg, weights=hours[crowd], minlength=n)
    seen = worked > 0
    observed = np.divide(earned, worked, out=np.zeros(n), where=seen)
    m.state.expected_wage = smooth(m.state.expected_wage, observed, seen, m.cfg.workers.word_of_mouth_weeks)
