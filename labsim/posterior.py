"""The posterior that ships with labsim (``conf/posterior/``): read it, run one of its draws, and
say when the model has changed since it was calibrated.

``labsim-calibrate`` ends with a weighted population of parameter sets (particles).
``labsim-calibrate --out DIR --ship`` turns it into an equal-weight ensemble of
``DRAWS`` draws by systematic resampling (each particle appears about weight x
DRAWS times), in a shuffled order so that any first K draws are themselves a
sample of the posterior, and writes two files:

- ``draws.csv``: one row per draw: ``draw``, ``particle``, ``weight`` (the
  particle's weight in the calibration), the value of every calibrated
  setting, and the summary statistics its calibration run gave
  (``predicted:SCOPE.KPI``): a sample of the posterior predictive distribution.
- ``provenance.json``: the calibration's command, labsim's version, the date,
  the settings, the priors, the threshold by generation, the run time and the
  fingerprint of the model code that ran it (``code_fingerprint``).
- ``reference.json``: a few short *reference runs* of the posterior's own draws,
  run as the calibration ran its particles, and the digests of their outputs
  (``labsim.behaviour``) per class of processor.

``labsim posterior_draw=K`` runs draw K: its values replace the baseline's for
the calibrated settings (``apply``).

A posterior belongs to the model's behaviour, not to its source: a change of
code that leaves every output as it was (a speed-up, a comment) keeps it valid,
and any change of output makes it stale. ``check`` runs the reference runs and
compares their digests with the recorded ones: all equal, the posterior is
valid; one differs, it is stale, and the check names that run; no digest
recorded for this class of processor, it cannot verify (the outputs may well be
the same, but no one has seen them on such a machine). Runs with a
``posterior_draw`` warn once, in one line, when the posterior is stale or cannot
be verified (``stale_warning``). The verdict is kept in a small cache (under
``$LABSIM_CACHE_DIR``, or ``~/.cache/labsim``), keyed by the bytes of the model's
code and data, the posterior and the processor class, so that the reference runs
run once per version of the code, not once per run.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labsim.indicators import from_older
from labsim.config import set_setting
from labsim.errors import ConfigError, UserError

DRAWS_FILE = "draws.csv"
PROVENANCE_FILE = "provenance.json"
DRAWS = 200  # draws shipped: enough for 30-draw policy comparisons, small enough to read
PREDICTED = "predicted:"  # prefix of the columns holding a draw's summary statistics
NO_DRAW = -1  # posterior_draw's default: the baseline's own values


ENV = "LABSIM_POSTERIOR"  # a folder holding another posterior (``labsim-calibrate --ship --dest DIR``)


def posterior_dir() -> Path:
    """``conf/posterior/``, or the folder ``$LABSIM_POSTERIOR`` names: the posterior of one's own
    calibration, run as the shipped one is."""
    from labsim.paths import config_dir

    return Path(os.environ.get(ENV) or config_dir() / "posterior")


REFERENCE_FILE = "reference.json"
REFERENCE_DRAWS = (0, 1, 2)  # the draws run as references: the first three (draws are shuffled)
REFERENCE_WEEKS = 4  # weeks scored after the calibration's burn-in


def code_fingerprint() -> str:
    """A hash of the bytes that make the model's outputs: its code (labsim/model, the KPIs of
    labsim/results.py, the settings of labsim/config.py, the targets and scoring of
    labsim/calibration) and its data (conf/, without the shipped posterior itself). It says
    whether the code is the very code that ran a calibration, and keys the cache of ``check``;
    whether the outputs changed is the reference runs' to say."""
    from labsim.paths import config_dir

    root = Path(__file__).resolve().parent
    conf = config_dir()
    shipped = conf / "posterior"
    files = sorted([*root.joinpath("model").rglob("*.py"), root / "results.py", root / "config.py",
                    *root.joinpath("calibration").glob("*.*"),
                    *(f for f in conf.rglob("*") if shipped not in f.parents)])
    h = hashlib.sha256()
    for f in files:
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Posterior:
    """The shipped ensemble: ``values[k]`` are draw k's values of ``keys``."""

    keys: tuple[str, ...]
    values: np.ndarray  # (draws, keys)
    particle: np.ndarray  # (draws,) the calibration particle each draw copies
    weight: np.ndarray  # (draws,) that particle's weight in the calibration
    predicted: dict[str, np.ndarray]  # statistic SCOPE.KPI -> (draws,) its value in the draw's run
    provenance: dict[str, Any]

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    def draw(self, k: int) -> dict[str, float]:
        return dict(zip(self.keys, (float(v) for v in self.values[k])))


