"""labsim-sensitivity: SALib's indices on known functions, the design end to end, bad input.

The analysis helper is checked on functions whose answer is known (a linear
model, the Ishigami function); the command is run once for real on tiny
runs (and rerun, to check it resumes), and otherwise with a stand-in for the
simulator, run in this process, so that failures and the Sobol path are
quick to exercise.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import Executor, Future

import numpy as np
import polars as pl
import pytest

import labsim

if "CI" in os.environ:
    import SALib  # noqa: F401  (under CI the dependency must be installed)
else:
    pytest.importorskip("SALib")

from labsim import sensitivity as sens  # noqa: E402
from labsim.files import KPIS, STATUS, part_path  # noqa: E402
from labsim.hydra_app import to_config  # noqa: E402
from labsim.results import Results  # noqa: E402
from labsim.sensitivity import Param, analyze, main, problem, sample  # noqa: E402

QUICK = ["horizon_weeks=3", "warmup_weeks=1", "scale=0.05", "output.progress=false"]
PREFIX = "labsim-sensitivity: error: "


# --- the analysis on known functions ----------------------------------------------------

def _linear(X: np.ndarray) -> np.ndarray:
    return 5.0 * X[:, 0] + 0.2 * X[:, 1] + 0.0 * X[:, 2]


LINEAR = [Param("a", 0.0, 1.0), Param("b", 0.0, 10.0), Param("inert", 0.0, 1.0)]


def test_morris_ranks_a_linear_model_and_gives_an_inert_parameter_zero():
    """y = 5a + 0.2b: mu_star is the change over each range (5 and 2), 0 for the inert one."""
    prob = problem(LINEAR)
    X = sample(prob, "morris", 10, seed=1)
    assert X.shape == (4 * 10, 3)
    res = analyze(prob, X, _linear(X), "morris")
    assert res.columns == ["parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    mu_star = dict(zip(res["parameter"], res["mu_star"]))
    assert mu_star["a"] == pytest.approx(5.0)
    assert mu_star["b"] == pytest.approx(2.0)
    assert mu_star["inert"] == pytest.approx(0.0, abs=1e-12)
    assert res["sigma"].to_list() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


def test_sobol_on_ishigami_matches_the_analytic_indices():
    """Ishigami (a=7, b=0.1) plus a dummy: S1 = (0.314, 0.442, 0, 0), ST = (0.558, 0.442, 0.244, 0)."""
    names = ["x1", "x2", "x3", "dummy"]
    params = [Param(n, -math.pi, math.pi) for n in names]
    prob = problem(params)
    X = sample(prob, "sobol", 1024, seed=0)
    assert X.shape == (1024 * (4 + 2), 4)
    Y = np.sin(X[:, 0]) + 7 * np.sin(X[:, 1]) ** 2 + 0.1 * X[:, 2] ** 4 * np.sin(X[:, 0])
    res = analyze(prob, X, Y, "sobol")
    assert res.columns == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
    s1 = dict(zip(res["parameter"], res["S1"]))
    st = dict(zip(res["parameter"], res["ST"]))
    for name, want in {"x1": 0.314, "x2": 0.442, "x3": 0.0, "dummy": 0.0}.items():
        assert s1[name] == pytest.approx(want, abs=0.08), name
    for name, want in {"x1": 0.558, "x2": 0.442, "x3": 0.244, "dummy": 0.0}.items():
        assert st[name] == pytest.approx(want, abs=0.08), name
    assert abs(st["dummy"]) < 0.01
    # x3 acts only through its interaction with x1: ST well above S1.
    assert st["x3"] - s1["x3"] > 0.15


def test_the_design_is_reproducible_from_its_seed():
    prob = problem(LINEAR)
    for method, n in (("morris", 4), ("sobol", 8)):
        assert np.array_equal(sample(prob, method, n, seed=3), sample(prob, method, n, seed=3))
        assert not np.array_equal(sample(prob, method, n, seed=3), sample(prob, method, n, seed=4))


def test_kpi_names_select_overall_region_channel_and_table_entries():
    kpis = {"overall": {"w": 2.0, "t": None, "by_type": {"img": 0.3}},
            "by_region": {"KEN": {"w": 1.5}}, "by_channel": {"crowd": {"w": 1.8}}}
    assert sens.kpi_value(kpis, "w") == 2.0
    assert sens.kpi_value(kpis, "KEN.w") == 1.5
    assert sens.kpi_value(kpis, "crowd.w") == 1.8
    assert sens.kpi_value(kpis, "by_type.img") == 0.3
    assert math.isnan(sens.kpi_value(kpis, "t"))
    with pytest.raises(KeyError):
        sens.kpi_value(kpis, "USA.w")
    with pytest.raises(TypeError):
        sens.kpi_value(kpis, "by_type")
    assert Param("n", 1, 10, integer=True).value(4.6) == 5
    assert Param("x", 0, 1).override(1 / 3) == "x=0.3333333333"


# --- end to end on the simulator -----------------------------------------------------------

def _statuses(out):
    return {p.parent.name: p.stat().st_mtime_ns for p in sorted((out / "runs").glob("*/status.json"))}


@pytest.mark.slow  # a Morris design run through, then resumed
def test_morris_design_end_to_end_then_resume(tmp_path, capsys, monkeypatch):
    """Two parameters, Morris, N=2: (k + 1) N = 6 runs in parallel, the three outputs; the
    same command again runs nothing and rebuilds the same tables."""
    out = tmp_path / "sens"
    args = ["--param", "crowd.commission=0.01:0.1",
            "--param", "workers.base_quit_hazard_per_week=0.004:0.012",
            "--method", "morris", "-N", "2", "--jobs", "2", "--out", str(out), *QUICK]
    assert main(args) == 0, capsys.readouterr().err

    captured = capsys.readouterr()
    design = pl.read_parquet(out / "design.parquet")
    assert design.height == (2 + 1) * 2
    assert design["status"].to_list() == ["ok"] * 6
    assert design["point"].to_list() == list(range(6)) and set(design["seed"]) == {0}
    for col in ("crowd.commission", "workers.base_quit_hazard_per_week", *sens.DEFAULT_KPIS):
        assert design[col].null_count() == 0, col
    # Morris moves on a grid of 4 levels per range.
    assert set(design["crowd.commission"]) <= {0.01, 0.04, 0.07, 0.1}
    for run_dir in design["run_dir"]:
        status = json.loads((out / run_dir / "status.json").read_text())
        assert status["status"] == "ok" and "seed=0" in status["overrides"]
        assert (out / run_dir / "kpis.json").is_file()

    table = pl.read_parquet(out / "sensitivity.parquet")
    assert table.columns == ["kpi", "parameter", "mu", "mu_star", "mu_star_conf", "sigma"]
    assert table.height == 2 * len(sens.DEFAULT_KPIS)
    assert set(table["kpi"]) == set(sens.DEFAULT_KPIS)
    assert table["mu_star"].is_finite().all() and (table["mu_star"] >= 0).all()
    page = (out / "sensitivity.html").read_text()
    assert "Parameters to the right matter most" in page and "<script" in page
    assert "mu_star" in captured.out and "crowd.commission" in captured.out  # the printed table

    before = _statuses(out)
    calls = []
    real_run_one = sens.run_one
    monkeypatch.setattr(sens, "run_one", lambda task: calls.append(task) or real_run_one(task))
    assert main(args) == 0
    assert calls == []
    assert _statuses(out) == before
    assert "6 already complete, 0 to run" in capsys.readouterr().err
    assert pl.read_parquet(out / "design.parquet").drop("seconds").equals(design.drop("seconds"))
    assert pl.read_parquet(out / "sensitivity.parquet").equals(table)


# --- with a stand-in simulator, in this process ------------------------------------------

class SerialPool(Executor):
    """Runs each task at once, in this process (so monkeypatches apply); a stand-in for labsim.jobs.Pool."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def submit(self, fn, /, *args, **kwargs):
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - run_one never raises
            fut.set_exception(exc)
        return fut


