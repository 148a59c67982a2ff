"""scale=k multiplies population and demand together: per-worker figures do not change."""

import numpy as np
import pytest

import labsim
from tests.conftest import small_config

KPIS = ["effective_wage_mean_usd_h", "paid_wage_mean_usd_h", "unpaid_min_per_paid_hour",
        "hours_per_week_mean", "share_below_local_min_wage"]


@pytest.mark.slow
def test_per_worker_kpis_agree_across_scales():
    """Per-worker KPIs at scale 0.1 and 0.3 differ by at most 5 % plus three standard errors,
    while the population triples."""
    def runs(scale, seeds):
        return [labsim.run(small_config(f"scale={scale}", f"seed={s}", "horizon_weeks=16", "warmup_weeks=4"))
                for s in seeds]

    small, large = runs(0.1, range(6)), runs(0.3, range(3))
    workers = [np.mean([r.kpis["overall"]["workers_counted"] for r in rs]) for rs in (small, large)]
    assert workers[1] == pytest.approx(3 * workers[0], rel=0.1)
    for k in KPIS:
        a = np.array([r.kpis["overall"][k] for r in small])
        b = np.array([r.kpis["overall"][k] for r in large])
        se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) <= 0.05 * abs(a.mean()) + 3 * se, (k, a.mean(), b.mean(), se)
