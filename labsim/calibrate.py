"""``labsim-calibrate``: a posterior over the model's unknowns, by approximate Bayesian computation.

The unknowns and their priors are declared in ``conf/calibration/priors.yaml``
(each a setting of the typed configuration, with its range, shape, reason and
the target expected to identify it). ABC by sequential Monte Carlo (pyabc, the
field's maintained library for it: Klinger, Rickert and Hasenauer 2018) draws
parameter sets from the priors, runs the market with each and keeps those whose
summary statistics come close to the targets, generation after generation,
with a shrinking threshold.

- Summary statistics: the targets of ``labsim/calibration/targets.csv``,
  computed by the code ``labsim-calibration`` scores a run with
  (``labsim.calibration.check_results``), over one window of weeks after a
  burn-in (the stationary start makes a short one enough).
- Distance: the root mean square of each statistic's gap to its target in
  units of the target's band (high - low), so that a band of $3 and a band of
  10 minutes weigh alike.
- Runs: at ``scale`` (0.1, the smallest scale the scale test allows, by
  default), parallel over local cores (pyabc's multicore sampler), or on a
  ``dask.distributed`` cluster (``--dask ADDRESS``).
- Resumable: every generation is stored in ``abc.db`` (SQLite) in the output
  folder; running the same command again continues from the last complete
  generation.

The posterior (the last generation's weighted particles) is written as
``posterior.parquet`` with ``provenance.json`` (the command, labsim's version,
the date and a fingerprint of the model's code and data).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import hashlib
import importlib
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from labsim.errors import ArgumentParser, Interrupted, UserError, held_signals, raise_interrupted
from labsim.indicators import from_older, scoped
from labsim.posterior import DRAWS, PREDICTED, code_fingerprint
from labsim.rundir import SharedFolder

PROG = "labsim-calibrate"
SHAPES = ("uniform", "loguniform")
DB = "abc.db"
POSTERIOR = "posterior.parquet"
PROVENANCE = "provenance.json"
REFEREE = "referee.html"


def priors_file() -> Path:
    from labsim.paths import config_dir

    return config_dir() / "calibration" / "priors.yaml"


# --- priors --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prior:
    """One unknown: a setting of the configuration, its prior, why, and what identifies it."""

    key: str
    low: float
    high: float
    shape: str
    reason: str
    identified_by: str  # a target's indicator (SCOPE.KPI, labsim.indicators.scoped), or "weak"

    @property
    def identified(self) -> bool:
        return self.identified_by != "weak"

    @property
    def on_log_scale(self) -> bool:
        """Whether ABC proposes this unknown on the log scale (a loguniform prior: uniform in the log)."""
        return self.shape == "loguniform"

    def rv(self):
        """The prior as ABC samples it: uniform, in the log of the value for a loguniform prior, so that
        the proposal kernel moves every unknown on the scale its prior treats alike (a Gaussian step on
        the natural scale of a range spanning a factor of ten leaves transition densities that underflow
        and weights that collapse onto a few particles)."""
        from pyabc import RV

        if self.on_log_scale:
            return RV("uniform", math.log(self.low), math.log(self.high) - math.log(self.low))
        return RV("uniform", self.low, self.high - self.low)


def load_priors(path: str | Path | None = None) -> list[Prior]:
    """The priors of ``path`` (``conf/calibration/priors.yaml`` by default), each checked: a setting
    of the configuration that takes a number, a range inside the setting's own with the baseline's
    value in it, a known shape and a target that exists (or ``weak``)."""
    from labsim.calibration import load_targets
    from labsim.config import check_field, parameters

    path = Path(path) if path is not None else priors_file()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read the priors {path}: {str(exc).splitlines()[0]}") from None
    entries = (doc or {}).get("parameters") if isinstance(doc, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise UserError(f"{path}: expected a mapping 'parameters:' of settings to priors")
    declared = {key: (value, meta) for key, value, meta in parameters()}
    targets = {scoped(t["kpi"], t["scope"]) for t in load_targets()}
    out = []
    for key, spec in entries.items():
        where = f"{path.name}: {key}"
        if key not in declared:
            raise UserError(f"{where}: not a setting of labsim's configuration (docs/parameters.md)")
        default, meta = declared[key]
        if meta.get("kind") not in ("number", "share", "int") or isinstance(default, bool):
            raise UserError(f"{where}: not a number setting")
        if not isinstance(spec, dict):
            raise UserError(f"{where}: expected low, high, shape, reason and identified_by")
        missing = [k for k in ("low", "high", "shape", "reason", "identified_by") if k not in spec]
        if missing:
            raise UserError(f"{where}: missing {', '.join(missing)}")
        low, high, shape = spec["low"], spec["high"], spec["shape"]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in (low, high)):
            raise UserError(f"{where}: low and high must be numbers")
        if not low < high:
            raise UserError(f"{where}: low={low} must be below high={high}")
        if shape not in SHAPES:
            raise UserError(f"{where}: shape={shape!r} is not allowed: one of {', '.join(SHAPES)}")
        if shape == "loguniform" and low <= 0:
            raise UserError(f"{where}: a loguniform prior needs low > 0")
        for bound in (low, high):
            check_field(None, key, float(bound), meta)
        if not low <= default <= high:
            raise UserError(f"{where}: the baseline's value {default:g} lies outside [{low:g}, {high:g}]")
        ident = from_older(str(spec["identified_by"]))  # "KPI SCOPE", as priors files said before, is read too
        if ident != "weak" and ident not in targets:
            raise UserError(f"{where}: identified_by={ident!r} is neither 'weak' nor a target "
                            f"(SCOPE.KPI, one of {', '.join(sorted(targets))})")
        out.append(Prior(key, float(low), float(high), shape, str(spec["reason"]).strip(), ident))
    return out


# --- the model as ABC sees it --------------------------------------------------------------

def target_bands(targets: list[dict[str, str]] | None = None) -> dict[str, tuple[float, float, float]]:
    """Summary statistic id (the target's indicator, ``crowd.effective_wage_mean_usd_h``) -> (target, low,
    high)."""
    from labsim.calibration import load_targets

    return {scoped(t["kpi"], t["scope"]): (float(t["target"]), float(t["low"]), float(t["high"]))
            for t in (targets if targets is not None else load_targets())}


def summary_statistics(results: Any) -> dict[str, float]:
    """A run's value of every target, by the code labsim-calibration scores runs with."""
    from labsim.calibration import check_results

    return {c.name: float(c.value) for c in check_results(results)}


