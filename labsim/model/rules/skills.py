"""Skills: how fast and how well a worker does each task type, and how that grows.

A worker's skill in a type (0 novice, 1 expert) sets its speed (novices are
``novice_slowdown`` times slower) and the share of its tasks rejected
(linear from the type's novice to its expert rate, plus a penalty that
stress adds). Skill grows by doing: each hour on a type closes part of the
gap to the worker's ability at it. Reputation is the approval rate so far;
platforms open qualified batches to workers with enough approved tasks at a
high enough rate. What a worker may take from each book, and how much it
earns per hour there, is cached per worker and refreshed whenever skill,
stress or reputation changes (weekly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labsim.model.context import Context
from labsim.model.rules.wellbeing import stress_reject_penalty
from labsim.model.units import HOURS_PER_WEEK, VENDOR

if TYPE_CHECKING:
    from labsim.model.books import Books


def tasks_per_hour(duration_mean_min: np.ndarray, skill: np.ndarray, novice_slowdown: float) -> np.ndarray:
    """Tasks finished per hour of work: novices are ``novice_slowdown`` times slower."""
    return 60.0 / (duration_mean_min * (1.0 + (novice_slowdown - 1.0) * (1.0 - skill)))


def reject_probability(skill: np.ndarray, novice: np.ndarray, expert: np.ndarray) -> np.ndarray:
    """Share of a worker's tasks rejected: linear from novice (skill 0) to expert (skill 1)."""
    return novice + (expert - novice) * skill


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


def cache_columns(books: Books) -> dict[str, tuple[int, type]]:
    """Per-worker caches, one column per book (crowd books for the crowd's)."""
    n_crowd = int(books.is_crowd.sum())
    # tasks per hour and rejection probability on every book; on crowd books,
    # the value factor: accepted (or paid) tasks per hour where the worker may
    # take from the book, -inf where it may not (times the book's current
    # piece rate, the expected pay per hour); for vendor staff, their team's book.
    return {"book_tph": (books.n, np.float64), "book_rej": (books.n, np.float64),
            "crowd_tph": (n_crowd, np.float64), "crowd_value": (n_crowd, np.float64),
            "vendor_book": (1, np.int64)}


def refresh_book_cache(m: Context, idx: np.ndarray) -> None:
    """Recompute the per-book caches of workers ``idx`` (after skill, stress or reputation change)."""
    pool, books, types, cfg = m.pool, m.books, m.types, m.cfg
    bt = books.type
    skill = pool.skill[idx][:, bt]
    tph = tasks_per_hour(types.duration_mean_min[bt], skill, cfg.workers.novice_slowdown)
    wb, crowd_cfg = cfg.wellbeing, cfg.crowd
    rej = np.minimum(1.0, reject_probability(skill, types.reject_novice[bt], types.reject_expert[bt])
                     + stress_reject_penalty(pool.stress[idx], wb.burnout_threshold,
                                             wb.reject_penalty_at_burnout)[:, None])
    is_vendor = pool.channel[idx] == VENDOR
    has_qual = qualified(pool.accepted_total[idx], pool.done_total[idx],
                         crowd_cfg.qualification_min_approved, crowd_cfg.qualification_min_approval)
    crowd_ok = (~is_vendor[:, None] & books.is_crowd[None, :]
                & books.allowed[:, pool.region[idx]].T & (skill >= types.skill_required[bt])
                & (~books.needs_qualification[None, :] | has_qual[:, None]
                   | (pool.certified[idx][:, None] & books.opens_to_certified[None, :])))
    vendor_ok = is_vendor[:, None] & (pool.team[idx][:, None] == books.vendor_team[None, :])
    pool.book_tph[idx] = tph
    pool.book_rej[idx] = rej
    cols = books.crowd_cols
    pool.crowd_tph[idx] = tph[:, cols]
    paid_share = np.where(books.pays_rejections[cols], 1.0, 1.0 - rej[:, cols])
    pool.crowd_value[idx] = np.where(crowd_ok[:, cols], tph[:, cols] * paid_share, -np.inf)
    pool.vendor_book[idx, 0] = np.where(vendor_ok.any(axis=1), vendor_ok.argmax(axis=1), -1)


def update_reputation_and_skills(m: Context, a: np.ndarray) -> None:
    """After the week: reviewed and approved tasks so far; learning by doing per type."""
    pool = m.pool
    pool.accepted_total[a] += pool.wk_tasks[a]
    pool.done_total[a] += pool.wk_tasks[a] + pool.wk_rejected[a]
    pool.skill[a] = learn(pool.skill[a], pool.wk_hours_type[a], m.cfg.workers.learning_hours,
                          pool.skill_cap[a])


def warm_skills(m: Context, idx: np.ndarray, tenure_h: np.ndarray, weekly_h: np.ndarray,
                share: np.ndarray | None = None) -> None:
    """Skills of workers present at t = 0: what their tenure taught them, ``weekly_h`` hours a
    week spread over the task types by ``share`` (workers x types; default: all on their main
    type)."""
    pool = m.pool
    if share is None:
        share = np.zeros((idx.size, m.types.n))
        share[np.arange(idx.size), pool.main_type[idx].astype(np.int64)] = 1.0
    hours = (weekly_h * tenure_h / HOURS_PER_WEEK)[:, None] * share
    pool.skill[idx] = learn(pool.skill[idx], hours, m.cfg.workers.learning_hours, pool.skill_cap[idx])
