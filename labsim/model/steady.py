"""A start in steady state: the market at t = 0 drawn from the baseline's own long run.

A market started from stylised draws (workers with exponential tenures,
skills warmed on a guess of their hours, requesters' beliefs at the start
rates) drifts for a year or two while its slow parts settle: who has left
and who has learnt, who qualifies, what requesters believe. Like a climate
model's spin-up, labsim runs the baseline once for years from that stylised
start and keeps the state it reaches (``conf/steady_state/``, read and
written by ``labsim.steady_state``): every worker present at the end, with
its tenure, skills, stress, record, hours and recent wage; requesters'
beliefs about each crowd book; each region's expected wage. A run with
``start=steady`` (the default) draws its workers present at t = 0 from
those, region by region and channel by channel (as many as
``initial_crowd_workers`` and ``vendor_workers`` say at the run's scale,
sampled without replacement, or repeated when the run needs more), and
starts requesters and newcomers from the stored beliefs. What the stored
state does not cover (a region, a task type or a book it does not know)
starts from the stylised draws. This module holds the state as numpy
arrays; it reads no file.

What a worker drew when it joined is stored as where it stood in its
distribution, not as a value: its reservation wage, usual hours and
sensitivity to toxic material as standard-normal scores of their
log-normals, its session start as a shift from its region's usual start,
its skills as deviations from its region's mean skill. A run maps them onto
its own configuration, so a run with reservation wages three times the
baseline's starts with each stored worker's reservation wage three times as
high (the same person in a different world); its sessions are then set from
its recent wage against that reservation wage (``rules.hours``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from labsim.model.rules import hours, joining, routing
from labsim.model.units import CROWD, VENDOR

if TYPE_CHECKING:
    from labsim.config import LabsimConfig
    from labsim.model.context import Context

# Worker columns carried over (the rest start at their fill values, or are set from the config).
SCALAR_COLUMNS = ("channel", "ew_earn_usd", "ew_hours", "stress", "peak_stress", "toxic_hours", "accepted_total",
                  "done_total")
# Draws made when a worker joined, stored relative to the configuration's distributions (``draws``).
DRAW_COLUMNS = ("reservation_z", "hours_z", "sensitivity_z", "start_shift_h")
TYPE_COLUMNS = ("skill_dev", "skill_cap_dev")
BELIEFS = ("search_ratio", "fill_share", "reject_share", "seen_weeks")
PER_SCALE_BELIEFS = ("seen_search_h", "seen_paid_h")
# What a run may change without making the stored state another market's: how it is run and
# reported, and what happens after t = 0.
_NOT_THE_WORLD = ("seed", "posterior_draw", "horizon_weeks", "warmup_weeks", "start", "output", "windows", "policy", "mmc")


@dataclass
class StartState:
    """The stored state: workers (column name -> one value per worker; region, main type and
    team by name, tenure in hours, skills per type as ``skill:<type>``), requesters' beliefs
    per crowd book (``book`` names it, see ``book_key``; counts per unit of scale) and each
    region's expected wage."""

    workers: dict[str, np.ndarray]
    beliefs: dict[str, np.ndarray]
    expected_wage: dict[str, float] = field(default_factory=dict)
    # per task type, what each channel (crowd, vendor, model, LLM) cost per accepted task at the
    # end of the baseline's long run: the reference of the channel choice (``routing``)
    channel_cost: dict[str, list[float | None]] = field(default_factory=dict)

    def rows(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[mask] for k, v in self.workers.items()}


def world_digest(cfg: LabsimConfig) -> str:
    """A digest of what makes the market (everything but how it is run, reported or changed later)."""
    d = {k: v for k, v in asdict(cfg).items() if k not in _NOT_THE_WORLD}
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def book_key(m: Context, b: int) -> str:
    """A book's name that survives a change of the book list: type, channel, access, platform."""
    s = m.books.specs[b]
    access = "qualified" if s.needs_qualification else ("open" if bool(s.allowed_regions.all()) else "geofenced")
    platform = "alt" if s.alt_platform else ("certified" if s.certified else "incumbent")
    return f"{m.types.names[s.task_type]}/{s.channel}/{access}/{platform}"


# --- taking the state -------------------------------------------------------------------------

