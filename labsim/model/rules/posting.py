"""When requesters post: office hours in their home time zones, and demand's growth.

Requesters post more in their office hours (``demand.office_hours_boost``
times the rate at other hours). By default all post on one clock
(``demand.requester_utc_offset_h``: US Eastern); with
``demand.office_hours_by_home`` each home jurisdiction's requesters post in
their own office hours, weighted by their share of the batches
(``requesters.*.home_shares``), so that work arrives around the clock in the
proportions the buyers' homes imply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labsim.model.books import class_shares
from labsim.model.units import HOURS_PER_DAY, HOURS_PER_WEEK, HOURS_PER_YEAR

if TYPE_CHECKING:
    from labsim.config import LabsimConfig


def office_hours_profile(requester_utc_offset_h: float, boost: float, start_local_h: float = 9.0,
                         end_local_h: float = 18.0, workdays: int = 5) -> np.ndarray:
    """Relative batch arrival rate for each hour of the UTC week (mean 1).

    Hour 0 is Monday 00:00 UTC. Requesters post ``boost`` times more in their
    weekday office hours (``start_local_h`` to ``end_local_h`` local time,
    Monday to Friday by default) than at other times.
    """
    hours = np.arange(HOURS_PER_WEEK)
    local = hours + requester_utc_offset_h
    day = np.floor(local / HOURS_PER_DAY) % 7
    hour_of_day = local % HOURS_PER_DAY
    office = (day < workdays) & (hour_of_day >= start_local_h) & (hour_of_day < end_local_h)
    w = np.where(office, boost, 1.0)
    return w / w.mean()


def home_weights(cfg: LabsimConfig, batches_per_h: np.ndarray) -> np.ndarray:
    """Each home jurisdiction's share of all batches (``config.JURISDICTIONS`` order): the task types'
    batches x the classes' shares of each type x each class's home shares."""
    from labsim.config import JURISDICTIONS

    rows = list(cfg.requesters.values())
    shares, _ = class_shares(cfg)  # types x classes
    home = np.array([[r.home_shares.get(j, 0.0) for j in JURISDICTIONS] for r in rows])  # classes x homes
    w = (batches_per_h @ shares) @ home
    return w / w.sum() if w.sum() > 0 else np.full(len(JURISDICTIONS), 1.0 / len(JURISDICTIONS))


def posting_profile(cfg: LabsimConfig, types) -> np.ndarray:
    """Requesters' posting rate per hour of the UTC week (mean 1): all in the office hours of
    ``demand.requester_utc_offset_h``, or, with ``demand.office_hours_by_home``, each home
    jurisdiction's requesters in their own (``config.JURISDICTIONS``' standard time), weighted by
    their share of the batches."""
    from labsim.config import JURISDICTIONS

    d = cfg.demand
    if not d.office_hours_by_home:
        return office_hours_profile(d.requester_utc_offset_h, d.office_hours_boost, d.office_start_local_h,
                                    d.office_end_local_h)
    w = home_weights(cfg, types.batches_per_h)
    return sum(wj * office_hours_profile(off, d.office_hours_boost, d.office_start_local_h, d.office_end_local_h)
               for wj, off in zip(w, JURISDICTIONS.values()))


def demand_growth(now_h: float, growth_per_year: float) -> float:
    """Demand at ``now_h`` relative to the start: compound growth per year."""
    return (1.0 + growth_per_year) ** (now_h / HOURS_PER_YEAR)