class BandDistance:
    """Root mean square of each statistic's gap to the observed one, in units of its target's band.
    A statistic the run could not compute (no workers in a scope) counts as a gap of ten bands."""

    def __init__(self, widths: dict[str, float]) -> None:
        self.widths = dict(widths)

    def __call__(self, x: dict, x0: dict, *args: Any, **kwargs: Any) -> float:
        gaps = []
        for key, width in self.widths.items():
            a, b = x.get(key, math.nan), x0.get(key, math.nan)
            gap = (float(a) - float(b)) / width
            gaps.append(gap if math.isfinite(gap) else 10.0)
        return float(np.sqrt(np.mean(np.square(gaps))))


def natural(params: dict, logs: frozenset[str] | set[str] = frozenset()) -> dict[str, float]:
    """``params`` as the configuration takes them: the keys in ``logs`` were proposed as logs."""
    return {k: math.exp(float(v)) if k in logs else float(v) for k, v in params.items()}


@dataclass
class Simulator:
    """Parameters -> summary statistics: one run of ``base`` with the parameters set and a seed
    drawn from the parameters' own random stream (so a particle's run is reproducible)."""

    base: Any  # LabsimConfig
    keys: tuple[str, ...]
    logs: frozenset[str] = frozenset()  # the keys ABC proposes as logs (``Prior.on_log_scale``)

    def __call__(self, params: dict) -> dict:
        import labsim
        from labsim.config import set_setting, validate

        cfg = copy.deepcopy(self.base)
        values = natural(params, self.logs)
        for key in self.keys:
            value = values[key]
            if isinstance(set_setting(cfg, key, value), int):  # it returns the value it replaced:
                set_setting(cfg, key, int(round(value)))      # a whole-number setting stays whole
        # The seed comes from the parameters, so the same particle always gives the same run.
        digest = hashlib.sha256(json.dumps([values[k] for k in self.keys]).encode()).digest()
        cfg.seed = int.from_bytes(digest[:4], "little") % (2**31)
        try:
            validate(cfg)
            return summary_statistics(labsim.run(cfg))
        except Exception:  # noqa: BLE001 - a parameter set the model cannot run is simply far away
            return {}


