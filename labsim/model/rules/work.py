"""One step of work for everyone online: choose, take, finish, get reviewed, get paid.

A crowd worker online for h hours first searches, unpaid, for
``search_min_per_hour`` minutes an hour; with the rest it takes the book that
pays it best per hour (the piece rate a task taken from the book pays on average x its accepted, or paid,
tasks per hour) among those it may take (skill, qualification, geofence),
rationed when more is wanted than a book holds (``matching``). Vendor staff
work their team's book, oldest batch first, rationed when it runs short,
and are paid every shift hour. The tasks finished in a stretch are a
renewal count (less dispersed than Poisson); rejections are rare events
(Poisson); a book never gives out more than it holds. Accepted crowd tasks
are paid at their batch's rate, the platform's fee on top; rejected work is
unpaid (unless the book pays rejections, at the rate of the batches taken) and
the task stays open. A crowd
worker who finds nothing searches a while and logs off for the day.

Policies may limit the step (hours of training first, a cap on hours of
toxic work); they do so through the hooks of ``labsim.model.policies``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from labsim.model.context import Context
from labsim.model.jit import group_by, njit
from labsim.model.rng import poisson
from labsim.model.rules.matching import _allocate, _renewal_counts, _trim_to_open
from labsim.model.rules.pay import settle
from labsim.model.batch_passes import _mean_rate, _per_book_int, _take_start
from labsim.model.units import CHANNELS

if TYPE_CHECKING:
    from labsim.model.rules.schedule import Online


@dataclass
class Pairs:
    """(worker, book) stretches of work in one step, as parallel arrays.

    ``w`` indexes ``who`` (crowd workers first, then vendor staff); ``hours``
    are hours of work on the book, ``expected`` the tasks they should finish.
    """

    who: np.ndarray
    n_crowd: int
    w: np.ndarray
    b: np.ndarray
    hours: np.ndarray
    expected: np.ndarray

    @property
    def ids(self) -> np.ndarray:
        """The pool row of each pair's worker."""
        return self.who[self.w]


def work(m: Context, now: float, on: Online) -> None:
    """One step of work for everyone ``on`` line: match, draw, take, review, pay.

    Writes the batch store, the workers' week (their hours per task type among
    it), the week's labels, and the accounts. Three compiled passes
    (``stretches``, ``outcomes``, ``settle``) do it, the policies' hooks
    between them; the value that taken tasks keep for their requesters
    (an exponential) is numpy's.
    """
    books, store, state, cfg, crew = m.books, m.store, m.state, m.cfg, m.crew
    limits = m.policies.step_limits
    cw, vw = on.crowd, on.vendor
    search = min(cfg.crowd.search_min_per_hour / 60.0, 1.0)
    offered = state.offer.size and bool((state.offer[books.crowd_cols] < 1.0).any())
    if limits or offered:  # policies may bar books: each worker's value of each crowd book, as a table they edit
        book_rate = store.mean_rate_uusd()
        value = crew.crowd_value[crew.pos[cw]] * np.maximum(book_rate[books.crowd_cols], 1.0)
        if offered:  # requesters exclude a region from all but its offered share of a book's batches
            share = state.offer[books.crowd_cols][:, crew.region[crew.pos[cw]]].T
            value[m.rng["steering"].random(value.shape) >= share] = -np.inf
        for policy in limits:
            policy.restrict_choices(m, cw, value)
        priced = False
    else:
        value, priced = crew.crowd_value, True
    open_tasks, book_rate, who, pos, w, b, hours, expected, p_rej = _stretches(
        store.ints, store.times, store.fifo, books.crowd_cols, value, priced, crew.crowd_tph, crew.crowd_rej,
        crew.pos, crew.n_crowd, cw, on.crowd_h, search, int(cfg.crowd.matching_rounds), vw, on.vendor_h,
        crew.vendor_book, crew.vendor_tph, crew.vendor_rej)
    pairs = Pairs(who, cw.size, w, b, hours, expected)
    for policy in limits:
        policy.trim_hours(m, pairs)
    done = _outcomes(m.held, m.held_work, pairs.w, pairs.b, pairs.hours, pairs.expected, p_rej,
                     books.duration_cv2, open_tasks, state.week_taken, state.week_rejected, store.ints, store.times,
                     store.fifo, float(now))
    if done[-1]:  # stretches sorting on equal keys: numpy's own sort decides their order, as it always has
        done = _outcomes_in_order_entry(np.argsort(done[-2]), m.held, m.held_work, pairs.w, pairs.b, pairs.hours,
                                  pairs.expected, p_rej, books.duration_cv2, open_tasks, state.week_taken,
                                  state.week_rejected, store.ints, store.times, store.fifo, float(now))
    w, b, hours, expected, acc, r, counts, hit, waited = done[:9]
    if state.week_paid_h_region.size:  # charges billed where they arise (pricing.week_surcharge_usd)
        n_b, n_r = state.week_paid_h_region.shape
        crowd = w < pairs.n_crowd
        state.week_paid_h_region += np.bincount(b[crowd] * n_r + crew.region[pos[w[crowd]]], weights=hours[crowd],
                                                minlength=n_b * n_r).reshape(n_b, n_r)
    pairs.w, pairs.b, pairs.hours, pairs.expected = w, b, hours, expected
    decay = np.exp(-store.decay_per_h * waited)  # what a taken task is still worth to its requester
    accounts = m.accounts
    emptied = settle(
        w, b, hours, acc, r, counts, hit, waited, decay, float(now), book_rate, pairs.n_crowd, pos, on.crowd_h,
        on.vendor_h, cfg.crowd.give_up_search_h, cfg.vendor.margin, cfg.vendor.profit_share, m.types.toxicity,
        books.type, books.is_crowd, books.pays_rejections, books.commission, books.count_as_table, books.market_cell, m.types.n, len(CHANNELS),
        store.ints, store.times, store.filled, store.fill_hours, crew.region, crew.channel, crew.main_type,
        crew.wage_uusd_h, crew.workday, crew.paid_h, crew.unpaid_h, crew.earn_uusd, crew.tasks, crew.rejected,
        crew.toxic_h, crew.hours_type, state.week_labels, accounts.cell_ints, accounts.cell_floats,
        accounts.market_ints, accounts.market_floats, m.work_slots)
    if emptied:
        store.drop_empty()
    for policy in limits:
        policy.after_work(m, pairs)


