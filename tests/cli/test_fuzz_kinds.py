"""The fuzz, second part: the kinds of input that once slipped past the checks or ended in a traceback.

Each family is generated, and each case's expected verdict is written here, from what the input
means, not from the checks under test: a signed zero is zero; a sweep function's values are what
Python's ``range`` gives; a scenario file that reads the environment, includes itself, is empty or
gives a key twice is refused; a sister command's option outside its meaning is refused. Every case
runs in this process; a refusal is one line, exit code 2, no traceback, nothing written, and no
value read from the environment in what is printed.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
from pathlib import Path

import pytest

from labsim.config import LabsimConfig, parameters, set_setting
from labsim.errors import UserError
from labsim.hydra_app import read_command_line, task_overrides, to_config
from tests.cli.test_fuzz import _refused_in_process

SECRET = "labsim-fuzz-secret-7f3a"


def _get(cfg, key):
    for part in key.split("."):
        cfg = cfg[part] if isinstance(cfg, dict) else getattr(cfg, part)
    return cfg


# --- signed zeros and the smallest and largest values a setting takes --------------------------

# Settings that must be at least another one of their row (a rule between two settings): at -0.0
# they are refused as at 0, naming the other, when the other is above 0 in the shipped tables.
ZERO_CLASHES = {"reject_rate_novice": "reject_rate_expert", "automation_ceiling": "llm_share"}


def _zero_cases() -> list[tuple[str, str]]:
    """(key, verdict) for every number whose declared range holds 0: -0.0 means 0."""
    out, shipped = [], LabsimConfig()
    for key, value, meta in parameters():
        if meta.get("kind") not in ("number", "share") or not isinstance(value, float):
            continue
        lo, hi = meta.get("lo"), meta.get("hi")
        if (lo is None or lo < 0 or (lo == 0 and not meta["lo_open"])) and (hi is None or hi >= 0):
            row, leaf = key.rsplit(".", 1) if "." in key else ("", key)
            other = ZERO_CLASHES.get(leaf)
            clash = other is not None and _get(shipped, f"{row}.{other}") > 0
            out.append((key, f"refused:{other}" if clash else "zero"))
    return out


ZERO_CASES = _zero_cases()


def test_a_negative_zero_is_zero_wherever_zero_is_allowed():
    """-0.0 passed the range checks, then numpy's samplers read a sigma of -0.0 as below 0 and the
    run failed (ValueError: sigma < 0). It is 0 now, in every setting that takes 0."""
    assert len(ZERO_CASES) > 150
    base, problems = LabsimConfig(), []
    for key, verdict in ZERO_CASES:
        cfg = copy.deepcopy(base)
        set_setting(cfg, key, -0.0)
        try:
            value = _get(to_config(cfg), key)
        except UserError as exc:
            if verdict == "zero" or verdict.split(":")[1] not in str(exc):
                problems.append(f"{key}=-0.0: refused: {exc}")
            continue
        if verdict != "zero":
            problems.append(f"{key}=-0.0: accepted, expected {verdict}")
        elif math.copysign(1.0, value) < 0:
            problems.append(f"{key}=-0.0: still negative after the checks")
    assert not problems, "\n".join(problems[:10])


def test_the_three_sigmas_at_negative_zero_run():
    import labsim

    cfg = labsim.compose(["scale=0.02", "horizon_weeks=2", "warmup_weeks=1", "output.progress=false",
                          "regions.IND.reservation_wage_sigma=-0.0", "workers.hours_per_week_sigma=-0.0",
                          "wellbeing.sensitivity_sigma=-0.0"])
    assert labsim.run(cfg).kpis["overall"]


def _edge_cases() -> list[tuple[str, float]]:
    """Every number at the smallest and the largest value its declaration allows (the next float
    above an open bound: a denormal above 0)."""
    out = []
    for key, value, meta in parameters():
        if meta.get("kind") not in ("number", "share", "int"):
            continue
        lo, hi = meta.get("lo"), meta.get("hi")
        integer = meta["kind"] == "int"
        if lo is not None:
            out.append((key, (lo + 1 if integer else math.nextafter(lo, math.inf)) if meta["lo_open"] else lo))
        if hi is not None:
            out.append((key, (hi - 1 if integer else math.nextafter(hi, -math.inf)) if meta["hi_open"] else hi))
    return out


EDGE_CASES = _edge_cases()

# Edges that make a run meaningless, refused in one line naming the setting (their verdict, written
# here: a scale that leaves no worker).
MEANINGLESS = {("scale", math.nextafter(0.0, math.inf)): "scale", ("scale", 1e-320): "scale",
               ("scale", 1e-6): "scale"}


def test_the_edges_of_every_range_are_checked_in_one_line_or_accepted():
    """The smallest and largest declared values, one at a time: accepted, or refused in one line
    (a rule between settings) naming a setting, never an exception of another kind."""
    assert len(EDGE_CASES) > 600
    base, problems = LabsimConfig(), []
    for key, value in [*EDGE_CASES, *MEANINGLESS]:
        cfg = copy.deepcopy(base)
        set_setting(cfg, key, value)
        expected = MEANINGLESS.get((key, value))
        try:
            to_config(cfg)
        except UserError as exc:
            line = str(exc)
            if "\n" in line or "=" not in line.split(" ")[0]:
                problems.append(f"{key}={value!r}: {line!r}")
            if expected and expected not in line.split("=")[0]:
                problems.append(f"{key}={value!r}: refused without naming {expected}: {line}")
            continue
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            problems.append(f"{key}={value!r}: {type(exc).__name__}: {exc}")
            continue
        if expected:
            problems.append(f"{key}={value!r}: accepted, a run without workers")
    assert not problems, "\n".join(problems[:10])


# --- sweep functions ---------------------------------------------------------------------------

def _range_cases() -> list[tuple[str, int | None]]:
    """(``seed=range(...)``, the number of runs Python's range gives, None when it must be refused:
    a step of 0, no value, or a negative seed)."""
    out = []
    for a, b, c in itertools.product((-3, 0, 2, 5), (-2, 0, 3, 7), (-2, -1, 0, 1, 3)):
        values = None if c == 0 else list(range(a, b, c))
        ok = values is not None and len(values) > 0 and min(values) >= 0
        out.append((f"seed=range({a},{b},{c})", len(values) if ok else None))
    for a, b in itertools.product((-1, 0, 4), (0, 2, 6)):
        values = list(range(a, b))
        out.append((f"seed=range({a},{b})", len(values) if values and min(values) >= 0 else None))
    out += [("seed=range(0,100000000)", None), ("seed=range(0,3000000)", None), ("seed=glob(*)", None),
            ("scenario=glob(*)", None), ("seed=choice(1,2,3)", 3), ("seed=interval(0,1)", None),
            ("seed=range(0,10,0.5)", None), ("seed=range(0,inf)", None)]
    return out


RANGE_CASES = _range_cases()


def test_sweep_functions_give_pythons_values_or_one_line():
    problems = []
    for text, runs in RANGE_CASES:
        try:
            line = read_command_line(task_overrides([text, "horizon_weeks=2", "warmup_weeks=1"]))
        except UserError as exc:
            if runs is not None:
                problems.append(f"{text}: refused ({exc}), Python gives {runs} values")
            elif "\n" in str(exc) or not str(exc).startswith(text.split("(")[0].split("=")[0]):
                problems.append(f"{text}: {str(exc)!r}")
            continue
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            problems.append(f"{text}: {type(exc).__name__}: {exc}")
            continue
        if runs is None:
            problems.append(f"{text}: accepted ({line.jobs} runs), expected a refusal")
        elif line.jobs != runs:
            problems.append(f"{text}: {line.jobs} runs, Python gives {runs}")
    assert not problems, "\n".join(problems[:10])


# --- scenario files ----------------------------------------------------------------------------

RESOLVERS = ["${oc.env:LABSIM_FUZZ}", "${oc.env:LABSIM_FUZZ,fallback}", "x-${oc.env:LABSIM_FUZZ}",
             "${oc.decode:${oc.env:LABSIM_FUZZ}}"]
PLACES = ["seed: {}", "regions:\n  IND:\n    name: {}", "policy:\n  min_wage_floor:\n    usd_h: {}",
          "horizon_weeks: {}", "output:\n  report: {}"]
BROKEN = [  # (name, text, a piece of the line)
    ("self", "defaults:\n  - self\nseed: 1\n", "cannot include itself"),
    ("cycle_a", "defaults:\n  - cycle_b\nseed: 1\n", "cannot include itself"),
    ("empty", "", "is empty"),
    ("comments", "# @package _global_\n# nothing else\n", "is empty"),
    ("dup", "# @package _global_\nseed: 1\nseed: 2\n", "'seed' is given twice"),
    ("broken", "# @package _global_\nseed: [1\n", "cannot read it as YAML"),
    ("nopackage", "seed: 3\n", "@package _global_"),
    ("tabs", "# @package _global_\nseed:\t[\n", "cannot read it as YAML"),
]


@pytest.fixture()
def scenarios(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LABSIM_FUZZ", SECRET)
    folder = tmp_path_factory.mktemp("user")
    (folder / "scenario").mkdir()
    cases = []
    for i, (r, place) in enumerate(itertools.product(RESOLVERS, PLACES)):
        (folder / "scenario" / f"env{i}.yaml").write_text("# @package _global_\n" + place.format(r) + "\n")
        cases.append((f"env{i}", "reads the environment of the machine running labsim"))
    for name, text, says in BROKEN:
        (folder / "scenario" / f"{name}.yaml").write_text(text)
        cases.append((name, says))
    (folder / "scenario" / "cycle_b.yaml").write_text("defaults:\n  - cycle_a\nseed: 1\n")
    (folder / "scenario" / "fine.yaml").write_text("# @package _global_\nseed: 4\n")  # beside broken ones
    return folder, cases


def _refused(monkeypatch, capsys, tmp_path, args) -> str:
    line = _refused_in_process(monkeypatch, capsys, tmp_path, args)  # one line, exit 2, nothing written
    assert SECRET not in line
    return line


def test_scenario_files_that_read_the_environment_or_are_broken_are_one_line(scenarios, monkeypatch, capsys,
                                                                             tmp_path):
    folder, cases = scenarios
    assert len(cases) >= 28
    for name, says in cases:
        line = _refused(monkeypatch, capsys, tmp_path, [f"hydra.searchpath=[file://{folder}]", f"scenario={name}"])
        assert says in line, (name, line)


def test_a_scenario_beside_broken_ones_still_runs(scenarios):
    folder, _ = scenarios
    line = read_command_line(task_overrides([f"hydra.searchpath=[file://{folder}]", "scenario=fine"]))
    assert line.config.seed == 4


@pytest.mark.parametrize("path, says", [("/", "is the root of the file system"), ("/nonexistent-labsim",
                                                                                   "is not a folder")])
def test_a_search_path_of_the_whole_file_system_or_nothing_is_refused(monkeypatch, capsys, tmp_path, path, says):
    assert says in _refused(monkeypatch, capsys, tmp_path, [f"hydra.searchpath=[file://{path}]"])


def test_a_huge_scenario_is_refused_at_once(tmp_path_factory, monkeypatch, capsys, tmp_path):
    folder = tmp_path_factory.mktemp("big")
    (folder / "scenario").mkdir()
    rows = "\n".join(f"  R{i}: {{name: r{i}}}" for i in range(20_000))
    (folder / "scenario" / "huge.yaml").write_text(f"# @package _global_\nregions:\n{rows}\n")
    line = _refused(monkeypatch, capsys, tmp_path, [f"hydra.searchpath=[file://{folder}]", "scenario=huge"])
    assert "a table of 20,000 rows" in line


# --- folders a run cannot be written at ----------------------------------------------------------

FOLDERS = [("/", "is the root of the file system"), ("a" * 300, "a folder name of 300 characters"),
           ("/".join(["d"] * 2100), "a path of"), ("loop", "a link to nothing")]


@pytest.mark.parametrize("where", ["hydra.run.dir", "hydra.sweep.dir"])
@pytest.mark.parametrize("folder, says", FOLDERS, ids=["root", "long-name", "deep", "symlink-loop"])
def test_folders_no_run_can_be_written_at_are_one_line(monkeypatch, capsys, tmp_path, tmp_path_factory, where,
                                                       folder, says):
    if folder == "loop":
        links = tmp_path_factory.mktemp("links")
        (links / "a").symlink_to(links / "b")
        (links / "b").symlink_to(links / "a")
        folder = str(links / "a")
    args = ["-m", "seed=0"] if where == "hydra.sweep.dir" else []
    assert says in _refused(monkeypatch, capsys, tmp_path, [*args, f"{where}={folder}"])
    if folder.endswith("/a"):
        assert Path(folder).is_symlink()  # the link is left as it was


def test_a_jobs_folder_outside_its_sweep_is_refused(monkeypatch, capsys, tmp_path):
    for subdir in ("/tmp/elsewhere", "../up", "a/../../up"):
        line = _refused(monkeypatch, capsys, tmp_path, ["-m", "seed=0,1", f"hydra.sweep.dir={tmp_path}/s",
                                                        f"hydra.sweep.subdir={subdir}"])
        assert "hydra.sweep.subdir" in line


# --- the sister commands' options ----------------------------------------------------------------

def _sister(name: str):
    from labsim import calibrate, export, sensitivity, sweep

    return {"labsim-sensitivity": sensitivity.main, "labsim-calibrate": calibrate.main,
            "labsim-compare": sweep.main, "labsim-figures": export.main}[name]


BAD_NUMBERS = ["-1", "nan", "inf", "-inf", "1e400", "x", "", "2.5"]
SISTER_CASES = [  # (command, arguments, a piece of the line)
    *[("labsim-sensitivity", ["--param", "crowd.commission=0.01:0.1", opt, v], opt.lstrip("-"))
      for opt in ("-N", "--seeds", "--jobs", "--design-seed") for v in BAD_NUMBERS],
    ("labsim-sensitivity", ["--param", "crowd.commission=0.01:0.1", "-N", "100000000"], "at most 100,000"),
    ("labsim-sensitivity", ["--param", "crowd.commission=0.01:0.1", "--seeds", "0"], "--seeds"),
    ("labsim-sensitivity", ["--param", "crowd.commission=nan:0.1"], "finite"),
    ("labsim-sensitivity", ["--param", "crowd.commission=-0.0:-0.0"], "LOW must be less than HIGH"),
    *[("labsim-calibrate", [opt, v], opt.lstrip("-"))
      for opt in ("--population", "--generations", "--weeks", "--burn-in", "--jobs", "--step-h")
      for v in ("-1", "x", "2.5", "")],
    *[("labsim-calibrate", ["--min-epsilon", v], "min-epsilon") for v in ("nan", "inf", "-1", "x")],
    *[("labsim-calibrate", ["--scale", v], "scale") for v in ("nan", "0", "-0.0", "inf", "x")],
    ("labsim-compare", ["NOPE"], "no such directory"),
    ("labsim-compare", [".", "--window", "year0"], "--window year0"),
    *[("labsim-figures", [".", "--scale", v], "--scale") for v in ("nan", "0", "11", "-1")],
    *[("labsim-figures", [".", "--format", v], "--format") for v in ("gif", "", ",")],
    ("labsim-figures", ["NOPE"], "no such folder"),
]


def test_the_sister_commands_refuse_options_outside_their_meaning(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    problems = []
    for command, args, says in SISTER_CASES:
        try:
            code = _sister(command)(list(args))
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        if code != 2 or len(lines) != 1 or "Traceback" in err or says not in lines[0]:
            problems.append(f"{command} {' '.join(args)}: exit {code}: {err[:200]!r}")
        if os.listdir(tmp_path):
            problems.append(f"{command} {' '.join(args)}: left {os.listdir(tmp_path)}")
    assert not problems, "\n".join(problems[:10])


def test_the_fuzz_holds_two_thousand_generated_cases():
    from tests.cli.test_fuzz import CASES

    total = len(CASES) + len(ZERO_CASES) + len(EDGE_CASES) + len(RANGE_CASES) + len(SISTER_CASES) \
        + len(RESOLVERS) * len(PLACES) + len(BROKEN)
    assert total >= 2000, total
