"""The files labsim writes, by name, and how they are written: atomically.

Every file is first written under a unique temporary name beside its target
(``.NAME.<token>.part``) and renamed into place only when complete, so a
reader never sees half a file. ``write_all`` does this for a group of files
that belong together: either all of them are renamed into place or none is.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path
from typing import Any, Callable

# A run folder
TIMESERIES = "timeseries.parquet"
WORKERS = "workers.parquet"
WORKER_WINDOWS = "worker_windows.parquet"
KPIS = "kpis.json"
REPORT = "report.html"
STATUS = "status.json"
CONFIG = "config_resolved.yaml"
RUN_FILES = (KPIS, TIMESERIES, WORKERS, WORKER_WINDOWS)
# A sweep folder
RUNS = "runs.parquet"
COMPARISON = "comparison.html"

PART_SUFFIX = ".part"

Writer = Callable[[Path], None]


def part_path(path: Path) -> Path:
    """A fresh temporary name beside ``path`` (hidden, unique, ending in .part)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{PART_SUFFIX}")


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
