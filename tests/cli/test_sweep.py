"""Sweeps: the runs table, paired differences, the comparison page and ``labsim-compare``.

One real 3-scenario x 3-seed multirun (a few simulated weeks at 5 % scale)
is shared by the tests of this module; tests that damage a sweep work on a
copy. The page is opened in headless Chromium with the network cut off, to
prove it draws (its world map included) from the file alone.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from omegaconf import OmegaConf
from polars.testing import assert_frame_equal

import labsim.indicators
import labsim.report.compare
import labsim.stats
import labsim.sweep as sweep_mod
from labsim.hydra_app import job_number
from labsim.report.compare import comparison_page
from labsim.sweep import HEADLINE, SweepCallback, collect, last_sweep_failures, paired_differences
from tests.cli.conftest import QUICK, job_dir, run_labsim

pytestmark = pytest.mark.slow  # sweeps through the real command, and their pages in a browser

SCENARIOS = ["baseline", "automation_shock", "new_region_entry"]
SEEDS = [0, 1, 2]
# "++" adds the callback, or keeps it where conf/config.yaml registers it already.
CALLBACK = "++hydra.callbacks.sweep._target_=labsim.sweep.SweepCallback"
ERROR = "labsim-compare: error: "
OUTLINE = 'window.PlotlyGeoAssets = {topojson: {"world_110m": {'  # the shipped world outline


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The multirun's folder, after ``labsim -m`` exited: (folder, exit code, stderr)."""
    base = tmp_path_factory.mktemp("sweep").resolve()
    out = base / "sw"
    rc, _, err = run_labsim(["-m", f"scenario={','.join(SCENARIOS)}", "seed=0,1,2", *QUICK,
                             "output.report=false", f"hydra.sweep.dir={out}", CALLBACK], base)
    return out, rc, err


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for name in ("runs.parquet", "comparison.html", "comparison.csv"):
        (dst / name).unlink(missing_ok=True)
    return dst


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


# --- the multirun and its table ---------------------------------------------------------------

def test_multirun_writes_the_runs_table_and_the_comparison_page(sweep):
    """``labsim -m`` over 3 scenarios x 3 seeds writes runs.parquet (9 rows, all ok, with the
    KPI columns) and comparison.html in the sweep folder and says so in one line."""
    out, rc, err = sweep
    assert rc == 0, err
    assert f"labsim: 9 runs (9 ok, 0 failed) -> {out}/runs.parquet, {out}/comparison.html" in err
    assert "Traceback" not in err
    runs = pl.read_parquet(out / "runs.parquet")
    assert runs.height == 9
    assert runs["status"].to_list() == ["ok"] * 9
    assert [job_number(j) for j in runs["job"]] == list(range(9))  # job order
    # Each job's folder says what it ran.
    assert all(f"scenario={s},seed={k}," in j for j, s, k in zip(runs["job"], runs["scenario"], runs["seed"]))
    assert sorted(zip(runs["scenario"], runs["seed"])) == sorted((s, k) for s in SCENARIOS for k in SEEDS)
    assert set(runs["sweep_dir"]) == {str(out)}
    assert runs.schema["seed"] == pl.Int64
    # Overrides other than scenario and seed become parameters, numbers as floats.
    assert runs["param.horizon_weeks"].to_list() == [3.0] * 9
    assert runs["param.scale"].to_list() == [0.05] * 9
    assert runs.schema["param.output.report"] == pl.Utf8
    assert all("seed=" in o and "scenario=" in o for o in runs["overrides"])
    for col in ("error", "seconds", "labsim_version", "git_commit"):
        assert col in runs.columns
    assert runs["seconds"].min() > 0 and runs["labsim_version"].is_not_null().all()
    # Every KPI of kpis.json has its column, with its value.
    for kpi in HEADLINE:
        assert runs.schema[kpi] == pl.Float64, kpi
    for col in ("KEN.effective_wage_mean_usd_h", "USA.share_below_local_min_wage",
                "crowd.effective_wage_mean_usd_h", "vendor.annual_turnover_rate",
                "automation_share_by_type.image_annotation"):
        assert col in runs.columns, col
    row = runs.row(4, named=True)
    kpis = json.loads((Path(row["run_dir"]) / "kpis.json").read_text())
    assert row["effective_wage_mean_usd_h"] == pytest.approx(kpis["overall"]["effective_wage_mean_usd_h"])
    assert row["KEN.effective_wage_mean_usd_h"] == pytest.approx(
        kpis["by_region"]["KEN"]["effective_wage_mean_usd_h"])
    assert row["crowd.tasks_done"] == kpis["by_channel"]["crowd"]["tasks_done"]
    assert row["automation_share_by_type.image_annotation"] == pytest.approx(
        kpis["overall"]["automation_share_by_type"]["image_annotation"])
    assert runs["effective_wage_mean_usd_h"].is_not_null().all()
    # Written atomically: no temporary names left behind.
    assert not list(out.glob(".*.part"))
    page = (out / "comparison.html").read_text()
    assert OUTLINE in page and page.count('class="plotly-graph-div"') >= 3
    assert "automation_shock" in page and "new_region_entry" in page


