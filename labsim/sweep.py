"""A multirun's folder -> one table of runs and a comparison page; ``labsim-compare``.

``collect`` reads every job folder of one or more sweep folders into one row
per run (``runs.parquet``): its overrides, its status and all its KPIs, so
that an economist can load a whole sweep with one ``pl.read_parquet``.
``write_outputs`` writes that table and the comparison page, reading what
the page needs from the run folders here: the statistics are in
``labsim.stats`` (pure, on frames) and the page in ``labsim.report.compare``
(it draws, and reads no file). ``paired_differences`` and the other
statistics stay importable from here, where the README points.

``SweepCallback`` writes the table and the page at the end of ``labsim -m``;
``labsim-compare`` (``main``) rebuilds them from sweep folders copied back
from elsewhere (a cluster, a colleague).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

import polars as pl
import yaml
from hydra.experimental.callback import Callback

from labsim.errors import ArgumentParser, UserError, shown
from labsim.files import (COMPARISON, COMPARISON_CSV, KPIS, RUNS, STATUS, TIMESERIES, atomic_write,
                          atomic_write_text)
from labsim.hydra_app import job_number, scenario_about
from labsim.indicators import SCHEMA_VERSION, verdict_of
from labsim.jobs import read_status
from labsim.rundir import SharedFolder
from labsim.stats import (
    DIFF_SCHEMA, HEADLINE, INCIDENCE, OVER_DRAWS_SCHEMA, PARAM, PAYERS, REQUESTERS, SPLIT_SCHEMA, burnout_split,
    cell_scopes, home_scopes, leakage_split, rule_differences,
    kpi_levels, market_counts, mean_ci, mean_quarterly_wages, paired_differences, param_columns, quarterly_by_region,
    region_codes, scenarios, t_quantile, wage_split)

__all__ = [  # the statistics are re-exported for code written against labsim.sweep
    "collect", "comparison_table", "job_dirs", "quarterly_wages", "timeseries", "write_outputs", "summary",
    "SweepCallback", "last_sweep_failures", "main", "DIFF_SCHEMA", "HEADLINE", "PARAM", "kpi_levels", "mean_ci",
    "paired_differences", "param_columns", "region_codes", "scenarios", "t_quantile"]

OVERRIDES = Path(".hydra") / "overrides.yaml"
BASE_COLUMNS = {"sweep_dir": pl.Utf8, "run_dir": pl.Utf8, "job": pl.Utf8, "scenario": pl.Utf8,
                "seed": pl.Int64, "overrides": pl.Utf8}
STATUS_COLUMNS = {"status": pl.Utf8, "error": pl.Utf8, "seconds": pl.Float64,
                  "labsim_version": pl.Utf8, "git_commit": pl.Utf8}


# --- collecting ---------------------------------------------------------------------------

def job_dirs(root: str | Path) -> list[Path]:
    """Job folders (holding ``.hydra/overrides.yaml``) at ``root`` or one or two levels below.

    Two levels let ``multirun/DATE`` stand for all sweeps of a day; a plain
    run folder (``outputs/DATE/TIME``) counts as a job of its own.
    Only folders that are where they seem are counted: a symbolic link (``9-self -> .``, a job
    folder linked in from another sweep) or a folder reached through one is skipped, so no run is
    counted twice and none from outside the folders given.
    """
    root = Path(root).resolve()
    levels = [[root], sorted(root.glob("*")), sorted(root.glob("*/*"))]
    return [d for level in levels for d in level
            if not d.name.startswith(".") and not d.is_symlink() and d.resolve() == d
            and (d / OVERRIDES).is_file() and not (d / OVERRIDES.parent).is_symlink()]


def has_jobs(folder: Path) -> bool:
    """Whether ``folder`` holds a job folder Hydra wrote (``N-...`` with ``.hydra/``): a sweep's."""
    try:
        return any(job_number(p.name) is not None and (p / OVERRIDES.parent).is_dir() for p in folder.iterdir())
    except OSError:
        return False


