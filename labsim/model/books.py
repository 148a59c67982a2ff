"""Where work waits: books of open batches, and the table that holds them.

Requesters post batches (projects) of tasks; a task is a count inside a
batch, never an object. A batch waits in a *book*: one task type, one
channel, one access group (open to all, geofenced to some regions, or
qualified: only for workers with enough approved tasks), on one platform.
Crowd books are served best-paid batch first (workers pick the best HIT),
vendor books oldest first. ``BookSpec`` says what a book is; ``Books`` holds
every book's parameters as arrays; ``BatchStore`` holds the open batches of
all books in one table. Unfinished tasks expire at the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from labsim.model.tables import Regions, TaskTypes
from labsim.model.units import CHANNELS, CROWD, UUSD, VENDOR

if TYPE_CHECKING:
    from labsim.config import LabsimConfig, TaskTypeConfig

_I64 = np.int64


@dataclass(frozen=True)
class BookSpec:
    """What one book is. A policy may add books of its own (an alternative platform)."""

    task_type: int
    channel: int
    allowed_regions: np.ndarray  # bool per region
    group_share: float  # share of its channel's batches of the type
    rate_premium: float = 1.0  # its piece rates against the type's base rate
    needs_qualification: bool = False
    alt_platform: bool = False  # on a platform other than the incumbent crowd platform
    certified: bool = False  # a certified channel (due-diligence rules may bind demand to it)
    commission: float | None = None  # the platform's fee; None: the incumbent's schedule
    pays_rejections: bool = False  # rejected work is paid
    count_as: str | None = None  # a cell flow that also counts the tasks done on this book

    @property
    def fifo(self) -> bool:
        return self.channel == VENDOR


ExtraBooks = Callable[[int, "TaskTypeConfig"], list[BookSpec]]


def book_specs(cfg: LabsimConfig, regions: Regions, extra: ExtraBooks | None = None) -> list[BookSpec]:
    """Every book of the market, type by type: open, geofenced and qualified crowd
    books, the vendor book, then any book a policy adds for the type."""
    geo = np.isin(regions.codes, cfg.crowd.geofence_regions)
    everyone = np.ones(regions.n, bool)
    specs: list[BookSpec] = []
    for t, tt in enumerate(cfg.task_types.values()):
        crowd = 1 - tt.vendor_share
        open_share = 1 - tt.geofenced_share - tt.qualified_share
        for chan, group, share, allowed, premium, qual in (
            (CROWD, open_share, crowd * open_share, everyone, 1.0, False),
            (CROWD, tt.geofenced_share, crowd * tt.geofenced_share, geo, tt.geofence_rate_premium, False),
            (CROWD, tt.qualified_share, crowd * tt.qualified_share, everyone, tt.qualified_rate_premium, True),
            (VENDOR, 1.0, tt.vendor_share, everyone, 1.0, False),
        ):
            if share > 0 and allowed.any():
                specs.append(BookSpec(t, chan, allowed, group, premium, needs_qualification=qual))
        if extra is not None and crowd > 0:
            specs.extend(extra(t, tt))
    return specs


class Books:
    """Every book's parameters as arrays indexed by book number."""

    def __init__(self, cfg: LabsimConfig, types: TaskTypes, specs: list[BookSpec]) -> None:
        self.specs = specs
        self.n = len(specs)
        rows = list(cfg.task_types.values())
        tts = [rows[s.task_type] for s in specs]
        self.type = np.array([s.task_type for s in specs], np.int64)
        self.channel = np.array([s.channel for s in specs], np.int64)
        self.is_crowd = self.channel == CROWD
        self.crowd_cols = np.flatnonzero(self.is_crowd)
        self.fifo = np.array([s.fifo for s in specs], bool)
        self.allowed = np.array([s.allowed_regions for s in specs])  # (books, regions)
        self.needs_qualification = np.array([s.needs_qualification for s in specs], bool)
        self.alt_platform = np.array([s.alt_platform for s in specs], bool)
        self.certified = np.array([s.certified for s in specs], bool)
        self.pays_rejections = np.array([s.pays_rejections for s in specs], bool)
        self.group_share = np.array([s.group_share for s in specs])
        # Open books: the incumbent platform's books that anyone may take.
        self.is_open = np.array([s.channel == CROWD and not s.alt_platform and not s.needs_qualification
                                 and bool(s.allowed_regions.all()) for s in specs], bool)
        # Commission per book (rows: small batches, large batches); vendors bill by the hour.
        crowd = cfg.crowd
        self.commission = np.zeros((2, self.n))
        self.commission[:, self.is_crowd] = [[crowd.commission], [crowd.commission_large_batch]]
        for b, s in enumerate(specs):
            if s.commission is not None:
                self.commission[:, b] = s.commission
        # Flows that also count the tasks done on some books (name -> bool per book).
        self.count_as = {name: np.array([s.count_as == name for s in specs], bool)
                         for name in sorted({s.count_as for s in specs if s.count_as})}
        # The (task type, channel) market cell of each book.
        self.market_cell = self.type * len(CHANNELS) + self.channel
        # The task type a vendor team member may take from each book (-2: none, a crowd book).
        self.vendor_team = np.where(self.is_crowd, -2, self.type)
        self.is_eval = types.is_eval[self.type]
        # Batch draws: log size median, size sigma, mean rate (µUSD), rate sigma, 1 if fees apply.
        self.params = np.array([
            [np.log(t.batch_size_median) for t in tts], [t.batch_size_sigma for t in tts],
            [t.base_piece_rate_usd * UUSD * s.rate_premium for t, s in zip(tts, specs)],
            [t.piece_rate_sigma for t in tts], [float(s.channel == CROWD) for s in specs]])
        self.deadline_h = np.array([t.deadline_h for t in tts])
        self.duration_cv2 = types.duration_cv2[self.type]
        self.floor_uusd = np.array([round(t.piece_rate_floor_usd * UUSD) for t in tts], float)


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


