"""Every scenario file composes and runs; every output is well formed."""

import json

import polars as pl
import pytest

import labsim
from labsim.hydra_app import scenario_names

pytestmark = pytest.mark.slow  # a run of every shipped scenario


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_composes_and_runs_a_few_weeks(name, tmp_path):
    """scenario=NAME composes, validates, runs briefly and writes all outputs."""
    cfg = labsim.compose([f"scenario={name}", "horizon_weeks=4", "warmup_weeks=1", "scale=0.05"])
    res = labsim.run(cfg)
    res.write(tmp_path, "<html></html>")
    for f in ("timeseries.parquet", "workers.parquet", "kpis.json", "report.html"):
        assert (tmp_path / f).is_file()
    assert json.loads((tmp_path / "kpis.json").read_text())["overall"]["tasks_posted"] > 0


def test_timeseries_has_one_row_per_week_region_type_channel(small_results):
    """The timeseries is tidy: keys are unique and every regional cell of every week is present."""
    ts = small_results.timeseries
    keys = ["week", "region", "task_type", "channel"]
    assert ts.select(keys).is_unique().all()
    regional = ts.filter(pl.col("region") != "ALL")
    n_weeks = regional["week"].n_unique()
    assert regional.height == n_weeks * 7 * 5 * 2
    for col in ("active_workers", "joins", "exits_low_pay", "exits_other", "paid_hours",
                "unpaid_hours", "earnings_usd", "effective_wage_usd_h", "share_below_local_min_wage",
                "tasks_done_human", "tasks_rejected", "mean_piece_rate_usd", "requester_spend_usd",
                "platform_fees_usd", "tasks_posted", "tasks_expired", "backlog", "exits_burnout",
                "high_stress_share", "night_hours"):
        assert col in ts.columns


def test_workers_table_has_one_row_per_worker(small_results):
    """workers.parquet: unique ids, known regions and channels, exits with a reason."""
    w = small_results.workers
    assert w["worker_id"].is_unique().all()
    for col in ("peak_stress", "hours_toxic", "certified", "reputation", "night_hours", "stress"):
        assert col in w.columns
    assert (w["peak_stress"] >= w["stress"] - 1e-12).all()
    assert w["reputation"].is_between(0, 1).all()
    assert set(w["channel"].unique()) <= {"crowd", "vendor"}
    left = w.filter(pl.col("left_h").is_not_null())
    assert left["exit_reason"].is_in(["low_pay", "burnout", "other"]).all()
    assert w.filter(pl.col("left_h").is_null())["exit_reason"].is_null().all()


def test_kpis_cover_overall_and_every_region(small_results):
    """kpis.json has the headline KPIs overall and for every region."""
    k = small_results.kpis
    needed = {"effective_wage_mean_usd_h", "effective_wage_median_usd_h", "paid_wage_mean_usd_h",
              "unpaid_min_per_paid_hour", "share_below_local_min_wage", "hours_per_week_mean",
              "annual_turnover_rate", "requester_spend_usd", "worker_pay_usd", "platform_fees_usd",
              "worker_half_life_months", "night_hours_share", "moderator_high_stress_share",
              "burnout_exits_per_1000_moderator_years"}
    assert needed | {"tasks_posted", "tasks_done", "tasks_expired"} <= set(k["overall"])
    assert set(k["by_region"]) == {"USA", "FRA", "IND", "PHL", "VEN", "KEN", "MDG"}
    for region, values in k["by_region"].items():
        assert needed <= set(values), region


def test_report_is_self_contained(tmp_path, small_results):
    """report.html embeds plotly.js and references no external script or stylesheet."""
    import re

    from labsim.report import run_report

    html = run_report(small_results)
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000


def test_the_run_report_says_where_the_work_is_done(small_results):
    """The table by region and channel gives each one's share of the tasks people did (they add up to
    100 % over the regions, and over the channels)."""
    from labsim.report import run_report

    html = run_report(small_results)
    assert "share of tasks done" in html
    by_region = [v["human_work_share"] for v in small_results.kpis["by_region"].values()]
    by_channel = [v["human_work_share"] for v in small_results.kpis["by_channel"].values()]
    assert sum(by_region) == pytest.approx(1.0) and sum(by_channel) == pytest.approx(1.0)
