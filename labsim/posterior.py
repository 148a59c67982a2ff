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
  (``predicted:KPI SCOPE``): a sample of the posterior predictive distribution.
- ``provenance.json``: the calibration's command, labsim's version, the date,
  the settings, the priors, the threshold by generation, the run time and the
  fingerprint of the model code that produced it.

``labsim posterior_draw=K`` runs draw K: its values replace the baseline's for
the calibrated settings (``apply``). A run of a draw whose model fingerprint
differs from the current code's warns in one line (``stale_warning``).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
    import os

    from labsim.paths import config_dir

    return Path(os.environ.get(ENV) or config_dir() / "posterior")


def model_fingerprint() -> str:
    """A hash of what makes the model's outputs: its code (labsim/model, the KPIs of
    labsim/results.py, the settings of labsim/config.py, the targets and scoring of
    labsim/calibration) and its data (conf/, without the shipped posterior itself)."""
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
    predicted: dict[str, np.ndarray]  # statistic "KPI SCOPE" -> (draws,) its value in the draw's run
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
            rows = list(csv.DictReader(fh))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the posterior in {folder}: {str(exc).splitlines()[0]}") from None
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
        predicted = {c[len(PREDICTED):]: np.array([float(r[c]) for r in rows]) for c in stats}
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


def stale_warning(post: Posterior | None = None) -> str | None:
    """One line when the posterior was calibrated on other model code than this one, else None."""
    post = post or shipped()
    made_on = post.provenance.get("model_fingerprint")
    now = model_fingerprint()
    if made_on == now:
        return None
    return (f"the model has changed since its posterior was calibrated (fingerprint {made_on}, now {now}): "
            f"the draws may no longer fit the targets; recalibrate with labsim-calibrate "
            f"(docs/guide/calibration.md)")


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
