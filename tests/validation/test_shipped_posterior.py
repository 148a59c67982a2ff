"""The posterior that ships with labsim (``conf/posterior/``): where it came from, and that it
reproduces the published figures it was calibrated to.

Its draws carry the summary statistics their calibration runs gave (``predicted:KPI SCOPE``), so
the posterior predictive distribution is read, not rerun: for every target of targets.csv, the
median over the 200 equal-weight draws lies inside the target's band and the draws' central 90 %
interval meets the band.
"""

from __future__ import annotations

import numpy as np
import pytest

from labsim.calibrate import load_priors, target_bands
from labsim.posterior import DRAWS, model_fingerprint, read
from labsim.paths import config_dir


@pytest.fixture(scope="module")
def shipped():
    return read(config_dir() / "posterior")


def test_the_posterior_says_where_it_came_from(shipped):
    about = shipped.provenance
    assert about["command"].startswith("labsim-calibrate ")
    assert about["labsim_version"] and about["date"][:4].isdigit()
    # The model code has not changed since the calibration: otherwise recalibrate, or ship again
    # with --model-unchanged after checking that the outputs are the same.
    assert about["model_fingerprint"] == model_fingerprint()
    assert about["seconds"] > 0 and about["runs"] >= about["settings"]["population"]
    assert about["shipped"]["draws"] == shipped.n == DRAWS


def test_every_draw_lies_within_the_priors(shipped):
    priors = {p.key: p for p in load_priors()}
    assert set(shipped.keys) == set(priors)
    for j, key in enumerate(shipped.keys):
        values = shipped.values[:, j]
        assert np.all((values >= priors[key].low) & (values <= priors[key].high)), key


@pytest.mark.parametrize("stat", sorted(target_bands()))
def test_the_posterior_predictive_meets_every_target(shipped, stat):
    _, low, high = target_bands()[stat]
    values = shipped.predicted[stat]
    values = values[np.isfinite(values)]
    assert values.size >= 0.9 * shipped.n, "most draws' runs must compute the statistic"
    q05, median, q95 = np.quantile(values, [0.05, 0.5, 0.95])
    assert low <= median <= high, (stat, median, (low, high))
    assert q05 <= high and q95 >= low, (stat, (q05, q95), (low, high))
