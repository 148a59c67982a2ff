"""The model reduced to an M/M/c queue reproduces Erlang C.

Waits are averaged over several seeds and long runs: at utilisation 0.9 the
mean wait of a single run converges slowly (its variance grows like
1/(1 - rho)^4), so each case pools enough served tasks for the 5 % band to be
about three standard errors wide.
"""

import numpy as np
import pytest

import labsim
from labsim.theory import mmc_mean_wait, mmc_utilization

pytestmark = pytest.mark.slow  # long M/M/c runs checked against Erlang C

CASES = [
    # servers, arrivals per hour, services per hour, weeks per seed
    pytest.param(1, 0.5, 1.0, 150, id="c=1 rho=0.5"),
    pytest.param(3, 2.1, 1.0, 200, id="c=3 rho=0.7"),
    pytest.param(5, 8.0, 2.0, 120, id="c=5 rho=0.8 mu=2"),
    pytest.param(10, 9.0, 1.0, 700, id="c=10 rho=0.9"),
]
SEEDS = (0, 1, 2)


def _mmc(c, lam, mu, weeks, seed):
    cfg = labsim.compose(["scenario=mmc", f"mmc.servers={c}", f"mmc.arrival_rate_per_h={lam}",
                          f"mmc.service_rate_per_h={mu}", f"horizon_weeks={weeks}",
                          "warmup_weeks=4", f"seed={seed}"])
    return labsim.run(cfg).kpis["overall"]


@pytest.mark.parametrize("c, lam, mu, weeks", CASES)
def test_mean_wait_matches_erlang_c(c, lam, mu, weeks):
    """Mean wait in queue is within 5 % of Erlang C; utilisation within 1 % of lambda/(c mu)."""
    runs = [_mmc(c, lam, mu, weeks, seed) for seed in SEEDS]
    wait = np.mean([r["mean_wait_h"] for r in runs])
    util = np.mean([r["utilization"] for r in runs])
    assert wait == pytest.approx(mmc_mean_wait(c, lam, mu), rel=0.05)
    assert util == pytest.approx(mmc_utilization(c, lam, mu), rel=0.01)


def test_mmc_conserves_tasks_and_money():
    """In queue mode too, tasks posted = done + still waiting, and spend = pay + fees."""
    r = labsim.run(labsim.compose(["scenario=mmc", "horizon_weeks=6", "warmup_weeks=1"]))
    ts = r.timeseries
    posted = ts["tasks_posted"].sum()
    done = ts["tasks_done_human"].sum()
    last = ts.filter(ts["week"] == ts["week"].max())["backlog"].sum()
    assert posted == done + last
    o = r.kpis["overall"]
    assert o["requester_spend_usd"] == pytest.approx(o["worker_pay_usd"] + o["platform_fees_usd"], rel=1e-12)
