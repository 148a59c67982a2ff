"""Batches whose deadline passes: their open tasks expire, and their value to requesters is lost."""

from __future__ import annotations

import numpy as np

from labsim.model.accounts import _post
from labsim.model.context import Context
from labsim.model.jit import njit
from labsim.model.units import UUSD


def expire_batches(m: Context, now: float) -> None:
    """Drop batches whose deadline has passed; their open tasks count as expired, and their value
    to requesters is lost."""
    store = m.store
    if now < store.next_deadline_h:
        store.expired_value_usd[:] = 0.0
        return
    expired = store.expire(now)
    if expired.any():
        acc = m.accounts
        _count_expired(expired, store.expired_value_usd, m.state.week_expired, m.books.market_cell,
                       acc.market_ints, acc.market_floats, m.expiry_slots)


EXPIRY_FLOWS = ("tasks_expired", "value_expired_uusd")


@njit
def _count_expired(expired, value_usd, week_expired, market_cell, market_ints, market_floats,
                   slots):  # pragma: no cover - compiled
    """The week's expired tasks per book, and ``EXPIRY_FLOWS`` posted."""
    flows = np.empty((2, expired.size))
    for b in range(expired.size):
        week_expired[b] += expired[b]
        flows[0, b] = expired[b]
        flows[1, b] = np.int64(np.rint(value_usd[b] * UUSD))
    _post(market_cell, flows, slots[0], slots[1], market_ints, market_floats, True)
