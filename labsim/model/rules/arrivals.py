"""Requesters' batches arrive: when, how many, how large, at what piece rate.

Batches of each book arrive as a Poisson stream whose rate is the book's
share of its type's demand (routing sets it) x requesters' office-hours
profile x demand growth; evaluation work is multiplied by the demand that
automation creates. Each batch comes from one class of requesters (the
book's mix of classes), with a log-normal size (heavy-tailed, at least one
task), a log-normal value per accepted task and a deadline, both set by the
type and the class. Its requester prices it (``pricing``: never below the
type's floor; customary-rate requesters pay the type's customary rate and
spend a fixed budget, so a higher fee buys fewer of their tasks) and posts it
only if it is worth its cost. The crowd platform
charges its fee on top of the reward (a higher one for large batches);
vendors bill by the hour instead. A model, or LLM labels, do the automated
share of each batch at a compute price (an LLM label at its price); the
rest waits in its book until taken or until its deadline.
"""

from __future__ import annotations

import math

import numpy as np

from labsim.model.context import Context
from labsim.model.rules import pricing
from labsim.model.rules.automation import split_tasks
from labsim.model.units import HOURS_PER_DAY, HOURS_PER_WEEK, HOURS_PER_YEAR, UUSD


def office_hours_profile(requester_utc_offset_h: float, boost: float, start_local_h: float = 9.0,
                         end_local_h: float = 18.0, workdays: int = 5) -> np.ndarray:
    """Relative batch arrival rate for each hour of the UTC week (mean 1).

    Hour 0 is Monday 00:00 UTC. Requesters post ``boost`` times more in their
    weekday office hours (``start_local_h`` to ``end_local_h`` local time,
    Monday to Friday by default) than at other times.
    """
    hours = np.arange(HOURS_PER_WEEK)
    local = hours + requester_utc_offset_h
    day = np.floor(local / HOURS_PER_DAY) % 7
    hour_of_day = local % HOURS_PER_DAY
    office = (day < workdays) & (hour_of_day >= start_local_h) & (hour_of_day < end_local_h)
    w = np.where(office, boost, 1.0)
    return w / w.mean()


def demand_growth(now_h: float, growth_per_year: float) -> float:
    """Demand at ``now_h`` relative to the start: compound growth per year."""
    return (1.0 + growth_per_year) ** (now_h / HOURS_PER_YEAR)


def block_size(lam: float) -> int:
    """Rows of random numbers drawn for a step's batches of one type: enough for all but a
    vanishing share of Poisson(``lam``) counts (mean + 12 standard deviations + 20)."""
    return int(lam + 12.0 * math.sqrt(lam) + 20.0)


