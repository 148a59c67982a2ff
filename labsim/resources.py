"""How much memory and time a run will take, estimated before it starts from its configuration alone.

``estimate(cfg)`` counts what a run holds and does (``sizes``: the worker
table it reserves, its weekly records, the batches that may be open, its
steps, the queueing mode's tasks) and turns the counts into bytes and
seconds with coefficients fitted to measured runs; it takes tens of
microseconds (no simulation, no Hydra, no plots). ``check(cfg)`` refuses, with
a ``ConfigError`` naming the setting that drives the size, a run that would
not fit in memory (such a run used to die with a MemoryError after minutes),
and returns one-line warnings for a run that will take long.

The coefficients below come from ``python benchmarks/resources_fit.py``
(which prints them), run on 2026-12-07 on the project's 2-core AMD EPYC with
24 GiB (x86_64 Linux, Python 3.11.7), the kernel's loops compiled by numba:
24 runs of ``labsim.run``, each in its own process, its peak RSS (imports,
composition and numba's runtime included: about 120 MB of the base) and its
wall time (the run alone); least squares with non-negative coefficients,
relative for time. Measured, and fitted (memory before its margin):

    case (overrides)          workers  peak MiB (fit)  seconds (fit)
    scale 0.1, 26 weeks           929     270   (264)     1.3   (1.4)
    scale 0.1, 52 weeks         1,119     278   (268)     2.0   (2.2)
    scale 0.1, 104 weeks        1,514     286   (277)     3.4   (3.7)
    scale 0.5, 26 weeks         4,638     280   (273)     1.9   (2.1)
    scale 0.5, 52 weeks         5,566     292   (280)     3.7   (3.7)
    scale 0.5, 104 weeks        7,394     303   (296)     6.8   (6.8)
    scale 1, 26 weeks           9,224     290   (285)     3.7   (3.1)
    scale 1, 52 weeks          11,091     308   (295)     7.3   (5.6)
    scale 1, 104 weeks         14,797     328   (321)    12.8  (10.7)
    scale 2, 26 weeks          18,391     309   (309)     5.6   (5.0)
    scale 2, 52 weeks          22,121     329   (325)     9.4   (9.4)
    scale 2, 104 weeks         29,343     366   (371)    16.7  (18.5)
    scale 5, 26 weeks          46,112     383   (381)    10.7  (10.7)
    scale 10, 13 weeks         82,963     459   (482)    11.0  (10.3)
    scale 0.05, 1040 weeks      4,218     430   (422)    31.7  (28.0)
    scale 0.02, 2080 weeks      3,344     560   (565)    55.4  (50.6)
    scale 0.1, 26 w, batches x20  1,175   283   (289)    18.6  (16.8)
    scale 0.5, 26 w, batches x5   5,843   285   (279)     5.7   (5.4)
    scale 0.5, 104 w, growth 1    8,846   307   (300)     9.4  (11.7)
    KEN 200,000 at start, 13 w  207,325   836   (829)    22.2  (25.1)
    mmc (5 servers, 60 weeks)        5    245   (266)     0.7   (0.7)
    mmc 500 servers, 400/h, 26 w   500    237   (262)   125.1 (116.8)
    mmc 200 servers, 20/h, 26 w    200    237   (262)    10.3  (10.9)
    mmc 1 server, 200/h, 26 w        1    271   (271)     2.7   (2.7)

The fit is within 0.96-1.10 of the measured peaks and the memory estimate is
the fit times ``MEMORY_MARGIN`` (1.5), so it errs on the large side: 1.4-1.6
times the measured peaks. The fitted times are within 0.77-1.25 of these
measurements, but time on this machine varies threefold from day to day, and
other machines differ more: the time estimate is an order of magnitude,
nothing more. A run through the ``labsim`` command also writes its files and
report, which this estimate does not count.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from labsim.errors import ConfigError
from labsim.model.market import capacity_hint
from labsim.model.state import COLUMNS
from labsim.model.units import HOURS_PER_WEEK, HOURS_PER_YEAR
from labsim.model.windows import named_windows

if TYPE_CHECKING:
    from labsim.config import LabsimConfig

__all__ = ["Estimate", "Sizes", "available_memory", "check", "driving_key", "estimate", "sizes"]

GIB = 2.0**30
MEMORY_MARGIN = 1.5  # the estimate errs on the large side: fit x this
USABLE_SHARE = 0.8  # of the available memory, what a run may take
LONG_RUN_S = 600.0  # a run longer than this gets a warning
PRESSURE_BASELINE = 0.725  # Sizes' ratio of work to workers in the default configuration

# Fitted by benchmarks/resources_fit.py (see the module docstring).
MEMORY_BASE = 2.691e8  # bytes: interpreter, numpy, numba's runtime, polars, SimPy, the configuration, the start
MEMORY_PER_POOL_BYTE = 3.667  # x the worker table as reserved (the week's crew and outputs per worker included)
MEMORY_PER_CELL = 1723.0  # bytes per row of the weekly records (accounts, then the timeseries)
MEMORY_PER_OPEN_BATCH = 190.3  # bytes per batch open at once
MEMORY_PER_QUEUED_TASK = 11.06  # bytes per task waiting in the queueing mode's queue
SECONDS_BASE = 0.5795  # imports, composition, loading the compiled kernel, building the outputs
SECONDS_PER_STEP = 2.677e-4  # per cohort step, whatever the size
SECONDS_PER_WORKER_STEP = 1.147e-7  # per worker present per step
SECONDS_PER_BACKLOG_STEP = 5.08e-8  # per batch that may be open, per step, x the share of work left (excess)
SECONDS_PER_TASK = 1.794e-6  # per task of the queueing mode (its arrival and its service)
SECONDS_PER_WAKEUP = 6.474e-7  # per idle server an arrival wakes (queueing mode)


@dataclass(frozen=True)
class Sizes:
    """What a run holds and does, counted from its configuration (upper bounds where it depends
    on the run: every potential arrival is taken to join)."""

    workers: float  # workers ever present
    present: float  # workers present, on average over the run
    pool_bytes: float  # the worker table as reserved: rows x bytes per row
    cells: float  # rows of the weekly records: weeks x (regions x types x channels + types x channels)
    open_batches: float  # batches open at once at the most (a deadline's arrivals at the end's demand)
    pressure: float  # hours of work requesters bring per hour workers offer, against the baseline's
    steps: float  # cohort steps (the market mode)
    tasks: float  # tasks arriving (the queueing mode)
    wakeups: float  # idle servers woken by those arrivals (each arrival wakes every idle server)
    queued: float  # tasks still waiting at the end when arrivals outrun the servers (queueing mode)


@dataclass(frozen=True)
class Estimate:
    """Peak memory (bytes, with a margin) and wall time (seconds, an order of magnitude) of a
    run, and what dominates them, in words."""

    memory_bytes: float
    seconds: float
    drivers: str


def _demand(cfg: LabsimConfig) -> tuple[float, float]:
    """Demand at the end of the run, and on average over it, against the start's (growth)."""
    years = cfg.horizon_weeks * HOURS_PER_WEEK / HOURS_PER_YEAR
    rate = math.log1p(cfg.demand.growth_per_year)
    end = math.exp(min(rate * years, 700.0))
    mean = (end - 1.0) / (rate * years) if abs(rate * years) > 1e-9 else 1.0
    return end, mean


