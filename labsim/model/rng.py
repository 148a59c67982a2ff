"""Random streams: one seed per run, one named numpy stream per component.

A stream's state depends only on the run's seed and the stream's name, never
on the order in which components ask for streams. Two scenarios run with the
same seed therefore draw the same arrivals, durations and quit lotteries
wherever their histories agree (common random numbers), so their differences
are the policy's, not noise.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    """Named, independent ``numpy.random.Generator`` streams from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._streams.get(name)
        if gen is None:
            key = zlib.crc32(name.encode("utf-8"))
            seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(key,))
            gen = self._streams[name] = np.random.Generator(np.random.PCG64(seq))
        return gen