def post_batches(m: Context, now: float) -> None:
    """Draw the batches requesters consider in [now, now + step) and post those worth posting.

    Each batch's requester class (by the book's mix), size, value per task and
    deadline are drawn; crowd batches are priced by their requester
    (``pricing``) and posted only if their expected surplus covers the class's
    fixed cost of a batch; vendor batches are billed by the hour and always
    posted. Writes the batch store, the market accounts and the week's counts
    of human tasks posted.
    """
    cfg, books, state, req = m.cfg, m.books, m.state, m.requesters
    growth = demand_growth(now, cfg.demand.growth_per_year)
    hour = int(now) % HOURS_PER_WEEK
    # Batches arrive per task type and then go to a book by the books' shares (a multinomial
    # split of Poisson arrivals: the same law as a Poisson stream per book). Each type draws
    # from its own streams, its count from one and its batches' random numbers from another, a
    # block whose size depends only on the arrival rate: two runs that share a seed but route
    # differently (a policy moving work between channels) face the same batches.
    n_types = m.types.n
    type_rate = np.bincount(books.type, weights=state.book_rate_h, minlength=n_types)
    lam = type_rate * (m.profile[hour: hour + m.sub_hours].sum() * growth)
    lam = np.where(m.types.is_eval, lam * state.eval_multiplier, lam)
    counts, blocks = np.zeros(n_types, np.int64), []
    for k in np.flatnonzero(lam > 0):
        name = m.types.names[k]
        block = m.rng[f"demand.{name}"].random((block_size(float(lam[k])), 5))
        counts[k] = min(int(m.rng[f"demand.{name}.count"].poisson(lam[k])), block.shape[0])
        blocks.append(block[:counts[k]])
    total = int(counts.sum())
    if total == 0:
        return
    t = np.repeat(np.arange(n_types), counts)
    u_book, u_class, u_round, u1, u2 = np.concatenate(blocks).T
    # Two standard normals from two uniforms (Box-Muller), for sizes and values.
    radius = np.sqrt(-2.0 * np.log1p(-u1))
    z_size, z_value = radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)
    # Each type's books, by their share of its batches (cumulative, within the type).
    share = np.divide(state.book_rate_h, type_rate[books.type], out=np.zeros(books.n), where=type_rate[books.type] > 0)
    cum = np.cumsum(share[books.by_type], axis=1)  # (types, books of the type), padded
    pick = np.minimum((u_book[:, None] > cum[t]).sum(axis=1), books.n_of_type[t] - 1)
    which = books.by_type[t, pick]
    order = np.argsort(which, kind="stable")  # batches in book order, as the store keeps them
    which, u_class, u_round, z_size, z_value = (x[order] for x in (which, u_class, u_round, z_size, z_value))
    cls = (u_class[:, None] > books.class_cum[which]).sum(axis=1)
    size = np.maximum(1, np.rint(np.exp(books.log_size[which] + np.log(books.size_multiplier[which, cls])
                                        + books.size_sigma[which] * z_size))).astype(np.int64)
    value = books.value_usd[which] * req.value_multiplier[cls] * np.exp(req.value_sigma[cls] * z_value)
    deadline = books.deadline_h[which] * req.deadline_multiplier[cls]
    # The crowd platform's fee is charged to the requester on top of the reward
    # (another platform's own fee on its books); vendors bill by the hour instead.
    commission = np.where(size >= cfg.crowd.large_batch_min_tasks, books.commission[1, which],
                          books.commission[0, which])
    crowd = books.is_crowd[which]
    # A customary-rate requester's budget buys its drawn size at the fee it planned for; a
    # higher fee, or a policy's charge per task, buys fewer tasks.
    budget = crowd & req.customary_rate[cls]
    charge = state.surcharge_usd[which] / books.start_rate_usd[which]
    size_f = np.where(budget, pricing.budget_tasks(size, req.budget_fee_share[cls], commission, charge), size)
    # A scaled-down world keeps the same batches with fewer tasks each (rounded at random to
    # keep the mean), so a batch weighs as much against the workforce at every scale.
    tasks = np.floor(size_f * cfg.scale + u_round).astype(np.int64)
    rate = np.zeros(total)
    posted = np.ones(total, bool)
    if crowd.any():
        rate[crowd], surplus = pricing.price_batches(m, which[crowd], size_f[crowd], value[crowd],
                                                     commission[crowd], budget[crowd])
        posted[crowd] = surplus >= req.fixed_cost_usd[cls[crowd]]
    rate = np.where(crowd, np.maximum(np.maximum(np.rint(rate), 1), books.floor_uusd[which]), 0).astype(np.int64)
    fee = np.rint(rate * commission).astype(np.int64)

    def per_book(x: np.ndarray, mask: np.ndarray = posted) -> np.ndarray:
        return np.rint(np.bincount(which[mask], weights=x[mask], minlength=books.n)).astype(np.int64)

    # A model or LLM labels do part of each batch of an automatable type, at a compute price or
    # the LLM's price per task (``routing`` sets the shares).
    t = books.type[which]
    human, automated = split_tasks(tasks, state.auto_share[t], m.types.automation_qa_share[t])
    by_llm = np.floor(automated * state.llm_part[t] + 0.5).astype(np.int64)
    machine_uusd = ((automated - by_llm) * m.types.compute_uusd[t]
                    + by_llm * int(round(cfg.routing.llm_cost_usd * UUSD)))
    keep = posted & (human > 0)
    m.store.add(which[keep], human[keep], rate[keep], fee[keep], now, now + deadline[keep], value[keep])
    m.accounts.post_market(books.market_cell, {
        "value_automated_uusd": per_book(automated * value * UUSD),
        "value_unposted_uusd": per_book(tasks * value * UUSD, ~posted)})
    posted_human = per_book(human)
    m.accounts.post_market(books.market_cell, {
        "tasks_posted": per_book(tasks), "tasks_automated": per_book(automated), "tasks_llm": per_book(by_llm),
        "compute_cost_uusd": per_book(machine_uusd),
        "tasks_posted_human": posted_human, "posted_value_uusd": per_book(human * rate),
        "tasks_unposted": per_book(tasks, ~posted)})
    state.week_posted_human += posted_human


def expire_batches(m: Context, now: float) -> None:
    """Drop batches whose deadline has passed; their open tasks count as expired."""
    expired = m.store.expire(now)
    if expired.any():
        m.state.week_expired += expired
        m.accounts.post_market(m.books.market_cell, {
            "tasks_expired": expired,
            "value_expired_uusd": np.rint(m.store.expired_value_usd * UUSD).astype(np.int64)})
