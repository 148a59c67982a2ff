"""The ``labsim`` command: a thin Hydra app around ``labsim.run``.

    labsim                                  # the baseline scenario
    labsim scenario=mmc mmc.servers=3       # any scenario, any override
    labsim -m scenario=baseline seed=0,1,2  # a multirun (sweep)

Before Hydra starts (and creates any folder), the command line is composed
and validated; a mistake ends here with one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from labsim.errors import UserError
from labsim.files import CONFIG, KPIS, STATUS, atomic_write_text, write_json
from labsim.hydra_app import check_overrides, explain, register
from labsim.paths import config_dir

PROG = "labsim"


def _fail(message: str, code: int = 2) -> None:
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
    """One Hydra job: validate, simulate, write the run directory.

    The run directory ends with ``status.json``, written last: ``ok`` with
    the provenance of the run, or, in a multirun, ``failed`` with the error
    line (the other jobs go on; the sweep's table records the failure). A job
    whose directory already holds an ``ok`` status for the same resolved
    configuration is skipped, so rerunning a multirun resumes it.
    """
    from labsim.api import git_commit, run, to_config
    from labsim.report import run_report

    hc = HydraConfig.get()
    run_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    scenario = hc.runtime.choices.get("scenario", "baseline")
    resolved = OmegaConf.to_yaml(cfg, resolve=True)
    if multirun and _complete(run_dir, resolved):
        print(f"{PROG}: {scenario} seed={cfg.seed} already complete in {run_dir}, skipped", file=sys.stderr)
        return
    try:
        config = to_config(cfg)
    except Exception as exc:
        _discard(run_dir)
        _fail(explain(exc, []))
    update, close = _progress_bar(config.output.progress, f"{PROG} {scenario} seed={config.seed}")
    started = time.perf_counter()
    (run_dir / STATUS).unlink(missing_ok=True)
    try:
        results = run(config, update)
        results.meta.update({"scenario": scenario, "git_commit": git_commit(),
                             "overrides": list(hc.overrides.task)})
        html = (run_report(results, title=f"labsim — {scenario}, seed {config.seed}")
                if config.output.report else None)
        results.write(run_dir, html)
    except Exception as exc:  # a bug or a numerical failure, not a user error
        line = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if not multirun:
            _discard(run_dir)
            _fail(f"the run failed: {line}", code=1)
        write_json(run_dir / STATUS, {"status": "failed", "error": line, "scenario": scenario,
                                       "seed": config.seed, "overrides": list(hc.overrides.task)})
        print(f"{PROG}: error: {scenario} seed={config.seed} failed: {line} ({run_dir})", file=sys.stderr)
        return
    finally:
        close()
    atomic_write_text(run_dir / CONFIG, resolved)
    write_json(run_dir / STATUS, {"status": "ok", "scenario": scenario, "seed": config.seed,
                                   "overrides": list(hc.overrides.task),
                                   "seconds": round(time.perf_counter() - started, 3),
                                   "labsim_version": results.meta.get("labsim_version"),
                                   "git_commit": results.meta.get("git_commit")})
    print(f"{PROG}: {scenario} seed={config.seed} -> {run_dir}", file=sys.stderr)


def _complete(run_dir: Path, resolved: str) -> bool:
    """Whether ``run_dir`` already holds a finished run of exactly this configuration."""
    try:
        status = json.loads((run_dir / STATUS).read_text())
        same = (run_dir / CONFIG).read_text() == resolved
    except (OSError, ValueError):
        return False
    return status.get("status") == "ok" and same and (run_dir / KPIS).is_file()


def _discard(run_dir: Path) -> None:
    """Remove a run folder that holds nothing but Hydra's own records."""
    if run_dir.is_dir() and all(p.name in {".hydra"} or p.suffix == ".log" for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)


@hydra.main(version_base=None, config_path=str(config_dir()), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    run_job(cfg)


def main() -> None:
    """Console entry point of ``labsim``."""
    register()
    args = sys.argv[1:]
    if not any(a in ("-h", "--help", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion",
                     "-sc") or a.startswith("--cfg") for a in args):
        try:
            for line in check_overrides(args):
                print(f"{PROG}: warning: {line}", file=sys.stderr)
        except UserError as exc:
            _fail(str(exc))
    _hydra_main()
    from labsim.sweep import last_sweep_failures

    if last_sweep_failures():
        sys.exit(1)  # the sweep's table and page are written; some runs failed


if __name__ == "__main__":
    main()
