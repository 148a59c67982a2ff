"""The posterior's draws: read, resampled, applied to a run, refused in one line, and stale when the
model changed; and what paired differences over draws say (law of total variance, sign flips)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import labsim
from labsim import posterior
from labsim.errors import ConfigError, UserError
from labsim.stats import Z90, over_draws
from tests.conftest import write_test_posterior


@pytest.fixture
def test_posterior(tmp_path, monkeypatch):
    """A 20-draw posterior (from the priors) in place of the shipped one."""
    folder = write_test_posterior(tmp_path / "posterior", n=20, seed=4)
    monkeypatch.setenv(posterior.ENV, str(folder))
    posterior.shipped.cache_clear()
    yield folder
    posterior.shipped.cache_clear()


# --- reading and resampling -----------------------------------------------------------------

def test_a_posterior_reads_as_its_draws_and_their_predictions(test_posterior):
    post = posterior.shipped()
    assert post.n == 20 and "workers.hours_per_week_median" in post.keys
    assert post.predicted["test"].tolist() == [float(k) for k in range(20)]
    assert post.draw(3) == dict(zip(post.keys, post.values[3].tolist()))
    assert posterior.stale_warning() is None


@pytest.mark.parametrize("edit, says", [
    (lambda rows: rows[:1], "no draws"),
    (lambda rows: [rows[0].replace("draw,particle", "particle,draw"), *rows[1:]], "first columns must be"),
    (lambda rows: [rows[0], rows[2], rows[1], *rows[3:]], "numbered 0, 1, 2"),
    (lambda rows: [rows[0], rows[1].replace(",", ",x", 4), *rows[2:]], "could not convert"),
])
def test_a_malformed_posterior_is_refused_in_one_line(test_posterior, edit, says):
    path = test_posterior / posterior.DRAWS_FILE
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(UserError) as err:
        posterior.read(test_posterior)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_without_a_posterior_a_draw_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(posterior.ENV, str(tmp_path / "none"))
    posterior.shipped.cache_clear()
    try:
        with pytest.raises(UserError, match=r"^no posterior in .*--ship") as err:
            labsim.compose(["posterior_draw=0"])
        assert "\n" not in str(err.value)
        assert labsim.compose([]).posterior_draw == posterior.NO_DRAW  # the baseline needs no posterior
    finally:
        posterior.shipped.cache_clear()


def test_systematic_resampling_keeps_each_particle_in_proportion():
    w = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625, 0.0])
    picks = posterior.resample(w, 200)
    counts = np.bincount(picks, minlength=w.size)
    assert np.all(counts >= np.floor(w * 200)) and np.all(counts <= np.ceil(w * 200))
    assert counts[-1] == 0  # a particle without weight is never drawn
    # Shuffled: the first 40 draws are a sample of the ensemble too, not the heaviest particle repeated.
    assert 10 <= (picks[:40] == 0).sum() <= 30
    assert np.array_equal(picks, posterior.resample(w, 200))  # the same seed, the same draws
    for bad in ([], [0.0, 0.0], [1.0, -0.1], [1.0, math.nan]):
        with pytest.raises(ValueError):
            posterior.resample(np.array(bad), 10)


# --- running a draw ---------------------------------------------------------------------------

def test_posterior_draw_runs_the_draws_values(test_posterior):
    post = posterior.shipped()
    cfg = labsim.compose(["posterior_draw=7"])
    assert cfg.posterior_draw == 7
    for key, value in post.draw(7).items():
        obj = cfg
        for part in key.split("."):
            obj = getattr(obj, part)
        assert obj == pytest.approx(value, rel=1e-12), key
    base = labsim.compose([])
    assert base.workers.hours_per_week_median != cfg.workers.hours_per_week_median


def test_a_draw_is_recorded_in_the_runs_metadata(test_posterior):
    res = labsim.run(labsim.compose(["posterior_draw=2", "scale=0.1", "horizon_weeks=1", "warmup_weeks=0",
                                     "output.progress=false"]))
    assert res.meta["posterior_draw"] == {"draw": 2, "values": posterior.shipped().draw(2)}
    assert not any("posterior" in note for note in res.meta["outside_calibration"])


@pytest.mark.parametrize("k", [20, 1000, -2])
def test_a_draw_that_is_not_shipped_is_refused_in_one_line(test_posterior, k):
    with pytest.raises(ConfigError) as err:
        labsim.compose([f"posterior_draw={k}"])
    text = str(err.value)
    assert "posterior_draw" in text and str(k) in text and "\n" not in text


def test_a_draw_that_is_not_shipped_is_refused_on_the_command_line(test_posterior, tmp_path, capsys):
    from labsim.hydra_app import read_command_line

    with pytest.raises(ConfigError, match="posterior_draw.*from 0 to 19"):
        read_command_line(["posterior_draw=0,25"])
    assert read_command_line(["posterior_draw=range(20)"]).warnings == []


def test_a_posterior_whose_reference_runs_changed_warns_once_in_one_line_naming_the_run(tmp_path, monkeypatch):
    folder = write_test_posterior(tmp_path / "old", n=3, reference="stale")
    monkeypatch.setenv(posterior.ENV, str(folder))
    posterior.shipped.cache_clear()
    try:
        from labsim.hydra_app import read_command_line

        verdict = posterior.check()
        assert verdict.status == posterior.STALE and "reference run draw0" in verdict.detail
        warning = posterior.stale_warning()
        assert warning and "reference run draw0" in warning and "recalibrate" in warning and "\n" not in warning
        assert read_command_line(["posterior_draw=1"]).warnings == [warning]
        assert read_command_line([]).warnings == []  # no draw asked for: nothing to warn about
        res = labsim.run(labsim.compose(["posterior_draw=1", "scale=0.1", "horizon_weeks=1", "warmup_weeks=0",
                                         "output.progress=false"]))
        assert res.meta["outside_calibration"].count(warning) == 1
    finally:
        posterior.shipped.cache_clear()


def test_a_processor_class_with_no_recorded_digests_cannot_verify_and_is_not_called_stale(test_posterior):
    from labsim.behaviour import platform

    path = test_posterior / posterior.REFERENCE_FILE
    ref = json.loads(path.read_text())
    ref["digests"] = {"some-other-class": ref["digests"][platform()]}
    path.write_text(json.dumps(ref))
    verdict = posterior.check()
    assert verdict.status == posterior.CANNOT_VERIFY and platform() in verdict.detail
    warning = posterior.stale_warning()
    assert warning.startswith("cannot verify") and "changed" not in warning and "\n" not in warning
    (test_posterior / posterior.REFERENCE_FILE).unlink()
    assert posterior.check().status == posterior.CANNOT_VERIFY


def test_the_verdict_is_kept_for_the_same_code_and_posterior(test_posterior, monkeypatch):
    """The reference runs run once per version of the code: a second check reads the cache."""
    assert posterior.check().status == posterior.VALID
    import labsim.behaviour

    def no_runs(overrides):
        raise AssertionError("the reference runs ran again")
    monkeypatch.setattr(labsim.behaviour, "run_digests", no_runs)
    assert posterior.check().status == posterior.VALID
    with pytest.raises(AssertionError, match="ran again"):
        posterior.check(use_cache=False)


def test_the_code_fingerprint_follows_the_model_not_the_posterior_it_describes(tmp_path, monkeypatch):
    import shutil

    import labsim.paths
    from labsim.paths import config_dir

    conf = tmp_path / "conf"
    shutil.copytree(config_dir(), conf, ignore=shutil.ignore_patterns("posterior"))
    monkeypatch.setattr(labsim.paths, "config_dir", lambda: conf)
    before = posterior.code_fingerprint()
    assert len(before) == 16
    # Shipping a posterior writes conf/posterior/: the fingerprint stays the model's.
    write_test_posterior(conf / "posterior", n=2, reference=None)
    assert posterior.code_fingerprint() == before
    (conf / "config.yaml").write_text((conf / "config.yaml").read_text() + "\n# changed\n")
    assert posterior.code_fingerprint() != before


# --- over draws: the law of total variance ------------------------------------------------------

def _draws(n_draws: int, seeds: int, effect_sd: float, noise_sd: float, mean: float, rng) -> tuple:
    effects = mean + effect_sd * rng.standard_normal(n_draws)
    d = np.repeat(effects, seeds) + noise_sd * rng.standard_normal(n_draws * seeds)
    return d, np.repeat(np.arange(n_draws, dtype=float), seeds)


def test_the_variance_splits_into_parameters_and_chance_without_bias():
    """Averaged over 300 replications of 20 draws x 2 seeds, the estimates recover the variances
    they were built from (parameter 4, chance 1) within 5 %."""
    rng = np.random.default_rng(1)
    got = [over_draws(*_draws(20, 2, 2.0, 1.0, 0.0, rng)) for _ in range(300)]
    assert np.mean([g["var_parameter"] for g in got]) == pytest.approx(4.0, rel=0.05)
    assert np.mean([g["var_chance"] for g in got]) == pytest.approx(1.0, rel=0.05)
    one = got[0]
    assert one["draws"] == 20 and 0.0 <= one["parameter_share"] <= 1.0
    assert one["low_90"] < 0 < one["high_90"]


def test_chance_alone_leaves_no_parameter_share():
    rng = np.random.default_rng(2)
    shares = [over_draws(*_draws(30, 3, 0.0, 1.0, 5.0, rng))["parameter_share"] for _ in range(200)]
    assert np.median(shares) < 0.1


def test_an_effect_whose_sign_depends_on_the_parameters_is_flagged():
    rng = np.random.default_rng(3)
    flips = over_draws(*_draws(30, 2, 1.0, 0.1, 0.2, rng))  # draws' effects straddle zero
    assert flips["sign_depends"] is True and 0.2 < flips["positive_draws"] < 0.9
    sure = over_draws(*_draws(30, 2, 1.0, 0.1, 10.0, rng))  # every draw's effect is positive
    assert sure["sign_depends"] is False and sure["positive_draws"] == 1.0
    # Nil in half the draws and negative in the others: a spread that spans zero as a normal would,
    # but no draw on the other side, so the sign is known (negative).
    d = np.repeat(np.where(np.arange(30) % 2 == 0, 0.0, -1.0), 2)
    bounded = over_draws(d, np.repeat(np.arange(30.0), 2))
    assert abs(d.mean()) < Z90 * math.sqrt(bounded["var_parameter"])  # the normal rule alone would flag it
    assert bounded["positive_draws"] == 0.0 and bounded["sign_depends"] is False
    # The rule: |mean| below Z90 parameter sd.
    assert abs(np.mean(_draws(30, 2, 1.0, 0.1, 0.2, np.random.default_rng(3))[0])) < Z90 * math.sqrt(
        flips["var_parameter"])


def test_without_two_seeds_of_a_draw_the_split_is_not_made():
    rng = np.random.default_rng(4)
    d, g = _draws(20, 1, 1.0, 1.0, 0.0, rng)
    one_seed = over_draws(d, g)
    assert one_seed["draws"] == 20 and one_seed["low_90"] is not None
    assert one_seed["var_parameter"] is None and one_seed["parameter_share"] is None
    assert one_seed["sign_depends"] is None
    assert over_draws(d, None)["draws"] is None  # runs without draws: nothing over draws
    assert over_draws(d, np.zeros_like(g))["draws"] is None  # a single draw: nothing either
    baseline_values = over_draws(np.r_[d, d], np.r_[g, np.full_like(g, -1.0)])
    assert baseline_values["draws"] == 20  # runs of the baseline's own values (-1) are not a draw


def test_paired_differences_over_draws_take_their_interval_over_the_draws():
    """A runs table of 20 draws x 2 seeds where each draw has its own effect: the difference row
    carries the split, and its 95 % interval is the t interval of the 20 draws' mean effects
    (seeds of one draw are not independent pairs), wider than one over the 40 pairs."""
    import polars as pl

    from labsim.stats import DRAW, mean_ci, paired_differences

    rng = np.random.default_rng(5)
    effect = 3.0 + 0.5 * rng.standard_normal(20)
    rows = []
    for k in range(20):
        for seed in (0, 1):
            level = 10.0 + rng.standard_normal()
            for scenario, shift in (("baseline", 0.0), ("policy", effect[k] + 0.1 * rng.standard_normal())):
                rows.append({"scenario": scenario, "seed": seed, "status": "ok", DRAW: float(k),
                             "effective_wage_mean_usd_h": level + shift})
    diffs = paired_differences(pl.DataFrame(rows), by_region=False)
    row = diffs.row(0, named=True)
    assert row["n_pairs"] == 40 and row["draws"] == 20
    d = np.array([r["effective_wage_mean_usd_h"] for r in rows[1::2]]) - np.array(
        [r["effective_wage_mean_usd_h"] for r in rows[0::2]])
    _, lo, hi = mean_ci(d.reshape(20, 2).mean(axis=1))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))
    _, lo_pairs, hi_pairs = mean_ci(d)
    assert hi - lo > hi_pairs - lo_pairs
    assert row["parameter_share"] > 0.9 and row["sign_depends"] is False


def test_the_answer_says_what_over_draws_adds_and_when_the_sign_is_unknown():
    from labsim.report.compare import answer, significant

    row = {"scenario": "min_wage_floor", "scope": "ALL", "kpi": "effective_wage_mean_usd_h", "n_pairs": 40,
           "baseline_mean": 2.0, "scenario_mean": 2.1, "mean_diff": 0.1, "ci_low": 0.05, "ci_high": 0.15,
           "relative_change": 0.05, "draws": 20, "low_90": -0.2, "high_90": 0.4, "var_parameter": 0.03,
           "var_chance": 0.01, "parameter_share": 0.75, "positive_draws": 0.65, "sign_depends": True}
    text = answer(row)
    assert "Over 20 draws of the calibrated parameters and their seeds" in text
    assert "75 % of that spread is uncertainty about the parameters, 25 % chance" in text
    assert "The sign of this effect depends on the unknown parameters: it is positive in 65 % of the draws" in text
    assert not significant(row)  # an interval clear of zero is not a clear answer when the sign depends
    assert significant({**row, "sign_depends": False})
    one_seed = answer({**row, "var_parameter": None, "var_chance": None, "parameter_share": None,
                       "sign_depends": None})
    assert "cannot be told apart: add seed=0,1" in one_seed and "sign of this effect" not in one_seed
    assert "draws" not in answer({**row, "draws": None})
