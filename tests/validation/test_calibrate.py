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

import json
import math
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from labsim.calibrate import (POSTERIOR, PROVENANCE, REFEREE, Settings, Simulator, base_config, calibrate,
                              intervals, load_priors, main, ship, target_bands, write_posterior)
from labsim.errors import UserError
from labsim import posterior as shipped_posterior
from labsim.posterior import PREDICTED
from tests.conftest import process_running

pytestmark = pytest.mark.slow  # reduced calibrations (ABC-SMC) of tens of runs

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
    settings = Settings(out, population=24, generations=4, seed=3, jobs=2, **QUICK)
    posterior, history = calibrate(_priors(), _observed(), settings)
    write_posterior(posterior, history, _priors(), settings, ["--out", str(out), "(the test's synthetic case)"])
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


def test_the_command_writes_a_referees_page_that_opens_offline(synthetic):
    """Prior and posterior of every unknown, the pair plot, the posterior predictive against every
    band and the threshold by generation, on one page with no outside resource."""
    out, _, history = synthetic
    page = (out / REFEREE).read_text(encoding="utf-8")
    for words in ("Prior and posterior", "Pairs", "posterior predictive", "threshold", "interval meets band", *TRUTH, *target_bands()):
        assert words in page, words
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']https?:", page)
    provenance = json.loads((out / PROVENANCE).read_text())
    assert [g["t"] for g in provenance["generations"]] == list(range(history.max_t + 1))
    assert provenance["seconds"] > 0 and provenance["runs"] >= 4 * 24
    assert all(g["seconds"] > 0 for g in provenance["generations"])


def test_shipping_resamples_the_particles_with_their_provenance(synthetic, tmp_path, monkeypatch):
    out, posterior, _ = synthetic
    monkeypatch.setenv(shipped_posterior.ENV, str(tmp_path / "shipped"))
    assert main(["--out", str(out), "--ship"]) == 0
    post = shipped_posterior.read(tmp_path / "shipped")
    assert post.n == shipped_posterior.DRAWS and post.keys == tuple(TRUTH)
    # Every draw is one of the particles, with its values and its run's statistics.
    for k in (0, 57, 199):
        particle = posterior.row(int(post.particle[k]), named=True)
        assert post.draw(k) == {key: particle[key] for key in TRUTH}
        assert post.predicted["crowd.hours_per_week_mean"][k] == pytest.approx(
            particle[PREDICTED + "crowd.hours_per_week_mean"], nan_ok=True)
    # In proportion to the weights: the heaviest particle about weight x 200 times.
    heaviest = int(np.argmax(posterior["weight"].to_numpy()))
    assert abs(int((post.particle == heaviest).sum()) - posterior["weight"][heaviest] * 200) < 1
    about = post.provenance
    assert about["model_fingerprint"] == shipped_posterior.code_fingerprint()
    assert about["shipped"]["draws"] == 200 and about["labsim_version"] and about["date"]
    assert "(the test's synthetic case)" in about["command"]
    # Its reference runs are recorded with it, and the posterior fits the code that shipped it.
    ref = shipped_posterior.read_reference(tmp_path / "shipped")
    assert sorted(ref["runs"]) == [f"draw{k}" for k in shipped_posterior.REFERENCE_DRAWS]
    assert shipped_posterior.check(tmp_path / "shipped").status == shipped_posterior.VALID


def test_shipping_a_calibration_of_other_model_code_needs_a_reason_that_holds(synthetic, tmp_path):
    """A changed fingerprint: refused in one line; with --model-unchanged, the heaviest particle is
    run again and must give the statistics stored (here it does: only the fingerprint was edited);
    a stored statistic that the code no longer gives is refused."""
    out, _, _ = synthetic
    old = tmp_path / "old"
    old.mkdir()
    for name in (POSTERIOR, PROVENANCE):
        (old / name).write_bytes((out / name).read_bytes())
    about = json.loads((old / PROVENANCE).read_text())
    (old / PROVENANCE).write_text(json.dumps({**about, "model_fingerprint": "0000000000000000"}))
    with pytest.raises(UserError, match="the model has changed since this calibration.*--model-unchanged"):
        ship(old, dest=tmp_path / "a")
    dest = ship(old, reason="a refactoring", dest=tmp_path / "b")
    kept = json.loads((dest / shipped_posterior.PROVENANCE_FILE).read_text())
    assert kept["calibrated_on_fingerprint"] == "0000000000000000"
    assert kept["model_unchanged_because"] == "a refactoring"
    frame = pl.read_parquet(old / POSTERIOR)
    stat = PREDICTED + "crowd.hours_per_week_mean"
    frame.with_columns(pl.col(stat) + 0.01).write_parquet(old / POSTERIOR)
    with pytest.raises(UserError, match="no longer gives the summary statistics"):
        ship(old, reason="a refactoring", dest=tmp_path / "c")
    assert not (tmp_path / "c").exists()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_a_terminated_calibration_stops_its_workers_and_says_how_to_continue(tmp_path):
    """SIGTERM while a generation runs: exit 143 with one line, no worker process left behind, and
    the database kept for the same command to continue."""
    out = tmp_path / "c"
    proc = subprocess.Popen([sys.executable, "-m", "labsim.calibrate", "--out", str(out), "--population", "8",
                             "--generations", "3", "--jobs", "2", "--scale", "0.1", "--weeks", "4", "--burn-in", "2",
                             "--step-h", "6"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not ((out / "abc.db").is_file() and len(_children(proc.pid)) >= 2):
        time.sleep(0.2)
    workers = _children(proc.pid)
    assert (out / "abc.db").is_file() and len(workers) >= 2, workers
    time.sleep(1.0)  # runs under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("labsim-calibrate: interrupted (SIGTERM)") and "Traceback" not in err, err
    time.sleep(0.5)
    assert not [w for w in workers if process_running(w)]
    assert (out / "abc.db").is_file()
