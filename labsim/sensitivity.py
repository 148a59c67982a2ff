"""Global sensitivity analysis of labsim with SALib: which parameters move the KPIs?

    labsim-sensitivity --param pricing.sensitivity=0.01:0.1 \\
                       --param regions.KEN.min_wage_usd_h=0.3:1.5 \\
                       --kpi effective_wage_mean_usd_h --kpi KEN.effective_wage_mean_usd_h \\
                       --method morris -N 8 --seeds 2 --jobs 2 --out sens/ken \\
                       horizon_weeks=52 scale=0.2

Each ``--param KEY=LOW:HIGH`` is a numeric setting of the configuration (any
key the ``labsim`` command takes) and the range it is varied over; trailing
``key=value`` overrides apply to every run. SALib draws the design (Morris:
N trajectories of k + 1 points; Sobol: a Saltelli design of N (k + 2)
points, first and total order), every point runs once per seed, each run in
its own process, and SALib turns the KPIs into indices. Everything the
command line asks for is checked before anything runs; a mistake ends with
one line, exit code 2 and no folder.

The folder ``--out`` (default ``sensitivity/DATE_TIME``) receives:

- ``runs/NNNN/``: one folder per run (timeseries.parquet, workers.parquet,
  kpis.json) and its ``status.json``, written last. Rerunning the same
  command with the same ``--out`` skips the runs already complete with the
  same overrides, so an interrupted design resumes.
- ``design.parquet``: one row per run: its point, seed, parameter values,
  status, error and the chosen KPIs.
- ``sensitivity.parquet``: one row per KPI x parameter with the indices
  (Morris: mu, mu_star, mu_star_conf, sigma; Sobol: S1, S1_conf, ST, ST_conf).
- ``sensitivity.html``: the indices as charts, self-contained (opens offline).

A failed run leaves a hole SALib cannot fill: the command reports the KPIs
and points concerned and exits 1, keeping ``design.parquet``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import difflib
import html
import importlib.util
import json
import math
import shlex
import signal
import sys
import warnings
from concurrent.futures import as_completed
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import polars as pl

from labsim.indicators import view
from labsim.errors import ArgumentParser, Interrupted, UserError
from labsim.report import theme
from labsim.files import KPIS, STATUS, atomic_write, atomic_write_text
from labsim.hydra_app import to_config
from labsim.jobs import Status, done, read_status, run_into, settings_key, write_status
from labsim.rundir import RunFolder, SharedFolder

PROG = "labsim-sensitivity"
METHODS = ("morris", "sobol")
DEFAULT_KPIS = view("sensitivity")
INDICES = {"morris": ("mu", "mu_star", "mu_star_conf", "sigma"),
           "sobol": ("S1", "S1_conf", "ST", "ST_conf")}
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}
MORRIS_LEVELS = 4  # SALib's default grid: each parameter takes 4 values across its range

# The folder --out: one run folder per run under RUNS_DIR, then the design's tables and page.
RUNS_DIR = "runs"
DESIGN = "design.parquet"
SENSITIVITY = "sensitivity.parquet"
PAGE = "sensitivity.html"
# A tiny run whose only use is to learn which KPIs this configuration reports.
PROBE = ("horizon_weeks=2", "warmup_weeks=1", "scale=0.01")


def default_out() -> Path:
    """``sensitivity/DATE_TIME`` under the working directory."""
    return Path("sensitivity") / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")


# --- the design and its analysis (SALib) --------------------------------------------------

@dataclass(frozen=True)
class Param:
    """A setting varied over [low, high]; whole-number settings get rounded values."""

    key: str
    low: float
    high: float
    integer: bool = False

    def value(self, x: float) -> float | int:
        """The value a run uses for design coordinate ``x``."""
        return int(round(x)) if self.integer else float(f"{x:.10g}")

    def override(self, x: float) -> str:
        return f"{self.key}={self.value(x)!r}"


def problem(params: Sequence[Param]) -> dict[str, Any]:
    """SALib's problem definition."""
    return {"num_vars": len(params), "names": [p.key for p in params],
            "bounds": [[p.low, p.high] for p in params]}


