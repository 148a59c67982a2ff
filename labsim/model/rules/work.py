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
from labsim.model.rules.matching import allocate, piecewise_pay, renewal_counts, trim_to_open
from labsim.model.units import UUSD

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


def crowd_choices(m: Context, cw: np.ndarray, cfrac: np.ndarray, open_tasks: np.ndarray,
                  book_rate: np.ndarray) -> tuple[np.ndarray, ...]:
    """Crowd workers' stretches: the best-paying books they may take, after unpaid search."""
    pool, books, cfg = m.pool, m.books, m.cfg
    cols = books.crowd_cols
    price = np.maximum(book_rate[cols], 1.0)  # empty books: masked anyway
    search = min(cfg.crowd.search_min_per_hour / 60.0, 1.0)
    value = pool.crowd_value[cw] * price
    for policy in m.policies.step_limits:
        policy.restrict_choices(m, cw, value)
    w, b, hours, expected = allocate(cfrac * (1.0 - search), value, pool.crowd_tph, open_tasks[cols],
                                     rounds=cfg.crowd.matching_rounds, rows_of=cw)
    return w, cols[b], hours, expected


def vendor_stretches(m: Context, vw: np.ndarray, vfrac: np.ndarray, open_tasks: np.ndarray,
                     ) -> tuple[np.ndarray, ...]:
    """Vendor staff work their team's book, rationed when it runs short."""
    pool, n_books = m.pool, m.books.n
    vb = pool.vendor_book[vw, 0]
    has = np.flatnonzero(vb >= 0)
    vbook = vb[has]
    tph = pool.book_tph[vw[has], vbook]
    want = vfrac[has] * tph
    demand = np.bincount(vbook, weights=want, minlength=n_books)
    ration = np.divide(open_tasks, demand, out=np.ones(n_books), where=demand > open_tasks)
    got = want * ration[vbook]
    return has, vbook, got / tph, got


def stretches(m: Context, on: Online, open_tasks: np.ndarray, book_rate: np.ndarray) -> Pairs:
    """Everyone's stretches of work this step, in random order within each book."""
    cw, vw = on.crowd, on.vendor
    w, b, hours, expected = crowd_choices(m, cw, on.crowd_h, open_tasks, book_rate)
    if vw.size:
        has, vbook, vhours, vgot = vendor_stretches(m, vw, on.vendor_h, open_tasks)
        if has.size:
            w = np.concatenate([w, cw.size + has])
            b = np.concatenate([b, vbook])
            hours = np.concatenate([hours, vhours])
            expected = np.concatenate([expected, vgot])
    pairs = Pairs(np.concatenate([cw, vw]), cw.size, w, b, hours, expected)
    for policy in m.policies.step_limits:
        policy.trim_hours(m, pairs)
    # Pairs sorted by book, in random order within a book: who gets the
    # best-paid tasks of a book depends on no one's position.
    order = np.argsort(pairs.b + m.rng["work"].random(pairs.w.size))
    pairs.w, pairs.b = pairs.w[order], pairs.b[order]
    pairs.hours, pairs.expected = pairs.hours[order], pairs.expected[order]
    return pairs