# --- the comparison page from synthetic tables (the statistics: tests/unit/test_stats.py) ------

def _runs(rows: list[dict]) -> pl.DataFrame:
    base = {"status": "ok"}
    return pl.DataFrame([{**base, **r} for r in rows])


def test_the_comparison_is_also_a_csv_and_the_time_series_one_lazy_frame(sweep):
    """comparison.csv beside the page: each scenario's paired difference from the baseline and each
    scenario's level; labsim.sweep.timeseries: every run's weekly table, with its keys, lazily."""
    out, rc, _ = sweep
    assert rc == 0
    table = pl.read_csv(out / "comparison.csv")
    over_draws = list(labsim.stats.OVER_DRAWS_SCHEMA)
    assert table.columns == ["kind", "scenario", "scope", "kpi", "n", "value", "ci_low", "ci_high",
                             "relative_change", "verdict", *over_draws, "schema_version"]
    assert set(table["schema_version"]) == {labsim.indicators.SCHEMA_VERSION}
    # Each difference has its verdict (labsim.indicators.verdict), each level none.
    verdicts = table.filter(pl.col("kind") == "difference")["verdict"]
    assert verdicts.null_count() == 0 and set(verdicts) <= set(labsim.indicators.VERDICTS)
    assert table.filter(pl.col("kind") == "level")["verdict"].null_count() == table.filter(pl.col("kind") == "level").height
    # No posterior draws in this sweep: what draws would add stays empty.
    assert table.select(over_draws).null_count().row(0) == (table.height,) * len(over_draws)
    diffs = table.filter(pl.col("kind") == "difference")
    assert set(diffs["scenario"]) == set(SCENARIOS) - {"baseline"} and (diffs["n"] == 3).all()
    assert set(table.filter(pl.col("kind") == "level")["scenario"]) == set(SCENARIOS)
    # The page names each scenario with the title and description its file declares.
    from labsim.hydra_app import scenario_about

    page = (out / "comparison.html").read_text()
    assert "<h2>Scenarios compared</h2>" in page
    for name in SCENARIOS:
        about = scenario_about(name)
        cells = "".join(f"<td class='t'>{html.escape(x)}</td>" for x in (about.title, about.description, name))
        assert cells in page
    # The answer first, the housekeeping last; the weeks the results cover are said.
    assert page.index("<h2>The answer</h2>") < page.index("<h2>Scenarios compared</h2>") < page.index("<h2>Runs</h2>")
    assert "Results cover weeks 2–3 of every run (all weeks after the warm-up)" in page
    # Scale 0.05 and two weeks of KPIs are outside the calibrated setting: the page says so, and why.
    assert "<p class='note warn'>Outside the calibrated setting" in page and "scale=0.05 is below 0.1" in page
    assert pl.read_parquet(out / "runs.parquet")["outside_calibration"].str.contains("scale=0.05").all()
    runs = pl.read_parquet(out / "runs.parquet")
    assert runs["window"].to_list() == ["kpi"] * 9 and runs["weeks"].to_list() == ["2:3"] * 9
    frame = sweep_mod.timeseries(out)
    assert isinstance(frame, pl.LazyFrame)
    ts = frame.collect()
    runs = pl.read_parquet(out / "runs.parquet")
    assert ts.select("scenario", "seed").unique().height == runs.height == 9
    one = runs.row(0, named=True)
    alone = pl.read_parquet(Path(one["run_dir"]) / "timeseries.parquet")
    mine = ts.filter(pl.col("job") == one["job"]).drop("job", "scenario", "seed", *[c for c in ts.columns
                                                                                  if c.startswith("param.")])
    assert mine.equals(alone.select(mine.columns))


