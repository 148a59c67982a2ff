"""The files labsim writes, by name, and how they are written: atomically.

Every file is first written under a unique temporary name beside its target
(``.NAME.<host>-<pid>-<token>.part``) and renamed into place only when
complete, so a reader never sees half a file. ``write_all`` does this for a
group of files that belong together: either all of them are renamed into
place or none is. A temporary whose process is gone (a run killed with
SIGKILL, a machine that lost power) is recognised by its name and removed
by ``remove_stale`` when the next run writes beside it; the host in the
name keeps runs of other machines sharing the folder (a cluster's shared
file system) out of reach.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import socket
import uuid
from pathlib import Path
from typing import Any, Callable

# A run folder
TIMESERIES = "timeseries.parquet"
WORKERS = "workers.parquet"
WORKER_WINDOWS = "worker_windows.parquet"
REQUESTERS = "requesters.parquet"
KPIS = "kpis.json"
REPORT = "report.html"
STATUS = "status.json"
CONFIG = "config_resolved.yaml"
RUN_FILES = (KPIS, TIMESERIES, WORKERS, WORKER_WINDOWS, REQUESTERS)
# A sweep folder
RUNS = "runs.parquet"
COMPARISON = "comparison.html"
COMPARISON_CSV = "comparison.csv"

PART_SUFFIX = ".part"

Writer = Callable[[Path], None]


def host_tag() -> str:
    """Eight hex digits naming this machine in temporary names."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


_PART = re.compile(r"^\..+\.([0-9a-f]{8})-(\d+)-[0-9a-f]{8}" + re.escape(PART_SUFFIX) + "$")


def part_path(path: Path) -> Path:
    """A fresh temporary name beside ``path`` (hidden, unique, ending in .part): a file's,
    or a run folder's while it is written."""
    return path.with_name(f".{path.name}.{host_tag()}-{os.getpid()}-{uuid.uuid4().hex[:8]}{PART_SUFFIX}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def is_stale(path: Path) -> bool:
    """Whether ``path`` is a temporary left by a process of this machine that no longer runs."""
    m = _PART.match(path.name)
    return bool(m) and m.group(1) == host_tag() and not _alive(int(m.group(2)))


def remove_stale(folder: str | Path) -> list[Path]:
    """Remove the stale temporaries (files or run folders) directly inside ``folder``."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for p in entries:
        if is_stale(p):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def write_all(folder: str | Path, writers: dict[str, Writer]) -> None:
    """Write every file of ``writers`` (name -> function writing to a path) into
    ``folder``, all or nothing: each is written to a temporary file, and only
    when all are complete are they renamed into place."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, write in writers.items():
            final = folder / name
            part = part_path(final)
            staged.append((part, final))
            write(part)
    except BaseException:
        for part, _ in staged:
            part.unlink(missing_ok=True)
        raise
    for part, final in staged:
        os.replace(part, final)


def atomic_write(path: str | Path, write: Writer) -> None:
    """Write one file atomically with ``write(temporary_path)``."""
    path = Path(path)
    write_all(path.parent, {path.name: write})


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def json_safe(obj: Any) -> Any:
    """NaN and infinities are not JSON: write them as null."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def json_text(payload: Any) -> str:
    return json.dumps(json_safe(payload), indent=2, sort_keys=True) + "\n"


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON (NaN as null), atomically."""
    atomic_write_text(path, json_text(payload))
