"""The open batches of every book, in one table, and how work is taken from them.

``BatchStore`` holds the batches waiting in the books (``labsim.model.books``)
grouped by book in posting order. Vendor books are served oldest batch first;
on crowd books the tasks taken are shared among the batches in proportion to
their pull (``proportional_take``). Unfinished tasks expire at the deadline.
The table's passes are loops compiled by numba (``labsim.model.jit``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labsim.model.jit import for_python, group_by, njit, stable_argsort
from labsim.model.units import UUSD

_I64 = np.int64


@dataclass
class Taken:
    """What one hour's takes removed, per batch, grouped by book in book order."""

    book: np.ndarray
    counts: np.ndarray  # tasks taken from each batch
    rate_uusd: np.ndarray  # worker's piece rate per task of each batch
    fee_uusd: np.ndarray  # platform fee per task of each batch
    wait_h: np.ndarray  # per book: sum over taken tasks of (now - batch posted)
    worth_usd: np.ndarray  # per book: what the taken tasks were still worth to their requesters


def proportional_take(book: np.ndarray, rem: np.ndarray, weight: np.ndarray, n: np.ndarray,
                      n_books: int) -> np.ndarray:
    """Split n[b] tasks of each book b across its batches in proportion to ``weight``,
    never more than a batch holds, in whole tasks summing exactly to n[b] (n <= open tasks).

    Shares that would overfill a batch are capped and the rest shared again among the
    others (water-filling, at most six rounds: they settle every cap in practice); the
    tasks left by rounding down go to the largest remainders, ties to the earlier batch.
    ``book`` must be sorted (batches grouped by book).
    """
    return _proportional_take(np.asarray(book, _I64), np.asarray(rem, _I64), np.asarray(weight, float),
                              np.asarray(n, _I64), int(n_books))


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
def _merge(ints, times, new_ints, new_times):  # pragma: no cover - compiled
    """The table with new batches (in book order) merged in by book, after the batches
    already there (a stable sort by book)."""
    n, k = ints.shape[1], new_ints.shape[1]
    out_i = np.empty((ints.shape[0], n + k), np.int64)
    out_t = np.empty((times.shape[0], n + k))
    i = j = 0
    for o in range(n + k):
        if j >= k or (i < n and ints[0, i] <= new_ints[0, j]):
            for r in range(ints.shape[0]):
                out_i[r, o] = ints[r, i]
            for r in range(times.shape[0]):
                out_t[r, o] = times[r, i]
            i += 1
        else:
            for r in range(ints.shape[0]):
                out_i[r, o] = new_ints[r, j]
            for r in range(times.shape[0]):
                out_t[r, o] = new_times[r, j]
            j += 1
    return out_i, out_t


@njit
def _insert(ints, times, book, size, rate, fee, posted_h, deadline, pull, value, fifo, next_deadline
            ):  # pragma: no cover - compiled
    """The table with batches posted at ``posted_h`` merged in, in book order, after those already
    there (a stable sort by book), and the next deadline."""
    k = book.size
    order, _ = group_by(book, fifo.size)  # by book, in posting order within a book
    new_i, new_t = np.empty((5, k), np.int64), np.empty((4, k))
    for j in range(k):
        i = order[j]
        new_i[0, j], new_i[1, j], new_i[2, j], new_i[3, j], new_i[4, j] = book[i], size[i], size[i], rate[i], fee[i]
        new_t[0, j], new_t[1, j], new_t[3, j] = posted_h, deadline[i], value[i]
        new_t[2, j] = 1.0 if fifo[book[i]] else pull[i]
        next_deadline = min(next_deadline, deadline[i])
    out_i, out_t = _merge(ints, times, new_i, new_t)
    return out_i, out_t, next_deadline


@njit
def _expire(ints, times, now_h, n_books):  # pragma: no cover - compiled
    """Expired tasks and their value per book, and the table without the expired batches (and
    its next deadline)."""
    expired = np.zeros(n_books, np.int64)
    value = np.zeros(n_books)
    keep = np.empty(ints.shape[1], np.bool_)
    for i in range(ints.shape[1]):
        keep[i] = not times[1, i] <= now_h  # DEADLINE
        if not keep[i]:
            b = ints[0, i]
            expired[b] += ints[1, i]  # REM
            value[b] += ints[1, i] * times[3, i]  # REM x VALUE
    out_i, out_t, deadline = _compress(ints, times, keep)
    return expired, value, out_i, out_t, deadline


@njit
def _compress(ints, times, keep):  # pragma: no cover - compiled
    n = 0
    for i in range(keep.size):
        n += keep[i]
    out_i = np.empty((ints.shape[0], n), np.int64)
    out_t = np.empty((times.shape[0], n))
    deadline = np.inf
    o = 0
    for i in range(keep.size):
        if keep[i]:
            for r in range(ints.shape[0]):
                out_i[r, o] = ints[r, i]
            for r in range(times.shape[0]):
                out_t[r, o] = times[r, i]
            deadline = min(deadline, times[1, i])
            o += 1
    return out_i, out_t, deadline


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


_take_start_py = for_python(_take_start)  # the market takes tasks in compiled code (rules.work, .pay)
_take_finish_py = for_python(_take_finish)