def test_the_incidence_table_is_in_the_runs_table_the_csv_and_the_page(sweep):
    """Each channel in each region has its row of the incidence table: its indicators in runs.parquet
    (``crowd:KEN.<kpi>``, as kpis.json's by_cell holds them), its paired differences with verdicts in
    comparison.csv, and who pays; the wage's change splits exactly into its three parts in every scope
    (logs, 1e-9), burnout's into its shift-share parts; the page shows the table and the reasons."""
    out, rc, _ = sweep
    assert rc == 0
    runs = pl.read_parquet(out / "runs.parquet")
    row = runs.row(4, named=True)
    kpis = json.loads((Path(row["run_dir"]) / "kpis.json").read_text())
    for kpi in labsim.stats.INCIDENCE:
        assert row[f"crowd:KEN.{kpi}"] == pytest.approx(kpis["by_cell"]["crowd:KEN"][kpi], nan_ok=True), kpi
        assert f"vendor:PHL.{kpi}" in runs.columns
    cell = kpis["by_cell"]["crowd:KEN"]
    assert cell["effective_wage_usd_h"] == pytest.approx(
        cell["task_pay_per_paid_hour_usd"] * cell["paid_share_of_online_hours"] * cell["topup_factor"], rel=1e-12)
    table = pl.read_csv(out / "comparison.csv")
    cells = table.filter((pl.col("kind") == "difference") & pl.col("scope").str.contains("^(crowd|vendor):"))
    assert set(cells["kpi"]) == set(labsim.stats.INCIDENCE)
    # requesters by home jurisdiction (schema 4): what they buy from people and its cost, with verdicts
    homes = table.filter((pl.col("kind") == "difference") & pl.col("scope").str.starts_with("home:"))
    assert set(homes["kpi"]) == set(labsim.stats.REQUESTERS) and {"home:US", "home:EU"} <= set(homes["scope"])
    assert homes["verdict"].null_count() == 0
    assert {"crowd:KEN", "crowd:USA", "vendor:KEN"} <= set(cells["scope"])
    assert cells["verdict"].null_count() == 0
    payers = table.filter((pl.col("kind") == "difference") & (pl.col("scope") == "ALL"))
    assert set(labsim.stats.PAYERS) <= set(payers["kpi"])
    wage = table.filter(pl.col("kind") == "split:effective_wage_usd_h")
    assert wage.height and {"ALL", "KEN", "crowd:KEN"} <= set(wage["scope"])
    for (scenario, scope), g in wage.group_by("scenario", "scope"):
        parts = dict(zip(g["kpi"], g["value"]))
        assert abs(parts["total"] - sum(parts[k] for k in labsim.stats.WAGE_PARTS)) < 1e-9, (scenario, scope)
    burnout = table.filter(pl.col("kind") == "split:burnout_exits_per_1000_moderator_years")
    for scenario, g in burnout.group_by("scenario"):
        parts = dict(zip(g["kpi"], g["value"]))
        assert abs(parts["total"] - sum(parts[k] for k in labsim.stats.BURNOUT_PARTS)) < 1e-9
        diff = table.filter((pl.col("kind") == "difference") & (pl.col("scope") == "ALL")
                            & (pl.col("scenario") == scenario[0])
                            & (pl.col("kpi") == labsim.stats.BURNOUT))["value"]
        assert parts["total"] == pytest.approx(diff.item(), abs=1e-9)
    page = (out / "comparison.html").read_text()
    assert "<h2>Who gains, who pays</h2>" in page and "Kenya, crowd" in page and "Why: the wage per hour online" in page


def test_the_statistics_stay_importable_from_labsim_sweep():
    """The README imports paired_differences from labsim.sweep; it is labsim.stats' own."""
    assert sweep_mod.paired_differences is labsim.stats.paired_differences
    assert sweep_mod.HEADLINE is labsim.stats.HEADLINE


