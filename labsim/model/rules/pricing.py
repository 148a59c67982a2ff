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
taken per unit of pull-hour), rejection share and the charges policies add
per accepted task (a wage floor's top-ups, a levy: they leave the best rate
as it is and make marginal batches not worth posting) from what they see,
averaged over ``belief_weeks``. Some requesters (academic ones, by default)
pay a customary rate out of a fixed budget instead: they bear a fee rise in
fewer tasks. The market's rates are at their fixed point when the ``kappa``
requesters believe is the one the market realises (docs/model.md
derives it and its comparative statics: more workers searching, a higher
``kappa``, lower rates; more demand, the opposite).
"""

from __future__ import annotations

import numpy as np

from labsim.model.batch_passes import _search_weight
from labsim.model.context import Context
from labsim.model.jit import njit
from labsim.model.rules.skills import book_tables
from labsim.model.units import CROWD, HOURS_PER_WEEK, UUSD

_LOG_U = np.linspace(np.log(1e-6), np.log(1e6), 4001)  # the grid that inverts the rate equation


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
    """A requester's expected surplus from a batch of ``n`` tasks: each task is worth ``u / (1 + u)``
    of its value when taken at ``u`` times the rate its value decays, and costs ``k x rate``."""
    return n * (value_usd * (u / (1.0 + u)) - k * rate_usd)


def cost_factor(commission: np.ndarray, reject_share: np.ndarray) -> np.ndarray:
    """What one accepted task costs per unit of piece rate: the fee on top, rejected tasks redone."""
    return (1.0 + commission) / (1.0 - np.minimum(reject_share, 0.95))


@njit
def speed_at_rate(paid, rate, u, a, paid_eps):  # pragma: no cover - compiled
    """The take-up speed ``u`` of one batch at the rate paid: ``a x paid^eps`` (``paid_eps``) where a
    floor raised the rate or ``u`` is unknown (NaN: a customary rate), else the ``u`` of the rate
    solved."""
    return a * paid_eps if (paid > rate or np.isnan(u)) else u


def budget_tasks(size: np.ndarray, budget_fee: np.ndarray, commission: np.ndarray,
                 charge: np.ndarray) -> np.ndarray:
    """Tasks a customary-rate requester's budget buys: its drawn size at the fee it planned for
    (``budget_fee``), fewer at a higher fee or with a policy's charge per task (as a share of
    the customary rate)."""
    return size * (1.0 + budget_fee) / (1.0 + commission + charge)


# The same rules, compiled for one batch at a time (``price``, ``arrivals``).
_cost_factor, _surplus_usd, _budget_tasks = njit(cost_factor), njit(surplus_usd), njit(budget_tasks)


def impatience_per_h(m: Context) -> float:
    return m.cfg.pricing.impatience_per_week / HOURS_PER_WEEK


def init_beliefs(m: Context) -> None:
    """Requesters' first beliefs: each crowd book's rejection share among the workers who may
    take it, and the take-up speed at which its batches' mean posted rate is the book's start
    rate (the type's ``base_piece_rate_usd``, calibrated to the baseline's steady state), so the
    market starts at its fixed point rather than drifting to it."""
    books, pool, state, eps = m.books, m.pool, m.state, m.solver.eps
    cols = books.crowd_cols
    crowd = m.active[pool.channel[m.active] == CROWD]
    rej = np.full(books.n, 0.1)
    if crowd.size:
        _, book_rej, crowd_value, _ = book_tables(m, crowd)
        can = np.isfinite(crowd_value)  # (workers, crowd books)
        n_can = can.sum(axis=0)
        rej[cols] = np.divide((book_rej[:, cols] * can).sum(axis=0), n_can,
                              out=np.full(cols.size, 0.1), where=n_can > 0)
    state.reject_share = rej
    state.kappa = start_kappa(m, rej)
    # What requesters have seen so far: a week at that speed. Beliefs are running means until
    # ``belief_weeks`` weeks are seen, so this first guess weighs as one week and the market's
    # own take-up replaces it within the first weeks.
    state.seen_pull_h = np.full(books.n, float(HOURS_PER_WEEK))
    state.seen_taken = state.kappa * state.seen_pull_h
    state.seen_weeks = np.ones(books.n)


_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(9)  # E[f(Z)], Z standard normal
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _posting(m: Context, kappa: np.ndarray, reject_share: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per book, over its classes of requesters, their values and their batch sizes (Gauss-Hermite
    nodes for both log-normals): the weight of each node's tasks, whether it is posted (batches
    worth posting: surplus at least the class's fixed cost), the rate it gets (``price_batches``:
    the best rate, or the customary one) and its cost factor (the fee of its size), had
    requesters believed ``kappa``."""
    books, req, cfg = m.books, m.requesters, m.cfg
    mix = np.diff(books.class_cum, axis=1, prepend=0.0)[:, :, None, None]  # (books, classes, 1, 1)
    value = (books.value_usd[:, None, None, None] * req.value_multiplier[None, :, None, None]
             * np.exp(req.value_sigma[None, :, None, None] * _NODES[None, None, :, None]))
    size = np.maximum(1.0, np.exp(books.log_size[:, None, None, None]
                                  + np.log(books.size_multiplier)[:, :, None, None]
                                  + books.size_sigma[:, None, None, None] * _NODES[None, None, None, :]))
    commission = np.where(size >= cfg.crowd.large_batch_min_tasks, books.commission[1][:, None, None, None],
                          books.commission[0][:, None, None, None])
    customary = req.customary_rate[None, :, None, None]
    surcharge = m.state.surcharge_usd[:, None, None, None]
    size = np.where(customary, budget_tasks(size, req.budget_fee_share[None, :, None, None], commission,
                                            surcharge / books.start_rate_usd[:, None, None, None]), size)
    shape = np.broadcast_shapes(value.shape, size.shape)

    def flat(x):
        return np.ascontiguousarray(np.broadcast_to(x, shape)).ravel()
    rate, surplus, k = price(m, flat(np.arange(books.n)[:, None, None, None]), flat(size), flat(value),
                             flat(commission), flat(customary), kappa, reject_share)
    rate, k = rate.reshape(shape), k.reshape(shape)
    posted = surplus.reshape(shape) >= req.fixed_cost_usd[None, :, None, None]
    w = mix * _WEIGHTS[None, None, :, None] * _WEIGHTS[None, None, None, :] * size
    return w, posted, rate, k


