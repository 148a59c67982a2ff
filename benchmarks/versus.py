"""This checkout against an earlier commit, side by side, on the same machine in one run.

    python benchmarks/versus.py --ref 20b8853                       # the default cases (below)
    python benchmarks/versus.py --ref 20b8853 --cases s1,s10        # chosen cases
    python benchmarks/versus.py --ref 6838b72 --this 2afffa4        # two commits, neither checked out

The earlier commit is exported (``git archive``) into a temporary folder; each
case then runs alternately under this checkout and under it, every run in a
fresh child process (same interpreter and packages), so that drift in the
machine's speed hits both alike. A naive SimPy M/M/c (one process per task)
runs in the same alternation as a yardstick of the machine's speed. Each
case gives one or more measures; the medians, their ratio (this / earlier)
and each side's peak memory (the child's VmHWM, or ``/usr/bin/time``'s
maximum resident set for a whole process) are printed and appended to
benchmarks/versus.csv with the date and the commits.

Cases and their measures:

  baseline  the 156-week baseline at scale 1: ``simulation`` (compose outside
            the timing, then ``simulate`` in a fresh process, loading the
            compiled kernel included) and ``process`` (the ``labsim`` command,
            start to exit: imports, the run, its files and report)
  particle  a calibration particle (scale 0.1, 13 + 52 weeks, 2-hour steps, as
            labsim-calibrate runs them): ``in_process``, the second run of a
            process, as a calibration's worker runs its particles one after
            another
  s1, s01   one simulated year at scale 1 or 0.1: ``simulation``
  s10       one simulated year at scale 10: ``simulation`` (its peak memory is
            the memory case of the speed issue)
  fresh     the baseline's ``process`` right after an install: no compiled
            kernel cached yet (an empty ``NUMBA_CACHE_DIR``) and no bytecode
            (an empty ``PYTHONPYCACHEPREFIX``), for both sides
  lesson    the classroom's two-year wage-floor lesson as the page runs it
            (``RunCache.run_pair``: its "before" in the page's helper process,
            its own run in the server's, both warmed up as the page warms them
            when the lesson is chosen): ``press_to_result``
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CSV_FIELDS = ["when", "commit", "ref", "case", "measure", "repeats", "this_s", "ref_s", "ratio", "naive_mmc_s",
              "this_peak_mb", "ref_peak_mb"]

YEAR = ["horizon_weeks=52", "warmup_weeks=4", "output.progress=false"]
PARTICLE = ["scale=0.1", "horizon_weeks=65", "warmup_weeks=13", "step_h=2", "output.progress=false",
            "output.report=false", "windows.yearly=false"]
CASES = {
    "baseline": ("simulation", ["output.progress=false"]),
    "baseline_process": ("process", ["output.progress=false"]),
    "particle": ("in_process", PARTICLE),
    "s1": ("simulation", [*YEAR, "scale=1"]),
    "s01": ("simulation", [*YEAR, "scale=0.1"]),
    "s10": ("simulation", [*YEAR, "scale=10"]),
    "fresh": ("fresh_process", ["output.progress=false"]),
    "lesson": ("press_to_result", []),
}
DEFAULT = "baseline,baseline_process,particle,s10,fresh,lesson"

_PEAK = ("peak = next(int(line.split()[1]) for line in open('/proc/self/status') "
         "if line.startswith('VmHWM:')) / 1024")

# A simulation: compose outside the timing; the run starts from the stored steady state where the
# checkout has one, as labsim.run does. ``warm`` runs it once before the timed run.
_SIM = """
import json, sys, time
import labsim
from labsim.model import simulate
cfg = labsim.compose(%r)
try:
    from labsim import steady_state
    start = steady_state.load() if getattr(cfg, "start", "stylised") == "steady" else None
    go = lambda: simulate(cfg, None, start)
except ImportError:
    go = lambda: simulate(cfg)
if %r:
    go()
t = time.perf_counter()
go()
seconds = time.perf_counter() - t
""" + _PEAK + """
print(json.dumps({"seconds": seconds, "peak_mb": peak, "labsim": labsim.__file__}))
"""

# The classroom page: a lesson chosen (its helper process warmed up, as the page does then; the
# server's kernel warmed up as the page does when it starts), then "Run this lesson" pressed.
_LESSON = """
import json, time
import labsim
from labsim.classroom.controls import Controls, RunCache
from labsim.classroom.lessons import load_lessons
lesson = next(x for x in load_lessons() if x.id == "who_pays_for_a_wage_floor")
now = lesson.apply(Controls())
before = lesson.reference(now)
cache = RunCache()
try:
    from labsim.api import warm_up
    warm_up()
except ImportError:
    pass
cache.warm_up()
cache._helper().submit(sum, []).result()
t = time.perf_counter()
cache.run_pair(before, now)
seconds = time.perf_counter() - t
cache.close()
""" + _PEAK + """
print(json.dumps({"seconds": seconds, "peak_mb": peak, "labsim": labsim.__file__}))
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


