"""Policies: one module each, each a small object with hooks the market calls.

A policy is configured under ``policy.<name>`` (``enabled``, ``start_week``
and its own settings) and acts on the weeks that start at or after its start
week. The market builds the enabled policies from the registry below and
calls their hooks at stated moments (``labsim.model.market`` lists them in
order):

- ``books(t, tt)``: books the policy adds to task type ``t`` (a platform).
- ``set_levers(m, now)``: at the start of the run and at each weekly tick,
  the market-level levers for the week starting at ``now`` (shares of
  demand, stress multipliers, switches for the steps).
- ``start_week(m, now)``: after the week's joiners and hires, per-worker
  settings for the week starting at ``now`` (wages at a floor).
- step limits, for policies listed in ``PolicySet.step_limits`` this week:
  ``online_time`` (hours that go to something other than work),
  ``restrict_choices`` and ``trim_hours`` (what a worker may take, and for
  how long), ``after_work`` (what the policy tracks).
- ``update_workers(m, a, now)``: at the weekly tick, after skills and stress.
- ``weekly_money(m, a, week)``: the week's payments (top-ups, levies,
  services), posted to the accounts with who pays.
- ``exits(m, a, reasons, week_end)``: which of the week's exits stand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labsim.model.context import Context
from labsim.model.policies.base import Policy, in_force, post_home
from labsim.model.policies.due_diligence import DueDiligence
from labsim.model.policies.exposure_cap import ExposureCap
from labsim.model.policies.fair_platform import FairPlatform
from labsim.model.policies.min_wage_floor import MinWageFloor
from labsim.model.policies.paid_search import PaidSearch
from labsim.model.policies.psych_support import PsychSupport
from labsim.model.policies.social_protection_levy import SocialProtectionLevy
from labsim.model.policies.training_certification import TrainingCertification

if TYPE_CHECKING:
    from labsim.config import LabsimConfig, TaskTypeConfig
    from labsim.model.books import BookSpec

__all__ = ["REGISTRY", "Policy", "PolicySet", "in_force", "post_home"]


# The order is the order of their weekly payments: paid search before the
# floor (the floor counts what search pay added), the levy on the topped-up pay.
REGISTRY: tuple[type[Policy], ...] = (PaidSearch, MinWageFloor, SocialProtectionLevy, PsychSupport,
                                      TrainingCertification, ExposureCap, FairPlatform, DueDiligence)


class PolicySet:
    """The enabled policies of a run, and those whose step hooks apply this week."""

    def __init__(self, cfg: LabsimConfig) -> None:
        self.all = [cls(cfg) for cls in REGISTRY if getattr(cfg.policy, cls.name).enabled]
        self.step_limits: list[Policy] = []

    def books(self, t: int, tt: TaskTypeConfig) -> list[BookSpec]:
        return [spec for p in self.all for spec in p.books(t, tt)]

    def bound_requesters(self, m: Context, n_sub: int) -> np.ndarray:
        """Per requester sub-group, whether any policy binds its requesters by their home."""
        out = np.zeros(n_sub, bool)
        for p in self.all:
            bound = p.bound_requesters(m)
            if bound is not None:
                out |= bound
        return out

    def set_levers(self, m: Context, now: float) -> None:
        for p in self.all:
            p.set_levers(m, now)
        self.step_limits = [p for p in self.all if p.limits_step(now)]

    def start_week(self, m: Context, now: float) -> None:
        for p in self.all:
            p.start_week(m, now)

    def update_workers(self, m: Context, a: np.ndarray, now: float) -> None:
        for p in self.all:
            p.update_workers(m, a, now)

    def weekly_money(self, m: Context, a: np.ndarray, week_start_h: float) -> None:
        for p in self.all:
            p.weekly_money(m, a, week_start_h)

    def exits(self, m: Context, a: np.ndarray, reasons: np.ndarray, week_end: float) -> np.ndarray:
        for p in self.all:
            reasons = p.exits(m, a, reasons, week_end)
        return reasons
