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
from labsim.model.jit import njit
from labsim.model.units import CROWD, HOURS_PER_DAY, HOURS_PER_WEEK, VENDOR

NIGHT_START_LOCAL_H, NIGHT_END_LOCAL_H = 22.0, 6.0  # what counts as night work


def session_phase(utc_offset_h: np.ndarray, start_local_h: np.ndarray) -> np.ndarray:
    """Phase such that hours into today's session = (now + phase) mod 24."""
    return utc_offset_h - start_local_h


@njit
def session_fraction(now_h, phase_h, session_h):  # pragma: no cover - compiled
    """Share of the hour [now, now+1) inside each worker's daily session window.

    Returns (fraction online in [0, 1], True where the session starts this hour).
    The hour may hold the end of yesterday's session and the start of today's
    (time zones at a half hour). For one worker or an array of them.
    """
    elapsed = (now_h + phase_h) % 24.0  # hours since the latest session start
    today = _clip(session_h - elapsed, 0.0, 1.0)
    next_start = 24.0 - elapsed  # hours from now to the next session start
    tomorrow = _clip(np.minimum(1.0 - next_start, session_h), 0.0, 1.0)
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


@njit
def night_share(local_hour, night_start=NIGHT_START_LOCAL_H, night_end=NIGHT_END_LOCAL_H):  # pragma: no cover
    """Share of the hour [h, h+1) local time that falls in the night (22:00-06:00): for one hour or
    an array of them, in numpy and in compiled code alike."""
    h = np.mod(local_hour, 24.0)
    # overlap of [h, h+1) with [night_start, 24) and with [0, night_end), counting the wrap
    late = _clip(np.minimum(h + 1.0, 24.0) - np.maximum(h, night_start), 0.0, 1.0)
    early = _clip(np.minimum(h + 1.0, night_end) - h, 0.0, 1.0)
    wrap = _clip(h + 1.0 - 24.0, 0.0, night_end)
    return np.minimum(late + early + wrap, 1.0)


@njit
def _clip(x, low, high):  # pragma: no cover - compiled
    """``np.clip``, for numbers and arrays alike."""
    return np.minimum(np.maximum(x, low), high)


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
        day_frac, day_night, day_starts = _day_tables(phase, pool.session_h[c], pool.utc_offset[c],
                                                      HOURS_PER_DAY // sub, sub)
        return cls(c, v, pool.joined_h[c], pool.joined_h[v], pool.region[v], day_frac, day_night,
                   day_starts, float(pool.joined_h[a].max()) if a.size else -np.inf)


@njit
def _day_tables(phase, session, offset, slots, sub):  # pragma: no cover - compiled
    """Per step of the day and crowd worker: hours online (``session_fraction``, hour by hour), of
    them at night (``night_share``), and whether the session starts in the step."""
    n = phase.size
    day_frac, day_night = np.zeros((slots, n)), np.zeros((slots, n))
    day_starts = np.zeros((slots, n), np.bool_)
    for j in range(slots):
        for k in range(sub):
            h = j * sub + k
            for i in range(n):
                frac, starts = session_fraction(float(h), phase[i], session[i])
                day_frac[j, i] += frac
                day_starts[j, i] |= starts
                day_night[j, i] += frac * night_share(h + offset[i])
    return day_frac, day_night, day_starts


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
                night_r += f * np.array([night_share(h) for h in (slot + k + regions.utc_offset_h).tolist()])
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
    its session starts (stream ``schedule``); writes the week's night hours
    (of the week's crew, ``labsim.model.crew``).
    """
    ro, crew = m.rosters, m.crew
    slot = int(now % 24.0) // m.sub_hours  # schedules repeat daily
    frac_r, night_r = m.vendor_shifts(now)
    cw, cfrac, vw, vfrac = _online(
        m.held, m.held_schedule, crew.rows, crew.n_crowd, ro.day_frac[slot], ro.day_night[slot],
        ro.day_starts[slot], ro.crowd_joined_h, ro.vendor_region, ro.vendor_joined_h, frac_r, night_r, float(now),
        float(ro.last_join_h), m.cfg.workers.days_per_week / 7.0, crew.workday, crew.night_h)
    return Online(cw, cfrac, vw, vfrac)


@njit
def _online(held, schedule, rows, n_c, day_frac, day_night, day_starts, crowd_joined_h, vendor_region,
            vendor_joined_h, frac_r, night_r, now, last_join_h, p_workday, workday, night_h
            ):  # pragma: no cover - compiled
    """Who is online in the step (pool rows) and for how long. A crowd worker whose session starts in
    the step works today with probability ``p_workday`` (one draw of stream ``schedule`` each, in
    roster order); one who has not joined yet is not online; vendor staff work their region's shift.
    ``workday`` and ``night_h`` are the crew's (crowd first, then vendor staff)."""
    rng = held.streams[schedule]
    joining = now < last_join_h
    for i in range(n_c):
        if day_starts[i]:
            workday[i] = rng.random() < p_workday
    n_on = 0
    for i in range(n_c):
        n_on += day_frac[i] > 0 and not (joining and crowd_joined_h[i] > now) and workday[i]
    cw, cfrac = np.empty(n_on, np.int64), np.empty(n_on)
    j = 0
    for i in range(n_c):
        if day_frac[i] > 0 and not (joining and crowd_joined_h[i] > now) and workday[i]:
            cw[j], cfrac[j] = rows[i], day_frac[i]
            night_h[i] += day_night[i]
            j += 1
    n_v = rows.size - n_c
    n_on = 0
    for i in range(n_v):
        n_on += frac_r[vendor_region[i]] > 0 and not (joining and vendor_joined_h[i] > now)
    vw, vfrac = np.empty(n_on, np.int64), np.empty(n_on)
    j = 0
    for i in range(n_v):
        r = vendor_region[i]
        if frac_r[r] > 0 and not (joining and vendor_joined_h[i] > now):
            vw[j], vfrac[j] = rows[n_c + i], frac_r[r]
            night_h[n_c + i] += night_r[r]
            j += 1
    return cw, cfrac, vw, vfrac
