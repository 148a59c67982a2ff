"""Side-by-side performance of labsim and the references it must keep up with.

    python benchmarks/run.py            # quick sizes (a minute or two)
    python benchmarks/run.py --full     # the sizes of the performance issue

Each case runs in its own child process (same interpreter), so that its peak
memory is its own; throughput and ratios are computed in this one run, so
they compare like with like on whatever machine runs it. Results are
appended to benchmarks/results.csv with the date, commit and machine.

Cases, all on the same M/M/c queue where it applies (c servers, arrival rate
lam, service rate mu, exponential times, FIFO):
  bare_simpy    a SimPy loop of timeouts: the ceiling for any SimPy model
  naive_mmc     SimPy with one process per task and a Resource of c servers
  ciw_mmc       Ciw on the same queue
  labsim_mmc    labsim's scenario=mmc on the same parameters
  labsim_baseline_s1, labsim_baseline_s10   one simulated year of the baseline market
With --full, also a 2-scenario x 4-seed multirun, one job after another and
then in parallel with Hydra's joblib launcher.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from labsim.model.units import HOURS_PER_WEEK  # noqa: E402

HERE = Path(__file__).resolve().parent


# --- the cases, each run in a child process -------------------------------------------

def _events(env) -> int:
    """Events scheduled so far (SimPy numbers them with a counter)."""
    return next(env._eid)


def case_bare_simpy(n: int) -> dict:
    import simpy

    env = simpy.Environment()

    def ticker(env):
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(ticker(env))
    t = time.perf_counter()
    env.run()
    return {"seconds": time.perf_counter() - t, "events": n, "tasks": 0}


def case_naive_mmc(servers: int, lam: float, mu: float, tasks: int) -> dict:
    import numpy as np
    import simpy

    rng = np.random.default_rng(0)
    env = simpy.Environment()
    staff = simpy.Resource(env, capacity=servers)
    waits = []

    def task(env, service):
        arrived = env.now
        with staff.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(service)

    def source(env):
        for gap, service in zip(rng.exponential(1 / lam, tasks), rng.exponential(1 / mu, tasks)):
            yield env.timeout(gap)
            env.process(task(env, service))

    env.process(source(env))
    t = time.perf_counter()
    env.run()
    return {"seconds": time.perf_counter() - t, "events": _events(env), "tasks": tasks,
            "mean_wait_h": float(np.mean(waits))}


def case_ciw_mmc(servers: int, lam: float, mu: float, tasks: int) -> dict:
    import ciw

    ciw.seed(0)
    network = ciw.create_network(arrival_distributions=[ciw.dists.Exponential(lam)],
                                 service_distributions=[ciw.dists.Exponential(mu)],
                                 number_of_servers=[servers])
    sim = ciw.Simulation(network)
    horizon = tasks / lam
    t = time.perf_counter()
    sim.simulate_until_max_time(horizon)
    seconds = time.perf_counter() - t
    recs = sim.get_all_records()
    return {"seconds": seconds, "events": 0, "tasks": len(recs),
            "mean_wait_h": sum(r.waiting_time for r in recs) / max(len(recs), 1)}


def case_labsim(overrides: list[str]) -> dict:
    import labsim
    from labsim.model.market import Market
    from labsim.model.queueing import QueueModel
    from labsim.model.rng import Streams

    cfg = labsim.compose(overrides)
    model = (QueueModel if cfg.mode == "mmc" else Market)(cfg, Streams(cfg.seed))
    t = time.perf_counter()
    rec = model.run()
    seconds = time.perf_counter() - t
    led = rec.ledger
    out = {"seconds": seconds, "events": _events(model.engine.env),
           "tasks": led["tasks_done_human"] + led["tasks_automated"],
           "workers": int(model.pool.n)}
    out.update({k: v for k, v in rec.extra.items() if k == "mean_wait_h"})
    return out


def _child(name: str, args: list) -> dict:
    fn = globals()[f"case_{name}"]
    result = fn(*args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


# --- the parent -----------------------------------------------------------------------

def run_case(name: str, *args) -> dict:
    code = ("import json, sys; sys.path.insert(0, %r); import run; "
            "print(json.dumps(run._child(%r, %r)))" % (str(HERE), name, list(args)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def multirun_speedup(weeks: int = 26, scale: float = 0.5) -> dict:
    """Wall time of a 2-scenario x 4-seed multirun: jobs one after another, then on all cores."""
    import tempfile

    args = ["-m", "scenario=baseline,automation_shock", "seed=0,1,2,3", f"horizon_weeks={weeks}",
            "warmup_weeks=4", f"scale={scale}", "output.progress=false", "output.report=false"]
    times = {}
    for launcher in ("basic", "joblib"):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "labsim", *args, f"hydra/launcher={launcher}"],
                           cwd=tmp, check=True, capture_output=True)
            times[launcher] = time.perf_counter() - t
    return {"sequential_s": times["basic"], "parallel_s": times["joblib"],
            "speedup": times["basic"] / times["joblib"]}


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=HERE).stdout.strip()
    except OSError:
        return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="the sizes of the performance issue (slower)")
    ap.add_argument("--out", default=str(HERE / "results.csv"))
    a = ap.parse_args()
    c, lam, mu = 10, 9.0, 1.0
    tasks = 1_000_000 if a.full else 200_000
    weeks = 52
    mmc_weeks = tasks / lam / HOURS_PER_WEEK
    cases = [
        ("bare_simpy", "bare_simpy", [tasks * 3]),
        ("naive_mmc", "naive_mmc", [c, lam, mu, tasks]),
        ("ciw_mmc", "ciw_mmc", [c, lam, mu, tasks]),
        ("labsim_mmc", "labsim", [["scenario=mmc", f"mmc.servers={c}", f"mmc.arrival_rate_per_h={lam}",
                                   f"mmc.service_rate_per_h={mu}", f"horizon_weeks={mmc_weeks:.3f}",
                                   "warmup_weeks=1"]]),
        ("labsim_baseline_s1", "labsim", [[f"horizon_weeks={weeks}", "warmup_weeks=4", "scale=1"]]),
    ]
    if a.full:
        cases.append(("labsim_baseline_s10", "labsim", [[f"horizon_weeks={weeks}", "warmup_weeks=4",
                                                         "scale=10"]]))
    rows = []
    for label, name, args in cases:
        print(f"running {label} ...", file=sys.stderr, flush=True)
        r = run_case(name, *args)
        r.update(case=label, tasks_per_s=r["tasks"] / r["seconds"] if r["tasks"] else None,
                 events_per_s=r["events"] / r["seconds"] if r["events"] else None)
        rows.append(r)
    by = {r["case"]: r for r in rows}
    ratios = {
        "labsim_mmc_events_over_bare": by["labsim_mmc"]["events_per_s"] / by["bare_simpy"]["events_per_s"],
        "labsim_baseline_tasks_over_naive": by["labsim_baseline_s1"]["tasks_per_s"] / by["naive_mmc"]["tasks_per_s"],
        "labsim_mmc_tasks_over_ciw": by["labsim_mmc"]["tasks_per_s"] / by["ciw_mmc"]["tasks_per_s"],
    }
    print(f"{'case':22} {'seconds':>8} {'tasks/s':>12} {'events/s':>12} {'peak MB':>8}")
    for r in rows:
        tps = f"{r['tasks_per_s']:,.0f}" if r["tasks_per_s"] else "-"
        eps = f"{r['events_per_s']:,.0f}" if r["events_per_s"] else "-"
        print(f"{r['case']:22} {r['seconds']:8.2f} {tps:>12} {eps:>12} {r['peak_rss_mb']:8.0f}")
    if a.full:
        print("running the 2-scenario x 4-seed multirun, sequential then joblib ...", file=sys.stderr)
        mr = multirun_speedup()
        ratios["multirun_parallel_over_sequential_time"] = mr["parallel_s"] / mr["sequential_s"]
        print(f"multirun: {mr['sequential_s']:.1f} s one after another, {mr['parallel_s']:.1f} s on "
              f"{os.cpu_count()} cores (speed-up {mr['speedup']:.2f})")
    for k, v in ratios.items():
        print(f"{k:40} {v:8.2f}")
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    machine = f"{platform.machine()} x{os.cpu_count()}"
    new = not Path(a.out).exists()
    with open(a.out, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["when", "commit", "machine", "case", "seconds", "tasks_per_s", "events_per_s",
                        "peak_rss_mb", "ratio"])
        for r in rows:
            w.writerow([stamp, _commit(), machine, r["case"], round(r["seconds"], 3),
                        r["tasks_per_s"] and round(r["tasks_per_s"]),
                        r["events_per_s"] and round(r["events_per_s"]), round(r["peak_rss_mb"]), ""])
        for k, v in ratios.items():
            w.writerow([stamp, _commit(), machine, k, "", "", "", "", round(v, 3)])


if __name__ == "__main__":
    main()
