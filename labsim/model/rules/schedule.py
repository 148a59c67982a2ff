"""When workers are online: daily crowd sessions, vendor shifts, night hours.

Crowd workers log in for a daily session from their preferred local hour,
on about ``days_per_week`` days a week (a fresh draw each time a session
would start); vendor staff work fixed shifts from their region's shift start,
Monday to Friday by default. A cohort step of ``step_h`` hours adds up, for
each worker, the hours of the step inside its session or shift, and those
that fall at night (22:00-06:00 local time). Workers on paid leave stay
home. Schedules repeat every day (sessions) or week (shifts), so the
week's rosters tabulate them once per step of the day or week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labsim.model.context import Context
from labsim.model.units import CROWD, HOURS_PER_DAY, HOURS_PER_WEEK, VENDOR

NIGHT_START_LOCAL_H, NIGHT_END_LOCAL_H = 22.0, 6.0  # what counts as night work


def session_phase(utc_offset_h: np.ndarray, start_local_h: np.ndarray) -> np.ndarray:
    """Phase such that hours into today's session = (now + phase) mod 24."""
    return utc_offset_h - start_local_h


def session_fraction(now_h: float, phase_h: np.ndarray, session_h: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Share of the hour [now, now+1) inside each worker's daily session window.

    Returns (fraction online in [0, 1], True where the session starts this hour).
    The hour may hold the end of yesterday's session and the start of today's
    (time zones at a half hour).
    """
    elapsed = (now_h + phase_h) % 24.0  # hours since the latest session start
    today = np.clip(session_h - elapsed, 0.0, 1.0)
    next_start = 24.0 - elapsed  # hours from now to the next session start
    tomorrow = np.clip(np.minimum(1.0 - next_start, session_h), 0.0, 1.0)
    return today + tomorrow, (elapsed == 0.0) | (next_start < 1.0)


def shift_fraction(now_h: float, utc_offset_h: np.ndarray, start_local_h: np.ndarray,
                   shift_h: float, days_per_week: int) -> np.ndarray:
    """Share of the hour [now, now+1) inside a vendor shift (Monday to Friday by default).

    The hour may hold the end of one day's shift and the start of the next
    (time zones at a half hour).
    """
    local = now_h + utc_offset_h - start_local_h  # hours since Monday's shift start
    day = np.floor(local / 24.0) % 7
    elapsed = local % 24.0
    today = np.where(day < days_per_week, np.clip(shift_h - elapsed, 0.0, 1.0), 0.0)
    tomorrow = np.where((day + 1) % 7 < days_per_week,
                        np.clip(np.minimum(elapsed + 1.0 - 24.0, shift_h), 0.0, 1.0), 0.0)
    return today + tomorrow


def night_share(local_hour: np.ndarray, night_start: float = NIGHT_START_LOCAL_H,
                night_end: float = NIGHT_END_LOCAL_H) -> np.ndarray:
    """Share of the hour [h, h+1) local time that falls in the night (22:00-06:00)."""
    h = np.mod(local_hour, 24.0)
    # overlap of [h, h+1) with [night_start, 24) and with [0, night_end), counting the wrap
    late = np.clip(np.minimum(h + 1.0, 24.0) - np.maximum(h, night_start), 0.0, 1.0)
    early = np.clip(np.minimum(h + 1.0, night_end) - h, 0.0, 1.0)
    wrap = np.clip(h + 1.0 - 24.0, 0.0, night_end)
    return np.minimum(late + early + wrap, 1.0)


@dataclass
class Rosters:
    """The week's crowd and vendor rosters and their schedules, per step of the day."""

    crowd: np.ndarray  # crowd workers present this week (not on leave)
    vendor: np.ndarray  # vendor staff present this week (not on leave)
    crowd_joined_h: np.ndarray
    vendor_joined_h: np.ndarray
    vendor_region: np.ndarray
    day_frac: np.ndarray  # (steps of the day, crowd): hours online in the step
    day_night: np.ndarray  # the same, hours at night
    day_starts: np.ndarray  # whether the session starts in the step
    last_join_h: float  # after this hour everyone on the rosters has joined

    @classmethod
    def for_week(cls, m: Context, week_start_h: float) -> "Rosters":
        pool, a, sub = m.pool, m.active, m.sub_hours
        a = a[pool.leave_until_h[a] <= week_start_h]  # those on paid leave stay home
        c = a[pool.channel[a] == CROWD]
        v = a[pool.channel[a] == VENDOR]
        # Hours since the session's local start = (now + phase) mod 24.
        phase = session_phase(pool.utc_offset[c], pool.start_local_h[c])
        session = pool.session_h[c]
        slots = HOURS_PER_DAY // sub
        day_frac = np.zeros((slots, c.size))
        day_night = np.zeros((slots, c.size))
        day_starts = np.zeros((slots, c.size), bool)
        offset = pool.utc_offset[c]
        for j in range(slots):
            for k in range(sub):
                h = j * sub + k
                frac, starts = session_fraction(float(h), phase, session)
                day_frac[j] += frac
                day_starts[j] |= starts
                day_night[j] += frac * night_share(h + offset)
        return cls(c, v, pool.joined_h[c], pool.joined_h[v], pool.region[v], day_frac, day_night,
                   day_starts, float(pool.joined_h[a].max()) if a.size else -np.inf)


class VendorShifts:
    """Per region, the hours of vendor shift in each step of the week and those at night.

    Shifts repeat every week, so each step of the week is computed once.
    """

    def __init__(self, m: Context) -> None:
        self.m = m
        self._slots: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        slot = int(now % HOURS_PER_WEEK)
        cached = self._slots.get(slot)
        if cached is None:
            m = self.m
            regions, vendor = m.regions, m.cfg.vendor
            frac_r = np.zeros(regions.n)
            night_r = np.zeros(regions.n)
            for k in range(m.sub_hours):
                f = shift_fraction(slot + k, regions.utc_offset_h, regions.vendor_shift_start_local_h,
                                   vendor.shift_hours, vendor.shift_days_per_week)
                frac_r += f
                night_r += f * night_share(slot + k + regions.utc_offset_h)
            cached = self._slots[slot] = (frac_r, night_r)
        return cached


@dataclass
class Online:
    """Who works in this step, and for how many of its hours."""

    crowd: np.ndarray
    crowd_h: np.ndarray
    vendor: np.ndarray
    vendor_h: np.ndarray


def online(m: Context, now: float) -> Online:
    """Crowd sessions and vendor shifts in [now, now + step); adds up night hours.

    Reads the week's rosters; draws whether a crowd worker works today when
    its session starts (stream ``schedule``); writes the week's night hours.
    """
    pool, ro = m.pool, m.rosters
    c = ro.crowd
    slot = int(now % 24.0) // m.sub_hours  # schedules repeat daily
    frac_c = ro.day_frac[slot].copy()
    night_c = ro.day_night[slot]
    starts = ro.day_starts[slot]
    if now < ro.last_join_h:
        frac_c[ro.crowd_joined_h > now] = 0.0
    if starts.any():
        s = c[starts]
        pool.workday[s] = m.rng["schedule"].random(s.size) < m.cfg.workers.days_per_week / 7.0
    on_c = (frac_c > 0) & pool.workday[c]
    # Vendor staff work shifts set per region.
    v = ro.vendor
    frac_r, night_r = m.vendor_shifts(now)
    frac_v = frac_r[ro.vendor_region]
    if now < ro.last_join_h:
        frac_v[ro.vendor_joined_h > now] = 0.0
    on_v = frac_v > 0
    cw, cfrac = c[on_c], frac_c[on_c]
    vw, vfrac = v[on_v], frac_v[on_v]
    pool.wk_night_h[cw] += night_c[on_c]
    pool.wk_night_h[vw] += night_r[ro.vendor_region[on_v]]
    return Online(cw, cfrac, vw, vfrac)