# What a step posts, where (``Accounts.slots``): per market cell, the takes; per cell, the work of each
# stretch, the unpaid search of crowd workers and the shifts of vendor staff.
TAKE_FLOWS = ("wait_hours", "tasks_taken", "value_human_uusd")
TASK_FLOWS = ("tasks_done_human", "tasks_rejected", "paid_hours", "earnings_uusd", "requester_spend_uusd",
              "platform_fees_uusd")
SEARCH_FLOWS = ("unpaid_hours",)
VENDOR_FLOWS = ("paid_hours", "earnings_uusd", "requester_spend_uusd", "vendor_margin_uusd", "vendor_overheads_uusd")


def work_slots(accounts, count_as: tuple[str, ...]) -> tuple:
    """The accounts' rows of every flow a step posts (``TAKE_FLOWS``, ``TASK_FLOWS`` and the books'
    own counts, ``SEARCH_FLOWS``, ``VENDOR_FLOWS``)."""
    return (accounts.slots(TAKE_FLOWS), accounts.slots(TASK_FLOWS + count_as), accounts.slots(SEARCH_FLOWS),
            accounts.slots(VENDOR_FLOWS))


@njit
def _stretches(ints, times, fifo, crowd_cols, value, priced, crowd_tph, crowd_rej, pos, n_crew_crowd, cw, crowd_h,
               search, rounds, vw, vendor_h, vendor_book, vendor_tph, vendor_rej):  # pragma: no cover - compiled
    """Everyone's stretches of work this step (crowd workers first, then vendor staff), with what
    each book holds and pays.

    A crowd worker, after ``search`` of each hour unpaid, takes the book that pays it best per
    hour: its accepted (or paid) tasks an hour x the rate a task taken from the book pays on
    average (``value``: the crew's table priced by the books' going rates, or a table already
    priced, one row per crowd worker online), rationed when a book runs short
    (``matching.allocate``). Vendor staff work their team's book, rationed likewise. The crew's
    tables are read at each worker's place in the crew (``pos``; vendor staff follow its
    ``n_crew_crowd`` crowd workers). Returns the open tasks and going rate of each book, ``who``
    (the workers online, crowd first: pool rows) and their places in the crew, and the
    stretches: worker (position in ``who``), book, hours, expected tasks, share rejected.
    """
    n_books = fifo.size
    book, rem = ints[0], ints[1]
    open_tasks = _per_book_int(book, rem, n_books)
    book_rate = _mean_rate(book, rem, ints[3], times[2], fifo, n_books)  # RATE, PULL
    n_cols = crowd_cols.size
    price = np.ones(n_cols)
    open_crowd = np.empty(n_cols)
    for c in range(n_cols):
        if priced:
            price[c] = max(book_rate[crowd_cols[c]], 1.0)  # empty books: masked anyway
        open_crowd[c] = open_tasks[crowd_cols[c]]
    n_all = cw.size + vw.size
    who, wpos = np.empty(n_all, np.int64), np.empty(n_all, np.int64)
    for i in range(cw.size):
        who[i], wpos[i] = cw[i], pos[cw[i]]
    for i in range(vw.size):
        who[cw.size + i], wpos[cw.size + i] = vw[i], pos[vw[i]]
    cap = np.empty(cw.size)
    vrow = np.empty(cw.size, np.int64)
    for i in range(cw.size):
        cap[i] = crowd_h[i] * (1.0 - search)
        vrow[i] = wpos[i] if priced else i
    cwp, cb, ch, ct = _allocate(cap, value, vrow, price, crowd_tph, wpos[:cw.size], open_crowd, rounds)
    vb, v_tph = np.empty(vw.size, np.int64), np.empty(vw.size)
    for i in range(vw.size):
        v = wpos[cw.size + i] - n_crew_crowd
        vb[i], v_tph[i] = vendor_book[v], vendor_tph[v]
    has, vbook, vhours, vgot = _vendor_stretches(vb, v_tph, vendor_h, open_tasks)
    n = cwp.size + has.size
    w, b, hours, expected = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n), np.empty(n)
    p_rej = np.empty(n)
    for j in range(cwp.size):
        w[j], b[j], hours[j], expected[j] = cwp[j], crowd_cols[cb[j]], ch[j], ct[j]
        p_rej[j] = crowd_rej[wpos[cwp[j]], cb[j]]
    for j in range(has.size):
        k = cwp.size + j
        w[k], b[k], hours[k], expected[k] = cw.size + has[j], vbook[j], vhours[j], vgot[j]
        p_rej[k] = vendor_rej[wpos[cw.size + has[j]] - n_crew_crowd]
    return open_tasks, book_rate, who, wpos, w, b, hours, expected, p_rej


