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

import numpy as np

from labsim.model.context import Context
from labsim.model.jit import njit
from labsim.model.rules.wellbeing import _stress_reject_penalty
from labsim.model.units import HOURS_PER_WEEK, VENDOR


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
    accepted, done = np.broadcast_arrays(np.asarray(accepted, np.int64), np.asarray(done, np.int64))
    return _each_approval(accepted.ravel(), done.ravel()).reshape(accepted.shape)


def qualified(accepted: np.ndarray, done: np.ndarray, min_approved: float, min_rate: float) -> np.ndarray:
    """Platforms' qualification: enough approved tasks at a high enough approval rate."""
    accepted, done = np.asarray(accepted, np.int64), np.asarray(done, np.int64)
    return _each_qualified(accepted.ravel(), done.ravel(), float(min_approved), float(min_rate)).reshape(
        accepted.shape)


@njit
def _approval(accepted, done):  # pragma: no cover - compiled
    """``approval_rate`` of one worker."""
    return accepted / done if done > 0 else 1.0


@njit
def _qualified(accepted, done, min_approved, min_rate):  # pragma: no cover - compiled
    """``qualified`` for one worker."""
    return accepted >= min_approved and _approval(accepted, done) >= min_rate


@njit
def _each_approval(accepted, done):  # pragma: no cover - compiled
    out = np.empty(accepted.size)
    for i in range(accepted.size):
        out[i] = _approval(accepted[i], done[i])
    return out


@njit
def _each_qualified(accepted, done, min_approved, min_rate):  # pragma: no cover - compiled
    out = np.empty(accepted.size, np.bool_)
    for i in range(accepted.size):
        out[i] = _qualified(accepted[i], done[i], min_approved, min_rate)
    return out


