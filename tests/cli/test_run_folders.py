"""Run folders through the real command: all or nothing, the overwrite rule, interrupts, a killed sweep.

Each test runs ``python -m labsim`` in a child process, interrupts it as a user or the machine
would, and looks at what is left on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tests.cli.conftest import QUICK, run_labsim
from tests.conftest import process_running

pytestmark = pytest.mark.slow  # runs interrupted and resumed through the real command

# Long enough to be interrupted in the middle (a few seconds), short enough for the suite.
SLOW = ["horizon_weeks=150", "warmup_weeks=1", "scale=0.1", "output.progress=false", "output.report=false"]


def _listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


def _start(args, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "labsim", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _staging(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.endswith(".part")] if parent.is_dir() else []


def test_a_failed_run_into_a_folder_of_the_users_files_leaves_them_alone(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "important.log").write_text("precious")
    rc, _, err = run_labsim(["horizon_weeks=1e-9", "warmup_weeks=0", f"hydra.run.dir={logs}"], tmp_path)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "holds files that are not a labsim run (important.log)" in err
    assert _listing(logs) == ["important.log"] and (logs / "important.log").read_text() == "precious"
    assert _listing(tmp_path) == ["logs"]


def test_a_finished_run_is_refused_then_replaced_whole_with_overwrite(tmp_path):
    run = tmp_path / "run"
    assert run_labsim([*QUICK, f"hydra.run.dir={run}"], tmp_path)[0] == 0
    assert (run / "report.html").is_file()
    rc, _, err = run_labsim([*QUICK, "seed=2", f"hydra.run.dir={run}"], tmp_path)
    assert rc == 2 and err.strip() == (f"labsim: error: hydra.run.dir={run} already holds a finished run: add "
                                       "output.overwrite=true to replace it, or choose another folder")
    assert json.loads((run / "status.json").read_text())["seed"] == 0
    rc, _, err = run_labsim([*QUICK, "seed=2", "output.overwrite=true", "output.report=false",
                             f"hydra.run.dir={run}"], tmp_path)
    assert rc == 0, err
    assert json.loads((run / "status.json").read_text())["seed"] == 2
    assert json.loads((run / "kpis.json").read_text())["meta"]["seed"] == 2
    assert not (run / "report.html").exists()  # the earlier run's page went with it
    assert _listing(tmp_path) == ["run"]


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_an_interrupted_run_leaves_nothing_and_the_next_run_one_whole_result(tmp_path, sig, code):
    run = tmp_path / "out" / "run"
    proc = _start([*SLOW, f"hydra.run.dir={run}"], tmp_path)
    _wait_for(lambda: any((p / ".hydra").is_dir() for p in _staging(run.parent)))
    time.sleep(1.0)  # well into the simulation
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == code
    assert not run.exists()  # never a half-written folder under the run's name
    if sig != signal.SIGKILL:
        name = signal.Signals(sig).name
        assert err.strip() == f"labsim: interrupted ({name}); nothing was written"
        assert _listing(tmp_path) == []  # the folders this run made are gone too
    else:
        assert len(_staging(run.parent)) == 1  # what SIGKILL leaves: the staging folder, by its name
    rc, _, err = run_labsim([*QUICK, f"hydra.run.dir={run}"], tmp_path)
    assert rc == 0, err
    assert _listing(run.parent) == ["run"]  # one complete result, no temporaries
    assert json.loads((run / "status.json").read_text())["status"] == "ok"
    assert not [p for p in run.rglob("*") if p.name.endswith(".part")]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_a_sweeps_parent_stops_its_workers_and_a_rerun_equals_an_uninterrupted_sweep(tmp_path):
    sweep = ["-m", *SLOW, "seed=0,1,2", "hydra.launcher.n_jobs=2"]
    killed = tmp_path / "killed"
    proc = _start([*sweep, f"hydra.sweep.dir={killed}"], tmp_path)
    _wait_for(lambda: any((d / "status.json").is_file() for d in killed.glob("[01]-*")))
    workers = _children(proc.pid)
    assert workers  # the joblib launcher's processes
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    _wait_for(lambda: not any(process_running(w) for w in workers), timeout=15)
    rc, _, err = run_labsim([*sweep, f"hydra.sweep.dir={killed}"], tmp_path, timeout=300)
    assert rc == 0, err
    assert "already complete" in err  # it resumed
    clean = tmp_path / "clean"
    rc, _, err = run_labsim([*sweep, f"hydra.sweep.dir={clean}"], tmp_path, timeout=300)
    assert rc == 0, err
    where = ["sweep_dir", "run_dir", "seconds"]  # the folders' names and the wall-clock time differ
    a = pl.read_parquet(killed / "runs.parquet").drop(where)
    b = pl.read_parquet(clean / "runs.parquet").drop(where)
    assert a.height == 3 and a.equals(b)
    assert not [p for p in killed.rglob("*") if p.name.endswith(".part")]


def test_a_sweep_folder_holding_another_sweep_is_refused(tmp_path):
    sweep = tmp_path / "sweep"
    assert run_labsim(["-m", *QUICK, "seed=0,1", "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"],
                      tmp_path)[0] == 0
    rc, _, err = run_labsim(["-m", *QUICK, "seed=5,6", "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"],
                            tmp_path)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert f"hydra.sweep.dir={sweep} holds another sweep (job 0 ran" in err
    assert "seed=0" in err


def test_sigterm_to_a_sweep_keeps_finished_runs_and_leaves_no_temporaries(tmp_path):
    sweep = tmp_path / "sweep"
    proc = _start(["-m", *SLOW, "seed=0,1,2,3", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}"], tmp_path)
    _wait_for(lambda: len(_staging(sweep)) >= 1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1] == (f"labsim: interrupted (SIGTERM); finished runs stay in {sweep}: "
                                            "run the same command to resume")
    assert "Traceback" not in err
    assert not _staging(sweep)
    assert os.path.isdir(sweep)
