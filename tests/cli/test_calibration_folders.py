"""labsim-calibration refuses, in one line with exit code 2, every folder it cannot score.

One real run folder, written by the ``labsim`` command (so it has status.json and
config_resolved.yaml beside its results; a policy starting at week 12 gives it named
windows besides ``kpi``), is shared by the module; each test copies it and breaks the copy.
Most tests call ``main([...])`` in-process; two go through the command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from labsim.calibration import PROG, check, main
from labsim.errors import UserError
from labsim.files import CONFIG, KPIS, STATUS, WORKER_WINDOWS, WORKERS

RUN = ["horizon_weeks=30", "warmup_weeks=4", "scale=0.1", "output.report=false", "output.progress=false",
       "policy.psych_support.enabled=true", "policy.psych_support.start_week=12", "windows.settling_weeks=4"]
AFTER = "17:30"  # the run's 'after' window (week 12 + 4 settling weeks + 1, to the horizon)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A small market run folder written by the real command (a few seconds)."""
    folder = tmp_path_factory.mktemp("calibration") / "run"
    proc = subprocess.run([sys.executable, "-m", "labsim", *RUN, f"hydra.run.dir={folder}"],
                          cwd=folder.parent, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    kpis = json.loads((folder / KPIS).read_text())
    assert kpis["windows"]["after"]["weeks"] == AFTER and kpis["meta"]["mode"] == "market"
    assert json.loads((folder / STATUS).read_text())["status"] == "ok"
    return folder


@pytest.fixture
def copy(run_dir, tmp_path):
    """A fresh copy of the shared run folder, to break."""
    def make(name: str = "copy") -> Path:
        return Path(shutil.copytree(run_dir, tmp_path / name))
    return make


def _refused(capsys, args, *expected: str) -> str:
    """``main(args)`` exits 2 with one line on stderr (``PROG: error: ...``) holding ``expected``,
    nothing on stdout and no traceback; returns the line."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith(f"{PROG}: error: ") and "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def _kpis(folder: Path) -> dict:
    return json.loads((folder / KPIS).read_text())


def _write_kpis(folder: Path, kpis) -> None:
    (folder / KPIS).write_text(kpis if isinstance(kpis, str) else json.dumps(kpis))


# --- what works ----------------------------------------------------------------------------------

def test_the_run_folder_and_its_named_window_are_scored(run_dir, capsys):
    assert main([str(run_dir)]) in (0, 1)
    out, err = capsys.readouterr()
    assert err == "" and out.startswith(f"{run_dir}:\n") and out.rstrip().endswith(("all bands met", "missed"))
    assert main([str(run_dir), "--weeks", AFTER]) in (0, 1)
    assert capsys.readouterr().err == ""
    assert len(check(run_dir, " 17 : 30 ")) == len(check(run_dir))  # the same weeks, spaced


def test_a_zero_commission_share_is_zero_not_missing(copy):
    """A run's commission share of 0 is a value (it used to read as NaN: ``0 or nan``)."""
    folder = copy()
    kpis = _kpis(folder)
    kpis["windows"]["kpi"]["by_channel"]["crowd"]["platform_commission_share"] = 0
    _write_kpis(folder, kpis)
    share = [c for c in check(folder) if c.kpi == "platform_commission_share"][0]
    assert share.value == 0.0


def test_a_run_without_a_status_or_config_is_still_scored(copy, capsys):
    """Runs written from Python (``Results.write``) have no status.json nor config_resolved.yaml."""
    folder = copy()
    (folder / STATUS).unlink()
    (folder / CONFIG).unlink()
    assert main([str(folder)]) in (0, 1)
    assert capsys.readouterr().err == ""


# --- the folder ------------------------------------------------------------------------------------

def test_a_missing_folder_is_refused(tmp_path, capsys):
    _refused(capsys, [tmp_path / "nowhere"], "nowhere: no such folder")


def test_a_file_instead_of_a_folder_is_refused(tmp_path, capsys):
    (tmp_path / "kpis.json").write_text("{}")
    _refused(capsys, [tmp_path / "kpis.json"], "is not a folder")


@pytest.mark.parametrize("missing", [KPIS, WORKERS])
def test_a_folder_without_its_results_is_refused(copy, capsys, missing):
    folder = copy()
    (folder / missing).unlink()
    _refused(capsys, [folder], "is not a labsim run folder", KPIS, WORKERS)


def test_an_empty_folder_is_refused(tmp_path, capsys):
    _refused(capsys, [tmp_path], "is not a labsim run folder")


def test_a_path_with_a_line_break_stays_on_one_line(tmp_path, capsys):
    _refused(capsys, [tmp_path / "two\nlines"], "'", "no such folder")


def test_a_bad_folder_after_a_good_one_prints_no_table(run_dir, tmp_path, capsys):
    """Every folder is checked before any table is printed."""
    _refused(capsys, [run_dir, tmp_path / "nowhere"], "no such folder")


# --- kpis.json ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("{not json", "kpis.json is not readable JSON (JSONDecodeError)"),
    ("", "kpis.json is not readable JSON"),
    ("[" * 100_000 + "]" * 100_000, "kpis.json is not readable JSON (RecursionError)"),
    ("[]", "kpis.json holds an array, not a JSON object"),
    ("null", "kpis.json holds null, not a JSON object"),
    ("3", "kpis.json holds a number, not a JSON object"),
    ("NaN", "kpis.json holds a number, not a JSON object"),
    ('"kpis"', "kpis.json holds a string, not a JSON object"),
    ("true", "kpis.json holds true, not a JSON object"),
    ("{}", "has no object 'overall'"),
    ('{"windows": 3}', "has no KPI window"),
    ('{"windows": []}', "has no KPI window"),
    ('{"windows": {}}', "has no KPI window"),
    ('{"windows": {"kpi": 3}}', "window 'kpi' is not an object"),
    ('{"windows": {"kpi": [1, 2]}}', "window 'kpi' is not an object"),
    ('{"windows": {"kpi": {}}}', "window 'kpi' has weeks None, not A:B"),
    ('{"windows": {"kpi": {"weeks": "5:30"}}}', "window 'kpi' has no object 'overall'"),
    ('{"meta": 3, "windows": {}}', "has a 'meta' that is not an object"),
])
def test_a_kpis_json_it_cannot_score_is_refused(copy, capsys, text, expected):
    folder = copy()
    _write_kpis(folder, text)
    _refused(capsys, [folder], expected)


