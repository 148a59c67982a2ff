"""Who joins: the workers present at the start, each week's joiners, vendor hires.

Each week, in each region that has entered the market, potential workers
arrive at ``potential_arrivals_per_week``; those whose reservation wage is
below what they expect to earn there (word of mouth) join, at a uniform
time during the next week. Their reservation wages are drawn from the
region's log-normal below that expectation. Skill per task type is normal
around the region's mean; sensitivity to toxic material is log-normal; a
crowd worker's weekly hours are log-normal and its daily session starts
near the region's usual hour. Vendors hire at the start of each week to keep
their headcount (scaled by the work routed to them); their staff are paid
the region's vendor wage and join a team for one task type.

Workers present at t = 0 have a tenure behind them (exponential), and what
it left: skill on their main task type, stress, and a record of reviewed
tasks at the approval their skill gives.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from labsim.model.context import Context
from labsim.model.rng import worker_keys
from labsim.model.rules.skills import book_tables, tasks_per_hour, warm_skills
from labsim.model.rules.wellbeing import warm_stress, weekly_hours
from labsim.model.rules.word_of_mouth import expected_wage
from labsim.model.state import EXIT_NONE, EXIT_OTHER
from labsim.model.units import CROWD, HOURS_PER_MONTH, HOURS_PER_WEEK, UUSD, VENDOR

_STD_NORMAL = NormalDist()


def lognormal_cdf(x: float, median: float, sigma: float) -> float:
    """P(X <= x) for a log-normal X with this median and log-sd."""
    if x <= 0:
        return 0.0
    if not math.isfinite(x):
        return 1.0
    if sigma <= 0:  # no spread: every value is the median
        return 1.0 if x >= median else 0.0
    return _STD_NORMAL.cdf(math.log(x / median) / sigma)


def truncated_lognormal(rng: np.random.Generator, median: float, sigma: float, upper_cdf: float,
                        k: int) -> np.ndarray:
    """k log-normal draws conditioned to lie below the quantile ``upper_cdf`` (inverse CDF)."""
    u = rng.uniform(0.0, 1.0, k) * min(max(upper_cdf, 1e-12), 1.0)
    u = np.clip(u, 1e-12, 1 - 1e-12)
    z = np.array([_STD_NORMAL.inv_cdf(float(x)) for x in u])
    return median * np.exp(sigma * z)


def join(m: Context, week_end: float, initial: bool = False,
         covered: set[tuple[int, int]] | frozenset = frozenset()) -> None:
    """Add next week's crowd joiners and the vendor hires that refill headcount
    (at t = 0, ``initial``: the workers already in the market, except in the (region, channel)
    pairs ``covered`` by a stored steady state). Stream ``joins``."""
    cfg, w = m.cfg, m.cfg.workers
    tenure_mean_h = w.initial_tenure_mean_months * HOURS_PER_MONTH
    horizon = HOURS_PER_WEEK
    entry_h = m.regions.entry_h
    # After the start, each region's joiners and hires of each week draw from their own stream
    # (``Streams.keyed``): a policy that changes one region's hires changes no other draw.
    week = int(round(week_end / HOURS_PER_WEEK))
    batch = 0 if initial else week + 1
    for r, reg in enumerate(cfg.regions.values()):
        rng = m.rng["joins"] if initial else m.rng.keyed("joins", week, r, CROWD)
        if initial:
            k = (int(round(reg.initial_crowd_workers * cfg.scale))
                 if reg.entry_week <= 0 and (r, CROWD) not in covered else 0)
            # Workers already in the market at t=0 have some tenure behind them.
            joined = -rng.exponential(tenure_mean_h, k)
        else:
            if entry_h[r] >= week_end + horizon:
                continue
            # Potential joiners come if the market beats their outside option:
            # the share whose reservation wage is below the expected wage.
            median, sigma = m.regions.reservation_median_usd_h[r], m.regions.reservation_sigma[r]
            share = lognormal_cdf(expected_wage(m.state.expected_wage, r), median, sigma)
            closed = m.state.levers.signups_closed
            open_ = 0.0 if closed.size and closed[r] else 1.0  # the platform may close sign-ups (a policy)
            k = int(rng.poisson(reg.potential_arrivals_per_week * cfg.scale * share * open_))
            joined = week_end + rng.uniform(0, horizon, k)
            res = truncated_lognormal(rng, median, sigma, share, k)
            keep = joined >= entry_h[r]
            joined, res = joined[keep], res[keep]
            k = joined.size
        if k:
            idx = add_workers(m, r, CROWD, joined, rng, None if initial else res, initial, batch)
            if initial:
                spread = crowd_work_share(m, m.pool.skill[idx])
                warm_skills(m, idx, -joined, weekly_hours(m, idx), spread)
                warm_stress(m, idx, -joined)
                # Their tenure has earned them a record of reviewed tasks (their paid hours at
                # their speed on each type: slow types earn fewer) at the approval their skill
                # gives, so as many qualify as would have in a steady market.
                paid_h = -joined / HOURS_PER_WEEK * weekly_hours(m, idx) * w.initial_paid_share
                tph = tasks_per_hour(m.types.duration_mean_min, m.pool.skill[idx], cfg.workers.novice_slowdown)
                reviewed = np.rint(paid_h * (spread * tph).sum(axis=1)).astype(np.int64)
                approval = 1.0 - book_tables(m, idx)[1].mean(axis=1)
                m.pool.done_total[idx] = reviewed
                m.pool.accepted_total[idx] = np.rint(reviewed * approval).astype(np.int64)
        # Vendors hire to keep their headcount, once the region has entered.
        if entry_h[r] <= week_end + (0 if initial else horizon):
            target = vendor_target(m, r)
            staff = team_staff(m, r, m.active)
            hire = target - int(staff.sum())
            if hire > 0:
                start = max(week_end, entry_h[r])
                if not initial:
                    rng = m.rng.keyed("joins", week, r, VENDOR)
                joined = (-rng.exponential(tenure_mean_h, hire) if initial else np.full(hire, start))
                # Vendors hire for the teams short of the staff their work needs.
                short = np.maximum(m.state.team_share * target - staff, 0.0)
                idx = add_workers(m, r, VENDOR, joined, rng, batch=batch, team_weights=short)
                if initial:
                    warm_skills(m, idx, -joined, weekly_hours(m, idx))
                    warm_stress(m, idx, -joined)


def team_staff(m: Context, r: int, workers: np.ndarray) -> np.ndarray:
    """Per team (task type), region r's vendor staff among ``workers``."""
    pool = m.pool
    mine = workers[(pool.region[workers] == r) & (pool.channel[workers] == VENDOR)]
    return np.bincount(pool.team[mine], minlength=m.types.n).astype(float)


