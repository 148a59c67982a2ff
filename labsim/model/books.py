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
    value_premium: float = 1.0  # value of its tasks against the type's
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


def class_shares(cfg: LabsimConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per task type, the requester classes' shares of its batches (types x classes), and each
    class's share of crowd batches that ask for qualified workers."""
    shares = np.array([[r.type_shares.get(t, 0.0) for r in cfg.requesters.values()] for t in cfg.task_types])
    quality = np.array([r.qualified_share for r in cfg.requesters.values()])
    return shares, quality


def book_specs(cfg: LabsimConfig, regions: Regions, extra: ExtraBooks | None = None) -> list[BookSpec]:
    """Every book of the market, type by type: open, geofenced and qualified crowd
    books, the vendor book, then any book a policy adds for the type."""
    geo = np.isin(regions.codes, cfg.crowd.geofence_regions)
    everyone = np.ones(regions.n, bool)
    specs: list[BookSpec] = []
    shares, quality = class_shares(cfg)
    qualified = shares @ quality  # per type: share of its non-geofenced crowd batches
    for t, tt in enumerate(cfg.task_types.values()):
        crowd = 1 - tt.vendor_share
        g = tt.geofenced_share
        q = (1 - g) * qualified[t]
        open_share = (1 - g) * (1 - qualified[t])
        for chan, group, share, allowed, premium, qual in (
            (CROWD, open_share, crowd * open_share, everyone, 1.0, False),
            (CROWD, g, crowd * g, geo, tt.geofence_value_premium, False),
            (CROWD, q, crowd * q, everyone, tt.qualified_value_premium, True),
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
        # Each type's books (rows: types; padded with the type's last book), for drawing a batch's book.
        mine = [np.flatnonzero(self.type == t) for t in range(types.n)]
        self.n_of_type = np.array([b.size for b in mine], np.int64)
        width = max(1, int(self.n_of_type.max(initial=0)))
        self.by_type = np.array([np.pad(b, (0, width - b.size), mode="edge") if b.size else np.zeros(width, np.int64)
                                 for b in mine], np.int64)
        self.channel = np.array([s.channel for s in specs], np.int64)
        self.is_crowd = self.channel == CROWD
        self.crowd_cols = np.flatnonzero(self.is_crowd)
        self.fifo = np.array([s.fifo for s in specs], bool)
        self.allowed = np.array([s.allowed_regions for s in specs])  # (books, regions)
        self.needs_qualification = np.array([s.needs_qualification for s in specs], bool)
        # Qualified books a certificate opens whatever the worker's track record (a policy's
        # lever: none unless one says so).
        self.opens_to_certified = np.zeros(self.n, bool)
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
        # Batch draws: log of the median size, its sigma; the median value of a task (USD);
        # the rate requesters start from (USD); the deadline.
        self.log_size = np.log([t.batch_size_median for t in tts])
        self.size_sigma = np.array([t.batch_size_sigma for t in tts])
        self.value_usd = np.array([t.value_per_task_usd * s.value_premium for t, s in zip(tts, specs)])
        self.start_rate_usd = np.array([t.base_piece_rate_usd * s.value_premium for t, s in zip(tts, specs)])
        self.deadline_h = np.array([t.deadline_h for t in tts])
        # Which class of requesters posts each batch: cumulative probabilities per book.
        shares, quality = class_shares(cfg)
        mix = shares[self.type]
        mix = np.where(self.needs_qualification[:, None], mix * quality,
                       np.where(self.is_open[:, None], mix * (1 - quality), mix))
        total = mix.sum(axis=1, keepdims=True)
        mix = np.divide(mix, total, out=np.full(mix.shape, 1.0 / mix.shape[1]), where=total > 0)
        self.class_cum = np.cumsum(mix, axis=1)
        self.class_cum[:, -1] = 1.0
        # Classes' batch sizes against the type's, scaled so that the type's mean batch keeps the
        # configured size (the classes share the work out; they do not add to it).
        size = np.array([r.batch_size_multiplier for r in cfg.requesters.values()])
        self.size_multiplier = size[None, :] / (mix @ size)[:, None]
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
    worth_usd: np.ndarray  # per book: what the taken tasks were still worth to their requesters


def proportional_take(book: np.ndarray, rem: np.ndarray, weight: np.ndarray, n: np.ndarray,
                      n_books: int) -> np.ndarray:
    """Split n[b] tasks of each book b across its batches in proportion to ``weight``,
    never more than a batch holds, in whole tasks summing exactly to n[b] (n <= open tasks).

    Shares that would overfill a batch are capped and the rest shared again among the
    others; the tasks left by rounding down go to the largest remainders.
    """
    n = n.astype(float)
    target = np.zeros(rem.size)
    left = n.copy()
    free = (rem > 0) & (weight > 0)
    for _ in range(6):  # water-filling: a few rounds settle every cap in practice
        w = np.where(free, weight, 0.0)
        total = np.bincount(book, weights=w, minlength=n_books)
        add = np.divide(left[book] * w, total[book], out=np.zeros(rem.size), where=total[book] > 0)
        target = np.minimum(target + add, rem)
        left = n - np.bincount(book, weights=target, minlength=n_books)
        free &= target < rem
        if not (left > 1e-9).any() or not free.any():
            break
    counts = np.minimum(np.floor(target + 1e-9), rem).astype(_I64)
    short = np.rint(n - np.bincount(book, weights=counts, minlength=n_books)).astype(_I64)
    if short.any():
        # The largest remainders (among batches with room) get one more task each.
        frac = np.where(counts < rem, target - counts, -1.0)
        order = np.lexsort((-frac, book))
        first = np.searchsorted(book[order], np.arange(n_books))
        rank = np.arange(order.size) - first[book[order]]
        gets = (rank < short[book[order]]) & (frac[order] > -1.0)
        counts[order[gets]] += 1
    return counts


class BatchStore:
    """All open batches of the market, in one table grouped by book in posting order.

    Vendor books are served oldest batch first (a managed queue). On crowd
    books, workers find batches by search: the tasks taken from a book are
    shared among its batches in proportion to their open tasks x (piece rate
    in USD) ^ ``elasticity``, so a higher rate makes a batch a little more
    likely to be picked, and its take-up rate has that elasticity (Dube et
    al. 2020 measure about 0.1 on Mechanical Turk). Every step the market
    adds the new batches, drops expired ones and takes the tasks workers
    finished, each as a handful of numpy calls over the whole table.
    Integer columns (book, remaining, size, rate, fee) and float columns
    (posted, deadline, search weight per open task, value per task to its
    requester) are two 2-D arrays so that reordering is one call per dtype.
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
        return np.rint(np.bincount(self.ints[self.BOOK], weights=self.ints[self.REM],
                                   minlength=self.n_books)).astype(_I64)

    def search_weight(self) -> np.ndarray:
        """Per book: the open tasks weighted by their batches' pull (rate ^ elasticity)."""
        return np.bincount(self.ints[self.BOOK], weights=self.ints[self.REM] * self.times[self.PULL],
                           minlength=self.n_books)

    def mean_rate_uusd(self) -> np.ndarray:
        """Expected piece rate of the next task taken from each book (0 where a book is empty):
        the oldest batch's on a vendor book, the pull-weighted mean on a crowd book."""
        book, rate = self.ints[self.BOOK], self.ints[self.RATE]
        w = self.ints[self.REM] * self.times[self.PULL]
        total = np.bincount(book, weights=w, minlength=self.n_books)
        mean = np.divide(np.bincount(book, weights=w * rate, minlength=self.n_books), total,
                         out=np.zeros(self.n_books), where=total > 0)
        first = np.searchsorted(book, np.arange(self.n_books))
        has = first < book.size
        has[has] = book[first[has]] == np.flatnonzero(has)
        oldest = np.zeros(self.n_books)
        oldest[has] = rate[first[has]]
        return np.where(self.fifo, oldest, mean)

    def add(self, book: np.ndarray, size: np.ndarray, rate_uusd: np.ndarray, fee_uusd: np.ndarray,
            posted_h: float, deadline_h: np.ndarray, value_usd: np.ndarray | None = None) -> None:
        """Add batches posted at ``posted_h``, no earlier than any batch already here, each task
        worth ``value_usd`` to its requester (0 if not given)."""
        if book.size == 0:
            return
        value = np.zeros(book.size) if value_usd is None else np.asarray(value_usd, float)
        pull = np.where(self.fifo[book], 1.0, (np.maximum(rate_uusd, 1) / UUSD) ** self.elasticity)
        ints = np.concatenate([self.ints, np.stack([book, size, size, rate_uusd, fee_uusd])], axis=1)
        order = np.argsort(ints[self.BOOK], kind="stable")  # by book, in posting order
        self.ints = ints[:, order]
        new_t = np.stack([np.full(book.size, posted_h), deadline_h, pull, value])
        self.times = np.concatenate([self.times, new_t], axis=1)[:, order]
        self.next_deadline_h = min(self.next_deadline_h, float(deadline_h.min()))

    def expire(self, now_h: float) -> np.ndarray:
        """Drop batches whose deadline has passed; return expired tasks per book (their value
        to requesters is left in ``expired_value_usd``)."""
        if now_h < self.next_deadline_h:
            self.expired_value_usd[:] = 0.0
            return np.zeros(self.n_books, _I64)
        dead = self.times[self.DEADLINE] <= now_h
        expired = np.rint(np.bincount(self.ints[self.BOOK, dead], weights=self.ints[self.REM, dead],
                                      minlength=self.n_books)).astype(_I64)
        self.expired_value_usd = np.bincount(self.ints[self.BOOK, dead],
                                             weights=self.ints[self.REM, dead] * self.times[self.VALUE, dead],
                                             minlength=self.n_books)
        self._keep(~dead)
        return expired

    def _keep(self, mask: np.ndarray) -> None:
        self.ints, self.times = self.ints[:, mask], self.times[:, mask]
        self.next_deadline_h = float(self.times[self.DEADLINE].min()) if self.times.shape[1] else np.inf

    def take(self, n: np.ndarray, now_h: float) -> Taken:
        """Remove n[b] tasks from each book b (n <= open tasks): oldest batches first on a
        vendor book, shared by pull on a crowd book."""
        book, rem = self.ints[self.BOOK], self.ints[self.REM]
        fifo = self.fifo[book]
        counts = np.zeros(rem.size, _I64)
        if fifo.any():
            before = np.cumsum(np.where(fifo, rem, 0))
            before -= np.where(fifo, rem, 0)  # tasks of earlier vendor batches in the table
            first = np.searchsorted(book, np.arange(self.n_books))
            offset = np.zeros(self.n_books, _I64)
            ok = first < book.size
            offset[ok] = before[first[ok]]
            ahead = before - offset[book]  # tasks ahead of the batch within its book
            counts = np.where(fifo, np.clip(n[book] - ahead, 0, rem), 0)
        if (~fifo).any():
            crowd = proportional_take(book, np.where(fifo, 0, rem), self.times[self.PULL],
                                      np.where(self.fifo, 0, n), self.n_books)
            counts = np.where(fifo, counts, crowd)
        hit = counts > 0
        posted = self.times[self.POSTED]
        waited = now_h - posted[hit]
        worth = counts[hit] * self.times[self.VALUE, hit] * np.exp(-self.decay_per_h * waited)
        taken = Taken(book[hit], counts[hit], self.ints[self.RATE, hit], self.ints[self.FEE, hit],
                      np.bincount(book[hit], weights=counts[hit] * waited, minlength=self.n_books),
                      np.bincount(book[hit], weights=worth, minlength=self.n_books))
        rem -= counts
        emptied = hit & (rem == 0)
        if emptied.any():
            self.filled += np.bincount(book[emptied], minlength=self.n_books)
            self.fill_hours += np.bincount(book[emptied], weights=now_h - posted[emptied],
                                           minlength=self.n_books)
            self._keep(rem > 0)
        return taken
