"""The ``labsim`` command: a thin Hydra app around ``labsim.run``.

    labsim                                  # the baseline scenario
    labsim scenario=mmc mmc.servers=3       # any scenario, any override
    labsim -m scenario=baseline seed=0,1,2  # a multirun (sweep)

Before Hydra starts (and creates any folder), the command line is composed
and validated; a mistake ends here with one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from labsim.indicators import view
from labsim.errors import Interrupted, UserError, raise_interrupted
from labsim.files import PART_SUFFIX, REPORT, atomic_write_text, is_stale, remove_stale
from labsim.hydra_app import (explain, hydra_settings, job_number, read_command_line, register, task_overrides,
                              to_config)
from labsim.resources import cores, parallel_slots
from labsim.paths import config_dir
from labsim.jobs import (PARENT_ENV, JobFailed, Status, done, finished, read_status, run_into,
                         watch_parent, write_status)
from labsim.rundir import RunFolder, SharedFolder

PROG = "labsim"


def _fail(message: str, code: int = 2) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(code)


def _progress_bar(enabled: bool, label: str):
    """A console progress bar over simulated time (on stderr, only on a terminal)."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, desc=label, unit="%", disable=None, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def update(share: float) -> None:
        bar.update(round(100 * share) - bar.n)

    return update, bar.close


def run_job(cfg: DictConfig) -> None:
    """One Hydra job: check, simulate, write the run folder all or nothing (labsim.rundir, labsim.jobs).

    The folder ends with ``status.json``: ``ok`` with the provenance of the
    run, or, in a multirun, ``failed`` with the error line (the other jobs go
    on; the sweep's table records the failure). A job whose folder already
    holds a finished run of the same settings is skipped (``labsim.jobs.done``),
    so rerunning a multirun resumes it.
    """
    hc = HydraConfig.get()
    out = Path(os.path.abspath(hc.runtime.output_dir))
    multirun = hc.mode == RunMode.MULTIRUN
    scenario = hc.runtime.choices.get("scenario", "baseline")
    overrides = list(hc.overrides.task)
    what = " ".join(map(str, overrides)) or f"{scenario} seed={cfg.get('seed')}"
    if multirun:
        watch_parent(_discard_current)
    try:
        config, refused = to_config(cfg), None
    except Exception as exc:  # noqa: BLE001 - a configuration a job cannot run: its status says why
        if not multirun:
            raise UserError(explain(exc, [])) from None
        config, refused = None, explain(exc, [])
    if multirun and config is not None and done(out, config):
        print(f"{PROG}: {_jobs_done(out.parent)} already complete, skipped: job {hc.job.num}: {what}",
              file=sys.stderr)
        return
    pinned = _PINNED is not None and _PINNED.staging == out
    folder = _PINNED if pinned else RunFolder(out, overwrite=bool(cfg.output.overwrite),
                                             setting="hydra.sweep.dir" if multirun else "hydra.run.dir")
    try:
        if not pinned:
            try:
                folder.begin()
            except UserError as exc:
                if not multirun:
                    raise
                print(f"{PROG}: error: job {hc.job.num}: {what}: {exc}", file=sys.stderr)
                return
        _CURRENT.append(folder)
        if config is None:
            status, kpis = Status("failed", refused, scenario=scenario, seed=_seed(cfg), overrides=tuple(overrides)), {}
            write_status(folder.staging, status)
        else:
            status, kpis = _run_into(folder.staging, config, OmegaConf.to_yaml(cfg, resolve=True), scenario,
                                     multirun, overrides)
        if not pinned:  # Hydra wrote this job's records into the target: they go with the run
            folder.adopt(".hydra", f"{hc.job.name}.log")
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    finally:
        if folder in _CURRENT:
            _CURRENT.remove(folder)
    if not multirun:
        print(f"{PROG}: {scenario} seed={status.seed} -> {folder.target}", file=sys.stderr)
        print(_summary(kpis, folder.target))
        return
    if status.ok:
        print(f"{PROG}: {_jobs_done(out.parent)} done: job {hc.job.num}: {what}", file=sys.stderr)
    else:
        print(f"{PROG}: {_jobs_done(out.parent)} failed: job {hc.job.num}: {what}: {status.error}",
              file=sys.stderr)


