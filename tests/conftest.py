"""Shared fixtures: small, fast configurations of the real model."""

from __future__ import annotations

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
