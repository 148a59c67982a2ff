"""Where work waits: books of open batches.

Requesters post batches (projects) of tasks; a task is a count inside a
batch, never an object. A batch waits in a *book*: one task type, one
channel, one access group (open to all, geofenced to some regions, or
qualified: only for workers with enough approved tasks), on one platform.
Crowd books are served best-paid batch first (workers pick the best HIT),
vendor books oldest first. ``BookSpec`` says what a book is; ``Books`` holds
every book's parameters as arrays; ``labsim.model.store.BatchStore`` holds
the open batches of all books in one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from labsim.model.tables import Regions, TaskTypes
from labsim.model.units import CHANNELS, CROWD, UUSD, VENDOR

if TYPE_CHECKING:
    from labsim.config import LabsimConfig, TaskTypeConfig



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
        # Geofenced books: the incumbent's crowd books only some regions may take (routing.steer).
        self.geofenced = np.array([s.channel == CROWD and not s.alt_platform and not s.needs_qualification
                                   and not bool(s.allowed_regions.all()) for s in specs], bool)
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
        self.count_as_table = (np.array(list(self.count_as.values())) if self.count_as
                               else np.zeros((0, self.n), bool))  # (flows, books)
        # The (task type, channel) market cell of each book.
        self.market_cell = self.type * len(CHANNELS) + self.channel
        # The task type a vendor team member may take from each book (-2: none, a crowd book).
        self.vendor_team = np.where(self.is_crowd, -2, self.type)
        self.is_eval = types.is_eval[self.type]
        # Batch draws: log of the median size, its sigma; the observed rate (USD) and, once the
        # market's first beliefs are known, the value of a task that follows from it
        # (``pricing.anchor_values``); the deadline.
        self.log_size = np.log([t.batch_size_median for t in tts])
        self.size_sigma = np.array([t.batch_size_sigma for t in tts])
        self.value_usd = np.full(self.n, np.nan)
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
        self.log_size_multiplier = np.log(self.size_multiplier)
        self.duration_cv2 = types.duration_cv2[self.type]
        self.floor_uusd = np.array([round(t.piece_rate_floor_usd * UUSD) for t in tts], float)