def _row_bytes(cfg: LabsimConfig) -> int:
    """Bytes per row of the worker table (labsim.model.state.WorkerPool): its columns, the
    skill, ceiling and hours per type and the window totals. (What each worker gets from the
    books is worked out for the week's crew only: labsim.model.crew.)"""
    n_types, n_windows = len(cfg.task_types), len(named_windows(cfg))
    columns = sum(c.dtype(0).itemsize for c in COLUMNS.values())
    window_totals = sum(1 for c in COLUMNS.values() if c.window) * n_windows
    return columns + 8 * (3 * n_types + window_totals)


def sizes(cfg: LabsimConfig) -> Sizes:
    """Count what a run of ``cfg`` (validated) holds and does."""
    weeks = math.ceil(cfg.horizon_weeks)
    n_types = len(cfg.task_types)
    cells = weeks * 2 * n_types * (len(cfg.regions) + 1)
    if cfg.mode == "mmc":
        m = cfg.mmc
        hours = cfg.horizon_weeks * HOURS_PER_WEEK
        rows = max(1024, 2 ** math.ceil(math.log2(m.servers)))
        tasks, busy = m.arrival_rate_per_h * hours, m.arrival_rate_per_h / m.service_rate_per_h
        return Sizes(m.servers, m.servers, rows * _row_bytes(cfg), cells, 0.0, 0.0, 0.0, tasks,
                     tasks * max(1.0, m.servers - busy), max(0.0, m.arrival_rate_per_h - m.servers *
                                                             m.service_rate_per_h) * hours)
    end, mean = _demand(cfg)
    regions, types, w = cfg.regions.values(), cfg.task_types.values(), cfg.workers
    crowd = sum(r.initial_crowd_workers for r in regions)
    vendor = sum(r.vendor_workers for r in regions)
    arrivals = sum(r.potential_arrivals_per_week for r in regions)
    joiners = sum(r.potential_arrivals_per_week * max(0.0, cfg.horizon_weeks - r.entry_week) for r in regions)
    hires = vendor * (max(0.0, end - 1.0) + w.vendor_quit_hazard_per_week * cfg.horizon_weeks * mean)
    workers = cfg.scale * (crowd + vendor + joiners + hires)
    rows = float(capacity_hint(cfg))
    if workers > rows:  # the table doubles until it holds them, the old one still held while copying
        rows = 3.0 * workers
    row_bytes = _row_bytes(cfg)
    # The crowd tends to the stock its arrivals sustain against quits; vendors follow demand.
    crowd_mean = _mean_stock(crowd, arrivals, w.base_quit_hazard_per_week, cfg.horizon_weeks)
    shift_h = cfg.vendor.shift_hours * cfg.vendor.shift_days_per_week
    offer_h = crowd_mean * w.hours_per_week_median + vendor * mean * shift_h
    work_h = mean * sum(t.batches_per_week * t.batch_size_median * math.exp(t.batch_size_sigma ** 2 / 2)
                        * t.duration_median_min * math.exp(t.duration_sigma ** 2 / 2) / 60 for t in types)
    # Batches do not shrink in number with the scale (their tasks do).
    longest = max(r.deadline_multiplier for r in cfg.requesters.values())
    open_batches = end * sum(t.batches_per_week * t.deadline_h * longest / HOURS_PER_WEEK for t in types)
    return Sizes(workers, cfg.scale * (crowd_mean + vendor * mean), rows * row_bytes, cells, open_batches,
                 work_h / max(offer_h, 1e-9) / PRESSURE_BASELINE, cfg.horizon_weeks * HOURS_PER_WEEK / cfg.step_h,
                 0.0, 0.0, 0.0)