@njit
def _vendor_stretches(vb, tph, vfrac, open_tasks):  # pragma: no cover - compiled
    """Vendor staff work their team's book (``vb``; -1: none) at ``tph`` tasks an hour, rationed
    when it runs short."""
    n_has = 0
    for i in range(vb.size):
        n_has += vb[i] >= 0
    has = np.empty(n_has, np.int64)  # staff with a team book
    vbook = np.empty(n_has, np.int64)
    j = 0
    for i in range(vb.size):
        if vb[i] >= 0:
            has[j], vbook[j] = i, vb[i]
            j += 1
    want = np.empty(has.size)
    demand = np.zeros(open_tasks.size)
    for j in range(has.size):
        want[j] = vfrac[has[j]] * tph[has[j]]
        demand[vbook[j]] += want[j]
    ration = np.empty(open_tasks.size)
    for b in range(open_tasks.size):
        ration[b] = open_tasks[b] / demand[b] if demand[b] > open_tasks[b] else 1.0
    got = np.empty(has.size)
    hours = np.empty(has.size)
    for j in range(has.size):
        got[j] = want[j] * ration[vbook[j]]
        hours[j] = got[j] / tph[has[j]]
    return has, vbook, hours, got


@njit
def _outcomes(held, stream, w, b, hours, expected, p_rej, duration_cv2, open_tasks, week_taken,
              week_rejected, ints, times, fifo, now):  # pragma: no cover - compiled
    """The stretches in random order within each book (one uniform each from stream ``work``:
    who gets the best-paid tasks of a book depends on no one's position), then their outcomes
    (``_outcomes_in_order``). Where two sort keys are equal, returns the keys alone (last item
    True) for numpy's sort to order them as it always has."""
    rng = held.streams[stream]
    u = rng.random(w.size)
    keys = np.empty(w.size)
    for j in range(w.size):
        keys[j] = b[j] + u[j]
    order = _book_order(b, keys, open_tasks.size)
    for j in range(1, order.size):
        if keys[order[j]] == keys[order[j - 1]]:
            i0, f0 = np.zeros(0, np.int64), np.zeros(0)
            return i0, i0, f0, f0, i0, i0, i0, i0, f0, keys, True
    return _outcomes_in_order(order, held, stream, w, b, hours, expected, p_rej, duration_cv2, open_tasks,
                              week_taken, week_rejected, ints, times, fifo, now)


