"""scale=k multiplies population and demand together: per-worker and per-task figures do not change.

The smallest scale at which they agree with scale 1 is 0.1 (docs/model.md, 7.13): the classroom and
the policy tests run at or above it.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import labsim
from tests.conftest import small_config

pytestmark = pytest.mark.slow  # runs at several scales

SMALLEST = 0.1
SEEDS = (0, 1, 2)
KPIS = ["effective_wage_mean_usd_h", "effective_wage_median_usd_h", "paid_wage_mean_usd_h",
        "unpaid_min_per_paid_hour", "hours_per_week_mean", "share_below_local_min_wage",
        "moderator_high_stress_share", "night_hours_share", "platform_commission_share",
        "requester_cost_per_task_usd", "automation_share"]


def _kpis(run: tuple[float, int]) -> dict:
    scale, seed = run
    res = labsim.run(small_config(f"scale={scale}", f"seed={seed}", "horizon_weeks=26", "warmup_weeks=4"))
    return res.kpis["overall"]


def test_per_worker_and_per_task_kpis_agree_between_the_smallest_scale_and_scale_1():
    """Over paired seeds, each KPI's mean at scale 0.1 is within 5 % plus three standard errors
    (of the paired difference) of its mean at scale 1, while the population is ten times smaller."""
    runs = [(scale, seed) for scale in (SMALLEST, 1.0) for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        small, full = np.array(list(pool.map(_kpis, runs)), dtype=object).reshape(2, len(SEEDS))
    workers = [np.mean([k["workers_counted"] for k in ks]) for ks in (small, full)]
    assert workers[1] == pytest.approx(workers[0] / SMALLEST, rel=0.05)
    for name in KPIS:
        a = np.array([k[name] for k in small])
        b = np.array([k[name] for k in full])
        se = (a - b).std(ddof=1) / np.sqrt(a.size)
        assert abs(a.mean() - b.mean()) <= 0.05 * abs(b.mean()) + 3 * se, (name, a.mean(), b.mean(), se)