def _fake_simulator(fail=lambda values: False):
    """A stand-in for labsim: KPIs are known functions of the overrides."""
    calls = []

    def simulate(task, progress=None):
        overrides = task.overrides
        values = {}
        for o in overrides:
            key, _, text = o.partition("=")
            try:
                values[key] = float(text)
            except ValueError:
                values[key] = text
        calls.append(values)
        if fail(values):
            raise RuntimeError("numerical trouble")
        x = values.get("crowd.commission", 0.0)
        z = values.get("workers.base_quit_hazard_per_week", 0.0)
        wage = 10.0 * x + 0.01 * values.get("seed", 0.0)
        turnover = math.nan if x > 0.5 else 3.0 + z
        kpis = {"overall": {"effective_wage_mean_usd_h": wage, "annual_turnover_rate": turnover},
                "by_region": {}, "by_channel": {}}
        return Results(pl.DataFrame({"week": [0]}), pl.DataFrame({"worker_id": [0]}), kpis, {})

    simulate.calls = calls
    return simulate


@pytest.fixture
def in_process(monkeypatch):
    monkeypatch.setattr(sens, "_pool", lambda workers, folders: SerialPool())

    def use(simulate):
        monkeypatch.setattr(sens, "_simulate", simulate)
        return simulate

    return use


