"""Calibration: does a run reproduce the published figures?

``targets.csv`` (copied, with its sources, from the project's calibration
notes) lists KPIs, their scope (``crowd``: crowd-platform workers, ``crowd:USA``,
``crowd:IND+PHL``: those of these regions pooled; ``crowd:IND+PHL.KPI`` in labsim's one syntax
for an indicator in a scope, ``labsim.indicators.scoped``), the
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

``check`` reads a run folder and refuses, as one ``UserError`` line, every
folder it cannot score: no folder, no ``kpis.json``/``workers.parquet``, a
run whose ``status.json`` does not say ``ok``, a queueing-mode (mmc) run,
a ``kpis.json`` that is not the object ``evaluate`` reads (``_kpis_problem``)
and tables that cannot be read or lack the columns it needs (``_read_table``).
Past ``check``, the run's files are known to have the shape scoring needs.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import polars as pl
import yaml

from labsim.errors import ArgumentParser, UserError, is_plain_number, shown
from labsim.files import CONFIG, KPIS, STATUS, WORKER_WINDOWS, WORKERS
from labsim.indicators import scoped
from labsim.jobs import read_status
from labsim.model.units import HOURS_PER_WEEK
from labsim.results import WINDOW_FLOWS, Results, worker_kpis, workers_over

PROG = "labsim-calibration"

TARGETS = Path(__file__).with_name("targets.csv")
USD_DEFLATOR_TO_2024 = {"2017": 313.689 / 245.120}  # US CPI-U annual averages (BLS)

# The columns scoring reads from a run's tables (worker_kpis, _scope, workers_over), by kind.
WORKER_COLUMNS = {"worker_id": "integer", "region": "text", "channel": "text", "joined_h": "number",
                  "left_h": "number", "exit_reason": "text", **{k: "number" for k in WINDOW_FLOWS}}
OPTIONAL_WORKER_COLUMNS = {"reservation_wage_usd_h": "number"}
WINDOW_COLUMNS = {"worker_id": "integer", "window": "text", **{k: "number" for k in WINDOW_FLOWS}}
_WEEKS = re.compile(r"\s*(\d{1,7})\s*:\s*(\d{1,7})\s*")  # weeks from 1, up to millions


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

    @property
    def name(self) -> str:
        """The target's indicator in labsim's one syntax (``crowd:USA.effective_wage_mean_usd_h``)."""
        return scoped(self.kpi, self.scope)


def load_targets(path: Path = TARGETS) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _scope(workers: pl.DataFrame, scope: str) -> pl.DataFrame:
    channel, _, regions = scope.partition(":")
    w = workers.filter(pl.col("channel") == channel)
    if regions and regions != "all":
        w = w.filter(pl.col("region").is_in(regions.split("+")))
    return w


def parse_weeks(text: Any) -> tuple[int, int] | None:
    """``A:B`` (weeks from 1, both ends included) as (A, B); None when it is not that."""
    m = _WEEKS.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        return None
    first, last = int(m.group(1)), int(m.group(2))
    return (first, last) if 1 <= first <= last else None


def _weeks_arg(text: str) -> str:
    """``--weeks``: A:B with 1 <= A <= B, written back without spaces."""
    weeks = parse_weeks(text)
    if weeks is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not weeks A:B (whole numbers, 1 <= A <= B, e.g. 53:104)")
    return f"{weeks[0]}:{weeks[1]}"


def window_named(kpis: dict[str, Any], weeks: str | None) -> str:
    """The name of the run's window covering ``weeks`` (``A:B``, from 1, ends included); the
    KPI window when ``weeks`` is None."""
    if weeks is None:
        return "kpi"
    windows = kpis.get("windows") or {}
    wanted = parse_weeks(weeks)
    for name, w in windows.items():
        if wanted is not None and parse_weeks(w.get("weeks")) == wanted:
            return name
    listed = ", ".join(f"{w['weeks']} ({name})" for name, w in windows.items()) or "none"
    raise UserError(f"--weeks {weeks}: the run reported no such window; its windows are: {listed}")


def evaluate(workers: pl.DataFrame, worker_windows: pl.DataFrame | None, kpis: dict[str, Any],
             window: str = "kpi", targets: list[dict[str, str]] | None = None) -> list[Check]:
    """Each target against a run's tables, over one of its named windows."""
    w = kpis["windows"][window] if "windows" in kpis else kpis
    length = w["overall"]["window_weeks"] * HOURS_PER_WEEK
    if "weeks" in w:
        start = (parse_weeks(w["weeks"])[0] - 1) * HOURS_PER_WEEK
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
            share = w["by_channel"]["crowd"][kpi]  # null in kpis.json when it was NaN
            value = np.nan if share is None else float(share)
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


