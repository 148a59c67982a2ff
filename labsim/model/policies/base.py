"""The base of every policy: the hooks the market calls, with no effect, and their helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from labsim.model.context import Context
from labsim.model.units import HOURS_PER_WEEK

if TYPE_CHECKING:
    from labsim.config import LabsimConfig, TaskTypeConfig
    from labsim.model.books import BookSpec
    from labsim.model.rules.schedule import Online
    from labsim.model.rules.work import Pairs


def in_force(policy: Any, week_start_h: float) -> bool:
    """Whether ``policy`` (with ``enabled`` and ``start_week``) applies to the week
    starting at ``week_start_h``."""
    return bool(policy.enabled) and week_start_h >= policy.start_week * HOURS_PER_WEEK - 1e-9


class Policy:
    """A policy with no effect; subclasses override the hooks they need."""

    name = ""
    has_step_limits = False

    def __init__(self, cfg: LabsimConfig) -> None:
        self.cfg = cfg
        self.p = getattr(cfg.policy, self.name)

    def active(self, week_start_h: float) -> bool:
        return in_force(self.p, week_start_h)

    def covered(self, m: Context, rows: np.ndarray) -> np.ndarray:
        """``rows`` of workers in the regions the policy covers (its ``regions``; empty or
        absent: every region), so that one region can regulate while the others do not."""
        if not getattr(self.p, "regions", None):
            return rows
        return rows[self.region_mask(m)[m.pool.region[rows]]]

    def region_mask(self, m: Context) -> np.ndarray:
        """Per region, whether the policy covers its workers (its ``regions``; empty or absent:
        every region)."""
        names = getattr(self.p, "regions", None)
        return np.isin(m.regions.codes, names) if names else np.ones(m.regions.n, bool)

    def bound_requesters(self, m: Context) -> np.ndarray | None:
        """Per requester sub-group (home jurisdiction, size), whether the policy binds its requesters
        (None: it binds none by their home)."""
        return None

    # --- set-up and weekly switches ------------------------------------------------------
    def books(self, t: int, tt: TaskTypeConfig) -> list[BookSpec]:
        return []

    def set_levers(self, m: Context, now: float) -> None:
        pass

    def start_week(self, m: Context, now: float) -> None:
        pass

    def limits_step(self, now: float) -> bool:
        """Whether the step hooks apply in the week starting at ``now``."""
        return self.has_step_limits and self.active(now)

    # --- each step ----------------------------------------------------------------------
    def online_time(self, m: Context, on: Online) -> None:
        pass

    def restrict_choices(self, m: Context, rows: np.ndarray, value: np.ndarray) -> None:
        pass

    def trim_hours(self, m: Context, pairs: Pairs) -> None:
        pass

    def after_work(self, m: Context, pairs: Pairs) -> None:
        pass

    # --- the weekly tick ------------------------------------------------------------------
    def update_workers(self, m: Context, a: np.ndarray, now: float) -> None:
        pass

    def weekly_money(self, m: Context, a: np.ndarray, week_start_h: float) -> None:
        pass

    def exits(self, m: Context, a: np.ndarray, reasons: np.ndarray, week_end: float) -> np.ndarray:
        return reasons


def post_home(m: Context, rows: np.ndarray, flows: dict[str, np.ndarray]) -> None:
    """Post per-worker flows (µUSD, hours) at the workers' home cells
    (their region, main task type and channel)."""
    pool = m.pool
    m.accounts.post(m.accounts.cell(pool.region[rows], pool.main_type[rows], pool.channel[rows]), flows)
