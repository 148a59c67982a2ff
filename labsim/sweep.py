"""A multirun's folder -> one table of runs, paired differences, a comparison page.

``collect`` reads every job folder of one or more sweep folders into one row
per run (``runs.parquet``): its overrides, its status and all its KPIs, so
that an economist can load a whole sweep with one ``pl.read_parquet``.
``paired_differences`` compares each scenario with the baseline seed by seed:
scenarios run with the same seed share random streams (common random
numbers), so the difference within a pair is mostly the policy, not noise,
and a t interval over pairs is much narrower than one over unpaired means.

``SweepCallback`` writes the table and the page at the end of ``labsim -m``;
``labsim-compare`` (``main``) rebuilds them from sweep folders copied back
from elsewhere (a cluster, a colleague).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import polars as pl
import yaml
from hydra.experimental.callback import Callback

RUNS = "runs.parquet"
COMPARISON = "comparison.html"
STATUS = "status.json"
KPIS = "kpis.json"
TIMESERIES = "timeseries.parquet"
OVERRIDES = Path(".hydra") / "overrides.yaml"
PARAM = "param."
BASE_COLUMNS = {"sweep_dir": pl.Utf8, "run_dir": pl.Utf8, "job": pl.Utf8, "scenario": pl.Utf8,
                "seed": pl.Int64, "overrides": pl.Utf8}
STATUS_COLUMNS = {"status": pl.Utf8, "error": pl.Utf8, "seconds": pl.Float64,
                  "labsim_version": pl.Utf8, "git_commit": pl.Utf8}
CHANNELS = ("crowd", "vendor")

# The headline KPIs: pay, pay below the local floor, churn, burnout,
# automation, who gets the money, and what the work costs requesters.
HEADLINE = ("effective_wage_mean_usd_h", "share_below_local_min_wage", "annual_turnover_rate",
            "burnout_exits_per_1000_moderator_years", "exits_burnout", "automation_share",
            "worker_share_of_spend", "requester_cost_per_task_usd")

DIFF_SCHEMA = {"scenario": pl.Utf8, "scope": pl.Utf8, "kpi": pl.Utf8, "n_pairs": pl.Int64,
               "baseline_mean": pl.Float64, "scenario_mean": pl.Float64, "mean_diff": pl.Float64,
               "ci_low": pl.Float64, "ci_high": pl.Float64, "relative_change": pl.Float64}


# --- collecting ---------------------------------------------------------------------------

def job_dirs(root: str | Path) -> list[Path]:
    """Job folders (holding ``.hydra/overrides.yaml``) at ``root`` or one or two levels below.

    Two levels let ``multirun/DATE`` stand for all sweeps of a day; a plain
    run folder (``outputs/DATE/TIME``) counts as a job of its own.
    """
    root = Path(root)
    levels = [[root], sorted(root.glob("*")), sorted(root.glob("*/*"))]
    return [d for level in levels for d in level
            if not d.name.startswith(".") and (d / OVERRIDES).is_file()]


def _job_key(d: Path) -> tuple:
    name = d.name
    return (str(d.parent), 0, int(name), "") if name.isdigit() else (str(d.parent), 1, 0, name)


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
    """``overall`` flattened with dots; ``by_region`` as ``KEN.kpi``; ``by_channel`` as ``crowd.kpi``."""
    cols = _flatten(kpis.get("overall") or {})
    for region, values in sorted((kpis.get("by_region") or {}).items()):
        cols.update(_flatten(values or {}, f"{region}."))
    for channel, values in (kpis.get("by_channel") or {}).items():
        cols.update(_flatten(values or {}, f"{channel}."))
    return cols


def _seed_from_config(d: Path) -> int | None:
    try:
        cfg = yaml.safe_load((d / ".hydra" / "config.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    seed = cfg.get("seed") if isinstance(cfg, dict) else None
    return int(seed) if isinstance(seed, (int, float)) else None


def _read_job(d: Path) -> tuple[dict[str, Any], dict[str, str], dict[str, float | None]]:
    """One job folder -> (fixed columns, raw override values by key, KPI columns)."""
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
    status = _read_json(d / STATUS)
    kpis = _read_json(d / KPIS) if status and status.get("status") == "ok" else None
    meta = (kpis or {}).get("meta") or {}
    state, error = "missing", None
    if status is not None:
        state = "ok" if status.get("status") == "ok" else "failed"
        error = status.get("error")
        if state == "ok" and kpis is None:
            state, error = "missing", "status.json says ok but kpis.json is missing or unreadable"
    elif (d / STATUS).exists():
        error = "status.json is unreadable"
    status = status or {}

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
    return row, params, (_kpi_columns(kpis) if state == "ok" else {})


def collect(dirs: str | Path | Iterable[str | Path]) -> pl.DataFrame:
    """One row per job folder found under ``dirs`` (the ``runs.parquet`` table).

    Columns: sweep_dir, run_dir, job, scenario, seed, overrides, then
    ``param.<key>`` for every other override key (a float column when all its
    values parse as numbers, else text), status (ok / failed / missing),
    error, seconds, labsim_version, git_commit, then every KPI as a float:
    overall ones by name (nested ones dotted,
    ``automation_share_by_type.image_annotation``), per region
    ``KEN.effective_wage_mean_usd_h``, per channel ``crowd.<kpi>``. Failed and
    missing runs have null KPIs. Rows are ordered by sweep folder, then job number.
    """
    if isinstance(dirs, (str, Path)):
        dirs = [dirs]
    found: dict[Path, None] = {}
    for root in dirs:
        for d in job_dirs(Path(root).resolve()):
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
    kpi_names: dict[str, None] = {}
    for k in kpis:
        kpi_names.update(dict.fromkeys(k))
    for name in kpi_names:
        if name in columns:  # a KPI can never shadow a bookkeeping column
            continue
        columns[name] = pl.Series(name, [k.get(name) for k in kpis], dtype=pl.Float64)
    return pl.DataFrame(list(columns.values()))


# --- statistics --------------------------------------------------------------------------

def t_quantile(n: int, level: float = 0.95) -> float:
    """The two-sided ``level`` quantile of Student's t with n - 1 degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, n - 1))


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t interval of ``x`` (finite values only); the interval is NaN below two values."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = t_quantile(x.size, level) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return m, m - half, m + half


