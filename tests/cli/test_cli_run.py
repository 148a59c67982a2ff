"""Successful runs of the ``labsim`` command: what they write and where."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import pytest
import yaml

RUN_FILES = ["timeseries.parquet", "workers.parquet", "kpis.json", "report.html", "requesters.parquet",
             "config_resolved.yaml"]
KPI_KEYS = {"overall", "by_region", "by_channel", "meta"}


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _only_run_dir(find_run_dirs, cwd: Path) -> Path:
    dirs = find_run_dirs(cwd, "outputs")
    assert len(dirs) == 1, f"expected one outputs/<date>/<time>/ folder, found {dirs}"
    return dirs[0]


def test_help_exits_zero(labsim, tmp_path):
    """``labsim --help`` prints help, exits 0 and runs nothing."""
    rc, out, err = labsim(["--help"], tmp_path)
    assert rc == 0, err
    assert out.strip(), "help text expected on stdout"
    assert "Traceback" not in out + err
    assert not (tmp_path / "outputs").exists()


def test_help_version_and_scenarios_are_labsims_own(monkeypatch, capsys):
    """--help says what labsim does, with examples and the sister commands; --version its version;
    --scenarios one line per scenario, with the title and description its file declares."""
    import labsim
    from labsim import cli
    from labsim.hydra_app import scenario_about, scenario_names

    def shown(*args):
        monkeypatch.setattr(sys, "argv", ["labsim", *args])
        cli.main()
        return capsys.readouterr().out

    text = shown("--help")
    assert text.startswith("labsim: a discrete-event simulation of the labour markets behind AI")
    for word in ("examples:", "labsim -m scenario=baseline,min_wage_floor", "--scenarios", "labsim-compare",
                 "labsim-sensitivity", "labsim-calibration", "labsim-classroom", "--cfg job"):
        assert word in text
    assert "powered by Hydra" not in text
    assert shown("--version") == f"labsim {labsim.__version__}\n"
    lines = shown("--scenarios").splitlines()
    assert [x.split()[0] for x in lines] == scenario_names()
    for name, line in zip(scenario_names(), lines):
        about = scenario_about(name)
        assert about.title != name and about.description and "\n" not in about.description
        assert line.endswith(f"{about.title}: {about.description}")


def test_console_script_help_exits_zero(tmp_path):
    """The installed console script ``labsim`` exists and ``labsim --help`` exits 0."""
    import subprocess

    script = Path(sys.executable).with_name("labsim")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    proc = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_single_run_writes_all_outputs(labsim, quick, find_run_dirs, tmp_path):
    """A single run exits 0 and writes, in outputs/<date>/<time>/ under the working
    directory, timeseries.parquet, workers.parquet, kpis.json, report.html,
    config_resolved.yaml and Hydra's .hydra/ folder."""
    rc, out, err = labsim(quick, tmp_path)
    assert rc == 0, err
    assert "Traceback" not in out + err
    run_dir = _only_run_dir(find_run_dirs, tmp_path)
    date_dir = run_dir.parent
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_dir.name), date_dir.name
    for name in RUN_FILES:
        path = run_dir / name
        assert path.is_file() and path.stat().st_size > 0, f"{name} missing or empty in {run_dir}"
    assert (run_dir / ".hydra").is_dir()
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert not (tmp_path / "multirun").exists()
    assert not list(run_dir.glob("*.log"))  # no empty log file of Hydra's
    # The end of the run: headline numbers and where the report is, on stdout.
    lines = out.rstrip().splitlines()
    assert lines[0].startswith("  Effective hourly wage, mean (USD/h): ")
    assert any(x.startswith("  Share of workers below their local minimum wage: ") and x.endswith(" %")
               for x in lines)
    assert f"  (weeks 2 to 3, after warm-up; report: {run_dir / 'report.html'})" in lines
    # A short run on a twentieth of the population is outside the calibrated setting, and says so.
    notes = [x for x in lines if x.startswith("  note: ")]
    assert [n.split(":")[1].split()[0] for n in notes] == ["scale=0.05", "the"]
    assert "Outside the calibrated setting: scale=0.05 is below 0.1" in (run_dir / "report.html").read_text()


