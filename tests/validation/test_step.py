"""The cohort step is a numerical choice: one- and two-hour steps agree."""

import numpy as np
import pytest

import labsim
from tests.conftest import small_config

pytestmark = pytest.mark.slow  # runs at several step lengths

KPIS = ["effective_wage_mean_usd_h", "paid_wage_mean_usd_h", "unpaid_min_per_paid_hour",
        "hours_per_week_mean", "worker_pay_usd", "tasks_done"]
SEEDS = range(6)


def test_one_and_two_hour_steps_give_the_same_market():
    """Headline KPIs with step_h=1 and step_h=2 differ by at most 3 % plus three standard
    errors of the difference (the runs diverge, so their seeds are not paired)."""
    def kpis(step):
        runs = [labsim.run(small_config(f"step_h={step}", f"seed={s}", "scale=0.1", "horizon_weeks=10"))
                for s in SEEDS]
        return {k: np.array([r.kpis["overall"][k] for r in runs]) for k in KPIS}

    one, two = kpis(1), kpis(2)
    for k in KPIS:
        diff = abs(two[k].mean() - one[k].mean())
        se = np.sqrt(one[k].var(ddof=1) / one[k].size + two[k].var(ddof=1) / two[k].size)
        assert diff <= 0.03 * abs(one[k].mean()) + 3 * se, (k, one[k].mean(), two[k].mean(), se)