def _mean_stock(start: float, inflow: float, hazard: float, weeks: float) -> float:
    """Mean over ``weeks`` of a stock starting at ``start`` with ``inflow`` a week and a weekly
    exit ``hazard``: it tends to inflow / hazard."""
    if hazard * weeks < 1e-9:
        return start + inflow * weeks / 2
    steady = inflow / hazard
    return steady + (start - steady) * -math.expm1(-hazard * weeks) / (hazard * weeks)


def excess(s: Sizes) -> float:
    """Share of the work workers cannot take: 0 up to the baseline's balance of work and workers."""
    return max(0.0, 1.0 - 1.0 / s.pressure) if s.pressure > 0 else 0.0


def memory_terms(s: Sizes) -> dict[str, float]:
    """Bytes of each part of the memory estimate, before the margin."""
    return {"base": MEMORY_BASE, "workers": MEMORY_PER_POOL_BYTE * s.pool_bytes,
            "records": MEMORY_PER_CELL * s.cells, "batches": MEMORY_PER_OPEN_BATCH * s.open_batches,
            "queue": MEMORY_PER_QUEUED_TASK * s.queued}


def time_terms(s: Sizes) -> dict[str, float]:
    """Seconds of each part of the time estimate."""
    return {"base": SECONDS_BASE, "steps": SECONDS_PER_STEP * s.steps,
            "workers": SECONDS_PER_WORKER_STEP * s.steps * s.present,
            "batches": SECONDS_PER_BACKLOG_STEP * s.steps * s.open_batches * excess(s),
            "tasks": SECONDS_PER_TASK * s.tasks + SECONDS_PER_WAKEUP * s.wakeups}


