"""The week's crew: the workers on the week's rosters, held in dense arrays while its steps run.

A step touches every worker online: which books each may take and what they
pay it, its team, its wage, and the week's flows it adds to (hours, pay,
tasks, rejections, exposure, night hours). In the worker table (one row per
worker ever present, most of them gone, one array per column) these lie far
apart in memory, and a step paid more for fetching them than for its
arithmetic. So when a week opens, the rosters' workers (crowd first, then
vendor staff, in roster order) are gathered into dense arrays, with what
each gets from the books worked out for the week (skills, stress and
reputation change only at the weekly tick: ``skills.book_tables``); the
week's steps read and add to those; and when the week closes, its flows are
added back into the table (where they were zero: the weekly reset) and each
worker's last workday draw is kept. The steps add in the same order as on the
table, so a run computes exactly what it would there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labsim.model.context import Context
from labsim.model.rules import skills
from labsim.model.state import WorkerPool

_FLOWS = ("paid_h", "unpaid_h", "earn_uusd", "tasks", "rejected", "toxic_h", "night_h")


@dataclass
class Crew:
    """The rosters' workers in roster order (crowd, then vendor staff): what each gets from the books
    (``skills.book_tables``) at the week's start, their attributes as the table holds them, and the
    week's flows so far."""

    rows: np.ndarray  # pool rows, crowd then vendor staff
    n_crowd: int
    pos: np.ndarray  # per pool row: its place in the crew, -1 if not on a roster
    crowd_value: np.ndarray  # (crowd, crowd books): accepted (or paid) tasks an hour, -inf where barred
    crowd_tph: np.ndarray  # (crowd, crowd books): tasks an hour
    crowd_rej: np.ndarray  # (crowd, crowd books): share rejected
    vendor_book: np.ndarray  # (vendor staff,): the team's book, -1 for none
    vendor_tph: np.ndarray  # (vendor staff,): tasks an hour on it
    vendor_rej: np.ndarray  # (vendor staff,): share rejected on it
    region: np.ndarray
    channel: np.ndarray
    main_type: np.ndarray
    wage_uusd_h: np.ndarray
    workday: np.ndarray
    paid_h: np.ndarray
    unpaid_h: np.ndarray
    earn_uusd: np.ndarray
    tasks: np.ndarray
    rejected: np.ndarray
    toxic_h: np.ndarray
    night_h: np.ndarray
    hours_type: np.ndarray  # (crew, task types)

    @classmethod
    def gather(cls, m: Context, crowd: np.ndarray, vendor: np.ndarray) -> "Crew":
        pool = m.pool
        crowd, vendor = np.asarray(crowd, np.int64), np.asarray(vendor, np.int64)
        rows = np.concatenate([crowd, vendor])
        pos = np.full(pool.n, -1, np.int64)
        pos[rows] = np.arange(rows.size)
        n, n_types = rows.size, pool.skill.shape[1]
        tables = skills.fill_crew(crowd, vendor, *skills.book_inputs(m))
        return cls(rows, crowd.size, pos, *tables, pool.region[rows], pool.channel[rows], pool.main_type[rows],
                   pool.wage_uusd_h[rows], pool.workday[rows], np.zeros(n), np.zeros(n), np.zeros(n, np.int64),
                   np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n), np.zeros(n), np.zeros((n, n_types)))

    def flush(self, pool: WorkerPool) -> None:
        """Add the week's flows into the table and keep the workday draws."""
        rows = self.rows
        for name in _FLOWS:
            getattr(pool, f"wk_{name}")[rows] += getattr(self, name)
        pool.wk_hours_type[rows] += self.hours_type
        pool.workday[rows] = self.workday
