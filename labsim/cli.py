"""The ``labsim`` command: a thin Hydra app around ``labsim.run``.

    labsim                                  # the baseline scenario
    labsim scenario=mmc mmc.servers=3       # any scenario, any override
    labsim -m scenario=baseline seed=0,1,2  # a multirun (sweep)

Before Hydra starts (and creates any folder), the command line is composed
and validated; a mistake ends here with one line on stderr and exit code 2.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from labsim.hydra_app import UserError, check_overrides, explain, register
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
    """One Hydra job: validate, simulate, write the run directory."""
    from labsim.api import git_commit, run, to_config
    from labsim.report import run_report

    hc = HydraConfig.get()
    run_dir = Path(hc.runtime.output_dir)
    scenario = hc.runtime.choices.get("scenario", "baseline")
    try:
        config = to_config(cfg)
    except Exception as exc:
        _discard(run_dir)
        _fail(explain(exc, []))
    update, close = _progress_bar(config.output.progress, f"{PROG} {scenario} seed={config.seed}")
    try:
        results = run(config, update)
    finally:
        close()
    results.meta.update({"scenario": scenario, "git_commit": git_commit(),
                         "overrides": list(hc.overrides.task)})
    html = run_report(results, title=f"labsim — {scenario}, seed {config.seed}") if config.output.report else None
    results.write(run_dir, html)
    OmegaConf.save(cfg, run_dir / "config_resolved.yaml", resolve=True)
    print(f"{PROG}: {scenario} seed={config.seed} -> {run_dir}", file=sys.stderr)


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
            check_overrides(args)
        except UserError as exc:
            _fail(str(exc))
    _hydra_main()


if __name__ == "__main__":
    main()
