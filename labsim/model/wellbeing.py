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
once at the weekly tick.
"""

from __future__ import annotations

import numpy as np


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
    return penalty_at_burnout * np.clip(stress / burnout_threshold, 0.0, 1.0)


def burned_out(stress: np.ndarray, burnout_threshold: float) -> np.ndarray:
    return stress >= burnout_threshold
