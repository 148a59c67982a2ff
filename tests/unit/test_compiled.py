"""The kernel's compiled loops compute what numpy computes: the same draws, the same orders.

labsim.model.jit explains why each rule holds; these tests hold them on cases where a careless
rewrite would differ.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from labsim.model.jit import group_by, stable_argsort
from labsim.model.rng import Streams, hold, poisson


@numba.njit
def _poissons(rng, lam):
    out = np.empty(lam.size, np.int64)
    for i in range(lam.size):
        out[i] = poisson(rng, lam[i])
    return out


@numba.njit
def _numbas_own_poissons(rng, lam, n):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = rng.poisson(lam)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_compiled_poisson_draws_are_numpys_draws_from_the_same_stream(seed):
    """Multiplication below 10, transformed rejection from 10 on, 0 at 0: the very numbers numpy
    draws, and the stream left where numpy leaves it."""
    lam = np.random.default_rng(100 + seed).random(20_000) * 40.0
    lam[::11] = 0.0
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    assert np.array_equal(_poissons(ours, lam), numpys.poisson(lam))
    assert ours.random() == numpys.random()


def test_numbas_own_poisson_differs_from_numpys_in_a_rare_branch_which_ours_follows():
    """numba truncates a negative candidate to 0 where numpy floors it and rejects it: with seed 2 at
    lambda 10.5, draw 313 is 7 for numpy and 0 for numba's own sampler; ours draws 7."""
    lam = np.full(2000, 10.5)
    numpys = np.random.default_rng(2).poisson(lam)
    assert numpys[313] == 7 and _numbas_own_poissons(np.random.default_rng(2), 10.5, 2000)[313] == 0
    assert np.array_equal(_poissons(np.random.default_rng(2), lam), numpys)


@numba.njit
def _uniforms_and_normals(held, k, n):
    rng = held.streams[k]
    return rng.random(n), rng.standard_normal(n)


def test_a_held_stream_is_the_named_stream_and_draws_continue_across_numpy_and_compiled_code():
    """Streams held for compiled code share their state with the named numpy streams: uniforms and
    normals drawn in compiled code are numpy's, and a numpy draw after them continues the sequence."""
    a, b = Streams(7), Streams(7)
    held = hold(a, ["x", "work"])
    u, z = _uniforms_and_normals(held, 1, 1000)
    ref = b["work"]
    assert np.array_equal(u, ref.random(1000)) and np.array_equal(z, ref.standard_normal(1000))
    assert a["work"].random() == ref.random()


def test_the_stable_sort_keeps_equal_keys_in_their_order_and_sorts_as_numpy():
    rng = np.random.default_rng(3)
    for n in (0, 1, 5, 24, 25, 100, 1001):
        keys = rng.integers(0, 7, n).astype(float)
        assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable"))


def test_grouping_by_key_is_a_stable_counting_sort():
    key = np.array([2, 0, 2, 1, 0, 2])
    order, start = group_by(key, 4)
    assert order.tolist() == [1, 4, 3, 0, 2, 5] and start.tolist() == [0, 2, 3, 6, 6]


def test_signals_are_held_while_the_kernel_runs_and_delivered_between_weeks():
    """A signal's handler that raised inside numba's dispatch came out as a SystemError, so a run
    stopped by SIGTERM looked like a failed one: within ``held_signals`` a signal is only noted, the
    function it yields raises it where that is safe, and leaving the block raises it too."""
    import os
    import signal

    from labsim.errors import Interrupted, held_signals, raise_interrupted

    before = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        with pytest.raises(Interrupted):
            with held_signals() as deliver:
                os.kill(os.getpid(), signal.SIGTERM)
                deliver_called = False
                for _ in range(1000):  # the signal is noted, not raised, while the block runs
                    pass
                deliver_called = True
                deliver()
        assert deliver_called
        with pytest.raises(Interrupted):
            with held_signals():
                os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is raise_interrupted  # the handlers are as they were
        with pytest.raises(KeyboardInterrupt):
            with held_signals() as deliver:
                os.kill(os.getpid(), signal.SIGINT)
                deliver()
    finally:
        signal.signal(signal.SIGTERM, before)