def snapshot(m: Context, now_h: float) -> StartState:
    """The market's state at ``now_h``: workers present, beliefs per crowd book, regions' expected wages."""
    pool, a = m.pool, m.active
    names = np.array(m.types.names)
    workers: dict[str, np.ndarray] = {
        "region": np.array(m.regions.codes)[pool.region[a]],
        "tenure_h": now_h - pool.joined_h[a],
        "main_type": names[pool.main_type[a]],
        "team": np.where(pool.team[a] >= 0, names[np.maximum(pool.team[a], 0)], ""),
    }
    for name in SCALAR_COLUMNS:
        workers[name] = getattr(pool, name)[a].copy()
    workers.update(draws(m, a))
    mean = m.regions.skill_mean[pool.region[a]]
    for t, tname in enumerate(m.types.names):
        workers[f"skill_dev:{tname}"] = pool.skill[a, t] - mean
        workers[f"skill_cap_dev:{tname}"] = pool.skill_cap[a, t] - mean
    crowd = m.books.crowd_cols
    beliefs = {"book": np.array([book_key(m, b) for b in crowd])}
    for name in BELIEFS:
        beliefs[name] = getattr(m.state, name)[crowd].copy()
    for name in PER_SCALE_BELIEFS:
        beliefs[name] = getattr(m.state, name)[crowd] / m.cfg.scale
    wages = {c: float(v) for c, v in zip(m.regions.codes, m.state.expected_wage) if np.isfinite(v)}
    costs = routing.channel_costs(m)
    channel_cost = {name: [float(c) if np.isfinite(c) else None for c in costs[t]]
                    for t, name in enumerate(m.types.names)}
    return StartState(workers, beliefs, wages, channel_cost)


def _z(values: np.ndarray, median: np.ndarray | float, sigma: np.ndarray | float) -> np.ndarray:
    sigma = np.broadcast_to(np.asarray(sigma, np.float64), np.shape(values))
    return np.divide(np.log(values) - np.log(median), sigma, out=np.zeros(np.shape(values)), where=sigma > 0)


def draws(m: Context, a: np.ndarray) -> dict[str, np.ndarray]:
    """Workers ``a``'s draws as scores against the run's distributions (0 where a draw does not
    apply: hours and session starts of vendor staff, who work the vendor's shifts)."""
    pool, cfg, w = m.pool, m.cfg, m.cfg.workers
    r = pool.region[a]
    crowd = pool.channel[a] == CROWD
    start = m.regions.crowd_session_start_local_h[r]
    shift = (pool.start_local_h[a] - start + 12.0) % 24.0 - 12.0
    weekly = pool.usual_session_h[a] * w.days_per_week
    return {
        "reservation_z": _z(pool.reservation_wage[a], m.regions.reservation_median_usd_h[r],
                            m.regions.reservation_sigma[r]),
        "hours_z": np.where(crowd, _z(np.maximum(weekly, 1e-9), w.hours_per_week_median, w.hours_per_week_sigma), 0.0),
        "sensitivity_z": _z(pool.sensitivity[a], 1.0, cfg.wellbeing.sensitivity_sigma),
        "start_shift_h": np.where(crowd, shift, 0.0),
    }


def set_draws(m: Context, idx: np.ndarray, r: int, channel: int, rows: dict[str, np.ndarray]) -> None:
    """Map stored draws onto this run's distributions for the new workers ``idx`` of region ``r``."""
    pool, cfg, w, regions = m.pool, m.cfg, m.cfg.workers, m.regions
    pool.reservation_wage[idx] = np.exp(np.log(regions.reservation_median_usd_h[r])
                                        + regions.reservation_sigma[r] * rows["reservation_z"])
    pool.sensitivity[idx] = np.exp(cfg.wellbeing.sensitivity_sigma * rows["sensitivity_z"])
    if channel == CROWD:
        weekly = np.exp(np.log(w.hours_per_week_median) + w.hours_per_week_sigma * rows["hours_z"])
        pool.usual_session_h[idx] = np.minimum(weekly / w.days_per_week, w.max_session_h)
        pool.session_h[idx] = pool.usual_session_h[idx]
        pool.start_local_h[idx] = (regions.crowd_session_start_local_h[r] + np.rint(rows["start_shift_h"])) % 24.0
    for t, tname in enumerate(m.types.names):
        if f"skill_dev:{tname}" in rows:
            skill = np.clip(float(regions.skill_mean[r]) + rows[f"skill_dev:{tname}"], 0.0, 1.0)
            pool.skill[idx, t] = skill
            pool.skill_cap[idx, t] = np.maximum(skill, np.clip(float(regions.skill_mean[r]) + rows[f"skill_cap_dev:{tname}"],
                                                               0.0, 1.0))


