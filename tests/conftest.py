"""Shared fixtures: small, fast configurations of the real model."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

import labsim

# The posterior's check (labsim.posterior.check) caches its verdicts: in a folder of the test session's own,
# not the user's, and for the processes the tests start too.
os.environ["LABSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="labsim-test-cache-")

# Property tests state rules, not speeds: the kernel's compiled loops (labsim.model.jit) compile or load
# from numba's cache on their first call, which no example should be timed against (speed belongs in
# benchmarks/).
settings.register_profile("labsim", deadline=None)
settings.load_profile("labsim")

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


# The reference run of a test posterior: its first draw, two weeks at a twentieth of the market.
TEST_REFERENCE = {"draw0": ["posterior_draw=0", "scale=0.05", "horizon_weeks=2", "warmup_weeks=1",
                            "output.progress=false", "output.report=false"]}


def write_test_posterior(folder: Path, n: int = 20, seed: int = 0, reference: str | None = "record") -> Path:
    """A posterior in the shipped format (``draws.csv``, ``provenance.json``, ``reference.json``) whose
    ``n`` draws are drawn from the priors of conf/calibration/priors.yaml: a stand-in with the shipped
    one's shape, for tests of how draws are run and compared (not of what the calibration found).

    ``reference``: "record" records its reference run's digests as this code gives them (the
    posterior fits the model), "stale" records digests no run gives (it no longer does), None
    writes no reference runs (it cannot be verified)."""
    import csv
    import json

    import numpy as np

    from labsim import posterior
    from labsim.behaviour import platform
    from labsim.calibrate import load_priors

    priors = load_priors()
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / posterior.DRAWS_FILE, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["draw", "particle", "weight", *(p.key for p in priors), "predicted:test"])
        for k in range(n):
            values = [float(np.exp(rng.uniform(np.log(p.low), np.log(p.high)))) if p.shape == "loguniform"
                      else float(rng.uniform(p.low, p.high)) for p in priors]
            out.writerow([k, k, 1.0 / n, *values, float(k)])
    provenance = {"command": "tests/conftest.py write_test_posterior", "labsim_version": labsim.__version__,
                  "model_fingerprint": posterior.code_fingerprint()}
    (folder / posterior.PROVENANCE_FILE).write_text(json.dumps(provenance), encoding="utf-8")
    if reference == "record":
        posterior.record_reference(folder, TEST_REFERENCE)
    elif reference == "stale":
        wrong = {"timeseries": "0" * 64, "workers": "0" * 64}
        (folder / posterior.REFERENCE_FILE).write_text(json.dumps(
            {"runs": TEST_REFERENCE, "digests": {platform(): {name: wrong for name in TEST_REFERENCE}}}))
    return folder
