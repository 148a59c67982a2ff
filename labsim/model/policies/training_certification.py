"""A training and certification programme, paid by the public purse.

From the start week, each week a share ``enrol_prob_per_week`` of crowd
workers not yet certified, in the regions the programme covers
(``regions``; empty: every region), enrols and spends ``hours`` of its online time in
training before any work (unpaid by platforms; a public stipend per hour).
On completion a worker is certified and gains ``skill_gain`` in the target
task type, which may open that type to it; with ``credential``, the
certificate also opens the type's batches reserved for qualified workers
(which requesters value more), as a track record would. The public purse pays the course
(``cost_usd_per_hour``) and the stipends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labsim.model.context import Context
from labsim.model.policies.base import Policy, post_home
from labsim.model.units import CROWD, HOURS_PER_WEEK, UUSD

if TYPE_CHECKING:
    from labsim.model.rules.schedule import Online


class TrainingCertification(Policy):
    name = "training_certification"
    has_step_limits = True

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self.target = list(cfg.task_types).index(self.p.target_task_type)
        self.anyone_training = False

    def limits_step(self, now: float) -> bool:
        return True  # those enrolled train whatever the week

    def enrol(self, m: Context, a: np.ndarray, now: float) -> None:
        """Crowd workers not yet certified enrol, from the start week (stream ``training``)."""
        pool = m.pool
        if now >= self.p.start_week * HOURS_PER_WEEK:
            free = (pool.channel[a] == CROWD) & ~pool.certified[a] & ~pool.enrolled[a]
            free &= self.region_mask(m)[pool.region[a]]
            enrol = a[free & (m.rng["training"].random(a.size) < self.p.enrol_prob_per_week)]
            pool.enrolled[enrol] = True
            pool.training_left_h[enrol] = self.p.hours

    def set_levers(self, m: Context, now: float) -> None:
        """With ``credential``, the certificate opens the target type's qualified books."""
        if self.p.credential:
            m.books.opens_to_certified = m.books.needs_qualification & (m.books.type == self.target)

    def start_week(self, m: Context, now: float) -> None:
        if now <= 0.0:  # the first week has no weekly tick before it to enrol at
            self.enrol(m, m.active, now)
        self.anyone_training = bool((m.pool.training_left_h[m.rosters.crowd] > 0).any())

    def online_time(self, m: Context, on: Online) -> None:
        """Workers in training spend their online time on it first."""
        if not self.anyone_training:
            return
        pool, cw = m.pool, on.crowd
        train = np.minimum(on.crowd_h, pool.training_left_h[cw])
        pool.training_left_h[cw] -= train
        pool.training_h[cw] += train
        pool.wk_train_h[cw] += train
        # Those whose whole step went to training are not looking for work in it.
        left = on.crowd_h - train
        working = left > 1e-12
        on.crowd, on.crowd_h = cw[working], left[working]

    def update_workers(self, m: Context, a: np.ndarray, now: float) -> None:
        """Those who finished are certified; others may enrol."""
        pool, t = m.pool, self.target
        done = pool.enrolled[a] & (pool.training_left_h[a] <= 1e-9)
        if done.any():
            grad = a[done]
            pool.enrolled[grad] = False
            pool.certified[grad] = True
            pool.skill[grad, t] = np.minimum(1.0, pool.skill[grad, t] + self.p.skill_gain)
            pool.skill_cap[grad, t] = np.maximum(pool.skill_cap[grad, t], pool.skill[grad, t])
        self.enrol(m, a, now)

    def weekly_money(self, m: Context, a: np.ndarray, week_start_h: float) -> None:
        train_h = m.pool.wk_train_h[a]
        if not train_h.any():
            return
        course = np.rint(train_h * self.p.cost_usd_per_hour * UUSD).astype(np.int64)
        stipend = np.rint(train_h * self.p.stipend_usd_per_hour * UUSD).astype(np.int64)
        post_home(m, a, {"training_cost_uusd": course, "benefits_uusd": stipend,
                         "public_spend_uusd": course + stipend})
