"""Automation: the workers' own labels train the models that replace them.

For each automatable task type, the share of new tasks a model does follows
a learning curve in the cumulative number of human labels of that type
(per unit of ``scale``, so that a scaled-down world automates at the same
pace): a logistic curve in log-labels, rising from 0 towards ``ceiling``,
half-way at ``half_labels``. A share ``qa_share`` of the model's tasks still
goes to humans as quality-assurance review; the rest costs the requester a
small compute price per task. Automation also creates work: evaluation types
(RLHF preference, safety evaluation) see their demand grow with the average
automation share.

Pure functions; the market applies them to every new batch.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context


def automation_share(labels: np.ndarray, ceiling: np.ndarray, half_labels: np.ndarray,
                     steepness: np.ndarray) -> np.ndarray:
    """Share of new tasks done by a model after ``labels`` cumulative human labels."""
    ratio = np.divide(np.maximum(labels, 0.0), half_labels, out=np.zeros(np.shape(labels)),
                      where=np.asarray(half_labels) > 0)
    x = ratio ** steepness
    # x / (1 + x) <= 1 in floating point; ceiling * x / (1 + x) could round above the ceiling.
    return ceiling * (x / (1.0 + x))


def split_tasks(size: np.ndarray, share: np.ndarray, qa_share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tasks left to humans, tasks done by the model) of new batches.

    The model takes ``share`` of each batch; ``qa_share`` of those come back
    to humans for review. Counts are whole tasks and add up to ``size``.
    """
    automated = np.floor(size * share * (1.0 - qa_share) + 0.5).astype(np.int64)
    automated = np.clip(automated, 0, size)
    return size - automated, automated


def evaluation_demand(mean_share: float, boost: float) -> float:
    """Multiplier of evaluation work's demand when a mean share ``mean_share`` is automated."""
    return 1.0 + boost * mean_share


def update_automation(m: Context) -> None:
    """Automation shares from cumulative labels, and the evaluation work they create.

    Reads the labels learnt so far; writes each type's automation share and
    the demand multiplier of evaluation work.
    """
    types, state = m.types, m.state
    state.auto_share = automation_share(state.labels, types.automation_ceiling,
                                        types.automation_half_labels, types.automation_steepness)
    auto = types.automation_ceiling > 0
    state.eval_multiplier = evaluation_demand(
        float(state.auto_share[auto].mean()) if auto.any() else 0.0, m.cfg.automation.eval_demand_boost)


def learn_from_week(m: Context) -> None:
    """Models learn from the week's accepted human labels (counted per unit of scale)."""
    state = m.state
    state.labels += state.week_labels / m.cfg.scale
    state.week_labels[:] = 0.0
    update_automation(m)
