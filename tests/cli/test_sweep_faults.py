"""A sweep survives a failing run and resumes where it stopped.

The sweep runs in this process (Hydra's basic launcher) so that a test can
make one replication raise, as a bug or a numerical failure would, without
any test hook in labsim itself.
"""

from __future__ import annotations

import json
import sys

import polars as pl
import pytest

import labsim.api
from labsim import cli
from tests.cli.conftest import QUICK, job_dir

pytestmark = pytest.mark.slow  # sweeps with faults injected

REAL_SIMULATE = labsim.api.simulate


def _sweep(monkeypatch, sweep_dir, fail_seed=None):
    """Run a 2-scenario x 2-seed multirun; return (exit code, seeds simulated)."""
    calls = []
    real = REAL_SIMULATE

    def simulate(cfg, progress=None, start=None):
        calls.append((cfg.seed, cfg.policy.psych_support.enabled))
        if cfg.seed == fail_seed:
            raise FloatingPointError("stress diverged in week 2")
        return real(cfg, progress, start)

    monkeypatch.setattr(labsim.api, "simulate", simulate)
    monkeypatch.setattr(sys, "argv", ["labsim", "-m", *QUICK, "output.report=false",
                                      "scenario=baseline,psych_support", "seed=0,1",
                                      "hydra/launcher=basic", f"hydra.sweep.dir={sweep_dir}"])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, calls


def test_a_failing_run_is_recorded_and_the_others_complete_then_a_rerun_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "sweep"
    code, calls = _sweep(monkeypatch, sweep, fail_seed=1)
    assert code == 1  # some runs failed: the command says so
    assert len(calls) == 4
    runs = pl.read_parquet(sweep / "runs.parquet").sort("scenario", "seed")
    assert runs.height == 4
    failed = runs.filter(pl.col("status") == "failed")
    assert failed["seed"].to_list() == [1, 1]
    assert all("FloatingPointError: stress diverged in week 2" in e for e in failed["error"].to_list())
    ok = runs.filter(pl.col("status") == "ok")
    assert ok["seed"].to_list() == [0, 0]
    assert ok["effective_wage_mean_usd_h"].is_not_null().all()
    assert (sweep / "comparison.html").is_file()
    # The finished runs' folders are complete, with their provenance.
    for d in ok["run_dir"].to_list():
        status = json.loads((sweep / d.rsplit("/", 1)[-1] / "status.json").read_text())
        assert status["status"] == "ok" and status["labsim_version"]
    # Rerun the same sweep with the bug fixed: only the failed runs run again.
    code, calls = _sweep(monkeypatch, sweep, fail_seed=None)
    assert code == 0
    assert sorted(calls) == [(1, False), (1, True)]
    runs = pl.read_parquet(sweep / "runs.parquet")
    assert runs.height == 4 and (runs["status"] == "ok").all()


def test_a_single_run_that_fails_prints_one_line_and_leaves_no_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def boom(cfg, progress=None, start=None):
        raise FloatingPointError("stress diverged")

    monkeypatch.setattr(labsim.api, "simulate", boom)
    monkeypatch.setattr(sys, "argv", ["labsim", *QUICK, f"hydra.run.dir={tmp_path / 'run'}"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["labsim: error: the run failed: FloatingPointError: stress diverged"]  # not Hydra's line too
    assert not (tmp_path / "run").exists()


def test_a_job_whose_configuration_is_invalid_is_a_failed_row_and_the_others_finish(tmp_path, monkeypatch):
    """The pre-check sees every combination; should one still slip through (here the check of
    combinations is switched off), its job is recorded like any failing job."""
    from labsim import hydra_app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hydra_app, "_check_combinations", lambda *args: None)
    sweep = tmp_path / "sweep"
    monkeypatch.setattr(sys, "argv", ["labsim", "-m", "scale=0.05", "output.progress=false", "output.report=false",
                                      "horizon_weeks=3,1", "warmup_weeks=1,2", "hydra/launcher=basic",
                                      f"hydra.sweep.dir={sweep}"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 1
    runs = pl.read_parquet(sweep / "runs.parquet").sort("job")
    assert runs["status"].to_list() == ["ok", "ok", "failed", "failed"]
    assert runs["error"][2] == "warmup_weeks=1.0 is not allowed: fewer weeks than horizon_weeks (1)"
    assert (sweep / "comparison.html").is_file()
    assert json.loads((job_dir(sweep, 2) / "status.json").read_text())["status"] == "failed"
