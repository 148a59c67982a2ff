"""labsim: a discrete-event simulator of the labour markets behind AI.

    >>> import labsim
    >>> results = labsim.run(labsim.compose(["horizon_weeks=20", "warmup_weeks=4"]))
    >>> results.kpis["overall"]["effective_wage_mean_usd_h"]  # doctest: +SKIP

``run``, ``compose``, ``Results`` and ``LabsimConfig`` are loaded on first
use, so that importing the kernel (``labsim.model``) loads nothing but
numpy and SimPy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {"compose": "labsim.api", "run": "labsim.api", "Results": "labsim.results",
         "LabsimConfig": "labsim.config"}

__all__ = ["LabsimConfig", "Results", "__version__", "compose", "run"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'labsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
