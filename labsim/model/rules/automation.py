"""Automation: the workers' own labels train the models that replace them.

For each automatable task type, a model's quality follows a learning curve
in the cumulative number of human labels of that type (per unit of
``scale``, so that a scaled-down world automates at the same pace): a
logistic curve in log-labels, half-way at ``half_labels`` (labels are
accepted tasks: rejected work teaches nothing). At the baseline's costs and
with no LLM labels the model's share of new tasks is that curve times the
type's ``ceiling`` (the share of its tasks a machine can do at all); the
channel choice (``routing``) moves it with the margin people's cost leaves
over the model's, never above the ceiling. A share
``qa_share`` of the automated tasks still goes to humans as quality-assurance
review; the rest costs the requester a compute (or LLM) price per task.
Automation also creates work: evaluation types (RLHF preference, safety
evaluation) see their demand grow with the average automation share.

Pure functions; the market applies them to every new batch.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.jit import njit


def automation_odds(labels: np.ndarray, half_labels: np.ndarray, steepness: np.ndarray) -> np.ndarray:
    """The learning curve's odds after ``labels`` cumulative human labels, ``(labels / half)^steepness``:
    at the start's costs, of the tasks a model can do, it does ``x / (1 + x)``."""
    ratio = np.divide(np.maximum(labels, 0.0), half_labels, out=np.zeros(np.shape(labels)),
                      where=np.asarray(half_labels) > 0)
    return ratio ** steepness


def split_tasks(size: np.ndarray, share: np.ndarray, qa_share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tasks left to humans, tasks done by the model) of new batches.

    The model takes ``share`` of each batch; ``qa_share`` of those come back
    to humans for review. Counts are whole tasks and add up to ``size``.
    """
    size, share, qa_share = np.broadcast_arrays(np.asarray(size, np.int64), np.asarray(share, float),
                                                np.asarray(qa_share, float))
    automated = _split(size.ravel(), share.ravel(), qa_share.ravel()).reshape(size.shape)
    return size - automated, automated


@njit
def _split(size, share, qa_share):  # pragma: no cover - compiled
    out = np.empty(size.size, np.int64)
    for i in range(size.size):
        out[i] = _automated(size[i], share[i], qa_share[i])
    return out


@njit
def _automated(size, share, qa_share):  # pragma: no cover - compiled
    """Tasks of a batch of ``size`` the model does: its share, less the review, rounded."""
    return min(max(np.int64(np.floor(size * share * (1.0 - qa_share) + 0.5)), 0), size)


def evaluation_demand(mean_share: float, boost: float) -> float:
    """Multiplier of evaluation work's demand when a mean share ``mean_share`` is automated."""
    return 1.0 + boost * mean_share


def learn_from_week(m: Context) -> None:
    """Models learn from the week's accepted human labels (counted per unit of scale); the
    channel choice (``routing.choose_channels``) turns their quality into shares."""
    state = m.state
    state.labels += state.week_labels / m.cfg.scale
    state.week_labels[:] = 0.0