def test_single_run_outputs_are_readable(labsim, quick, find_run_dirs, tmp_path):
    """What a run writes is well-formed: kpis.json holds overall, by_region, by_channel
    and meta; the parquet tables have rows; config_resolved.yaml holds the overrides."""
    import polars as pl

    rc, _, err = labsim(quick, tmp_path)
    assert rc == 0, err
    run_dir = _only_run_dir(find_run_dirs, tmp_path)

    kpis = json.loads((run_dir / "kpis.json").read_text())
    assert KPI_KEYS <= set(kpis), f"kpis.json keys: {sorted(kpis)}"
    assert isinstance(kpis["overall"], dict) and kpis["overall"]
    assert isinstance(kpis["by_region"], dict) and kpis["by_region"]
    assert isinstance(kpis["by_channel"], dict) and kpis["by_channel"]
    assert kpis["meta"].get("scenario") == "baseline"

    for name in ("timeseries.parquet", "workers.parquet"):
        assert pl.read_parquet(run_dir / name).height > 0, f"{name} has no rows"

    cfg = yaml.safe_load((run_dir / "config_resolved.yaml").read_text())
    assert float(cfg["horizon_weeks"]) == 3
    assert float(cfg["warmup_weeks"]) == 1
    assert float(cfg["scale"]) == pytest.approx(0.05)

    html = (run_dir / "report.html").read_text(errors="replace").lower()
    assert "<html" in html


def test_mmc_run_reports_wait_and_utilization(labsim, find_run_dirs, tmp_path):
    """The M/M/c mode with 3 servers, arrivals 2/h and service 1/h writes kpis.json
    whose overall block has a numeric mean_wait_h and a utilization near 2/3."""
    args = ["scenario=mmc", "mmc.servers=3", "mmc.arrival_rate_per_h=2",
            "mmc.service_rate_per_h=1", "horizon_weeks=4", "warmup_weeks=1",
            "output.progress=false"]
    rc, out, err = labsim(args, tmp_path)
    assert rc == 0, err
    assert "Traceback" not in out + err
    run_dir = _only_run_dir(find_run_dirs, tmp_path)
    kpis = json.loads((run_dir / "kpis.json").read_text())
    overall = kpis["overall"]
    assert _is_number(overall.get("mean_wait_h")), overall.get("mean_wait_h")
    assert overall["mean_wait_h"] >= 0
    assert _is_number(overall.get("utilization")), overall.get("utilization")
    assert overall["utilization"] == pytest.approx(2 / 3, abs=0.1)
    assert kpis["meta"].get("scenario") == "mmc"


def test_user_scenario_via_hydra_searchpath(labsim, find_run_dirs, tmp_path):
    """A user's own scenario folder (scenario/myscen.yaml) added with
    hydra.searchpath=[file://D] can be selected with scenario=myscen, and its
    settings apply (here horizon_weeks: 3, not given on the command line)."""
    user_dir = tmp_path / "D"
    (user_dir / "scenario").mkdir(parents=True)
    (user_dir / "scenario" / "myscen.yaml").write_text("# @package _global_\nhorizon_weeks: 3\n")
    cwd = tmp_path / "run"
    cwd.mkdir()
    args = [f"hydra.searchpath=[{user_dir.resolve().as_uri()}]", "scenario=myscen",
            "warmup_weeks=1", "scale=0.05", "output.progress=false"]
    rc, out, err = labsim(args, cwd)
    assert rc == 0, err
    assert "Traceback" not in out + err
    run_dir = _only_run_dir(find_run_dirs, cwd)
    assert (run_dir / "kpis.json").is_file()
    kpis = json.loads((run_dir / "kpis.json").read_text())
    assert kpis["meta"].get("scenario") == "myscen"
    cfg = yaml.safe_load((run_dir / "config_resolved.yaml").read_text())
    assert float(cfg["horizon_weeks"]) == 3


def test_multirun_writes_one_folder_per_job(labsim, quick, find_run_dirs, tmp_path):
    """A multirun (-m seed=0,1) writes each job to multirun/<date>/<time>/<job-num>-<its overrides>/."""
    rc, out, err = labsim(["-m", "seed=0,1", *quick], tmp_path)
    assert rc == 0, err
    assert "Traceback" not in out + err
    dirs = find_run_dirs(tmp_path, "multirun")
    assert [d.name for d in dirs] == [f"{k}-seed={k},horizon_weeks=3,scale=0.05,warmup_weeks=1" for k in (0, 1)], dirs
    assert dirs[0].parent == dirs[1].parent
    seeds = []
    for d in dirs:
        assert (d / "kpis.json").is_file(), f"no kpis.json in {d}"
        seeds.append(json.loads((d / "kpis.json").read_text())["meta"].get("seed"))
    assert seeds == [0, 1]


def test_multirun_one_job_after_another_with_the_basic_launcher(labsim, quick, find_run_dirs, tmp_path):
    """hydra/launcher=basic (documented in the README) runs a sweep without the joblib launcher."""
    rc, out, err = labsim(["-m", "seed=0,1", "hydra/launcher=basic", *quick], tmp_path)
    assert rc == 0, err
    assert len([d for d in find_run_dirs(tmp_path, "multirun") if (d / "kpis.json").is_file()]) == 2