def _env(tree: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    env.update(extra or {})
    return env


def _child(code: str, tree: Path | None) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_env(tree), cwd=tempfile.gettempdir())
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if tree is not None:
        assert str(tree) in result["labsim"], f"ran {result['labsim']}, not {tree}"
    return result


def _process(overrides: list[str], tree: Path, fresh: bool) -> dict:
    """The ``labsim`` command as a whole process, start to exit, in a fresh output folder; with
    ``fresh``, nothing compiled yet (no numba cache, no bytecode)."""
    import time

    work = Path(tempfile.mkdtemp(prefix="versus-"))
    extra = {"NUMBA_CACHE_DIR": str(work / "numba"), "PYTHONPYCACHEPREFIX": str(work / "pyc")} if fresh else {}
    code = "import sys; from labsim.cli import main; sys.exit(main())"
    cmd = ["/usr/bin/time", "-f", "%M", sys.executable, "-c", code, *overrides, f"hydra.run.dir={work / 'run'}"]
    try:
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, env=_env(tree, extra), cwd=work)
        seconds = time.perf_counter() - t
        if out.returncode != 0:
            raise RuntimeError(f"labsim failed under {tree}: {out.stderr[-2000:]}")
        peak_mb = int(out.stderr.strip().splitlines()[-1]) / 1024
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"seconds": seconds, "peak_mb": peak_mb}


def measure(case: str, tree: Path) -> dict:
    kind, overrides = CASES[case]
    if kind in ("process", "fresh_process"):
        return _process(overrides, tree, kind == "fresh_process")
    if kind == "press_to_result":
        return _child(_LESSON, tree)
    return _child(_SIM % (overrides, kind == "in_process"), tree)


def _commit(ref: str = "HEAD") -> str:
    return subprocess.run(["git", "rev-parse", "--short", ref], capture_output=True, text=True,
                          cwd=REPO, check=True).stdout.strip()


def _export(ref: str, dest: Path) -> None:
    archive = subprocess.run(["git", "archive", ref], capture_output=True, check=True, cwd=REPO).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def append_rows(path: Path, rows: list[dict]) -> None:
    """Append ``rows`` to the CSV at ``path``, widening an older file's header to ``CSV_FIELDS``."""
    old = []
    if path.exists():
        with path.open(newline="") as f:
            old = list(csv.DictReader(f))
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for row in old:
            w.writerow({k: row.get(k, "") for k in CSV_FIELDS} | ({"measure": row.get("measure") or "simulation"}))
        w.writerows(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True, help="the earlier commit")
    ap.add_argument("--this", default=None, help="another commit to measure instead of this checkout")
    ap.add_argument("--cases", default=DEFAULT, help=f"comma-separated, of {', '.join(CASES)} (default {DEFAULT})")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "versus.csv"))
    a = ap.parse_args()
    cases = a.cases.split(",")
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case {', '.join(unknown)}: the cases are {', '.join(CASES)}")
    ref = _commit(a.ref)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "ref", Path(tmp) / "new"
        old.mkdir()
        new.mkdir()
        _export(ref, old)  # the earlier commit's code finds its own conf/ and scenarios/ beside its package
        if a.this:
            _export(_commit(a.this), new)
        else:
            for name in ("labsim", "conf", "scenarios"):
                os.symlink(REPO / name, new / name)
        for case in cases:
            runs: dict[str, list[dict]] = {"this": [], "ref": [], "naive": []}
            for i in range(a.repeats):
                runs["this"].append(measure(case, new))
                runs["ref"].append(measure(case, old))
                runs["naive"].append(_child(_NAIVE, None))
                print(f"  {case} {i + 1}/{a.repeats}: this {runs['this'][-1]['seconds']:.2f} s, "
                      f"{ref} {runs['ref'][-1]['seconds']:.2f} s", flush=True)
            med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
            peak = {k: max(r["peak_mb"] for r in runs[k]) for k in ("this", "ref")}
            ratio = med["this"] / med["ref"]
            kind = CASES[case][0]
            print(f"{case} ({kind}): this {med['this']:.2f} s, {ref} {med['ref']:.2f} s, ratio {ratio:.3f}; "
                  f"peak {peak['this']:.0f} MB against {peak['ref']:.0f} MB ({peak['this'] / peak['ref']:.2f}x); "
                  f"naive SimPy M/M/c {med['naive']:.2f} s", flush=True)
            rows.append({"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                         "commit": _commit(a.this or "HEAD"), "ref": ref, "case": case.replace("_process", ""),
                         "measure": kind, "repeats": a.repeats, "this_s": round(med["this"], 3),
                         "ref_s": round(med["ref"], 3), "ratio": round(ratio, 3),
                         "naive_mmc_s": round(med["naive"], 3), "this_peak_mb": round(peak["this"]),
                         "ref_peak_mb": round(peak["ref"])})
    append_rows(Path(a.out), rows)


if __name__ == "__main__":
    main()
