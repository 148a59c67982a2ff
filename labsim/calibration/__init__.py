"""Calibration: does a run reproduce the published figures?

``targets.csv`` (copied, with its sources, from the project's calibration
notes) lists KPIs, their scope (``crowd:all``, ``crowd:USA``,
``crowd:IND+PHL``: crowd-platform workers of those regions pooled), the
published value and the band the model must fall in. ``check(run_dir)``
computes each KPI over the run's workers with the same definitions as
``kpis.json``; ``labsim-calibration RUN_DIR...`` prints the table and exits
non-zero when a band is missed.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from labsim.results import KPIS, WORKERS, kaplan_meier_median, HOURS_PER_MONTH

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


def scoped_kpi(kpi: str, workers: pl.DataFrame, kpis: dict, window_start_h: float,
               horizon_h: float) -> float:
    """A KPI over a scope's workers (the definitions of DESIGN.md section 3)."""
    counted = workers.filter(pl.col("paid_hours") > 0)
    paid = counted["paid_hours"].to_numpy()
    unpaid = counted["unpaid_hours"].to_numpy()
    earn = counted["earnings_usd"].to_numpy()
    if kpi == "effective_wage_mean_usd_h":
        return float(np.mean(earn / (paid + unpaid))) if paid.size else float("nan")
    if kpi == "effective_wage_median_usd_h":
        return float(np.median(earn / (paid + unpaid))) if paid.size else float("nan")
    if kpi == "paid_wage_mean_usd_h":
        return float(np.mean(earn / paid)) if paid.size else float("nan")
    if kpi == "unpaid_min_per_paid_hour":
        return float(60 * unpaid.sum() / paid.sum()) if paid.size else float("nan")
    if kpi == "hours_per_week_mean":
        left = counted["left_h"].fill_null(horizon_h).to_numpy()
        weeks = (np.minimum(left, horizon_h) - np.maximum(counted["joined_h"].to_numpy(), window_start_h)) / 168.0
        return float(np.mean((paid + unpaid) / np.maximum(weeks, 1 / 168.0))) if paid.size else float("nan")
    if kpi == "worker_half_life_months":
        cohort = workers.filter(pl.col("joined_h") >= window_start_h)
        left = cohort["left_h"].to_numpy()
        exited = ~np.isnan(left)
        duration = np.where(exited, left, horizon_h) - cohort["joined_h"].to_numpy()
        return kaplan_meier_median(duration, exited) / HOURS_PER_MONTH
    raise KeyError(kpi)


def check(run_dir: str | Path, targets: list[dict[str, str]] | None = None) -> list[Check]:
    """Each target against the run in ``run_dir``."""
    import json

    run_dir = Path(run_dir)
    workers = pl.read_parquet(run_dir / WORKERS)
    kpis = json.loads((run_dir / KPIS).read_text())
    window = kpis["overall"]["window_weeks"] * 168.0
    horizon = float(kpis.get("meta", {}).get("horizon_h") or 0.0)
    if not horizon:
        ts = pl.read_parquet(run_dir / "timeseries.parquet")
        horizon = (int(ts["week"].max()) + 1) * 168.0
    start = horizon - window
    out = []
    for t in targets or load_targets():
        kpi, scope = t["kpi"], t["scope"]
        if kpi == "platform_commission_share":
            value = float(kpis["by_channel"]["crowd"][kpi] or np.nan)
        else:
            value = scoped_kpi(kpi, _scope(workers, scope), kpis, start, horizon)
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
        print("usage: labsim-calibration RUN_DIR [RUN_DIR ...]\n"
              "Compares each run's workers.parquet and kpis.json with labsim/calibration/targets.csv.")
        return 0 if args else 2
    failed = 0
    for d in args:
        if not (Path(d) / KPIS).is_file() or not (Path(d) / WORKERS).is_file():
            print(f"labsim-calibration: error: {d} is not a labsim run folder (no kpis.json/workers.parquet)",
                  file=sys.stderr)
            return 2
        checks = check(d)
        print(f"{d}:\n{format_table(checks)}\n")
        failed += sum(not c.passed for c in checks)
    print(f"{failed} band(s) missed" if failed else "all bands met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