def price(m: Context, book: np.ndarray, n: np.ndarray, value_usd: np.ndarray, commission: np.ndarray,
          customary: np.ndarray, kappa: np.ndarray, reject_share: np.ndarray) -> tuple[np.ndarray, ...]:
    """Batches' piece rates (USD), their requesters' expected surplus (USD) and their cost factors,
    had requesters believed each book taken at ``kappa`` with ``reject_share`` rejected: the best
    rate (``RateSolver``), or the book's customary rate for requesters who pay it, raised to the
    book's floor; the surplus at the rate paid, less what policies charge per task (a charge
    that does not depend on the rate, a floor's top-ups or a levy, leaves the best rate as it is
    and lowers what a batch is worth to post). Compiled arithmetic between numpy's logarithms,
    exponentials and powers."""
    state, books = m.state, m.books
    k, a = _price_terms(book, commission, kappa, reject_share, impatience_per_h(m))
    rate, u = m.solver.solve(value_usd, k, a)
    paid, rate, u = _floor_rates(book, rate, u, customary, books.start_rate_usd, books.floor_uusd)
    surplus = _surplus(n, value_usd, k, paid, rate, u, a, paid ** m.solver.eps, state.surcharge_usd, book)
    return paid, surplus, k


@njit
def _price_terms(book, commission, kappa, reject_share, delta):  # pragma: no cover - compiled
    """Each batch's cost factor and ``a = kappa / delta``."""
    n = book.size
    k, a = np.empty(n), np.empty(n)
    for i in range(n):
        k[i] = _cost_factor(commission[i], reject_share[book[i]])
        a[i] = kappa[book[i]] / delta
    return k, a