@njit
def _book_order(b, keys, n_books):  # pragma: no cover - compiled
    """The order of ``keys = b + u`` (u uniform in [0, 1)): by book (a counting sort), then by key
    within a book (a bucket sort of its uniforms, insertion within a bucket). Keys that are all
    distinct have one sorted order, whatever the sort."""
    order, start = group_by(b, n_books)
    out = np.empty(b.size, np.int64)
    for g in range(n_books):
        lo, hi = start[g], start[g + 1]
        m = hi - lo
        if m == 0:
            continue
        bucket = np.empty(m, np.int64)
        for j in range(m):
            bucket[j] = min(max(np.int64((keys[order[lo + j]] - g) * m), 0), m - 1)
        inner, first = group_by(bucket, m)
        for j in range(m):
            cur = order[lo + inner[j]]
            key = keys[cur]
            k = lo + j
            floor = lo + first[bucket[inner[j]]]  # the bucket's first place: insertion within it
            while k > floor and key < keys[out[k - 1]]:
                out[k] = out[k - 1]
                k -= 1
            out[k] = cur
    return out


@njit
def _outcomes_in_order(order, held, stream, w, b, hours, expected, p_rej, duration_cv2, open_tasks,
                       week_taken, week_rejected, ints, times, fifo, now):  # pragma: no cover - compiled
    """Tasks accepted and rejected in each stretch, and the tasks taken from each batch.

    Tasks finished in a stretch are a renewal count: for many tasks it is close to normal with
    variance CV^2 x mean, CV the coefficient of variation of one task's duration
    (``matching.renewal_counts``). Rejections are rare events: Poisson. A book never gives out
    more than it holds (``matching.trim_to_open``). The accepted tasks are taken from the books'
    batches (``BatchStore.take``), and counted with the rejected in the week's tallies.
    Returns the stretches in their new order, the tasks accepted and rejected, the tasks taken
    from each batch, the batches hit and how long their tasks waited.
    """
    rng = held.streams[stream]
    n = order.size
    w2, b2, h2, e2 = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n), np.empty(n)
    accept_mean, reject_mean, cv2 = np.empty(n), np.empty(n), np.empty(n)
    for j in range(n):
        i = order[j]
        w2[j], b2[j], h2[j], e2[j] = w[i], b[i], hours[i], expected[i]
        accept_mean[j] = e2[j] * (1.0 - p_rej[i])
        reject_mean[j] = e2[j] * p_rej[i]
        cv2[j] = duration_cv2[b2[j]]
    accepted = _renewal_counts(rng, accept_mean, cv2)
    draws = np.empty(2 * n, np.int64)
    for j in range(n):
        draws[j] = accepted[j]
    for j in range(n):
        draws[n + j] = poisson(rng, reject_mean[j])
    books2 = np.empty(2 * n, np.int64)
    for j in range(n):
        books2[j] = b2[j]
        books2[n + j] = b2[j]
    draws = _trim_to_open(rng, draws, books2, open_tasks)
    acc, r = draws[:n].copy(), draws[n:].copy()
    per_book = _tally(b2, acc, r, week_taken, week_rejected)
    counts, hit, waited = _take_start(ints, times, fifo, per_book, now)
    return w2, b2, h2, e2, acc, r, counts, hit, waited, np.zeros(0), False


@njit
def _tally(b, acc, r, week_taken, week_rejected):  # pragma: no cover - compiled
    """Tasks accepted per book (added to the week's, as the rejected are)."""
    n_books = week_taken.size
    taken, rejected = np.zeros(n_books), np.zeros(n_books)
    for j in range(b.size):
        taken[b[j]] += acc[j]
        rejected[b[j]] += r[j]
    per_book = np.empty(n_books, np.int64)
    for k in range(n_books):
        per_book[k] = np.int64(np.rint(taken[k]))
        week_taken[k] += per_book[k]
        week_rejected[k] += rejected[k]
    return per_book


@njit
def _outcomes_in_order_entry(order, held, stream, w, b, hours, expected, p_rej, duration_cv2, open_tasks,
                             week_taken, week_rejected, ints, times, fifo, now):  # pragma: no cover - compiled
    """``_outcomes_in_order`` for its Python caller (``_outcomes`` calls it compiled; see
    labsim.model.batch_passes on why one function is not called both ways)."""
    return _outcomes_in_order(order, held, stream, w, b, hours, expected, p_rej, duration_cv2, open_tasks,
                              week_taken, week_rejected, ints, times, fifo, now)
