"""Calibration: does a run reproduce the published figures?

``targets.csv`` (copied, with its sources, from the project's calibration
notes) lists KPIs, their scope (``crowd:all``, ``crowd:USA``,
``crowd:IND+PHL``: crowd-platform workers of those regions pooled), the
target and the band the model must fall in. The model runs in 2024 US
dollars, so money targets published in another year's dollars are converted
with the US consumer price index (CPI-U, annual averages, BLS): the 2017
survey's figures x 313.689 / 245.120 = x 1.2797; the published figures stay
beside them (``published``, ``usd_year``).

``evaluate`` computes each KPI over the scope's workers in one named window
of the run with ``labsim.results.worker_kpis``, the code that writes
``kpis.json``; ``labsim-calibration RUN_DIR... [--weeks A:B]`` prints the
table for the KPI window (or the window of weeks A to B, counted from 1,
both ends included) and exits 1 when a band is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import polars as pl

from labsim.errors import UserError
from labsim.files import KPIS, WORKER_WINDOWS, WORKERS
from labsim.model.units import HOURS_PER_WEEK
from labsim.results import Results, worker_kpis, workers_over

PROG = "labsim-calibration"

TARGETS = Path(__file__).with_name("targets.csv")
USD_DEFLATOR_TO_2024 = {"2017": 313.689 / 245.120}  # US CPI-U annual averages (BLS)


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


def window_named(kpis: dict[str, Any], weeks: str | None) -> str:
    """The name of the run's window covering ``weeks`` (``A:B``, from 1, ends included); the
    KPI window when ``weeks`` is None."""
    windows = kpis.get("windows") or {}
    if weeks is None:
        return "kpi"
    for name, w in windows.items():
        if w.get("weeks") == weeks:
            return name
    listed = ", ".join(f"{w['weeks']} ({name})" for name, w in windows.items()) or "none"
    raise UserError(f"--weeks {weeks}: the run reported no such window; its windows are: {listed}")


def evaluate(workers: pl.DataFrame, worker_windows: pl.DataFrame | None, kpis: dict[str, Any],
             window: str = "kpi", targets: list[dict[str, str]] | None = None) -> list[Check]:
    """Each target against a run's tables, over one of its named windows."""
    w = kpis["windows"][window] if "windows" in kpis else kpis
    length = w["overall"]["window_weeks"] * HOURS_PER_WEEK
    if "weeks" in w:
        start = (int(w["weeks"].split(":")[0]) - 1) * HOURS_PER_WEEK
    else:  # a run from before named windows: its KPI window ends at the horizon
        start = float((kpis.get("meta") or {}).get("window_start_h") or 0.0)
    if window != "kpi":
        if worker_windows is None:
            raise UserError(f"the run has no {WORKER_WINDOWS}, so only its KPI window can be checked")
        workers = workers_over(workers, worker_windows, window)
    end = length
    out = []
    for t in targets or load_targets():
        kpi, scope = t["kpi"], t["scope"]
        if kpi == "platform_commission_share":
            value = float(w["by_channel"]["crowd"][kpi] or np.nan)
        else:
            value = float(worker_kpis(_scope(workers, scope), start, start + end)[kpi])
        out.append(Check(kpi, scope, float(t["target"]), float(t["low"]), float(t["high"]), value,
                         t["source"]))
    return out


def check_results(results: Results, weeks: str | None = None,
                  targets: list[dict[str, str]] | None = None) -> list[Check]:
    """Each target against a run held in memory (``labsim.run``'s Results)."""
    return evaluate(results.workers, results.worker_windows, results.kpis,
                    window_named(results.kpis, weeks), targets)


def check(run_dir: str | Path, weeks: str | None = None,
          targets: list[dict[str, str]] | None = None) -> list[Check]:
    """Each target against the run in ``run_dir``; UserError when it is not a market run folder."""
    run_dir = Path(run_dir)
    if not (run_dir / KPIS).is_file() or not (run_dir / WORKERS).is_file():
        raise UserError(f"{run_dir} is not a labsim run folder (no {KPIS}/{WORKERS})")
    try:
        kpis = json.loads((run_dir / KPIS).read_text())
        workers = pl.read_parquet(run_dir / WORKERS)
        windows_file = run_dir / WORKER_WINDOWS
        windows = pl.read_parquet(windows_file) if windows_file.is_file() else None
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise UserError(f"{run_dir}: cannot read its results ({type(exc).__name__})") from None
    if (kpis.get("meta") or {}).get("mode") == "mmc":
        raise UserError(f"{run_dir} is a queueing-mode (mmc) run: it has no market to calibrate")
    return evaluate(workers, windows, kpis, window_named(kpis, weeks), targets)


def format_table(checks: list[Check]) -> str:
    rows = [("kpi", "scope", "target", "model", "band", "")]
    for c in checks:
        rows.append((c.kpi, c.scope, f"{c.target:g}", f"{c.value:.3g}", f"[{c.low:g}, {c.high:g}]",
                     "pass" if c.passed else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UserError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=(
        "Compare runs with the published figures in labsim/calibration/targets.csv (money in 2024 "
        "US dollars) and say, band by band, whether each run reproduces them."))
    p.add_argument("dirs", nargs="+", metavar="RUN_DIR", help="a run folder written by labsim")
    p.add_argument("--weeks", metavar="A:B", default=None,
                   help="one of the run's named windows, as weeks from 1, both ends included "
                        "(e.g. 53:104 for the second year; default: the KPI window)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``labsim-calibration RUN_DIR [RUN_DIR...] [--weeks A:B]``: targets, model values, bands."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args_list:
            raise UserError(f"usage: {PROG} RUN_DIR [RUN_DIR ...] [--weeks A:B]")
        args = _parser().parse_args(args_list)
        failed = 0
        for d in args.dirs:
            checks = check(d, args.weeks)
            print(f"{d}:\n{format_table(checks)}\n")
            failed += sum(not c.passed for c in checks)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    print(f"{failed} band(s) missed" if failed else "all bands met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
