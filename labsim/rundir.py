"""Run folders that are all or nothing, for every labsim command.

A run never writes into its folder. It writes into a staging folder beside
it (``.NAME.<host>-<pid>-<token>.part``, ``labsim.files.part_path``) and,
once every file is complete, ``RunFolder.commit`` renames the staging folder
into place in one step. So a folder named like a run holds either nothing
or a whole run, ``status.json`` included, whatever happens to the process:

* an error, SIGINT or SIGTERM: ``discard`` removes the staging folder and
  the empty parents this run created, and nothing else;
* SIGKILL or a power cut: the staging folder stays behind, recognised by
  its name (its process is gone) and removed by the next run that writes
  beside it (``labsim.files.remove_stale``);
* two runs into one folder: the rename is the lock. The first to finish
  takes the folder; the second, finding a finished run there, is refused
  (unless it was told to overwrite, and then it replaces the folder whole).

``check_target`` is the rule, applied before anything runs: a target may be
new, empty, or a folder labsim wrote (``.hydra/`` in it) that holds no
finished run; a finished run is replaced only with ``overwrite``; a folder
holding anything else (a user's files) or a path that is a file is refused.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

from labsim.errors import UserError
from labsim.files import KPIS, STATUS, part_path, remove_stale

HYDRA_RECORDS = ".hydra"


def finished(folder: Path) -> bool:
    """Whether ``folder`` holds a finished run: ``status.json`` ok and ``kpis.json``."""
    try:
        status = json.loads((folder / STATUS).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(status, dict) and status.get("status") == "ok" and (folder / KPIS).is_file()


def _own(folder: Path) -> bool:
    """Whether ``folder`` is a run folder labsim (Hydra) wrote: it holds ``.hydra/``."""
    return (folder / HYDRA_RECORDS).is_dir()


def check_target(target: Path, overwrite: bool, setting: str = "hydra.run.dir", owned: bool = False) -> None:
    """Refuse, in one line, a target this run could not take whole (see the module's rule). ``owned``:
    the caller made the folder's parent for its runs (labsim-sensitivity's runs/NNNN), so whatever
    is there that is not a finished run is an earlier attempt's."""
    here = Path.cwd()
    if target == here or target in here.parents:
        raise UserError(f"{setting}={target} is the current folder{' or holds it' if target != here else ''}: "
                        "give the run a folder of its own")
    if target.exists() and not target.is_dir():
        raise UserError(f"{setting}={target} is a file, not a folder: choose another folder")
    if not target.is_dir():
        return
    try:
        entries = sorted(p.name for p in target.iterdir())
    except OSError as exc:
        raise UserError(f"{setting}={target} cannot be read ({exc.strerror}): choose another folder") from None
    if not entries:
        return
    if finished(target):
        if not overwrite:
            raise UserError(f"{setting}={target} already holds a finished run: add output.overwrite=true to "
                            "replace it, or choose another folder")
        return
    if not owned and not _own(target):
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise UserError(f"{setting}={target} holds files that are not a labsim run ({shown}): choose a new "
                        "or empty folder")


def _missing_parents(path: Path) -> list[Path]:
    out = []
    for parent in path.parents:
        if parent.exists():
            break
        out.append(parent)
    return out


def make_folder(path: Path, setting: str) -> list[Path]:
    """``mkdir -p path``; returns the folders it created (deepest first); one line on failure."""
    created = [*([path] if not path.exists() else []), *_missing_parents(path)]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(f"{setting}={path}: cannot create the folder ({reason})") from None
    return created


class RunFolder:
    """One run's folder, written all or nothing (see the module's docstring).

    ``begin`` checks the target, clears stale temporaries beside it and makes
    the staging folder; the run writes into ``staging``; ``commit`` renames it
    into place; ``discard`` removes everything this run created.
    """

    def __init__(self, target: str | Path, overwrite: bool = False, setting: str = "hydra.run.dir",
                 owned: bool = False) -> None:
        self.target = Path(os.path.abspath(target))
        self.overwrite = overwrite
        self.setting = setting
        self.owned = owned
        self.staging = part_path(self.target)
        self._created: list[Path] = []

    def begin(self) -> Path:
        check_target(self.target, self.overwrite, self.setting, self.owned)
        self._created = make_folder(self.target.parent, self.setting)
        remove_stale(self.target.parent)
        try:
            self.staging.mkdir()
        except OSError as exc:
            self.discard()
            reason = exc.strerror or type(exc).__name__
            raise UserError(f"{self.setting}={self.target}: cannot write there ({reason})") from None
        return self.staging

    def adopt(self, *names: str) -> None:
        """Move entries Hydra wrote into the target for this job (``.hydra``, its log) into the staging
        folder, so the commit carries them. The target is then known to be this job's."""
        self.owned = True
        for name in names:
            src = self.target / name
            if src.exists() and not (self.staging / name).exists():
                os.replace(src, self.staging / name)

    def commit(self) -> Path:
        """Rename the staging folder into place; the target is then exactly this run."""
        try:
            os.rename(self.staging, self.target)  # atomic; fails on a non-empty folder
            self._created = []  # they hold the run now
            return self.target
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                self.discard()
                raise UserError(f"{self.setting}={self.target}: cannot write there ({exc.strerror})") from None
        try:  # the folder is not empty: replace it whole if the rule allows
            check_target(self.target, self.overwrite, self.setting, self.owned)
        except UserError as exc:
            self.discard()
            raise UserError(f"{exc} (another run finished into it meanwhile)") from None
        aside = part_path(self.target)
        os.rename(self.target, aside)
        os.rename(self.staging, self.target)
        self._created = []
        shutil.rmtree(aside, ignore_errors=True)
        return self.target

    def discard(self) -> None:
        """Remove the staging folder and the parents this run created (if still empty)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        for folder in self._created:
            try:
                folder.rmdir()
            except OSError:
                break
        self._created = []
