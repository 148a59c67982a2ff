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
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from labsim.errors import ArgumentParser, UserError

PROG = "labsim-calibrate"
SHAPES = ("uniform", "loguniform")
DB = "abc.db"
POSTERIOR = "posterior.parquet"
PROVENANCE = "provenance.json"


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
    identified_by: str  # "KPI SCOPE" of a target, or "weak"

    @property
    def identified(self) -> bool:
        return self.identified_by != "weak"

    def rv(self):
        from pyabc import RV

        if self.shape == "loguniform":
            return RV("loguniform", self.low, self.high)
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
    targets = {f"{t['kpi']} {t['scope']}" for t in load_targets()}
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
        ident = str(spec["identified_by"])
        if ident != "weak" and ident not in targets:
            raise UserError(f"{where}: identified_by={ident!r} is neither 'weak' nor a target "
                            f"(KPI SCOPE of targets.csv: {', '.join(sorted(targets))})")
        out.append(Prior(key, float(low), float(high), shape, str(spec["reason"]).strip(), ident))
    return out


# --- the model as ABC sees it --------------------------------------------------------------

def target_bands(targets: list[dict[str, str]] | None = None) -> dict[str, tuple[float, float, float]]:
    """Summary statistic id ("KPI SCOPE") -> (target, low, high)."""
    from labsim.calibration import load_targets

    return {f"{t['kpi']} {t['scope']}": (float(t["target"]), float(t["low"]), float(t["high"]))
            for t in (targets if targets is not None else load_targets())}


def summary_statistics(results: Any) -> dict[str, float]:
    """A run's value of every target, by the code labsim-calibration scores runs with."""
    from labsim.calibration import check_results

    return {f"{c.kpi} {c.scope}": float(c.value) for c in check_results(results)}


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


@dataclass
class Simulator:
    """Parameters -> summary statistics: one run of ``base`` with the parameters set and a seed
    drawn from the parameters' own random stream (so a particle's run is reproducible)."""

    base: Any  # LabsimConfig
    keys: tuple[str, ...]

    def __call__(self, params: dict) -> dict:
        import labsim
        from labsim.config import validate

        from labsim.hydra_app import set_setting

        cfg = copy.deepcopy(self.base)
        for key in self.keys:
            value = float(params[key])
            if isinstance(set_setting(cfg, key, value), int):  # it returns the value it replaced:
                set_setting(cfg, key, int(round(value)))      # a whole-number setting stays whole
        # The seed comes from the parameters, so the same particle always gives the same run.
        digest = hashlib.sha256(json.dumps([float(params[k]) for k in self.keys]).encode()).digest()
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

    return labsim.compose([f"scale={scale!r}", f"horizon_weeks={burn_in + weeks}", f"warmup_weeks={burn_in}",
                           f"step_h={step_h}", "output.progress=false", "output.report=false",
                           "windows.yearly=false", *extra])


# --- provenance ----------------------------------------------------------------------------

def model_fingerprint() -> str:
    """A hash of the model's code and data (labsim/model, labsim/results.py, the calibration's code,
    conf/): the posterior belongs to the model that produced it."""
    from labsim.paths import config_dir

    root = Path(__file__).resolve().parent
    files = sorted([*root.joinpath("model").rglob("*.py"), root / "results.py", root / "config.py",
                    *root.joinpath("calibration").glob("*.*"), *config_dir().rglob("*")])
    h = hashlib.sha256()
    for f in files:
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


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


def _sampler(s: Settings) -> tuple[Any, Any]:
    """(sampler, what to close after): one process, local processes or a dask cluster. Local
    processes are spawned, not forked (pyabc's multicore samplers fork, and a fork of a process whose
    numeric libraries run threads can hang)."""
    from pyabc.sampler import ConcurrentFutureSampler, SingleCoreSampler

    if s.dask:
        from dask.distributed import Client
        from pyabc.sampler import DaskDistributedSampler

        client = Client(s.dask)
        return DaskDistributedSampler(dask_client=client), client
    jobs = s.jobs or (os.cpu_count() or 1)
    if jobs == 1:
        return SingleCoreSampler(), None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    return ConcurrentFutureSampler(cfuture_executor=pool, client_max_jobs=jobs), pool


