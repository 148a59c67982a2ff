"""Compiled passes over the batch table that the store (``labsim.model.store``) and the market's
compiled rules (``labsim.model.rules.work``, ``.pay``, ``.pricing``) share: what each book holds,
its search weight and mean rate, the split of a crowd book's takes by pull, and a take's two halves.

A compiled function is either called by compiled code or from Python, never both: numba (0.68) gives
the cached copy of a function that compiled callers link the callers' environment, so Python calling
it after a run in the same process failed to return an array ("NRT_adapt_ndarray_to_python: 'descr'
is NULL", a SystemError) or could read another function's constants. Python calls the ``*_entry``
functions below, each a one-line compiled caller of the function of its name.
"""

from __future__ import annotations

import numpy as np

from labsim.model.jit import njit, stable_argsort

@njit
def _proportional_take(book, rem, weight, n, n_books):  # pragma: no cover - compiled
    m = rem.size
    nf = np.empty(n_books)
    for b in range(n_books):
        nf[b] = n[b]
    target = np.zeros(m)
    left = nf.copy()
    free = np.empty(m, np.bool_)
    total = np.zeros(n_books)  # the free batches' weight per book
    for i in range(m):
        free[i] = rem[i] > 0 and weight[i] > 0
        if free[i]:
            total[book[i]] += weight[i]
    taken = np.empty(n_books)
    next_total = np.empty(n_books)
    for _ in range(6):
        # Each free batch gets its share of what its book has left to give, never more than it
        # holds; the batches that fill up are no longer free.
        taken[:] = 0.0
        next_total[:] = 0.0
        more_free = False
        for i in range(m):
            b = book[i]
            if total[b] > 0:
                add = left[b] * (weight[i] if free[i] else 0.0) / total[b]
                target[i] = min(target[i] + add, float(rem[i]))
            taken[b] += target[i]
            free[i] = free[i] and target[i] < rem[i]
            if free[i]:
                next_total[b] += weight[i]
                more_free = True
        more_left = False
        for b in range(n_books):
            left[b] = nf[b] - taken[b]
            more_left = more_left or left[b] > 1e-9
        total, next_total = next_total, total
        if not more_left or not more_free:
            break
    counts = np.empty(m, np.int64)
    given = np.zeros(n_books)
    for i in range(m):
        counts[i] = np.int64(min(np.floor(target[i] + 1e-9), float(rem[i])))
        given[book[i]] += counts[i]
    short = np.empty(n_books, np.int64)
    for b in range(n_books):
        short[b] = np.int64(np.rint(nf[b] - given[b]))
    # The largest remainders (among batches with room) get one more task each, ties to the
    # earlier batch.
    start = 0
    while start < m:
        b = book[start]
        end = start
        while end < m and book[end] == b:
            end += 1
        if short[b] > 0:
            frac = np.empty(end - start)
            for i in range(start, end):
                frac[i - start] = -(target[i] - counts[i]) if counts[i] < rem[i] else 1.0
            order = stable_argsort(frac)
            for j in range(min(short[b], order.size)):
                if frac[order[j]] < 1.0:
                    counts[start + order[j]] += 1
        start = end
    return counts


@njit
def _per_book_int(book, values, n_books):  # pragma: no cover - compiled
    out = np.zeros(n_books, np.int64)
    for i in range(book.size):
        out[book[i]] += values[i]
    return out


@njit
def _search_weight(book, rem, pull, n_books):  # pragma: no cover - compiled
    out = np.zeros(n_books)
    for i in range(book.size):
        out[book[i]] += rem[i] * pull[i]
    return out


@njit
def _mean_rate(book, rem, rate, pull, fifo, n_books):  # pragma: no cover - compiled
    total = np.zeros(n_books)
    paid = np.zeros(n_books)
    oldest = np.zeros(n_books)
    for i in range(book.size):
        b = book[i]
        w = rem[i] * pull[i]
        total[b] += w
        paid[b] += w * rate[i]
        if i == 0 or book[i - 1] != b:
            oldest[b] = rate[i]
    out = np.empty(n_books)
    for b in range(n_books):
        out[b] = oldest[b] if fifo[b] else (paid[b] / total[b] if total[b] > 0 else 0.0)
    return out