def _seed(cfg: Any) -> int | None:
    seed = cfg.get("seed") if hasattr(cfg, "get") else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def _discard_current() -> None:
    for folder in list(_CURRENT):
        folder.discard()


def _shared_plotlyjs(sweep: Path) -> str:
    """The sweep's one copy of plotly.js, written once (atomically) into the sweep folder; the path a
    job's report loads it from. Nine reports then weigh what one did, and stay offline."""
    from plotly.offline import get_plotlyjs

    from labsim.report.page import plotlyjs_name

    name = plotlyjs_name()
    if not (sweep / name).is_file():
        atomic_write_text(sweep / name, get_plotlyjs())
    return f"../{name}"


JOBS_ENV = "LABSIM_SWEEP_JOBS"  # the number of jobs of the sweep, for its workers' "[3/9]"


def _jobs_done(sweep: Path) -> str:
    """``[3/9]``: the sweep's jobs that have finished (their folder holds a status), of how many."""
    try:
        ended = sum(1 for d in sweep.iterdir()
                    if job_number(d.name) is not None and read_status(d).state != "missing")
    except OSError:
        return "[?]"
    total = os.environ.get(JOBS_ENV)
    return f"[{ended}/{total}]" if total else f"[{ended}]"


def _run_into(staging: Path, config: Any, resolved: str, scenario: str, multirun: bool,
              overrides: list[str]) -> tuple[Status, dict]:
    """Simulate into ``staging`` (labsim.jobs.run_into), with a progress bar for a single run and the
    report. A single run's failure ends the command (exit 1); a sweep job's is its status."""
    from labsim.report import run_report

    def page(results: Any) -> str | None:
        if not config.output.report:
            return None
        return run_report(results, title=f"labsim — {scenario}, seed {config.seed}",
                          plotlyjs=_shared_plotlyjs(staging.parent) if multirun else None)

    # A sweep's jobs run side by side, and their bars would overwrite one another: a sweep reports each
    # job's end with a count instead (run_job).
    update, close = _progress_bar(config.output.progress and not multirun, f"{PROG} {scenario} seed={config.seed}")
    try:
        return run_into(staging, config, scenario=scenario, overrides=overrides, page=page, resolved=resolved,
                        progress=update, keep_going=multirun)
    finally:
        close()


# The end of a run: these KPIs, over the KPI window, and where the report is.
SUMMARY_KPIS = view("summary")


def _summary(kpis: dict, target: Path) -> str:
    """A few headline numbers of a finished run and the path of its report, for the terminal."""
    from labsim.report.theme import fmt_kpi, kpi_label

    overall = kpis.get("overall") or {}
    market = (kpis.get("meta") or {}).get("mode", "market") == "market"
    lines = [f"  {kpi_label(k)}: {fmt_kpi(k, overall[k])}" for k in SUMMARY_KPIS if market and k in overall]
    weeks = ((kpis.get("windows") or {}).get("kpi") or {}).get("weeks")
    report = target / REPORT
    where = f"report: {report}" if report.is_file() else f"results: {target}"
    span = f"weeks {weeks.replace(':', ' to ')}, after warm-up; " if isinstance(weeks, str) else ""
    notes = [f"  note: {n}" for n in (kpis.get("meta") or {}).get("outside_calibration") or []]
    return "\n".join([*lines, f"  ({span}{where})", *notes])


# --- the process: signals, the folder a single run writes, a sweep's workers -----------------

_PINNED: RunFolder | None = None  # a single run's folder, staged before Hydra starts
_SWEEP: SharedFolder | None = None  # a sweep's folder, claimed before Hydra starts
_CURRENT: list[RunFolder] = []  # folders being written in this process