def _shown(path: Path) -> str:
    """A path for a one-line message (quoted when it holds a line break or another control)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def _one_line(text: Any, limit: int = 200) -> str:
    """Text from a run's files for a one-line message: one line, at most ``limit`` characters."""
    text = " ".join(str(text).split()) if isinstance(text, str) else shown(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _window_problem(w: Any, legacy: bool = False) -> str | None:
    """What scoring needs of one window of kpis.json and ``w`` lacks, or None."""
    if not isinstance(w, dict):
        return "is not an object"
    if (not legacy or "weeks" in w) and parse_weeks(w.get("weeks")) is None:
        return f"has weeks {shown(w.get('weeks'))}, not A:B"
    overall = w.get("overall")
    if not isinstance(overall, dict):
        return "has no object 'overall'"
    if not (is_plain_number(overall.get("window_weeks")) and overall["window_weeks"] > 0):
        return f"has overall.window_weeks {shown(overall.get('window_weeks'))}, not a number of weeks > 0"
    crowd = w.get("by_channel")
    crowd = crowd.get("crowd") if isinstance(crowd, dict) else None
    if not isinstance(crowd, dict):
        return "has no object 'by_channel.crowd'"
    share = crowd.get("platform_commission_share", "missing")
    if share is not None and not is_plain_number(share):
        return f"has by_channel.crowd.platform_commission_share {shown(share)}, not a number"
    return None


def _json_kind(v: Any) -> str:
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    return {list: "an array", str: "a string"}.get(type(v), "a number")


def _kpis_problem(kpis: Any) -> str | None:
    """What ``evaluate`` needs of a parsed kpis.json and ``kpis`` lacks (one phrase), or None."""
    if not isinstance(kpis, dict):
        return f"holds {_json_kind(kpis)}, not a JSON object"
    meta = kpis.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return "has a 'meta' that is not an object"
    if "windows" not in kpis:  # a run from before named windows: the top level is its KPI window
        start = (meta or {}).get("window_start_h")
        if start is not None and not is_plain_number(start):
            return f"has meta.window_start_h {shown(start)}, not a number"
        problem = _window_problem(kpis, legacy=True)
        return f"has no 'windows', and as the KPI window of an older run it {problem}" if problem else None
    windows = kpis["windows"]
    if not isinstance(windows, dict) or "kpi" not in windows:
        return "has no KPI window ('windows' is not an object with 'kpi')"
    for name, w in windows.items():
        problem = _window_problem(w)
        if problem:
            return f"window {shown(name)} {problem}"
    return None


def _read_json(path: Path, run_dir: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise UserError(f"{_shown(run_dir)}: {path.name} is not readable JSON ({type(exc).__name__})") from None


def _mode(run_dir: Path, kpis: dict[str, Any]) -> Any:
    """The run's mode: kpis.json's meta.mode, else config_resolved.yaml's ``mode`` (None if neither)."""
    meta = kpis.get("meta") or {}
    if meta.get("mode") is not None or not (run_dir / CONFIG).exists():
        return meta.get("mode")
    try:
        cfg = yaml.safe_load((run_dir / CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as exc:
        raise UserError(f"{_shown(run_dir)}: its mode is unknown: {KPIS} has no meta.mode and {CONFIG} "
                        f"is not readable YAML ({type(exc).__name__})") from None
    if not isinstance(cfg, dict):
        raise UserError(f"{_shown(run_dir)}: its mode is unknown: {KPIS} has no meta.mode and {CONFIG} "
                        "is not a mapping")
    return cfg.get("mode")


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to /dev/null for a while: on a corrupt page of a parquet file,
    polars' Rust code prints a panic's message and backtrace there before Python gets the
    exception (``PanicException``). (A corruption that makes it abort the process, e.g. a
    page claiming exabytes, cannot be caught in-process at all.)"""
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to keep quiet
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _kind_ok(dtype: pl.DataType, kind: str) -> bool:
    """Whether a column of ``dtype`` holds what scoring computes with (as labsim writes it)."""
    if kind == "integer":
        return dtype.is_integer()
    if kind == "number":
        return dtype.is_integer() or dtype.is_float()
    return dtype == pl.String


def _read_table(path: Path, run_dir: Path, columns: dict[str, str],
                optional: dict[str, str] | None = None) -> pl.DataFrame:
    """A run's parquet table, refused in one line when it cannot be read or lacks ``columns``."""
    def refuse(why: str) -> UserError:
        return UserError(f"{_shown(run_dir)}: {path.name} {why}")

    try:
        with _quiet_stderr():
            schema = pl.read_parquet_schema(path)
            bad = [f"{c} is missing" if c not in schema else f"{c} is {schema[c]}, not {kind}"
                   for c, kind in columns.items() if c not in schema or not _kind_ok(schema[c], kind)]
            bad += [f"{c} is {schema[c]}, not {kind}" for c, kind in (optional or {}).items()
                    if c in schema and not _kind_ok(schema[c], kind)]
            if bad:
                raise refuse(f"is not a labsim table: column {bad[0]}")
            return pl.read_parquet(path, columns=[c for c in schema if c in columns or c in (optional or {})])
    except UserError:
        raise
    except (OSError, ValueError, pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        # PanicException is not an Exception: polars raises it on what its reader did not expect
        raise refuse(f"is not a readable parquet file ({type(exc).__name__})") from None


def check(run_dir: str | Path, weeks: str | None = None,
          targets: list[dict[str, str]] | None = None) -> list[Check]:
    """Each target against the run in ``run_dir``; UserError (one line) when it is not a market
    run folder whose files can be scored."""
    run_dir = Path(run_dir)
    where = _shown(run_dir)
    if not run_dir.exists():
        raise UserError(f"{where}: no such folder")
    if not run_dir.is_dir():
        raise UserError(f"{where} is not a folder (give the run folder labsim wrote)")
    if not (run_dir / KPIS).is_file() or not (run_dir / WORKERS).is_file():
        raise UserError(f"{where} is not a labsim run folder (no {KPIS}/{WORKERS})")
    if (run_dir / STATUS).exists():  # written last by the labsim command: "ok", or "failed" and why
        said = read_status(run_dir)
        if said.state == "failed":
            raise UserError(f"{where}: the run did not complete ({STATUS} says 'failed'"
                            + (f": {said.error})" if said.error else ")"))
        if not said.ok:
            raise UserError(f"{where}: {said.error}")
    kpis = _read_json(run_dir / KPIS, run_dir)
    if isinstance(kpis, dict) and isinstance(kpis.get("meta") or {}, dict):
        mode = _mode(run_dir, kpis)  # an mmc run is refused as such, whatever else its kpis.json holds
        if mode == "mmc":
            raise UserError(f"{where} is a queueing-mode (mmc) run: it has no market to calibrate")
        if mode not in (None, "market"):
            raise UserError(f"{where} is a run in mode {shown(mode)}: only market runs can be calibrated")
    problem = _kpis_problem(kpis)
    if problem is not None:
        raise UserError(f"{where}: {KPIS} {problem}")
    window = window_named(kpis, weeks)
    workers = _read_table(run_dir / WORKERS, run_dir, WORKER_COLUMNS, OPTIONAL_WORKER_COLUMNS)
    windows_file = run_dir / WORKER_WINDOWS
    windows = (_read_table(windows_file, run_dir, WINDOW_COLUMNS) if windows_file.is_file() else None)
    if window != "kpi" and windows is None:
        raise UserError(f"{where} has no {WORKER_WINDOWS}, so only its KPI window ({KPIS}'s "
                        f"'kpi') can be checked, not --weeks {weeks}")
    return evaluate(workers, windows, kpis, window, targets)


def format_table(checks: list[Check]) -> str:
    rows = [("indicator", "target", "model", "band", "")]
    for c in checks:
        rows.append((c.name, f"{c.target:g}", f"{c.value:.3g}", f"[{c.low:g}, {c.high:g}]",
                     "pass" if c.passed else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description=(
        "Compare runs with the published figures in labsim/calibration/targets.csv (money in 2024 "
        "US dollars) and say, band by band, whether each run reproduces them."))
    p.add_argument("dirs", nargs="+", metavar="RUN_DIR", help="a run folder written by labsim")
    p.add_argument("--weeks", metavar="A:B", default=None, type=_weeks_arg,
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
        tables = [(d, check(d, args.weeks)) for d in args.dirs]  # every folder, before any output
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    failed = 0
    for d, checks in tables:
        print(f"{d}:\n{format_table(checks)}\n")
        failed += sum(not c.passed for c in checks)
    print(f"{failed} band(s) missed" if failed else "all bands met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
