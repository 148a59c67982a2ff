"""Small hand-built markets for the kernel's unit tests (no Hydra).

A world of one region and one task type unless told otherwise: 1-minute
tasks with no spread, never rejected, in batches of exactly 10 at exactly the
base rate, one batch an hour, all crowd and open; workers added by hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from labsim.config import LabsimConfig, RegionConfig, RequesterConfig, TaskTypeConfig, VendorConfig
from labsim.model.crew import Crew
from labsim.model.market import Market
from labsim.model.rng import Streams
from labsim.model.rules import pricing, skills
from labsim.model.rules.work import work
from labsim.model.units import CROWD


def task(**kw) -> TaskTypeConfig:
    """A task type whose tasks all last 1 minute (no spread: CV 0), never rejected,
    in batches of exactly 10 at exactly the base rate (no spread), all crowd, all open."""
    base = dict(duration_median_min=1.0, duration_sigma=0.0, reject_rate_novice=0.0, reject_rate_expert=0.0,
                batch_size_median=10.0, batch_size_sigma=0.0, base_piece_rate_usd=0.05,
                batches_per_week=168.0, deadline_h=72.0)
    base.update(kw)
    return TaskTypeConfig(**base)


def region(vendor_wage_usd_h: float | None = None, **kw) -> RegionConfig:
    """A region with no one in it; ``vendor_wage_usd_h`` sets its local wage (median reservation
    wage and minimum wage alike) so that vendors, paying the default premium over it, pay that."""
    base = dict(name="test", utc_offset_h=0.0, min_wage_usd_h=1.5, initial_crowd_workers=0,
                potential_arrivals_per_week=0.0, vendor_workers=0)
    if vendor_wage_usd_h is not None:
        local = vendor_wage_usd_h / (1.0 + VendorConfig().wage_premium)
        base.update(min_wage_usd_h=local, reservation_wage_median_usd_h=local)
    base.update(kw)
    return RegionConfig(**base)


def config(policy: str | None = None, regions: dict | None = None, types: dict | None = None,
           **settings) -> LabsimConfig:
    """A one-region, one-type world; ``policy`` enabled with its ``settings`` set."""
    cfg = LabsimConfig()
    cfg.regions = regions or {"KEN": region()}
    cfg.task_types = types or {"text": task()}
    # one class of requesters posting every type, values without spread, no fixed cost
    cfg.requesters = {"all": RequesterConfig(name="all", type_shares={t: 1.0 for t in cfg.task_types},
                                             value_sigma=0.0)}
    cfg.automation.eval_task_types = []
    cfg.crowd.geofence_regions = []
    cfg.policy.training_certification.target_task_type = next(iter(cfg.task_types))
    if policy:
        p = getattr(cfg.policy, policy)
        p.enabled = True
        for k, v in settings.items():
            setattr(p, k, v)
    return cfg


def market(cfg: LabsimConfig) -> Market:
    """A market with no one in it yet, its requesters' first beliefs set and its tasks valued as at a
    run's start (a batch's best rate is then the base rate)."""
    m = Market(cfg, Streams(0))
    pricing.init_beliefs(m)
    pricing.anchor_values(m)
    return m


def add(m: Market, k: int = 1, skill: float = 1.0, cap: float = 1.0, **columns) -> np.ndarray:
    """Add k workers (crowd, region 0, joined long ago unless told) and make them active."""
    cols = dict(region=np.zeros(k, int), channel=np.full(k, CROWD), joined_h=np.full(k, -1000.0))
    cols.update({name: np.broadcast_to(np.asarray(v), (k,)) for name, v in columns.items()})
    idx = m.pool.add(k, **cols)
    m.pool.skill[idx] = skill
    m.pool.skill_cap[idx] = cap
    m.active = np.concatenate([m.active, idx])
    return idx


def cell_of(m: Market, r: int, t: int, c: int) -> int:
    return int(m.accounts.cell(np.array([r]), np.array([t]), np.array([c]))[0])


def work_step(m: Market, now: float, online) -> None:
    """One step of work as a running week does it: the workers online gathered into the week's crew,
    the step, and its flows added into the worker table as the week's close adds them."""
    m.crew = Crew.gather(m, online.crowd, online.vendor)
    work(m, now, online)
    m.crew.flush(m.pool)


def night_hours(m: Market, row: int) -> float:
    """The night hours worker ``row`` has worked so far this week (held by the week's crew)."""
    return float(m.crew.night_h[m.crew.pos[row]])


def book_row(m: Market, row: int) -> SimpleNamespace:
    """What worker ``row`` gets from each book as it stands (``skills.book_tables``): tasks per hour
    and share rejected on every book, value on each crowd book, its team's book."""
    tph, rej, value, team = skills.book_tables(m, np.array([row]))
    return SimpleNamespace(tph=tph[0], rej=rej[0], value=value[0], team_book=int(team[0]))