@hydra.main(version_base=None, config_path=str(config_dir()), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    run_job(cfg)


# Hydra's flags: those that only show something, and those that take a value.
_SHOW = {"-h", "--help", "--hydra-help", "--version", "--scenarios", "--cfg", "-c", "--info", "-i",
         "--shell-completion", "-sc", "--resolve"}
_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
               "--config-dir", "-cd", "--experimental-rerun"}
_KNOWN = _SHOW | _WITH_VALUE | {"-m", "--multirun", "--run", "-r"}
_FLAG_VALUES = {"--cfg": ("job", "hydra", "all"), "-c": ("job", "hydra", "all")}


def _split_args(args: list[str]) -> tuple[set[str], list[str]]:
    """(Hydra flags given, the other words); one line for a flag Hydra does not know. Settings never
    start with '-' (a negative number comes after the '='), so every word that does is a flag."""
    flags: set[str] = set()
    words: list[str] = []
    it = iter(args)
    for a in it:
        if not a.startswith("-"):
            words.append(a)
            continue
        name, has_value = a.split("=", 1)[0], "=" in a
        if name not in _KNOWN:
            raise UserError(f"unknown option {name}: see labsim --help (settings are written key=value)")
        flags.add(name)
        if name in _WITH_VALUE:
            value = a.split("=", 1)[1] if has_value else next(it, None)
            allowed = _FLAG_VALUES.get(name)
            if value is None or value.startswith("-") or (allowed and value not in allowed):
                wants = f"one of {', '.join(allowed)}" if allowed else "a value"
                raise UserError(f"{name} takes {wants}" + (f", not {value!r}" if value else ""))
    return flags, words


def _quoted(path: Path) -> str:
    """``path`` as a value Hydra's override grammar reads back exactly."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _prepare(args: list[str]) -> tuple[list[str], bool, Path]:
    """Check the command line and the folder it writes before Hydra starts; returns the arguments
    for Hydra (the folder pinned), whether it is a multirun and the folder."""
    global _PINNED
    flags, words = _split_args(args)
    multirun = bool(flags & {"-m", "--multirun"})
    line = read_command_line(task_overrides(words))
    for w in line.warnings:
        print(f"{PROG}: warning: {w}", file=sys.stderr)
    if line.jobs > 1 and not multirun:
        swept = next(c[1] for c in line.choices if len(c) > 1)
        raise UserError(f"{swept.split('=')[0]} is swept ({line.jobs} runs): add -m to run them all "
                        f"(labsim -m {' '.join(words)})")
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    for w in words:  # each job's folder must be inside the sweep's: that is where its table looks
        name, _, value = w.lstrip("+~").partition("=")
        if multirun and name == "hydra.sweep.subdir":
            parts = Path(value.strip("'\"")).parts
            if not parts or Path(value.strip("'\"")).is_absolute() or ".." in parts:
                raise UserError(f"hydra.sweep.subdir={value} is not allowed: a folder inside the sweep's, "
                                "relative and without '..' (default: ${hydra.job.num}-${hydra.job.override_dirname})")
    own = [w for w in words if w.lstrip("+~").startswith("hydra") and not w.startswith("hydra.searchpath")]
    folder, launcher, n_jobs = hydra_settings([*own, *line.first],
                                              [key, "hydra.launcher._target_", "hydra.launcher.n_jobs"])
    target = Path(os.path.abspath(str(folder)))
    rest = [a for a in args if not a.lstrip("+").startswith(key + "=")]
    if multirun and "joblib" in str(launcher).lower():  # jobs at once on this machine: cores and memory
        asked = n_jobs if isinstance(n_jobs, int) and not isinstance(n_jobs, bool) else -1
        if asked == 0:
            raise UserError("hydra.launcher.n_jobs=0 is not allowed: a number of jobs at once, at least 1 "
                            "(or -1 for one per core)")
        requested = asked if asked > 0 else max(1, cores() + 1 + asked)
        slots, warning = parallel_slots(requested, line.jobs, line.config, "hydra.launcher.n_jobs")
        if warning:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
        rest = [a for a in rest if not a.lstrip("+").startswith("hydra.launcher.n_jobs=")]
        rest.append(f"hydra.launcher.n_jobs={slots}")
    overwrite = line.config.output.overwrite
    if not multirun:
        _PINNED = RunFolder(target, overwrite=overwrite, setting=key)
        staging = _PINNED.begin()
        return [*rest, f"{key}={_quoted(staging)}"], False, target
    check_sweep_folder(target, line, overwrite)
    os.environ[JOBS_ENV] = str(line.jobs)  # the workers inherit it (run_job's count)
    if _SWEEP is not None:
        _SWEEP.claim()
    remove_stale(target)
    return [*rest, f"{key}={_quoted(target)}"], True, target


def sweep_folder(target: Path) -> SharedFolder:
    """A sweep's folder under the rule of labsim.rundir.SharedFolder."""
    from labsim.files import COMPARISON, COMPARISON_CSV, RUNS
    from labsim.sweep import has_jobs

    return SharedFolder(target, "hydra.sweep.dir", outputs=(RUNS, COMPARISON, COMPARISON_CSV), ours=has_jobs)


