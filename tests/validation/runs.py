"""Paired runs for the validation tests: many (arm, seed) runs at once, in fresh processes."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Hashable, Iterable


def run_all(measure: Callable[[Any], tuple[Hashable, Any]], keys: Iterable[Any], workers: int = 4) -> dict:
    """``measure`` each key in up to ``workers`` spawned processes (as many as the machine has cores at
    most: spawned, so each compiles and seeds afresh); ``measure`` returns (key, what the tests read)."""
    with ProcessPoolExecutor(max_workers=min(workers, os.cpu_count() or 1),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return dict(pool.map(measure, list(keys)))
