"""Invariants of the market: money and tasks are conserved, runs are reproducible."""

import json

import numpy as np
import polars as pl
import pytest

import labsim
from labsim.model import simulate
from tests.conftest import small_config

UUSD = 1_000_000


@pytest.fixture(scope="module")
def records():
    return simulate(small_config("horizon_weeks=10"))


def test_money_is_conserved_exactly(records):
    """Requester spend on human work = worker pay + platform fees + vendors' profit and overheads,
    to the micro-dollar (compute for automated tasks is paid on top, to no one in the market)."""
    led = records.ledger
    assert led["requester_spend_uusd"] == (led["earnings_uusd"] + led["platform_fees_uusd"]
                                           + led["vendor_margin_uusd"] + led["vendor_overheads_uusd"])
    assert min(led["earnings_uusd"], led["platform_fees_uusd"], led["vendor_margin_uusd"],
               led["vendor_overheads_uusd"], led["compute_cost_uusd"]) > 0


def test_tasks_are_conserved_exactly(records):
    """Tasks posted = done by humans + automated + expired + still open."""
    led = records.ledger
    assert led["tasks_posted"] == (led["tasks_done_human"] + led["tasks_automated"]
                                   + led["tasks_expired"] + led["tasks_open"])
    assert led["tasks_expired"] > 0 and led["tasks_done_human"] > 0 and led["tasks_automated"] > 0


def test_weekly_records_add_up_to_the_ledgers(records):
    """Summed over weeks and cells, the records hold exactly what the ledgers counted."""
    c, m, led = records.cells, records.market, records.ledger

    def uusd(x):
        return int(np.rint(np.asarray(x) * UUSD).sum())

    assert uusd(c["requester_spend_usd"]) == led["requester_spend_uusd"]
    assert uusd(c["earnings_usd"]) == led["earnings_uusd"]
    assert uusd(c["platform_fees_usd"]) == led["platform_fees_uusd"]
    assert uusd(c["vendor_margin_usd"]) == led["vendor_margin_uusd"]
    assert uusd(c["vendor_overheads_usd"]) == led["vendor_overheads_uusd"]
    assert uusd(m["compute_cost_usd"]) == led["compute_cost_uusd"]
    assert int(c["tasks_done_human"].sum()) == led["tasks_done_human"]
    assert int(m["tasks_posted"].sum()) == led["tasks_posted"]
    assert int(m["tasks_automated"].sum()) == led["tasks_automated"]
    assert int(m["tasks_expired"].sum()) == led["tasks_expired"]
    last_week = m["week"] == m["week"].max()
    assert int(m["backlog"][last_week].sum()) == led["tasks_open"]


def test_every_row_balances(small_results):
    """In every week x region x task type x channel row, spend = earnings + fees + vendor profit and
    overheads."""
    ts = small_results.timeseries.filter(pl.col("region") != "ALL")
    diff = (ts["requester_spend_usd"] - ts["earnings_usd"] - ts["platform_fees_usd"]
            - ts["vendor_margin_usd"] - ts["vendor_overheads_usd"]).abs()
    assert diff.max() < 1e-6


def test_each_kpi_means_the_same_at_every_scope(small_results):
    """Spend and pay add up across regions and across channels to the overall figures, so a
    KPI means the same thing at every scope; compute is counted only in the total."""
    k = small_results.kpis
    for flow in ("requester_spend_usd", "worker_pay_usd", "platform_fees_usd", "vendor_margin_usd",
                 "vendor_overheads_usd"):
        total = k["overall"][flow]
        assert sum(v[flow] for v in k["by_region"].values()) == pytest.approx(total, rel=1e-12)
        assert sum(v[flow] for v in k["by_channel"].values()) == pytest.approx(total, rel=1e-12)
    o = k["overall"]
    assert o["worker_share_of_spend"] == pytest.approx(o["worker_pay_usd"] / o["requester_spend_usd"])
    assert o["requester_total_spend_usd"] == pytest.approx(o["requester_spend_usd"] + o["compute_cost_usd"])
    assert o["compute_cost_usd"] > 0


def test_workers_table_matches_the_window_flows(small_results):
    """Workers' earnings over the window equal the timeseries' earnings over the same weeks."""
    r = small_results
    first = int(r.kpis["overall"]["window_weeks"])
    ts = r.timeseries.filter((pl.col("region") != "ALL"))
    last_week = ts["week"].max()
    window = ts.filter(pl.col("week") > last_week - first)
    assert r.workers["earnings_usd"].sum() == pytest.approx(window["earnings_usd"].sum(), rel=1e-9)
    assert r.workers["tasks_done"].sum() == window["tasks_done_human"].sum()


def test_same_seed_same_files_different_seed_different(tmp_path):
    """Same configuration and seed give byte-identical Parquet files; another seed does not."""
    outs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        res = labsim.run(small_config(f"seed={seed}", "horizon_weeks=5"))
        res.write(tmp_path / name)
        outs.append({f: (tmp_path / name / f).read_bytes() for f in ("timeseries.parquet", "workers.parquet")})
    assert outs[0] == outs[1]
    assert outs[0]["timeseries.parquet"] != outs[2]["timeseries.parquet"]
    assert outs[0]["workers.parquet"] != outs[2]["workers.parquet"]