def test_a_kpis_json_that_is_not_utf8_is_refused(copy, capsys):
    folder = copy()
    (folder / KPIS).write_bytes(b"\xff\xfe\x00{")
    _refused(capsys, [folder], "kpis.json is not readable JSON (UnicodeDecodeError)")


def _set(path: tuple, value):
    """A change to kpis.json: the value at ``path`` (keys from the top) set in every window."""
    def change(kpis):
        for w in kpis["windows"].values():
            target = w
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return kpis
    return change


@pytest.mark.parametrize("change, expected", [
    (_set(("weeks",), 5), "has weeks 5, not A:B"),
    (_set(("weeks",), "five:30"), "has weeks 'five:30', not A:B"),
    (_set(("weeks",), "30:5"), "has weeks '30:5', not A:B"),
    (_set(("weeks",), "5\n30\n" * 10_000), "has weeks '5\\n30\\n5"),  # shortened, on one line
    (_set(("weeks",), [[[[[[[[5]]]]]]]]), "has weeks [[[...]]], not A:B"),
    (_set(("overall",), None), "has no object 'overall'"),
    (_set(("overall", "window_weeks"), "26"), "overall.window_weeks '26', not a number of weeks > 0"),
    (_set(("overall", "window_weeks"), None), "overall.window_weeks None"),
    (_set(("overall", "window_weeks"), 0), "overall.window_weeks 0"),
    (_set(("overall", "window_weeks"), True), "overall.window_weeks True"),
    (_set(("overall", "window_weeks"), 10 ** 400), "not a number of weeks > 0"),
    (_set(("by_channel",), {}), "has no object 'by_channel.crowd'"),
    (_set(("by_channel", "crowd"), []), "has no object 'by_channel.crowd'"),
    (_set(("by_channel", "crowd", "platform_commission_share"), "x"),
     "platform_commission_share 'x', not a number"),
    (_set(("by_channel", "crowd", "platform_commission_share"), [0.2]), "platform_commission_share [0.2]"),
])
def test_a_window_without_what_scoring_needs_is_refused(copy, capsys, change, expected):
    folder = copy()
    _write_kpis(folder, change(_kpis(folder)))
    line = _refused(capsys, [folder], f"{KPIS} window ", expected)
    assert "'kpi'" in line or "'after'" in line or "'before'" in line
    _refused(capsys, [folder, "--weeks", AFTER], expected)