def base_config(scale: float, weeks: int, burn_in: int, step_h: int, extra: Sequence[str] = ()) -> Any:
    """The configuration every particle starts from: the baseline over ``burn_in + weeks`` weeks,
    its KPI window the last ``weeks``."""
    import labsim

    # Composed with the stop signals held: one raised inside OmegaConf came out as its own error.
    with held_signals():
        return labsim.compose([f"scale={scale!r}", f"horizon_weeks={burn_in + weeks}", f"warmup_weeks={burn_in}",
                               f"step_h={step_h}", "output.progress=false", "output.report=false",
                               "windows.yearly=false", *extra])


# --- the calibration -----------------------------------------------------------------------

@dataclass
class Settings:
    out: Path
    population: int = 100
    generations: int = 6
    min_epsilon: float = 0.25
    scale: float = 0.1
    weeks: int = 52
    burn_in: int = 13
    step_h: int = 2
    jobs: int = 0  # 0: every local core
    seed: int = 0
    dask: str | None = None
    extra: tuple[str, ...] = ()


def _sampler(s: Settings, base: Any) -> tuple[Any, Any]:
    """(sampler, what to close after): one process, local processes or a dask cluster. Local
    processes are labsim.jobs' (spawned, not forked as pyabc's multicore samplers would: a fork of a
    process whose numeric libraries run threads can hang), as many as the cores and the memory a
    particle's run (``base``) needs allow."""
    from pyabc.sampler import ConcurrentFutureSampler, SingleCoreSampler

    if s.dask:
        from dask.distributed import Client
        from pyabc.sampler import DaskDistributedSampler

        client = Client(s.dask)
        return DaskDistributedSampler(dask_client=client), client
    from labsim.jobs import Pool
    from labsim.resources import cores, parallel_slots

    jobs, warning = parallel_slots(s.jobs or cores(), s.population, base, "--jobs")
    if warning:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if jobs == 1:
        return SingleCoreSampler(), None
    pool = Pool(jobs)
    return ConcurrentFutureSampler(cfuture_executor=pool.executor, client_max_jobs=jobs), pool


def calibrate(priors: list[Prior], observed: dict[str, float], s: Settings,
              widths: dict[str, float] | None = None) -> tuple[Any, Any]:
    """Run (or resume) ABC-SMC into ``s.out``; returns (posterior frame with ``weight``, pyabc History)."""
    import pyabc

    widths = widths or {k: hi - lo for k, (_, lo, hi) in target_bands().items()}
    s.out.mkdir(parents=True, exist_ok=True)
    keys = tuple(p.key for p in priors)
    base = base_config(s.scale, s.weeks, s.burn_in, s.step_h, s.extra)
    logs = frozenset(p.key for p in priors if p.on_log_scale)
    simulator = Simulator(base, keys, logs)
    prior = pyabc.Distribution(**{p.key: p.rv() for p in priors})
    sampler, resource = _sampler(s, base)

    def abc() -> Any:
        return pyabc.ABCSMC(simulator, prior, BandDistance(widths), population_size=s.population, sampler=sampler)

    db = f"sqlite:///{(s.out / DB).resolve()}"
    try:
        if not (s.out / DB).is_file():
            abc().new(db, observed)
        # One generation at a time, each from its own seed and a calibrator loaded afresh from the
        # database: every generation starts the way a resumed calibration does, so a calibration
        # stopped after any generation and run again ends where an uninterrupted one would.
        while True:
            smc = abc()
            history = smc.load(db, 1)
            t = history.max_t + 1
            if t >= s.generations or (t > 0 and _epsilon(history) <= s.min_epsilon):
                break
            np.random.seed((s.seed * 1_000_003 + t) % 2**32)
            smc.run(minimum_epsilon=s.min_epsilon, max_nr_populations=1)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM) or failed: the runs under way are stopped now
        if not s.dask and resource is not None:
            resource.stop()
        raise
    finally:  # the local worker processes end with the calibration; a cluster's client disconnects
        if s.dask and resource is not None:
            resource.close()
        elif resource is not None:
            resource.executor.shutdown(cancel_futures=True)
    return final_population(history, keys, list(widths), logs), history


