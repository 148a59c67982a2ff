"""Requesters and their batches.

Requesters post batches (projects) of tasks: Poisson arrivals per task type
whose rate follows requesters' office hours and grows with AI demand,
heavy-tailed (log-normal) sizes, a piece rate, a deadline and optionally a
region allow-list (geofencing). A task is a count inside a batch, never an
object. Open batches wait in a ``BatchBook`` per (task type, channel, access
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


@dataclass
class Taken:
    """What one take from a book removed: per-batch counts, in take order."""

    counts: np.ndarray  # tasks taken from each batch
    rate_uusd: np.ndarray  # worker's piece rate per task of each batch
    fee_uusd: np.ndarray  # platform fee per task of each batch
    wait_h: float  # sum over taken tasks of (now - batch posted)


class BatchBook:
    """Open batches of one task type, on one channel, for one access group.

    Columns live in two small 2-D arrays (integers: remaining, size, rate,
    fee; floats: posted, deadline) so that reordering or dropping batches is
    one numpy call per dtype: the book is touched every simulated hour.
    """

    _REM, _SIZE, _RATE, _FEE = range(4)
    _POSTED, _DEADLINE = range(2)

    def __init__(self, task_type: int, channel: int, allowed_regions: np.ndarray,
                 fifo: bool) -> None:
        self.task_type = task_type
        self.channel = channel
        self.allowed_regions = allowed_regions  # bool per region
        self.fifo = fifo
        self.ints = np.zeros((4, 0), _I64)
        self.times = np.zeros((2, 0))
        self.open_tasks = 0
        self.next_deadline_h = np.inf
        # batches emptied by workers, and their summed time to fill, since last reset
        self.filled = 0
        self.fill_hours = 0.0

    @property
    def remaining(self) -> np.ndarray:
        return self.ints[self._REM]

    @property
    def rate_uusd(self) -> np.ndarray:
        return self.ints[self._RATE]

    @property
    def top_rate_uusd(self) -> int:
        return int(self.ints[self._RATE, 0]) if self.open_tasks else 0

    def add(self, ints: np.ndarray, times: np.ndarray) -> None:
        """Add batches posted now, no earlier than any batch already in the book.

        ``ints`` stacks (remaining, size, rate µUSD, fee µUSD) and ``times``
        (posted h, deadline h), one column per batch.
        """
        self.ints = np.concatenate([self.ints, ints], axis=1)
        self.times = np.concatenate([self.times, times], axis=1)
        if not self.fifo:
            # Best-paid first. The book was in (rate desc, posted asc) order and
            # the new batches are the newest, so a stable sort on rate alone
            # keeps older batches first among equal rates.
            order = np.argsort(-self.ints[self._RATE], kind="stable")
            self.ints, self.times = self.ints[:, order], self.times[:, order]
        self.open_tasks += int(ints[self._SIZE].sum())
        self.next_deadline_h = min(self.next_deadline_h, float(times[self._DEADLINE].min()))

    def expire(self, now_h: float) -> int:
        """Drop batches whose deadline has passed; return the tasks that expired."""
        if now_h < self.next_deadline_h:
            return 0
        live = self.times[self._DEADLINE] > now_h
        expired = int(self.ints[self._REM, ~live].sum())
        self.ints, self.times = self.ints[:, live], self.times[:, live]
        self.open_tasks -= expired
        self.next_deadline_h = float(self.times[self._DEADLINE].min()) if live.any() else np.inf
        return expired

    def take(self, n: int, now_h: float) -> Taken:
        """Remove n tasks in book order (n <= open_tasks)."""
        rem = self.ints[self._REM]
        cum = np.cumsum(rem)
        j = int(np.searchsorted(cum, n))  # first batch whose cumulative count reaches n
        head = self.ints[:, : j + 1].copy()
        counts = head[self._REM]
        counts[j] -= int(cum[j]) - n
        posted = self.times[self._POSTED, : j + 1]
        taken = Taken(counts, head[self._RATE], head[self._FEE], float(counts @ (now_h - posted)))
        rem[: j + 1] -= counts
        self.open_tasks -= n
        # Emptied batches are a prefix of the book: all before j, and j if exhausted.
        emptied = j + int(rem[j] == 0)
        if emptied:
            self.filled += emptied
            self.fill_hours += emptied * now_h - float(posted[:emptied].sum())
            self.ints, self.times = self.ints[:, emptied:], self.times[:, emptied:]
            if self.times.shape[1] == 0:
                self.next_deadline_h = np.inf
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