def region_codes(runs: pl.DataFrame) -> list[str]:
    """Regions present as ``<CODE>.<kpi>`` columns (codes are upper-case ISO-3)."""
    codes = {c.split(".", 1)[0] for c in runs.columns if "." in c and not c.startswith(PARAM)}
    return sorted(c for c in codes if c.isupper() and c.isalpha())


def param_columns(runs: pl.DataFrame) -> list[str]:
    return [c for c in runs.columns if c.startswith(PARAM)]


def scenarios(runs: pl.DataFrame) -> list[str]:
    """Scenarios in order of first appearance (the sweep's job order)."""
    return runs["scenario"].unique(maintain_order=True).to_list()


def paired_differences(runs: pl.DataFrame, baseline: str = "baseline",
                       kpis: Sequence[str] = HEADLINE, by_region: bool = True) -> pl.DataFrame:
    """Each scenario minus the baseline, paired by seed and by every ``param.*`` value.

    Only runs with status ok count; a run without a partner is dropped, and
    runs repeated under the same key (the same sweep collected twice) are
    averaged first. One row per scenario x scope (``ALL`` or a region code) x
    KPI that has at least one complete pair: n_pairs, the baseline's and the
    scenario's means over the pairs, the mean difference with its 95 % t
    interval over pairs (null below two pairs), and the relative change
    (mean difference over the baseline mean).
    """
    if baseline not in set(runs["scenario"].to_list()):
        raise ValueError(f"no scenario named {baseline!r} in the runs "
                         f"(scenarios: {', '.join(scenarios(runs)) or 'none'})")
    ok = runs.filter(pl.col("status") == "ok")
    keys = ["seed", *param_columns(runs)]
    scopes = [("ALL", "")] + ([(r, f"{r}.") for r in region_codes(runs)] if by_region else [])
    wanted = [(scope, kpi, prefix + kpi) for scope, prefix in scopes for kpi in kpis
              if prefix + kpi in ok.columns]
    value_cols = list(dict.fromkeys(col for _, _, col in wanted))
    rows = []
    if ok.height and value_cols:
        def side(name: str) -> pl.DataFrame:
            return (ok.filter(pl.col("scenario") == name)
                    .group_by(keys, maintain_order=True).agg(pl.col(value_cols).mean()))

        base = side(baseline)
        for other in scenarios(ok):
            if other == baseline:
                continue
            pairs = base.join(side(other), on=keys, how="inner", suffix="__s", nulls_equal=True)
            for scope, kpi, col in wanted:
                b = pairs[col].cast(pl.Float64).to_numpy()
                s = pairs[f"{col}__s"].cast(pl.Float64).to_numpy()
                keep = np.isfinite(b) & np.isfinite(s)
                n = int(keep.sum())
                if n == 0:
                    continue
                b, s = b[keep], s[keep]
                mean_diff, lo, hi = mean_ci(s - b)
                base_mean = float(b.mean())
                rows.append({"scenario": other, "scope": scope, "kpi": kpi, "n_pairs": n,
                             "baseline_mean": base_mean, "scenario_mean": float(s.mean()),
                             "mean_diff": mean_diff, "ci_low": lo, "ci_high": hi,
                             "relative_change": mean_diff / base_mean if base_mean else math.nan})
    frame = pl.DataFrame(rows, schema=DIFF_SCHEMA, orient="row")
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


