"""What a run returns: the accounts' weekly records, the workers, the ledger; no files, no frames.

``labsim.results`` turns these column arrays into tables and KPIs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labsim.model.rules.skills import approval_rate
from labsim.model.units import UUSD
from labsim.model.windows import Window


@dataclass
class Records:
    """What a run returns: column arrays, ledgers and labels. No files, no frames."""

    cells: dict[str, np.ndarray]
    market: dict[str, np.ndarray]
    workers: dict[str, np.ndarray]
    ledger: dict[str, int]
    region_codes: list[str]
    type_names: list[str]
    horizon_h: float
    window_start_h: float
    extra: dict[str, float] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)  # named windows of weeks, the KPI window first
    worker_windows: dict[str, np.ndarray] = field(default_factory=dict)  # per worker and window
    requesters: dict[str, np.ndarray] = field(default_factory=dict)  # per week and requester group


def records(m, region_codes: list[str], type_names: list[str], extra: dict | None = None) -> Records:
    """The run's column arrays: the accounts' weekly records, the workers, the ledger."""
    cells, market = m.accounts.tables()
    p, n = m.pool, m.pool.n
    workers = {
        "worker_id": np.arange(n, dtype=np.int64),
        "region": p.region[:n].copy(), "channel": p.channel[:n].copy(),
        "main_task_type": p.main_type[:n].copy(),
        "joined_h": p.joined_h[:n].copy(), "left_h": p.left_h[:n].copy(),
        "exit_reason": p.exit_reason[:n].copy(),
        "reservation_wage_usd_h": p.reservation_wage[:n].copy(),
        # over the KPI window (window 0)
        "paid_hours": p.win_paid_h[:n, 0].copy(), "unpaid_hours": p.win_unpaid_h[:n, 0].copy(),
        "earnings_usd": p.win_earn_uusd[:n, 0] / UUSD,
        "tasks_done": p.win_tasks[:n, 0].copy(), "tasks_rejected": p.win_rejected[:n, 0].copy(),
        "night_hours": p.win_night_h[:n, 0].copy(),
        "stress": p.stress[:n].copy(), "peak_stress": p.peak_stress[:n].copy(),
        "hours_toxic": p.toxic_hours[:n].copy(),
        "reputation": approval_rate(p.accepted_total[:n], p.done_total[:n]),
        "approved_tasks": p.accepted_total[:n].copy(),
        "certified": p.certified[:n].copy(), "training_hours": p.training_h[:n].copy(),
        **{f"skill_{name}": p.skill[:n, t].copy() for t, name in enumerate(type_names)},
    }
    ledger = dict(m.accounts.totals)
    ledger["tasks_open"] = int(m.backlog().sum())
    # Every window's flows per worker, for the workers with paid hours in it.
    worker, window = np.nonzero(p.win_paid_h[:n] > 0)
    worker_windows = {"worker_id": worker.astype(np.int64), "window": window.astype(np.int64),
                      "paid_hours": p.win_paid_h[worker, window], "unpaid_hours": p.win_unpaid_h[worker, window],
                      "earnings_usd": p.win_earn_uusd[worker, window] / UUSD,
                      "tasks_done": p.win_tasks[worker, window], "tasks_rejected": p.win_rejected[worker, window],
                      "night_hours": p.win_night_h[worker, window]}
    return Records(cells, market, workers, ledger, region_codes, type_names, m.horizon_h,
                   m.window_start_h, dict(extra or {}), list(m.windows), worker_windows, requester_weeks(m))


def requester_weeks(m) -> dict[str, np.ndarray]:
    """What each requester group (class, home jurisdiction, size) bought, one row per week and
    group (``arrivals.GROUP_FLOWS``; tasks rounded to whole ones)."""
    from labsim.config import JURISDICTIONS
    from labsim.model.rules.arrivals import GROUP_FLOWS

    rows = getattr(m, "group_rows", [])  # a queue (mmc mode) has no requesters
    if not rows:
        return {}
    req = m.requesters
    n_weeks, n_groups = len(rows), req.n_groups
    flows = np.stack([f for _, f in rows])  # (weeks, flows, groups)
    group = np.arange(n_groups)
    sub = group % req.n_sub
    homes = np.array(list(JURISDICTIONS))
    # the groups a rule scoped by requesters' home binds in this run (from its start week)
    bound = m.policies.bound_requesters(m, req.n_sub)
    out = {"week": np.repeat(np.array([w for w, _ in rows], np.int32), n_groups),
           "requester_class": np.tile(np.array(req.names)[group // req.n_sub], n_weeks),
           "home": np.tile(homes[req.sub_home()[sub]], n_weeks),
           "large": np.tile(req.sub_large()[sub], n_weeks), "covered": np.tile(bound[sub], n_weeks)}
    for k, name in enumerate(GROUP_FLOWS):
        col = flows[:, k, :].reshape(-1)
        out[name] = col if name.endswith("usd") else np.rint(col)
    return out
