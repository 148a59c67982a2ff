"""Piece rates: requesters move each task type's crowd rates by how its batches filled.

Each week, per task type (all its crowd books together), the pressure on
rates is log(mean time to fill / ``target_fill_h``), the mean counted no
shorter than ``min_fill_h``, plus ``expiry_weight`` x the share of its human
tasks that expired: slow or unfinished batches push rates up, batches taken
at once pull them down. Rates move by ``exp(clip(sensitivity x pressure,
±max_change_per_week))``, within [``min_rate_multiplier``,
``max_rate_multiplier``] x the base rate; a type with nothing posted keeps its
rates. Geofenced and qualified books keep their premiums over the open book.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context


def price_pressure(filled: np.ndarray, fill_hours: np.ndarray, posted: np.ndarray, expired: np.ndarray,
                   target_fill_h: float, min_fill_h: float, expiry_weight: float) -> np.ndarray:
    """Per task type: log of the mean time to fill over target, plus the weighted expired share."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_fill = np.where(filled > 0, fill_hours / np.maximum(filled, 1), np.nan)
        pressure = np.log(np.maximum(mean_fill, min_fill_h) / target_fill_h)
    pressure = np.where(np.isfinite(pressure), pressure, 0.0)
    pressure += expiry_weight * np.divide(expired, posted, out=np.zeros(np.shape(posted)), where=posted > 0)
    return pressure


def next_multiplier(mult: np.ndarray, pressure: np.ndarray, posted: np.ndarray, sensitivity: float,
                    max_change: float, lowest: float, highest: float) -> np.ndarray:
    """Next week's rate multipliers: a capped move along the pressure, within bounds."""
    change = np.where(posted > 0, np.clip(sensitivity * pressure, -max_change, max_change), 0.0)
    moved = np.clip(mult * np.exp(change), lowest, highest)
    return np.where(posted > 0, moved, mult)


def reprice(m: Context) -> None:
    """Move crowd rate multipliers after the week (reads the store's fills and the
    week's posted and expired human tasks; writes the type and book multipliers)."""
    pc, st, books, state = m.cfg.pricing, m.store, m.books, m.state
    crowd, t = books.is_crowd, books.type

    def per_type(x: np.ndarray) -> np.ndarray:
        return np.bincount(t[crowd], weights=x[crowd], minlength=m.types.n)

    posted = per_type(state.week_posted_human)
    pressure = price_pressure(per_type(st.filled), per_type(st.fill_hours), posted,
                              per_type(state.week_expired), pc.target_fill_h, pc.min_fill_h,
                              pc.expiry_weight)
    state.type_rate_mult = next_multiplier(state.type_rate_mult, pressure, posted, pc.sensitivity,
                                           pc.max_change_per_week, pc.min_rate_multiplier,
                                           pc.max_rate_multiplier)
    state.book_rate_mult = np.where(crowd, state.type_rate_mult[t], 1.0)