def _job_key(d: Path) -> tuple:
    n = job_number(d.name)
    return (str(d.parent), 0, n, d.name) if n is not None else (str(d.parent), 1, 0, d.name)


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _split_override(text: str) -> tuple[str, str] | None:
    """``key=value`` (also ``+key=``, ``++key=``) -> (key, value); ``~key`` deletions -> None."""
    if "=" not in text or text.startswith("~"):
        return None
    key, value = text.split("=", 1)
    return key.lstrip("+"), value


def _as_float(value: str) -> float | None:
    try:
        x = float(value)
    except ValueError:
        return None
    return x


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            out[name] = None if value is None else float(value)
    return out


def _kpi_columns(kpis: dict) -> dict[str, float | None]:
    """``overall`` flattened with dots; ``by_region`` as ``KEN.kpi``; ``by_channel`` as ``crowd.kpi``;
    ``by_cell`` (the incidence table's) as ``crowd:KEN.kpi``; ``by_group`` (what each requester group
    bought) as ``group:enterprise:EU:large.kpi``; ``by_home`` as ``home:EU.kpi``."""
    cols = _flatten(kpis.get("overall") or {})
    for region, values in sorted((kpis.get("by_region") or {}).items()):
        cols.update(_flatten(values or {}, f"{region}."))
    for scope in ("by_channel", "by_cell", "by_group", "by_home"):
        for name, values in (kpis.get(scope) or {}).items():
            cols.update(_flatten(values or {}, f"{name}."))
    return cols


