"""The wheel carries labsim's configuration and runs without the source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs the wheel


def _pip(args, cwd):
    return subprocess.run([sys.executable, "-m", "pip", *args], cwd=str(cwd),
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory, repo_root):
    """Build the wheel from the checkout and install it (no dependencies) into its own folder."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    proc = _pip(["wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(repo_root)], base)
    if proc.returncode != 0:  # fall back to the default, isolated build
        proc = _pip(["wheel", "--no-deps", "-w", str(dist), str(repo_root)], base)
    assert proc.returncode == 0, f"wheel build failed:\n{proc.stdout}\n{proc.stderr}"
    wheels = sorted(dist.glob("labsim-*.whl"))
    assert len(wheels) == 1, wheels
    site = base / "site"
    proc = _pip(["install", "--no-deps", "--target", str(site), str(wheels[0])], base)
    assert proc.returncode == 0, f"wheel install failed:\n{proc.stdout}\n{proc.stderr}"
    return wheels[0], site, base


def test_wheel_lists_the_config_files(installed_wheel):
    """The wheel ships the configuration inside the package:
    labsim/conf/config.yaml and labsim/scenarios/baseline.yaml."""
    wheel, _, _ = installed_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "labsim/conf/config.yaml" in names, sorted(names)
    assert "labsim/scenarios/baseline.yaml" in names, sorted(names)


def test_installed_wheel_runs_outside_the_checkout(installed_wheel, labsim, quick, find_run_dirs,
                                                   repo_root):
    """Installed from the wheel alone and run outside the checkout,
    ``python -m labsim`` finds its configuration and writes kpis.json."""
    _, site, base = installed_wheel
    cwd = base / "run"
    cwd.mkdir()
    assert repo_root.resolve() not in cwd.resolve().parents, "run folder must be outside the checkout"
    env = {"PYTHONPATH": str(site)}

    # The copy under test is the wheel's, not the editable checkout.
    probe = subprocess.run([sys.executable, "-c", "import labsim; print(labsim.__file__)"],
                           cwd=str(cwd), env={**os.environ, **env}, capture_output=True,
                           text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).resolve().is_relative_to(site.resolve()), probe.stdout

    rc, out, err = labsim(quick, cwd, env=env)
    assert rc == 0, err
    assert "Traceback" not in out + err
    dirs = find_run_dirs(cwd, "outputs")
    assert len(dirs) == 1, dirs
    assert (dirs[0] / "kpis.json").is_file()


def test_wheel_ships_the_classroom(installed_wheel):
    """The classroom's lessons and its config group travel with the package, and the wheel
    declares the labsim-classroom command."""
    wheel, _, _ = installed_wheel
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for name in ("labsim/classroom/app.py", "labsim/classroom/lessons.yaml",
                 "labsim/classroom/conf/region_entry/BGD.yaml"):
        assert name in names, name
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "labsim-classroom = labsim.entry:classroom" in archive.read(entry_points).decode()