# --- starting from it -------------------------------------------------------------------------

def draw_rows(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """k row numbers out of n: without replacement, or every row repeated and the rest drawn."""
    whole, rest = divmod(k, n)
    return np.concatenate([np.tile(np.arange(n), whole), np.sort(rng.choice(n, rest, replace=False))])


def _by_name(values: np.ndarray, names: list[str]) -> np.ndarray:
    index = {n: t for t, n in enumerate(names)}
    return np.array([index.get(str(x), -1) for x in values], np.int64)


def add_stored_workers(m: Context, r: int, channel: int, k: int, stored: dict[str, np.ndarray],
                       rng: np.random.Generator) -> np.ndarray:
    """Add ``k`` workers of region ``r`` on ``channel`` drawn from ``stored`` (that region's and
    channel's stored workers); return their rows. Columns of types the stored state does not
    know keep the new worker's stylised values (``joining.add_workers`` draws them first)."""
    take = draw_rows(rng, stored["tenure_h"].size, k)
    rows = {name: v[take] for name, v in stored.items()}
    idx = joining.add_workers(m, r, channel, -rows["tenure_h"].astype(np.float64), rng)
    pool, names = m.pool, m.types.names
    for name in SCALAR_COLUMNS:
        getattr(pool, name)[idx] = rows[name]
    set_draws(m, idx, r, channel, rows)
    main = _by_name(rows["main_type"], names)
    pool.main_type[idx] = np.where(main >= 0, main, pool.main_type[idx])
    if channel != CROWD:
        team = _by_name(rows["team"], names)
        pool.team[idx] = np.where(team >= 0, team, pool.team[idx])
        pool.main_type[idx] = pool.team[idx]
    if channel == CROWD:
        hours.adjust_sessions(m, idx)  # this week's sessions, from the recent wage against the reservation wage
    return idx


def start_workers(m: Context, state: StartState, rng: np.random.Generator) -> set[tuple[int, int]]:
    """Add the workers present at t = 0 from the stored state; return the (region, channel)
    pairs it covered (the others start from the stylised draws)."""
    cfg, covered = m.cfg, set()
    region, channel_of = state.workers["region"], state.workers["channel"]
    for r, (code, reg) in enumerate(cfg.regions.items()):
        if reg.entry_week > 0:
            continue
        for channel, count in ((CROWD, reg.initial_crowd_workers), (VENDOR, reg.vendor_workers)):
            mine = (region == code) & (channel_of == channel)
            if not mine.any():
                continue
            k = int(round(count * cfg.scale)) if channel == CROWD else joining.vendor_target(m, r)
            if k:
                add_stored_workers(m, r, channel, k, state.rows(mine), rng)
            covered.add((r, channel))
    return covered


def start_beliefs(m: Context, state: StartState) -> None:
    """Requesters' beliefs about the crowd books the stored state knows, at this run's scale;
    newcomers' expected wages in the regions it knows."""
    row_of = {str(b): i for i, b in enumerate(state.beliefs["book"])}
    s = m.state
    for b in m.books.crowd_cols:
        i = row_of.get(book_key(m, b))
        if i is None:
            continue
        for name in BELIEFS:
            getattr(s, name)[b] = state.beliefs[name][i]
        for name in PER_SCALE_BELIEFS:
            getattr(s, name)[b] = state.beliefs[name][i] * m.cfg.scale
        s.search_ref[b] = state.beliefs["search_ratio"][i]  # the anchor's slack (pricing.scarcity)
    for r, code in enumerate(m.regions.codes):
        wage = state.expected_wage.get(code)
        if wage is not None and np.isfinite(wage):
            s.expected_wage[r] = wage


def start_costs(m: Context, state: StartState) -> None:
    """The channel choice's reference costs: the baseline's, for the task types the stored state
    knows, so that a run whose world differs from t = 0 (dearer vendors, higher reservation
    wages) chooses its channels against the baseline's costs, not its own."""
    for t, name in enumerate(m.types.names):
        costs = state.channel_cost.get(name)
        if costs is not None:
            m.state.cost0[t] = [np.nan if c is None else c for c in costs]