def test_the_page_draws_heat_maps_and_response_curves_for_swept_numbers():
    """Two swept numbers give a heat map; one gives a line with its band."""
    rows = [{"scenario": s, "seed": k, "param.a": a, "param.b": b, "sweep_dir": "x", "run_dir": "x/0",
             "job": "0", "overrides": "", "error": None, "seconds": 1.0, "labsim_version": "0",
             "git_commit": None, "effective_wage_mean_usd_h": a + b + k + (s == "policy")}
            for s in ("baseline", "policy") for k in range(2) for a in (1.0, 2.0) for b in (0.1, 0.2, 0.3)]
    grid = comparison_page(_runs(rows))
    assert '"type":"heatmap"' in grid.replace(" ", "") and "fig-heat-a-b" in grid
    line = comparison_page(_runs([r for r in rows if r["param.b"] == 0.1]).drop("param.b"))
    assert "fig-sweep-1d" in line and "fig-heat" not in line
    assert OUTLINE not in grid  # no time series here, so no map and no outline


def test_the_page_draws_the_map_it_is_given_and_reads_no_file(tmp_path):
    """The map's data comes in as a frame (labsim.sweep reads it from the runs' folders)."""
    rows = [{"scenario": s, "seed": k, "sweep_dir": "x", "run_dir": str(tmp_path / "nowhere"), "job": "0",
             "overrides": "", "error": None, "seconds": 1.0, "labsim_version": "0", "git_commit": None,
             "effective_wage_mean_usd_h": 2.0 + k + (s == "policy")}
            for s in ("baseline", "policy") for k in range(2)]
    wages = pl.DataFrame({"scenario": ["baseline", "policy"] * 2, "quarter": [0, 0, 1, 1],
                          "region": ["KEN"] * 4, "wage": [1.3, 1.5, 1.4, 1.7], "runs": [2] * 4},
                         schema_overrides={"runs": pl.UInt32})
    page = comparison_page(_runs(rows), wages=wages)
    assert OUTLINE in page and 'id="fig-map"' in page
    assert "Kenya: 1.50 USD" in page  # country names in the hover text
    assert OUTLINE not in comparison_page(_runs(rows))


def test_the_pages_and_the_statistics_do_not_import_the_sweep():
    """No import cycle: the report layer draws, labsim.stats computes, labsim.sweep reads files
    and uses both."""
    code = ("import sys, labsim.stats, labsim.report.compare, labsim.report.run, labsim.classroom.figures; "
            "assert 'labsim.sweep' not in sys.modules, 'labsim.sweep imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    code = "import sys, labsim.stats; assert not [m for m in sys.modules if m.startswith('labsim.report')]"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# --- labsim-compare ---------------------------------------------------------------------------

def test_labsim_compare_rebuilds_the_same_table(sweep, tmp_path):
    out, rc, _ = sweep
    tmp_path = tmp_path.resolve()
    assert rc == 0
    proc = subprocess.run([sys.executable, "-m", "labsim.sweep", str(out), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == (f"labsim-compare: 9 runs (9 ok, 0 failed) -> {tmp_path}/runs.parquet, "
                                   f"{tmp_path}/comparison.html")
    assert_frame_equal(pl.read_parquet(tmp_path / "runs.parquet"), pl.read_parquet(out / "runs.parquet"))
    assert (tmp_path / "comparison.html").stat().st_size > 1_000_000


def test_labsim_compare_concatenates_sweep_folders(sweep, tmp_path, capsys):
    out, _, _ = sweep
    tmp_path = tmp_path.resolve()
    other = _copy(out, tmp_path / "elsewhere")
    dest = tmp_path / "both"
    assert sweep_mod.main([str(out), str(other), "--out", str(dest), "--baseline", "baseline"]) == 0
    runs = pl.read_parquet(dest / "runs.parquet")
    assert runs.height == 18
    first, second = sorted([str(out), str(other)])
    assert runs["sweep_dir"].to_list() == [first] * 9 + [second] * 9
    assert [job_number(j) for j in runs["job"]] == list(range(9)) * 2
    assert_frame_equal(runs.filter(pl.col("sweep_dir") == str(other)).drop("sweep_dir", "run_dir"),
                       pl.read_parquet(out / "runs.parquet").drop("sweep_dir", "run_dir"))
    # Without --out, the first folder gets the files.
    assert sweep_mod.main([str(other)]) == 0
    assert_frame_equal(pl.read_parquet(other / "runs.parquet"), collect(other))
    assert (other / "comparison.html").is_file()
    assert "labsim-compare: 9 runs" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["no-such-dir", "no-runs", "unknown-baseline", "out-is-a-file"])
def test_labsim_compare_errors_are_one_line_and_write_nothing(sweep, tmp_path, capsys, case):
    out, _, _ = sweep
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "afile").write_text("x")
    args = {"no-such-dir": [str(tmp_path / "nope")],
            "no-runs": [str(empty)],
            "unknown-baseline": [str(out), "--baseline", "nope", "--out", str(tmp_path / "o")],
            "out-is-a-file": [str(out), "--out", str(tmp_path / "afile")]}[case]
    before = _files(tmp_path), _files(out)
    assert sweep_mod.main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR), captured.err
    assert captured.out == ""
    assert (_files(tmp_path), _files(out)) == before


