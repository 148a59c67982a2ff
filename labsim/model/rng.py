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
from numba.core import types
from numba.experimental import structref

from labsim.model.jit import njit


class Streams:
    """Named, independent ``numpy.random.Generator`` streams from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._streams.get(name)
        if gen is None:
            seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(_crc(name),))
            gen = self._streams[name] = np.random.Generator(np.random.PCG64(seq))
        return gen

    def keyed(self, name: str, *key: int) -> np.random.Generator:
        """A fresh stream of ``name`` at ``key`` (non-negative integers: a week, a region, a channel).

        Its draws depend only on the seed, the name and the key, never on what any stream drew before,
        so two scenarios whose histories differ elsewhere still draw the same numbers here
        (synchronised common random numbers: a policy that changes how many vendor staff are hired in
        one region does not change who joins the crowd anywhere else)."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(_crc(name), *(int(k) for k in key)))
        return np.random.Generator(np.random.PCG64(seq))

    def keyed_uniforms(self, name: str, key: int, ids: np.ndarray) -> np.ndarray:
        """One uniform on [0, 1) per identity in ``ids`` (``worker_keys``) from stream ``name`` at ``key``
        (a week): a counter-based draw (a splitmix64 hash of the stream's state and the identity), so an
        identity draws the same number whichever others are drawn with it."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(_crc(name), int(key)))
        base = seq.generate_state(1, np.uint64)[0]
        return (mix64(np.asarray(ids, np.uint64) ^ base) >> np.uint64(11)) * (1.0 / 2.0 ** 53)


def _crc(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (Steele, Lea and Flood 2014): a bijection of 64-bit integers whose outputs
    pass statistical tests of randomness for consecutive inputs."""
    x = np.asarray(x, np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def worker_keys(batch: int, region: int, channel: int, k: int) -> np.ndarray:
    """The identities of ``k`` workers added together (``batch``: 0 at the start, week + 1 after), by
    region, channel and rank: the same in every scenario that adds them, whatever else it added."""
    head = mix64(np.uint64((int(batch) << 24) | (int(region) << 8) | int(channel)))
    return mix64(np.arange(k, dtype=np.uint64) ^ head)


@structref.register
class _GeneratorsType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class Generators(structref.StructRefProxy):
    """Some of a run's named streams, held for compiled code (``labsim.model.jit``).

    A numpy ``Generator`` passed to compiled code costs microseconds to hand
    over at every call; held here, the streams cost one pointer. Each is the
    very stream ``Streams`` returns under its name (the same bit generator and
    state): numba draws with numpy's own algorithms, so a draw made in
    compiled code is the draw numpy would have made, and draws made on either
    side follow one another in one sequence.
    """


structref.define_proxy(Generators, _GeneratorsType, ["streams"])


@njit
def _hold(streams):  # pragma: no cover - compiled
    return Generators(streams)


def hold(streams: Streams, names: list[str]) -> Generators:
    """The streams ``names`` of ``streams``, for compiled code: ``held.streams[k]`` is ``names[k]``'s."""
    return _hold(tuple(streams[name] for name in names))


# numpy's Poisson sampler (numpy/random/src/distributions/distributions.c), for compiled code.
# numba's own port differs in one rare branch of the transformed rejection method: it truncates
# where numpy floors, so a candidate below zero becomes 0 instead of being rejected (found when a
# run drew 0 where numpy draws 12, at lambda 10.19). Written out here, it draws what numpy draws.
_LOGGAM_A = np.array([8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04,
                      -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03,
                      6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01,
                      -1.39243221690590e+00])


@njit
def _loggam(x):  # pragma: no cover - compiled
    """log Gamma(x), as numpy's ``random_loggam`` computes it."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = np.int64(7 - x) if x < 7.0 else 0
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = _LOGGAM_A[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM_A[k]
    gl = gl0 / x0 + 0.5 * 1.8378770664093453e+00 + (x0 - 0.5) * np.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl -= np.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@njit
def poisson(rng, lam):  # pragma: no cover - compiled
    """One Poisson(``lam``) draw from ``rng`` (a generator, in compiled code): numpy's draw, from the
    same uniforms (multiplication below 10, Hoermann's transformed rejection from 10 on)."""
    if lam >= 10:
        slam = np.sqrt(lam)
        loglam = np.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = rng.random() - 0.5
            v = rng.random()
            us = 0.5 - abs(u)
            k = np.int64(np.floor((2 * a / us + b) * u + lam + 0.43))
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b) <= -lam + k * loglam - _loggam(k + 1):
                return k
    if lam == 0:
        return np.int64(0)
    enlam = np.exp(-lam)
    x = np.int64(0)
    prod = 1.0
    while True:
        prod *= rng.random()
        if prod > enlam:
            x += 1
        else:
            return x
