"""Requesters' batches arrive: when, how many, how large, at what piece rate.

Batches of each book arrive as a Poisson stream whose rate is the book's
share of its type's demand (routing sets it) x requesters' office-hours
profile x demand growth; evaluation work is multiplied by the demand that
automation creates. Each batch comes from one class of requesters (the
book's mix of classes), with a log-normal size (heavy-tailed, at least one
task), a log-normal value per accepted task and a deadline, both set by the
type and the class. Its requester prices it (``pricing``: never below the
type's floor; customary-rate requesters pay the type's customary rate), buys
fewer of its tasks the dearer they are (``demand.elasticity``) and posts it
only if it is worth its cost. The crowd platform
charges its fee on top of the reward (a higher one for large batches);
vendors bill by the hour instead. A model, or LLM labels, do the automated
share of each batch at a compute price (an LLM label at its price); the
rest waits in its book until taken or until its deadline.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.rules import pricing
from labsim.model.accounts import _post
from labsim.model.jit import group_by, njit
from labsim.model.rng import poisson
from labsim.model.rules.automation import _automated
from labsim.model.rules.posting import demand_growth
from labsim.model.units import HOURS_PER_WEEK, UUSD


@njit
def block_size(lam):  # pragma: no cover - compiled
    """Rows of random numbers drawn for a step's batches of one type: enough for all but a
    vanishing share of Poisson(``lam``) counts (mean + 12 standard deviations + 20)."""
    return np.int64(lam + 12.0 * np.sqrt(lam) + 20.0)


def post_batches(m: Context, now: float) -> None:
    """Draw the batches requesters consider in [now, now + step) and post those worth posting.

    Batches arrive per task type and then go to a book by the books' shares (a multinomial split
    of Poisson arrivals: the same law as a Poisson stream per book). Each type draws from its own
    streams, its count from one and its batches' random numbers from another, a block whose size
    depends only on the arrival rate: two runs that share a seed but route differently (a policy
    moving work between channels) face the same batches. ``post_drawn`` posts them.
    """
    counts, u = _draw(m.held, arrival_rates(m, now))
    post_drawn(m, now, counts, u)


def arrival_rates(m: Context, now: float) -> np.ndarray:
    """Expected batches of each task type in [now, now + step): the type's books' rates x the
    office-hours profile over the step x demand growth, x the demand automation creates for
    evaluation work."""
    cfg, books, state = m.cfg, m.books, m.state
    growth = demand_growth(now, cfg.demand.growth_per_year)
    hour = int(now) % HOURS_PER_WEEK
    boost = float(m.profile[hour: hour + m.sub_hours].sum() * growth)
    return _rates(books.type, state.book_rate_h, m.types.is_eval, float(state.eval_multiplier), boost)


@njit
def _rates(book_type, book_rate_h, is_eval, eval_multiplier, boost):  # pragma: no cover - compiled
    lam = np.zeros(is_eval.size)
    for b in range(book_type.size):
        lam[book_type[b]] += book_rate_h[b]
    for t in range(is_eval.size):
        lam[t] = lam[t] * boost
        if is_eval[t]:
            lam[t] = lam[t] * eval_multiplier
    return lam


@njit
def _draw(held, lam):  # pragma: no cover - compiled
    """Each type's batches: a Poisson count (the type's count stream, held at ``n_types + k``) and
    five uniforms each from a block of the type's own stream (held at ``k``)."""
    n_types = lam.size
    rows = 0
    for t in range(n_types):
        if lam[t] > 0:
            rows += block_size(lam[t])
    u = np.empty((rows, 5))
    counts = np.zeros(n_types, np.int64)
    total = 0
    for t in range(n_types):
        if not lam[t] > 0:
            continue
        size = block_size(lam[t])
        draws = held.streams[t]
        block = np.empty((size, 5))
        for i in range(size):
            for j in range(5):
                block[i, j] = draws.random()
        counts[t] = min(poisson(held.streams[n_types + t], lam[t]), size)
        for i in range(counts[t]):
            for j in range(5):
                u[total + i, j] = block[i, j]
        total += counts[t]
    return counts, u[:total]


