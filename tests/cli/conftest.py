"""Shared helpers for the command-line tests of ``labsim``.

Every test runs the real program in a child process, ``sys.executable -m
labsim`` (so it uses the same interpreter and virtualenv as pytest), with its
working directory set to a temporary folder, because Hydra writes each run
relative to the working directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Short runs: a few simulated weeks on a twentieth of the population.
QUICK = ["horizon_weeks=3", "warmup_weeks=1", "scale=0.05", "output.progress=false"]

TIMEOUT_S = 180


def run_labsim(args, cwd, env=None, python=None, timeout=TIMEOUT_S):
    """Run ``python -m labsim ARGS`` in ``cwd``; return (returncode, stdout, stderr)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [python or sys.executable, "-m", "labsim", *[str(a) for a in args]],
        cwd=str(cwd),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


def run_dirs(cwd: Path, kind: str = "outputs") -> list[Path]:
    """The run folders under ``cwd``: outputs/<date>/<time>/ or multirun/<date>/<time>/<job>/."""
    pattern = "*/*" if kind == "outputs" else "*/*/*"
    return sorted(p for p in (Path(cwd) / kind).glob(pattern) if p.is_dir())


def job_dir(sweep: Path, n: int) -> Path:
    """Job ``n``'s folder in a sweep folder (named ``n-<its overrides>``, labsim.hydra_app.job_folder)."""
    from labsim.hydra_app import job_number

    found = [d for d in Path(sweep).iterdir() if d.is_dir() and job_number(d.name) == n]
    assert len(found) == 1, (n, sorted(p.name for p in Path(sweep).iterdir()))
    return found[0]


@pytest.fixture(scope="session")
def labsim():
    """The helper that runs the command: ``labsim(args, cwd) -> (rc, stdout, stderr)``."""
    return run_labsim


@pytest.fixture(scope="session")
def quick():
    """Override list for a short run (3 weeks, 1 of warm-up, 5 % scale, no progress bar)."""
    return list(QUICK)


@pytest.fixture(scope="session")
def find_run_dirs():
    """The helper listing run folders: ``find_run_dirs(cwd, "outputs" | "multirun")``."""
    return run_dirs


@pytest.fixture(scope="session")
def repo_root():
    """The checkout being tested (the folder holding pyproject.toml)."""
    return REPO