def kpi_levels(runs: pl.DataFrame, kpis: Sequence[str] = HEADLINE, by_region: bool = False) -> pl.DataFrame:
    """Each scenario's mean of each KPI over its ok runs, with a 95 % t interval over them."""
    ok = runs.filter(pl.col("status") == "ok")
    scopes = [("ALL", "")] + ([(r, f"{r}.") for r in region_codes(runs)] if by_region else [])
    rows = []
    for name in scenarios(ok):
        g = ok.filter(pl.col("scenario") == name)
        for scope, prefix in scopes:
            for kpi in kpis:
                if prefix + kpi not in g.columns:
                    continue
                x = g[prefix + kpi].cast(pl.Float64).to_numpy()
                n = int(np.isfinite(x).sum())
                if n == 0:
                    continue
                m, lo, hi = mean_ci(x)
                rows.append({"scenario": name, "scope": scope, "kpi": kpi, "n_runs": n,
                             "mean": m, "ci_low": lo, "ci_high": hi})
    schema = {"scenario": pl.Utf8, "scope": pl.Utf8, "kpi": pl.Utf8, "n_runs": pl.Int64,
              "mean": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(pl.col(pl.Float64).fill_nan(None))


# --- writing -----------------------------------------------------------------------------

def _replace_into(out: Path, name: str, write) -> Path:
    """Write a file under a temporary name, then rename it into place."""
    final = out / name
    part = out / f".{name}.part"
    try:
        write(part)
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)
    return final


def write_outputs(runs: pl.DataFrame, out: str | Path, baseline: str | None = None) -> str | None:
    """Write ``runs.parquet`` then ``comparison.html`` into ``out``, each atomically.

    The table is written first and stands on its own: if the page cannot be
    built, the reason comes back as one line (and no page is written).
    """
    out = Path(out)
    _replace_into(out, RUNS, runs.write_parquet)
    try:
        from labsim.report.compare import comparison_page

        html = comparison_page(runs, baseline=baseline)
        _replace_into(out, COMPARISON, lambda p: p.write_text(html, encoding="utf-8"))
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
            if runs.height == 0:
                print(f"labsim: warning: no runs found in {out}", file=sys.stderr)
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


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=(
        "Rebuild runs.parquet (one row per run: overrides, status, KPIs) and comparison.html "
        "(scenarios against the baseline, paired by seed, with 95 %% intervals) from one or "
        "more sweep folders written by `labsim -m`."))
    p.add_argument("dirs", nargs="+", metavar="DIR",
                   help="sweep folder (multirun/DATE/TIME), a folder holding several, or a run folder")
    p.add_argument("--baseline", metavar="NAME", default=None,
                   help="scenario the others are compared with (default: baseline, when present)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="where to write runs.parquet and comparison.html (default: the first DIR)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``labsim-compare``; returns the exit code."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        dirs = [Path(d) for d in args.dirs]
        for d in dirs:
            if not d.is_dir():
                raise _UsageError(f"no such directory: {d}")
        out = Path(args.out) if args.out else dirs[0]
        if out.exists() and not out.is_dir():
            raise _UsageError(f"--out {out} is not a directory")
        runs = collect(dirs)
        if runs.height == 0:
            raise _UsageError(f"no runs found in {', '.join(map(str, dirs))} "
                              f"(a run folder holds {OVERRIDES})")
        names = scenarios(runs)
        if args.baseline is not None and args.baseline not in names:
            raise _UsageError(f"--baseline {args.baseline}: no such scenario in the runs "
                              f"(scenarios: {', '.join(names)})")
    except _UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # -h / --help
        return exc.code if isinstance(exc.code, int) else 0
    out.mkdir(parents=True, exist_ok=True)
    page_error = write_outputs(runs, out, args.baseline)
    print(_summary_line(PROG, runs, out.resolve(), page_error), file=sys.stderr)
    if page_error:
        print(f"{PROG}: warning: no {COMPARISON}: {page_error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
