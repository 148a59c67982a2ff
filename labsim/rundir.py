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
import os
import shutil
from pathlib import Path
from typing import Callable

from labsim.errors import UserError
from labsim.files import part_path, remove_stale
from labsim.jobs import finished

HYDRA_RECORDS = ".hydra"


def _own(folder: Path) -> bool:
    """Whether ``folder`` is a run folder labsim (Hydra) wrote: it holds ``.hydra/``."""
    return (folder / HYDRA_RECORDS).is_dir()


NAME_MAX = 255  # bytes in one folder name (Linux, macOS)
PATH_MAX = 4096  # bytes in a path (Linux)
MARGIN = 64  # what a temporary name adds to a folder's name (labsim.files.part_path), and a file's


def check_path(target: Path, setting: str, here_ok: bool = False, noun: str = "the run") -> None:
    """Refuse, in one line, a folder path no run can be written at: the root of the file system, a
    name or a path longer than the file system takes (with the temporary names written beside it),
    a symbolic link to nothing (dangling, or a loop), a file; and, unless ``here_ok``, the current
    folder or one that holds it (``noun`` is what would be written there)."""
    if not target.name:
        raise UserError(f"{setting}={target} is the root of the file system: give the run a folder of its own")
    longest = max(target.parts[1:], key=lambda p: len(os.fsencode(p)))
    if len(os.fsencode(longest)) + MARGIN > NAME_MAX:
        raise UserError(f"{setting}: a folder name of {len(os.fsencode(longest))} characters ({longest[:20]}...); "
                        f"at most {NAME_MAX - MARGIN}")
    if len(os.fsencode(str(target))) + 2 * MARGIN > PATH_MAX:
        raise UserError(f"{setting}: a path of {len(os.fsencode(str(target)))} characters; at most "
                        f"{PATH_MAX - 2 * MARGIN}")
    if target.is_symlink() and not target.exists():
        raise UserError(f"{setting}={target} is a link to nothing (a dangling or looping symlink): choose "
                        "another folder")
    here = Path.cwd()
    if not here_ok and (target == here or target in here.parents):
        raise UserError(f"{setting}={target} is the current folder{' or holds it' if target != here else ''}: "
                        f"give {noun} a folder of its own")
    if target.exists() and not target.is_dir():
        raise UserError(f"{setting}={target} is a file, not a folder: choose another folder")


def _held_entries(folder: Path, setting: str) -> list[str]:
    """The names in ``folder``, sorted; one line when it cannot be read."""
    try:
        return sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        raise UserError(f"{setting}={folder} cannot be read ({exc.strerror}): choose another folder") from None


def check_target(target: Path, overwrite: bool, setting: str = "hydra.run.dir", owned: bool = False) -> None:
    """Refuse, in one line, a target this run could not take whole (see the module's rule). ``owned``:
    the caller made the folder's parent for its runs (labsim-sensitivity's runs/NNNN), so whatever
    is there that is not a finished run is an earlier attempt's."""
    check_path(target, setting)
    if not target.is_dir():
        return
    entries = _held_entries(target, setting)
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
        check_path(self.target, setting)
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


# --- folders of many runs: a sweep's, a design's, a comparison's ---------------------------

MARK = ".labsim"  # in a folder of many runs labsim writes: it is labsim's, and the lock of whoever writes it


class SharedFolder:
    """A folder that many runs or the tables built from them go into (``labsim -m``'s sweep folder,
    ``labsim-sensitivity --out``, ``labsim-compare --out``), claimed by one labsim process at a time.

    The rule, as for a run folder: the folder may be new, empty or labsim's (it holds ``.labsim``, or
    ``ours`` says so: job folders Hydra wrote, a design's ``runs/``); a folder holding anything else
    is refused, unless ``foreign_ok`` and none of ``outputs`` (the files this command writes) is
    there, so nothing the user wrote is ever replaced. ``claim`` then takes an exclusive lock on
    ``.labsim`` for as long as this process lives (the kernel drops it when the process ends, SIGKILL
    included): a second command writing into the same folder at the same time is refused in one line
    rather than mixing its tables with the first's.
    """

    def __init__(self, target: str | Path, setting: str, outputs: tuple[str, ...] = (),
                 ours: Callable[[Path], bool] | None = None, foreign_ok: bool = False) -> None:
        self.target = Path(os.path.abspath(target))
        self.setting = setting
        self.outputs = outputs
        self.ours = ours
        self.foreign_ok = foreign_ok
        self._fd: int | None = None
        self.created: list[Path] = []  # the folders claim made

    def labsims(self) -> bool:
        """Whether the folder is one labsim wrote."""
        return (self.target / MARK).is_file() or (self.ours is not None and self.ours(self.target))

    def check(self) -> None:
        """Refuse, in one line, a folder this command may not write into (see the class's rule)."""
        where = f"{self.setting}={self.target}"
        check_path(self.target, self.setting, here_ok=self.foreign_ok, noun="it")
        if not self.target.is_dir():
            return
        entries = [e for e in _held_entries(self.target, self.setting) if e != MARK]
        if not entries or self.labsims():
            return
        clash = [e for e in entries if e in self.outputs] if self.foreign_ok else entries
        if clash:
            shown = ", ".join(clash[:3]) + (", ..." if len(clash) > 3 else "")
            raise UserError(f"{where} holds files labsim did not write ({shown}), which it would "
                            "replace: choose a new or empty folder")

    def claim(self) -> list[Path]:
        """Check, create the folder (returns the folders created) and lock it for this process."""
        import fcntl

        self.check()
        created = self.created = make_folder(self.target, self.setting)
        try:
            fd = os.open(self.target / MARK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UserError(f"{self.setting}={self.target}: cannot write there ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UserError(f"{self.setting}={self.target} is being written by another labsim command "
                                "right now: wait until it ends (then run this again to resume or rebuild), "
                                "or choose another folder") from None
            # a file system without locks (some network file systems): go on unlocked
            return created
        self._fd = fd
        return created

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    def abandon(self) -> None:
        """After an interrupt before anything was written: release the folder and remove what
        ``claim`` created (the marker, the folders), if nothing else is there."""
        self.release()
        try:
            if [p.name for p in self.target.iterdir()] == [MARK]:
                (self.target / MARK).unlink()
        except OSError:
            return
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:
                break