def check_sweep_folder(target: Path, line: Any, overwrite: bool) -> None:
    """Refuse a sweep folder that holds files labsim did not write, or a finished run of another sweep
    (unless ``overwrite``); the folder this sweep will claim (``_SWEEP``)."""
    global _SWEEP
    _SWEEP = sweep_folder(target)
    _SWEEP.check()
    if overwrite or not target.is_dir():
        return
    import yaml

    from labsim.sweep import OVERRIDES

    for job in sorted(p for p in target.iterdir() if job_number(p.name) is not None and p.is_dir()):
        if not finished(job):
            continue
        try:
            ran = yaml.safe_load((job / OVERRIDES).read_text()) or []
        except (OSError, yaml.YAMLError):
            ran = None
        n = job_number(job.name)
        if n >= line.jobs or not isinstance(ran, list) or set(map(str, ran)) != set(line.job(n)):
            raise UserError(f"hydra.sweep.dir={target} holds another sweep (job {n} ran "
                            f"{' '.join(map(str, ran or [])) or 'other settings'}): choose another folder, or "
                            "add output.overwrite=true to replace its runs")


HELP = """\
labsim: a discrete-event simulation of the labour markets behind AI (data labelling, content
moderation, RLHF rating), run from scenarios and settings written key=value.

usage: labsim [SETTING=VALUE ...]            one run, into outputs/DATE/TIME/
       labsim -m [SETTING=A,B ...] [...]     a sweep: every combination, into multirun/DATE/TIME/

examples:
  labsim                                      the baseline scenario (3 years, report.html)
  labsim scenario=min_wage_floor seed=3       a policy scenario
  labsim -m scenario=baseline,min_wage_floor seed=0,1,2
                                              a paired policy comparison (comparison.html)
  labsim horizon_weeks=104 scale=0.5 hydra.run.dir=my_run

options:
  -h, --help        this page
  --version         labsim's version
  --scenarios       the scenarios, with a line each
  -m, --multirun    run every combination of the swept values
  --cfg job         print the whole composed configuration (every setting, its value)
  --hydra-help      Hydra's own options (launchers, output folders, search path)

Every setting, its range, unit and source: docs/parameters.md. A folder holding a finished run is
not overwritten unless output.overwrite=true. Sister commands: labsim-compare (rebuild a sweep's
table and page), labsim-sensitivity (Morris, Sobol), labsim-calibration (a run against the
published figures), labsim-calibrate (a posterior over the model's unknowns, by ABC),
labsim-classroom (the classroom page), labsim-figures (a run's or a sweep's charts as SVG, PNG or PDF
files).
"""