def _sig(x: float) -> str:
    """Two significant figures, whole numbers from 100 up: 2.1, 38, 412, 1.2e+18."""
    return f"{x:.1e}" if x >= 1e15 else f"{x:.2g}" if x < 100 else f"{x:,.0f}"


def _count(x: float) -> str:
    if x >= 1e15:
        return _sig(x)
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if x >= size:
            return f"{_sig(x / size)} {word}"
    return f"{x:,.0f}"


def _drivers(cfg: LabsimConfig, s: Sizes, memory: dict[str, float], time: dict[str, float]) -> str:
    """What dominates, in words: the largest part of the memory that grows with the settings,
    then that of the time if it is another."""
    steps = f"{_count(s.steps)} steps of {cfg.step_h} h"
    memory_words = {"workers": f"about {_count(s.workers)} workers over the run",
                    "records": f"{_count(s.cells)} rows of weekly records ({math.ceil(cfg.horizon_weeks)} weeks)",
                    "batches": f"up to {_count(s.open_batches)} batches open at once",
                    "queue": f"about {_count(s.queued)} tasks left waiting in the queue"}
    time_words = {"steps": steps, "workers": f"about {_count(s.present)} workers present over {steps}",
                  "batches": f"up to {_count(s.open_batches)} batches open over {steps}",
                  "tasks": f"{_count(s.tasks)} tasks, one event at a time"}
    first, then = max(memory_words, key=memory.get), max(time_words, key=time.get)
    if first == then == "batches":
        return time_words[then]
    return f"{memory_words[first]}; {time_words[then]}"


def estimate(cfg: LabsimConfig) -> Estimate:
    """Peak memory and wall time of a run of ``cfg`` (validated), and what drives them."""
    s = sizes(cfg)
    memory, time = memory_terms(s), time_terms(s)
    return Estimate(MEMORY_MARGIN * sum(memory.values()), sum(time.values()), _drivers(cfg, s, memory, time))


