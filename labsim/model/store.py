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

from labsim.model.batch_passes import (_mean_rate_entry, _per_book_int_entry, _proportional_take_entry,
                                       _search_weight_entry, _take_finish_entry, _take_start_entry)
from labsim.model.jit import group_by, njit
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
    return _proportional_take_entry(np.asarray(book, _I64), np.asarray(rem, _I64), np.asarray(weight, float),
                              np.asarray(n, _I64), int(n_books))


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
def _compress_entry(ints, times, keep):  # pragma: no cover - compiled (see labsim.model.batch_passes)
    return _compress(ints, times, keep)


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
        return _per_book_int_entry(self.ints[self.BOOK], self.ints[self.REM], self.n_books)

    def search_weight(self) -> np.ndarray:
        """Per book: the open tasks weighted by their batches' pull (rate ^ elasticity)."""
        return _search_weight_entry(self.ints[self.BOOK], self.ints[self.REM], self.times[self.PULL], self.n_books)

    def mean_rate_uusd(self) -> np.ndarray:
        """Expected piece rate of the next task taken from each book (0 where a book is empty):
        the oldest batch's on a vendor book, the pull-weighted mean on a crowd book."""
        ints = self.ints
        return _mean_rate_entry(ints[self.BOOK], ints[self.REM], ints[self.RATE], self.times[self.PULL], self.fifo,
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
        counts, hit, waited = _take_start_entry(ints, times, self.fifo, np.asarray(n, _I64), now_h)
        taken = Taken(ints[self.BOOK, hit], counts[hit], ints[self.RATE, hit], ints[self.FEE, hit],
                      np.zeros(0), np.zeros(0))
        decay = np.exp(-self.decay_per_h * waited)
        taken.wait_h, taken.worth_usd, emptied = _take_finish_entry(ints, times, counts, hit, waited, decay,
                                                              self.filled, self.fill_hours, now_h, self.n_books)
        if emptied:
            self.drop_empty()
        return taken

    def drop_empty(self) -> None:
        """Drop the batches workers have emptied."""
        self.ints, self.times, self.next_deadline_h = _compress_entry(self.ints, self.times, self.ints[self.REM] > 0)