def _show(flags: set[str]) -> bool:
    """labsim's own informational options; True when one was shown."""
    if flags & {"-h", "--help"}:
        print(HELP, end="")
    elif "--version" in flags:
        from labsim import __version__

        print(f"labsim {__version__}")
    elif "--scenarios" in flags:
        from labsim.hydra_app import scenario_about, scenario_names

        abouts = [scenario_about(n) for n in scenario_names()]
        width = max(len(a.name) for a in abouts)
        for a in abouts:
            print(f"{a.name.ljust(width)}  {a.title}: {a.description}")
    else:
        return False
    return True


def main() -> None:
    """Console entry point of ``labsim``."""
    global _PINNED
    register()
    args = sys.argv[1:]
    try:
        if _show(_split_args(args)[0]):
            return
        flags, _ = _split_args(args)
        if flags & _SHOW:  # --help, --cfg job...: Hydra shows them, nothing runs
            os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises; this function says it in one line
            try:
                _hydra_main()
            except SystemExit:
                raise
            except Exception as exc:  # noqa: BLE001 - a refusal while showing (a value that reads the environment)
                _fail(explain(exc, args))
            return
        hydra_args, multirun, target = _prepare(args)
    except UserError as exc:
        _fail(str(exc))
    except BaseException:  # an interrupt while checking: nothing stays (labsim.entry says it in one line)
        if _PINNED is not None:
            _PINNED.discard()
        if _SWEEP is not None:
            _SWEEP.abandon()
        raise
    sys.argv = [sys.argv[0], *hydra_args]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises; this function says it in one line
    os.environ[PARENT_ENV] = str(os.getpid())
    before = {sig: signal.signal(sig, raise_interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    code, message = 0, None
    stderr, sys.stderr = sys.stderr, _WithoutHydrasLine(sys.stderr)
    try:
        _hydra_main()
    except KeyboardInterrupt:
        code, message = 130, "interrupted (SIGINT)"
    except Interrupted as exc:
        code, message = 128 + exc.signum, f"interrupted ({signal.Signals(exc.signum).name})"
    except UserError as exc:
        code, message = 2, f"error: {exc}"
    except JobFailed as exc:
        code, message = 1, f"error: {exc}"
    except Exception as exc:  # Hydra's own refusals (a folder it cannot write, a launcher's error)
        code, message = 2, f"error: {explain(exc, hydra_args)}"
    finally:
        sys.stderr = stderr
        for sig, handler in before.items():
            signal.signal(sig, handler)
        if _PINNED is not None:
            _PINNED.discard()  # a committed run's staging folder is gone already
            _PINNED = None
        if _SWEEP is not None and not code:
            _SWEEP.release()
    if code:
        if multirun:
            _settle(target)
            if _SWEEP is not None:
                _SWEEP.abandon()
            where = (f"; finished runs stay in {target}: run the same command to resume"
                     if target.is_dir() else "")
        else:
            where = "; nothing was written" if code != 1 else ""
        print(f"{PROG}: {message}{where if code != 2 else ''}", file=sys.stderr)
        sys.exit(code)
    from labsim.sweep import last_sweep_failures

    if last_sweep_failures():
        sys.exit(1)  # the sweep's table and page are written; some runs failed


class _WithoutHydrasLine:
    """stderr without the line Hydra adds before re-raising a job's exception ("Error executing job
    with overrides: [...]"): labsim says what went wrong in one line of its own."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith("Error executing job with overrides:"):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _settle(sweep: Path, seconds: float = 10.0) -> None:
    """After an interrupted sweep: wait for its workers to stop and remove what they left half-written."""
    deadline = time.monotonic() + seconds
    while True:
        remove_stale(sweep)
        left = [p for p in sweep.glob(".*") if is_stale(p) or p.name.endswith(PART_SUFFIX)] \
            if sweep.is_dir() else []
        if not left or time.monotonic() > deadline:
            return
        time.sleep(0.2)


if __name__ == "__main__":
    main()
