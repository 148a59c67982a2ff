"""Stopping any command at any moment, and resuming a sweep twice at once.

Each command is started for real (its console script, so from its first instruction), stopped by
SIGINT or SIGTERM at a moment drawn from a seeded stream (the first second included), then run
again. After the signal: exit code 0 (it had finished) or 128 + the signal, no traceback, no
process of its group left, no temporary file left; after the rerun: one whole result.
``LABSIM_SIGNAL_MOMENTS`` (default 2) sets the moments per command; the issue note's figures come
from 20.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from labsim.files import PART_SUFFIX

BIN = Path(sys.executable).parent
MOMENTS = int(os.environ.get("LABSIM_SIGNAL_MOMENTS", "2"))
QUICK = ["horizon_weeks=3", "warmup_weeks=1", "scale=0.05", "output.progress=false"]

COMMANDS = {  # name: (arguments, the folder it writes, the file of a whole result)
    "labsim": (["labsim", *QUICK, "hydra.run.dir=out"], "out", "status.json"),
    "labsim -m": (["labsim", "-m", "seed=0,1", *QUICK, "output.report=false", "hydra.sweep.dir=out"], "out",
                  "runs.parquet"),
    "labsim-sensitivity": (["labsim-sensitivity", "--param", "crowd.commission=0.05:0.1", "-N", "2", "--jobs", "2",
                            "--kpi", "effective_wage_mean_usd_h", "--out", "out", *QUICK], "out", "design.parquet"),
    "labsim-calibrate": (["labsim-calibrate", "--population", "4", "--generations", "1", "--weeks", "2",
                          "--burn-in", "1", "--scale", "0.02", "--jobs", "2", "--out", "out"], "out",
                         "posterior.parquet"),
    "labsim-compare": (["labsim-compare", "sweep", "--out", "out"], "out", "runs.parquet"),
}


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / argv[0]), *argv[1:]], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _group_gone(pgid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _temporaries(folder: Path) -> list[str]:
    """What a stopped command must not leave: half-written files and folders (labsim.files)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith(PART_SUFFIX) or p.name.startswith(".figures."))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A finished sweep for labsim-compare to read."""
    where = tmp_path_factory.mktemp("sweep")
    argv = ["labsim", "-m", "seed=0,1", *QUICK, "output.report=false", "hydra.sweep.dir=sweep"]
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=where, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return where / "sweep"


@pytest.mark.slow  # processes of their own, each stopped and rerun
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_stopped_at_any_moment_leaves_nothing_behind_and_reruns_whole(name, tmp_path, sweep):
    if name == "labsim-calibrate":
        pytest.importorskip("pyabc")
    argv, out, whole = COMMANDS[name]
    draw = random.Random(f"{name}-signals")
    for k in range(MOMENTS):
        cwd = tmp_path / f"m{k}"
        cwd.mkdir()
        if name == "labsim-compare":
            os.symlink(sweep, cwd / "sweep")
        sig = (signal.SIGINT, signal.SIGTERM)[k % 2]
        # The first second, then any moment. Before 0.1 s the interpreter itself is starting (about 0.05 s
        # here before labsim.entry's first instruction), where Python's own handlers answer.
        moment = draw.uniform(0.1, 1.0) if k < 2 else draw.uniform(0.1, 8.0)
        proc = _start(argv, cwd)
        time.sleep(moment)
        try:
            os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
        except ProcessLookupError:
            pass
        _, err = proc.communicate(timeout=120)
        said = f"{name} {sig.name} at {moment:.2f} s: exit {proc.returncode}: {err[-400:]!r}"
        assert proc.returncode in (0, 128 + sig), said
        assert "Traceback" not in err, said
        assert _group_gone(proc.pid), f"{said}: processes left"
        assert not _temporaries(cwd), f"{said}: left {_temporaries(cwd)}"
        if proc.returncode == 0 and name == "labsim":  # it had finished: its folder holds the whole run
            assert (cwd / out / whole).is_file(), said
            continue
        again = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=cwd, capture_output=True, text=True,
                               timeout=300)
        assert again.returncode == 0, f"{said}; rerun: {again.stderr[-400:]}"
        assert (cwd / out / whole).is_file(), said
        assert not _temporaries(cwd), said


REPEATS = int(os.environ.get("LABSIM_RESUME_REPEATS", "2"))
SWEEP = ["labsim", "-m", "seed=0,1,2,3", "horizon_weeks=6", "warmup_weeks=1", "scale=0.05", "output.report=false",
         "output.progress=false", "hydra.launcher.n_jobs=2", "hydra.sweep.dir=S"]
SAME = ["job", "scenario", "seed", "overrides", "status", "effective_wage_mean_usd_h", "annual_turnover_rate"]


def _table(folder: Path) -> pl.DataFrame:
    return pl.read_parquet(folder / "runs.parquet").select(SAME).sort("job")


@pytest.mark.slow  # a sweep killed and resumed twice at once, REPEATS times
def test_two_resumes_at_once_give_the_clean_table_or_one_is_refused(tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    assert subprocess.run([str(BIN / "labsim"), *SWEEP[1:]], cwd=clean, capture_output=True,
                          timeout=300).returncode == 0
    expected = _table(clean / "S")
    for k in range(REPEATS):
        cwd = tmp_path / f"r{k}"
        cwd.mkdir()
        first = _start(SWEEP, cwd)
        time.sleep(2.5 + 1.5 * k)
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate(timeout=60)
        _group_gone(first.pid)
        both = [_start(SWEEP, cwd) for _ in range(2)]
        ends = [p.communicate(timeout=300) for p in both]
        codes = sorted(p.returncode for p in both)
        said = f"repeat {k}: exits {codes}: {[e[-300:] for _, e in ends]}"
        assert codes in ([0, 0], [0, 2]), said
        for p, (_, err) in zip(both, ends):
            if p.returncode == 2:
                assert "being written by another labsim command" in err.strip().splitlines()[-1], said
        assert _table(cwd / "S").equals(expected), said
