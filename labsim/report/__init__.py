"""Plotly figures and self-contained HTML pages.

Pages embed plotly.js once, inline, so they open offline and can be mailed
as one file. Figures are built from the tidy tables, never from the kernel,
and this package reads no file: callers hand it frames. Colours, layouts,
number formats and KPI labels are in ``theme``.

``run_figures`` and ``run_report`` are loaded on first use, so that
``labsim.report.theme`` (used by text output too) does not import Plotly.
(``page`` is the module ``labsim.report.page``, whose ``page`` function
wraps figures into a document.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_figures", "run_report"]


def __getattr__(name: str) -> Any:
    if name in ("run_figures", "run_report"):
        from labsim.report import run

        return getattr(run, name)
    raise AttributeError(f"module 'labsim.report' has no attribute {name!r}")
