"""Run folders are all or nothing (labsim.rundir, labsim.files): the rules, in-process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from labsim.errors import UserError
from labsim.files import KPIS, STATUS, host_tag, is_stale, part_path, remove_stale
from labsim.rundir import RunFolder


def _finish(folder: RunFolder, seed: int = 0) -> None:
    """Write a finished run into the staging folder, as a job does."""
    (folder.staging / ".hydra").mkdir()
    (folder.staging / KPIS).write_text("{}")
    (folder.staging / STATUS).write_text(json.dumps({"status": "ok", "seed": seed}))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _listing(path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def test_a_run_appears_whole_in_one_rename_and_not_before(tmp_path):
    folder = RunFolder(tmp_path / "a" / "b" / "run")
    staging = folder.begin()
    assert staging.parent == tmp_path / "a" / "b" and staging.name.startswith(".run.")
    assert not (tmp_path / "a" / "b" / "run").exists()  # nothing under the target's name while writing
    _finish(folder)
    assert folder.commit() == tmp_path / "a" / "b" / "run"
    assert _listing(tmp_path / "a" / "b") == ["run"]  # no temporary left beside it
    assert _listing(tmp_path / "a" / "b" / "run") == [".hydra", KPIS, STATUS]


def test_a_discarded_run_removes_only_what_it_created(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "note.txt").write_text("mine")
    folder = RunFolder(tmp_path / "keep" / "x" / "y" / "run")
    folder.begin()
    (folder.staging / "half.parquet").write_text("half")
    folder.discard()
    assert _listing(tmp_path / "keep") == ["note.txt"]  # x/ and x/y/ were this run's; note.txt was not


def test_a_finished_run_is_refused_unless_overwrite_and_then_replaced_whole(tmp_path):
    target = tmp_path / "run"
    first = RunFolder(target)
    first.begin()
    _finish(first, seed=1)
    (first.staging / "report.html").write_text("<html>seed 1</html>")
    first.commit()
    with pytest.raises(UserError, match=r"already holds a finished run: add output.overwrite=true") as exc:
        RunFolder(target).begin()
    assert "\n" not in str(exc.value)
    again = RunFolder(target, overwrite=True)
    again.begin()
    _finish(again, seed=2)
    again.commit()
    assert json.loads((target / STATUS).read_text())["seed"] == 2
    assert not (target / "report.html").exists()  # no stale page from the run it replaced
    assert _listing(tmp_path) == ["run"]


def test_a_folder_of_someone_elses_files_is_refused_and_left_alone(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "important.log").write_text("precious")
    with pytest.raises(UserError, match=r"hydra.run.dir=.*logs holds files that are not a labsim run "
                                        r"\(important.log\)"):
        RunFolder(logs).begin()
    assert _listing(logs) == ["important.log"] and (logs / "important.log").read_text() == "precious"
    assert _listing(tmp_path) == ["logs"]


def test_a_path_that_is_a_file_or_cannot_be_written_is_refused_in_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(UserError, match="is a file, not a folder"):
        RunFolder(tmp_path / "afile").begin()
    with pytest.raises(UserError, match="cannot (create the folder|write there)"):
        RunFolder(tmp_path / "afile" / "run").begin()
    with pytest.raises(UserError, match="cannot (create the folder|write there)"):
        RunFolder("/proc/labsim-run").begin()
    assert _listing(tmp_path) == ["afile"]


def test_two_runs_into_one_folder_the_first_to_finish_takes_it(tmp_path):
    target = tmp_path / "run"
    a, b = RunFolder(target), RunFolder(target)
    a.begin()
    b.begin()  # both start while the folder is free
    _finish(a, seed=1)
    _finish(b, seed=2)
    a.commit()
    with pytest.raises(UserError, match="another run finished into it meanwhile"):
        b.commit()
    assert json.loads((target / STATUS).read_text())["seed"] == 1
    assert _listing(tmp_path) == ["run"]  # the loser's staging folder is gone


def test_stale_temporaries_of_dead_processes_of_this_machine_are_removed(tmp_path):
    dead = _dead_pid()
    stale_dir = tmp_path / f".run.{host_tag()}-{dead}-0123abcd.part"
    stale_dir.mkdir()
    (stale_dir / "kpis.json").write_text("{")
    stale_file = tmp_path / f".runs.parquet.{host_tag()}-{dead}-89abcdef.part"
    stale_file.write_text("half")
    live = part_path(tmp_path / "other")  # this process: alive
    live.mkdir()
    elsewhere = tmp_path / f".run.ffffffff-{dead}-0123abcd.part"  # another machine's (a shared disk)
    elsewhere.mkdir()
    assert is_stale(stale_dir) and is_stale(stale_file) and not is_stale(live) and not is_stale(elsewhere)
    removed = remove_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted([stale_dir.name, stale_file.name])
    assert sorted(_listing(tmp_path)) == sorted([live.name, elsewhere.name])


def test_the_next_run_beside_a_killed_one_clears_its_temporary(tmp_path):
    dead = _dead_pid()
    left = tmp_path / f".run.{host_tag()}-{dead}-0123abcd.part"
    left.mkdir()
    folder = RunFolder(tmp_path / "run")
    folder.begin()
    _finish(folder)
    folder.commit()
    assert _listing(tmp_path) == ["run"]


def test_a_sweep_job_takes_hydras_records_with_it_and_replaces_an_earlier_failed_attempt(tmp_path):
    job = tmp_path / "3"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("- seed=3\n")
    (job / STATUS).write_text(json.dumps({"status": "failed", "error": "earlier"}))
    (job / "cli.log").write_text("")
    folder = RunFolder(job, setting="hydra.sweep.dir")
    folder.begin()
    (folder.staging / KPIS).write_text("{}")
    (folder.staging / STATUS).write_text(json.dumps({"status": "ok"}))
    folder.adopt(".hydra", "cli.log")
    folder.commit()
    assert _listing(job) == [".hydra", "cli.log", KPIS, STATUS]
    assert (job / ".hydra" / "overrides.yaml").read_text() == "- seed=3\n"
    assert json.loads((job / STATUS).read_text())["status"] == "ok"
    assert _listing(tmp_path) == ["3"]


def test_the_current_folder_is_refused_as_a_run_folder(tmp_path, monkeypatch):
    """An empty ``hydra.run.dir=`` means the current folder: a run may not replace it."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="is the current folder: give the run a folder of its own"):
        RunFolder(tmp_path).begin()
    with pytest.raises(UserError, match="is the current folder or holds it"):
        RunFolder(tmp_path.parent).begin()
    assert _listing(tmp_path) == []


def test_a_broken_earlier_run_is_replaced_whole_not_mixed(tmp_path):
    """The issue's case: kpis.json a folder, .part leftovers inside. The new run does not rename
    files into that folder one by one; it replaces the folder, so nothing of the old one stays."""
    target = tmp_path / "run"
    (target / ".hydra").mkdir(parents=True)
    (target / KPIS).mkdir()
    (target / ".timeseries.parquet.1234-abcd.part").write_text("half")
    folder = RunFolder(target)
    folder.begin()
    _finish(folder)
    folder.commit()
    assert (target / KPIS).is_file()
    assert _listing(target) == [".hydra", KPIS, STATUS]
    assert _listing(tmp_path) == ["run"]