@njit
def _take_start(ints, times, fifo, n, now_h):  # pragma: no cover - compiled
    """Tasks taken from each batch (oldest first on a vendor book, n[b] from its head; shared by
    pull on a crowd book), the batches hit and how long their tasks waited."""
    book, rem = ints[0], ints[1]
    m, n_books = rem.size, fifo.size
    counts = np.zeros(m, np.int64)
    crowd_rem = np.zeros(m, np.int64)
    ahead = 0  # tasks ahead of the batch within its vendor book
    for i in range(m):
        b = book[i]
        if i == 0 or book[i - 1] != b:
            ahead = 0
        if fifo[b]:
            counts[i] = min(max(n[b] - ahead, 0), rem[i])
            ahead += rem[i]
        else:
            crowd_rem[i] = rem[i]
    crowd_n = np.zeros(n_books, np.int64)
    any_crowd = False
    for b in range(n_books):
        if not fifo[b]:
            crowd_n[b] = n[b]
            any_crowd = any_crowd or n[b] != 0
    if any_crowd:
        crowd = _proportional_take(book, crowd_rem, times[2], crowd_n, n_books)  # PULL
        for i in range(m):
            if not fifo[book[i]]:
                counts[i] = crowd[i]
    n_hit = 0
    for i in range(m):
        n_hit += counts[i] > 0
    hit = np.empty(n_hit, np.int64)
    waited = np.empty(n_hit)
    j = 0
    for i in range(m):
        if counts[i] > 0:
            hit[j] = i
            waited[j] = now_h - times[0, i]  # POSTED
            j += 1
    return counts, hit, waited


@njit
def _take_finish(ints, times, counts, hit, waited, decay, filled, fill_hours, now_h, n_books,
                 ):  # pragma: no cover - compiled
    """Book the takes: what they were worth, the waits, the batches filled; lower the table's
    counts in place and return whether any batch was emptied."""
    wait_h = np.zeros(n_books)
    worth = np.zeros(n_books)
    n_filled = np.zeros(n_books, np.int64)
    hours = np.zeros(n_books)
    emptied = False
    for j in range(hit.size):
        i = hit[j]
        b = ints[0, i]
        c = counts[i]
        wait_h[b] += c * waited[j]
        worth[b] += c * times[3, i] * decay[j]
        ints[1, i] -= c
        if ints[1, i] == 0:
            emptied = True
            n_filled[b] += 1
            hours[b] += now_h - times[0, i]
    if emptied:
        for b in range(n_books):
            filled[b] += n_filled[b]
            fill_hours[b] += hours[b]
    return wait_h, worth, emptied


# --- entries for Python callers (labsim.model.store) -----------------------------------------

@njit
def _proportional_take_entry(book, rem, weight, n, n_books):  # pragma: no cover - compiled
    return _proportional_take(book, rem, weight, n, n_books)


@njit
def _per_book_int_entry(book, values, n_books):  # pragma: no cover - compiled
    return _per_book_int(book, values, n_books)


@njit
def _search_weight_entry(book, rem, pull, n_books):  # pragma: no cover - compiled
    return _search_weight(book, rem, pull, n_books)


@njit
def _mean_rate_entry(book, rem, rate, pull, fifo, n_books):  # pragma: no cover - compiled
    return _mean_rate(book, rem, rate, pull, fifo, n_books)


@njit
def _take_start_entry(ints, times, fifo, n, now_h):  # pragma: no cover - compiled
    return _take_start(ints, times, fifo, n, now_h)


@njit
def _take_finish_entry(ints, times, counts, hit, waited, decay, filled, fill_hours, now_h,
                       n_books):  # pragma: no cover - compiled
    return _take_finish(ints, times, counts, hit, waited, decay, filled, fill_hours, now_h, n_books)
