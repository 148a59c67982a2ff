"""Moderator wellbeing: stress from toxic exposure, recovery, burnout.

Each worker carries a stress level (dimensionless; burnout at
``burnout_threshold``, 1 by default). Every hour of exposure to toxic
material adds ``stress_per_toxic_hour`` x the task type's toxicity x the
worker's sensitivity (log-normal across workers: people differ); every week
a share of the stress fades (exponential recovery with rest). Psychological
support lowers the accumulation and speeds the recovery. Stress above the
burnout threshold ends the job (exit reason ``burnout``); on the way, it
raises the share of the worker's tasks that are rejected.

The rules are pure functions over numpy arrays, applied to every worker at
once at the weekly tick. Workers present at the start of a run carry the
stress their tenure at their usual exposure has left (``warm_stress``).
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.jit import njit
from labsim.model.units import HOURS_PER_WEEK, VENDOR


def stress_update(stress: np.ndarray, toxic_hours: np.ndarray, sensitivity: np.ndarray,
                  per_toxic_hour: float, recovery_per_week: float,
                  support_accumulation: float = 1.0, support_recovery: float = 1.0) -> np.ndarray:
    """Stress after one week: what is left after recovery, plus the week's exposure.

    ``toxic_hours`` are hours of exposure weighted by toxicity. Recovery
    removes a share 1 - exp(-recovery_per_week x support_recovery) of last
    week's stress; exposure adds per_toxic_hour x support_accumulation x
    sensitivity x toxic hours. Never negative; with no exposure stress only
    falls.
    """
    kept = np.exp(-recovery_per_week * support_recovery)
    added = per_toxic_hour * support_accumulation * sensitivity * np.maximum(toxic_hours, 0.0)
    return np.maximum(stress, 0.0) * kept + added


def stress_reject_penalty(stress: np.ndarray, burnout_threshold: float, penalty_at_burnout: float) -> np.ndarray:
    """Extra rejection probability from stress: linear up to ``penalty_at_burnout`` at burnout."""
    return penalty_at_burnout * np.minimum(np.maximum(stress / burnout_threshold, 0.0), 1.0)


_stress_reject_penalty = njit(stress_reject_penalty)  # the same rule, compiled for one worker at a time


def burned_out(stress: np.ndarray, burnout_threshold: float) -> np.ndarray:
    return stress >= burnout_threshold


def update_stress(m: Context, a: np.ndarray, week_end: float) -> np.ndarray:
    """The week's recovery and exposure for workers ``a``; returns who burned out.

    Support (a policy lever) multiplies build-up and recovery, in the regions
    it covers. Workers on paid leave do not burn out again while on leave.
    """
    pool, wb, levers = m.pool, m.cfg.wellbeing, m.state.levers
    covered = levers.support_region[pool.region[a]] if levers.support_region.size else True
    acc_f = wb.support_accumulation_factor * np.where(covered, levers.stress_accumulation, 1.0)
    rec_f = wb.support_recovery_factor * np.where(covered, levers.stress_recovery, 1.0)
    stress = stress_update(pool.stress[a], pool.wk_toxic_h[a], pool.sensitivity[a],
                           wb.stress_per_toxic_hour, wb.recovery_per_week, acc_f, rec_f)
    pool.stress[a] = stress
    pool.peak_stress[a] = np.maximum(pool.peak_stress[a], stress)
    pool.toxic_hours[a] += pool.wk_toxic_h[a]
    on_leave = pool.leave_until_h[a] > week_end
    return burned_out(stress, wb.burnout_threshold) & ~on_leave


def weekly_hours(m: Context, idx: np.ndarray) -> np.ndarray:
    """The hours workers ``idx`` are online in a usual week: shifts or sessions."""
    cfg, pool = m.cfg, m.pool
    return np.where(pool.channel[idx] == VENDOR, cfg.vendor.shift_hours * cfg.vendor.shift_days_per_week,
                    pool.session_h[idx] * cfg.workers.days_per_week)


def warm_stress(m: Context, idx: np.ndarray, tenure_h: np.ndarray) -> None:
    """Stress of workers present at t = 0: what their tenure at their usual exposure left.

    Exposure is the weekly hours of their main task type times its
    toxicity; stress approaches its steady state with the recovery rate.
    Those above burnout would have left already: survivors stay below
    ``initial_stress_cap`` x the burnout threshold.
    """
    pool, wb = m.pool, m.cfg.wellbeing
    weekly_h = weekly_hours(m, idx)
    exposure = weekly_h * m.types.toxicity[pool.main_type[idx]]
    kept = np.exp(-wb.recovery_per_week * wb.support_recovery_factor)
    steady = (wb.stress_per_toxic_hour * wb.support_accumulation_factor * pool.sensitivity[idx]
              * exposure / (1.0 - kept))
    stress = steady * (1.0 - kept ** (tenure_h / HOURS_PER_WEEK))
    pool.stress[idx] = np.minimum(stress, wb.initial_stress_cap * wb.burnout_threshold)
    pool.peak_stress[idx] = pool.stress[idx]
