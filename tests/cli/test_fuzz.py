"""Fuzzing the command line from the declared ranges (labsim/config.py), and every kind of bad input.

Every ranged setting is probed just below and just above its range, with the wrong type and as a
list; every boolean, choice and name with what it does not accept. Each case must be refused in
one line naming the setting, with exit code 2, no traceback and nothing on disk. The cases run
in-process through the checks the command line makes (``labsim.cli.main``); a sample runs
through the real command.
"""

from __future__ import annotations

import math
import os
import sys

import pytest

from labsim import cli
from labsim.config import parameters
from tests.cli.conftest import run_labsim


def _fmt(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() or abs(x) >= 1e15 else str(int(x))


def _ranged_cases() -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    for key, value, meta in parameters():
        kind = meta.get("kind")
        if kind in ("number", "int", "share"):
            lo, hi = meta.get("lo"), meta.get("hi")
            integer = kind == "int"
            if lo is not None:
                below = lo if meta.get("lo_open") else (lo - 1 if integer else math.nextafter(lo, -math.inf))
                cases.append((key, _fmt(below) if not integer else str(int(below))))
            if hi is not None:
                above = hi if meta.get("hi_open") else (hi + 1 if integer else math.nextafter(hi, math.inf))
                cases.append((key, _fmt(above) if not integer else str(int(above))))
            cases += [(key, "abc"), (key, f"[{_fmt(value)},{_fmt(value)}]")]
            if integer:
                cases.append((key, "2.5"))
        elif kind == "bool":
            cases += [(key, "2"), (key, "maybe"), (key, "[true,false]")]
        elif kind == "choice":
            cases += [(key, "nope"), (key, "[a,b]")]
        elif kind == "name":
            cases += [(key, "NOWHERE"), (key, "[a,b]")]
        elif kind == "names":
            cases += [(key, "[NOWHERE]"), (key, "{a:1}")]
    return cases


CASES = _ranged_cases()


def _refused_in_process(monkeypatch, capsys, tmp_path, args) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["labsim", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    err = capsys.readouterr().err
    assert exc.value.code == 2, (args, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("labsim: error: "), (args, err)
    assert "Traceback" not in err
    assert os.listdir(tmp_path) == [], (args, os.listdir(tmp_path))  # nothing written
    return lines[0]


def test_the_fuzz_covers_every_declared_setting():
    keys = {k for k, _, m in parameters() if m.get("kind") in ("number", "int", "share", "bool", "choice",
                                                                  "name", "names")}
    assert {k for k, _ in CASES} == keys
    assert len(CASES) > 1000


def test_every_ranged_setting_refuses_what_is_outside_its_declaration(monkeypatch, capsys, tmp_path):
    """All the cases in one test (each takes a millisecond or two): one line naming the setting."""
    problems = []
    for key, value in CASES:
        monkeypatch.setattr(sys, "argv", ["labsim", f"{key}={value}"])
        monkeypatch.chdir(tmp_path)
        try:
            cli.main()
            problems.append(f"{key}={value}: accepted")
            continue
        except SystemExit as exc:
            code = exc.code
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        if code != 2 or len(lines) != 1 or not lines[0].startswith("labsim: error: ") or "Traceback" in err:
            problems.append(f"{key}={value}: exit {code}, {len(lines)} lines: {err[:200]!r}")
        elif key.split(".")[-1] not in lines[0]:
            problems.append(f"{key}={value}: the line does not name the setting: {lines[0]}")
        if os.listdir(tmp_path):
            problems.append(f"{key}={value}: left {os.listdir(tmp_path)}")
    assert not problems, "\n".join(problems[:20])


@pytest.fixture()
def laughs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user") / "scenario"
    folder.mkdir()
    lines = ["# @package _global_", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    (folder / "laughs.yaml").write_text("\n".join(lines) + "\n")
    return folder.parent


KINDS = [  # every kind of case the issue lists, with a piece of the line it must print
    (["workers.hours_per_week_median=200"], "at most 168"),
    (["crowd.search_min_per_hour=61"], "between 0 and 60"),
    (["workers.base_quit_hazard_per_week=2"], "between 0 and 1"),
    (["wellbeing.high_stress_threshold=5"], "at most wellbeing.burnout_threshold"),
    (["demand.growth_per_year=-5"], "greater than -1"),
    (["+foo=1"], "+foo=1: no such setting"),
    (["++foo=1"], "++foo=1: no such setting"),
    (["+requesters.academic.home_shares.XX=0.1"], "+requesters.academic.home_shares.XX=0.1: no such setting"),
    (["requesters.academic.home_shares.US=0.9"], "requesters.academic.home_shares=1.3 is not allowed: shares"),
    (["policy.due_diligence.jurisdictions=[EU,Mars]"], "jurisdictions='Mars' is not allowed: one of US, EU"),
    (["regions={}"], "regions is a table: change an entry"),
    (["task_types={}"], "task_types is a table"),
    (["scenario=[baseline,mmc]"], "scenario takes one name"),
    (["output.report=2"], "output.report=2 is not allowed: true or false"),
    (["seed=1", "seed=2"], "seed is given twice"),
    (["seed=${oc.env:HOME}"], "may not call a resolver"),
    (["horizon_weeks=1e9"], "horizon_weeks=1000000000.0 is not allowed"),
    (["scale=1e6"], "scale=1000000.0 is not allowed"),
    (["regions.KEN.initial_crowd_workers=1e12"], "regions.KEN.initial_crowd_workers"),
    (["regions.KEN.initial_crowd_workers=10000000", "regions.IND.initial_crowd_workers=10000000"],
     "a run that fits in memory"),
    (["seed=0,1"], "add -m to run them all"),
    (["--bogus"], "unknown option --bogus"),
    (["hydra.run.dir=/proc/labsim-run"], "hydra.run.dir=/proc/labsim-run: cannot"),
    (["hydra.run.dir=/tmp/é x"], "quote a value"),
    (["-m", "horizon_weeks=6,2", "warmup_weeks=1,3"], "in the combination horizon_weeks=2 warmup_weeks=3"),
    (["seed=interval(0,1)"], "not intervals"),
    (["a=b=c"], "cannot read"),
    (["hydra.run.dir="], "is the current folder"),
    (["seed="], "seed"),
]


@pytest.mark.parametrize("args, says", KINDS, ids=[" ".join(a) for a, _ in KINDS])
def test_every_kind_of_bad_command_line_is_one_line_and_leaves_nothing(monkeypatch, capsys, tmp_path, args,
                                                                       says):
    line = _refused_in_process(monkeypatch, capsys, tmp_path, args)
    assert says in line, line
    assert os.environ.get("HOME", "/nowhere") not in line.replace("/proc", "")  # nothing read from the machine


def test_a_billion_laughs_scenario_is_refused_at_once(monkeypatch, capsys, tmp_path, laughs):
    line = _refused_in_process(monkeypatch, capsys, tmp_path,
                               [f"hydra.searchpath=[file://{laughs}]", "scenario=laughs"])
    assert "anchors and aliases expand to more than" in line


def test_a_run_folder_that_is_a_file_is_refused(monkeypatch, capsys, tmp_path, tmp_path_factory):
    afile = tmp_path_factory.mktemp("elsewhere") / "afile"
    afile.write_text("x")
    line = _refused_in_process(monkeypatch, capsys, tmp_path, [f"hydra.run.dir={afile}"])
    assert line == f"labsim: error: hydra.run.dir={afile} is a file, not a folder: choose another folder"


@pytest.mark.slow  # each case a process of its own
@pytest.mark.parametrize("args", [["workers.hours_per_week_median=200"], ["+foo=1"], ["seed=0,1"], ["--bogus"],
                                  ["seed=${oc.env:HOME}"], ["hydra.run.dir=/proc/labsim-run"]])
def test_a_sample_through_the_real_command(tmp_path, args):
    rc, out, err = run_labsim(args, tmp_path)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("labsim: error: ") and "Traceback" not in err
    assert out == "" and os.listdir(tmp_path) == []
