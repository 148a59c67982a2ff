"""Measure runs of several sizes and fit the coefficients of labsim/resources.py.

    python benchmarks/resources_fit.py --out m.jsonl   # every case (about 12 minutes on 2 cores)
    python benchmarks/resources_fit.py --quick         # the small ones only (20 seconds)
    python benchmarks/resources_fit.py --cases s1_h26,mmc
    python benchmarks/resources_fit.py --refit m.jsonl # fit again, running nothing

Each case runs ``labsim.run`` in its own child process (same interpreter),
which reports its own peak RSS (VmHWM of /proc/self/status: compose, imports
and the run; not ru_maxrss, which on Linux starts from the parent's peak at
the fork) and the wall time of ``labsim.run`` alone. The counts each case is fitted
on (``labsim.resources.sizes``) are what the estimate computes; memory and
time are fitted on them by least squares with non-negative coefficients. The
script prints the measurements beside the fit, and the coefficients as the
lines to paste into labsim/resources.py (memory before its margin). If the
printed PRESSURE_BASELINE differs from the module's (the default tables
changed), paste it first and fit again with --refit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
from scipy.optimize import nnls

BATCHES = {"image_annotation": 2300, "text_classification": 3175, "content_moderation": 3400,
           "rlhf_preference": 1500, "safety_evaluation": 1000}  # conf/task_types/default.yaml

# name -> overrides. The grid of scale x horizon, then cases that each stretch one count.
CASES: dict[str, list[str]] = {
    **{f"s{s:g}_h{h}": [f"scale={s}", f"horizon_weeks={h}"] for s in (0.1, 0.5, 1, 2) for h in (26, 52, 104)},
    "s5_h26": ["scale=5", "horizon_weeks=26"],
    "s10_h13": ["scale=10", "horizon_weeks=13", "warmup_weeks=4"],
    "s0.05_h1040": ["scale=0.05", "horizon_weeks=1040"],  # weekly records and window totals
    "s0.02_h2080": ["scale=0.02", "horizon_weeks=2080"],
    "batches_x20": ["scale=0.1", "horizon_weeks=26",
                    *[f"task_types.{t}.batches_per_week={20 * n}" for t, n in BATCHES.items()]],
    "batches_x5": ["scale=0.5", "horizon_weeks=26",
                   *[f"task_types.{t}.batches_per_week={5 * n}" for t, n in BATCHES.items()]],
    "growth_1": ["scale=0.5", "horizon_weeks=104", "demand.growth_per_year=1.0"],
    "ken_200k": ["horizon_weeks=13", "warmup_weeks=4", "regions.KEN.initial_crowd_workers=200000"],
    "mmc": ["scenario=mmc"],
    "mmc_busy": ["scenario=mmc", "horizon_weeks=26", "mmc.servers=500", "mmc.arrival_rate_per_h=400"],
    "mmc_idle": ["scenario=mmc", "horizon_weeks=26", "mmc.servers=200", "mmc.arrival_rate_per_h=20"],
    "mmc_overloaded": ["scenario=mmc", "horizon_weeks=26", "mmc.servers=1", "mmc.arrival_rate_per_h=200"],
}
QUICK = ("s0.1_h26", "s0.5_h26", "s0.1_h52", "mmc", "mmc_overloaded")

MEMORY = ("MEMORY_BASE", "MEMORY_PER_POOL_BYTE", "MEMORY_PER_CELL", "MEMORY_PER_OPEN_BATCH", "MEMORY_PER_QUEUED_TASK")
TIME = ("SECONDS_BASE", "SECONDS_PER_STEP", "SECONDS_PER_WORKER_STEP", "SECONDS_PER_BACKLOG_STEP",
        "SECONDS_PER_TASK", "SECONDS_PER_WAKEUP")


def peak_rss() -> int:
    """This process's peak resident memory in bytes (its own: VmHWM where /proc has it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(overrides: list[str]) -> dict:
    """In the child: compose, run, and report the run's time and size, and the peak memory."""
    import labsim

    cfg = labsim.compose(overrides)
    t = time.perf_counter()
    results = labsim.run(cfg)
    return {"seconds": time.perf_counter() - t, "workers": results.workers.height,
            "timeseries_rows": results.timeseries.height, "peak_rss": peak_rss()}


