"""Bad input on the command line.

Contract: exit code 2, stdout empty, stderr exactly one line starting with
``labsim: error: `` that names the offending key and value, no traceback, and
no ``outputs/`` or ``multirun/`` folder left behind (the check happens before
Hydra creates anything, also for every value of a sweep).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PREFIX = "labsim: error: "

# (id, args, key the message must name, value the message must name)
CASES = [
    pytest.param(["horizon_weeks=-5"], "horizon_weeks", "-5",
                 id="negative-horizon"),
    pytest.param(["task_types.image_annotation.reject_rate_novice=1.5"],
                 "task_types.image_annotation.reject_rate_novice", "1.5",
                 id="probability-above-one"),
    pytest.param(["scenario=nope"], "scenario", "nope",
                 id="unknown-scenario"),
    pytest.param(["regions.KEN.min_wage_usd_h=-1"], "regions.KEN.min_wage_usd_h", "-1",
                 id="negative-wage"),
    pytest.param(["horizon_weeek=5"], "horizon_weeek", "5",
                 id="misspelled-top-level-key"),
    pytest.param(["horizon_weeks=abc"], "horizon_weeks", "abc",
                 id="non-numeric-horizon"),
    pytest.param(["warmup_weeks=200"], "warmup_weeks", "200",
                 id="warmup-longer-than-horizon"),
    pytest.param(["regions.KEN.min_wag=3"], "regions.KEN.min_wag", "3",
                 id="misspelled-nested-key"),
    pytest.param(["-m", "seed=0,1", "scenario=baseline,nope"], "scenario", "nope",
                 id="multirun-one-bad-value"),
]

_cache: dict[tuple[str, ...], tuple[int, str, str, Path]] = {}


@pytest.fixture(scope="session")
def refused(tmp_path_factory, labsim):
    """Run a bad command line once per session, each in a fresh empty folder."""

    def _run(args):
        key = tuple(args)
        if key not in _cache:
            cwd = tmp_path_factory.mktemp("bad")
            rc, out, err = labsim(args, cwd)
            _cache[key] = (rc, out, err, cwd)
        return _cache[key]

    return _run


def _value_pattern(value: str) -> str:
    """The value as a token; a number may come back as a float (5 -> 5.0), text may be quoted."""
    try:
        float(value)
    except ValueError:
        return rf"(?<![\w]){re.escape(value)}(?![\w])"
    return rf"(?<![\w.]){re.escape(value)}(?:\.0+)?(?![\w.]|\.\d)"


@pytest.mark.parametrize("args, key, value", CASES)
def test_bad_input_exits_2_with_one_error_line(refused, args, key, value):
    """Bad input exits with code 2, prints nothing on stdout and exactly one
    ``labsim: error: `` line on stderr, with no traceback anywhere."""
    rc, out, err, _ = refused(args)
    assert rc == 2, f"exit code {rc}, stderr: {err!r}"
    assert out == "", f"stdout should be empty, got {out!r}"
    assert "Traceback" not in out + err, err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line, got {len(lines)}: {err!r}"
    assert lines[0].startswith(PREFIX), lines[0]


@pytest.mark.parametrize("args, key, value", CASES)
def test_bad_input_leaves_no_folder_behind(refused, args, key, value):
    """Bad input is refused before Hydra starts: no outputs/ or multirun/ folder is created."""
    _, _, err, cwd = refused(args)
    assert not (cwd / "outputs").exists(), f"outputs/ was created; stderr: {err!r}"
    assert not (cwd / "multirun").exists(), f"multirun/ was created; stderr: {err!r}"


@pytest.mark.parametrize("args, key, value", CASES)
def test_error_line_names_key_and_value(refused, args, key, value):
    """The error line names the offending key and the value the user gave it."""
    _, _, err, _ = refused(args)
    line = err.strip()
    assert key in line, f"key {key!r} not named in {line!r}"
    assert re.search(_value_pattern(value), line), f"value {value!r} not named in {line!r}"


def test_unknown_scenario_lists_the_allowed_ones(refused):
    """An unknown scenario is refused with a line listing the allowed scenarios (baseline, mmc)."""
    _, _, err, _ = refused(["scenario=nope"])
    assert "baseline" in err and "mmc" in err, err


def test_misspelled_key_suggests_the_right_one(refused):
    """A misspelled key (horizon_weeek) is refused with a suggestion of horizon_weeks."""
    _, _, err, _ = refused(["horizon_weeek=5"])
    assert re.search(r"\bhorizon_weeks\b", err), err


def test_misspelled_nested_key_suggests_the_right_one(refused):
    """A misspelled region key (min_wag) is refused with a suggestion of min_wage_usd_h."""
    _, _, err, _ = refused(["regions.KEN.min_wag=3"])
    assert "min_wage_usd_h" in err, err


def test_bad_value_in_a_sweep_fails_before_any_run(refused):
    """In a multirun, one bad value among the sweep's values stops the whole sweep
    before any job runs: exit code 2 and no multirun/ folder, not even for the good jobs."""
    rc, out, err, cwd = refused(["-m", "seed=0,1", "scenario=baseline,nope"])
    assert rc == 2, err
    assert "Launching" not in out + err, out + err
    assert not (cwd / "multirun").exists()
    assert list(cwd.iterdir()) == [], f"folder not empty: {list(cwd.iterdir())}"


def test_the_environment_cannot_be_read_through_a_setting(refused):
    """``labsim 'seed=${oc.env:HOME}'`` used to print the server's home folder in its error line: it is
    refused in one line that does not contain it, and no folder is created."""
    import os

    rc, out, err, cwd = refused(["seed=${oc.env:HOME}"])
    assert rc == 2 and out == "" and len(err.splitlines()) == 1, err
    assert os.environ["HOME"] not in err and "seed" in err, err
    assert not (cwd / "outputs").exists()