def read(folder: str | Path) -> Posterior:
    """The posterior stored in ``folder`` (``draws.csv`` and ``provenance.json``); UserError in one
    line when either is missing or malformed."""
    folder = Path(folder)
    try:
        provenance = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
        with open(folder / DRAWS_FILE, newline="", encoding="utf-8") as fh:
            text = fh.read()
        rows = list(csv.DictReader(text.splitlines()))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the posterior in {folder}: {str(exc).splitlines()[0]}") from None
    if text and not text.endswith("\n"):  # labsim writes whole lines: a file cut short, maybe mid-number
        raise UserError(f"{folder / DRAWS_FILE} is cut short (its last line is not whole): ship the posterior "
                        "again (labsim-calibrate --ship) or restore the file")
    if rows and any(None in r or None in r.values() for r in rows):
        bad = next(i for i, r in enumerate(rows) if None in r or None in r.values())
        raise UserError(f"{folder / DRAWS_FILE}: draw row {bad + 1} does not have one value per column")
    if not rows:
        raise UserError(f"{folder / DRAWS_FILE}: no draws")
    head = list(rows[0])
    fixed = ("draw", "particle", "weight")
    if tuple(head[:3]) != fixed:
        raise UserError(f"{folder / DRAWS_FILE}: the first columns must be {', '.join(fixed)}")
    keys = tuple(c for c in head[3:] if not c.startswith(PREDICTED))
    stats = [c for c in head[3:] if c.startswith(PREDICTED)]
    try:
        if [int(r["draw"]) for r in rows] != list(range(len(rows))):
            raise ValueError("draws must be numbered 0, 1, 2, ... in order")
        values = np.array([[float(r[k]) for k in keys] for r in rows])
        # Statistics named as before the one syntax ("KPI crowd:all") are read under today's names.
        predicted = {from_older(c[len(PREDICTED):]): np.array([float(r[c]) for r in rows]) for c in stats}
        particle = np.array([int(r["particle"]) for r in rows])
        weight = np.array([float(r["weight"]) for r in rows])
    except (TypeError, ValueError) as exc:
        raise UserError(f"{folder / DRAWS_FILE}: {str(exc).splitlines()[0]}") from None
    return Posterior(keys, values, particle, weight, predicted, provenance)


@functools.lru_cache(maxsize=1)
def shipped() -> Posterior:
    """The posterior that ships with labsim (read once per process)."""
    folder = posterior_dir()
    if not (folder / DRAWS_FILE).is_file():
        raise UserError(f"no posterior in {folder}: calibrate with labsim-calibrate and write it there with "
                        f"--ship (docs/guide/calibration.md)")
    return read(folder)


@dataclass(frozen=True)
class Check:
    """Whether the posterior still fits the model: ``status`` is VALID, STALE or CANNOT_VERIFY;
    ``detail`` names the reference run that differs, or why there is nothing to compare with."""

    status: str
    detail: str = ""


VALID, STALE, CANNOT_VERIFY = "valid", "stale", "cannot verify"


def reference_overrides(draw: int, settings: dict[str, Any]) -> list[str]:
    """A reference run of ``draw``: the baseline as the calibration ran its particles (its scale,
    burn-in and step, from the provenance's ``settings``), ``REFERENCE_WEEKS`` weeks after the
    burn-in."""
    burn_in = int(settings.get("burn_in", 13))
    return [f"posterior_draw={draw}", f"scale={settings.get('scale', 0.1)!r}",
            f"horizon_weeks={burn_in + REFERENCE_WEEKS}", f"warmup_weeks={burn_in}",
            f"step_h={settings.get('step_h', 2)}", *(settings.get("extra") or ()), "windows.yearly=false",
            "output.progress=false", "output.report=false"]


