"""Compiled loops: numba's ``njit``, set up once for the whole kernel.

A step of the market touches a few thousand workers and a few hundred
batches; written as whole-array numpy calls, each step paid for hundreds of
small calls whatever its size. The rules whose cost was per call, not per
element, are written as loops here compiled by numba (the field's standard
just-in-time compiler for numerical Python), each in its own rule's module.

Compiled code computes exactly what numpy computes, bit for bit:

- no ``fastmath``: additions and multiplications are not reordered, fused or
  vectorised into another order, so a sum over a loop is the sum numpy's
  ``bincount`` or ``cumsum`` forms (both add in index order);
- no transcendental function (``exp``, ``log``, ``pow``, ``sin``...): numpy
  computes them with processor-specific code (AVX-512 where there is one)
  that may differ from the C library's in a last bit, so they stay numpy
  calls between compiled ones; ``sqrt``, ``floor``, ``rint`` and the four
  operations are exact (correctly rounded) everywhere;
- no pairwise sum (``np.sum`` of a long array), which adds in another order
  than a loop; where a rule needs one it stays in numpy;
- no numpy library routine where a loop says the same (numba compiles each
  one it meets, and the first run after an install waits for all of them):
  loops, ``np.empty``/``np.zeros``, and the two helpers below for orders.

Compiled functions are cached on disk beside their module (``__pycache__``,
or numba's user-wide cache where that is not writable), so only the first run
after an install compiles them.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["group_by", "njit", "stable_argsort"]


def njit(func):
    """Compile ``func`` with numba, cached on disk, without fastmath (see the module)."""
    return numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(func)


_RUN = 24  # runs sorted by insertion before the merges


@njit
def stable_argsort(keys):  # pragma: no cover - compiled
    """The indices that sort ``keys`` ascending, equal keys in their order (a merge sort of runs
    sorted by insertion, written out: numba's own sorts compile slowly, and only a stable order is
    the same everywhere)."""
    n = keys.size
    idx = np.empty(n, np.int64)
    for i in range(n):
        idx[i] = i
    for lo in range(0, n, _RUN):
        hi = min(lo + _RUN, n)
        for i in range(lo + 1, hi):
            cur = idx[i]
            key = keys[cur]
            j = i
            while j > lo and key < keys[idx[j - 1]]:
                idx[j] = idx[j - 1]
                j -= 1
            idx[j] = cur
    tmp = np.empty(n, np.int64)
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j, o = lo, mid, lo
            while i < mid and j < hi:
                if keys[idx[j]] < keys[idx[i]]:
                    tmp[o] = idx[j]
                    j += 1
                else:
                    tmp[o] = idx[i]
                    i += 1
                o += 1
            while i < mid:
                tmp[o] = idx[i]
                i += 1
                o += 1
            while j < hi:
                tmp[o] = idx[j]
                j += 1
                o += 1
        idx, tmp = tmp, idx
        width *= 2
    return idx


@njit
def group_by(key, n_keys):  # pragma: no cover - compiled
    """Entries grouped by ``key`` (0 <= key < n_keys), each group in entry order: (order, start),
    group g being ``order[start[g]:start[g + 1]]`` (a counting sort)."""
    start = np.zeros(n_keys + 1, np.int64)
    for i in range(key.size):
        start[key[i] + 1] += 1
    for g in range(n_keys):
        start[g + 1] += start[g]
    fill = start[:-1].copy()
    order = np.empty(key.size, np.int64)
    for i in range(key.size):
        order[fill[key[i]]] = i
        fill[key[i]] += 1
    return order, start
