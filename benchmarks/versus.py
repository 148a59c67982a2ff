"""This checkout against an earlier commit, side by side, on the same machine in one run.

    python benchmarks/versus.py --ref 6838b72                 # one simulated year, scale 1
    python benchmarks/versus.py --ref 6838b72 --cases s1,s10  # and scale 10 (slow)
    python benchmarks/versus.py --ref 6838b72 --cases baseline  # the default run: 156 weeks at scale 1
    python benchmarks/versus.py --ref 6838b72 --this 2afffa4  # two commits, neither checked out

The earlier commit is exported (``git archive``) into a temporary folder; each
case then runs alternately under this checkout and under it, each run in a
fresh child process (same interpreter and packages), so that drift in the
machine's speed hits both alike. Only the simulation is timed (composing the
configuration is not). A naive SimPy M/M/c (one process per task) runs in
the same alternation as a yardstick of the machine's speed. The medians and
the ratio this / earlier are printed and appended to benchmarks/versus.csv.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CASES = {
    "baseline": ["output.progress=false"],
    "s1": ["horizon_weeks=52", "warmup_weeks=4", "scale=1", "output.progress=false"],
    "s10": ["horizon_weeks=52", "warmup_weeks=4", "scale=10", "output.progress=false"],
    "s01": ["horizon_weeks=52", "warmup_weeks=4", "scale=0.1", "output.progress=false"],
    "s10q": ["horizon_weeks=13", "warmup_weeks=4", "scale=10", "output.progress=false"],
}

_CHILD = """
import json, sys, time
import labsim
from labsim.model import simulate
cfg = labsim.compose(%r)
try:  # a checkout with a stored steady state starts from it, as labsim.run does
    from labsim import steady_state
    start = steady_state.load() if getattr(cfg, "start", "stylised") == "steady" else None
    go = lambda: simulate(cfg, None, start)
except ImportError:
    go = lambda: simulate(cfg)
t = time.perf_counter()
go()
print(json.dumps({"seconds": time.perf_counter() - t, "labsim": labsim.__file__}))
"""

_NAIVE = """
import json, random, time, simpy
def run(c=10, lam=9.0, mu=1.0, tasks=100_000):
    env = simpy.Environment(); servers = simpy.Resource(env, c); rng = random.Random(1)
    def task(env):
        with servers.request() as r:
            yield r
            yield env.timeout(rng.expovariate(mu))
    def source(env):
        for _ in range(tasks):
            yield env.timeout(rng.expovariate(lam)); env.process(task(env))
    env.process(source(env)); env.run()
t = time.perf_counter(); run(); print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def _run(code: str, tree: Path | None) -> float:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env, cwd=tempfile.gettempdir())
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if tree is not None:
        assert str(tree) in result["labsim"], f"ran {result['labsim']}, not {tree}"
    return result["seconds"]


def _commit(ref: str = "HEAD") -> str:
    return subprocess.run(["git", "rev-parse", "--short", ref], capture_output=True, text=True,
                          cwd=REPO, check=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True, help="the earlier commit")
    ap.add_argument("--this", default=None, help="another commit to measure instead of this checkout")
    ap.add_argument("--cases", default="s1", help=f"comma-separated, of {', '.join(CASES)}")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "versus.csv"))
    a = ap.parse_args()
    ref = _commit(a.ref)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "ref"
        old.mkdir()
        archive = subprocess.run(["git", "archive", ref], capture_output=True, check=True, cwd=REPO).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        # the earlier commit's code must find its own conf/ and scenarios/ beside its package
        new = Path(tmp) / "new"
        new.mkdir()
        if a.this:
            archive = subprocess.run(["git", "archive", _commit(a.this)], capture_output=True, check=True,
                                     cwd=REPO).stdout
            subprocess.run(["tar", "-x", "-C", str(new)], input=archive, check=True)
        else:
            for name in ("labsim", "conf", "scenarios"):
                os.symlink(REPO / name, new / name)
        for case in a.cases.split(","):
            code = _CHILD % (CASES[case],)
            times: dict[str, list[float]] = {"this": [], "ref": [], "naive_mmc": []}
            for _ in range(a.repeats):
                times["this"].append(_run(code, new))
                times["ref"].append(_run(code, old))
                times["naive_mmc"].append(_run(_NAIVE, None))
            med = {k: statistics.median(v) for k, v in times.items()}
            ratio = med["this"] / med["ref"]
            print(f"{case}: this {med['this']:.2f} s, {ref} {med['ref']:.2f} s, ratio {ratio:.3f} "
                  f"(naive SimPy M/M/c {med['naive_mmc']:.2f} s; runs {times})")
            rows.append({"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                         "commit": _commit(a.this or "HEAD"), "ref": ref, "case": case, "repeats": a.repeats,
                         "this_s": round(med["this"], 3), "ref_s": round(med["ref"], 3),
                         "ratio": round(ratio, 3), "naive_mmc_s": round(med["naive_mmc"], 3)})
    out = Path(a.out)
    new_file = not out.exists()
    with out.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new_file:
            w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