def test_an_older_run_without_named_windows_is_scored_or_refused(copy, capsys):
    """kpis.json from before named windows: its top level is the KPI window."""
    folder = copy()
    kpis = _kpis(folder)
    del kpis["windows"]
    _write_kpis(folder, kpis)
    assert main([str(folder)]) in (0, 1)
    assert capsys.readouterr().err == ""
    _refused(capsys, [folder, "--weeks", AFTER], "no such window", "its windows are: none")
    kpis["meta"]["window_start_h"] = "week 4"
    _write_kpis(folder, kpis)
    _refused(capsys, [folder], "meta.window_start_h 'week 4', not a number")
    kpis["meta"]["window_start_h"] = 672.0
    del kpis["by_channel"]
    _write_kpis(folder, kpis)
    _refused(capsys, [folder], "has no 'windows', and as the KPI window of an older run it has no object "
                               "'by_channel.crowd'")


# --- the tables ------------------------------------------------------------------------------------

def _random(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_columns(path: Path) -> None:
    pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}).write_parquet(path)


def _text_hours(path: Path) -> None:
    pl.read_parquet(path).with_columns(pl.col("paid_hours").cast(pl.String)).write_parquet(path)


def _no_earnings(path: Path) -> None:
    pl.read_parquet(path).drop("earnings_usd").write_parquet(path)


@pytest.mark.parametrize("table", [WORKERS, WORKER_WINDOWS])
@pytest.mark.parametrize("damage, expected", [
    (_random, "is not a readable parquet file"),
    (_empty, "is not a readable parquet file"),
    (_truncated, "is not a readable parquet file"),
    (_wrong_columns, "is not a labsim table: column worker_id is missing"),
    (_text_hours, "is not a labsim table: column paid_hours is String, not number"),
    (_no_earnings, "is not a labsim table: column earnings_usd is missing"),
])
def test_a_table_it_cannot_read_is_refused(copy, capsys, table, damage, expected):
    folder = copy()
    damage(folder / table)
    _refused(capsys, [folder], f"{table} {expected}")
    _refused(capsys, [folder, "--weeks", AFTER], f"{table} {expected}")


def test_a_reader_panic_is_one_line_and_its_rust_noise_is_kept_off_stderr(copy, capfd, monkeypatch):
    """On some corrupt pages polars' Rust code panics: it prints the panic and a backtrace on file
    descriptor 2, then raises PanicException (not an Exception). Both stay out of the output."""
    folder = copy()

    def panicking(*args, **kwargs):
        os.write(2, b"thread 'async-executor-0' panicked at crates/polars-parquet/...\nstack backtrace:\n")
        raise pl.exceptions.PanicException("assertion failed: num_values <= values.len()")

    monkeypatch.setattr(pl, "read_parquet", panicking)
    assert main([str(folder)]) == 2
    out, err = capfd.readouterr()
    assert out == "" and err.splitlines() == [
        f"{PROG}: error: {folder}: {WORKERS} is not a readable parquet file (PanicException)"]
    os.write(2, b"still here\n")  # file descriptor 2 is back where it was
    assert capfd.readouterr().err == "still here\n"


def test_without_worker_windows_only_the_kpi_window_is_scored(copy, capsys):
    folder = copy()
    (folder / WORKER_WINDOWS).unlink()
    assert main([str(folder)]) in (0, 1)
    capsys.readouterr()
    _refused(capsys, [folder, "--weeks", AFTER], f"has no {WORKER_WINDOWS}", f"--weeks {AFTER}")


# --- the run's status and mode ----------------------------------------------------------------------

def test_a_failed_run_is_refused_with_its_error(copy, capsys):
    folder = copy()
    (folder / STATUS).write_text(json.dumps({"status": "failed", "error": "ValueError: boom\nsecond line"}))
    _refused(capsys, [folder], "the run did not complete (status.json says 'failed': ValueError: boom)")