def test_streams_do_not_depend_on_creation_order():
    """A named stream gives the same numbers whichever streams were asked for before it."""
    from labsim.model.rng import Streams

    a, b = Streams(7), Streams(7)
    a["demand"].random(3)
    x = a["work"].random(5)
    y = b["work"].random(5)
    assert np.array_equal(x, y)
    assert not np.array_equal(Streams(8)["work"].random(5), y)


def test_keyed_draws_depend_only_on_the_seed_the_name_and_the_key():
    """A keyed stream (a week, a region, a channel) draws the same whatever was drawn before it; a
    worker's keyed uniform is the same whichever other workers are drawn with it, differs from week
    to week, and the uniforms are uniform (a Kolmogorov-Smirnov distance below its 1 % critical value)."""
    from labsim.model.rng import Streams, worker_keys

    a, b = Streams(7), Streams(7)
    a["joins"].random(9)
    a.keyed("joins", 3, 1, 0).random(4)
    assert np.array_equal(a.keyed("joins", 3, 1, 0).random(5), b.keyed("joins", 3, 1, 0).random(5))
    assert not np.array_equal(b.keyed("joins", 3, 1, 0).random(5), b.keyed("joins", 3, 2, 0).random(5))
    assert not np.array_equal(b.keyed("joins", 3, 1, 0).random(5), Streams(8).keyed("joins", 3, 1, 0).random(5))
    ids = worker_keys(5, 2, 1, 20_000)
    assert np.unique(ids).size == ids.size  # every identity distinct
    assert not np.isin(worker_keys(6, 2, 1, 100), ids).any() and not np.isin(worker_keys(5, 3, 1, 100), ids).any()
    u = a.keyed_uniforms("quits", 4, ids)
    assert np.array_equal(u[::3], b.keyed_uniforms("quits", 4, ids[::3]))  # the others do not matter
    assert not np.array_equal(u[:50], a.keyed_uniforms("quits", 5, ids[:50]))
    assert not np.array_equal(u[:50], Streams(8).keyed_uniforms("quits", 4, ids[:50]))
    assert ((0.0 <= u) & (u < 1.0)).all()
    s = np.sort(u)
    grid = np.arange(1, u.size + 1) / u.size
    ks = max(np.abs(s - grid).max(), np.abs(s - (grid - 1.0 / u.size)).max())
    assert ks < 1.63 / np.sqrt(u.size), ks


def test_worker_surplus_and_unmet_work_are_what_they_say():
    """worker_surplus_usd: earnings less every hour online at the worker's reservation wage, over
    the counted workers; the channels' add up to the overall figure. unmet_tasks: expired plus
    never posted."""
    res = labsim.run(small_config("horizon_weeks=10"))
    w = res.workers.filter(pl.col("paid_hours") > 0)
    by_hand = (w["earnings_usd"] - w["reservation_wage_usd_h"] * (w["paid_hours"] + w["unpaid_hours"])).sum()
    k = res.kpis
    assert k["overall"]["worker_surplus_usd"] == pytest.approx(by_hand, rel=1e-12)
    assert sum(k["by_channel"][c]["worker_surplus_usd"] for c in k["by_channel"]) == pytest.approx(by_hand, rel=1e-9)
    assert k["overall"]["unmet_tasks"] == k["overall"]["tasks_expired"] + k["overall"]["tasks_unposted"] > 0


def test_the_welfare_total_is_its_parts_and_a_vendors_bill_is_wage_overheads_and_profit():
    """welfare_total_usd is workers' surplus + platform fees + vendor profit - public spend, at every
    window; no requester value is in any level of kpis.json or the weekly table (what work is worth
    to its buyer is known only within the elasticity's range). A vendor's bill, what requesters
    spend on vendors, is the wage + overheads + profit, the profit profit_share of the bill."""
    from labsim.results import WELFARE_PARTS

    res = labsim.run(small_config("horizon_weeks=10", "warmup_weeks=0"))
    cfg = labsim.compose([])
    for window in res.kpis["windows"].values():
        o = window["overall"]
        assert o["welfare_total_usd"] == pytest.approx(sum(s * o[k] for k, s in WELFARE_PARTS.items()))
    assert set(WELFARE_PARTS) == {"worker_surplus_usd", "platform_fees_usd", "vendor_margin_usd", "public_spend_usd"}
    text = json.dumps(res.kpis) + " ".join(res.timeseries.columns)
    assert "requester_value" not in text and "surplus_usd\": " not in text.replace("worker_surplus_usd", "")
    v = res.kpis["by_channel"]["vendor"]
    assert v["requester_spend_usd"] > 0
    assert v["requester_spend_usd"] == pytest.approx(v["worker_pay_usd"] + v["vendor_overheads_usd"]
                                                     + v["vendor_margin_usd"], abs=1e-6)
    assert v["vendor_margin_usd"] == pytest.approx(cfg.vendor.profit_share * v["requester_spend_usd"], rel=1e-4)

