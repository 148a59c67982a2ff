"""Named windows of weeks over which KPIs are reported.

``kpi`` runs from the end of the warm-up to the horizon; ``year1``,
``year2``... are the run's full years of 52 weeks; ``before`` runs from the
end of the warm-up to the split week and ``after`` from the split week plus
``windows.settling_weeks`` (time for the market to settle) to the horizon.
The split week is the first week a policy or a region's entry starts, or,
in a run where none does (a baseline), ``windows.reference_week``: the
policies' default start, so that a baseline reports the same weeks as the
policies it is compared with.
Weeks are counted from 0 here and ranges are half-open; pages and commands
show them counted from 1, both ends included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from labsim.config import enabled_policies
from labsim.model.units import HOURS_PER_WEEK

if TYPE_CHECKING:
    from labsim.config import LabsimConfig

WEEKS_PER_YEAR = 52


@dataclass(frozen=True)
class Window:
    name: str
    start_week: int  # first week in the window (from 0)
    end_week: int  # first week after it

    @property
    def start_h(self) -> float:
        return float(self.start_week * HOURS_PER_WEEK)

    @property
    def end_h(self) -> float:
        return float(self.end_week * HOURS_PER_WEEK)

    def label(self) -> str:
        """The weeks as users count them: from 1, both ends included."""
        return f"{self.start_week + 1}:{self.end_week}"


def _starts(cfg: LabsimConfig, policy_label: Callable[[str], str]) -> list[tuple[float, str]]:
    """(week, what) for each policy switched on and each region entering, after week 0."""
    out = [(float(p.start_week), f"{policy_label(name)} starts") for name, p in enabled_policies(cfg)
           if p.start_week > 0]
    return out + [(float(r.entry_week), f"{r.name or code} enters") for code, r in cfg.regions.items()
                  if r.entry_week > 0]


def events(cfg: LabsimConfig,
           policy_label: Callable[[str], str] = lambda name: name.replace("_", " ")) -> list[tuple[float, str]]:
    """(week, what) for each week before the run ends in which a policy starts or a region enters,
    in order of week (what happens the same week in one label); ``policy_label`` names a policy."""
    by_week: dict[float, list[str]] = {}
    for week, what in _starts(cfg, policy_label):
        if week < cfg.horizon_weeks:
            by_week.setdefault(week, []).append(what)
    return sorted((week, ", ".join(what)) for week, what in by_week.items())


def event_week(cfg: LabsimConfig) -> float | None:
    """The first week a policy or a region's entry changes the market, if any after week 0."""
    return min((week for week, _ in _starts(cfg, str)), default=None)


def split_week(cfg: LabsimConfig) -> float:
    """The week at which ``before`` ends and, after ``windows.settling_weeks``, ``after`` begins."""
    start = event_week(cfg)
    return cfg.windows.reference_week if start is None else start


def named_windows(cfg: LabsimConfig) -> list[Window]:
    """The run's windows, ``kpi`` first."""
    weeks = math.ceil(round(cfg.horizon_weeks * HOURS_PER_WEEK) / HOURS_PER_WEEK)
    warm = math.ceil(cfg.warmup_weeks - 1e-9)
    out = [Window("kpi", warm, weeks)]
    if cfg.windows.yearly:
        out += [Window(f"year{k + 1}", WEEKS_PER_YEAR * k, WEEKS_PER_YEAR * (k + 1))
                for k in range(weeks // WEEKS_PER_YEAR)]
    start = split_week(cfg)
    first = math.ceil(start - 1e-9)
    if warm < first < weeks:
        out.append(Window("before", warm, first))
    settled = math.ceil(start + cfg.windows.settling_weeks - 1e-9)
    if max(warm, first) <= settled < weeks:
        out.append(Window("after", settled, weeks))
    return out