@njit
def _floor_rates(book, rate, u, customary, start_rate_usd, floor_uusd):  # pragma: no cover - compiled
    """The rate a batch's requester chooses (its book's customary rate, with no take-up speed
    known, for one that pays it) and the rate it pays: at least the book's floor."""
    n = book.size
    paid, chosen, speed = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        chosen[i] = start_rate_usd[book[i]] if customary[i] else rate[i]
        speed[i] = np.nan if customary[i] else u[i]
        paid[i] = max(chosen[i], floor_uusd[book[i]] / UUSD)
    return paid, chosen, speed


@njit
def _surplus(n, value_usd, k, paid, rate, u, a, paid_eps, surcharge_usd, book):  # pragma: no cover - compiled
    """Requesters decide whether a batch is worth posting at the rate they will pay."""
    out = np.empty(n.size)
    for i in range(n.size):
        speed = speed_at_rate(paid[i], rate[i], u[i], a[i], paid_eps[i])
        out[i] = _surplus_usd(n[i], value_usd[i], k[i], paid[i], speed) - n[i] * surcharge_usd[book[i]]
    return out


def _weighted_mean(w: np.ndarray, x: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    total = w.sum(axis=(1, 2, 3))
    return np.divide((w * x).sum(axis=(1, 2, 3)), total, out=fallback.copy(), where=total > 0)


def mean_posted_rate_usd(m: Context, kappa: np.ndarray, reject_share: np.ndarray) -> np.ndarray:
    """Per book, the mean piece rate of the tasks its requesters post if they believed ``kappa``
    (``_posting``), weighted by the batches' tasks."""
    w, posted, rate, _ = _posting(m, kappa, reject_share)
    return _weighted_mean(w * posted, rate, m.books.start_rate_usd)


def mean_cost_per_accepted_usd(m: Context, kappa: np.ndarray, reject_share: np.ndarray) -> np.ndarray:
    """Per book, what requesters expect an accepted task to cost them (rate x cost factor: the
    fee on top, rejected tasks redone), believing ``kappa``, over all the tasks they bring, posted
    or not: a price that makes batches not worth posting makes the crowd dear, not cheap (over
    the posted ones only, the few high-value batches left would look like the channel's cost)."""
    w, _, rate, k = _posting(m, kappa, reject_share)
    return _weighted_mean(w, rate * k, m.books.start_rate_usd * cost_factor(m.books.commission[1],
                                                                            reject_share))


def start_kappa(m: Context, reject_share: np.ndarray) -> np.ndarray:
    """The belief at which each book's mean posted rate is its start rate.

    Starts where a median batch's best rate is the start rate (``v eps / (k p0) = (1 + u0)^2 /
    u0``, the root ``u0`` above 1) and corrects with ``p ~ kappa^(-1 / (1 + eps))``, the
    rate's response when ``u`` is large, until the mean matches (a few iterations)."""
    books, eps = m.books, m.solver.eps
    k = cost_factor(books.commission[1], reject_share)
    b = np.maximum(books.value_usd * eps / (k * books.start_rate_usd), 4.0)
    u0 = (b - 2.0 + np.sqrt(b * (b - 4.0))) / 2.0
    kappa = u0 * impatience_per_h(m) / books.start_rate_usd ** eps
    for _ in range(30):
        ratio = mean_posted_rate_usd(m, kappa, reject_share) / books.start_rate_usd
        kappa = kappa * ratio ** (1.0 + eps)
    return kappa


def observe(m: Context) -> None:
    """Before and after each step's work: how much pull waited in each book (open tasks x
    rate^eps, hours), the step's integral by the trapezoid rule (half the step at each end), so
    that work taken within a step does not count as waiting for the whole step (a 6-hour step
    measured at its start alone overstates the pull-hours and makes requesters pay more)."""
    store = m.store
    _observe(store.ints[store.BOOK], store.ints[store.REM], store.times[store.PULL], 0.5 * m.sub_hours,
             m.state.week_pull_h)


@njit
def _observe(book, rem, pull, half_step_h, week_pull_h):  # pragma: no cover - compiled
    weight = _search_weight(book, rem, pull, week_pull_h.size)
    for b in range(week_pull_h.size):
        week_pull_h[b] += weight[b] * half_step_h


def learn(m: Context) -> None:
    """After the week: requesters update, book by book, the take-up speed (tasks taken per unit
    of pull-hour: the ratio of the averaged counts), the rejection share and what policies
    charge per accepted task (``week_surcharge_usd``), averaged over
    ``belief_weeks`` (running means until that many weeks are seen, the first guess counting as
    one week). A book with nothing open or reviewed this week keeps its beliefs."""
    state, books = m.state, m.books
    seen = books.is_crowd & (state.week_pull_h > 0)
    state.seen_weeks = state.seen_weeks + seen
    alpha = 1.0 / np.clip(state.seen_weeks, 1, m.cfg.pricing.belief_weeks)
    state.seen_pull_h = np.where(seen, (1 - alpha) * state.seen_pull_h + alpha * state.week_pull_h,
                                 state.seen_pull_h)
    state.seen_taken = np.where(seen, (1 - alpha) * state.seen_taken + alpha * state.week_taken,
                                state.seen_taken)
    learnt = seen & (state.seen_taken > 0) & (state.seen_pull_h > 0)
    state.kappa = np.divide(state.seen_taken, state.seen_pull_h, out=state.kappa.copy(), where=learnt)
    reviewed = state.week_taken + state.week_rejected
    rejected = np.divide(state.week_rejected, reviewed, out=np.zeros(books.n), where=reviewed > 0)
    state.reject_share = np.where(books.is_crowd & (reviewed > 0),
                                  (1 - alpha) * state.reject_share + alpha * rejected, state.reject_share)
    charged = week_surcharge_usd(m)
    state.surcharge_usd = np.where(books.is_crowd & np.isfinite(charged),
                                   (1 - alpha) * state.surcharge_usd + alpha * np.nan_to_num(charged),
                                   state.surcharge_usd)


SURCHARGES = ("topup_uusd", "levy_uusd", "support_cost_uusd")  # policies' charges to requesters


def week_surcharge_usd(m: Context) -> np.ndarray:
    """Per book, this week's policy charges to requesters per accepted crowd task of its type
    (NaN where the type had no accepted crowd task): what a wage floor, paid search, a levy or
    support add to each task's cost. Charges follow workers' hours, so they are spread over a
    type's crowd books alike."""
    acc, wk = m.accounts, m.accounts.week
    n_r, n_t, n_c = acc.shape

    def per_type(name: str) -> np.ndarray:
        return wk[name].reshape(n_r, n_t, n_c)[:, :, CROWD].sum(axis=0).astype(float)
    charged = sum(per_type(k) for k in SURCHARGES) / UUSD
    done = per_type("tasks_done_human")
    per_task = np.divide(charged, done, out=np.full(n_t, np.nan), where=done > 0)
    return per_task[m.books.type]


def reset_week(m: Context) -> None:
    for name in ("week_taken", "week_rejected", "week_pull_h"):
        getattr(m.state, name)[:] = 0


def price_batches(m: Context, book: np.ndarray, n: np.ndarray, value_usd: np.ndarray,
                  commission: np.ndarray, customary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New crowd batches' piece rates (µUSD) and their requesters' expected surplus (USD), from
    the requesters' beliefs about their books (``price``)."""
    rate, surplus, _ = price(m, book, n, value_usd, commission, customary, m.state.kappa, m.state.reject_share)
    return rate * UUSD, surplus
