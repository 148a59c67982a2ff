"""Properties of the pure decision rules, over many generated inputs (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labsim.model.store import BatchStore
from labsim.model.rules.matching import allocate, piecewise_pay, renewal_counts, trim_to_open
from labsim.model.rules.turnover import quit_hazard

wages = st.floats(0.0, 50.0, allow_nan=False)
positive = st.floats(0.05, 50.0, allow_nan=False)
hazard = st.floats(0.0, 1.0, allow_nan=False)


@given(wage=wages, res=positive, base=hazard, low=hazard)
def test_quit_hazard_is_a_probability(wage, res, base, low):
    """The weekly quit probability lies in [0, 1] and at least at the base hazard."""
    total, low_part = quit_hazard(np.array([wage]), np.array([res]), base, low)
    assert 0.0 <= total[0] <= 1.0
    assert total[0] >= base - 1e-12 and 0.0 <= low_part[0] <= low + 1e-12


@given(w1=wages, w2=wages, res=positive, base=st.floats(0, 0.5), low=st.floats(0, 0.5))
def test_quit_hazard_rises_with_the_shortfall(w1, w2, res, base, low):
    """Earning less (against the same reservation wage) never lowers the hazard."""
    lo, hi = sorted([w1, w2])
    t_lo, _ = quit_hazard(np.array([lo]), np.array([res]), base, low)
    t_hi, _ = quit_hazard(np.array([hi]), np.array([res]), base, low)
    assert t_lo[0] >= t_hi[0] - 1e-12


@st.composite
def markets(draw):
    n = draw(st.integers(1, 30))
    b = draw(st.integers(1, 6))
    value = draw(arrays(np.float64, (n, b), elements=st.floats(0.1, 10.0)))
    forbidden = draw(arrays(np.bool_, (n, b)))
    value = np.where(forbidden, -np.inf, value)
    tph = draw(arrays(np.float64, (n, b), elements=st.floats(0.5, 100.0)))
    cap = draw(arrays(np.float64, n, elements=st.floats(0.0, 1.0)))
    open_tasks = draw(arrays(np.int64, b, elements=st.integers(0, 200)))
    return cap, value, tph, open_tasks


@settings(max_examples=200, deadline=None)
@given(markets())
def test_allocation_respects_capacity_books_and_rules(m):
    """Nobody works more than its capacity, no book gives more than it holds,
    and nobody works on a book it may not take."""
    cap, value, tph, open_tasks = m
    w, b, hours, tasks = allocate(cap, value, tph, open_tasks)
    assert np.all(hours >= -1e-12) and np.all(tasks >= -1e-12)
    used = np.bincount(w, weights=hours, minlength=cap.size)
    assert np.all(used <= cap + 1e-9)
    given_out = np.bincount(b, weights=tasks, minlength=open_tasks.size)
    assert np.all(given_out <= open_tasks + 1e-6)
    assert np.all(np.isfinite(value[w, b]))
    assert np.allclose(tasks, hours * tph[w, b])


@settings(max_examples=200, deadline=None)
@given(markets())
def test_allocation_leaves_no_idle_worker_beside_open_work(m):
    """A worker with time left over has no open book it may take (within rounding)."""
    cap, value, tph, open_tasks = m
    w, b, hours, tasks = allocate(cap, value, tph, open_tasks, rounds=50)
    left_tasks = open_tasks - np.bincount(b, weights=tasks, minlength=open_tasks.size)
    left_cap = cap - np.bincount(w, weights=hours, minlength=cap.size)
    for i in np.flatnonzero(left_cap > 1e-6):
        takeable = np.isfinite(value[i]) & (left_tasks > 1e-6)
        assert not takeable.any()


@given(counts=arrays(np.int64, st.integers(1, 40), elements=st.integers(0, 100)),
       data=st.data())
def test_trim_gives_exactly_what_is_open_when_oversubscribed(counts, data):
    """After trimming, each book gives min(drawn, open) tasks, and no pair gets more than it drew."""
    book = data.draw(arrays(np.int64, counts.size, elements=st.integers(0, 3)))
    open_tasks = data.draw(arrays(np.int64, 4, elements=st.integers(0, 300)))
    out = trim_to_open(np.random.default_rng(1), counts, book, open_tasks)
    per_book = np.bincount(book, weights=out, minlength=4)
    drawn = np.bincount(book, weights=counts, minlength=4)
    assert np.array_equal(per_book, np.minimum(drawn, open_tasks))
    assert np.all((out >= 0) & (out <= counts))


@given(accepted=arrays(np.int64, st.integers(1, 20), elements=st.integers(0, 50)), data=st.data())
def test_piecewise_pay_sums_to_the_batches_total(accepted, data):
    """However tasks are split among workers, their pay adds up to the batches' value, exactly."""
    total = int(accepted.sum())
    cuts = sorted(data.draw(st.lists(st.integers(0, total), max_size=5)))
    batch_counts = np.diff(np.array([0, *cuts, total]))
    batch_counts = batch_counts[batch_counts > 0] if total else np.zeros(0, np.int64)
    rates = data.draw(arrays(np.int64, batch_counts.size, elements=st.integers(1, 10 ** 7)))
    pay = piecewise_pay(accepted, batch_counts, rates)
    assert int(pay.sum()) == int((batch_counts * rates).sum())
    assert np.all(pay >= 0)


@given(mean=arrays(np.float64, st.integers(1, 50), elements=st.floats(0, 500)),
       cv2=st.floats(0, 2))
def test_renewal_counts_are_whole_and_not_negative(mean, cv2):
    """Task counts are non-negative integers."""
    n = renewal_counts(np.random.default_rng(0), mean, np.full(mean.size, cv2))
    assert n.dtype.kind == "i" and np.all(n >= 0)


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 40),
                              st.integers(1, 500)), min_size=1, max_size=25), data=st.data())
def test_batch_store_conserves_tasks(ops, data):
    """Tasks posted = taken + expired + still open, through any sequence of posts, takes and expiries."""
    store = BatchStore(np.array([False, True, False]))
    posted = taken = expired = 0
    for hour, (kind, book, size, rate) in enumerate(ops):
        now = float(hour)
        if kind == 0:
            store.add(np.array([book]), np.array([size]), np.array([rate]), np.array([0]),
                      now, np.array([now + data.draw(st.integers(1, 10))]))
            posted += size
        elif kind == 1:
            open_now = store.open_tasks()
            want = np.array([data.draw(st.integers(0, int(o))) for o in open_now])
            t = store.take(want, now)
            assert np.array_equal(np.bincount(t.book, weights=t.counts, minlength=3), want)
            taken += int(want.sum())
        else:
            expired += int(store.expire(now).sum())
        assert posted == taken + expired + int(store.open_tasks().sum())
