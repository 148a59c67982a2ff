"""Issue 27's findings, each held by a test: those the fuzz (test_fuzz_kinds.py) and the signal tests
(test_signals.py) do not already hold. Every case runs in this process."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

import labsim
from labsim import cli, sweep
from labsim.errors import UserError
from labsim.jobs import Status, write_status
from labsim.rundir import SharedFolder

TINY = ["horizon_weeks=2", "warmup_weeks=1", "scale=0.05", "output.progress=false"]


def _job(folder: Path, overrides: list[str], kpis: str | None = '{"overall": {}}', state: str = "ok") -> Path:
    """A job folder as Hydra and labsim write it (its overrides, its kpis.json, its status last)."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if kpis is not None:
        (folder / "kpis.json").write_text(kpis)
    write_status(folder, Status(state, None if state == "ok" else "boom", scenario="baseline", seed=0,
                                overrides=tuple(overrides)))
    return folder


def _main_exits(monkeypatch, capsys, argv: list[str]) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return exc.value.code, capsys.readouterr().err


# --- 1. a sweep or a comparison never replaces a user's files ------------------------------------

def test_a_sweep_into_a_users_folder_is_refused_and_the_files_stay(tmp_path, monkeypatch, capsys):
    user = tmp_path / "u"
    user.mkdir()
    (user / "runs.parquet").write_text("mine")
    (user / "comparison.html").write_text("notes")
    monkeypatch.chdir(tmp_path)
    code, err = _main_exits(monkeypatch, capsys, ["labsim", "-m", "seed=0", *TINY, "hydra/launcher=basic",
                                                  f"hydra.sweep.dir={user}"])
    assert code == 2
    assert err.strip() == (f"labsim: error: hydra.sweep.dir={user} holds files labsim did not write "
                           "(comparison.html, runs.parquet), which it would replace: choose a new or empty folder")
    assert (user / "runs.parquet").read_text() == "mine" and (user / "comparison.html").read_text() == "notes"
    assert sorted(p.name for p in user.iterdir()) == ["comparison.html", "runs.parquet"]