def book_tables(m: Context, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What workers ``rows`` get from each book as they stand (skill, stress, reputation): tasks per
    hour and rejection probability on every book (workers x books); on the crowd books, the
    accepted (or paid) tasks an hour where the worker may take from the book (a crowd worker, in an
    allowed region, skilled enough, qualified where the book asks for it or certified where a
    certificate opens it), -inf where it may not (workers x crowd books); a vendor worker's team
    book (-1: none). The week's crew holds them for its steps (``labsim.model.crew``)."""
    n, n_books, n_cols = len(rows), m.books.n, m.books.crowd_cols.size
    out = np.zeros((n, n_books)), np.zeros((n, n_books)), np.zeros((n, n_cols)), np.zeros(n, np.int64)
    _fill(np.asarray(rows, np.int64), *book_inputs(m), *out)
    return out


def book_inputs(m: Context) -> tuple:
    """What the per-book rules read: the worker table's columns, the books, the types, the settings."""
    pool, books, types, cfg = m.pool, m.books, m.types, m.cfg
    wb, crowd_cfg = cfg.wellbeing, cfg.crowd
    return (pool.skill, pool.stress, pool.channel, pool.accepted_total, pool.done_total, pool.region,
            pool.certified, pool.team, books.type, books.is_crowd, books.allowed, books.needs_qualification,
            books.opens_to_certified, books.vendor_team, books.crowd_cols, books.pays_rejections,
            types.duration_mean_min, types.reject_novice, types.reject_expert, types.skill_required,
            float(cfg.workers.novice_slowdown), float(wb.burnout_threshold), float(wb.reject_penalty_at_burnout),
            float(crowd_cfg.qualification_min_approved), float(crowd_cfg.qualification_min_approval))


@njit
def _fill(rows, skill, stress, channel, accepted, done, region, certified, team, book_type, is_crowd, allowed,
          needs_qualification, opens_to_certified, vendor_team, crowd_cols, pays_rejections, duration, novice,
          expert, skill_required, slowdown, burnout_threshold, penalty_at_burnout, min_approved, min_rate,
          book_tph, book_rej, crowd_value, vendor_book):  # pragma: no cover - compiled
    """``book_tables`` for ``rows``: row i of each table is worker ``rows[i]``'s."""
    for i in range(rows.size):
        k = rows[i]
        penalty = _stress_reject_penalty(stress[k], burnout_threshold, penalty_at_burnout)
        qualified_ = _qualified(accepted[k], done[k], min_approved, min_rate)
        for b in range(book_type.size):
            book_tph[i, b], book_rej[i, b] = _terms(skill[k, book_type[b]], penalty, duration[book_type[b]],
                                                    novice[book_type[b]], expert[book_type[b]], slowdown)
        vendor_book[i] = _team_book(channel[k], team[k], vendor_team)
        for c in range(crowd_cols.size):
            b = crowd_cols[c]
            ok = _may_take(channel[k], region[k], skill[k, book_type[b]], qualified_, certified[k], b, is_crowd,
                           allowed, skill_required[book_type[b]], needs_qualification, opens_to_certified)
            crowd_value[i, c] = _value(book_tph[i, b], book_rej[i, b], pays_rejections[b], ok)


@njit
def fill_crew(crowd, vendor, skill, stress, channel, accepted, done, region, certified, team, book_type, is_crowd,
              allowed, needs_qualification, opens_to_certified, vendor_team, crowd_cols, pays_rejections, duration,
              novice, expert, skill_required, slowdown, burnout_threshold, penalty_at_burnout, min_approved,
              min_rate):  # pragma: no cover - compiled
    """``book_tables`` as the week's crew holds them: for crowd workers ``crowd``, their value, tasks per
    hour and rejection probability on each crowd book; for vendor staff ``vendor``, their team book
    and their tasks per hour and rejection probability on it (-1, NaN, NaN: no team book)."""
    n_c, n_cols = crowd.size, crowd_cols.size
    value, tph, rej = np.empty((n_c, n_cols)), np.empty((n_c, n_cols)), np.empty((n_c, n_cols))
    for i in range(n_c):
        k = crowd[i]
        penalty = _stress_reject_penalty(stress[k], burnout_threshold, penalty_at_burnout)
        qualified_ = _qualified(accepted[k], done[k], min_approved, min_rate)
        for c in range(n_cols):
            b = crowd_cols[c]
            t = book_type[b]
            tph[i, c], rej[i, c] = _terms(skill[k, t], penalty, duration[t], novice[t], expert[t], slowdown)
            ok = _may_take(channel[k], region[k], skill[k, t], qualified_, certified[k], b, is_crowd, allowed,
                           skill_required[t], needs_qualification, opens_to_certified)
            value[i, c] = _value(tph[i, c], rej[i, c], pays_rejections[b], ok)
    n_v = vendor.size
    v_book, v_tph, v_rej = np.empty(n_v, np.int64), np.full(n_v, np.nan), np.full(n_v, np.nan)
    for i in range(n_v):
        k = vendor[i]
        v_book[i] = b = _team_book(channel[k], team[k], vendor_team)
        if b >= 0:
            t = book_type[b]
            penalty = _stress_reject_penalty(stress[k], burnout_threshold, penalty_at_burnout)
            v_tph[i], v_rej[i] = _terms(skill[k, t], penalty, duration[t], novice[t], expert[t], slowdown)
    return value, tph, rej, v_book, v_tph, v_rej


@njit
def _terms(skill, penalty, duration, novice, expert, slowdown):  # pragma: no cover - compiled
    """One worker's tasks per hour on a book and the share of its tasks rejected (its skill's,
    plus what stress adds, at most all)."""
    return (_tasks_per_hour(duration, skill, slowdown),
            min(1.0, _reject_probability(skill, novice, expert) + penalty))


@njit
def _team_book(channel, team, vendor_team):  # pragma: no cover - compiled
    """A vendor worker's team book: the first book of its team's type (-1: none, or not vendor staff)."""
    if channel == VENDOR:
        for b in range(vendor_team.size):
            if team == vendor_team[b]:
                return b
    return -1


@njit
def _may_take(channel, region, skill, qualified_, certified, b, is_crowd, allowed, skill_required,
              needs_qualification, opens_to_certified):  # pragma: no cover - compiled
    """Whether a worker may take from crowd book ``b``: a crowd worker, in an allowed region, skilled
    enough, qualified where the book asks for it or certified where a certificate opens it."""
    return (channel != VENDOR and is_crowd[b] and allowed[b, region] and skill >= skill_required
            and (not needs_qualification[b] or qualified_ or (certified and opens_to_certified[b])))


@njit
def _value(tph, rej, pays_rejections, ok):  # pragma: no cover - compiled
    """Accepted (or, where rejected work is paid, all) tasks an hour on a book one may take; -inf
    on one one may not."""
    return tph * (1.0 if pays_rejections else 1.0 - rej) if ok else -np.inf


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