def sample(prob: dict[str, Any], method: str, n: int, seed: int = 0) -> np.ndarray:
    """The design matrix (one row per point), reproducible for a given ``seed``."""
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(prob, n, num_levels=MORRIS_LEVELS, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(prob, n, calc_second_order=False, scramble=True, seed=seed)
    raise ValueError(f"unknown method {method!r}")


def analyze(prob: dict[str, Any], X: np.ndarray, Y: np.ndarray, method: str,
            seed: int = 0) -> pl.DataFrame:
    """Sensitivity indices of output ``Y`` over design ``X``: one row per parameter.

    Morris: ``mu`` (mean elementary effect, signed), ``mu_star`` (mean absolute
    effect), ``mu_star_conf`` (half-width of its 95 % bootstrap interval) and
    ``sigma`` (spread of the effects: interactions or non-linearity), all in
    the output's units per move across the parameter's whole range. Sobol:
    ``S1`` and ``ST`` (first-order and total shares of the output's variance)
    and the half-widths ``S1_conf`` and ``ST_conf``.
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant output divides 0 by 0; SALib reports 0
        if method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(prob, X, Y, num_levels=MORRIS_LEVELS, seed=seed)
        elif method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(prob, Y, calc_second_order=False, seed=seed)
        else:
            raise ValueError(f"unknown method {method!r}")
    cols: dict[str, Any] = {"parameter": list(prob["names"])}
    for name in INDICES[method]:
        cols[name] = np.asarray(res[name], dtype=float).tolist()
    return pl.DataFrame(cols, schema={"parameter": pl.Utf8, **{n: pl.Float64 for n in INDICES[method]}})


# --- KPIs -------------------------------------------------------------------------------

def kpi_value(kpis: dict[str, Any], name: str) -> float:
    """The KPI ``name`` from a kpis.json payload: ``NAME`` is overall, ``KEN.NAME`` a region's,
    ``crowd.NAME`` a channel's, ``crowd:KEN.NAME`` a channel's in a region; a KPI that is a table
    takes one more ``.KEY``. NaN if null."""
    head, _, rest = name.partition(".")
    if rest and head in (kpis.get("by_region") or {}):
        node: Any = kpis["by_region"][head]
        path = rest.split(".")
    elif rest and head in (kpis.get("by_channel") or {}):
        node = kpis["by_channel"][head]
        path = rest.split(".")
    elif rest and head in (kpis.get("by_cell") or {}):
        node = kpis["by_cell"][head]
        path = rest.split(".")
    else:
        node = kpis["overall"]
        path = name.split(".")
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(name)
        node = node[part]
    if node is None:
        return math.nan
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise TypeError(name)
    return float(node)


def _kpi_names(kpis: dict[str, Any]) -> list[str]:
    names = [k for k, v in kpis["overall"].items() if not isinstance(v, dict)]
    names += [f"{k}.{s}" for k, v in kpis["overall"].items() if isinstance(v, dict) for s in v]
    for scope in ("by_region", "by_channel", "by_cell"):
        for code, table in (kpis.get(scope) or {}).items():
            names += [f"{code}.{k}" for k in table]
    return names


# --- reading and checking the command line ---------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description="Global sensitivity analysis of labsim (Morris or Sobol, with SALib).",
                epilog="Example: labsim-sensitivity --param pricing.sensitivity=0.01:0.1 "
                       "--param workers.base_quit_hazard_per_week=0.004:0.012 -N 8 horizon_weeks=52 scale=0.2")
    p.add_argument("--param", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="a numeric setting and its range (repeat for each parameter)")
    p.add_argument("--kpi", action="append", default=[], metavar="NAME",
                   help="a KPI of kpis.json: NAME (overall), REGION.NAME or CHANNEL.NAME "
                        f"(default: {', '.join(DEFAULT_KPIS)})")
    p.add_argument("--method", default="morris", metavar="morris|sobol",
                   help="Morris elementary effects (default; screening) or Sobol indices (variance shares)")
    p.add_argument("-N", default="8", metavar="N",
                   help="Morris trajectories or Sobol base sample size (a power of 2); default 8")
    p.add_argument("--seeds", default="1", metavar="S",
                   help="replications per design point, seeds seed..seed+S-1 (default 1); KPIs are averaged")
    p.add_argument("--jobs", default="2", metavar="J", help="runs in parallel (processes; default 2)")
    p.add_argument("--design-seed", default="0", metavar="SEED",
                   help="seed of SALib's sampling and bootstrap, for a reproducible design (default 0)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default sensitivity/DATE_TIME); the same DIR resumes a design")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="settings applied to every run")
    return p


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    """``--kpi a b`` -> ``--kpi a --kpi b`` (KPI names hold no '='; overrides do)."""
    out: list[str] = []
    it = iter(argv)
    for tok in it:
        out.append(tok)
        if tok == "--kpi":
            rest = list(it)
            names = []
            while rest and not rest[0].startswith("-") and "=" not in rest[0]:
                names.append(rest.pop(0))
            if names:
                out.append(names[0])
                for n in names[1:]:
                    out += ["--kpi", n]
            return out + _normalise_argv(rest)
    return out


def _whole(flag: str, text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise UserError(f"{flag}={text} is not allowed: a whole number >= {minimum}")
    return value


def _parse_param(text: str) -> tuple[str, str, str, float, float]:
    """``KEY=LOW:HIGH`` -> (key, low text, high text, low, high)."""
    key, eq, rng = text.partition("=")
    key = key.strip()
    low_s, colon, high_s = rng.partition(":")
    if not eq or not key or not colon:
        raise UserError(f"{text}: write --param KEY=LOW:HIGH, e.g. --param pricing.sensitivity=0.01:0.1")
    try:
        low, high = float(low_s), float(high_s)
    except ValueError:
        raise UserError(f"{text} is not allowed: LOW and HIGH must be numbers, "
                        f"e.g. {key}=0.01:0.1") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise UserError(f"{text} is not allowed: LOW and HIGH must be finite numbers")
    if not low < high:
        raise UserError(f"{text} is not allowed: LOW must be less than HIGH")
    return key, low_s.strip(), high_s.strip(), low, high


def _no_sweeps(overrides: list[str]) -> None:
    """One value per setting: a sweep (``seed=0,1``) has no place in a design."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from labsim.hydra_app import explain

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:
        raise UserError(explain(exc, overrides)) from None
    for text, o in zip(overrides, parsed):
        if o.is_sweep_override():
            raise UserError(f"{text} is not allowed: one value per setting here (vary a parameter "
                            "with --param KEY=LOW:HIGH, the seed with --seeds)")


def _key_of(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _lookup(cfg: Any, key: str) -> Any:
    node = cfg
    for part in key.split("."):
        if isinstance(node, dict):
            node = node[part]
        elif dataclasses.is_dataclass(node):
            node = getattr(node, part)
        else:
            raise KeyError(key)
    return node


def _assign(cfg: Any, key: str, value: Any) -> None:
    *path, leaf = key.split(".")
    node = _lookup(cfg, ".".join(path)) if path else cfg
    if isinstance(node, dict):
        node[leaf] = value
    else:
        setattr(node, leaf, value)


def _compose(overrides: list[str]):
    """``labsim.compose``, its errors turned into one line."""
    import labsim
    from labsim.hydra_app import explain

    try:
        return labsim.compose(overrides)
    except Exception as exc:
        raise UserError(explain(exc, overrides)) from None


@dataclass
class Plan:
    method: str
    n: int
    seeds: list[int]
    jobs: int
    design_seed: int
    params: list[Param]
    kpis: list[str]
    overrides: list[str]  # applied to every run, seed excluded
    out: Path
    X: np.ndarray
    command: str
    points: list[Any] = dataclasses.field(default_factory=list)  # each point's configuration (seed aside)

    @property
    def problem(self) -> dict[str, Any]:
        return problem(self.params)


def check(argv: Sequence[str]) -> Plan:
    """Read and check the whole command line; raise UserError. Writes nothing."""
    if importlib.util.find_spec("SALib") is None:
        raise UserError("SALib is not installed: pip install 'labsim[sensitivity]' (or pip install SALib)")
    args = _parser().parse_intermixed_args(_normalise_argv(list(argv)))
    method = args.method.lower()
    if method not in METHODS:
        raise UserError(f"--method={args.method} is not allowed: one of {', '.join(METHODS)}")
    n = _whole("-N", args.N, 2)
    if method == "sobol" and n & (n - 1):
        raise UserError(f"-N={n} is not allowed: Sobol needs a power of 2 (e.g. {1 << n.bit_length()})")
    n_seeds = _whole("--seeds", args.seeds, 1)
    jobs = _whole("--jobs", args.jobs, 1)
    design_seed = _whole("--design-seed", args.design_seed, 0)
    if not args.param:
        raise UserError("no --param given: write --param KEY=LOW:HIGH, e.g. --param pricing.sensitivity=0.01:0.1")
    stray = [o for o in args.overrides if "=" not in o]
    if stray:
        raise UserError(f"cannot read {stray[0]!r}: settings are written key=value, e.g. horizon_weeks=52")
    overrides = list(args.overrides)
    _no_sweeps(overrides)
    override_keys = {_key_of(o) for o in overrides}

    parsed = [_parse_param(t) for t in args.param]
    seen: set[str] = set()
    for key, low_s, high_s, *_ in parsed:
        spec = f"{key}={low_s}:{high_s}"
        if key in seen:
            raise UserError(f"{spec}: {key} is given twice as --param")
        seen.add(key)
        if key == "seed":
            raise UserError(f"{spec}: the seed is not a parameter; replicate with --seeds instead")
        if key in override_keys:
            raise UserError(f"{spec}: {key} is also set by the override "
                            f"{next(o for o in overrides if _key_of(o) == key)}; drop one")

    base = _corners(overrides, parsed)
    seed0 = int(base.seed)
    overrides = [o for o in overrides if _key_of(o) != "seed"]
    params: list[Param] = []
    for key, low_s, high_s, low, high in parsed:
        spec = f"{key}={low_s}:{high_s}"
        try:
            current = _lookup(base, key)
        except (KeyError, AttributeError, TypeError):
            raise UserError(f"{spec} is not allowed: {key} is not a single setting") from None
        _numeric(spec, key, current)
        params.append(Param(key, low, high, integer=isinstance(current, int)))

    prob = problem(params)
    runs = n * (len(params) + (1 if method == "morris" else 2)) * n_seeds
    if runs > MAX_RUNS:
        raise UserError(f"-N={n} is not allowed: with {_count(len(params), 'parameter')} and "
                        f"{_count(n_seeds, 'seed')} the design has {runs:,} runs, and labsim runs at most "
                        f"{MAX_RUNS:,} in one design: a smaller -N or fewer --seeds")
    X = sample(prob, method, n, seed=design_seed)
    points = _check_points(base, params, X)

    kpis = list(dict.fromkeys(args.kpi or DEFAULT_KPIS))
    _check_kpis(kpis, overrides)
    out = Path(args.out) if args.out else default_out()
    _shared(out).check()  # a file, a user's folder: refused before anything runs
    return Plan(method, n, [seed0 + i for i in range(n_seeds)], jobs, design_seed, params, kpis,
                overrides, out, X, shlex.join([PROG, *argv]), points)


def _numeric(spec: str, key: str, current: Any) -> None:
    """Raise unless ``current`` (the setting's value) is a number."""
    if isinstance(current, bool):
        kind = "true or false"
    elif isinstance(current, (int, float)):
        return
    elif isinstance(current, dict) or dataclasses.is_dataclass(current):
        kind = "a table of settings"
    else:
        kind = f"a {type(current).__name__}"
    raise UserError(f"{spec} is not allowed: {key} is not a numeric setting (it holds {kind})")


def _corners(overrides: list[str], parsed: list[tuple[str, str, str, float, float]]) -> Any:
    """Compose (with ``labsim.compose``) the low and the high corner of every parameter.

    Both corners are tried with all parameters at once (two compositions); only
    when one fails is each parameter composed alone, to name the culprit. Ranges
    that are fine alone but clash together are left to the check of the design
    points, which are what will run. Returns a configuration to check points on.
    """
    corners = []
    for end in (1, 2):  # LOW, HIGH as the user wrote them
        joint = [*overrides, *(f"{p[0]}={p[end]}" for p in parsed)]
        try:
            corners.append(_compose(joint))
            continue
        except UserError:
            pass
        base = _compose(overrides)  # the overrides alone
        for key, *ends in parsed:
            text = ends[end - 1]
            try:
                _numeric(f"{key}={ends[0]}:{ends[1]}", key, _lookup(base, key))
            except (KeyError, AttributeError, TypeError):
                pass  # no such setting: the composition below names the problem
            try:
                _compose([*overrides, f"{key}={text}"])
            except UserError as exc:
                if str(exc).startswith(f"{key}="):
                    raise
                raise UserError(f"{exc} (with {key}={text})") from None
    return corners[0] if corners else _compose(overrides)


def _check_points(base: Any, params: list[Param], X: np.ndarray) -> list[Any]:
    """Validate the configuration of every design point (the ranges may clash jointly); the points'
    configurations."""
    from labsim.config import validate
    from labsim.errors import ConfigError

    points = []
    for i, row in enumerate(X):
        cfg = copy.deepcopy(base)
        for p, x in zip(params, row):
            _assign(cfg, p.key, p.value(x))
        try:
            validate(cfg)
        except ConfigError as exc:
            point = ", ".join(f"{p.key}={p.value(x)!r}" for p, x in zip(params, row))
            raise UserError(f"{exc} (design point {i}: {point})") from None
        points.append(cfg)
    return points


def _check_kpis(kpis: list[str], overrides: list[str]) -> None:
    """Every KPI must be a number in the kpis.json of this configuration (learnt from a tiny run)."""
    try:
        config = to_config(_compose([*overrides, *PROBE]))
        probe = _simulate(RunTask(0, 0, config.seed, "", (*overrides, *PROBE), config)).kpis
    except Exception:  # the runs themselves will tell
        return
    known = _kpi_names(probe)
    for name in kpis:
        try:
            kpi_value(probe, name)
        except KeyError:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UserError(f"--kpi={name}: no such KPI in kpis.json{hint}; write NAME for the overall "
                            "value or REGION.NAME, e.g. KEN.effective_wage_mean_usd_h") from None
        except TypeError:
            raise UserError(f"--kpi={name} is not allowed: it is not a number") from None


# --- running the design ----------------------------------------------------------------

# A design's runs, at most (Morris: N (k + 1) x seeds; Sobol: N (k + 2) x seeds), checked before the
# design is drawn: beyond it a design would take years on a laptop and its table would not fit.
MAX_RUNS = 100_000


@dataclass(frozen=True)
class RunTask:
    index: int
    point: int
    seed: int
    run_dir: str
    overrides: tuple[str, ...]  # what the run is, as the command line would say it (its status records it)
    config: Any = None  # the checked configuration it runs (labsim.jobs.to_config)


def _scenario(overrides: Sequence[str]) -> str:
    return next((o.split("=", 1)[1] for o in overrides if _key_of(o) == "scenario"), "baseline")


def tasks_for(plan: Plan) -> list[RunTask]:
    """One task per design point and seed, numbered point-major: run = point x seeds + i; each with
    its configuration, checked (the point's, with the seed)."""
    tasks = []
    for point, row in enumerate(plan.X):
        for j, seed in enumerate(plan.seeds):
            index = point * len(plan.seeds) + j
            ov = (*plan.overrides, f"seed={seed}", *(p.override(x) for p, x in zip(plan.params, row)))
            config = copy.deepcopy(plan.points[point])
            config.seed = seed
            try:
                config = to_config(config)
            except Exception as exc:  # noqa: BLE001 - a point's seed makes it impossible (a posterior draw)
                from labsim.hydra_app import explain

                raise UserError(f"{explain(exc, [])} (run {index:04d}: {' '.join(ov)})") from None
            tasks.append(RunTask(index, point, seed, str(plan.out / RUNS_DIR / f"{index:04d}"), ov, config))
    return tasks


def _simulate(task: RunTask, progress: Any = None):
    """One run of labsim: what every design point does (a seam for tests)."""
    from labsim.api import run

    return run(task.config, progress)


def run_one(task: RunTask) -> Status:
    """Run one design point with one seed into its folder, all or nothing (labsim.rundir, labsim.jobs):
    an earlier attempt's folder is replaced whole. Never raises but on an interrupt."""
    folder = RunFolder(task.run_dir, overwrite=True, setting="--out", owned=True)
    try:
        folder.begin()
        status, _ = run_into(folder.staging, task.config, scenario=_scenario(task.overrides),
                             overrides=task.overrides, extra={"point": task.point},
                             run=lambda config, progress: _simulate(task, progress))
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    return status


def _pool(workers: int, folders: list[Path]) -> Any:
    """The worker processes (labsim.jobs.Pool; a seam for tests)."""
    from labsim.jobs import Pool

    return Pool(workers, folders=folders)


def execute(tasks: list[RunTask], jobs: int) -> None:
    """Run the tasks not already done (labsim.jobs.done), ``jobs`` at a time (capped by the cores and
    the memory a run needs), with a progress bar on stderr."""
    from tqdm import tqdm

    from labsim.resources import estimate, parallel_slots

    todo = [t for t in tasks if not done(t.run_dir, t.config)]
    finished = len(tasks) - len(todo)
    print(f"{PROG}: {len(tasks)} runs, {finished} already complete, {len(todo)} to run", file=sys.stderr)
    if not todo:
        return
    largest = max((t.config for t in todo), key=lambda c: estimate(c).memory_bytes)
    slots, warning = parallel_slots(jobs, len(todo), largest, "--jobs")
    if warning:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    bar = tqdm(total=len(tasks), initial=finished, desc=PROG, unit="run", file=sys.stderr, disable=None)
    try:
        with _pool(slots, [Path(tasks[0].run_dir).parent]) as pool:
            futures = {pool.submit(run_one, t): t for t in todo}
            for fut in as_completed(futures):
                task = futures[fut]
                try:
                    status = fut.result()
                except Exception as exc:  # the worker process itself died
                    status = Status("failed", f"{type(exc).__name__}: {exc}".splitlines()[0] or type(exc).__name__,
                                    scenario=_scenario(task.overrides), seed=task.seed, overrides=task.overrides,
                                    extra={"point": task.point})
                    Path(task.run_dir).mkdir(parents=True, exist_ok=True)
                    write_status(task.run_dir, status)
                if not status.ok:
                    bar.write(f"{PROG}: run {task.index:04d} (point {task.point}, seed {task.seed}) failed: "
                              f"{status.error}", file=sys.stderr)
                bar.update(1)
    finally:  # an interrupt: the pool stopped its workers; runs cut short have no status and rerun next time
        bar.close()


# --- tables -------------------------------------------------------------------------------

def design_table(plan: Plan, tasks: list[RunTask]) -> pl.DataFrame:
    """One row per run: run, point, seed, parameter values, status, error, seconds, KPIs, run_dir."""
    rows = []
    for t in tasks:
        run_dir = Path(t.run_dir)
        status = read_status(run_dir)
        state, error = status.state, status.error
        if status.ok and status.settings != settings_key(t.config):
            state, error = "failed", f"{STATUS} is from another design"
        elif not status.ok and state != "failed":
            state = "failed"  # missing or unreadable: its error says which
        row: dict[str, Any] = {"run": t.index, "point": t.point, "seed": t.seed}
        for p, x in zip(plan.params, plan.X[t.point]):
            row[p.key] = float(p.value(x))
        row.update({"status": state, "error": error, "seconds": status.seconds})
        kpis = None
        if state == "ok":
            try:
                kpis = json.loads((run_dir / KPIS).read_text())
            except (OSError, ValueError):
                row.update({"status": "failed", "error": f"{KPIS} is missing or unreadable"})
        for name in plan.kpis:
            try:
                row[name] = kpi_value(kpis, name) if kpis is not None else None
            except (KeyError, TypeError):
                row[name] = None
            if row[name] is not None and not math.isfinite(row[name]):
                row[name] = None
        row["run_dir"] = str(Path(RUNS_DIR) / run_dir.name)
        rows.append(row)
    schema = {"run": pl.Int64, "point": pl.Int64, "seed": pl.Int64,
              **{p.key: pl.Float64 for p in plan.params},
              "status": pl.Utf8, "error": pl.Utf8, "seconds": pl.Float64,
              **{k: pl.Float64 for k in plan.kpis}, "run_dir": pl.Utf8}
    return pl.DataFrame(rows, schema=schema, orient="row")


def point_outputs(design: pl.DataFrame, plan: Plan) -> tuple[dict[str, np.ndarray], dict[str, list[int]]]:
    """Per KPI, the mean over seeds at each point; and the points where it is missing."""
    n_points = len(plan.X)
    ys: dict[str, np.ndarray] = {}
    missing: dict[str, list[int]] = {}
    for name in plan.kpis:
        values = np.full((n_points, len(plan.seeds)), np.nan)
        for r in design.select("point", "seed", "status", name).iter_rows():
            if r[2] == "ok" and r[3] is not None:
                values[r[0], plan.seeds.index(r[1])] = r[3]
        holes = sorted({int(i) for i in np.where(np.isnan(values).any(axis=1))[0]})
        if holes:
            missing[name] = holes
        else:
            ys[name] = values.mean(axis=1)
    return ys, missing


def sensitivity_table(plan: Plan, ys: dict[str, np.ndarray]) -> pl.DataFrame:
    """Tidy indices: kpi, parameter, the method's indices; parameters by importance within a KPI."""
    frames = []
    for name in plan.kpis:
        if name not in ys:
            continue
        res = analyze(plan.problem, plan.X, ys[name], plan.method, seed=plan.design_seed)
        res = res.sort(MAIN_INDEX[plan.method], descending=True, nulls_last=True)
        frames.append(res.select(pl.lit(name).alias("kpi"), pl.all()))
    if not frames:
        return pl.DataFrame(schema={"kpi": pl.Utf8, "parameter": pl.Utf8,
                                    **{n: pl.Float64 for n in INDICES[plan.method]}})
    return pl.concat(frames)


def _fmt(v: Any) -> str:
    return theme.fmt(v, "index")


def format_table(table: pl.DataFrame, method: str) -> str:
    """The indices as aligned text, one line per KPI x parameter."""
    header = ["kpi", "parameter", *INDICES[method]]
    rows = [[r["kpi"], r["parameter"], *(_fmt(r[c]) for c in INDICES[method])]
            for r in table.iter_rows(named=True)]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = []
    for row in [header, *rows]:
        cells = [str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# --- the page -----------------------------------------------------------------------------

_LAYOUT = theme.layout(height=400, margin=dict(t=60, b=50))


def _morris_figures(name: str, d: pl.DataFrame):
    import plotly.graph_objects as go

    label = theme.kpi_label(name)
    scatter = go.Figure(go.Scatter(
        x=d["mu_star"].to_list(), y=d["sigma"].to_list(), text=d["parameter"].to_list(),
        mode="markers+text", textposition="top center", marker=dict(size=11),
        error_x=dict(type="data", array=d["mu_star_conf"].to_list(), visible=True, thickness=1),
        hovertemplate="%{text}<br>μ* %{x:.4g}<br>σ %{y:.4g}<extra></extra>"))
    scatter.update_layout(title=f"{label}: mean effect μ* against its spread σ",
                          xaxis_title="μ* (mean absolute effect, in the KPI's units)",
                          yaxis_title="σ (spread of the effects)", **_LAYOUT)
    # Room around the origin, where the parameters that do not matter sit with their labels.
    xmax = _top(np.add(d["mu_star"].to_numpy(), d["mu_star_conf"].fill_nan(0).fill_null(0).to_numpy()))
    ymax = _top(d["sigma"].to_numpy())
    scatter.update_xaxes(range=[-0.1 * xmax, 1.1 * xmax])
    scatter.update_yaxes(range=[-0.1 * ymax, 1.2 * ymax])
    b = d.sort("mu_star", nulls_last=False)
    bars = go.Figure(go.Bar(
        x=b["mu_star"].to_list(), y=b["parameter"].to_list(), orientation="h",
        error_x=dict(type="data", array=b["mu_star_conf"].to_list(), visible=True),
        hovertemplate="%{y}<br>μ* %{x:.4g}<extra></extra>"))
    bars.update_layout(title=f"{label}: μ* with its 95 % interval", xaxis_title="μ* (in the KPI's units)",
                       **theme.layout(_LAYOUT, height=max(300, 120 + 45 * d.height)))
    bars.update_yaxes(automargin=True)
    return [scatter, bars]


def _top(values: np.ndarray) -> float:
    """The largest finite value, or 1 when there is none above 0 (an axis needs a span)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1.0


def _sobol_figures(name: str, d: pl.DataFrame):
    import plotly.graph_objects as go

    fig = go.Figure()
    for col, label in (("S1", "S1: alone"), ("ST", "ST: with interactions")):
        fig.add_trace(go.Bar(x=d["parameter"].to_list(), y=d[col].to_list(), name=label,
                             error_y=dict(type="data", array=d[f"{col}_conf"].to_list(), visible=True)))
    fig.update_layout(title=f"{theme.kpi_label(name)}: share of its variance due to each parameter",
                      barmode="group",
                      yaxis_title="share of variance", legend=dict(orientation="h", y=-0.2), **_LAYOUT)
    return [fig]


_CAPTIONS = {
    "morris": (
        "Each dot is a parameter. <b>Parameters to the right matter most</b>: moving them across "
        "their range changes {kpi} the most, on average (μ*, in the KPI's own units). <b>Parameters "
        "high up act unevenly</b>: their effect depends on where the other parameters sit "
        "(interactions) or bends along their own range (non-linearity). Parameters near the origin "
        "can be left at their defaults. The bars give μ* with its 95 % bootstrap interval: where "
        "two intervals overlap, this design cannot rank the two parameters; a larger -N can."),
    "sobol": (
        "<b>Taller bars matter most.</b> S1 is the share of the variation of {kpi} across the "
        "design that the parameter explains on its own; ST the share it explains together with "
        "its interactions. A parameter whose ST is near 0 can be fixed anywhere in its range. ST "
        "well above S1 means the parameter acts through interactions with others. Whiskers are "
        "95 % bootstrap intervals; values below 0 or above 1 are sampling noise: a larger -N "
        "(a power of 2) narrows them."),
}

_INTRO = {
    "morris": ("Morris screening: {n} trajectories, each moving the {k} parameters one at a time "
               "across a grid of {levels} values per range, {points} design points in all. μ* is "
               "the mean absolute change of a KPI when one parameter moves across its whole range "
               "with the others held; σ is how much that change varies from one place in the "
               "design to another."),
    "sobol": ("Sobol variance decomposition on a Saltelli design: base sample {n}, {points} design "
              "points for {k} parameters varied together (uniformly) across their ranges."),
}


def report_html(plan: Plan, table: pl.DataFrame, design: pl.DataFrame,
                missing: dict[str, list[int]]) -> str:
    from labsim.report.page import figure_html, page, table_html

    method = plan.method
    points = len(plan.X)
    seeds = (f"seed {plan.seeds[0]}" if len(plan.seeds) == 1
             else f"seeds {plan.seeds[0]}-{plan.seeds[-1]}, KPIs averaged over them at each point")
    intro = _INTRO[method].format(n=plan.n, k=len(plan.params), levels=MORRIS_LEVELS, points=points)
    sections = [
        f"<p class='note'>{html.escape(intro)} Each point ran with {html.escape(seeds)}: "
        f"{design.height} runs. The simulation is random, so part of every index is noise: a "
        "parameter without effect still shows a small one; more seeds (--seeds) shrink it.</p>",
        "<h2>What was varied</h2>",
        table_html(["parameter", "low", "high", "values"],
                   [[p.key, f"{p.low:g}", f"{p.high:g}", "whole numbers" if p.integer else "real"]
                    for p in plan.params]),
        f"<p class='note'>Every run: {html.escape(' '.join(plan.overrides) or 'the defaults')}. "
        f"Command: <code>{html.escape(plan.command)}</code></p>",
    ]
    if missing:
        lines = "".join(f"<li>{html.escape(k)}: missing at point(s) {', '.join(map(str, v))}</li>"
                        for k, v in missing.items())
        sections.append("<h2>Not computed</h2><p class='note'>These KPIs are missing at some design "
                        "points (a failed run, or a KPI that is undefined there), and the method needs "
                        f"every point; design.parquet holds the details.</p><ul>{lines}</ul>")
    figs = _morris_figures if method == "morris" else _sobol_figures
    for i, name in enumerate(k for k in plan.kpis if k not in missing):
        d = table.filter(pl.col("kpi") == name)
        label = theme.kpi_label(name)
        heading = label if label == name else f"{label} ({name})"  # the key, as design.parquet names it
        sections.append(f"<h2 data-kpi='{html.escape(name)}'>{html.escape(heading)}</h2>")
        sections.append(f"<p class='note'>{_CAPTIONS[method].format(kpi=html.escape(label))}</p>")
        for j, fig in enumerate(figs(name, d)):
            sections.append(f"<div class='fig'>{figure_html(fig, f'fig-{i}-{j}')}</div>")
    if table.height:
        sections.append("<h2>All indices</h2>")
        sections.append("<div class='scroll'>" + table_html(
            ["kpi", "parameter", *INDICES[method]],
            [[r["kpi"], r["parameter"], *(_fmt(r[c]) for c in INDICES[method])]
             for r in table.iter_rows(named=True)], kpis=table["kpi"].to_list()) + "</div>")
    title = f"labsim — sensitivity analysis ({'Morris' if method == 'morris' else 'Sobol'})"
    from labsim import __version__

    subtitle = f"{len(plan.params)} parameters · {points} points · {design.height} runs · labsim {__version__}"
    return page(title, subtitle, sections)


# --- the command -------------------------------------------------------------------------

def _shared(out: Path) -> SharedFolder:
    """``--out`` under the rule of labsim.rundir.SharedFolder: labsim's when it holds ``runs/``."""
    return SharedFolder(out, "--out", outputs=(DESIGN, SENSITIVITY, PAGE),
                        ours=lambda folder: (folder / RUNS_DIR).is_dir())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``labsim-sensitivity``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        _parser().print_help()
        return 0
    try:
        plan = check(argv)
    except UserError as exc:
        return _fail(str(exc))

    out = plan.out
    shared = _shared(out)
    try:
        tasks = tasks_for(plan)
        shared.claim()  # a new, empty or labsim's folder, and no other command writing into it
        (out / RUNS_DIR).mkdir(exist_ok=True)
    except UserError as exc:
        shared.abandon()
        return _fail(str(exc))
    except BaseException:  # an interrupt: nothing was written (labsim.entry says it)
        shared.abandon()
        raise
    try:
        print(f"{PROG}: {plan.method}, {_count(len(plan.params), 'parameter')}, "
              f"{_count(len(plan.X), 'point')} x {_count(len(plan.seeds), 'seed')} -> {out}", file=sys.stderr)
        try:
            execute(tasks, plan.jobs)
        except (KeyboardInterrupt, Interrupted) as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            print(f"{PROG}: interrupted ({signal.Signals(signum).name}); the finished runs stay in {out}: run the "
                  f"same command with --out {out} to resume", file=sys.stderr)
            return 128 + signum
        except UserError as exc:
            return _fail(str(exc))

        design = design_table(plan, tasks)
        atomic_write(out / DESIGN, design.write_parquet)
        ys, missing = point_outputs(design, plan)
        table = sensitivity_table(plan, ys)
        if ys:
            atomic_write(out / SENSITIVITY, table.write_parquet)
            page_html = report_html(plan, table, design, missing)
            atomic_write_text(out / PAGE, page_html)
            print(format_table(table, plan.method))
        else:  # nothing to show: leave no indices from an earlier, different design
            (out / SENSITIVITY).unlink(missing_ok=True)
            (out / PAGE).unlink(missing_ok=True)

        failed = design.filter(pl.col("status") != "ok")
        if failed.height:
            runs = ", ".join(f"{r:04d}" for r in failed["run"].to_list())
            print(f"{PROG}: error: {failed.height} of {design.height} runs failed (runs {runs}; "
                  f"see {out / RUNS_DIR}/NNNN/{STATUS}); rerun the same command to retry them",
                  file=sys.stderr)
        for name, holes in missing.items():
            print(f"{PROG}: error: no indices for {name}: missing at design point(s) "
                  f"{', '.join(map(str, holes))}, and {plan.method.capitalize()} needs every point",
                  file=sys.stderr)
        written = [DESIGN] + ([SENSITIVITY, PAGE] if ys else [])
        print(f"{PROG}: wrote {', '.join(written)} in {out}", file=sys.stderr)
        return 1 if missing or failed.height else 0
    finally:
        shared.release()


if __name__ == "__main__":
    sys.exit(main())