def test_labsim_compare_never_replaces_a_users_file(tmp_path, capsys):
    _job(tmp_path / "s" / "0-seed=0", ["seed=0"])
    out = tmp_path / "mine"
    out.mkdir()
    (out / "comparison.html").write_text("notes")
    (out / "other.txt").write_text("kept")
    assert sweep.main([str(tmp_path / "s"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds files labsim did not write (comparison.html)" in err[0]
    assert (out / "comparison.html").read_text() == "notes"


# --- 2. one writer at a time --------------------------------------------------------------------

def test_a_folder_being_written_is_refused_to_a_second_command(tmp_path):
    first = SharedFolder(tmp_path / "s", "hydra.sweep.dir")
    first.claim()
    try:
        with pytest.raises(UserError, match="is being written by another labsim command right now"):
            SharedFolder(tmp_path / "s", "hydra.sweep.dir").claim()
    finally:
        first.release()
    SharedFolder(tmp_path / "s", "hydra.sweep.dir").claim()  # free again once the first is done


def test_labsim_compare_waits_for_no_sweep_it_would_race(tmp_path, capsys):
    _job(tmp_path / "s" / "0-seed=0", ["seed=0"])
    writing = SharedFolder(tmp_path / "s", "hydra.sweep.dir", ours=sweep.has_jobs)
    writing.claim()
    try:
        assert sweep.main([str(tmp_path / "s")]) == 2
        assert "being written by another labsim command" in capsys.readouterr().err
    finally:
        writing.release()
    assert not (tmp_path / "s" / "runs.parquet").exists()


# --- 4. jobs at once capped by the machine ---------------------------------------------------------

def test_a_sweeps_jobs_at_once_are_capped_by_the_cores(tmp_path, monkeypatch, capsys):
    from labsim.resources import cores

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_SWEEP", None)
    args, multirun, _ = cli._prepare(["-m", "seed=0,1,2,3,4,5,6,7", *TINY, "hydra.launcher.n_jobs=100",
                                      f"hydra.sweep.dir={tmp_path / 's'}"])
    try:
        assert multirun
        asked = [a for a in args if a.startswith("hydra.launcher.n_jobs=")]
        assert asked == [f"hydra.launcher.n_jobs={min(8, cores())}"]
        if cores() < 8:
            assert "hydra.launcher.n_jobs=100:" in capsys.readouterr().err
    finally:
        cli._SWEEP.abandon()
    assert not (tmp_path / "s").exists()  # nothing was written: the folder claimed is given back
    with pytest.raises(UserError, match="n_jobs=0 is not allowed"):
        cli._prepare(["-m", "seed=0,1", *TINY, "hydra.launcher.n_jobs=0", f"hydra.sweep.dir={tmp_path / 't'}"])


# --- 6. checks: warnings, sister commands, shipped data -------------------------------------------

@pytest.mark.parametrize("overrides, says", [
    (["scenario=mmc", "mmc.arrival_rate_per_h=100"], "mmc: utilisation 20 "),
    (["scenario=mmc", "mmc.arrival_rate_per_h=5", "mmc.servers=5"], "mmc: utilisation 1 "),
    (["windows.reference_week=1000", "horizon_weeks=20", "warmup_weeks=1"], "windows.reference_week=1000 is after"),
])
def test_a_queue_that_never_settles_and_a_window_beyond_the_run_are_warned_of(overrides, says):
    from labsim.hydra_app import check_overrides

    warnings = check_overrides(overrides)
    assert [w for w in warnings if says in w], warnings


def test_a_stable_queue_and_a_short_baseline_get_no_such_warning():
    from labsim.hydra_app import check_overrides

    assert not [w for w in check_overrides(["scenario=mmc"]) if "utilisation" in w]
    assert not [w for w in check_overrides(["horizon_weeks=20", "warmup_weeks=1"]) if "reference_week" in w]


def test_a_cut_posterior_file_is_named(tmp_path):
    from labsim.posterior import posterior_dir, read

    shutil.copytree(posterior_dir(), tmp_path / "p")
    draws = tmp_path / "p" / "draws.csv"
    text = draws.read_text()
    draws.write_text(text[: len(text) - 7])  # cut inside the last number
    with pytest.raises(UserError, match="draws.csv is cut short"):
        read(tmp_path / "p")


def test_labsim_calibrate_refuses_an_out_that_is_a_file(tmp_path, capsys):
    pytest.importorskip("pyabc")
    from labsim import calibrate

    afile = tmp_path / "afile"
    afile.write_text("x")
    assert calibrate.main(["--out", str(afile), "--population", "2", "--generations", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"labsim-calibrate: error: --out={afile} is a file, not a folder: choose another folder"]


def test_labsim_compare_out_where_nothing_can_be_written_is_one_line(tmp_path, capsys):
    _job(tmp_path / "s" / "0-seed=0", ["seed=0"])
    assert sweep.main([str(tmp_path / "s"), "--out", "/proc/labsim-x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("labsim-compare: error: --out=/proc/labsim-x: cannot create")


@pytest.fixture(scope="module")
def a_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    labsim.run(labsim.compose(["scale=0.02", *TINY[:2]])).write(folder)
    write_status(folder, Status("ok", scenario="baseline", seed=0))
    return folder


def test_labsim_figures_says_why_there_is_nothing_to_draw(a_run, tmp_path, capsys):
    from labsim import export

    cases = []
    cut = tmp_path / "cut"
    shutil.copytree(a_run, cut)
    data = (cut / "timeseries.parquet").read_bytes()
    (cut / "timeseries.parquet").write_bytes(data[: len(data) // 2])
    cases.append(([str(cut)], "cannot read the run's tables"))
    nokpis = tmp_path / "nokpis"
    shutil.copytree(a_run, nokpis)
    (nokpis / "kpis.json").unlink()
    cases.append(([str(nokpis)], "not a finished run (no kpis.json)"))
    cases.append(([str(a_run), "--baseline", "NOPE"], "--baseline NOPE: a sweep's option"))
    failed = tmp_path / "sweep" / "0-seed=0"
    _job(failed, ["seed=0"], state="failed")
    cases.append(([str(failed.parent)], "no finished run to draw"))
    for args, says in cases:
        assert export.main([*args, "--format", "svg"]) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], (args, err)
        assert not any(p.name == "figures" for p in Path(args[0]).iterdir())


# --- 8. success only when something useful was done -----------------------------------------------

def test_labsim_compare_on_runs_whose_kpis_are_all_cut_says_so_and_fails(tmp_path, capsys):
    for n in range(3):
        _job(tmp_path / "s" / f"{n}-seed={n}", [f"seed={n}"], kpis='{"overall": {"effective_wa')
    assert sweep.main([str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert "3 of 3 runs have no result: 0-seed=0 (missing: status.json says ok but kpis.json is missing or " \
           "unreadable)" in err


# --- 9. runs counted once, and only the sweep's ---------------------------------------------------

def test_symlinks_and_folders_outside_a_sweep_are_not_its_runs(tmp_path):
    s = tmp_path / "s"
    for n in range(2):
        _job(s / f"{n}-seed={n}", [f"seed={n}"])
    other = _job(tmp_path / "other" / "0-seed=7", ["seed=7"])
    os.symlink(".", s / "9-self")
    os.symlink(other, s / "5-seed=7")
    runs = sweep.collect(s)
    assert sorted(runs["job"].to_list()) == ["0-seed=0", "1-seed=1"]
    assert sweep.collect([s, s]).height == 2  # a folder given twice is read once


# --- the status file: one reader that never raises ----------------------------------------------

@pytest.mark.parametrize("text, state", [("", "unreadable"), ("{", "unreadable"), ("[]", "unreadable"),
                                         ('{"status": "maybe"}', "unreadable"), ('{"status": "ok"}', "ok"),
                                         ('{"status": "failed", "error": "a\\nb"}', "failed"),
                                         ('{"status": "ok", "seed": 1e400}', "ok")])
def test_read_status_says_what_a_file_holds_and_never_raises(tmp_path, text, state):
    from labsim.jobs import read_status

    (tmp_path / "status.json").write_text(text)
    said = read_status(tmp_path)
    assert said.state == state
    if state == "failed":
        assert said.error == "a"
    assert read_status(tmp_path / "none").state == "missing"
    assert json.dumps(said.payload())  # what it read can be written back


def test_a_run_written_by_a_newer_labsim_is_named_not_misread(tmp_path):
    """kpis.json says its schema (labsim.indicators.SCHEMA_VERSION); one from a newer labsim is a run
    without a result, named, and one from before the schema was written is read as it is."""
    from labsim.indicators import SCHEMA_VERSION

    _job(tmp_path / "s" / "0-seed=0", ["seed=0"], kpis=json.dumps({"overall": {}, "meta": {"schema": 99}}))
    _job(tmp_path / "s" / "1-seed=1", ["seed=1"], kpis=json.dumps({"overall": {}, "meta": {}}))
    runs = sweep.collect(tmp_path / "s").sort("job")
    assert runs["status"].to_list() == ["missing", "ok"]
    assert f"schema 99, newer than this labsim reads ({SCHEMA_VERSION})" in runs["error"][0]
    assert runs["schema_version"].to_list() == [None, 1]
