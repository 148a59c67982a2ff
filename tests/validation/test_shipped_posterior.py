"""The posterior that ships with labsim (``conf/posterior/``): where it came from, and that it
reproduces the published figures it was calibrated to.

Its draws carry the summary statistics their calibration runs gave (``predicted:SCOPE.KPI``), so
the posterior predictive distribution is read, not rerun: for every target of targets.csv, the
median over the 200 equal-weight draws lies inside the target's band and the draws' central 90 %
interval meets the band.
"""

from __future__ import annotations

import numpy as np
import pytest

from labsim.calibrate import load_priors, target_bands
from labsim import posterior
from labsim.posterior import DRAWS, read
from labsim.paths import config_dir


@pytest.fixture(scope="module")
def shipped():
    return read(config_dir() / "posterior")


def test_the_posterior_says_where_it_came_from(shipped):
    about = shipped.provenance
    assert about["command"].startswith("labsim-calibrate ")
    assert about["labsim_version"] and about["date"][:4].isdigit()
    # Paths relative to the repository: a provenance names no one's home folder.
    assert not any(word.startswith("/") for word in about["command"].split())
    assert not about["settings"]["out"].startswith("/")
    assert about["seconds"] > 0 and about["runs"] >= about["settings"]["population"]
    assert about["shipped"]["draws"] == shipped.n == DRAWS


def test_the_posterior_still_fits_the_model():
    """Its reference runs give the outputs recorded when it was shipped: the code may have changed
    since (a speed-up, a comment), its behaviour has not. Otherwise recalibrate and ship again."""
    verdict = posterior.check(use_cache=False)
    if verdict.status == posterior.CANNOT_VERIFY:
        pytest.skip(verdict.detail)
    assert verdict.status == posterior.VALID, verdict.detail


def test_a_changed_constant_makes_the_posterior_stale_and_names_the_reference_run(monkeypatch):
    """The check sees behaviour: one constant of pricing changed (the matching function's elasticity
    in searchers' hours, 0.5 -> 0.6, so rates answer more to slack) changes the outputs, and the
    check names the first reference run that differs."""
    from labsim.behaviour import platform
    from labsim.model.rules import pricing

    reference = posterior.read_reference(config_dir() / "posterior")
    if not reference["digests"].get(platform()):
        pytest.skip(f"no reference digests for processors of class {platform()}")
    monkeypatch.setattr(pricing, "MATCHING", 0.6)
    verdict = posterior.check(use_cache=False)
    assert verdict.status == posterior.STALE
    assert verdict.detail.startswith(f"reference run {sorted(reference['runs'])[0]} ")


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
