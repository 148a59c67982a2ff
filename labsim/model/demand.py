"""Requesters and their batches.

Requesters post batches (projects) of tasks: Poisson arrivals per task type
whose rate follows requesters' office hours and grows with AI demand,
heavy-tailed (log-normal) sizes, a piece rate, a deadline and optionally a
region allow-list (geofencing). A task is a count inside a batch, never an
object. Open batches wait in a book per (task type, channel, access
group), in the order workers take them: best-paid first on the crowd platform
(workers pick the best HIT), oldest first at a vendor and in a queue.
Unfinished tasks expire at the deadline.

Money is held in integer micro-dollars (µUSD) so that the ledgers balance
exactly, not merely to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UUSD = 1_000_000  # micro-dollars per dollar

_I64 = np.int64


@dataclass(frozen=True)
class Book:
    """Where a batch waits: one task type, one channel, one access group.

    Access groups: open to all, geofenced (some regions only) or qualified
    (workers with enough approved tasks only). Crowd books are served
    best-paid first (workers pick the best HIT), vendor books oldest first.
    """

    task_type: int
    channel: int
    allowed_regions: np.ndarray  # bool per region
    fifo: bool
    needs_qualification: bool = False
    fair: bool = False  # on the fair platform (policy.fair_platform)


@dataclass
class Taken:
    """What one hour's takes removed, per batch, grouped by book in book order."""

    book: np.ndarray
    counts: np.ndarray  # tasks taken from each batch
    rate_uusd: np.ndarray  # worker's piece rate per task of each batch
    fee_uusd: np.ndarray  # platform fee per task of each batch
    wait_h: np.ndarray  # per book: sum over taken tasks of (now - batch posted)


class BatchStore:
    """All open batches of the market, in one table sorted by (book, service order).

    Every hour the market adds the new batches, drops expired ones and takes
    the tasks workers finished, each as a handful of numpy calls over the
    whole table, whatever the number of books. Integer columns (book,
    remaining, size, rate, fee, sort key) and float columns (posted,
    deadline) are two 2-D arrays so that reordering is one call per dtype.
    """

    BOOK, REM, SIZE, RATE, FEE, KEY = range(6)
    POSTED, DEADLINE = range(2)
    _KEY_SPAN = 10 ** 12  # sort keys of one book lie in [book * span, (book + 1) * span)

    def __init__(self, fifo: np.ndarray) -> None:
        self.fifo = np.asarray(fifo, bool)  # per book
        self.n_books = self.fifo.size
        self.ints = np.zeros((6, 0), _I64)
        self.times = np.zeros((2, 0))
        self.next_deadline_h = np.inf
        self.filled = np.zeros(self.n_books, _I64)  # batches emptied by workers since reset
        self.fill_hours = np.zeros(self.n_books)  # and their summed time to fill

    def open_tasks(self) -> np.ndarray:
        return np.rint(np.bincount(self.ints[self.BOOK], weights=self.ints[self.REM],
                                   minlength=self.n_books)).astype(_I64)

    def top_rate_uusd(self) -> np.ndarray:
        """Piece rate of the batch served first in each book (0 where a book is empty)."""
        book = self.ints[self.BOOK]
        first = np.searchsorted(book, np.arange(self.n_books))
        has = first < book.size
        has[has] = book[first[has]] == np.flatnonzero(has)
        out = np.zeros(self.n_books, _I64)
        out[has] = self.ints[self.RATE, first[has]]
        return out

    def add(self, book: np.ndarray, size: np.ndarray, rate_uusd: np.ndarray, fee_uusd: np.ndarray,
            posted_h: float, deadline_h: np.ndarray) -> None:
        """Add batches posted at ``posted_h``, no earlier than any batch already here."""
        # Crowd books: higher rate first; vendor books: 0, so the stable sort
        # keeps posting order. Either way older batches stay first among equals.
        key = book * self._KEY_SPAN + np.where(self.fifo[book], 0, self._KEY_SPAN - 1 - rate_uusd)
        new_i = np.stack([book, size, size, rate_uusd, fee_uusd, key])
        new_t = np.stack([np.full(book.size, posted_h), deadline_h])
        ints = np.concatenate([self.ints, new_i], axis=1)
        order = np.argsort(ints[self.KEY], kind="stable")
        self.ints = ints[:, order]
        self.times = np.concatenate([self.times, new_t], axis=1)[:, order]
        self.next_deadline_h = min(self.next_deadline_h, float(deadline_h.min()))

    def expire(self, now_h: float) -> np.ndarray:
        """Drop batches whose deadline has passed; return expired tasks per book."""
        if now_h < self.next_deadline_h:
            return np.zeros(self.n_books, _I64)
        dead = self.times[self.DEADLINE] <= now_h
        expired = np.rint(np.bincount(self.ints[self.BOOK, dead], weights=self.ints[self.REM, dead],
                                      minlength=self.n_books)).astype(_I64)
        self._keep(~dead)
        return expired

    def _keep(self, mask: np.ndarray) -> None:
        self.ints, self.times = self.ints[:, mask], self.times[:, mask]
        self.next_deadline_h = float(self.times[self.DEADLINE].min()) if self.times.shape[1] else np.inf

    def take(self, n: np.ndarray, now_h: float) -> Taken:
        """Remove n[b] tasks from each book b in its service order (n <= open tasks)."""
        book, rem = self.ints[self.BOOK], self.ints[self.REM]
        before = np.cumsum(rem) - rem  # tasks ahead of each batch in the whole table
        first = np.searchsorted(book, np.arange(self.n_books))
        offset = np.zeros(self.n_books, _I64)
        ok = first < book.size
        offset[ok] = before[first[ok]]
        ahead = before - offset[book]  # tasks ahead of the batch within its book
        counts = np.clip(n[book] - ahead, 0, rem)
        hit = counts > 0
        posted = self.times[self.POSTED]
        taken = Taken(book[hit], counts[hit], self.ints[self.RATE, hit], self.ints[self.FEE, hit],
                      np.bincount(book[hit], weights=counts[hit] * (now_h - posted[hit]),
                                  minlength=self.n_books))
        rem -= counts
        emptied = hit & (rem == 0)
        if emptied.any():
            self.filled += np.bincount(book[emptied], minlength=self.n_books)
            self.fill_hours += np.bincount(book[emptied], weights=now_h - posted[emptied],
                                           minlength=self.n_books)
            self._keep(rem > 0)
        return taken


def office_hours_profile(requester_utc_offset_h: float, boost: float) -> np.ndarray:
    """Relative batch arrival rate for each hour of the UTC week (mean 1).

    Hour 0 is Monday 00:00 UTC. Requesters post ``boost`` times more in their
    weekday office hours (9-18 local) than at other times.
    """
    hours = np.arange(168)
    local = hours + requester_utc_offset_h
    day = np.floor(local / 24) % 7
    hour_of_day = local % 24
    office = (day < 5) & (hour_of_day >= 9) & (hour_of_day < 18)
    w = np.where(office, boost, 1.0)
    return w / w.mean()


