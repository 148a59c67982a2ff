"""Piece rates and how many tasks requesters buy: Robinson's markdown and a stated demand elasticity.

A requester with value ``v`` per accepted task posts a crowd batch at piece
rate ``p``; every accepted task costs it ``k p + s``, with ``k = (1 + c) / (1
- r)`` (the platform's fee ``c`` on top, and the share ``r`` of tasks
rejected and redone) and ``s`` what policies charge per accepted task (a wage
floor's top-ups, a levy, support). Workers find batches by search, and a
higher rate brings its tasks more takers with elasticity ``e``
(``pricing.supply_elasticity``: about 0.1 on Mechanical Turk, Dube, Jacobs,
Naidu and Suri 2020; ``books`` shares each book's work that way). Facing that
supply, a requester that maximises ``(v - k p - s) p^e`` posts Robinson's
markdown

    p = e (v - s) / ((1 + e) k),

so that what a task is worth follows from the rates observed:
``v = k p (1 + e) / e`` (``anchor_values``, with the observed market's fees),
about 11 times its cost at ``e = 0.1``. A fee is passed on to workers in
full (``k p`` does not move); a charge per task is borne by the requester
for ``1 / (1 + e)`` of it. Some requesters (academic ones, by default) pay a
customary rate instead and plan their budgets at a fee (``budget_fee_share``).

Where workers are plentiful or scarce, the marginal task is worth less or
more. Workers find tasks by search: with a matching function of elasticity
one half in searchers' hours and in open tasks (``MATCHING``), each open
task is taken at a speed proportional to the crowd's search hours per task
done, that is, for a task type, to its crowd workers' search hours per paid
hour ``sigma`` (the ILO's unpaid minutes, learnt each week). A requester
facing the take-up ``kappa p^e`` with ``kappa ~ sigma`` and the demand curve
``v (Q / Q0)^(-1/eta)`` (``eta``: ``demand.elasticity``) posts ``p ~
kappa^(-1 / (eta + e))``: Robinson's markdown of the marginal value ``v S``
with ``S = (sigma / sigma0)^(-1 / (eta + e))`` against the stored steady
state's ``sigma0``, where values are anchored. And where a share ``f`` of its
tasks expires undone it is at ``f n`` on its demand curve, where the marginal
task is worth ``f^(-1/eta)`` more (``scarcity``). So a region's entry or a wave
of newcomers lowers rates, and a rush of demand raises them
(``pricing.slack_response`` turns both off).

How many tasks a requester buys answers to what an accepted task costs it,
against what it would cost at the anchor's best rate with no charge (``own``:
for a customary requester, the customary rate at the fee it planned for),
with the declared elasticity ``eta``: a batch of drawn size ``n`` buys ``n
(cost / own)^-eta`` tasks (``bought``; at the best rate ``cost / own = S + s /
(e v)``, so where workers are plentiful it buys more). It is posted only if
those tasks' surplus ``(v - k p - s)`` covers the class's fixed cost of a
batch. Requesters learn each book's rejection share, fill share, its type's
search ratio and the charges policies add per accepted task from what they
see, averaged over ``belief_weeks``.
"""

from __future__ import annotations

import numpy as np

from labsim.config import CrowdPlatformConfig
from labsim.model.context import Context
from labsim.model.jit import njit
from labsim.model.rules.skills import book_tables
from labsim.model.units import CROWD, UUSD

MOST_REJECTED = 0.95  # the cost factor's cap on the share of tasks rejected


def cost_factor(commission: np.ndarray, reject_share: np.ndarray) -> np.ndarray:
    """What one accepted task costs per unit of piece rate: the fee on top, rejected tasks redone."""
    return (1.0 + commission) / (1.0 - np.minimum(reject_share, MOST_REJECTED))


_cost_factor = njit(cost_factor)


