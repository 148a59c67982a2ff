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
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from labsim.errors import Interrupted, UserError, raise_interrupted
from labsim.files import CONFIG, PART_SUFFIX, REPORT, STATUS, atomic_write_text, is_stale, remove_stale, write_json
from labsim.hydra_app import explain, hydra_settings, job_number, read_command_line, register, task_overrides
from labsim.resources import check_parallel
from labsim.paths import config_dir
from labsim.rundir import RunFolder, finished, make_folder

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
    """One Hydra job: validate, simulate, write the run folder all or nothing (labsim.rundir).

    The folder ends with ``status.json``: ``ok`` with the provenance of the
    run, or, in a multirun, ``failed`` with the error line (the other jobs go
    on; the sweep's table records the failure). A job whose folder already
    holds an ``ok`` run of the same configuration is skipped, so rerunning a
    multirun resumes it.
    """
    hc = HydraConfig.get()
    out = Path(os.path.abspath(hc.runtime.output_dir))
    multirun = hc.mode == RunMode.MULTIRUN
    scenario = hc.runtime.choices.get("scenario", "baseline")
    resolved = OmegaConf.to_yaml(cfg, resolve=True)
    if multirun:
        _watch_parent()
        if _complete(out, resolved):
            print(f"{PROG}: {_jobs_done(out.parent)} already complete, skipped: job {hc.job.num}: "
                  f"{' '.join(map(str, hc.overrides.task))}", file=sys.stderr)
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
                print(f"{PROG}: error: {scenario} seed={cfg.seed}: {exc}", file=sys.stderr)
                return
        _CURRENT.append(folder)
        status, kpis = _run_into(folder.staging, cfg, resolved, scenario, multirun, list(hc.overrides.task))
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
        print(f"{PROG}: {scenario} seed={status['seed']} -> {folder.target}", file=sys.stderr)
        print(_summary(kpis, folder.target))
        return
    what = " ".join(map(str, hc.overrides.task)) or f"{scenario} seed={status['seed']}"
    if status["status"] == "ok":
        print(f"{PROG}: {_jobs_done(out.parent)} done: job {hc.job.num}: {what}", file=sys.stderr)
    else:
        print(f"{PROG}: {_jobs_done(out.parent)} failed: job {hc.job.num}: {what}: {status['error']}",
              file=sys.stderr)


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
    """``[3/9]``: the sweep's jobs that have finished (their folder holds status.json), of how many."""
    try:
        done = sum(1 for d in sweep.iterdir() if job_number(d.name) is not None and (d / STATUS).is_file())
    except OSError:
        return "[?]"
    total = os.environ.get(JOBS_ENV)
    return f"[{done}/{total}]" if total else f"[{done}]"


def _run_into(staging: Path, cfg: DictConfig, resolved: str, scenario: str, multirun: bool,
              overrides: list[str]) -> tuple[dict, dict]:
    """Simulate into ``staging``; the status written last. Returns the status and the run's KPIs. A
    single run's failure ends the command (one line, exit 2 for a configuration, 1 for a failed
    run); a sweep job's is its status."""
    from labsim.api import git_commit, run, to_config
    from labsim.report import run_report

    base = {"scenario": scenario, "seed": cfg.get("seed"), "overrides": overrides}

    def failed(line: str) -> tuple[dict, dict]:
        status = {"status": "failed", "error": line, **base}
        write_json(staging / STATUS, status)
        return status, {}

    try:
        config = to_config(cfg)
    except Exception as exc:
        if not multirun:
            raise UserError(explain(exc, [])) from None
        return failed(explain(exc, []))
    # A sweep's jobs run side by side, and their bars would overwrite one another: a sweep reports each
    # job's end with a count instead (run_job).
    update, close = _progress_bar(config.output.progress and not multirun, f"{PROG} {scenario} seed={config.seed}")
    started = time.perf_counter()
    try:
        results = run(config, update)
        results.meta.update({"scenario": scenario, "git_commit": git_commit(), "overrides": overrides})
        html = (run_report(results, title=f"labsim — {scenario}, seed {config.seed}",
                           plotlyjs=_shared_plotlyjs(staging.parent) if multirun else None)
                if config.output.report else None)
        results.write(staging, html)
    except Exception as exc:  # a bug or a numerical failure, not a user error
        line = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if not multirun:
            raise RunFailed(f"the run failed: {line}") from None
        return failed(line)
    finally:
        close()
    atomic_write_text(staging / CONFIG, resolved)
    status = {"status": "ok", **base, "seed": config.seed,
              "seconds": round(time.perf_counter() - started, 3),
              "labsim_version": results.meta.get("labsim_version"),
              "git_commit": results.meta.get("git_commit")}
    write_json(staging / STATUS, status)
    return status, {**results.kpis, "meta": results.meta}


# The end of a run: these KPIs, over the KPI window, and where the report is.
SUMMARY_KPIS = ("effective_wage_mean_usd_h", "share_below_local_min_wage", "moderator_high_stress_share",
                "requester_cost_per_task_usd")


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