@pytest.mark.parametrize("text, expected", [
    ("{bad", "status.json is not JSON (cut short, or not labsim's)"),
    ("[]", "status.json holds a list, not a JSON object"),
    ('{"seed": 0}', "status.json says status None (labsim writes ok or failed)"),
])
def test_a_status_it_cannot_read_is_refused(copy, capsys, text, expected):
    folder = copy()
    (folder / STATUS).write_text(text)
    _refused(capsys, [folder], expected)


def test_a_queueing_mode_run_is_refused_by_its_meta(copy, capsys):
    folder = copy()
    kpis = _kpis(folder)
    kpis["meta"]["mode"] = "mmc"
    _write_kpis(folder, kpis)
    _refused(capsys, [folder], "is a queueing-mode (mmc) run")


def test_a_queueing_mode_run_without_meta_is_refused_by_its_config(copy, capsys):
    folder = copy()
    kpis = _kpis(folder)
    del kpis["meta"]
    _write_kpis(folder, kpis)
    config = (folder / CONFIG).read_text()
    assert "\nmode: market\n" in f"\n{config}"
    (folder / CONFIG).write_text(config.replace("mode: market", "mode: mmc", 1))
    _refused(capsys, [folder], "is a queueing-mode (mmc) run")
    _refused(capsys, [folder, "--weeks", AFTER], "is a queueing-mode (mmc) run")
    _write_kpis(folder, "[]")  # whatever else it holds
    _refused(capsys, [folder], "kpis.json holds an array")


@pytest.mark.parametrize("text, expected", [
    ("mode: [\n", "config_resolved.yaml is not readable YAML"),
    ("- mode\n", "config_resolved.yaml is not a mapping"),
])
def test_without_meta_an_unreadable_config_leaves_the_mode_unknown(copy, capsys, text, expected):
    folder = copy()
    kpis = _kpis(folder)
    del kpis["meta"]
    _write_kpis(folder, kpis)
    (folder / CONFIG).write_text(text)
    _refused(capsys, [folder], "its mode is unknown", expected)


def test_an_unknown_mode_is_refused(copy, capsys):
    folder = copy()
    kpis = _kpis(folder)
    kpis["meta"]["mode"] = "agent-based"
    _write_kpis(folder, kpis)
    _refused(capsys, [folder], "is a run in mode 'agent-based'")


# --- --weeks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("weeks, expected", [
    ("9:9", "--weeks 9:9: the run reported no such window; its windows are: 17:30 (after), 5:12 (before), 5:30 (kpi)"),
    ("17:31", "no such window"),
    ("0:30", "argument --weeks: '0:30' is not weeks A:B"),
    ("30:17", "argument --weeks: '30:17' is not weeks A:B"),
    ("year2", "argument --weeks: 'year2' is not weeks A:B"),
    ("5:99999999999999999999", "is not weeks A:B"),
    ("", "argument --weeks: '' is not weeks A:B"),
])
def test_an_unknown_window_is_refused(run_dir, capsys, weeks, expected):
    _refused(capsys, [run_dir, "--weeks", weeks], expected)


def test_no_arguments_and_unknown_options_are_refused(capsys):
    _refused(capsys, [], "usage:")
    _refused(capsys, ["--wekks", "5:30", "x"], "unrecognized arguments")


# --- through the command line --------------------------------------------------------------------

def _command(*args):
    proc = subprocess.run([sys.executable, "-m", "labsim.calibration", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_the_command_refuses_a_corrupt_table_in_one_line(copy):
    folder = copy()
    _random(folder / WORKERS)
    code, out, err = _command(folder)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.splitlines() == [f"{PROG}: error: {folder}: {WORKERS} is not a readable parquet file (ComputeError)"]


def test_the_command_refuses_json_that_is_not_an_object_in_one_line(copy):
    folder = copy()
    _write_kpis(folder, "[]")
    code, out, err = _command(folder, "--weeks", AFTER)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.splitlines() == [f"{PROG}: error: {folder}: {KPIS} holds an array, not a JSON object"]


def test_check_raises_user_errors_for_python_callers(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        check(tmp_path / "nowhere")