@njit
def batch_terms(value, scarce, commission, reject, charge, start_rate, floor_usd, customary, budget_fee,
                eps):  # pragma: no cover - compiled
    """One crowd batch's terms, ``value`` being what its tasks are worth at the anchor and ``scarce``
    the book's ``scarcity`` (the marginal task is worth ``value x scarce``): the rate paid (USD: the
    best rate, or the customary one, raised to the floor and to one µUSD), the cost factor ``k``,
    the requester's cost per accepted task (``k`` x rate + the policies' charge) and that cost
    against the anchor's best rate's with no charge (``ratio``: it buys ``ratio^-elasticity`` of its
    drawn tasks, a power numpy takes between compiled passes, ``bought``)."""
    k = _cost_factor(commission, reject)
    kept = 1.0 - min(reject, MOST_REJECTED)
    if customary:
        paid = max(start_rate, floor_usd, 1.0 / UUSD)
        # cost / own: the fee charged against the fee budgeted, and the charge against the rate
        ratio = ((1.0 + commission) * paid / start_rate + charge * kept / start_rate) / (1.0 + budget_fee)
    else:
        chosen = max(eps * (value * scarce - charge) / ((1.0 + eps) * k), 0.0)
        paid = max(chosen, floor_usd, 1.0 / UUSD)
        own = eps * value / (1.0 + eps)
        # at the best rate k p + s = (e v S + s) / (1 + e): the ratio in closed form, S with no charge
        ratio = scarce + charge / (eps * value) if paid == chosen else (k * paid + charge) / own
    return paid, k, k * paid + charge, ratio


def bought(ratio: np.ndarray, elasticity: float) -> np.ndarray:
    """The share of its drawn tasks a requester buys when an accepted task costs ``ratio`` times its
    own best rate's cost with no charge: ``ratio^-elasticity`` (``demand.elasticity``)."""
    return np.asarray(ratio, float) ** -float(elasticity)


@njit
def _terms_of(book, value, commission, customary, budget_fee, reject, charge, start_rate, floor_uusd, scarce,
              eps):  # pragma: no cover - compiled
    """``batch_terms`` of many batches (``book``: each one's book; ``scarce``: each book's
    scarcity): rate paid, cost factor, cost per accepted task and its ratio to the requester's own."""
    n = book.size
    paid, k, cost, ratio = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        b = book[i]
        paid[i], k[i], cost[i], ratio[i] = batch_terms(
            value[i], scarce[b], commission[i], reject[b], charge[b], start_rate[b], floor_uusd[b] / UUSD,
            customary[i], budget_fee[i], eps)
    return paid, k, cost, ratio


SCARCEST = 4.0  # the marginal value's bounds, x or / the anchor's (scarcity)
FEWEST_DONE = 0.25  # the fill share below which scarcity is held
STEEPEST = 0.1  # the demand elasticity below which the inverse demand's slope is held
MATCHING = 0.5  # the matching function's elasticity in searchers' hours (Petrongolo and Pissarides 2001)


def scarcity(search_ratio: np.ndarray, search_ref: np.ndarray, fill_share: np.ndarray, supply_elasticity: float,
             elasticity: float) -> np.ndarray:
    """How much more (or less) a book's marginal task is worth than at the anchor.

    Slack: its tasks are taken at a speed ``kappa ~ (sigma / sigma0)^(MATCHING / (1 - MATCHING))``
    (``search_ratio`` against ``search_ref``, the stored steady state's); a requester facing the
    take-up ``kappa p^e`` and the demand curve ``v (Q / Q0)^(-1/eta)`` posts ``p ~ kappa^(-1 / (eta +
    e))``, Robinson's markdown of the marginal value ``v kappa^(-1 / (eta + e))``. Scarcity: with a
    share ``f`` of its tasks done it is at ``f n`` on its demand curve, where the marginal task is
    worth ``f^(-1/eta)`` (``f`` held at 0.25, the slope at ``eta`` 0.1). Their product, bounded by
    ``SCARCEST``; slack counts 1 where either ratio is unknown."""
    sigma, ref = np.asarray(search_ratio, float), np.asarray(search_ref, float)
    known = np.isfinite(ref) & (ref > 0) & (sigma > 0)
    speed = np.divide(sigma, ref, out=np.ones(sigma.shape), where=known) ** (MATCHING / (1.0 - MATCHING))
    slack = speed ** (-1.0 / (float(elasticity) + float(supply_elasticity)))
    undone = np.clip(np.asarray(fill_share, float), FEWEST_DONE, 1.0) ** (-1.0 / max(float(elasticity), STEEPEST))
    return np.clip(slack * undone, 1.0 / SCARCEST, SCARCEST)


