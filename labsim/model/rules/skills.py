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
from labsim.model.jit import njit
from labsim.model.rules.wellbeing import _stress_reject_penalty
from labsim.model.units import HOURS_PER_WEEK, VENDOR

if TYPE_CHECKING:
    from labsim.model.books import Books


def tasks_per_hour(duration_mean_min: np.ndarray, skill: np.ndarray, novice_slowdown: float) -> np.ndarray:
    """Tasks finished per hour of work: novices are ``novice_slowdown`` times slower."""
    return 60.0 / (duration_mean_min * (1.0 + (novice_slowdown - 1.0) * (1.0 - skill)))


def reject_probability(skill: np.ndarray, novice: np.ndarray, expert: np.ndarray) -> np.ndarray:
    """Share of a worker's tasks rejected: linear from novice (skill 0) to expert (skill 1)."""
    return novice + (expert - novice) * skill


# The same rules, compiled for the kernel's loops over one worker and one book at a time.
_tasks_per_hour = njit(tasks_per_hour)
_reject_probability = njit(reject_probability)


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
    """Recompute the per-book caches of workers ``idx`` (after skill, stress or reputation change):
    tasks per hour and rejection probability on every book; on the crowd books a worker may take
    (a crowd worker, in an allowed region, skilled enough, qualified where the book asks for it
    or certified where a certificate opens it), the accepted (or paid) tasks an hour; a vendor
    worker's team book."""
    pool, books, types, cfg = m.pool, m.books, m.types, m.cfg
    wb, crowd_cfg = cfg.wellbeing, cfg.crowd
    _refresh(np.asarray(idx, np.int64), pool.skill, pool.stress, pool.channel, pool.accepted_total,
             pool.done_total, pool.region, pool.certified, pool.team, books.type, books.is_crowd, books.allowed,
             books.needs_qualification, books.opens_to_certified, books.vendor_team, books.crowd_cols,
             books.pays_rejections, types.duration_mean_min, types.reject_novice, types.reject_expert,
             types.skill_required, float(cfg.workers.novice_slowdown), float(wb.burnout_threshold),
             float(wb.reject_penalty_at_burnout), float(crowd_cfg.qualification_min_approved),
             float(crowd_cfg.qualification_min_approval), pool.book_tph, pool.book_rej, pool.crowd_tph,
             pool.crowd_value, pool.vendor_book)


@njit
def _refresh(idx, skill, stress, channel, accepted, done, region, certified, team, book_type, is_crowd, allowed,
             needs_qualification, opens_to_certified, vendor_team, crowd_cols, pays_rejections, duration, novice,
             expert, skill_required, slowdown, burnout_threshold, penalty_at_burnout, min_approved, min_rate,
             book_tph, book_rej, crowd_tph, crowd_value, vendor_book):  # pragma: no cover - compiled
    n_books = book_type.size
    for k in idx:
        penalty = _stress_reject_penalty(stress[k], burnout_threshold, penalty_at_burnout)
        vendor = channel[k] == VENDOR
        rate = accepted[k] / done[k] if done[k] > 0 else 1.0
        qualified_ = accepted[k] >= min_approved and rate >= min_rate
        vendor_book[k, 0] = -1
        for b in range(n_books):
            t = book_type[b]
            s = skill[k, t]
            book_tph[k, b] = _tasks_per_hour(duration[t], s, slowdown)
            book_rej[k, b] = min(1.0, _reject_probability(s, novice[t], expert[t]) + penalty)
            if vendor and vendor_book[k, 0] < 0 and team[k] == vendor_team[b]:
                vendor_book[k, 0] = b
        for c in range(crowd_cols.size):
            b = crowd_cols[c]
            t = book_type[b]
            ok = (not vendor and is_crowd[b] and allowed[b, region[k]] and skill[k, t] >= skill_required[t]
                  and (not needs_qualification[b] or qualified_ or (certified[k] and opens_to_certified[b])))
            crowd_tph[k, c] = book_tph[k, b]
            paid_share = 1.0 if pays_rejections[b] else 1.0 - book_rej[k, b]
            crowd_value[k, c] = book_tph[k, b] * paid_share if ok else -np.inf


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