def post_drawn(m: Context, now: float, counts: np.ndarray, u: np.ndarray) -> None:
    """Post the batches drawn: ``counts[k]`` of type k, in type order, each with five uniforms
    (``u``, one row a batch: book, class, rounding at scale, and two for its size's and value's
    standard normals by Box-Muller).

    Each batch's requester class (by the book's mix), size, value per task and
    deadline follow; crowd batches are priced by their requester
    (``pricing``) and posted only if their expected surplus covers the class's
    fixed cost of a batch; vendor batches are billed by the hour and always
    posted. Writes the batch store, the market accounts and the week's counts
    of human tasks posted.
    """
    cfg, books, state, req = m.cfg, m.books, m.state, m.requesters
    cover = state.levers.cover if state.levers.cover is not None else m.no_cover
    # Each type's books, by their share of its batches; each batch's requester class, by its
    # book's mix, and its requesters' home and size; the batches in book order, as the store keeps them.
    which, cls, grp, cov, u_round, neg_u1, angle = _arrive(
        np.asarray(counts, np.int64), np.asarray(u, float), state.book_rate_h, books.type, books.by_type,
        books.n_of_type, books.class_cum, req.home_cum, cover.covered_sub, cover.redirect_p, m.vendor_book,
        cover.redirectable)
    if which.size == 0:
        return
    # Two standard normals from two uniforms (Box-Muller), for sizes and values.
    x_size, x_value = _exponents(np.log1p(neg_u1), np.cos(angle), np.sin(angle), which, cls, books.log_size,
                                 books.log_size_multiplier, books.size_sigma, req.value_sigma)
    # A requester buys fewer of its drawn tasks the dearer an accepted task is against what it
    # would cost at its own best rate with no charge (``demand.elasticity``): a policy's charge,
    # a floor, or for a customary-rate requester a fee above the one it budgeted for. A scaled-down world keeps the
    # same batches with fewer tasks each (rounded at random to keep the mean), so a batch weighs
    # as much against the workforce at every scale. The crowd platform's fee is charged to the
    # requester on top of the reward (another platform's own fee on its books); vendors bill by
    # the hour instead. A rule scoped by requesters' home (``levers.cover``) charges the crowd batches
    # it covers, and its covered vendor batches buy fewer tasks by what their cost rose.
    eps, elasticity = pricing.demand_settings(m)
    size, value, deadline, commission, crowd, rate, cost, ratio = _batch_terms(
        which, cls, np.exp(x_size), np.exp(x_value), cfg.crowd.large_batch_min_tasks, books.commission,
        books.is_crowd, books.value_usd, books.deadline_h, books.start_rate_usd, books.floor_uusd,
        state.reject_share, state.surcharge_usd, state.scarcity, req.value_multiplier, req.deadline_multiplier,
        req.customary_rate, req.budget_fee_share, eps, cov, cover.crowd_charge_usd)
    tasks, surplus = _tasks_bought(size, crowd, pricing.bought(ratio, elasticity), cfg.scale, u_round, value, cost,
                                   which, books.type, cov, cover.vendor_bought)
    # A model or LLM labels do part of each batch of an automatable type, at a compute price or
    # the LLM's price per task (``routing`` sets the shares; a covered requester's own, under a rule).
    acc = m.accounts
    book, human, rate, fee, deadline, value, pull_base = _settle_batches(
        which, cls, tasks, value, rate, surplus, req.fixed_cost_usd, commission, crowd, deadline, float(now),
        books.floor_uusd, books.type, state.auto_share, m.types.automation_qa_share, state.llm_part,
        m.types.compute_uusd, int(round(cfg.routing.llm_cost_usd * UUSD)), books.market_cell, acc.market_ints,
        acc.market_floats, m.batch_slots, state.week_posted_human,
        grp, cov, size, float(cfg.scale), cost, cover.auto_share if cover.auto_share.size else state.auto_share,
        cover.llm_part if cover.llm_part.size else state.llm_part,
        np.nan_to_num(state.channel_cost[:, 1]) if state.channel_cost.size else np.zeros(m.types.n),
        cover.vendor_extra_usd, m.group_week)
    m.store.insert(book, human, rate, fee, float(now), deadline, value, pull_base ** m.store.elasticity)


# What each requester group (class, home, size) buys a week: tasks drawn (before its demand's response),
# bought, done by people on each channel, automated, and what people's work costs it (tasks x the cost per
# accepted task it expects: rate, fee and charges on the crowd, the quote and audits at vendors; USD).
GROUP_FLOWS = ("tasks_drawn", "tasks_bought", "tasks_human_crowd", "tasks_human_vendor", "tasks_automated",
               "cost_human_usd")


