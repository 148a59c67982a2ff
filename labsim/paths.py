"""Where labsim's configuration lives, in a source checkout and in a wheel.

In the repository, ``conf/`` and ``scenarios/`` sit beside the package; the
wheel ships them inside it as ``labsim/conf`` and ``labsim/scenarios``.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _first_dir(name: str) -> Path:
    for candidate in (_PKG / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"labsim's {name}/ folder is missing from {_PKG} and {_PKG.parent}")


def config_dir() -> Path:
    return _first_dir("conf")


def scenarios_dir() -> Path:
    return _first_dir("scenarios")