def team_surplus(m: Context, r: int, workers: np.ndarray) -> np.ndarray:
    """Per team, region r's vendor staff among ``workers`` less the staff its share of the work needs
    (``team_share`` x the region's headcount target): negative where a team is short."""
    return team_staff(m, r, workers) - m.state.team_share * vendor_target(m, r)


def vendor_target(m: Context, r: int) -> int:
    """Region r's vendor headcount this week: the configured one x its headcount factor."""
    return int(round(m.regions.vendor_workers[r] * m.cfg.scale * m.state.vendor_headcount_factor[r]))


def lay_off(m: Context, a: np.ndarray, present: np.ndarray, reasons: np.ndarray) -> np.ndarray:
    """Vendors over their headcount after the week's exits (``reasons``, of workers ``a``) let
    the excess go, last hired first (exit reason ``other``)."""
    pool = m.pool
    staying = present & (reasons == EXIT_NONE) & (pool.channel[a] == VENDOR)
    if not staying.any():
        return reasons
    for r in np.unique(pool.region[a[staying]]):
        mine = np.flatnonzero(staying & (pool.region[a] == r))
        excess = mine.size - vendor_target(m, int(r))
        if excess > 0:
            # From the teams with more staff than their work needs, in proportion to their surplus
            # (largest remainders), last hired first within a team.
            over = np.maximum(team_surplus(m, int(r), a[mine]), 0.0)
            quota = _largest_remainders(excess, over)
            reasons = reasons.copy()
            for team in np.flatnonzero(quota):
                members = mine[pool.team[a[mine]] == team]
                last = members[np.argsort(-pool.joined_h[a[members]], kind="stable")[:quota[team]]]
                reasons[last] = EXIT_OTHER
    return reasons