def calibrate(priors: list[Prior], observed: dict[str, float], s: Settings,
              widths: dict[str, float] | None = None) -> tuple[Any, Any]:
    """Run (or resume) ABC-SMC into ``s.out``; returns (posterior frame with ``weight``, pyabc History)."""
    import pyabc

    widths = widths or {k: hi - lo for k, (_, lo, hi) in target_bands().items()}
    s.out.mkdir(parents=True, exist_ok=True)
    keys = tuple(p.key for p in priors)
    simulator = Simulator(base_config(s.scale, s.weeks, s.burn_in, s.step_h, s.extra), keys)
    prior = pyabc.Distribution(**{p.key: p.rv() for p in priors})
    sampler, resource = _sampler(s)

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
    finally:  # the local worker processes end with the calibration; a cluster's client disconnects
        if s.dask and resource is not None:
            resource.close()
        elif resource is not None:
            resource.shutdown()
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    import polars as pl

    posterior = pl.from_pandas(frame.reset_index(drop=True)).select(list(keys)).with_columns(
        pl.Series("weight", np.asarray(weights, dtype=float) / float(np.sum(weights))))
    return posterior, history


def _epsilon(history: Any) -> float:
    pops = history.get_all_populations()
    return float(pops[pops.t == history.max_t].epsilon.iloc[0])


def intervals(posterior: Any, key: str, level: float = 0.9) -> tuple[float, float]:
    """The weighted posterior's central ``level`` interval of ``key``."""
    x = posterior[key].to_numpy()
    w = posterior["weight"].to_numpy()
    order = np.argsort(x)
    cum = np.cumsum(w[order]) / w.sum()
    lo = x[order][np.searchsorted(cum, (1 - level) / 2)]
    hi = x[order][min(np.searchsorted(cum, 1 - (1 - level) / 2), x.size - 1)]
    return float(lo), float(hi)


def write_posterior(posterior: Any, history: Any, priors: list[Prior], s: Settings, argv: Sequence[str]) -> None:
    from labsim import __version__
    from labsim.files import atomic_write, atomic_write_text

    atomic_write(s.out / POSTERIOR, posterior.write_parquet)
    pops = history.get_all_populations()
    provenance = {
        "command": " ".join([PROG, *argv]), "labsim_version": __version__,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model_fingerprint": model_fingerprint(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(s).items()},
        "priors": [dataclasses.asdict(p) for p in priors],
        "generations": [{"t": int(r.t), "epsilon": float(r.epsilon), "samples": int(r.samples)}
                        for r in pops.itertuples() if r.t >= 0],
    }
    atomic_write_text(s.out / PROVENANCE, json.dumps(provenance, indent=2) + "\n")


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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        for name in ("population", "generations", "weeks", "step_h"):
            if getattr(args, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} {getattr(args, name)}: a whole number of at least 1")
        if args.burn_in < 0 or args.jobs < 0:
            raise UserError("--burn-in and --jobs take whole numbers of at least 0")
        try:
            import pyabc  # noqa: F401
        except ImportError:
            raise UserError("calibration needs pyabc: pip install 'labsim[calibrate]'") from None
        priors = load_priors(args.priors)
        s = Settings(Path(args.out), args.population, args.generations, args.min_epsilon, args.scale, args.weeks,
                     args.burn_in, args.step_h, args.jobs, args.seed, args.dask)
        observed = {k: t for k, (t, _, _) in target_bands().items()}
        posterior, history = calibrate(priors, observed, s)
        write_posterior(posterior, history, priors, s, argv)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    print(f"{PROG}: {posterior.height} particles after {history.max_t + 1} generations -> "
          f"{Path(args.out) / POSTERIOR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
