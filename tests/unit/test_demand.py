"""Batches: service order, takes, expiry, requesters' office hours."""

import numpy as np
import pytest

from labsim.model.store import BatchStore
from labsim.model.rules.posting import office_hours_profile


def _store():
    # book 0: crowd (best-paid first); book 1: vendor (oldest first)
    return BatchStore(np.array([False, True]))


def _add(store, book, size, rate, now, deadline=100.0):
    n = len(book)
    store.add(np.array(book), np.array(size), np.array(rate), np.zeros(n, np.int64), now,
              np.full(n, deadline))


def test_crowd_book_serves_best_paid_first_and_vendor_oldest_first():
    """Crowd takes start with the highest rate; vendor takes with the oldest batch."""
    s = _store()
    _add(s, [0, 1], [5, 5], [10, 10], now=0.0)
    _add(s, [0, 1], [5, 5], [30, 30], now=1.0)
    taken = s.take(np.array([2, 2]), 2.0)
    by_book = {int(b): int(r) for b, r in zip(taken.book, taken.rate_uusd)}
    assert by_book == {0: 30, 1: 10}
    assert s.open_tasks().tolist() == [8, 8]


def test_take_spans_batches_and_records_fills():
    """A take larger than the first batch empties it, continues into the next, and counts the fill."""
    s = _store()
    _add(s, [0, 0], [3, 4], [50, 20], now=0.0)
    taken = s.take(np.array([5, 0]), 6.0)
    assert taken.counts.tolist() == [3, 2] and taken.rate_uusd.tolist() == [50, 20]
    assert s.filled.tolist() == [1, 0] and s.fill_hours[0] == pytest.approx(6.0)
    assert taken.wait_h[0] == pytest.approx(5 * 6.0)


def test_expiry_removes_unfinished_tasks_at_the_deadline():
    """Tasks still open at the deadline expire; earlier, nothing does."""
    s = _store()
    _add(s, [0, 1], [4, 6], [10, 10], now=0.0, deadline=24.0)
    assert s.expire(23.0).tolist() == [0, 0]
    assert s.expire(24.0).tolist() == [4, 6]
    assert s.open_tasks().tolist() == [0, 0]


def test_office_hours_profile_has_mean_one_and_peaks_on_weekdays():
    """Requesters post more in their weekday office hours; the profile averages 1 over a week."""
    p = office_hours_profile(-5.0, 3.0)
    assert p.mean() == pytest.approx(1.0)
    monday_noon_new_york = 12 + 5
    sunday_noon_new_york = 6 * 24 + 12 + 5
    assert p[monday_noon_new_york] == pytest.approx(3 * p[sunday_noon_new_york])


def test_a_taken_task_is_worth_its_value_decayed_by_its_wait_and_an_expired_one_loses_it():
    """Value 2 USD a task, decay 0.01 an hour: 3 tasks taken 10 h after posting are worth
    3 x 2 x exp(-0.1) to their requester; the 2 left when the batch expires lose 2 x 2 USD."""
    s = BatchStore(np.array([False]), decay_per_h=0.01)
    s.add(np.array([0]), np.array([5]), np.array([100_000]), np.zeros(1, np.int64), 0.0, np.array([24.0]),
          np.array([2.0]))
    taken = s.take(np.array([3]), 10.0)
    assert taken.worth_usd.tolist() == pytest.approx([3 * 2.0 * np.exp(-0.1)])
    assert s.expire(24.0).tolist() == [2]
    assert s.expired_value_usd.tolist() == pytest.approx([4.0])