def read_reference(folder: str | Path) -> dict[str, Any] | None:
    """The reference runs of the posterior in ``folder`` and their recorded digests (None: none)."""
    try:
        ref = json.loads((Path(folder) / REFERENCE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {Path(folder) / REFERENCE_FILE}: {str(exc).splitlines()[0]}") from None
    if not isinstance(ref, dict) or not isinstance(ref.get("runs"), dict) or not isinstance(ref.get("digests"), dict):
        raise UserError(f"{Path(folder) / REFERENCE_FILE}: expected 'runs' and 'digests'")
    return ref


_checking = False  # the reference runs under way: their own draws are not checked again


def _reference_digests(folder: Path, runs: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Each reference run's digests, run by this code on this machine with the draws of the
    posterior in ``folder``."""
    global _checking
    from labsim.behaviour import run_digests

    before, _checking = _checking, True
    env = os.environ.get(ENV)
    os.environ[ENV] = str(folder)  # the reference runs run this posterior's draws
    shipped.cache_clear()
    try:
        return {name: run_digests(list(overrides)) for name, overrides in runs.items()}
    finally:
        _checking = before
        if env is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = env
        shipped.cache_clear()


def record_reference(folder: str | Path, runs: dict[str, list[str]] | None = None) -> Path:
    """Run the reference runs of the posterior in ``folder`` (``runs``, or those already listed in
    its reference.json, or the draws ``REFERENCE_DRAWS`` run as its provenance's calibration ran
    its particles) and record their digests for this class of processor, keeping other classes'."""
    from labsim.behaviour import platform
    from labsim.files import atomic_write_text

    folder = Path(folder)
    ref = read_reference(folder) or {}
    if runs is None:
        runs = ref.get("runs")
    if not runs:
        settings = read(folder).provenance.get("settings") or {}
        runs = {f"draw{k}": reference_overrides(k, settings) for k in REFERENCE_DRAWS}
    if ref.get("runs") not in (None, runs):
        ref["digests"] = {}  # other runs: the digests recorded for the old ones no longer apply
    digests = _reference_digests(folder, runs)
    ref = {"about": "Short runs of the posterior's own draws and the digests of their outputs, per class of "
                    "processor (labsim.posterior.check); record with labsim-calibrate --record-reference.",
           "runs": runs, "digests": {**(ref.get("digests") or {}), platform(): digests}}
    atomic_write_text(folder / REFERENCE_FILE, json.dumps(ref, indent=2, sort_keys=True) + "\n")
    return folder / REFERENCE_FILE


def _cache_file() -> Path:
    root = os.environ.get("LABSIM_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labsim"
    return Path(root) / "posterior-checks.json"


def _cache_key(folder: Path, cls: str) -> str:
    h = hashlib.sha256()
    for part in (code_fingerprint(), cls, np.__version__):
        h.update(part.encode() + b"\0")
    for name in (DRAWS_FILE, REFERENCE_FILE):
        h.update((folder / name).read_bytes())
    return h.hexdigest()[:32]


def _cached(key: str) -> Check | None:
    try:
        got = json.loads(_cache_file().read_text(encoding="utf-8")).get(key)
        return Check(str(got["status"]), str(got["detail"])) if got else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _remember(key: str, check_: Check) -> None:
    from labsim.files import atomic_write_text

    path = _cache_file()
    try:
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
            known = known if isinstance(known, dict) else {}
        except (OSError, ValueError):
            known = {}
        known[key] = {"status": check_.status, "detail": check_.detail}
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(dict(list(known.items())[-64:]), indent=1) + "\n")
    except OSError:
        pass  # no cache: the check runs again next time


def check(folder: str | Path | None = None, use_cache: bool = True) -> Check:
    """Whether the posterior in ``folder`` (the shipped one by default) still fits this model: its
    reference runs, run now, give the digests recorded for this class of processor."""
    from labsim.behaviour import platform

    folder = Path(folder) if folder is not None else posterior_dir()
    ref = read_reference(folder)
    if ref is None:
        return Check(CANNOT_VERIFY, f"the posterior in {folder} has no reference runs ({REFERENCE_FILE})")
    cls = platform()
    recorded = ref["digests"].get(cls)
    if not recorded or set(recorded) != set(ref["runs"]):
        return Check(CANNOT_VERIFY, f"no digests of its reference runs are recorded for processors of class {cls} "
                                    f"(labsim-calibrate --record-reference records them)")
    key = _cache_key(folder, cls)
    if use_cache and (known := _cached(key)) is not None:
        return known
    now = _reference_digests(folder, ref["runs"])
    verdict = Check(VALID)
    for name in sorted(ref["runs"]):
        changed = [table for table in sorted(recorded[name]) if now[name].get(table) != recorded[name][table]]
        if changed:
            verdict = Check(STALE, f"reference run {name} ({' '.join(ref['runs'][name])}) now gives other "
                                   f"{' and '.join(changed)} tables than recorded")
            break
    _remember(key, verdict)
    return verdict


def stale_warning() -> str | None:
    """One line when the posterior no longer fits the model (its reference runs give other outputs) or
    cannot be verified on this machine; None when it fits, and while the reference runs themselves run."""
    if _checking:
        return None
    verdict = check()
    if verdict.status == VALID:
        return None
    if verdict.status == STALE:
        return (f"the model's outputs have changed since its posterior was calibrated: {verdict.detail}; the "
                f"draws may no longer fit the targets: recalibrate with labsim-calibrate (docs/guide/calibration.md)")
    return f"cannot verify that the posterior still fits this model: {verdict.detail}"


def check_draw(k: int, post: Posterior | None = None) -> None:
    """ConfigError unless ``k`` is NO_DRAW or a draw of the posterior."""
    if k == NO_DRAW:
        return
    post = post or shipped()
    if not 0 <= k < post.n:
        raise ConfigError("posterior_draw", k, f"a draw from 0 to {post.n - 1} of the shipped posterior "
                                               f"(conf/posterior/), or {NO_DRAW} for the baseline's values")


def apply(cfg: Any, post: Posterior | None = None) -> dict[str, float]:
    """Set the calibrated settings of ``cfg`` (a LabsimConfig) to the values of its
    ``posterior_draw`` (nothing when it is NO_DRAW); returns the values set."""
    k = cfg.posterior_draw
    if k == NO_DRAW:
        return {}
    post = post or shipped()
    check_draw(k, post)
    values = post.draw(k)
    for key, value in values.items():
        if isinstance(set_setting(cfg, key, value), int):  # a whole-number setting stays whole
            set_setting(cfg, key, int(round(value)))
    return values


def resample(weights: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` particle indices by systematic resampling of ``weights`` (each particle about
    weight x n times, never fewer than floor(weight x n)), shuffled so that every prefix is a
    sample of the weighted ensemble too."""
    w = np.asarray(weights, float)
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(n)) / n
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    picks = np.searchsorted(cum, positions, side="right")
    return rng.permutation(np.minimum(picks, w.size - 1))
