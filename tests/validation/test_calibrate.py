"""labsim-calibrate: ABC-SMC recovers parameters it is given the outputs of, and resumes exactly.

A synthetic case, where the truth is known: the market is run with chosen values of two unknowns,
one the targets identify (crowd workers' median weekly hours) and one they leave free (how fast
moderators' stress fades: no target measures stress), its summary statistics (the ten targets of
targets.csv, by labsim-calibration's code) become the observations, and a reduced calibration (24
particles, 4 generations, scale 0.1, four scored weeks) starts from the priors of
conf/calibration/priors.yaml. Both true values must fall in the posterior's 90 % intervals; the
identified one's interval must be at most half its prior's width, and the free one's must stay wide
(widths on the prior's own scale: log for a loguniform prior). The recovery runs on two cores (the
order in which parallel runs finish varies, so it is not bit-reproducible: it held on seeds 1, 2 and
3, intervals at 15-23 % of the prior for the hours and 74-98 % for the free rate); the resumption
test runs one after another (--jobs 1), where a seeded calibration is exactly reproducible.

Four scored weeks are too few for the half-life target to pin down the quit hazard (tried: its
interval covered the truth in 2 of 4 seeds); a year, as the full calibration scores, is not.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from labsim.calibrate import (Settings, Simulator, base_config, calibrate, intervals, load_priors, main,
                              target_bands)
from labsim.errors import UserError
from labsim.posterior import PREDICTED

TRUTH = {"workers.hours_per_week_median": 18.0, "wellbeing.recovery_per_week": 0.1}
QUICK = dict(scale=0.1, weeks=4, burn_in=2, step_h=6, min_epsilon=0.0)


def _priors():
    return [p for p in load_priors() if p.key in TRUTH]


def _observed() -> dict:
    s = Settings(out=None, jobs=1, **QUICK)
    return Simulator(base_config(s.scale, s.weeks, s.burn_in, s.step_h), tuple(TRUTH))(TRUTH)


def _width(prior, lo: float, hi: float) -> float:
    """An interval's width as a share of the prior's, on the prior's own scale."""
    if prior.shape == "loguniform":
        return math.log(hi / lo) / math.log(prior.high / prior.low)
    return (hi - lo) / (prior.high - prior.low)


def test_the_shipped_priors_are_declared_with_reasons_and_what_identifies_them():
    priors = load_priors()
    assert len(priors) >= 8 and len({p.key for p in priors}) == len(priors)
    assert all(len(p.reason) > 20 for p in priors)
    targets = set(target_bands())
    assert {p.identified_by for p in priors if p.identified} <= targets
    assert any(not p.identified for p in priors)  # some unknowns no target speaks to: said so


@pytest.mark.parametrize("text, says", [
    ("parameters: {nope.key: {low: 0, high: 1, shape: uniform, reason: r, identified_by: weak}}",
     "not a setting"),
    ("parameters: {workers.reservation_wage_scale: {low: 2, high: 1, shape: uniform, reason: r, "
     "identified_by: weak}}", "must be below"),
    ("parameters: {workers.reservation_wage_scale: {low: 0.5, high: 2, shape: normal, reason: r, "
     "identified_by: weak}}", "shape='normal' is not allowed"),
    ("parameters: {workers.reservation_wage_scale: {low: 1.2, high: 2, shape: uniform, reason: r, "
     "identified_by: weak}}", "outside [1.2, 2]"),
    ("parameters: {workers.reservation_wage_scale: {low: 0.5, high: 2, shape: uniform, reason: r, "
     "identified_by: wages}}", "neither 'weak' nor a target"),
    ("parameters: {workers.reservation_wage_scale: {low: 0.5, high: 2, shape: uniform}}", "missing reason"),
    ("parameters: [1, 2]", "expected a mapping"),
])
def test_a_bad_priors_file_is_refused_in_one_line(tmp_path, text, says):
    path = tmp_path / "priors.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        load_priors(path)
    assert says in str(err.value) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("calibrate") / "full"
    posterior, history = calibrate(_priors(), _observed(), Settings(out, population=24, generations=4, seed=3,
                                                                      jobs=2, **QUICK))
    return out, posterior, history


def test_a_synthetic_calibration_recovers_the_true_parameters(synthetic):
    _, posterior, history = synthetic
    assert history.max_t == 3 and posterior.height == 24
    assert posterior["weight"].sum() == pytest.approx(1.0)
    priors = _priors()
    assert [p.identified for p in priors] == [True, False]  # as conf/calibration/priors.yaml declares them
    for prior in priors:
        lo, hi = intervals(posterior, prior.key, 0.9)
        assert lo <= TRUTH[prior.key] <= hi, (prior.key, lo, hi)
        if prior.identified:
            assert _width(prior, lo, hi) <= 0.5, (prior.key, lo, hi)
        else:  # the targets leave it free: its posterior stays close to its prior
            assert _width(prior, lo, hi) > 0.5, (prior.key, lo, hi)
    # The threshold shrinks generation after generation.
    eps = history.get_all_populations().query("t >= 0")["epsilon"].to_numpy()
    assert np.all(np.diff(eps) < 0), eps


def test_an_interrupted_calibration_resumes_to_the_same_posterior(tmp_path):
    """Stopped after two generations (the database holds them), run again to three: the same
    particles and weights as an uninterrupted calibration of the same seed (smaller, to be quick)."""
    observed = _observed()
    one = dict(population=8, seed=5, jobs=1, **QUICK)
    full, _ = calibrate(_priors(), observed, Settings(tmp_path / "full", generations=3, **one))
    out = tmp_path / "resumed"
    calibrate(_priors(), observed, Settings(out, generations=2, **one))
    resumed, history = calibrate(_priors(), observed, Settings(out, generations=3, **one))
    assert history.max_t == 2
    assert_frame_equal(resumed, full)


def test_the_command_refuses_bad_settings_in_one_line(tmp_path, capsys):
    for args in (["--population", "0"], ["--priors", str(tmp_path / "none.yaml")], ["--bogus"]):
        assert main([*args, "--out", str(tmp_path / "c")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("labsim-calibrate: error: "), err
    assert not (tmp_path / "c").exists()


def test_the_posterior_is_a_weighted_table_of_the_priors_parameters(synthetic):
    _, posterior, _ = synthetic
    stats = [PREDICTED + name for name in target_bands()]
    assert posterior.columns == [p.key for p in _priors()] + ["weight", "distance"] + stats
    assert all(dtype == pl.Float64 for dtype in posterior.schema.values())
    # Each particle keeps the statistics its run gave: the posterior predictive distribution.
    assert posterior.select(stats).null_count().sum_horizontal().item() < posterior.height * len(stats)
