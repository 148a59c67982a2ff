"""Automation and price formation move the market the expected way."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import polars as pl
import pytest

import labsim
from labsim.model.store import BatchStore
from labsim.model.market import Market
from labsim.model.rng import Streams
from tests.conftest import small_config

pytestmark = pytest.mark.slow  # year-long market runs

BASE = ("scale=0.1", "horizon_weeks=80", "warmup_weeks=4")


# Machines deaf to people's cost (routing.automation_elasticity=0): these tests follow what learning does;
# how machines answer to people's cost week by week is tests/validation/test_machines_answer_to_cost.py's.
SHOCK = ("scenario=automation_shock", "routing.automation_elasticity=0")


@pytest.fixture(scope="module")
def shock():
    return labsim.run(small_config(*BASE, *SHOCK))


def _weekly(ts, task_type, col, region_all=False):
    rows = ts.filter((pl.col("task_type") == task_type)
                     & ((pl.col("region") == "ALL") if region_all else (pl.col("region") != "ALL")))
    return rows.group_by("week").agg(pl.col(col).sum()).sort("week")[col].to_numpy()


def test_automation_share_rises_under_the_shock(shock):
    """As models learn, the automated share of image annotation grows week after week, below its ceiling."""
    ts = shock.timeseries.filter((pl.col("region") == "ALL") & (pl.col("task_type") == "image_annotation")
                                 & (pl.col("channel") == "crowd")).sort("week")
    share = ts["automation_share"].to_numpy()
    assert np.all(np.diff(share) >= -1e-12) and share[-1] > share[0] + 0.2
    assert share.max() <= 0.9


def test_human_annotation_falls_while_evaluation_demand_rises(shock):
    """With automation on, human hours in image annotation fall over time, and below the same
    world without automation (same seed); safety evaluation demand rises."""
    hours = _weekly(shock.timeseries, "image_annotation", "paid_hours")
    posted = _weekly(shock.timeseries, "safety_evaluation", "tasks_posted", region_all=True)
    manual = labsim.run(small_config(*BASE, *SHOCK, "automation.enabled=false"))
    manual_hours = _weekly(manual.timeseries, "image_annotation", "paid_hours")
    assert hours[-16:].mean() < 0.9 * hours[4:20].mean()
    assert hours[-16:].mean() < 0.9 * manual_hours[-16:].mean()
    assert posted[-16:].mean() > 1.2 * posted[4:20].mean()


def test_piece_rates_never_fall_below_the_floor():
    """With a floor above the market rate, every open crowd batch pays at least the floor."""
    cfg = small_config("scale=0.05", "horizon_weeks=12", "task_types.text_classification.piece_rate_floor_usd=0.07")
    m = Market(cfg, Streams(1))
    m.run()
    st = m.store
    text = m.types.names.index("text_classification")
    crowd_text = (m.books.is_crowd & (m.books.type == text))[st.ints[BatchStore.BOOK]]
    assert crowd_text.any()
    assert st.ints[BatchStore.RATE][crowd_text].min() >= 70_000
    res = labsim.run(cfg)
    paid = res.timeseries.filter((pl.col("task_type") == "text_classification") & (pl.col("channel") == "crowd")
                                 & pl.col("mean_piece_rate_usd").is_not_null())
    assert paid["mean_piece_rate_usd"].min() >= 0.07 - 1e-9


def _final_rates(run: tuple[int, tuple[str, ...]]) -> float:
    """Mean posted crowd piece rate of annotation and classification in the last year's final quarter."""
    seed, extra = run
    ts = labsim.run(small_config("scale=0.1", "horizon_weeks=104", "warmup_weeks=4",
                                 f"seed={seed}", *extra)).timeseries
    rows = ts.filter((pl.col("region") == "ALL") & (pl.col("channel") == "crowd")
                     & pl.col("task_type").is_in(["image_annotation", "text_classification"])
                     & (pl.col("week") >= 92))
    return float(rows["mean_posted_rate_usd"].mean())


def test_a_new_low_wage_region_pulls_piece_rates_down():
    """When Bangladesh enters, mean piece rates of annotation and classification end lower
    than in the baseline, over paired seeds."""
    runs = [(seed, extra) for extra in ((), ("scenario=new_region_entry",)) for seed in (0, 1, 2)]
    with ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        rates = np.array(list(pool.map(_final_rates, runs))).reshape(2, 3)
    base, entry = rates
    assert np.all(entry < base)


def test_requesters_route_work_away_from_the_dearer_channel():
    """Channel choice against the baseline's costs (the stored steady state's): making the crowd dear for
    text classification (a piece-rate floor of 50 cents, about 8 times its rate) moves its work to vendors,
    the model and LLM labels; making vendors dear (their margin doubled from 5.25 to 10.5, a bill 1.8 times
    the baseline's) moves work from them to the others. Shares of the type's tasks over weeks 9-20."""
    def shares(*extra):
        o = labsim.run(small_config("horizon_weeks=20", "warmup_weeks=8", *extra)).kpis["overall"]
        return {c: o[f"{c}_share_by_type"]["text_classification"] for c in ("crowd", "vendor", "model", "llm")}

    base = shares()
    dear = shares("task_types.text_classification.piece_rate_floor_usd=0.5")
    dear_vendors = shares("vendor.margin=10.5")
    assert dear["crowd"] < base["crowd"] - 0.2
    assert all(dear[c] > base[c] for c in ("vendor", "model", "llm")), (base, dear)
    assert dear_vendors["vendor"] < 0.5 * base["vendor"]
    assert all(dear_vendors[c] > base[c] for c in ("crowd", "model", "llm")), (base, dear_vendors)


def test_every_channel_does_a_real_share_of_some_task_type(small_results):
    """In the baseline the crowd, vendors, in-house models and LLM labels each take at least 5 % of some
    task type's tasks (vendors most moderation, models and LLMs a tenth of text classification each), and
    every type's shares add up to 1."""
    o = small_results.kpis["overall"]
    shares = {c: o[f"{c}_share_by_type"] for c in ("crowd", "vendor", "model", "llm")}
    for channel, by_type in shares.items():
        assert max(by_type.values()) >= 0.05, (channel, by_type)
    for t in shares["crowd"]:
        assert sum(shares[c][t] for c in shares) == pytest.approx(1.0, abs=1e-9)