def measure(overrides: list[str]) -> dict:
    """Run one case in a child process and return what it reports."""
    code = (f"import json, sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import resources_fit as f; print(json.dumps(f.child({overrides!r})))")
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def features(overrides: list[str]) -> tuple[list[float], list[float], dict]:
    """The memory and time regressors of a case, from labsim.resources.sizes."""
    import labsim
    from labsim.resources import excess, sizes

    s = sizes(labsim.compose(overrides))
    return ([1.0, s.pool_bytes, s.cells, s.open_batches, s.queued],
            [1.0, s.steps, s.steps * s.present, s.steps * s.open_batches * excess(s),
             s.tasks, s.wakeups], s.__dict__)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the small cases only")
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--out", help="also write the measurements here (JSON lines)")
    ap.add_argument("--refit", nargs="+", metavar="FILE", help="fit measurements written by --out, running nothing")
    a = ap.parse_args()
    if a.refit:
        rows = [json.loads(line) for path in a.refit for line in open(path, encoding="utf-8") if line.strip()]
        rows = list({r["case"]: r for r in rows}.values())  # the last measurement of each case
    else:
        rows = []
        for name in a.cases.split(",") if a.cases else list(QUICK if a.quick else CASES):
            print(f"running {name} ...", file=sys.stderr, flush=True)
            rows.append({"case": name, "overrides": CASES[name], **measure(CASES[name])})
            if a.out:
                with open(a.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(rows[-1]) + "\n")
    for r in rows:  # the counts as labsim.resources computes them now
        r["mem_x"], r["time_x"], _ = features(r.get("overrides") or CASES[r["case"]])
    mem_x, time_x = np.array([r["mem_x"] for r in rows]), np.array([r["time_x"] for r in rows])
    peak, secs = np.array([r["peak_rss"] for r in rows], float), np.array([r["seconds"] for r in rows])
    # Memory: absolute least squares (large runs matter most). Time: relative (an order of magnitude
    # at every size), each row divided by its measurement.
    mem_c, _ = nnls(mem_x, peak)
    time_c, _ = nnls(time_x / secs[:, None], np.ones_like(secs))
    mem_fit, time_fit = mem_x @ mem_c, time_x @ time_c
    print(f"# {dt.date.today()}, {platform.machine()} x{os.cpu_count()}, Python {platform.python_version()}")
    print(f"{'case':<16}{'workers':>10}{'peak MiB':>10}{'fit MiB':>9}{'seconds':>9}{'fit s':>8}")
    for r, mf, tf in zip(rows, mem_fit, time_fit):
        print(f"{r['case']:<16}{r['workers']:>10,}{r['peak_rss'] / 2**20:>10.0f}{mf / 2**20:>9.0f}"
              f"{r['seconds']:>9.1f}{tf:>8.1f}")
    print(f"memory fit/measured: {np.min(mem_fit / peak):.2f}-{np.max(mem_fit / peak):.2f}; "
          f"time fit/measured: {np.min(time_fit / secs):.2f}-{np.max(time_fit / secs):.2f}")
    for name, c in (*zip(MEMORY, mem_c), *zip(TIME, time_c)):
        print(f"{name} = {c:.4g}")
    from labsim.config import LabsimConfig
    from labsim.resources import PRESSURE_BASELINE, sizes

    print(f"PRESSURE_BASELINE = {sizes(LabsimConfig()).pressure * PRESSURE_BASELINE:.4g}")


if __name__ == "__main__":
    main()
