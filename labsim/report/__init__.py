"""Plotly figures and self-contained HTML pages.

Pages embed plotly.js once, inline, so they open offline and can be mailed
as one file. Figures are built from the tidy tables, never from the kernel.
"""

from __future__ import annotations

from labsim.report.page import page
from labsim.report.run import run_figures, run_report

__all__ = ["page", "run_figures", "run_report"]
