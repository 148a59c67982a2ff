"""The public API: compose a configuration, run it, get Results.

``labsim.run(cfg)`` is what the command line, the tests and notebooks call.
``labsim.compose([...])`` builds a validated configuration from the same
overrides the command line takes (``["scenario=mmc", "mmc.servers=3"]``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Callable

from labsim.indicators import SCHEMA_VERSION
from labsim import __version__, posterior, steady_state
from labsim.config import LabsimConfig, outside_calibration
from labsim.errors import held_signals
from labsim.hydra_app import to_config
from labsim.model import simulate
from labsim.model.windows import events
from labsim.results import Results

__all__ = ["compose", "git_commit", "run", "to_config", "warm_up"]


def compose(overrides: list[str] | tuple[str, ...] = ()) -> LabsimConfig:
    """Compose conf/ + a scenario + overrides, as the command line does, and validate."""
    from labsim.hydra_app import compose as compose_hydra

    return compose_hydra(overrides)


def git_commit() -> str | None:
    """The commit of the labsim checkout this code runs from, if it is one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run(cfg: Any, progress: Callable[[float], None] | None = None) -> Results:
    """Run one replication and return its Results (nothing is written)."""
    config = to_config(cfg)
    start = steady_state.load() if config.start == "steady" and config.mode == "market" else None
    with held_signals() as deliver:  # a signal stops the run between its weeks, never inside compiled code

        def weekly(share: float) -> None:
            deliver()
            if progress is not None:
                progress(share)
        records = simulate(config, weekly, start)
    min_wage = {code: r.min_wage_usd_h for code, r in config.regions.items()}
    notes = outside_calibration(config)
    meta = {"labsim_version": __version__, "schema": SCHEMA_VERSION, "seed": config.seed, "mode": config.mode,
            "scale": config.scale,
            "horizon_h": records.horizon_h, "window_start_h": records.window_start_h,
            "outside_calibration": notes,
            "events": [{"week": week, "what": what} for week, what in events(config)]}
    if config.posterior_draw != posterior.NO_DRAW:  # which draw, its values, and whether it still fits the code
        meta["posterior_draw"] = {"draw": config.posterior_draw,
                                  "values": posterior.shipped().draw(config.posterior_draw)}
        stale = posterior.stale_warning()
        if stale:
            notes.append(stale)
    return Results.from_records(records, min_wage, meta)


def warm_up() -> None:
    """Load the kernel's compiled loops (compiling them on the first run after an install), with a
    run too small to notice: a server calls this when it starts, so its first real run waits for
    nothing but itself."""
    run(LabsimConfig(scale=0.02, horizon_weeks=1.0, warmup_weeks=0.0))
