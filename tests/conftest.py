"""Shared fixtures: small, fast configurations of the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

import labsim

# A small market: a tenth of the population and demand (the smallest scale the scale test allows), a few weeks.
SMALL = ["scale=0.1", "horizon_weeks=8", "warmup_weeks=2", "output.progress=false"]


def small_config(*overrides: str):
    return labsim.compose([*SMALL, *overrides])


@pytest.fixture(scope="session")
def small_results():
    """One small baseline run shared by read-only tests."""
    return labsim.run(small_config())


def process_running(pid: int) -> bool:
    """Whether process ``pid`` still runs (Linux /proc): a zombie has stopped, only its reaping is left."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def write_test_posterior(folder: Path, n: int = 20, seed: int = 0, fingerprint: str | None = None) -> Path:
    """A posterior in the shipped format (``draws.csv``, ``provenance.json``) whose ``n`` draws are
    drawn from the priors of conf/calibration/priors.yaml: a stand-in with the shipped one's shape,
    for tests of how draws are run and compared (not of what the calibration found)."""
    import csv
    import json

    import numpy as np

    from labsim.calibrate import load_priors
    from labsim.posterior import DRAWS_FILE, PROVENANCE_FILE, model_fingerprint

    priors = load_priors()
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / DRAWS_FILE, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["draw", "particle", "weight", *(p.key for p in priors), "predicted:test ALL"])
        for k in range(n):
            values = [float(np.exp(rng.uniform(np.log(p.low), np.log(p.high)))) if p.shape == "loguniform"
                      else float(rng.uniform(p.low, p.high)) for p in priors]
            out.writerow([k, k, 1.0 / n, *values, float(k)])
    provenance = {"command": "tests/conftest.py write_test_posterior", "labsim_version": labsim.__version__,
                  "model_fingerprint": fingerprint or model_fingerprint()}
    (folder / PROVENANCE_FILE).write_text(json.dumps(provenance), encoding="utf-8")
    return folder