def available_memory() -> int:
    """Bytes of memory available now: MemAvailable of /proc/meminfo, else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# --- which setting drives the size ----------------------------------------------------------

def _settings(cfg: LabsimConfig) -> list[tuple[str, object, LabsimConfig]]:
    """(key, value, the configuration with that one setting at its default) for each setting
    the size grows with."""
    from labsim.config import LabsimConfig, RegionConfig, TaskTypeConfig

    base = LabsimConfig()
    out: list[tuple[str, object, LabsimConfig]] = [
        (key, getattr(cfg, key), replace(cfg, **{key: getattr(base, key)}))
        for key in ("scale", "horizon_weeks") if getattr(cfg, key) > getattr(base, key)]
    out.append(("demand.growth_per_year", cfg.demand.growth_per_year,
                replace(cfg, demand=replace(cfg.demand, growth_per_year=base.demand.growth_per_year))))
    out.append(("mmc.arrival_rate_per_h", cfg.mmc.arrival_rate_per_h,
                replace(cfg, mmc=replace(cfg.mmc, arrival_rate_per_h=base.mmc.arrival_rate_per_h))))
    for table, row_type, names in (("regions", RegionConfig, ("initial_crowd_workers", "vendor_workers",
                                                               "potential_arrivals_per_week")),
                                   ("task_types", TaskTypeConfig, ("batches_per_week",))):
        rows, defaults = getattr(cfg, table), getattr(base, table)
        for code, row in rows.items():
            for name in names:
                default = getattr(defaults.get(code, row_type()), name)
                smaller = {**rows, code: replace(row, **{name: default})}
                out.append((f"{table}.{code}.{name}", getattr(row, name), replace(cfg, **{table: smaller})))
    return out


def driving_key(cfg: LabsimConfig) -> tuple[str, object]:
    """The setting whose default value would shrink the memory estimate most (scale, or in the
    queueing mode horizon_weeks, when none would)."""
    need = estimate(cfg).memory_bytes
    best = ("horizon_weeks", cfg.horizon_weeks) if cfg.mode == "mmc" else ("scale", cfg.scale)
    best_gain = 0.0
    for key, value, smaller in _settings(cfg):
        gain = need - estimate(smaller).memory_bytes
        if gain > best_gain * 1.0001:
            best, best_gain = (key, value), gain
    return best


def _bytes(x: float) -> str:
    return f"{_sig(x / GIB)} GiB" if x >= GIB else f"{x / 2**20:.0f} MiB"


def _duration(seconds: float) -> str:
    for size, word in ((86400.0, "days"), (3600.0, "hours"), (60.0, "minutes")):
        if seconds >= 2 * size:
            return f"{_sig(seconds / size)} {word}"
    return f"{seconds:.0f} seconds"


def check(cfg: LabsimConfig, available_bytes: int | None = None) -> list[str]:
    """Refuse a run of ``cfg`` (validated) that would not fit in memory; warn of one that will
    take long. ``available_bytes`` is the memory available (default: the machine's now,
    ``available_memory``), of which a run may use ``USABLE_SHARE``.

    Raises ConfigError naming the setting that drives the size; returns one-line warnings
    (without a "labsim:" prefix).
    """
    est = estimate(cfg)
    available = available_memory() if available_bytes is None else available_bytes
    if est.memory_bytes > USABLE_SHARE * available:
        key, value = driving_key(cfg)
        levers = ["mmc.arrival_rate_per_h", "horizon_weeks"] if cfg.mode == "mmc" else ["scale", "horizon_weeks"]
        levers = levers if key in levers else [key, *levers]
        raise ConfigError(key, value, (
            f"a run that fits in memory: this one needs about {_bytes(est.memory_bytes)} ({est.drivers}) and the "
            f"machine has {_bytes(available)} available, of which a run may use {USABLE_SHARE:.0%}; lower "
            f"{', '.join(levers[:-1])} or {levers[-1]}"))
    if est.seconds > LONG_RUN_S:
        return [f"the run will take about {_duration(est.seconds)} on this machine ({est.drivers}; "
                f"scale={cfg.scale:g}, horizon_weeks={cfg.horizon_weeks:g})"]
    return []


def cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def parallel_slots(requested: int, jobs: int, cfg: LabsimConfig | None, setting: str,
                   available_bytes: int | None = None, n_cores: int | None = None) -> tuple[int, str | None]:
    """How many of ``jobs`` runs may go at once on this machine when ``requested`` were asked for: at
    most one per core, and as many as fit in memory together (each like ``cfg``, the largest job's).
    Returns that number and, when it is fewer than asked, a one-line warning naming ``setting``;
    ConfigError (naming the setting that drives the size) when not even one run fits."""
    n_cores = cores() if n_cores is None else n_cores
    want = max(1, min(requested, jobs))
    slots, why = want, []
    if slots > n_cores:
        slots = n_cores
        why.append(f"{n_cores} cores")
    if cfg is not None:
        each = max(1, estimate(cfg).memory_bytes)
        available = available_memory() if available_bytes is None else available_bytes
        fits = int(USABLE_SHARE * available // each)
        if fits < 1:
            check(cfg, available)  # refuses, naming the setting that makes one run too large
            fits = 1
        if slots > fits:
            slots = fits
            why.append(f"memory for {fits} run{'s' if fits > 1 else ''} of about {_bytes(each)} at once, "
                       f"{USABLE_SHARE:.0%} of the {_bytes(available)} available")
    if slots >= want:
        return slots, None
    return slots, f"{setting}={requested}: {slots} at once (this machine has {' and '.join(why)})"
