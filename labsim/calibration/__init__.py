"""Calibration: does a run reproduce the published figures?

``targets.csv`` (copied, with its sources, from the project's calibration
notes) lists KPIs, their scope (``crowd:all``, ``crowd:USA``,
``crowd:IND+PHL``: crowd-platform workers of those regions pooled), the
published value and the band the model must fall in. ``check(run_dir)``
computes each KPI over the scope's workers with ``labsim.results.worker_kpis``,
the code that writes ``kpis.json``; ``labsim-calibration RUN_DIR...`` prints the table and exits
non-zero when a band is missed.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from labsim.errors import UserError
from labsim.files import KPIS, TIMESERIES, WORKERS
from labsim.model.units import HOURS_PER_WEEK
from labsim.results import worker_kpis

PROG = "labsim-calibration"

TARGETS = Path(__file__).with_name("targets.csv")


@dataclass
class Check:
    kpi: str
    scope: str
    target: float
    low: float
    high: float
    value: float
    source: str

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.value) and self.low <= self.value <= self.high)


def load_targets(path: Path = TARGETS) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _scope(workers: pl.DataFrame, scope: str) -> pl.DataFrame:
    channel, _, regions = scope.partition(":")
    w = workers.filter(pl.col("channel") == channel)
    if regions and regions != "all":
        w = w.filter(pl.col("region").is_in(regions.split("+")))
    return w


def check(run_dir: str | Path, targets: list[dict[str, str]] | None = None) -> list[Check]:
    """Each target against the run in ``run_dir``; UserError when it is not a run folder."""
    run_dir = Path(run_dir)
    if not (run_dir / KPIS).is_file() or not (run_dir / WORKERS).is_file():
        raise UserError(f"{run_dir} is not a labsim run folder (no {KPIS}/{WORKERS})")
    workers = pl.read_parquet(run_dir / WORKERS)
    kpis = json.loads((run_dir / KPIS).read_text())
    window = kpis["overall"]["window_weeks"] * HOURS_PER_WEEK
    horizon = float(kpis.get("meta", {}).get("horizon_h") or 0.0)
    if not horizon:
        ts = pl.read_parquet(run_dir / TIMESERIES)
        horizon = (int(ts["week"].max()) + 1) * HOURS_PER_WEEK
    start = horizon - window
    out = []
    for t in targets or load_targets():
        kpi, scope = t["kpi"], t["scope"]
        if kpi == "platform_commission_share":
            value = float(kpis["by_channel"]["crowd"][kpi] or np.nan)
        else:
            value = float(worker_kpis(_scope(workers, scope), start, horizon)[kpi])
        out.append(Check(kpi, scope, float(t["target"]), float(t["low"]), float(t["high"]), value,
                         t["source"]))
    return out


def format_table(checks: list[Check]) -> str:
    rows = [("kpi", "scope", "target", "model", "band", "")]
    for c in checks:
        rows.append((c.kpi, c.scope, f"{c.target:g}", f"{c.value:.3g}", f"[{c.low:g}, {c.high:g}]",
                     "pass" if c.passed else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def main(argv: list[str] | None = None) -> int:
    """``labsim-calibration RUN_DIR [RUN_DIR...]``: print targets, model values, bands, pass/fail."""
    args = sys.argv[1:] if argv is None else argv
    if not args or any(a in ("-h", "--help") for a in args):
        print(f"usage: {PROG} RUN_DIR [RUN_DIR ...]\n"
              f"Compares each run's {WORKERS} and {KPIS} with labsim/calibration/targets.csv.")
        return 0 if args else 2
    failed = 0
    for d in args:
        try:
            checks = check(d)
        except UserError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        print(f"{d}:\n{format_table(checks)}\n")
        failed += sum(not c.passed for c in checks)
    print(f"{failed} band(s) missed" if failed else "all bands met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