# What the arrivals post per book: values lost to machines and to batches not worth posting,
# tasks posted, automated (by LLMs among them), their compute, posted to people and not posted.
BATCH_FLOWS = ("value_automated_uusd", "value_unposted_uusd", "tasks_posted", "tasks_automated", "tasks_llm",
               "compute_cost_uusd", "tasks_posted_human", "posted_value_uusd", "tasks_unposted")


@njit
def _arrive(counts, u, book_rate_h, book_type, by_type, n_of_type, class_cum, home_cum, covered_sub, redirect_p,
            vendor_book, redirectable):  # pragma: no cover - compiled
    """The batches drawn (``counts`` per type, a row of ``u`` each), in book order (drawing order
    within a book): book (by the books' shares of the type), class (by the book's mix), the
    rounding uniform, and the Box-Muller arguments ``-u`` (of the log) and ``2 pi u`` (of the
    angle); and each batch's requester group and coverage.

    The class's uniform, rescaled within the class's interval, is a uniform independent of the class:
    it draws the requesters' sub-group (home jurisdiction and size, ``home_cum``), and, rescaled again
    within the sub-group's, whether a covered batch (``covered_sub``) drawn on a ``redirectable`` book (the
    crowd books of suppliers below the rule's standard) goes to its
    type's vendor book instead (with probability ``redirect_p`` of its type: a due-diligence rule). No
    other random number is drawn, so a run without a rule draws the batches it drew before.
    ``cov``: 0 not covered, 1 covered, 2 covered and moved to vendors."""
    n_types = counts.size
    type_rate = np.zeros(n_types)
    for b in range(book_type.size):
        type_rate[book_type[b]] += book_rate_h[b]
    total = 0
    for t in range(n_types):
        total += counts[t]
    types = np.empty(total, np.int64)
    i = 0
    for t in range(n_types):
        for _ in range(counts[t]):
            types[i] = t
            i += 1
    width = by_type.shape[1]
    cum = np.zeros((n_types, width))  # each type's books' cumulative shares (padded)
    for t in range(n_types):
        acc = 0.0
        for j in range(width):
            b = by_type[t, j]
            rate = type_rate[book_type[b]]
            acc += book_rate_h[b] / rate if rate > 0 else 0.0
            cum[t, j] = acc
    n_classes, n_sub = class_cum.shape[1], home_cum.shape[1]
    which, cls = np.empty(total, np.int64), np.empty(total, np.int64)
    grp, cov = np.empty(total, np.int64), np.zeros(total, np.int64)
    for i in range(total):
        t = types[i]
        pick = 0
        for j in range(width):
            pick += u[i, 0] > cum[t, j]
        b = by_type[t, min(pick, n_of_type[t] - 1)]
        c = 0
        for j in range(n_classes):
            c += u[i, 1] > class_cum[b, j]
        c = min(c, n_classes - 1)
        lo = class_cum[b, c - 1] if c > 0 else 0.0
        width_c = class_cum[b, c] - lo
        v = (u[i, 1] - lo) / width_c if width_c > 0 else 0.5
        k = 0
        for j in range(n_sub):
            k += v > home_cum[c, j]
        k = min(k, n_sub - 1)
        if covered_sub[k]:
            cov[i] = 1
            if redirect_p[t] > 0 and vendor_book[t] >= 0 and redirectable[b]:
                lo_k = home_cum[c, k - 1] if k > 0 else 0.0
                width_k = home_cum[c, k] - lo_k
                w = (v - lo_k) / width_k if width_k > 0 else 0.5
                if w < redirect_p[t]:
                    b = vendor_book[t]
                    cov[i] = 2
        which[i], cls[i], grp[i] = b, c, c * n_sub + k
    order, _ = group_by(which, book_type.size)  # by book, in drawing order within a book
    out_which, out_cls, out_grp, out_cov = (np.empty(total, np.int64), np.empty(total, np.int64),
                                            np.empty(total, np.int64), np.empty(total, np.int64))
    u_round, neg_u1, angle = np.empty(total), np.empty(total), np.empty(total)
    for o in range(total):
        i = order[o]
        out_which[o], out_cls[o], out_grp[o], out_cov[o], u_round[o] = which[i], cls[i], grp[i], cov[i], u[i, 2]
        neg_u1[o] = -u[i, 3]
        angle[o] = 2 * np.pi * u[i, 4]
    return out_which, out_cls, out_grp, out_cov, u_round, neg_u1, angle