def _largest_remainders(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split into whole numbers in proportion to ``weights``, none above its weight rounded up
    (Hamilton's method; the weights sum to at least ``total``)."""
    cap = np.ceil(weights - 1e-9).astype(np.int64)
    share = total * weights / weights.sum()
    whole = np.minimum(np.floor(share).astype(np.int64), cap)
    left = total - int(whole.sum())
    room = cap - whole
    order = np.argsort(-(share - whole), kind="stable")
    while left > 0 and room.any():  # one more to each in order of remainders, again while some are left
        for k in order:
            if left > 0 and room[k] > 0:
                whole[k] += 1
                room[k] -= 1
                left -= 1
    return whole


def crowd_work_share(m: Context, skill: np.ndarray) -> np.ndarray:
    """Per worker (rows of ``skill``), the share of its hours on each task type in a steady
    market, as the crowd's work spreads over the types it can do: the types' hours of crowd
    work per week (their batches' tasks x duration, less the vendors' share)."""
    types = m.types
    work = np.where(skill >= types.skill_required, types.work_h_per_week * (1.0 - types.vendor_share), 0.0)
    work[~work.any(axis=1)] = 1.0
    return work / work.sum(axis=1, keepdims=True)


def add_workers(m: Context, r: int, channel: int, joined: np.ndarray, rng: np.random.Generator,
                res: np.ndarray | None = None, initial: bool = False, batch: int = 0,
                team_weights: np.ndarray | None = None) -> np.ndarray:
    """Draw ``joined.size`` new workers of region ``r`` on ``channel`` and make them active
    (``initial``: workers already in the market at t = 0; ``batch``: 0 at the start, the week + 1
    after, for their identities, ``rng.worker_keys``; vendor staff join the teams in proportion to
    ``team_weights``, by default the teams' shares of the work)."""
    cfg, w = m.cfg, m.cfg.workers
    reg = cfg.regions[m.regions.codes[r]]
    types = m.types
    k, n = joined.size, types.n
    # One row of standard normals per worker, drawn row by row: the first workers of a batch draw the
    # same whether the batch is larger or smaller (a policy that hires more keeps those it would have hired).
    z = rng.standard_normal((k, n + 4))
    skill = np.clip(reg.skill_mean + w.skill_sd * z[:, :n], 0.0, 1.0)
    if res is None:
        res = np.exp(np.log(m.regions.reservation_median_usd_h[r]) + m.regions.reservation_sigma[r] * z[:, n])
    sensitivity = np.exp(cfg.wellbeing.sensitivity_sigma * z[:, n + 1])
    if channel == CROWD:
        weekly = np.exp(np.log(w.hours_per_week_median) + w.hours_per_week_sigma * z[:, n + 2])
        session = np.minimum(weekly / w.days_per_week, w.max_session_h)
        start = (reg.crowd_session_start_local_h + np.rint(w.session_start_sd_h * z[:, n + 3])) % 24
        team = np.full(k, -1)
        wage = np.zeros(k, np.int64)
        able = skill >= types.skill_required
        if initial:
            # Those present at t = 0 have worked the types they can do as the crowd's work
            # spreads (``crowd_work_share``); their main type is drawn from that spread.
            cum = np.cumsum(crowd_work_share(m, skill), axis=1)
            main = np.minimum((rng.random(k)[:, None] > cum).sum(axis=1), types.n - 1)
        else:
            # Until it has worked, a newcomer's main task type is what pays it best on paper.
            paper = np.where(able, types.base_piece_rate_usd * tasks_per_hour(
                types.duration_mean_min, skill, w.novice_slowdown), -1.0)
            main = np.argmax(paper, axis=1)
    else:
        session = np.full(k, cfg.vendor.shift_hours)
        start = np.full(k, float(reg.vendor_shift_start_local_h))
        # Each hire's team by the teams' shares of the work, from its own row's normal.
        u = np.array([_STD_NORMAL.cdf(float(x)) for x in z[:, n + 2]])
        weights = team_weights if team_weights is not None and team_weights.sum() > 0 else m.state.team_share
        cum = np.cumsum(weights)
        team = np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), n - 1)
        wage = np.full(k, int(round(m.regions.vendor_wage_usd_h[r] * UUSD)), np.int64)
        main = team
    idx = m.pool.add(
        k, region=np.full(k, r), channel=np.full(k, channel), team=team, joined_h=joined,
        reservation_wage=res, utc_offset=np.full(k, reg.utc_offset_h), start_local_h=start,
        session_h=session, usual_session_h=session, wage_uusd_h=wage, main_type=main, sensitivity=sensitivity,
        key=worker_keys(batch, r, channel, k),
    )
    m.pool.skill[idx] = skill
    m.pool.skill_cap[idx] = np.minimum(1.0, skill + w.max_skill_gain)
    m.active = np.concatenate([m.active, idx])
    return idx