def final_population(history: Any, keys: Sequence[str], stats: Sequence[str],
                     logs: frozenset[str] | set[str] = frozenset()) -> Any:
    """The last generation's particles: one row each, with the value of every unknown, the weight
    (summing to 1), the distance and the summary statistics its run gave (``predicted:SCOPE.KPI``,
    null where the run could not compute one): a weighted sample of the posterior and of its
    predictive distribution. The unknowns in ``logs`` were proposed as logs and are written as values."""
    import polars as pl

    particles = history.get_population(t=history.max_t).get_particles_by_model()[0]
    w = np.array([p.weight for p in particles], dtype=float)
    values = [natural({k: p.parameter[k] for k in keys}, logs) for p in particles]
    columns: dict[str, Any] = {k: [v[k] for v in values] for k in keys}
    columns["weight"] = w / w.sum()
    columns["distance"] = [float(p.distance) for p in particles]
    for stat in stats:
        columns[PREDICTED + stat] = [_number(p.sum_stat.get(stat)) for p in particles]
    return pl.DataFrame(columns, schema={c: pl.Float64 for c in columns})


def _number(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _epsilon(history: Any) -> float:
    pops = history.get_all_populations()
    return float(pops[pops.t == history.max_t].epsilon.iloc[0])


def intervals(posterior: Any, key: str, level: float = 0.9) -> tuple[float, float]:
    """The weighted posterior's central ``level`` interval of ``key``."""
    from labsim.stats import weighted_quantile

    lo, hi = weighted_quantile(posterior[key].to_numpy(), posterior["weight"].to_numpy(),
                               [(1 - level) / 2, 1 - (1 - level) / 2])
    return lo, hi


def write_posterior(posterior: Any, history: Any, priors: list[Prior], s: Settings, argv: Sequence[str]) -> None:
    """``posterior.parquet``, ``provenance.json`` and the referee's page ``referee.html`` into ``s.out``."""
    from labsim import __version__
    from labsim.files import atomic_write, atomic_write_text
    from labsim.report.referee import referee_page

    atomic_write(s.out / POSTERIOR, posterior.write_parquet)
    pops = history.get_all_populations()
    provenance = {
        "command": " ".join([PROG, *relative_args(argv)]), "labsim_version": __version__,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model_fingerprint": code_fingerprint(),
        "settings": {k: (repo_relative(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(s).items()},
        "priors": [dataclasses.asdict(p) for p in priors],
        "generations": [{"t": int(r.t), "epsilon": float(r.epsilon), "samples": int(r.samples),
                         "seconds": round(float(r.wall_time), 1)} for r in pops.itertuples() if r.t >= 0],
        # The wall time of every generation and of the calibration sample (pauses between resumed
        # sessions left out): what the calibration costs on the machine that ran it.
        "seconds": round(float(np.nansum(pops.wall_time.to_numpy(dtype=float))), 1),
        "runs": int(history.total_nr_simulations),
    }
    atomic_write_text(s.out / PROVENANCE, json.dumps(provenance, indent=2) + "\n")
    atomic_write_text(s.out / REFEREE, referee_page(posterior, provenance, target_bands()))


def repo_relative(path: str | Path) -> str:
    """``path`` relative to the repository (the folder holding conf/), so that a provenance names no
    one's home folder."""
    from labsim.paths import config_dir

    return os.path.relpath(Path(path).resolve(), config_dir().resolve().parent)


PATH_OPTIONS = ("--out", "--priors")


def relative_args(argv: Sequence[str]) -> list[str]:
    """The command's arguments with the paths it was given (``PATH_OPTIONS``) relative to the repository."""
    out, args = [], list(argv)
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if eq and name in PATH_OPTIONS:
            out.append(f"{name}={repo_relative(value)}")
        elif i > 0 and args[i - 1] in PATH_OPTIONS:
            out.append(repo_relative(arg))
        else:
            out.append(arg)
    return out


def rerun(settings: dict[str, Any], params: dict[str, float]) -> dict[str, float]:
    """A particle's summary statistics, run again as the calibration with ``settings`` (its
    provenance's) ran it: finite values only, as the calibration stores them."""
    base = base_config(settings["scale"], settings["weeks"], settings["burn_in"], settings["step_h"],
                       settings.get("extra") or ())
    got = Simulator(base, tuple(params))(params)
    return {k: v for k, v in got.items() if _number(v) is not None}


def _stored(row: dict[str, Any], stats: Sequence[str]) -> dict[str, float]:
    return {from_older(c[len(PREDICTED):]): row[c] for c in stats if row[c] is not None}


def ship(folder: Path, reason: str | None = None, dest: Path | None = None, n: int = DRAWS) -> Path:
    """Write the calibration of ``folder`` as the posterior labsim ships (``conf/posterior/`` unless
    ``dest``): ``n`` equal-weight draws by systematic resampling, with the calibration's provenance.

    The posterior belongs to the model code that produced it: when the code has changed since
    (another fingerprint), shipping is refused unless ``reason`` says why the change leaves the
    model's outputs as they were (a refactoring the frozen-output test passes unchanged); the
    reason and both fingerprints are then kept in the provenance."""
    import polars as pl

    from labsim.files import atomic_write_text
    from labsim.posterior import DRAWS_FILE, PROVENANCE_FILE, REFERENCE_FILE, posterior_dir, record_reference, resample
    from labsim.stats import effective_sample_size

    try:
        frame = pl.read_parquet(folder / POSTERIOR)
        provenance = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise UserError(f"no finished calibration in {folder}: {str(exc).splitlines()[0]}") from None
    now = code_fingerprint()
    made_on = provenance.get("model_fingerprint")
    keys = [p["key"] for p in provenance["priors"]]
    stats = [c for c in frame.columns if c.startswith(PREDICTED)]
    if made_on != now:
        if not reason:
            raise UserError(f"the model has changed since this calibration (fingerprint {made_on}, now {now}): "
                            f"recalibrate, or give --model-unchanged REASON if the change leaves its outputs as "
                            f"they were")
        # The reason is checked: the heaviest particle, run again by this code, must give its statistics.
        best = frame.row(int(np.argmax(frame["weight"].to_numpy())), named=True)
        if rerun(provenance["settings"], {k: best[k] for k in keys}) != _stored(best, stats):
            raise UserError("--model-unchanged: the heaviest particle, run again, no longer gives the summary "
                            "statistics the calibration stored: the model's outputs have changed; recalibrate")
        provenance = {**provenance, "model_fingerprint": now, "calibrated_on_fingerprint": made_on,
                      "model_unchanged_because": reason}
    picks = resample(frame["weight"].to_numpy(), n)
    draws = frame[picks.tolist()].select(
        pl.int_range(0, len(picks), dtype=pl.Int64).alias("draw"), pl.Series("particle", picks, dtype=pl.Int64),
        "weight", *keys, *stats)
    provenance["shipped"] = {"draws": n, "particles": frame.height,
                             "distinct_particles": len(set(picks.tolist())),
                             "effective_sample_size": round(effective_sample_size(frame["weight"].to_numpy()), 1),
                             "resampling": "systematic, in a shuffled order (labsim.posterior.resample, seed 0)",
                             "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    dest = dest or posterior_dir()
    dest.mkdir(parents=True, exist_ok=True)
    atomic_write_text(dest / DRAWS_FILE, draws.write_csv(float_precision=None))
    atomic_write_text(dest / PROVENANCE_FILE, json.dumps(provenance, indent=2) + "\n")
    (dest / REFERENCE_FILE).unlink(missing_ok=True)  # the old draws' reference runs say nothing of the new ones
    record_reference(dest)
    return dest


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description=(
        "Calibrate labsim's unknowns (conf/calibration/priors.yaml) to the published targets by "
        "approximate Bayesian computation (ABC-SMC, pyabc); resumable."))
    p.add_argument("--out", default="calibration", metavar="DIR", help="output folder (abc.db, posterior.parquet)")
    p.add_argument("--population", type=int, default=100, help="particles per generation (default 100)")
    p.add_argument("--generations", type=int, default=6, help="generations at most (default 6)")
    p.add_argument("--min-epsilon", type=float, default=0.25, help="stop when the threshold falls below this, "
                                                                   "in target bands (default 0.25)")
    p.add_argument("--scale", type=float, default=0.1, help="population and demand (default 0.1)")
    p.add_argument("--weeks", type=int, default=52, help="weeks scored after the burn-in (default 52)")
    p.add_argument("--burn-in", type=int, default=13, help="weeks before scoring (default 13)")
    p.add_argument("--step-h", type=int, default=2, help="cohort step in hours (default 2)")
    p.add_argument("--jobs", type=int, default=0, help="local processes (default: every core; 1: one, "
                                                       "reproducible for a seed)")
    p.add_argument("--dask", metavar="ADDRESS", default=None, help="a dask.distributed scheduler to run on")
    p.add_argument("--seed", type=int, default=0, help="the sampler's seed (default 0)")
    p.add_argument("--priors", metavar="FILE", default=None, help="priors file (default conf/calibration/priors.yaml)")
    p.add_argument("--ship", action="store_true", help="run nothing: write the finished calibration in --out as "
                                                       "the posterior labsim runs (conf/posterior/, or the folder "
                                                       "$LABSIM_POSTERIOR names)")
    p.add_argument("--model-unchanged", metavar="REASON", default=None,
                   help="with --ship: why a model changed since the calibration still gives the same outputs")
    p.add_argument("--record-reference", action="store_true",
                   help="run nothing else: run the shipped posterior's reference runs and record their outputs' "
                        "digests for this class of processor (conf/posterior/reference.json; --ship does it too)")
    return p


def _import_pyabc() -> None:
    """Import pyabc with the stop signals held (``labsim.errors.held_signals``). Its import loads
    hundreds of modules, C extensions among them; a SIGTERM or Ctrl-C raised in the middle of it came
    out of a module that turned it into an ImportError ("calibration needs pyabc", although it is
    installed) and left the interpreter to abort at exit. Held, it is delivered once the import is
    done, where the command stops cleanly."""
    with held_signals():
        importlib.import_module("pyabc")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    import signal

    handlers = {sig: signal.signal(sig, raise_interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return _main(argv)
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"{PROG}: interrupted ({signal.Signals(signum).name}): the finished generations are kept; "
              f"the same command continues from them", file=sys.stderr)
        return 128 + signum
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        for name in ("population", "generations", "weeks", "step_h"):
            if getattr(args, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} {getattr(args, name)}: a whole number of at least 1")
        if args.burn_in < 0 or args.jobs < 0:
            raise UserError("--burn-in and --jobs take whole numbers of at least 0")
        if not (math.isfinite(args.min_epsilon) and args.min_epsilon >= 0):
            raise UserError(f"--min-epsilon {args.min_epsilon} is not allowed: a finite number of at least 0 "
                            "(a threshold in target bands, e.g. 0.25)")
        if not (math.isfinite(args.scale) and args.scale > 0):
            raise UserError(f"--scale {args.scale} is not allowed: a finite number above 0 (e.g. 0.1)")
        if args.record_reference:
            from labsim.behaviour import platform
            from labsim.posterior import posterior_dir, record_reference

            path = record_reference(posterior_dir())
            print(f"{PROG}: the reference runs' digests for processors of class {platform()} -> {path}",
                  file=sys.stderr)
            return 0
        if args.ship:
            dest = ship(Path(args.out), args.model_unchanged)
            print(f"{PROG}: {DRAWS} draws of {Path(args.out) / POSTERIOR} -> {dest}", file=sys.stderr)
            return 0
        if args.model_unchanged:
            raise UserError("--model-unchanged goes with --ship")
        try:
            _import_pyabc()
        except ImportError:
            raise UserError("calibration needs pyabc: pip install 'labsim[calibrate]'") from None
        priors = load_priors(args.priors)
        folder = SharedFolder(args.out, "--out", outputs=(DB, POSTERIOR, PROVENANCE, REFEREE),
                              ours=lambda f: (f / DB).is_file(), foreign_ok=True)
        folder.claim()  # a folder (not a file), nothing of the user's replaced, one calibration at a time
        s = Settings(Path(args.out), args.population, args.generations, args.min_epsilon, args.scale, args.weeks,
                     args.burn_in, args.step_h, args.jobs, args.seed, args.dask)
        observed = {k: t for k, (t, _, _) in target_bands().items()}
        try:
            posterior, history = calibrate(priors, observed, s)
            write_posterior(posterior, history, priors, s, argv)
        finally:
            folder.abandon()  # the lock released; the folder removed if nothing was written into it
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    print(f"{PROG}: {posterior.height} particles after {history.max_t + 1} generations -> "
          f"{Path(args.out) / POSTERIOR}; the checks: {Path(args.out) / REFEREE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