def test_labsim_compare_help_and_bad_usage(capsys):
    assert sweep_mod.main(["-h"]) == 0
    page = capsys.readouterr().out
    assert "usage: labsim-compare" in page and re.search(r"95 %\s+intervals", page) and "%%" not in page
    assert sweep_mod.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(ERROR)


def test_the_console_script_reports_errors_without_a_traceback(tmp_path):
    script = Path(sys.executable).with_name("labsim-compare")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "labsim.sweep"]
    proc = subprocess.run([*cmd, str(tmp_path / "nope")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == f"{ERROR}no such directory: {tmp_path / 'nope'}\n"


# --- failed and unfinished runs ---------------------------------------------------------------

@pytest.fixture()
def damaged(sweep, tmp_path):
    """A copy of the sweep where job 4 failed and job 7 never finished."""
    out, _, _ = sweep
    d = _copy(out, tmp_path.resolve() / "damaged")
    status = json.loads((job_dir(d, 4) / "status.json").read_text())
    (job_dir(d, 4) / "status.json").write_text(json.dumps({
        "status": "failed", "error": "FloatingPointError: stress diverged in week 2",
        "scenario": status["scenario"], "seed": status["seed"], "overrides": status["overrides"]}))
    (job_dir(d, 4) / "kpis.json").unlink()
    (job_dir(d, 7) / "status.json").unlink()
    return d


def test_a_failed_run_is_recorded_and_the_others_are_intact(damaged, sweep):
    runs = collect(damaged)
    assert runs.height == 9
    assert runs["status"].to_list() == ["ok"] * 4 + ["failed"] + ["ok"] * 2 + ["missing"] + ["ok"]
    failed = runs.row(4, named=True)
    assert failed["error"] == "FloatingPointError: stress diverged in week 2"
    assert failed["scenario"] == "automation_shock" and failed["seed"] == 1
    assert failed["effective_wage_mean_usd_h"] is None and failed["KEN.effective_wage_mean_usd_h"] is None
    assert runs.row(7, named=True)["effective_wage_mean_usd_h"] is None
    intact = pl.read_parquet(sweep[0] / "runs.parquet").drop("sweep_dir", "run_dir")
    keep = [0, 1, 2, 3, 5, 6, 8]
    assert_frame_equal(runs.drop("sweep_dir", "run_dir")[keep], intact[keep])
    d = paired_differences(runs)
    shock = d.filter(pl.col("scenario") == "automation_shock")
    assert shock["n_pairs"].max() == 2  # seed 1 lost its partner
    assert shock.filter((pl.col("scope") == "ALL") & (pl.col("kpi") == "effective_wage_mean_usd_h"))[
        "n_pairs"].to_list() == [2]
    page = comparison_page(runs)
    assert "FloatingPointError: stress diverged in week 2" in page


def test_the_callback_counts_failures_and_survives_a_broken_page(damaged, capsys, monkeypatch):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(damaged)}}})
    callback = SweepCallback()
    callback.on_multirun_start(config)
    callback.on_multirun_end(config)
    assert last_sweep_failures() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"labsim: 9 runs (7 ok, 1 failed, 1 missing) -> {damaged}/runs.parquet, "
                   f"{damaged}/comparison.html"]
    assert (damaged / "comparison.html").is_file()

    (damaged / "runs.parquet").unlink()
    (damaged / "comparison.html").unlink()

    def broken(*args, **kwargs):
        raise RuntimeError("plotly exploded")

    monkeypatch.setattr(labsim.report.compare, "comparison_page", broken)
    callback.on_multirun_end(config)  # must not raise
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"labsim: 9 runs (7 ok, 1 failed, 1 missing) -> {damaged}/runs.parquet"
    assert err[1] == "labsim: warning: no comparison.html: RuntimeError: plotly exploded"
    assert pl.read_parquet(damaged / "runs.parquet").height == 9
    assert not (damaged / "comparison.html").exists() and not list(damaged.glob(".*.part"))


