"""Matching workers online in one hour to open tasks.

Every worker online in an hour wants to spend its working time on the book
(task type x channel x access group) that pays it best per hour, among the
books it may take from (qualification, geofencing, channel). When the tasks
wanted from a book exceed what is open, the book is rationed in proportion
to what each worker wanted; rationed workers spend the rest of their time
searching, and may try their next-best book in a further round.

``allocate`` is pure: arrays in, arrays out, no randomness and no SimPy. The rules
are loops compiled by numba (``labsim.model.jit``): a step's cost follows its workers.
"""

from __future__ import annotations

import numpy as np

from labsim.model.jit import group_by, njit, stable_argsort

_DUST = 1e-9  # fewer tasks than this count as none


def allocate(capacity_h: np.ndarray, value: np.ndarray, tasks_per_h: np.ndarray,
             open_tasks: np.ndarray, rounds: int = 3, rows_of: np.ndarray | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split workers' working hours across books.

    capacity_h: (n,) hours each worker can work this hour (after base search).
    value: (n, B) expected pay per hour; -inf where the worker may not take the book.
    tasks_per_h: (n, B) tasks the worker finishes per hour of work on the book;
        or, with ``rows_of``, a larger table whose row ``rows_of[i]`` is worker i's.
    open_tasks: (B,) tasks open in each book.
    Books with nothing open are never chosen, whatever their value.

    Each round, every worker still looking takes the book it values most
    (the first, on a tie) among those with tasks open; a book asked for more
    than it holds is rationed in proportion to what each worker wanted, and
    emptied; the rationed workers look again in the next round.

    Returns parallel arrays over (worker, book) pairs: worker position, book,
    hours of work, expected tasks. Per book, expected tasks never exceed what
    is open; per worker, hours never exceed capacity.
    """
    n = value.shape[0]
    rows = np.arange(n) if rows_of is None else np.asarray(rows_of, np.int64)
    return _allocate_entry(np.asarray(capacity_h, float), np.asarray(value, float), np.arange(n), np.ones(value.shape[1]),
                     np.asarray(tasks_per_h, float), rows, np.asarray(open_tasks, float), int(rounds))


@njit
def _allocate(capacity_h, value, vrow, price, tasks_per_h, trow, open_tasks, rounds):  # pragma: no cover - compiled
    """``allocate`` with worker i's value of book b ``value[vrow[i], b] x price[b]`` (the kernel
    passes its per-worker table and the books' rates; a product by 1.0 changes nothing) and its
    tasks per hour ``tasks_per_h[trow[i], b]``."""
    n, n_books = capacity_h.size, price.size
    cap = capacity_h.copy()
    left = open_tasks.copy()
    rows = np.empty(n, np.int64)  # workers still looking for work
    for i in range(n):
        rows[i] = i
    out_w = np.empty(rounds * n, np.int64)
    out_b = np.empty(rounds * n, np.int64)
    out_h = np.empty(rounds * n)
    out_t = np.empty(rounds * n)
    k = 0
    demand = np.zeros(n_books)
    got_b = np.zeros(n_books)
    for _ in range(rounds):
        best = np.empty(rows.size, np.int64)
        keep = 0
        for j in range(rows.size):
            i = rows[j]
            top, pick = -np.inf, 0
            for b in range(n_books):
                if left[b] > _DUST:
                    v = value[vrow[i], b] * price[b]
                    if v > top:
                        top, pick = v, b
            if np.isfinite(top):
                rows[keep] = i
                best[keep] = pick
                keep += 1
        rows, best = rows[:keep], best[:keep]
        if rows.size == 0:
            break
        tph = np.empty(rows.size)
        want = np.empty(rows.size)
        demand[:] = 0.0
        for j in range(rows.size):
            tph[j] = tasks_per_h[trow[rows[j]], best[j]]
            want[j] = cap[rows[j]] * tph[j]
            demand[best[j]] += want[j]
        ration = np.empty(n_books)
        for b in range(n_books):
            ration[b] = left[b] / demand[b] if demand[b] > left[b] else 1.0
        got_b[:] = 0.0
        short = 0
        for j in range(rows.size):
            got = want[j] * ration[best[j]]
            hours = got / tph[j]
            cap[rows[j]] -= hours
            got_b[best[j]] += got
            out_w[k], out_b[k], out_h[k], out_t[k] = rows[j], best[j], hours, got
            k += 1
            if ration[best[j]] < 1.0:
                rows[short] = rows[j]  # only rationed workers have time left
                short += 1
        for b in range(n_books):
            left[b] = left[b] - got_b[b]
            if ration[b] < 1.0:
                left[b] = 0.0  # a rationed book is emptied, whatever float rounding says
        if short == 0:
            break
        rows = rows[:short]
    return out_w[:k], out_b[:k], out_h[:k], out_t[:k]


def renewal_counts(rng: np.random.Generator, mean: np.ndarray, cv2: np.ndarray) -> np.ndarray:
    """Tasks finished in a stretch of work: normal approximation of a renewal count.

    With i.i.d. task durations of coefficient of variation CV, the number of
    tasks done in a long stretch has mean m and variance about CV^2 m; drawn
    as round(m + sqrt(CV^2 m) z), never below 0.
    """
    return _renewal_counts_entry(rng, np.asarray(mean, float), np.asarray(cv2, float))


@njit
def _renewal_counts(rng, mean, cv2):  # pragma: no cover - compiled
    z = rng.standard_normal(mean.size)
    out = np.empty(mean.size, np.int64)
    for i in range(mean.size):
        out[i] = max(0.0, np.rint(mean[i] + np.sqrt(cv2[i] * mean[i]) * z[i]))
    return out


def trim_to_open(rng: np.random.Generator, counts: np.ndarray, book: np.ndarray,
                 open_tasks: np.ndarray) -> np.ndarray:
    """Cut drawn task counts so no book gives out more tasks than it holds.

    In a book whose pairs drew more than is open, every pair keeps the same
    share of its draw (rounded down), and the tasks left by rounding go to
    the pairs with the largest remainders, ties broken at random (one draw per
    pair of each such book, in book order): nobody is favoured by position, and
    the book gives out exactly what it holds.
    """
    return _trim_to_open_entry(rng, np.asarray(counts, np.int64), np.asarray(book, np.int64),
                         np.asarray(open_tasks, np.int64))


@njit
def _trim_to_open(rng, counts, book, open_tasks):  # pragma: no cover - compiled
    n_books = open_tasks.size
    per_book = np.zeros(n_books)
    for i in range(counts.size):
        per_book[book[i]] += counts[i]
    over = False
    for b in range(n_books):
        over = over or per_book[b] > open_tasks[b]
    if not over:
        return counts
    order, start = group_by(book, n_books)
    out = counts.copy()
    for b in range(n_books):
        if not per_book[b] > open_tasks[b]:
            continue
        sel = order[start[b]:start[b + 1]]
        ratio = open_tasks[b] / per_book[b]
        scaled = np.empty(sel.size)
        kept = np.empty(sel.size, np.int64)
        total = 0
        for j in range(sel.size):
            scaled[j] = counts[sel[j]] * ratio
            kept[j] = np.int64(np.floor(scaled[j]))
            total += kept[j]
        short = open_tasks[b] - total
        if short > 0:
            key = np.empty(sel.size)  # the remainders, largest first
            for j in range(sel.size):
                key[j] = -(scaled[j] - kept[j] + 1e-9 * rng.random())
            top = stable_argsort(key)
            for j in range(short):
                kept[top[j]] += 1
        for j in range(sel.size):
            out[sel[j]] = kept[j]
    return out


def piecewise_pay(accepted: np.ndarray, batch_counts: np.ndarray, per_task_uusd: np.ndarray) -> np.ndarray:
    """Integer pay of consecutive workers who took ``accepted`` tasks, in order,
    from batches holding ``batch_counts`` tasks at ``per_task_uusd`` each.

    Worker k's tasks are the tasks numbered K[k-1]..K[k] (K = cumsum) in the
    batches' order; its pay is C(K[k]) - C(K[k-1]) with C the cumulative pay,
    so the pays are exact integers that sum to the batches' total.
    ``per_task_uusd`` may have several columns (say reward and fee): the
    result then has one column each.
    """
    per_task_uusd = np.asarray(per_task_uusd)
    width = int(np.prod(per_task_uusd.shape[1:], dtype=np.int64))
    per_task = per_task_uusd.reshape(len(batch_counts), width).astype(np.int64)
    out = _piecewise_pay_entry(np.asarray(accepted, np.int64), np.asarray(batch_counts, np.int64), per_task)
    return out.reshape((len(accepted),) + per_task_uusd.shape[1:])


@njit
def _piecewise_pay(accepted, batch_counts, per_task):  # pragma: no cover - compiled
    n_batches, width = per_task.shape
    out = np.zeros((accepted.size, width), np.int64)
    if n_batches == 0 or accepted.size == 0:
        return out
    cum_tasks = np.empty(n_batches, np.int64)  # tasks in batches up to and with j
    cum_pay = np.empty((n_batches, width), np.int64)
    tasks = 0
    for j in range(n_batches):
        tasks += batch_counts[j]
        cum_tasks[j] = tasks
        for col in range(width):
            cum_pay[j, col] = (cum_pay[j - 1, col] if j else 0) + batch_counts[j] * per_task[j, col]
    k, j = 0, 0
    last = np.zeros(width, np.int64)
    for i in range(accepted.size):
        k += accepted[i]
        # The batch holding task number k (1-based): the first with cumulative count >= k.
        while j < n_batches - 1 and cum_tasks[j] < k:
            j += 1
        before = cum_tasks[j] - batch_counts[j]  # tasks in batches before j
        for col in range(width):
            price = per_task[j, col]
            c = cum_pay[j, col] - batch_counts[j] * price + (k - before) * price
            out[i, col] = c - last[col]
            last[col] = c
    return out


# --- entries for Python callers: the market's compiled rules call the functions above, and numba's
# cache wants a compiled function called from Python or by compiled code, not both
# (labsim.model.batch_passes says why) ------------------------------------------------------------

@njit
def _allocate_entry(capacity_h, value, vrow, price, tasks_per_h, trow, open_tasks, rounds):  # pragma: no cover
    return _allocate(capacity_h, value, vrow, price, tasks_per_h, trow, open_tasks, rounds)


@njit
def _renewal_counts_entry(rng, mean, cv2):  # pragma: no cover - compiled
    return _renewal_counts(rng, mean, cv2)


@njit
def _trim_to_open_entry(rng, counts, book, open_tasks):  # pragma: no cover - compiled
    return _trim_to_open(rng, counts, book, open_tasks)


@njit
def _piecewise_pay_entry(accepted, batch_counts, per_task):  # pragma: no cover - compiled
    return _piecewise_pay(accepted, batch_counts, per_task)