@njit
def _exponents(log1p_neg_u1, cos_angle, sin_angle, which, cls, log_size, log_size_multiplier, size_sigma,
               value_sigma):  # pragma: no cover - compiled
    """The logs of each batch's size (its book's median, its class's multiplier, its spread) and of
    its value's deviation, from its two standard normals (Box-Muller)."""
    n = which.size
    x_size, x_value = np.empty(n), np.empty(n)
    for i in range(n):
        radius = np.sqrt(-2.0 * log1p_neg_u1[i])
        b, c = which[i], cls[i]
        x_size[i] = log_size[b] + log_size_multiplier[b, c] + size_sigma[b] * (radius * cos_angle[i])
        x_value[i] = value_sigma[c] * (radius * sin_angle[i])
    return x_size, x_value


@njit
def _batch_terms(which, cls, size_factor, value_factor, large_min, book_commission, is_crowd, value_usd, deadline_h,
                 start_rate_usd, floor_uusd, reject_share, surcharge_usd, scarce, value_multiplier,
                 deadline_multiplier, customary_rate, budget_fee_share, eps, cov, cov_charge_usd):  # pragma: no cover - compiled
    """Each batch's drawn size (at scale 1, at least one task), value per task, deadline, fee and
    channel; and each crowd batch's piece rate (µUSD, not yet rounded), its requester's cost per
    accepted task (USD) and that cost against its own best rate's (``pricing.batch_terms``, at the
    marginal task's value: the book's ``scarce``-ity; a covered crowd batch, ``cov`` 1, with its book's
    ``cov_charge_usd`` on top of the policies' charge)."""
    n = which.size
    size, value, deadline, commission = np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n)
    crowd = np.empty(n, np.bool_)
    n_crowd = 0
    for i in range(n):
        crowd[i] = is_crowd[which[i]]
        n_crowd += crowd[i]
    rate, cost, ratio = np.empty(n_crowd), np.empty(n_crowd), np.empty(n_crowd)
    j = 0
    for i in range(n):
        b, c = which[i], cls[i]
        size[i] = np.int64(max(1.0, np.rint(size_factor[i])))
        value[i] = value_usd[b] * value_multiplier[c] * value_factor[i]
        deadline[i] = deadline_h[b] * deadline_multiplier[c]
        commission[i] = book_commission[1, b] if size[i] >= large_min else book_commission[0, b]
        if crowd[i]:
            charge = surcharge_usd[b] + cov_charge_usd[b] if cov[i] == 1 else surcharge_usd[b]
            paid, _, cost[j], ratio[j] = pricing.batch_terms(
                value[i], scarce[b], commission[i], reject_share[b], charge, start_rate_usd[b], floor_uusd[b] / UUSD,
                customary_rate[c], budget_fee_share[c], eps)
            rate[j] = paid * UUSD
            j += 1
    return size, value, deadline, commission, crowd, rate, cost, ratio


@njit
def _tasks_bought(size, crowd, share, scale, u_round, value, cost, which, book_type, cov,
                  vendor_bought):  # pragma: no cover - compiled
    """Each batch's tasks at this scale (a crowd batch: the ``share`` of its drawn size its requester
    buys; a covered vendor batch, ``cov`` 1 or 2 (moved there by a rule), ``vendor_bought[type, cov -
    1]`` of it; rounded at random to keep the mean) and each crowd batch's surplus from them (USD)."""
    n = size.size
    tasks = np.empty(n, np.int64)
    surplus = np.empty(share.size)
    j = 0
    for i in range(n):
        bought = float(size[i])
        if crowd[i]:
            bought = size[i] * share[j]
            surplus[j] = bought * (value[i] - cost[j])
            j += 1
        elif cov[i] > 0:
            bought = size[i] * vendor_bought[book_type[which[i]], cov[i] - 1]
        tasks[i] = np.int64(np.floor(bought * scale + u_round[i]))
    return tasks, surplus


