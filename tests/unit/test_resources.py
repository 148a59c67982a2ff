"""The resource estimate made before a run (labsim.resources): what cannot fit in memory is
refused with one line naming the setting, long runs are announced, the estimate grows with the
run, and it neither underestimates a real run's peak memory nor exaggerates it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import labsim
from labsim import resources
from labsim.errors import ConfigError
from labsim.resources import available_memory, check, estimate, sizes

GIB = 2**30
MACHINE = 24 * GIB


@pytest.fixture
def compose(monkeypatch):
    """labsim.compose without the check against this machine's memory that validation makes:
    these tests say how much memory there is."""
    def build(overrides: list[str]):
        with monkeypatch.context() as m:
            m.setattr(resources, "check", lambda cfg, available_bytes=None: [])
            return labsim.compose(overrides)
    return build


def _refusal(cfg, available: int = MACHINE) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        check(cfg, available_bytes=available)
    return caught.value


def test_the_baseline_fits_and_gets_no_warning(compose):
    cfg = compose([])
    assert check(cfg, available_bytes=MACHINE) == []
    est = estimate(cfg)
    assert 100 * 2**20 < est.memory_bytes < GIB and 1 < est.seconds < 600
    assert "workers" in est.drivers
    assert available_memory() > 0


@pytest.mark.parametrize("overrides, keys", [
    (["scale=100", "horizon_weeks=5200"], ("scale", "horizon_weeks")),
    (["regions.KEN.initial_crowd_workers=10000000"], ("regions.KEN.initial_crowd_workers",)),
    (["regions.KEN.potential_arrivals_per_week=1e7"], ("regions.KEN.potential_arrivals_per_week",)),
    (["scenario=mmc", "mmc.servers=1", "mmc.arrival_rate_per_h=1e6", "horizon_weeks=5200"],
     ("mmc.arrival_rate_per_h",)),
])
def test_a_run_that_cannot_fit_in_memory_is_refused_in_one_line_naming_the_key(compose, overrides, keys):
    err = _refusal(compose(overrides))
    message = str(err)
    assert err.key in keys, message
    assert "\n" not in message and message.startswith(f"{err.key}=")
    assert "GiB" in message and "lower" in message and "labsim:" not in message


def test_little_memory_refuses_even_the_baseline(compose):
    err = _refusal(compose([]), available=100 * 2**20)
    assert err.key == "scale" and "\n" not in str(err)


def test_the_estimate_grows_with_scale_and_horizon(compose):
    by_scale = [estimate(compose([f"scale={s}"])) for s in (0.1, 1, 10, 100)]
    by_horizon = [estimate(compose([f"horizon_weeks={h}"])) for h in (26, 156, 1040, 5200)]
    for series in (by_scale, by_horizon):
        assert all(a.memory_bytes < b.memory_bytes and a.seconds < b.seconds for a, b in zip(series, series[1:]))


def test_a_long_run_gets_one_warning_line(compose):
    warnings = check(compose(["scale=10", "horizon_weeks=1040"]), available_bytes=MACHINE)
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("the run will take about ") and "scale=10, horizon_weeks=1040" in warnings[0]
    assert not warnings[0].startswith("labsim")


def test_the_worker_table_is_counted_as_the_market_reserves_it(compose):
    from labsim.model.market import Market
    from labsim.model.rng import Streams

    cfg = compose(["scale=0.1", "horizon_weeks=26"])
    pool = Market(cfg, Streams(0)).pool
    reserved = sum(a.nbytes for a in vars(pool).values() if hasattr(a, "nbytes"))
    assert reserved <= sizes(cfg).pool_bytes <= 1.1 * reserved


def test_the_estimate_is_cheap_and_loads_neither_hydra_nor_plotly():
    code = ("import json, sys, time; from labsim.config import LabsimConfig; from labsim.resources import estimate; "
            "cfg = LabsimConfig(); t = time.perf_counter(); [estimate(cfg) for _ in range(100)]; "
            "print(json.dumps({'seconds': (time.perf_counter() - t) / 100, 'loaded': sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('hydra', 'omegaconf', 'plotly'))}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert out["loaded"] == [] and out["seconds"] < 0.01


@pytest.mark.slow  # runs in a process of its own, measured
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM from /proc")
def test_the_estimate_is_at_least_a_real_runs_peak_memory_and_not_four_times_it(compose):
    overrides = ["scale=0.1", "horizon_weeks=26"]
    # The child reports its own peak (VmHWM): its ru_maxrss, as RUSAGE_CHILDREN or wait4 give
    # it, starts on Linux from this process's peak at the fork, which a test session inflates.
    code = (f"import labsim; labsim.run(labsim.compose({overrides!r})); "
            "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    peak = int(out.split()[-1]) * 1024
    assert peak <= estimate(compose(overrides)).memory_bytes <= 4 * peak


def test_runs_at_once_are_capped_by_cores_and_by_memory_with_one_line_saying_so():
    from labsim.errors import ConfigError
    from labsim.resources import estimate, parallel_slots

    cfg = labsim.compose(["scale=0.1", "horizon_weeks=26"])
    each = estimate(cfg).memory_bytes
    # Memory for two at once (80 % of 3 x each), eight cores: two, and the warning says why.
    slots, warning = parallel_slots(4, 10, cfg, "hydra.launcher.n_jobs", available_bytes=int(3 * each), n_cores=8)
    assert slots == 2
    assert warning.startswith("hydra.launcher.n_jobs=4: 2 at once (this machine has memory for 2 runs")
    assert "\n" not in warning
    # Cores bind: 100 asked on 2 cores, plenty of memory.
    slots, warning = parallel_slots(100, 10, cfg, "--jobs", available_bytes=int(1000 * each), n_cores=2)
    assert (slots, warning) == (2, "--jobs=100: 2 at once (this machine has 2 cores)")
    # Never more than the jobs there are, and no warning when that is all that limits.
    assert parallel_slots(8, 3, cfg, "--jobs", available_bytes=int(1000 * each), n_cores=8) == (3, None)
    # Not even one run fits: refused, naming the setting that makes the run large.
    with pytest.raises(ConfigError) as exc:
        parallel_slots(2, 2, cfg, "--jobs", available_bytes=int(each // 4), n_cores=8)
    assert "\n" not in str(exc.value)
