"""How long a class waits for each lesson: "Run this lesson" as the page runs it.

    python benchmarks/classroom.py              # every lesson, once
    python benchmarks/classroom.py --repeat 3   # the median of three

Each lesson's two runs (its 'before' and its own) go through the classroom's
run cache as the page sends them (``RunCache.run_pair``: the 'before' in the
helper process, the lesson's own here, side by side on two cores), at the
classroom's scale and cohort step, with nothing cached. The target is 5 s a
lesson on a quiet 2-core machine; the script prints each lesson's wall time,
its horizon, and the time of one run of the same length alone, and appends
them to benchmarks/classroom.csv with the date, commit and machine. Run it on
a quiet machine: timings on a busy one say little.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

from labsim.classroom.controls import CLASSROOM_SCALE, CLASSROOM_STEP_H, Controls, RunCache, simulate
from labsim.classroom.lessons import load_lessons

HERE = Path(__file__).resolve().parent
TARGET_S = 5.0


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=1, help="runs of each lesson (the median is kept)")
    args = p.parse_args()
    rows = []
    for lesson in load_lessons():
        now = lesson.apply(Controls())
        before = lesson.reference(now)
        pair, alone = [], []
        for _ in range(args.repeat):
            cache = RunCache()  # nothing cached: the class's first press
            try:
                # The page starts its helper process when a lesson is chosen, before Run is pressed.
                cache._helper().submit(sum, []).result()
                t0 = time.perf_counter()
                if before is None:
                    cache.run(now)
                else:
                    cache.run_pair(before, now)
                pair.append(time.perf_counter() - t0)
            finally:
                cache.close()
            t0 = time.perf_counter()
            simulate(now)
            alone.append(time.perf_counter() - t0)
        seconds = statistics.median(pair)
        rows.append({"lesson": lesson.id, "horizon_weeks": now.horizon_weeks, "lesson_s": round(seconds, 2),
                     "one_run_s": round(statistics.median(alone), 2), "target_s": TARGET_S,
                     "within_target": seconds <= TARGET_S})
        print(f"{lesson.id:38s} {now.horizon_weeks:4d} weeks  lesson {seconds:6.2f} s  "
              f"one run {statistics.median(alone):6.2f} s  {'ok' if seconds <= TARGET_S else 'over the 5 s target'}",
              flush=True)
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    machine = f"{platform.machine()} x{os.cpu_count()}"
    out = HERE / "classroom.csv"
    new = not out.exists()
    with out.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["when", "commit", "machine", "scale", "step_h", *rows[0]])
        if new:
            w.writeheader()
        for r in rows:
            w.writerow({"when": when, "commit": _commit(), "machine": machine, "scale": CLASSROOM_SCALE,
                        "step_h": CLASSROOM_STEP_H, **r})
    print(f"appended to {out}")


if __name__ == "__main__":
    main()