def outcomes(m: Context, pairs: Pairs, open_tasks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tasks accepted and rejected in each stretch.

    Tasks finished in a stretch are a renewal count: for many tasks it is
    close to normal with variance CV^2 x mean, CV the coefficient of
    variation of one task's duration. Rejections are rare events: Poisson.
    """
    rng, b = m.rng["work"], pairs.b
    p_rej = m.pool.book_rej[pairs.ids, b]
    accepted = renewal_counts(rng, pairs.expected * (1.0 - p_rej), m.books.duration_cv2[b])
    draws = np.concatenate([accepted, rng.poisson(pairs.expected * p_rej)])
    draws = trim_to_open(rng, draws, np.concatenate([b, b]), open_tasks)
    return draws[: b.size], draws[b.size:]


def work(m: Context, now: float, on: Online) -> None:
    """One step of work for everyone ``on`` line: match, draw, take, review, pay.

    Writes the batch store, the workers' week, the week's hours per type and
    labels, and the accounts.
    """
    pool, books, accounts = m.pool, m.books, m.accounts
    open_tasks = m.store.open_tasks()
    book_rate = m.store.mean_rate_uusd()  # what the next task taken from each book pays
    pairs = stretches(m, on, open_tasks, book_rate)
    acc, r = outcomes(m, pairs, open_tasks)
    w, b, hours, who, n_c = pairs.w, pairs.b, pairs.hours, pairs.who, pairs.n_crowd
    ids, m_all = pairs.ids, who.size
    n = acc + r
    per_book = np.rint(np.bincount(b, weights=acc, minlength=books.n)).astype(np.int64)
    m.state.week_taken += per_book
    m.state.week_rejected += np.bincount(b, weights=r, minlength=books.n)
    taken = m.store.take(per_book, now)
    accounts.post_market(books.market_cell, {"wait_hours": taken.wait_h, "tasks_taken": per_book,
                                              "value_human_uusd": np.rint(taken.worth_usd * UUSD).astype(np.int64)})
    # Pairs and batches are both grouped by book in book order, so task k
    # of the pairs is task k of the batches. Vendor batches carry no
    # per-task price to the worker: vendors pay by the hour.
    crowd_batch = books.is_crowd[taken.book]
    prices = np.stack([np.where(crowd_batch, taken.rate_uusd, 0),
                       np.where(crowd_batch, taken.fee_uusd, 0)], axis=1)
    pf = piecewise_pay(acc, taken.counts, prices)
    pay, fee = pf[:, 0], pf[:, 1]
    pays_rej = books.pays_rejections[b] if books.pays_rejections.any() else None
    if pays_rej is not None and pays_rej.any():
        # A platform that pays rejected work pays it at the rate of the batches the worker was
        # taking (its accepted tasks' mean rate; the book's going rate when none was
        # accepted), its fee on top.
        rate = np.divide(pay, acc, out=book_rate[b].astype(float), where=acc > 0)
        rej_pay = np.where(pays_rej, np.rint(r * rate), 0).astype(np.int64)
        rej_fee = np.rint(rej_pay * books.commission[0, b]).astype(np.int64)
        pay, fee = pay + rej_pay, fee + rej_fee

    # Crowd: paid for accepted tasks only; search and rejected work are
    # unpaid. Vendor staff: paid every shift hour, worked or idle, and
    # the vendor bills the requester the wage plus its margin.
    is_vendor_pair = w >= n_c
    paid_acc = acc if pays_rej is None else np.where(pays_rej, n, acc)  # tasks paid for
    paid_pair = np.divide(hours * paid_acc, n, out=np.zeros_like(hours), where=(n > 0) & ~is_vendor_pair)
    toxic = hours * m.types.toxicity[books.type[b]]
    flows = [paid_pair, hours, acc, r, pay, toxic]
    k = len(flows)
    per_worker = np.bincount(np.concatenate([w + i * m_all for i in range(k)]),
                             weights=np.concatenate(flows), minlength=k * m_all).reshape(k, m_all)
    paid, worked, tasks, rejected, earn, toxic = per_worker
    worked = worked > 0
    cw, vw, vfrac = on.crowd, on.vendor, on.vendor_h
    frac = np.concatenate([on.crowd_h, vfrac])
    # A crowd worker who finds nothing searches a while, then gives up the session.
    unpaid = np.where(worked, frac - paid, np.minimum(frac, m.cfg.crowd.give_up_search_h))
    unpaid[n_c:] = 0.0
    paid[n_c:] = vfrac
    pool.workday[cw[~worked[:n_c]]] = False
    wage = np.rint(vfrac * pool.wage_uusd_h[vw]).astype(np.int64)
    margin = np.rint(wage * m.cfg.vendor.margin).astype(np.int64)
    earn = np.rint(earn).astype(np.int64)
    earn[n_c:] += wage
    pool.wk_paid_h[who] += paid
    pool.wk_unpaid_h[who] += unpaid
    pool.wk_earn_uusd[who] += earn
    pool.wk_tasks[who] += np.rint(tasks).astype(np.int64)
    pool.wk_rejected[who] += np.rint(rejected).astype(np.int64)
    pool.wk_toxic_h[who] += toxic
    for policy in m.policies.step_limits:
        policy.after_work(m, pairs)
    types = books.type[b]
    m.week_hours.append((ids, types, hours))
    m.state.week_labels += np.bincount(types, weights=acc, minlength=m.types.n)
    # Flows tied to tasks go to the task's cell; hours and pay not tied to
    # a task (search, vendor shifts) to the worker's main task type.
    region = pool.region[who]
    cells = accounts.cell(region[w], types, pool.channel[ids])
    task_flows = {"tasks_done_human": acc, "tasks_rejected": r, "paid_hours": paid_pair,
                  "earnings_uusd": pay, "requester_spend_uusd": pay + fee, "platform_fees_uusd": fee}
    for name, mask in books.count_as.items():
        task_flows[name] = acc * mask[b]
    accounts.post(cells, task_flows)
    home = accounts.cell(region, pool.main_type[who], pool.channel[who])
    accounts.post(home[:n_c], {"unpaid_hours": unpaid[:n_c]})
    if vw.size:
        accounts.post(home[n_c:], {"paid_hours": vfrac, "earnings_uusd": wage,
                                   "requester_spend_uusd": wage + margin, "vendor_margin_uusd": margin})
