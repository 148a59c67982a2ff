"""Matching workers online in one hour to open tasks.

Every worker online in an hour wants to spend its working time on the book
(task type x channel x access group) that pays it best per hour, among the
books it may take from (qualification, geofencing, channel). When the tasks
wanted from a book exceed what is open, the book is rationed in proportion
to what each worker wanted; rationed workers spend the rest of their time
searching, and may try their next-best book in a further round.

``allocate`` is pure: arrays in, arrays out, no randomness and no SimPy.
"""

from __future__ import annotations

import numpy as np

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

    Returns parallel arrays over (worker, book) pairs: worker position, book,
    hours of work, expected tasks. Per book, expected tasks never exceed what
    is open; per worker, hours never exceed capacity.
    """
    cap = capacity_h.astype(float).copy()
    left = open_tasks.astype(float).copy()
    n, n_books = value.shape
    rows = np.arange(n)  # workers still looking for work
    val = value
    out_w, out_b, out_h, out_t = [], [], [], []
    for _ in range(rounds):
        empty = left <= _DUST
        if empty.any():
            val = val.copy() if val is value else val
            val[:, empty] = -np.inf
        best = np.argmax(val, axis=1)
        ok = np.isfinite(val[np.arange(rows.size), best])
        if not ok.all():
            rows, best, val = rows[ok], best[ok], val[ok]
        if rows.size == 0:
            break
        tph = tasks_per_h[rows if rows_of is None else rows_of[rows], best]
        want = cap[rows] * tph
        demand = np.bincount(best, weights=want, minlength=n_books)
        ration = np.divide(left, demand, out=np.ones(n_books), where=demand > left)
        got = want * ration[best]
        hours = got / tph
        cap[rows] -= hours
        left = left - np.bincount(best, weights=got, minlength=n_books)
        left[ration < 1.0] = 0.0  # a rationed book is emptied, whatever float rounding says
        out_w.append(rows); out_b.append(best); out_h.append(hours); out_t.append(got)
        # Only rationed workers have time left; they try their next-best book.
        short = ration[best] < 1.0
        if not short.any():
            break
        rows, val = rows[short], val[short]
    if not out_w:
        empty_i = np.zeros(0, np.int64)
        return empty_i, empty_i, np.zeros(0), np.zeros(0)
    return (np.concatenate(out_w), np.concatenate(out_b), np.concatenate(out_h),
            np.concatenate(out_t))


def renewal_counts(rng: np.random.Generator, mean: np.ndarray, cv2: np.ndarray) -> np.ndarray:
    """Tasks finished in a stretch of work: normal approximation of a renewal count.

    With i.i.d. task durations of coefficient of variation CV, the number of
    tasks done in a long stretch has mean m and variance about CV^2 m; drawn
    as round(m + sqrt(CV^2 m) z), never below 0.
    """
    z = rng.standard_normal(mean.size)
    return np.maximum(0, np.rint(mean + np.sqrt(cv2 * mean) * z)).astype(np.int64)


def trim_to_open(rng: np.random.Generator, counts: np.ndarray, book: np.ndarray,
                 open_tasks: np.ndarray) -> np.ndarray:
    """Cut drawn task counts so no book gives out more tasks than it holds.

    In a book whose pairs drew more than is open, every pair keeps the same
    share of its draw (rounded down), and the tasks left by rounding go to
    the pairs with the largest remainders, ties broken at random: nobody is
    favoured by position, and the book gives out exactly what it holds.
    """
    per_book = np.bincount(book, weights=counts, minlength=open_tasks.size)
    over = np.flatnonzero(per_book > open_tasks)
    if over.size == 0:
        return counts
    counts = counts.copy()
    for b in over:
        sel = np.flatnonzero(book == b)
        scaled = counts[sel] * (open_tasks[b] / per_book[b])
        kept = np.floor(scaled).astype(np.int64)
        short = int(open_tasks[b] - kept.sum())
        if short > 0:
            frac = scaled - kept + 1e-9 * rng.random(sel.size)
            kept[np.argpartition(-frac, short - 1)[:short]] += 1
        counts[sel] = kept
    return counts


def piecewise_pay(accepted: np.ndarray, batch_counts: np.ndarray, per_task_uusd: np.ndarray) -> np.ndarray:
    """Integer pay of consecutive workers who took ``accepted`` tasks, in order,
    from batches holding ``batch_counts`` tasks at ``per_task_uusd`` each.

    Worker k's tasks are the tasks numbered K[k-1]..K[k] (K = cumsum) in the
    batches' order; its pay is C(K[k]) - C(K[k-1]) with C the cumulative pay,
    so the pays are exact integers that sum to the batches' total.
    ``per_task_uusd`` may have several columns (say reward and fee): the
    result then has one column each.
    """
    width = int(np.prod(per_task_uusd.shape[1:], dtype=np.int64))
    per_task = per_task_uusd.reshape(len(batch_counts), width)
    out = np.zeros((len(accepted), per_task.shape[1]), np.int64)
    if len(batch_counts) and len(accepted):
        cum_tasks = np.cumsum(batch_counts)
        k = np.cumsum(accepted)
        # Batch holding task number K (1-based): first with cumulative count >= K.
        j = np.minimum(np.searchsorted(cum_tasks, k, side="left"), len(batch_counts) - 1)
        before = cum_tasks[j] - batch_counts[j]  # tasks in batches before j
        for col in range(per_task.shape[1]):
            price = per_task[:, col]
            cum_pay = np.cumsum(batch_counts * price)
            c = cum_pay[j] - batch_counts[j] * price[j] + (k - before) * price[j]
            out[:, col] = np.diff(c, prepend=0)
    return out.reshape((len(accepted),) + per_task_uusd.shape[1:])