# --- the page in a browser, offline -----------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's binary; a skip where there is none, a failure under CI (which installs it)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail("no chromium on PATH under CI (.ci/run installs Debian's chromium)")
    pytest.skip("no chromium on PATH (apt-get install chromium to run this test)")


def _render(chromium: str, page: Path, profile: Path) -> tuple[str, str]:
    """Load ``page`` in headless Chromium with the network cut off; return (DOM, browser log)."""
    proc = subprocess.run(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         f"--user-data-dir={profile}",
         # Offline: every request goes to a proxy that refuses it, and no name resolves.
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--host-resolver-rules=MAP * ~NOTFOUND",
         "--virtual-time-budget=15000", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def _console(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_the_comparison_page_renders_offline_with_its_map(chromium, sweep, tmp_path):
    """Every figure of comparison.html is drawn, no script error is logged, and the world
    map draws country outlines and the regions' shapes with no network."""
    out, rc, _ = sweep
    assert rc == 0
    page = out / "comparison.html"
    source = page.read_text()
    ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', source)
    assert len(ids) >= 10 and "fig-map" in ids  # 8 headline KPIs, the levels, the map
    dom, log = _render(chromium, page, tmp_path / "profile")
    assert not _console(log), "\n".join(_console(log))
    for div_id, chunk in zip(ids, re.split(r'<div id="fig-', dom)[1:]):
        assert "js-plotly-plot" in chunk[:500] and 'class="main-svg"' in chunk, f"{div_id} not drawn"
    assert len(re.findall(r'<g class="layer countries"><path d="M[^"]{1000,}', dom)) == len(SCENARIOS)
    assert len(re.findall(r'<path class="choroplethlocation"[^>]* d="M', dom)) >= 6 * len(SCENARIOS)

    # Control: without the shipped outline the same map stays blank here, so the browser
    # above was offline indeed and the outline is what draws it.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<script type='text/javascript'>window\.PlotlyGeoAssets = .*?</script>", "",
                           source, count=1, flags=re.S))
    dom, log = _render(chromium, bare, tmp_path / "profile2")
    assert "fetching topojson" in log
    assert not re.findall(r'<g class="layer countries"><path', dom)


# --- figures as files ----------------------------------------------------------------------------

def test_labsim_figures_writes_a_sweeps_and_a_runs_charts_as_image_files(sweep, tmp_path, capsys):
    """The comparison's level chart and world map, and one job's wage chart, as SVG and PNG files drawn
    by kaleido (a local Chromium, no network: the map's outline is the one labsim ships)."""
    from labsim import export

    out, rc, _ = sweep
    assert rc == 0
    figs = tmp_path / "figs"
    assert export.main([str(out), "--format", "svg,png", "--only", "fig-levels,fig-map", "--out", str(figs)]) == 0
    assert sorted(p.name for p in figs.iterdir()) == ["fig-levels.png", "fig-levels.svg", "fig-map.png", "fig-map.svg"]
    assert (figs / "fig-map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (figs / "fig-map.svg").read_text()
    assert svg.startswith("<svg")
    # Each scenario's map draws the world's outline (shipped with labsim) and its regions.
    outlines = re.findall(r'<g class="layer countries"><path[^>]* d="([^"]*)"', svg)
    assert len(outlines) == len(SCENARIOS) and min(map(len, outlines)) > 10_000
    assert svg.count('class="choroplethlocation"') >= 6 * len(SCENARIOS)
    assert "▶ play" not in svg and "pause" not in svg  # a still image: no animation buttons
    job = job_dir(out, 0)
    assert export.main([str(job), "--format", "svg", "--only", "run-wages"]) == 0
    assert [p.name for p in (job / "figures").iterdir()] == ["run-wages.svg"]
    assert "France" in (job / "figures" / "run-wages.svg").read_text()
    # Bad requests: one line, exit 2, nothing written.
    capsys.readouterr()
    for args in (["--format", "gif"], ["--only", "nope"], ["--scale", "0"]):
        bad = tmp_path / "bad"
        assert export.main([str(out), *args, "--out", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("labsim-figures: error: ") and len(err.strip().splitlines()) == 1, err
        assert not bad.exists() or not any(bad.iterdir())