class BatchStore:
    """All open batches of the market, in one table grouped by book in posting order.

    Vendor books are served oldest batch first (a managed queue). On crowd
    books, workers find batches by search: the tasks taken from a book are
    shared among its batches in proportion to their open tasks x (piece rate
    in USD) ^ ``elasticity``, so a higher rate makes a batch a little more
    likely to be picked, and its take-up rate has that elasticity (Dube et
    al. 2020 measure about 0.1 on Mechanical Turk). Every step the market
    adds the new batches, drops expired ones and takes the tasks workers
    finished, each as one compiled pass over the table (``labsim.model.jit``).
    Integer columns (book, remaining, size, rate, fee) and float columns
    (posted, deadline, search weight per open task, value per task to its
    requester) are two 2-D arrays.
    A task taken ``t`` hours after its batch was posted is worth its value x
    exp(-``decay_per_h`` t) to its requester (docs/model.md, 7.2); a task
    that expires loses its whole value (``expired_value_usd``, per book, of
    the last ``expire``).
    """

    BOOK, REM, SIZE, RATE, FEE = range(5)
    POSTED, DEADLINE, PULL, VALUE = range(4)

    def __init__(self, fifo: np.ndarray, elasticity: float = 0.1, decay_per_h: float = 0.0) -> None:
        self.fifo = np.asarray(fifo, bool)  # per book
        self.n_books = self.fifo.size
        self.elasticity = float(elasticity)
        self.decay_per_h = float(decay_per_h)
        self.ints = np.zeros((5, 0), _I64)
        self.times = np.zeros((4, 0))
        self.expired_value_usd = np.zeros(self.n_books)
        self.next_deadline_h = np.inf
        self.filled = np.zeros(self.n_books, _I64)  # batches emptied by workers since reset
        self.fill_hours = np.zeros(self.n_books)  # and their summed time to fill

    def open_tasks(self) -> np.ndarray:
        return _per_book_int(self.ints[self.BOOK], self.ints[self.REM], self.n_books)

    def search_weight(self) -> np.ndarray:
        """Per book: the open tasks weighted by their batches' pull (rate ^ elasticity)."""
        return _search_weight(self.ints[self.BOOK], self.ints[self.REM], self.times[self.PULL], self.n_books)

    def mean_rate_uusd(self) -> np.ndarray:
        """Expected piece rate of the next task taken from each book (0 where a book is empty):
        the oldest batch's on a vendor book, the pull-weighted mean on a crowd book."""
        ints = self.ints
        return _mean_rate(ints[self.BOOK], ints[self.REM], ints[self.RATE], self.times[self.PULL], self.fifo,
                          self.n_books)

    def add(self, book: np.ndarray, size: np.ndarray, rate_uusd: np.ndarray, fee_uusd: np.ndarray,
            posted_h: float, deadline_h: np.ndarray, value_usd: np.ndarray | None = None) -> None:
        """Add batches posted at ``posted_h``, no earlier than any batch already here, each task
        worth ``value_usd`` to its requester (0 if not given)."""
        if book.size == 0:
            return
        value = np.zeros(book.size) if value_usd is None else np.asarray(value_usd, float)
        # A batch's pull: its rate in USD to the elasticity (numpy's power), 1 on a vendor book.
        pull = (np.maximum(rate_uusd, 1) / UUSD) ** self.elasticity
        self.insert(np.asarray(book, _I64), np.asarray(size, _I64), np.asarray(rate_uusd, _I64),
                    np.asarray(fee_uusd, _I64), float(posted_h), np.asarray(deadline_h, float), value, pull)

    def insert(self, book: np.ndarray, size: np.ndarray, rate_uusd: np.ndarray, fee_uusd: np.ndarray,
               posted_h: float, deadline_h: np.ndarray, value_usd: np.ndarray, pull: np.ndarray) -> None:
        """``add`` with the arrays as the table holds them (int64, float64) and each batch's pull
        (rate in USD ^ elasticity; ignored on a vendor book) given."""
        if book.size == 0:
            return
        self.ints, self.times, self.next_deadline_h = _insert(
            self.ints, self.times, book, size, rate_uusd, fee_uusd, posted_h, deadline_h, pull, value_usd,
            self.fifo, float(self.next_deadline_h))

    def expire(self, now_h: float) -> np.ndarray:
        """Drop batches whose deadline has passed; return expired tasks per book (their value
        to requesters is left in ``expired_value_usd``)."""
        if now_h < self.next_deadline_h:
            self.expired_value_usd[:] = 0.0
            return np.zeros(self.n_books, _I64)
        expired, self.expired_value_usd, self.ints, self.times, self.next_deadline_h = _expire(
            self.ints, self.times, float(now_h), self.n_books)
        return expired

    def take(self, n: np.ndarray, now_h: float) -> Taken:
        """Remove n[b] tasks from each book b (n <= open tasks): oldest batches first on a
        vendor book, shared by pull on a crowd book."""
        ints, times, now_h = self.ints, self.times, float(now_h)
        counts, hit, waited = _take_start_py(ints, times, self.fifo, np.asarray(n, _I64), now_h)
        taken = Taken(ints[self.BOOK, hit], counts[hit], ints[self.RATE, hit], ints[self.FEE, hit],
                      np.zeros(0), np.zeros(0))
        decay = np.exp(-self.decay_per_h * waited)
        taken.wait_h, taken.worth_usd, emptied = _take_finish_py(ints, times, counts, hit, waited, decay,
                                                              self.filled, self.fill_hours, now_h, self.n_books)
        if emptied:
            self.drop_empty()
        return taken

    def drop_empty(self) -> None:
        """Drop the batches workers have emptied."""
        self.ints, self.times, self.next_deadline_h = _compress(self.ints, self.times, self.ints[self.REM] > 0)