@njit
def _settle_batches(which, cls, tasks, value, crowd_rate, crowd_surplus, fixed_cost_usd, commission, crowd, deadline,
                    now,
                    floor_uusd, book_type, auto_share, qa_share, llm_part, compute_uusd, llm_uusd, market_cell,
                    market_ints, market_floats, slots, week_posted_human, grp, cov, size, scale, crowd_cost,
                    auto_cov, llm_cov, vendor_usd, vendor_extra_usd, group_week):  # pragma: no cover - compiled
    """Which batches are posted (a crowd batch whose surplus covers its class's fixed cost; a vendor
    batch always), their piece rates in whole µUSD (at least 1 and the type's floor) and fees;
    the tasks left to people and those machines do (``automation.split_tasks``; a covered batch,
    ``cov`` > 0, at its covered requesters' shares ``auto_cov`` and ``llm_cov``); the flows of
    ``BATCH_FLOWS`` per book, posted, and of ``GROUP_FLOWS`` per requester group (``grp``), added
    to ``group_week``. ``crowd_rate``, ``crowd_surplus`` and ``crowd_cost`` are the crowd batches'
    (µUSD, USD, USD per accepted task), in order. Returns the batches that wait in the store: book,
    tasks, rate, fee, deadline, value per task, and the base of their pull (rate in USD, at least one
    µUSD)."""
    n, n_books = which.size, book_type.size
    rate, fee = np.zeros(n, np.int64), np.empty(n, np.int64)
    human, keep = np.empty(n, np.int64), np.empty(n, np.bool_)
    sums = np.zeros((len(BATCH_FLOWS), n_books))
    kept = 0
    c = 0
    for i in range(n):
        b = which[i]
        t = book_type[b]
        posted = True
        if crowd[i]:
            posted = crowd_surplus[c] >= fixed_cost_usd[cls[i]]
            rate[i] = np.int64(max(max(np.rint(crowd_rate[c]), 1.0), floor_uusd[b]))
            c += 1
        fee[i] = np.int64(np.rint(rate[i] * commission[i]))
        auto, llm = (auto_cov[t], llm_cov[t]) if cov[i] > 0 else (auto_share[t], llm_part[t])
        automated = _automated(tasks[i], auto, qa_share[t])
        human[i] = tasks[i] - automated
        by_llm = np.int64(np.floor(automated * llm + 0.5))
        machine = (automated - by_llm) * compute_uusd[t] + by_llm * llm_uusd
        keep[i] = posted and human[i] > 0
        kept += keep[i]
        g = grp[i]
        group_week[0, g] += size[i] * scale
        if posted:
            group_week[1, g] += tasks[i]
            group_week[4, g] += automated
            if crowd[i]:
                group_week[2, g] += human[i]
                group_week[5, g] += human[i] * crowd_cost[c - 1]
            else:
                group_week[3, g] += human[i]
                extra = vendor_extra_usd[t] if cov[i] > 0 else 0.0
                group_week[5, g] += human[i] * (vendor_usd[t] + extra)
        if posted:
            sums[0, b] += automated * value[i] * UUSD
            sums[2, b] += tasks[i]
            sums[3, b] += automated
            sums[4, b] += by_llm
            sums[5, b] += machine
            sums[6, b] += human[i]
            sums[7, b] += human[i] * rate[i]
        else:
            sums[1, b] += tasks[i] * value[i] * UUSD
            sums[8, b] += tasks[i]
    for f in range(sums.shape[0]):
        for b in range(n_books):
            sums[f, b] = np.rint(sums[f, b])
    for b in range(n_books):
        week_posted_human[b] += np.int64(sums[6, b])
    _post(market_cell, sums, slots[0], slots[1], market_ints, market_floats, True)
    out_book, out_human = np.empty(kept, np.int64), np.empty(kept, np.int64)
    out_rate, out_fee = np.empty(kept, np.int64), np.empty(kept, np.int64)
    out_deadline, out_value, pull_base = np.empty(kept), np.empty(kept), np.empty(kept)
    j = 0
    for i in range(n):
        if keep[i]:
            out_book[j], out_human[j], out_rate[j], out_fee[j] = which[i], human[i], rate[i], fee[i]
            out_deadline[j], out_value[j] = now + deadline[i], value[i]
            pull_base[j] = max(rate[i], 1) / UUSD
            j += 1
    return out_book, out_human, out_rate, out_fee, out_deadline, out_value, pull_base