def _seed_from_config(d: Path) -> int | None:
    try:
        cfg = yaml.safe_load((d / ".hydra" / "config.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    seed = cfg.get("seed") if isinstance(cfg, dict) else None
    return int(seed) if isinstance(seed, (int, float)) else None


def _window(kpis: dict, name: str) -> tuple[str, str | None, dict]:
    """(window used, its weeks as users count them, its KPIs): ``name`` from ``kpis.json``'s named
    windows, or the KPI window (the top level) when the run has no such window."""
    windows = kpis.get("windows") or {}
    if name in windows:
        return name, windows[name].get("weeks"), windows[name]
    return "kpi", (windows.get("kpi") or {}).get("weeks"), kpis


def _has_events(kpis: dict) -> bool:
    return bool(((kpis or {}).get("meta") or {}).get("events"))


def _read_job(d: Path) -> tuple[dict[str, Any], dict[str, str], dict | None]:
    """One job folder -> (fixed columns, raw override values by key, kpis.json of a finished run)."""
    try:
        overrides = yaml.safe_load((d / OVERRIDES).read_text()) or []
    except (OSError, yaml.YAMLError):
        overrides = []
    overrides = [str(o) for o in overrides] if isinstance(overrides, list) else []
    params: dict[str, str] = {}
    for o in overrides:
        kv = _split_override(o)
        if kv:
            params[kv[0]] = kv[1]
    said = read_status(d)
    kpis = _read_json(d / KPIS) if said.ok else None
    meta = (kpis or {}).get("meta") or {}
    state, error = said.state, said.error
    if state == "missing":
        error = None
    elif state == "unreadable":
        state = "missing"
    elif state == "ok" and kpis is None:
        state, error = "missing", f"{STATUS} says ok but {KPIS} is missing or unreadable"
    schema = ((kpis or {}).get("meta") or {}).get("schema", 1)
    if state == "ok" and (not isinstance(schema, int) or schema > SCHEMA_VERSION):
        state, error = "missing", (f"{KPIS} has schema {shown(schema)}, newer than this labsim reads "
                                   f"({SCHEMA_VERSION}): upgrade labsim to read it")
    status = {"scenario": said.scenario, "seed": said.seed, "seconds": said.seconds,
              "labsim_version": said.labsim_version, "git_commit": said.git_commit}

    def first(key: str) -> Any:
        for source in (status, meta):
            if source.get(key) is not None:
                return source[key]
        return None

    scenario = first("scenario") or params.get("scenario") or "baseline"
    seed = first("seed")
    if seed is None and "seed" in params:
        seed = _as_float(params["seed"])
    if seed is None:
        seed = _seed_from_config(d)
    seconds = status.get("seconds")
    row = {"sweep_dir": str(d.parent), "run_dir": str(d), "job": d.name, "scenario": str(scenario),
           "seed": None if seed is None else int(seed), "overrides": " ".join(overrides),
           "status": state, "error": None if error is None else str(error).splitlines()[0],
           "seconds": None if seconds is None else float(seconds),
           "labsim_version": first("labsim_version"), "git_commit": first("git_commit")}
    params = {k: v for k, v in params.items() if k not in ("scenario", "seed")}
    return row, params, (kpis if state == "ok" else None)


def collect(dirs: str | Path | Iterable[str | Path], window: str | None = None) -> pl.DataFrame:
    """One row per job folder found under ``dirs`` (the ``runs.parquet`` table).

    Columns: sweep_dir, run_dir, job, scenario, seed, overrides, then
    ``param.<key>`` for every other override key (a float column when all its
    values parse as numbers, else text), status (ok / failed / missing),
    error, seconds, labsim_version, git_commit, ``window`` and ``weeks`` (the
    named window of ``kpis.json`` the KPIs come from, and its weeks counted
    from 1, both ends included), ``outside_calibration`` (why the run's
    setting is outside the calibrated one, if it is), then every KPI as a float: overall ones by
    name (nested ones dotted, ``automation_share_by_type.image_annotation``),
    per region ``KEN.effective_wage_mean_usd_h``, per channel ``crowd.<kpi>``.
    Failed and missing runs have null KPIs. Rows are ordered by sweep folder,
    then job number.

    ``window`` picks the named window (``kpi``, ``before``, ``after``,
    ``year1``...); a run without it reports its KPI window. By default a sweep
    in which some run has a policy or a region's entry starting after week 0
    reports ``after`` (from the start plus the settling weeks to the end:
    the policy's effect, not a mix with the year before it; a baseline splits
    at ``windows.reference_week``, the policies' default start, so it covers
    the same weeks), and any other sweep its KPI window.
    """
    if isinstance(dirs, (str, Path)):
        dirs = [dirs]
    found: dict[Path, None] = {}
    for root in dirs:
        for d in job_dirs(root):
            found.setdefault(d, None)
    jobs = sorted(found, key=_job_key)
    rows, params, kpis = [], [], []
    for d in jobs:
        r, p, k = _read_job(d)
        rows.append(r)
        params.append(p)
        kpis.append(k)
    columns: dict[str, pl.Series] = {}
    for name, dtype in BASE_COLUMNS.items():
        columns[name] = pl.Series(name, [r[name] for r in rows], dtype=dtype)
    for key in sorted({k for p in params for k in p}):
        raw = [p.get(key) for p in params]
        numbers = [None if v is None else _as_float(v) for v in raw]
        numeric = all(v is None or x is not None for v, x in zip(raw, numbers))
        name = PARAM + key
        columns[name] = (pl.Series(name, numbers, dtype=pl.Float64) if numeric
                         else pl.Series(name, raw, dtype=pl.Utf8))
    for name, dtype in STATUS_COLUMNS.items():
        columns[name] = pl.Series(name, [r[name] for r in rows], dtype=dtype)
    if window is None:
        window = "after" if any(_has_events(k) for k in kpis if k) else "kpi"
    chosen = [_window(k, window) if k else (None, None, {}) for k in kpis]
    columns["window"] = pl.Series("window", [c[0] for c in chosen], dtype=pl.Utf8)
    columns["weeks"] = pl.Series("weeks", [c[1] for c in chosen], dtype=pl.Utf8)
    metas = [((k or {}).get("meta") or {}) for k in kpis]
    columns["scale"] = pl.Series("scale", [m.get("scale") if isinstance(m.get("scale"), (int, float)) else None
                                           for m in metas], dtype=pl.Float64)
    columns["schema_version"] = pl.Series("schema_version", [m.get("schema", 1) if k else None
                                                             for m, k in zip(metas, kpis)], dtype=pl.Int64)
    columns["outside_calibration"] = pl.Series("outside_calibration", [
        "; ".join(((k or {}).get("meta") or {}).get("outside_calibration") or []) or None for k in kpis],
        dtype=pl.Utf8)
    kpis = [_kpi_columns(c[2]) if c[2] else {} for c in chosen]
    kpi_names: dict[str, None] = {}
    for k in kpis:
        kpi_names.update(dict.fromkeys(k))
    for name in kpi_names:
        if name in columns:  # a KPI can never shadow a bookkeeping column
            continue
        columns[name] = pl.Series(name, [k.get(name) for k in kpis], dtype=pl.Float64)
    return pl.DataFrame(list(columns.values()))


# --- writing -----------------------------------------------------------------------------

def quarterly_wages(runs: pl.DataFrame) -> pl.DataFrame:
    """The world map's data: effective wage per scenario x quarter x region, from each ok
    run's timeseries.parquet (scanned, not loaded whole), averaged over the scenario's runs.
    A run whose file is missing or unreadable is left out."""
    per_run = []
    for r in runs.filter(pl.col("status") == "ok").iter_rows(named=True):
        path = Path(r["run_dir"]) / TIMESERIES
        if not path.is_file():
            continue
        try:
            per_run.append((r["scenario"], quarterly_by_region(pl.scan_parquet(path))))
        except (OSError, pl.exceptions.PolarsError):
            continue
    return mean_quarterly_wages(per_run)


def comparison_table(runs: pl.DataFrame, baseline: str | None = None) -> pl.DataFrame:
    """The comparison as one table (``comparison.csv``): each scenario's paired difference from the
    baseline (``kind`` = difference) and each scenario's level (``kind`` = level), for every headline
    KPI, overall and by region, with 95 % intervals and a difference's verdict (labsim.indicators.verdict:
    raises, lowers, no clear change, too few runs to tell); over posterior draws, a difference's range over draws
    and seeds and its split into parameter uncertainty and chance (``labsim.stats.over_draws``). The
    incidence table's differences follow: the ``incidence`` indicators for each channel in each region
    (scope ``crowd:KEN``) and who pays overall (``payers``). Then the exact splits (``kind`` =
    ``split:effective_wage_usd_h``, the change in the log of the hours-weighted wage, by scope, and its
    parts; ``split:burnout_exits_per_1000_moderator_years``, the rate's change and its shift-share
    parts), each part's row holding its mean over pairs and 95 % interval (``labsim.stats.wage_split``,
    ``burnout_split``). Requesters follow: by home jurisdiction (scope ``home:EU``) and, for a rule scoped
    by home, those it binds and the rest (``rule:covered``, ``rule:uncovered``), what they buy from people
    and its cost per task; and where the covered work went (``split:covered_work`` and
    ``split:moved_work``, ``labsim.stats.leakage_split``)."""
    name = baseline or "baseline"
    runs = market_counts(runs)
    diffs = (paired_differences(runs, baseline=name) if name in scenarios(runs)
             else pl.DataFrame(schema=DIFF_SCHEMA))
    levels = kpi_levels(runs, by_region=True)
    over_draws = list(OVER_DRAWS_SCHEMA)  # over posterior draws: null for levels
    if name in scenarios(runs):  # the incidence table: each channel in each region, and who pays
        diffs = pl.concat([diffs, paired_differences(runs, name, INCIDENCE, scopes=cell_scopes(runs)),
                           paired_differences(runs, name, PAYERS, by_region=False),
                           paired_differences(runs, name, REQUESTERS, scopes=home_scopes(runs)),
                           rule_differences(runs, name)])
        splits = pl.concat([wage_split(runs, name), burnout_split(runs, name), leakage_split(runs, name)])
    else:
        splits = pl.DataFrame(schema=SPLIT_SCHEMA)
    said = [verdict_of(r["kpi"], r["ci_low"], r["ci_high"], bool(r.get("sign_depends")))
            for r in diffs.iter_rows(named=True)]
    return pl.concat([
        diffs.select(pl.lit("difference").alias("kind"), "scenario", "scope", "kpi", pl.col("n_pairs").alias("n"),
                     pl.col("mean_diff").alias("value"), "ci_low", "ci_high", "relative_change",
                     pl.Series("verdict", said, dtype=pl.Utf8), *over_draws),
        levels.select(pl.lit("level").alias("kind"), "scenario", "scope", "kpi", pl.col("n_runs").alias("n"),
                      pl.col("mean").alias("value"), "ci_low", "ci_high",
                      pl.lit(None, dtype=pl.Float64).alias("relative_change"),
                      pl.lit(None, dtype=pl.Utf8).alias("verdict"),
                      *[pl.lit(None, dtype=DIFF_SCHEMA[c]).alias(c) for c in over_draws]),
        # Reasons: a change split exactly into parts (kind: the split; kpi: its part; the total's
        # row is the change itself, a change in logs for the wage and in the rate for burnout).
        splits.select(pl.concat_str(pl.lit("split:"), pl.col("kpi")).alias("kind"), "scenario", "scope",
                      pl.col("part").alias("kpi"), pl.col("n_pairs").alias("n"), "value", "ci_low", "ci_high",
                      pl.lit(None, dtype=pl.Float64).alias("relative_change"),
                      pl.lit(None, dtype=pl.Utf8).alias("verdict"),
                      *[pl.lit(None, dtype=DIFF_SCHEMA[c]).alias(c) for c in over_draws])]
    ).with_columns(pl.lit(SCHEMA_VERSION, dtype=pl.Int64).alias("schema_version"))


def timeseries(dirs: str | Path | Iterable[str | Path]) -> pl.LazyFrame:
    """The weekly time series of every finished run of one or more sweep folders, as one lazy frame:
    each run's ``timeseries.parquet`` with its ``job``, ``scenario``, ``seed`` and ``param.*``
    columns in front. Nothing is read until ``.collect()`` (or a filter pushed down)::

        labsim.sweep.timeseries("multirun/2026-12-01/10-00-00").filter(pl.col("region") == "KEN").collect()
    """
    runs = collect(dirs).filter(pl.col("status") == "ok")
    keys = ["job", "scenario", "seed", *param_columns(runs)]
    frames = [pl.scan_parquet(Path(r["run_dir"]) / TIMESERIES).select(
                  *[pl.lit(r[k], dtype=runs.schema[k]).alias(k) for k in keys], pl.all())
              for r in runs.iter_rows(named=True) if (Path(r["run_dir"]) / TIMESERIES).is_file()]
    if not frames:
        return pl.LazyFrame(schema={k: runs.schema[k] for k in keys})
    return pl.concat(frames, how="diagonal_relaxed")


def write_outputs(runs: pl.DataFrame, out: str | Path, baseline: str | None = None) -> str | None:
    """Write ``runs.parquet``, ``comparison.csv`` and ``comparison.html`` into ``out``, each atomically.

    The tables are written first and stand on their own: if the page cannot be
    built, the reason comes back as one line (and no page is written).
    """
    out = Path(out)
    atomic_write(out / RUNS, runs.write_parquet)
    atomic_write(out / COMPARISON_CSV, comparison_table(runs, baseline).write_csv)
    try:
        from labsim.report import compare  # plotly is only needed for the page

        about = {n: (a.title, a.description) for n in scenarios(runs) for a in [scenario_about(n)]}
        html = compare.comparison_page(runs, baseline=baseline, wages=quarterly_wages(runs), about=about)
        atomic_write_text(out / COMPARISON, html)
    except Exception as exc:  # the table matters more than the page
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def summary(runs: pl.DataFrame) -> tuple[int, int, int, int]:
    """(runs, ok, failed, missing)."""
    counts = runs["status"].value_counts()
    by = dict(zip(counts["status"].to_list(), counts["count"].to_list()))
    return runs.height, by.get("ok", 0), by.get("failed", 0), by.get("missing", 0)


def _summary_line(prog: str, runs: pl.DataFrame, out: Path, page_error: str | None) -> str:
    n, ok, failed, missing = summary(runs)
    counts = f"{ok} ok, {failed} failed" + (f", {missing} missing" if missing else "")
    files = f"{out / RUNS}" + ("" if page_error else f", {out / COMPARISON}")
    return f"{prog}: {n} runs ({counts}) -> {files}"


_last_failures = 0


def last_sweep_failures() -> int:
    """Runs of the last sweep seen by SweepCallback that failed or never finished."""
    return _last_failures


class SweepCallback(Callback):
    """Hydra callback: at the end of a multirun, the sweep's table and comparison page.

    Register it under ``hydra.callbacks`` (``_target_: labsim.sweep.SweepCallback``).
    It never raises: a failed run is a row of the table, and a page that
    cannot be built is a warning, not a lost sweep.
    """

    def __init__(self, baseline: str = "baseline", **kwargs: Any) -> None:
        self.baseline = baseline

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        global _last_failures
        _last_failures = 0

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        global _last_failures
        try:
            out = Path(str(config.hydra.sweep.dir)).resolve()
            runs = collect(out)
            if runs.height == 0:  # the jobs wrote elsewhere (hydra.sweep.subdir), or none ran
                _last_failures = 1
                print(f"labsim: error: no runs found in {out} (a job's folder holds {OVERRIDES}): the sweep "
                      "wrote no result there", file=sys.stderr)
                return
            _, _, failed, missing = summary(runs)
            _last_failures = failed + missing
            page_error = write_outputs(runs, out, self.baseline)
            print(_summary_line("labsim", runs, out, page_error), file=sys.stderr)
            if page_error:
                print(f"labsim: warning: no {COMPARISON}: {page_error}", file=sys.stderr)
        except Exception as exc:  # never lose the sweep over its summary
            line = f"{type(exc).__name__}: {exc}".splitlines()[0]
            print(f"labsim: warning: could not summarise the sweep: {line}", file=sys.stderr)


# --- labsim-compare ------------------------------------------------------------------------

PROG = "labsim-compare"


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description=(
        "Rebuild runs.parquet (one row per run: overrides, status, KPIs) and comparison.html "
        "(scenarios against the baseline, paired by seed, with 95 % intervals) from one or "
        "more sweep folders written by `labsim -m`."))
    p.add_argument("dirs", nargs="+", metavar="DIR",
                   help="sweep folder (multirun/DATE/TIME), a folder holding several, or a run folder")
    p.add_argument("--baseline", metavar="NAME", default=None,
                   help="scenario the others are compared with (default: baseline, when present)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="where to write runs.parquet and comparison.html (default: the first DIR)")
    p.add_argument("--window", metavar="NAME", default=None,
                   help="named window of kpis.json the KPIs come from: kpi, before, after, year1, ... "
                        "(default: after when a policy or a region entry starts in the sweep, else kpi)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``labsim-compare``; returns the exit code."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        dirs = [Path(d) for d in args.dirs]
        for d in dirs:
            if not d.is_dir():
                raise UserError(f"no such directory: {d}")
        out = Path(args.out) if args.out else dirs[0]
        if args.window is not None and not re.fullmatch(r"kpi|before|after|year[1-9][0-9]*", args.window):
            raise UserError(f"--window {args.window}: not a window (kpi, before, after, year1, year2, ...)")
        folder = SharedFolder(out, "--out", outputs=(RUNS, COMPARISON, COMPARISON_CSV), ours=has_jobs,
                              foreign_ok=True)
        folder.check()  # never replace a file labsim did not write
        runs = collect(dirs, args.window)
        if runs.height == 0:
            raise UserError(f"no runs found in {', '.join(map(str, dirs))} "
                            f"(a run folder holds {OVERRIDES})")
        names = scenarios(runs)
        if args.baseline is not None and args.baseline not in names:
            raise UserError(f"--baseline {args.baseline}: no such scenario in the runs "
                            f"(scenarios: {', '.join(names)})")
        folder.claim()  # and not while a sweep or another labsim-compare writes there
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # -h / --help
        return exc.code if isinstance(exc.code, int) else 0
    try:
        runs = collect(dirs, args.window)  # again, under the lock: what a sweep finished meanwhile
        page_error = write_outputs(runs, out, args.baseline)
    finally:
        folder.release()
    print(_summary_line(PROG, runs, out.resolve(), page_error), file=sys.stderr)
    code = 0
    if page_error:
        print(f"{PROG}: warning: no {COMPARISON}: {page_error}", file=sys.stderr)
        code = 1
    bad = runs.filter(pl.col("status") != "ok")
    if bad.height:  # the table holds them as rows; the command says which, and does not call it a success
        named = [f"{Path(r).name} ({s}: {e or 'no ' + STATUS})" for r, s, e in
                 zip(bad["run_dir"], bad["status"], bad["error"])]
        print(f"{PROG}: error: {bad.height} of {runs.height} runs have no result: {'; '.join(named[:3])}"
              + (f"; and {bad.height - 3} more" if bad.height > 3 else ""), file=sys.stderr)
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())
