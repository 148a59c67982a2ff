"""Piece rates: each requester prices its batch against what quick work is worth to it.

A requester with value ``v`` per accepted task posts a crowd batch at piece
rate ``p``; every accepted task costs it ``k p``, with ``k = (1 + c) / (1 -
r)`` (the platform's fee ``c`` on top, and the share ``r`` of tasks rejected
and redone). Workers find batches by search and a higher rate makes a batch
only a little more likely to be picked: each open task is taken at a hazard
``h = kappa p ^ eps`` (per hour), ``eps`` being the elasticity of the speed
of take-up to the reward (about 0.1 on Mechanical Turk: Dube, Jacobs, Naidu
and Suri 2020; ``books`` shares each book's work that way) and ``kappa`` how
fast the book's tasks are taken per unit of pull (high when many workers
search for little work: slack). The requester is impatient: a task done
after ``t`` hours is worth ``v e^(-delta t)``, so a task's expected worth is
``v u / (1 + u)`` with ``u = h / delta`` (how fast the market is against how
soon the work is needed). It maximises ``v u / (1 + u) - k p``, which gives

    v eps / k = p (1 + u)^2 / u,   u = kappa p^eps / delta,

a markdown of the rate below the value that deepens with slack: when
``u`` is large, ``p^(1 + eps) = v eps delta / (k kappa)``. It posts the batch
only if ``n (v u / (1 + u) - k p)`` covers its fixed cost of a batch:
demand responds to price. Requesters learn each book's ``kappa`` (tasks
taken per unit of pull-hour) and rejection share from what they see, averaged
over ``belief_weeks``; the market's rates are at their fixed point when the
``kappa`` requesters believe is the one the market realises (docs/model.md
derives it and its comparative statics: more workers searching, a higher
``kappa``, lower rates; more demand, the opposite).
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.units import HOURS_PER_WEEK, UUSD

_LOG_U = np.linspace(np.log(1e-6), np.log(1e6), 4001)  # the grid that inverts the rate equation


def expected_worth(u: np.ndarray) -> np.ndarray:
    """Share of a task's value left when it is taken at ``u`` times the rate its value decays."""
    return u / (1.0 + u)


class RateSolver:
    """The requester's best piece rate, solved once per run on a grid and interpolated.

    With ``u = a p^eps`` (``a = kappa / delta``) the first-order condition reads
    ``ln(v eps / k) + ln(a) / eps = (1 - eps) / eps ln(u) + 2 ln(1 + u)``, whose
    right side rises with ``u``: one value of ``u`` per left side.
    """

    def __init__(self, eps: float) -> None:
        self.eps = float(eps)
        self.z = (1.0 - self.eps) / self.eps * _LOG_U + 2.0 * np.log1p(np.exp(_LOG_U))

    def solve(self, value_usd: np.ndarray, k: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(best piece rate in USD, its u) for values ``value_usd``, cost factors ``k`` and ``a``."""
        z = np.log(value_usd * self.eps / k) + np.log(a) / self.eps
        u = np.exp(np.interp(z, self.z, _LOG_U))
        return (u / a) ** (1.0 / self.eps), u


def surplus_usd(n: np.ndarray, value_usd: np.ndarray, k: np.ndarray, rate_usd: np.ndarray,
                u: np.ndarray) -> np.ndarray:
    """A requester's expected surplus from a batch of ``n`` tasks."""
    return n * (value_usd * expected_worth(u) - k * rate_usd)


def cost_factor(commission: np.ndarray, reject_share: np.ndarray) -> np.ndarray:
    """What one accepted task costs per unit of piece rate: the fee on top, rejected tasks redone."""
    return (1.0 + commission) / (1.0 - np.minimum(reject_share, 0.95))


def impatience_per_h(m: Context) -> float:
    return m.cfg.pricing.impatience_per_week / HOURS_PER_WEEK


def init_beliefs(m: Context) -> None:
    """Requesters' first beliefs: each crowd book's rejection share among the workers who may
    take it, and a take-up speed at which a median batch's best rate is the book's start rate."""
    books, pool, state, eps = m.books, m.pool, m.state, m.solver.eps
    cols = books.crowd_cols
    crowd = m.active[pool.channel[m.active] == 0]
    rej = np.full(books.n, 0.1)
    if crowd.size:
        can = np.isfinite(pool.crowd_value[crowd])  # (workers, crowd books)
        n_can = can.sum(axis=0)
        rej[cols] = np.divide((pool.book_rej[crowd][:, cols] * can).sum(axis=0), n_can,
                              out=np.full(cols.size, 0.1), where=n_can > 0)
    state.reject_share = rej
    # v eps / (k p0) = (1 + u0)^2 / u0 -> u0 (the root above 1); kappa = u0 delta / p0^eps
    k = cost_factor(books.commission[1], rej)  # a median batch is large
    b = np.maximum(books.value_usd * eps / (k * books.start_rate_usd), 4.0)
    u0 = (b - 2.0 + np.sqrt(b * (b - 4.0))) / 2.0
    state.kappa = u0 * impatience_per_h(m) / books.start_rate_usd ** eps
    # What requesters have seen so far: a week at that speed, so the first weeks weigh as one.
    state.seen_pull_h = np.full(books.n, float(HOURS_PER_WEEK))
    state.seen_taken = state.kappa * state.seen_pull_h


def observe(m: Context) -> None:
    """Each step: how much pull waited in each book (open tasks x rate^eps, hours)."""
    m.state.week_pull_h += m.store.search_weight() * m.sub_hours


def learn(m: Context) -> None:
    """After the week: requesters update, book by book, the take-up speed (tasks taken per unit
    of pull-hour: the ratio of the averaged counts) and the rejection share, averaged over
    ``belief_weeks``. A book with nothing open or reviewed this week keeps its beliefs."""
    state, books = m.state, m.books
    alpha = 1.0 / m.cfg.pricing.belief_weeks
    seen = books.is_crowd & (state.week_pull_h > 0)
    state.seen_pull_h = np.where(seen, (1 - alpha) * state.seen_pull_h + alpha * state.week_pull_h,
                                 state.seen_pull_h)
    state.seen_taken = np.where(seen, (1 - alpha) * state.seen_taken + alpha * state.week_taken,
                                state.seen_taken)
    state.kappa = np.where(seen & (state.seen_taken > 0), state.seen_taken / state.seen_pull_h, state.kappa)
    reviewed = state.week_taken + state.week_rejected
    rejected = np.divide(state.week_rejected, reviewed, out=np.zeros(books.n), where=reviewed > 0)
    state.reject_share = np.where(books.is_crowd & (reviewed > 0),
                                  (1 - alpha) * state.reject_share + alpha * rejected, state.reject_share)


def reset_week(m: Context) -> None:
    for name in ("week_taken", "week_rejected", "week_pull_h"):
        getattr(m.state, name)[:] = 0


def price_batches(m: Context, book: np.ndarray, n: np.ndarray, value_usd: np.ndarray,
                  commission: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New crowd batches' best piece rates (µUSD) and their requesters' expected surplus (USD),
    from the requesters' beliefs about their books."""
    state = m.state
    k = cost_factor(commission, state.reject_share[book])
    rate, u = m.solver.solve(value_usd, k, state.kappa[book] / impatience_per_h(m))
    return rate * UUSD, surplus_usd(n, value_usd, k, rate, u)
