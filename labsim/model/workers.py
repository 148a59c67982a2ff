"""Workers: who they are, when they are online, and when they quit.

Each worker has a region, a channel (the open crowd platform or a vendor), a
reservation wage, a skill per task type, a weekly hours target and a schedule
in local time: crowd workers log in for a daily session from their preferred
local hour on about ``days_per_week`` days; vendor staff work fixed shifts.
State is held column-wise in numpy arrays (one row per worker ever present) so
the weekly update touches every worker in one vectorised step.

The decision rules are pure functions, tested without SimPy.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_STD_NORMAL = NormalDist()

CROWD, VENDOR = 0, 1
EXIT_NONE, EXIT_LOW_PAY, EXIT_BURNOUT, EXIT_OTHER = 0, 1, 2, 3
EXIT_REASONS = ("", "low_pay", "burnout", "other")


# --- pure rules -------------------------------------------------------------------

def quit_hazard(effective_wage_usd_h: np.ndarray, reservation_wage_usd_h: np.ndarray,
                base_hazard: float, low_pay_hazard: float) -> tuple[np.ndarray, np.ndarray]:
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


def session_phase(utc_offset_h: np.ndarray, start_local_h: np.ndarray) -> np.ndarray:
    """Phase such that hours into today's session = (now + phase) mod 24."""
    return utc_offset_h - start_local_h


