"""Matching workers to books, rationing, and exact piecewise pay."""

import numpy as np
import pytest

from labsim.model.rules.matching import allocate, piecewise_pay, trim_to_open


def test_each_worker_takes_its_best_paying_book():
    """With plenty of work everyone works its whole capacity on its best book."""
    value = np.array([[3.0, 1.0], [1.0, 2.0]])
    tph = np.full((2, 2), 10.0)
    w, b, hours, tasks = allocate(np.array([1.0, 0.5]), value, tph, np.array([100, 100]))
    assert sorted(zip(w.tolist(), b.tolist())) == [(0, 0), (1, 1)]
    assert hours.tolist() == pytest.approx([1.0, 0.5])
    assert tasks.tolist() == pytest.approx([10.0, 5.0])


def test_scarce_book_is_rationed_in_proportion_then_workers_move_on():
    """Two workers want 10 tasks each from a book holding 10: each gets 5, then tries its next book."""
    value = np.array([[2.0, 1.0], [2.0, -np.inf]])
    tph = np.full((2, 2), 10.0)
    w, b, hours, tasks = allocate(np.array([1.0, 1.0]), value, tph, np.array([10, 100]))
    got = {(int(i), int(j)): t for i, j, t in zip(w, b, tasks)}
    assert got[(0, 0)] == pytest.approx(5.0) and got[(1, 0)] == pytest.approx(5.0)
    assert got[(0, 1)] == pytest.approx(5.0)  # worker 0 spends its other half hour on book 1
    assert (1, 1) not in got  # worker 1 may not take book 1: it searches instead


def test_nobody_takes_a_forbidden_or_empty_book():
    """A book with nothing open, or one the worker may not take, is never chosen."""
    value = np.array([[5.0, -np.inf]])
    w, b, hours, tasks = allocate(np.array([1.0]), value, np.ones((1, 2)), np.array([0, 10]))
    assert w.size == 0


def test_trim_never_exceeds_what_is_open():
    """Draws beyond a book's open tasks are cut back to exactly what it holds."""
    rng = np.random.default_rng(0)
    counts = np.array([7, 5, 9, 2])
    book = np.array([0, 0, 0, 1])
    trimmed = trim_to_open(rng, counts, book, np.array([10, 5]))
    assert trimmed[:3].sum() == 10 and trimmed[3] == 2
    assert np.all(trimmed <= counts)


def test_piecewise_pay_is_exact_and_follows_batch_order():
    """Workers taking tasks in order are paid each batch's rate for its tasks, to the micro-dollar."""
    batch_counts = np.array([3, 2])
    rates = np.array([100, 10])
    pay = piecewise_pay(np.array([2, 2, 1]), batch_counts, rates)
    assert pay.tolist() == [200, 110, 10]
    assert pay.sum() == (batch_counts * rates).sum()


def test_piecewise_pay_with_two_price_columns():
    """Reward and fee columns are paid out side by side."""
    prices = np.array([[100, 20], [10, 4]])
    out = piecewise_pay(np.array([0, 4, 1]), np.array([3, 2]), prices)
    assert out.tolist() == [[0, 0], [310, 64], [10, 4]]
