"""Shared fixtures: small, fast configurations of the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

import labsim

# A small market: a tenth of the population and demand (the smallest scale the scale test allows), a few weeks.
SMALL = ["scale=0.1", "horizon_weeks=8", "warmup_weeks=2", "output.progress=false"]


def small_config(*overrides: str):
    return labsim.compose([*SMALL, *overrides])


@pytest.fixture(scope="session")
def small_results():
    """One small baseline run shared by read-only tests."""
    return labsim.run(small_config())


def process_running(pid: int) -> bool:
    """Whether process ``pid`` still runs (Linux /proc): a zombie has stopped, only its reaping is left."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