def test_a_run_clears_the_temporary_files_a_stopped_run_left(tmp_path, in_process):
    """labsim.files writes under hidden .NAME.<token>.part names; a run cut short leaves them,
    and the next run in that folder removes them before it starts."""
    in_process(_fake_simulator())
    run_dir = tmp_path / "runs" / "0000"
    run_dir.mkdir(parents=True)
    left = part_path(run_dir / KPIS)
    left.write_text("half a file")
    config = to_config(labsim.compose(["seed=0", *QUICK]))
    status = sens.run_one(sens.RunTask(0, 0, 0, str(run_dir), ("seed=0", *QUICK), config))
    assert status.ok
    assert not left.exists() and not list(run_dir.glob(".*"))
    assert json.loads((run_dir / STATUS).read_text())["status"] == "ok"


def test_sobol_through_the_command_finds_the_only_parameter_that_matters(tmp_path, in_process, capsys):
    """wage = 10 x: S1 and ST of x are 1, of the other parameter 0; (k + 2) N rows."""
    in_process(_fake_simulator())
    out = tmp_path / "sobol"
    rc = main(["--param", "crowd.commission=0:0.5", "--param", "workers.base_quit_hazard_per_week=0:1",
               "--method", "sobol", "-N", "32", "--kpi", "effective_wage_mean_usd_h", "--out", str(out),
               *QUICK])
    assert rc == 0, capsys.readouterr().err
    assert pl.read_parquet(out / "design.parquet").height == (2 + 2) * 32
    table = pl.read_parquet(out / "sensitivity.parquet")
    assert table.columns == ["kpi", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    s1 = dict(zip(table["parameter"], table["S1"]))
    st = dict(zip(table["parameter"], table["ST"]))
    assert s1["crowd.commission"] == pytest.approx(1.0, abs=0.05)
    assert st["crowd.commission"] == pytest.approx(1.0, abs=0.05)
    assert s1["workers.base_quit_hazard_per_week"] == pytest.approx(0.0, abs=1e-9)
    assert st["workers.base_quit_hazard_per_week"] == pytest.approx(0.0, abs=1e-9)
    page = (out / "sensitivity.html").read_text()
    assert "S1 is the share" in page
    assert "<h2 data-kpi='effective_wage_mean_usd_h'>" in page and "<tr data-kpi='effective_wage_mean_usd_h'>" in page


def test_failed_points_are_recorded_reported_and_retried(tmp_path, in_process, capsys):
    """A point that raises is a failed row; the design goes on; no indices, exit 1; the same
    command reruns only the failed runs."""
    sim = in_process(_fake_simulator(fail=lambda v: v.get("seed") == 1 and v["crowd.commission"] > 0.5))
    out = tmp_path / "fail"
    args = ["--param", "crowd.commission=0:1", "-N", "2", "--seeds", "2",
            "--kpi", "effective_wage_mean_usd_h", "--out", str(out), *QUICK]
    assert main(args) == 1
    err = capsys.readouterr().err
    design = pl.read_parquet(out / "design.parquet")
    assert design.height == (1 + 1) * 2 * 2
    failed = design.filter(pl.col("status") == "failed")
    assert failed.height >= 1 and set(failed["seed"]) == {1}
    assert failed["error"].to_list() == ["RuntimeError: numerical trouble"] * failed.height
    assert failed["effective_wage_mean_usd_h"].null_count() == failed.height
    assert design.filter(pl.col("status") == "ok")["effective_wage_mean_usd_h"].null_count() == 0
    for run in failed["run"]:
        assert json.loads((out / "runs" / f"{run:04d}" / "status.json").read_text())["status"] == "failed"
    assert f"{failed.height} of 8 runs failed" in err
    assert "no indices for effective_wage_mean_usd_h" in err and "Traceback" not in err
    assert not (out / "sensitivity.parquet").exists() and not (out / "sensitivity.html").exists()

    sim = in_process(_fake_simulator())
    assert main(args) == 0, capsys.readouterr().err
    assert len([c for c in sim.calls if c.get("horizon_weeks") == 3.0]) == failed.height
    design = pl.read_parquet(out / "design.parquet")
    assert design["status"].to_list() == ["ok"] * 8
    # Each point's KPI is the mean over its seeds (wage = 10 x + 0.01 seed).
    table = pl.read_parquet(out / "sensitivity.parquet")
    assert table["mu_star"].to_list() == pytest.approx([10.0])


def test_a_kpi_missing_at_some_points_gets_no_indices_but_the_others_do(tmp_path, in_process, capsys):
    in_process(_fake_simulator())  # turnover is null where crowd.commission > 0.5
    out = tmp_path / "nan"
    rc = main(["--param", "crowd.commission=0:1", "-N", "2", "--kpi", "effective_wage_mean_usd_h",
               "--kpi", "annual_turnover_rate", "--out", str(out), *QUICK])
    assert rc == 1
    err = capsys.readouterr().err
    assert "no indices for annual_turnover_rate: missing at design point(s)" in err
    table = pl.read_parquet(out / "sensitivity.parquet")
    assert set(table["kpi"]) == {"effective_wage_mean_usd_h"}
    assert pl.read_parquet(out / "design.parquet")["status"].to_list() == ["ok"] * 4


# --- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, named", [
    pytest.param(["--param", "pricing.sensitivty=0.01:0.1"], "pricing.sensitivty=0.01", id="unknown-key"),
    pytest.param(["--param", "crowd.commission=0.1:0.01"], "crowd.commission=0.1:0.01", id="low-above-high"),
    pytest.param(["--param", "crowd.commission=low:high"], "crowd.commission=low:high", id="non-numeric"),
    pytest.param(["--param", "regions.KEN.min_wage_usd_h=-1:1"], "regions.KEN.min_wage_usd_h=-1",
                 id="outside-allowed"),
    pytest.param(["--param", "pricing.enabled=0:1"], "pricing.enabled=0:1", id="not-a-number-setting"),
    pytest.param(["--param", "crowd.commission=0.01:0.1", "--kpi", "effective_wage"],
                 "--kpi=effective_wage", id="unknown-kpi"),
    pytest.param(["--param", "crowd.commission=0.01:0.1", "--method", "sobol", "-N", "6"], "-N=6",
                 id="sobol-n-not-power-of-2"),
    pytest.param(["--param", "crowd.commission=0.01:0.1", "horizon_weeks=-3"], "horizon_weeks=-3",
                 id="bad-override"),
])
def test_bad_input_is_one_line_exit_2_and_no_folder(args, named, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main([*QUICK, *args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(PREFIX) and named in lines[0], lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists() and list(tmp_path.iterdir()) == []
