"""The SLURM path: the same multirun through Hydra's submitit launcher.

``hydra/launcher=submitit_slurm`` sends each job to a SLURM cluster;
``submitit_local`` is the same launcher with submitit's local executor (jobs
run as separate processes on this machine), which is how it is tested here.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from tests.cli.conftest import QUICK, run_labsim

pytestmark = pytest.mark.slow  # sweeps through the submitit launcher


def test_a_multirun_through_the_submitit_launcher_writes_every_run_and_the_sweep_table(tmp_path):
    sweep = tmp_path / "sweep"
    code, out, err = run_labsim(["-m", *QUICK, "output.report=false", "hydra/launcher=submitit_local",
                                 "scenario=baseline,psych_support", "seed=0,1",
                                 f"hydra.sweep.dir={sweep}"], cwd=tmp_path, timeout=300)
    assert code == 0, err
    runs = pl.read_parquet(sweep / "runs.parquet")
    assert runs.height == 4 and (runs["status"] == "ok").all()
    assert sorted(zip(runs["scenario"], runs["seed"])) == [("baseline", 0), ("baseline", 1),
                                                             ("psych_support", 0), ("psych_support", 1)]
    for d in runs["run_dir"]:
        status = json.loads((sweep / d.rsplit("/", 1)[-1] / "status.json").read_text())
        assert status["status"] == "ok"
    assert (sweep / "comparison.html").is_file()