def update_scarcity(m: Context) -> None:
    """Each book's ``scarcity`` from requesters' beliefs (all 1 with ``pricing.slack_response`` off)."""
    state = m.state
    if m.cfg.pricing.slack_response:
        state.scarcity = scarcity(state.search_ratio, state.search_ref, state.fill_share, *demand_settings(m))
    else:
        state.scarcity = np.ones(m.books.n)


def demand_settings(m: Context) -> tuple[float, float]:
    """(the requester-level supply elasticity ``e``, the demand elasticity ``eta``)."""
    return float(m.cfg.pricing.supply_elasticity), float(m.cfg.demand.elasticity)


def init_beliefs(m: Context) -> None:
    """Requesters' first beliefs: each crowd book's rejection share among the workers who may take
    it (what its tasks are worth follows from them, ``anchor_values``, once a stored state has had
    its say)."""
    books, pool, state = m.books, m.pool, m.state
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
    state.seen_weeks = np.ones(books.n)
    state.search_ratio = np.zeros(books.n)  # unknown until a week is seen
    state.search_ref = np.full(books.n, np.nan)


_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(9)  # E[f(Z)], Z standard normal
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _mix_and_sizes(m: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per book, each class's share of its batches (books, classes, 1, 1) and the batch sizes at the
    Gauss-Hermite nodes of the size's log-normal (books, classes, 1, nodes)."""
    books = m.books
    mix = np.diff(books.class_cum, axis=1, prepend=0.0)[:, :, None, None]
    size = np.maximum(1.0, np.exp(books.log_size[:, None, None, None]
                                  + np.log(books.size_multiplier)[:, :, None, None]
                                  + books.size_sigma[:, None, None, None] * _NODES[None, None, None, :]))
    return mix, size


def anchor_values(m: Context) -> None:
    """What a task of each book is worth to its buyer, from the rate it is observed at (the book's
    start rate: its type's ``base_piece_rate_usd`` x the book's premium) through Robinson's markdown,
    ``v = k p (1 + e) / e``: the type's value is set so that the rates its optimising requesters post
    average the start rate over their classes (value multipliers and spreads) and batch sizes (the
    fee of each size), at the start's scarcity. ``k`` is the observed market's (Mechanical Turk's fees, ``crowd``'s defaults,
    and the type's believed rejection share at the start), so a scenario that changes the fees or the
    floors leaves what work is worth as it is. A book whose requesters all pay the customary rate is
    valued like a median large batch."""
    books, req = m.books, m.requesters
    eps = float(m.cfg.pricing.supply_elasticity)
    fees = CrowdPlatformConfig()
    rej = np.array([m.state.reject_share[books.crowd_cols[books.type[books.crowd_cols] == t]].mean()
                    if (books.type[books.crowd_cols] == t).any() else 0.1 for t in range(m.types.n)])[books.type]
    mix, size = _mix_and_sizes(m)
    fee = np.where(size >= fees.large_batch_min_tasks, fees.commission_large_batch, fees.commission)
    k = cost_factor(fee, rej[:, None, None, None])
    optimising = ~req.customary_rate[None, :, None, None]
    spread = (req.value_multiplier * np.exp(0.5 * req.value_sigma ** 2))[None, :, None, None]
    w = mix * _WEIGHTS[None, None, None, :] * optimising
    per_value = (w * spread * size / k).sum(axis=(1, 2, 3))  # mean rate per unit of value, x tasks
    tasks = (w * size).sum(axis=(1, 2, 3))
    k_large = cost_factor(np.array(fees.commission_large_batch), rej)
    ratio = np.divide(tasks, per_value, out=k_large, where=per_value > 0)
    update_scarcity(m)
    books.value_usd = books.start_rate_usd * ratio * (1.0 + eps) / eps / m.state.scarcity


def _posting(m: Context, reject_share: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per book, over its classes of requesters, their values and their batch sizes (Gauss-Hermite
    nodes for both log-normals): the weight of each node's tasks (the tasks bought), whether it is
    posted (its surplus covers the class's fixed cost), the rate paid and its cost factor, had
    requesters believed ``reject_share``."""
    books, req, cfg = m.books, m.requesters, m.cfg
    mix, size = _mix_and_sizes(m)
    value = (books.value_usd[:, None, None, None] * req.value_multiplier[None, :, None, None]
             * np.exp(req.value_sigma[None, :, None, None] * _NODES[None, None, :, None]))
    commission = np.where(size >= cfg.crowd.large_batch_min_tasks, books.commission[1][:, None, None, None],
                          books.commission[0][:, None, None, None])
    shape = np.broadcast_shapes(value.shape, size.shape)

    def flat(x):
        return np.ascontiguousarray(np.broadcast_to(x, shape)).ravel()
    eps, elasticity = demand_settings(m)
    paid, k, cost, ratio = _terms_of(
        flat(np.arange(books.n)[:, None, None, None]), flat(value), flat(commission),
        flat(req.customary_rate[None, :, None, None]), flat(req.budget_fee_share[None, :, None, None]),
        reject_share, m.state.surcharge_usd, books.start_rate_usd, books.floor_uusd, m.state.scarcity, eps)
    tasks = np.broadcast_to(size, shape) * bought(ratio, elasticity).reshape(shape)
    surplus = tasks * (np.broadcast_to(value, shape) - cost.reshape(shape))
    posted = surplus >= req.fixed_cost_usd[None, :, None, None]
    w = mix * _WEIGHTS[None, None, :, None] * _WEIGHTS[None, None, None, :] * tasks
    return w, posted, paid.reshape(shape), k.reshape(shape)


def _weighted_mean(w: np.ndarray, x: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    total = w.sum(axis=(1, 2, 3))
    return np.divide((w * x).sum(axis=(1, 2, 3)), total, out=fallback.copy(), where=total > 0)


def mean_posted_rate_usd(m: Context, reject_share: np.ndarray) -> np.ndarray:
    """Per book, the mean piece rate of the tasks its requesters post (``_posting``), weighted by the
    batches' tasks."""
    w, posted, rate, _ = _posting(m, reject_share)
    return _weighted_mean(w * posted, rate, m.books.start_rate_usd)


def mean_cost_per_accepted_usd(m: Context, reject_share: np.ndarray) -> np.ndarray:
    """Per book, what requesters expect an accepted task to cost them (rate x cost factor: the fee on
    top, rejected tasks redone), over all the tasks they bring, posted or not: a price that makes
    batches not worth posting makes the crowd dear, not cheap (over the posted ones only, the few
    high-value batches left would look like the channel's cost)."""
    w, _, rate, k = _posting(m, reject_share)
    return _weighted_mean(w, rate * k, m.books.start_rate_usd * cost_factor(m.books.commission[1],
                                                                            reject_share))


def learn(m: Context) -> None:
    """After the week: requesters update, book by book, the rejection share, the fill share (tasks
    accepted over tasks accepted or expired), the search ratio of its type's crowd (search hours
    over paid hours: the ratio of the averaged counts; the book's ``scarcity`` follows) and what
    policies charge per accepted task (``week_surcharge_usd``), averaged over ``belief_weeks``
    (running means until that many weeks are seen, the first guess counting as one week; the first
    week with crowd work replaces an unknown search ratio, and becomes the reference where no
    stored state gave one). A book with nothing reviewed this week keeps its beliefs."""
    state, books = m.state, m.books
    reviewed = state.week_taken + state.week_rejected
    seen = books.is_crowd & (reviewed > 0)
    state.seen_weeks = state.seen_weeks + seen
    alpha = 1.0 / np.clip(state.seen_weeks, 1, m.cfg.pricing.belief_weeks)
    rejected = np.divide(state.week_rejected, reviewed, out=np.zeros(books.n), where=reviewed > 0)
    state.reject_share = np.where(seen, (1 - alpha) * state.reject_share + alpha * rejected, state.reject_share)
    ended = state.week_taken + state.week_expired
    done = np.divide(state.week_taken, ended, out=np.ones(books.n), where=ended > 0)
    state.fill_share = np.where(books.is_crowd & (ended > 0), (1 - alpha) * state.fill_share + alpha * done,
                                state.fill_share)
    search_h, paid_h = crowd_hours(m)
    worked = books.is_crowd & (paid_h > 0)
    a = np.where(worked & (state.seen_paid_h <= 0), 1.0, alpha)
    state.seen_search_h = np.where(worked, (1 - a) * state.seen_search_h + a * search_h, state.seen_search_h)
    state.seen_paid_h = np.where(worked, (1 - a) * state.seen_paid_h + a * paid_h, state.seen_paid_h)
    learnt = worked & (state.seen_search_h > 0)
    state.search_ratio = np.divide(state.seen_search_h, state.seen_paid_h, out=state.search_ratio.copy(),
                                   where=learnt)
    state.search_ref = np.where(learnt & ~np.isfinite(state.search_ref), state.search_ratio, state.search_ref)
    update_scarcity(m)
    if state.week_paid_h_region.size:  # charges by region, and the hours a task takes, for steering
        paid_h = state.week_paid_h_region.sum(axis=1)
        state.paid_h_per_task = np.where(state.week_taken > 0, np.divide(
            paid_h, state.week_taken, out=np.zeros(books.n), where=state.week_taken > 0), state.paid_h_per_task)
        rate = 1.0 / m.cfg.pricing.belief_weeks
        per_hour = region_charge_per_hour(m)
        state.region_charge_h = (1 - rate) * state.region_charge_h + rate * per_hour
    else:
        per_hour = None
    charged = week_surcharge_usd(m, per_hour)
    state.surcharge_usd = np.where(books.is_crowd & np.isfinite(charged),
                                   (1 - alpha) * state.surcharge_usd + alpha * np.nan_to_num(charged),
                                   state.surcharge_usd)


def crowd_cells(m: Context, name: str) -> np.ndarray:
    """(regions, types) this week's flow ``name`` of the accounts in the crowd's cells."""
    n_r, n_t, n_c = m.accounts.shape
    return m.accounts.week[name].reshape(n_r, n_t, n_c)[:, :, CROWD].astype(float)


def _crowd_week(m: Context, name: str) -> np.ndarray:
    """Per task type, this week's flow ``name`` of the accounts over the crowd's cells (all regions)."""
    return crowd_cells(m, name).sum(axis=0)


def crowd_hours(m: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per book, this week's unpaid search hours and paid hours of its task type's crowd workers; where
    requesters offer a region's workers only part of a book's batches (``routing.offer_by_region``),
    that region's hours count for that share (its searchers find the book's tasks that much less)."""
    books, offer = m.books, m.state.offer
    if not offer.size or (offer >= 1.0).all():
        return _crowd_week(m, "unpaid_hours")[books.type], _crowd_week(m, "paid_hours")[books.type]
    def by_book(name):
        return (offer * crowd_cells(m, name).T[books.type]).sum(axis=1)
    return by_book("unpaid_hours"), by_book("paid_hours")


SURCHARGES = ("topup_uusd", "levy_uusd", "support_cost_uusd")  # policies' charges to requesters


def region_charge_per_hour(m: Context) -> np.ndarray:
    """Per region, this week's policy charges per paid hour of its crowd workers (USD)."""
    charged = sum(crowd_cells(m, k).sum(axis=1) for k in SURCHARGES) / UUSD
    paid = m.state.week_paid_h_region.sum(axis=0)
    return np.divide(charged, paid, out=np.zeros(paid.size), where=paid > 0)


def week_surcharge_usd(m: Context, per_hour: np.ndarray | None = None) -> np.ndarray:
    """Per book, this week's policy charges to requesters per accepted crowd task (NaN where it had
    none): what a wage floor, paid search, a levy or support add to each task's cost. Billed where
    they arise (``pricing.charges_by_book``): a region's charges per crowd paid hour, over the paid
    hours its crowd workers spent on each book, so the books where covered workers work carry
    their top-ups. Pooled (off): one charge per accepted task per task type, alike on its books."""
    state, books = m.state, m.books
    if state.week_paid_h_region.size:
        if per_hour is None:  # (``region_charge_per_hour``, when the caller has not computed it)
            per_hour = region_charge_per_hour(m)
        billed = state.week_paid_h_region @ per_hour
        return np.divide(billed, state.week_taken, out=np.full(books.n, np.nan), where=state.week_taken > 0)
    charged = sum(_crowd_week(m, k) for k in SURCHARGES) / UUSD
    done = _crowd_week(m, "tasks_done_human")
    per_task = np.divide(charged, done, out=np.full(done.size, np.nan), where=done > 0)
    return per_task[books.type]


def reset_week(m: Context) -> None:
    for name in ("week_taken", "week_rejected", "week_paid_h_region"):
        getattr(m.state, name)[:] = 0