def session_fraction(now_h: float, phase_h: np.ndarray, session_h: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Share of the hour [now, now+1) inside each worker's daily session window.

    Returns (fraction online in [0, 1], True where the session starts this hour).
    """
    elapsed = (now_h + phase_h) % 24.0
    return np.clip(session_h - elapsed, 0.0, 1.0), elapsed < 1.0


def shift_fraction(now_h: float, utc_offset_h: np.ndarray, start_local_h: np.ndarray,
                   shift_h: float, days_per_week: int) -> np.ndarray:
    """Share of the hour inside a vendor shift (Monday to Friday by default)."""
    local = now_h + utc_offset_h - start_local_h
    day = np.floor(local / 24.0) % 7
    elapsed = local % 24.0
    return np.where(day < days_per_week, np.clip(shift_h - elapsed, 0.0, 1.0), 0.0)


def tasks_per_hour(duration_mean_min: np.ndarray, skill: np.ndarray, novice_slowdown: float) -> np.ndarray:
    """Tasks finished per hour of work: novices are ``novice_slowdown`` times slower."""
    return 60.0 / (duration_mean_min * (1.0 + (novice_slowdown - 1.0) * (1.0 - skill)))


def reject_probability(skill: np.ndarray, novice: np.ndarray, expert: np.ndarray) -> np.ndarray:
    """Share of a worker's tasks rejected: linear from novice (skill 0) to expert (skill 1)."""
    return novice + (expert - novice) * skill


def lognormal_cdf(x: float, median: float, sigma: float) -> float:
    """P(X <= x) for a log-normal X with this median and log-sd."""
    if x <= 0:
        return 0.0
    if not math.isfinite(x):
        return 1.0
    return _STD_NORMAL.cdf(math.log(x / median) / sigma)


def truncated_lognormal(rng: np.random.Generator, median: float, sigma: float, upper_cdf: float,
                        k: int) -> np.ndarray:
    """k log-normal draws conditioned to lie below the quantile ``upper_cdf`` (inverse CDF)."""
    u = rng.uniform(0.0, 1.0, k) * min(max(upper_cdf, 1e-12), 1.0)
    u = np.clip(u, 1e-12, 1 - 1e-12)
    z = np.array([_STD_NORMAL.inv_cdf(float(x)) for x in u])
    return median * np.exp(sigma * z)


def learn(skill: np.ndarray, hours: np.ndarray, learning_hours: float,
          ceiling: np.ndarray | float = 1.0) -> np.ndarray:
    """Learning by doing: each hour of work on a type closes part of the gap to the ceiling.

    After ``learning_hours`` hours on a type a worker has closed 63 % (1 - 1/e)
    of its gap to its ceiling (its ability at the type, at most 1); skill
    never falls and never passes the ceiling.
    """
    ceiling = np.maximum(ceiling, skill)
    return ceiling - (ceiling - skill) * np.exp(-np.maximum(hours, 0.0) / learning_hours)


def approval_rate(accepted: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Reputation: share of a worker's tasks accepted so far (1 before any task)."""
    return np.divide(accepted, done, out=np.ones(np.shape(done)), where=np.asarray(done) > 0)


def qualified(accepted: np.ndarray, done: np.ndarray, min_approved: float, min_rate: float) -> np.ndarray:
    """Platforms' qualification: enough approved tasks at a high enough approval rate."""
    return (accepted >= min_approved) & (approval_rate(accepted, done) >= min_rate)


def night_share(local_hour: np.ndarray, night_start: float = 22.0, night_end: float = 6.0) -> np.ndarray:
    """Share of the hour [h, h+1) local time that falls in the night (22:00-06:00)."""
    h = np.mod(local_hour, 24.0)
    # overlap of [h, h+1) with [night_start, 24) and with [0, night_end), counting the wrap
    late = np.clip(np.minimum(h + 1.0, 24.0) - np.maximum(h, night_start), 0.0, 1.0)
    early = np.clip(np.minimum(h + 1.0, night_end) - h, 0.0, 1.0)
    wrap = np.clip(h + 1.0 - 24.0, 0.0, night_end)
    return np.minimum(late + early + wrap, 1.0)


# --- state ------------------------------------------------------------------------

_COLUMNS: dict[str, tuple[type, object]] = {
    # identity and schedule
    "region": (np.int16, 0), "channel": (np.int8, 0), "team": (np.int16, -1),
    "joined_h": (np.float64, 0.0), "left_h": (np.float64, np.nan),
    "exit_reason": (np.int8, EXIT_NONE), "reservation_wage": (np.float64, 0.0),
    "utc_offset": (np.float64, 0.0), "start_local_h": (np.float64, 0.0),
    "session_h": (np.float64, 0.0), "wage_uusd_h": (np.int64, 0),
    "workday": (np.bool_, False), "main_type": (np.int16, 0),
    # recent effective wage: exponentially weighted earnings and hours
    "ew_earn_usd": (np.float64, 0.0), "ew_hours": (np.float64, 0.0),
    # this week
    "wk_paid_h": (np.float64, 0.0), "wk_unpaid_h": (np.float64, 0.0),
    "wk_earn_uusd": (np.int64, 0), "wk_tasks": (np.int64, 0), "wk_rejected": (np.int64, 0),
    "wk_toxic_h": (np.float64, 0.0), "wk_night_h": (np.float64, 0.0),
    # the KPI window (after warm-up)
    "win_paid_h": (np.float64, 0.0), "win_unpaid_h": (np.float64, 0.0),
    "win_earn_uusd": (np.int64, 0), "win_tasks": (np.int64, 0), "win_rejected": (np.int64, 0),
    "win_night_h": (np.float64, 0.0),
    # wellbeing, reputation and training, over the worker's whole stay
    "stress": (np.float64, 0.0), "peak_stress": (np.float64, 0.0), "sensitivity": (np.float64, 1.0),
    "toxic_hours": (np.float64, 0.0), "accepted_total": (np.int64, 0), "done_total": (np.int64, 0),
    "certified": (np.bool_, False), "enrolled": (np.bool_, False),
    "training_left_h": (np.float64, 0.0), "training_h": (np.float64, 0.0),
    # policies: hours on capped (toxic) task types and in training this week;
    # paid leave after burnout lasts until this hour
    "wk_exposed_h": (np.float64, 0.0), "wk_train_h": (np.float64, 0.0),
    "leave_until_h": (np.float64, -np.inf),
}


class WorkerPool:
    """Column store of all workers ever present; rows are never removed."""

    def __init__(self, n_types: int, capacity: int = 1024,
                 matrices: dict[str, tuple[int, type]] | None = None) -> None:
        self.n = 0
        self._cap = max(16, capacity)
        # Per-worker rows of width n: skill and hours per task type, plus any
        # per-book caches a model keeps (name -> (width, dtype)).
        self._matrices = {"skill": (n_types, np.float64), "skill_cap": (n_types, np.float64),
                          "wk_hours_type": (n_types, np.float64),
                          **(matrices or {})}
        for name, (dtype, fill) in _COLUMNS.items():
            setattr(self, name, np.full(self._cap, fill, dtype))
        for name, (width, dtype) in self._matrices.items():
            setattr(self, name, np.zeros((self._cap, width), dtype))

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        for name, (dtype, fill) in _COLUMNS.items():
            old = getattr(self, name)
            new = np.full(cap, fill, dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        for name, (width, dtype) in self._matrices.items():
            new = np.zeros((cap, width), dtype)
            new[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, new)
        self._cap = cap

    def add(self, k: int, **columns: np.ndarray) -> np.ndarray:
        """Append k workers with the given columns; return their row indices."""
        if self.n + k > self._cap:
            self._grow(self.n + k)
        idx = np.arange(self.n, self.n + k)
        for name, values in columns.items():
            getattr(self, name)[idx] = values
        self.n += k
        return idx