class RunFailed(Exception):
    """A single run failed (a bug or a numerical failure): exit code 1."""


def _settings(text: str) -> dict | None:
    """A resolved configuration without its ``output`` section (what a run writes, not what it is);
    None when it is not one."""
    import yaml

    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(values, dict):
        return None
    values.pop("output", None)
    return values


def _complete(run_dir: Path, resolved: str) -> bool:
    """Whether ``run_dir`` already holds a finished run of exactly this configuration."""
    try:
        ran = _settings((run_dir / CONFIG).read_text())
    except OSError:
        return False
    return ran is not None and ran == _settings(resolved) and finished(run_dir)


# --- the process: signals, the folder a single run writes, a sweep's workers -----------------

_PINNED: RunFolder | None = None  # a single run's folder, staged before Hydra starts
_CURRENT: list[RunFolder] = []  # folders being written in this process


_WATCHING = False


def _watch_parent() -> None:
    """In a sweep's worker process (a child of the ``labsim -m`` process): when that process dies,
    remove this job's staging folder and exit, so no orphan keeps writing into the sweep folder."""
    global _WATCHING
    parent = os.environ.get(PARENT_ENV)
    if _WATCHING or not parent or not parent.isdigit() or os.getppid() != int(parent):
        return  # not a direct child of labsim (the basic launcher, a cluster's job): nothing to watch
    _WATCHING = True

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.5)
        for folder in list(_CURRENT):
            folder.discard()
        os._exit(143)

    threading.Thread(target=watch, name="labsim-parent-watch", daemon=True).start()


PARENT_ENV = "LABSIM_PARENT_PID"


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


def _prepare(args: list[str]) -> tuple[list[str], bool, Path, list[Path]]:
    """Check the command line and the folder it writes before Hydra starts; returns the arguments
    for Hydra (the folder pinned), whether it is a multirun, the folder and the folders created."""
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
    own = [w for w in words if w.lstrip("+~").startswith("hydra") and not w.startswith("hydra.searchpath")]
    folder, launcher, n_jobs = hydra_settings([*own, *line.first],
                                              [key, "hydra.launcher._target_", "hydra.launcher.n_jobs"])
    target = Path(os.path.abspath(str(folder)))
    if multirun and "joblib" in str(launcher).lower():  # jobs at once on this machine: their memory adds up
        n = int(n_jobs) if isinstance(n_jobs, int) else -1
        check_parallel(line.config, min(line.jobs, n if n > 0 else max(1, (os.cpu_count() or 1) + 1 + n)))
    rest = [a for a in args if not a.lstrip("+").startswith(key + "=")]
    overwrite = line.config.output.overwrite
    if not multirun:
        _PINNED = RunFolder(target, overwrite=overwrite, setting=key)
        staging = _PINNED.begin()
        return [*rest, f"{key}={_quoted(staging)}"], False, target, []
    check_sweep_folder(target, line, overwrite)
    os.environ[JOBS_ENV] = str(line.jobs)  # the workers inherit it (run_job's count)
    created = make_folder(target, key)
    remove_stale(target)
    return [*rest, f"{key}={_quoted(target)}"], True, target, created


def check_sweep_folder(target: Path, line: Any, overwrite: bool) -> None:
    """Refuse a sweep folder that holds a finished run of another sweep (unless ``overwrite``)."""
    if target.exists() and not target.is_dir():
        raise UserError(f"hydra.sweep.dir={target} is a file, not a folder: choose another folder")
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
        hydra_args, multirun, target, created = _prepare(args)
    except UserError as exc:
        _fail(str(exc))
    sys.argv = [sys.argv[0], *hydra_args]
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises; this function says it in one line
    os.environ[PARENT_ENV] = str(os.getpid())
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_interrupted)
    code, message = 0, None
    try:
        _hydra_main()
    except KeyboardInterrupt:
        code, message = 130, "interrupted (SIGINT)"
    except Interrupted as exc:
        code, message = 128 + exc.signum, f"interrupted ({signal.Signals(exc.signum).name})"
    except UserError as exc:
        code, message = 2, f"error: {exc}"
    except RunFailed as exc:
        code, message = 1, f"error: {exc}"
    except Exception as exc:  # Hydra's own refusals (a folder it cannot write, a launcher's error)
        code, message = 2, f"error: {explain(exc, hydra_args)}"
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        if _PINNED is not None:
            _PINNED.discard()  # a committed run's staging folder is gone already
            _PINNED = None
    if code:
        if multirun:
            _settle(target)
            for folder in created:
                try:
                    folder.rmdir()
                except OSError:
                    break
            where = (f"; finished runs stay in {target}: run the same command to resume"
                     if target.is_dir() else "")
        else:
            where = "; nothing was written" if code != 1 else ""
        print(f"{PROG}: {message}{where if code != 2 else ''}", file=sys.stderr)
        sys.exit(code)
    from labsim.sweep import last_sweep_failures

    if last_sweep_failures():
        sys.exit(1)  # the sweep's table and page are written; some runs failed


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
