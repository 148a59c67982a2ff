"""Routing: which channel does each task type's work, and how demand reaches the books.

Channel choice. For each task type requesters share the work between four
channels: the crowd platform, vendors, their own model and LLM labels (the
last two only for automatable types). The choice is nested.

Machines against people (a task model: Zeira 1998, Acemoglu and Restrepo
2018). A share ``automation_ceiling`` of a type's tasks a machine can do at
all; the others are people's at any price. On the tasks it can do, machine k
errs at a rate that varies from task to task, log-logistically with shape
``theta`` (``routing.automation_elasticity``). A task is worth ``v`` to its
buyer, a machine label costs ``c_k`` (its compute or LLM price plus the human
review of ``qa_share`` of its output) and people's work ``c_h`` per accepted
task, so a machine takes a task where its error rate is below the break-even
``(c_h - c_k) / v``. With two machines, the shares follow a multinomial logit
in the break-evens (exact for one machine):

    s_k = ceiling x_k / (1 + x_model + x_llm),  x_k = b_k ((c_h - c_k) / (c_h0 - c_k0))^theta

where ``0`` marks the baseline's steady state (``v`` cancels: what a task is
worth does not move with costs) and ``b_k`` the odds there: the model's odds
follow its learning curve ``(labels / half_labels)^steepness`` (a better
model takes more tasks at the same costs, from LLM labels and people alike),
scaled so that at the start it does the curve's share and LLM labels the
table's ``llm_share`` (the share is calibrated there, an outcome elsewhere:
LLM labels answer to people's cost, to their price and to a better model).
A machine whose cost reaches people's takes nothing; the odds answer to
people's cost with elasticity ``theta c_h (1 - qa) / (c_h - c_k)``, about
``theta`` while compute is cheap. Review is people's labour: a rise in
people's cost raises a machine label's by ``qa_share`` of it only.

People's channels. The tasks left to people go to the crowd and vendors by a
CES in the calibrated-share form used in applied general equilibrium
(Rutherford 1995), ``s_j = b_j (c_j / c0_j)^(-sigma) / sum b_i (c_i /
c0_i)^(-sigma)``, with benchmark shares the table's vendor share and
``sigma`` ``routing.substitution_elasticity``; people's cost ``c_h`` is that
nest's price index (the dual of the CES). What the costs do not say (waiting,
trust, confidentiality, switching) sits in the benchmark shares, so the
baseline keeps its observed mix and a policy moves it by what it does to
relative costs. Contracts and pipelines change slowly: each week requesters
move ``1 / switch_weeks`` of the way to these shares.

Costs per accepted task (USD): the crowd's is what requesters expect to pay
on the type's crowd books given their beliefs (the mean posted rate with the
fee, over the share of tasks accepted, plus what policies charge per task);
under a due-diligence rule the bound part of the crowd's work is bought
from vendors at their quote. Vendors quote their hourly bill (wage x (1 +
margin) x (1 + a levy on their pay), times the extra heads a policy makes
them staff) over the accepted tasks an hour their staff deliver. A model
costs its compute plus the human review of ``qa_share`` of its output (on
the cheaper human channel); an LLM label costs its price plus the same
review.

Books and vendors. Within the crowd, batches go to the type's books by their
group shares (open, geofenced, qualified); an alternative platform, when
there is one, wins a share of the open books' batches; a share of crowd
demand may be bound to certified channels (the alternative platform's books
when certified, else vendors). Vendor teams follow the work routed to
vendors, and their headcount follows it with a hiring lag (partial
adjustment, hiring or laying off). Vendor regions compete for that work
by their wage bill: a region whose vendors must pay more (a local wage
floor) wins less of it, by the same CES (``vendor_region_factor``).
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.rules import pricing
from labsim.model.rules.automation import automation_odds, evaluation_demand
from labsim.model.rules.skills import reject_probability, tasks_per_hour
from labsim.model.units import UUSD

CHANNEL_NAMES = ("crowd", "vendor", "model", "llm")
C_CROWD, C_VENDOR, C_MODEL, C_LLM = range(4)


def start_odds(m: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per type, (the factor on the model's learning-curve odds, LLM labels' odds) at the baseline's
    costs: those at which, next to each other, a model trained on ``labels_before_start`` does its
    learning curve's share ``ceiling x0 / (1 + x0)`` and LLM labels the table's ``llm_share``
    (``c / (c - l (1 + x0))`` and ``l (1 + x0) / (c - l (1 + x0))``; 1 and 0 with no LLM labels)."""
    t = m.types
    x0 = automation_odds(t.labels_before_start, t.automation_half_labels, t.automation_steepness)
    room = t.automation_ceiling - t.llm_share * (1.0 + x0)
    ok = room > 0
    factor = np.divide(t.automation_ceiling, room, out=np.ones(t.n), where=ok & (t.llm_share > 0))
    llm = np.divide(t.llm_share * (1.0 + x0), room, out=np.where(t.llm_share > 0, 1e12, 0.0), where=ok)
    return factor, llm


def channel_shares(m: Context, labels: np.ndarray, machine_factor: np.ndarray, human_rel: np.ndarray) -> np.ndarray:
    """(types, 4) shares of each type's tasks for models trained on ``labels`` (per unit of scale): of the
    ``ceiling`` machines can do, the model and LLM labels take their odds times ``machine_factor`` (types,
    2) over one plus both; people the rest, split between the crowd and vendors by a CES in their costs
    against the start's, ``human_rel`` (types, 2)."""
    t = m.types
    factor, x_llm = start_odds(m)
    x = automation_odds(labels, t.automation_half_labels, t.automation_steepness) * factor * machine_factor[:, 0]
    x_llm = x_llm * machine_factor[:, 1]
    d = 1.0 + x + x_llm
    model, llm = t.automation_ceiling * (x / d), t.automation_ceiling * (x_llm / d)
    human = 1.0 - model - llm
    inner = ces_shares(np.column_stack([1.0 - t.vendor_share, t.vendor_share]), human_rel,
                       m.cfg.routing.substitution_elasticity)
    return np.column_stack([human * inner[:, 0], human * inner[:, 1], model, llm])


def benchmark_shares(m: Context, labels: np.ndarray) -> np.ndarray:
    """(types, 4) shares of each type's tasks at the baseline's costs (``channel_shares``)."""
    n = m.types.n
    return channel_shares(m, labels, np.ones((n, 2)), np.ones((n, 2)))


def ces_shares(bench: np.ndarray, rel_cost: np.ndarray, sigma: float) -> np.ndarray:
    """Calibrated-share CES: ``bench x rel_cost^-sigma``, normalised per row (a row with no
    benchmark share anywhere keeps its benchmark)."""
    x = bench * np.power(np.where(bench > 0, rel_cost, 1.0), -sigma)
    total = x.sum(axis=1, keepdims=True)
    return np.divide(x, total, out=bench.copy(), where=total > 0)


def ces_index(bench: np.ndarray, rel_cost: np.ndarray, sigma: float) -> np.ndarray:
    """The calibrated-share CES's price index, per row: ``(sum b rel^(1 - sigma))^(1 / (1 - sigma))``
    over the benchmark shares ``b`` (normalised), the geometric mean at ``sigma`` 1 (1 where a row has
    no benchmark share)."""
    b = np.where(bench > 0, bench, 0.0)
    total = b.sum(axis=1)
    b = np.divide(b, total[:, None], out=np.zeros_like(b), where=total[:, None] > 0)
    rel = np.where(b > 0, rel_cost, 1.0)
    if abs(1.0 - sigma) < 1e-9:
        return np.exp((b * np.log(rel)).sum(axis=1))
    return np.power((b * np.power(rel, 1.0 - sigma)).sum(axis=1), 1.0 / (1.0 - sigma))


def relative_costs(cost: np.ndarray, cost0: np.ndarray) -> np.ndarray:
    """Each channel's cost against the start's (1 where either is unknown or the start's is 0)."""
    ok = np.isfinite(cost) & np.isfinite(cost0) & (cost0 > 0)
    return np.where(ok, np.divide(cost, cost0, out=np.ones_like(cost), where=ok), 1.0)


def people_cost(m: Context, cost: np.ndarray, cost0: np.ndarray) -> np.ndarray:
    """Per type, people's cost per accepted task (USD): the human nest's price index against the
    start's, times the start's mean over the crowd and vendors (by the table's vendor share)."""
    vs = m.types.vendor_share
    bench = np.column_stack([1.0 - vs, vs]) * np.isfinite(cost0[:, :2])
    total = bench.sum(axis=1)
    start = np.divide((bench * np.nan_to_num(cost0[:, :2])).sum(axis=1), total, out=np.full(m.types.n, np.nan),
                      where=total > 0)
    return start * ces_index(bench, relative_costs(cost[:, :2], cost0[:, :2]), m.cfg.routing.substitution_elasticity)


def machine_factor(m: Context, cost: np.ndarray, cost0: np.ndarray, people: np.ndarray) -> np.ndarray:
    """(types, 2) what costs do to the model's and LLM labels' odds, ``((c_h - c_k) / (c_h0 - c_k0))^theta``,
    ``people`` being people's cost ``c_h`` (``people_cost``): 0 where a machine costs people's or more, 1
    where the start gave no margin to compare with."""
    margin = people[:, None] - cost[:, C_MODEL:]
    margin0 = people_cost(m, cost0, cost0)[:, None] - cost0[:, C_MODEL:]
    ok = np.isfinite(margin) & np.isfinite(margin0) & (margin0 > 0)
    ratio = np.divide(np.maximum(np.nan_to_num(margin), 0.0), margin0, out=np.ones_like(margin), where=ok)
    return np.where(ok, ratio ** m.cfg.routing.automation_elasticity, 1.0)


def vendor_wage_paid(m: Context) -> np.ndarray:
    """Per region, the hourly wage vendors pay: theirs, or a policy's floor where it is higher."""
    floor = m.state.levers.vendor_wage_floor_usd_h
    wage = m.regions.vendor_wage_usd_h
    return np.maximum(wage, floor) if floor.size else wage


def vendor_region_factor(m: Context) -> np.ndarray:
    """Per region, the share of vendors' work its vendors win against their configured share
    (headcount): a CES over vendor regions (Armington: the same service from different
    sources) in their wage bill against the configured one, with the same elasticity as
    between channels. 1 everywhere while no region's vendors pay more than their wage."""
    wage, staff = m.regions.vendor_wage_usd_h, m.regions.vendor_workers
    rel = np.divide(vendor_wage_paid(m), wage, out=np.ones_like(wage), where=wage > 0)
    weight = rel ** -m.cfg.routing.substitution_elasticity
    total = staff @ weight
    return weight * staff.sum() / total if total > 0 else np.ones_like(wage)


def vendor_quote(m: Context) -> np.ndarray:
    """Vendors' price per accepted task of each type (µUSD), at their regions' average skill,
    averaged over regions by the headcount each wins, with the extra heads a policy makes
    them staff."""
    regions, types, cfg = m.regions, m.types, m.cfg
    staff = regions.vendor_workers * vendor_region_factor(m)
    if staff.sum() == 0:
        return np.full(types.n, np.nan)
    # A levy on pay is passed on at cost (the accounts book it as requesters' spending).
    levy = m.state.levers.vendor_pay_levy if m.state.levers.vendor_pay_levy.size else 0.0
    bill = vendor_wage_paid(m) * (1 + cfg.vendor.margin + levy) * UUSD
    skill = regions.skill_mean[:, None]
    tph = tasks_per_hour(types.duration_mean_min[None, :], skill, cfg.workers.novice_slowdown)
    accepted = tph * (1.0 - reject_probability(skill, types.reject_novice, types.reject_expert))
    staffing = m.state.levers.vendor_staffing if m.state.levers.vendor_staffing.size else 1.0
    return (staff @ (bill[:, None] / accepted)) / staff.sum() * staffing


def _per_type(m: Context, mask: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per task type, the mean of ``x`` over its books in ``mask``, weighted by their share of its
    batches (NaN where it has none)."""
    books, n = m.books, m.types.n
    w = np.where(mask, m.state.group_share, 0.0)
    total = np.bincount(books.type, weights=w, minlength=n)
    return np.divide(np.bincount(books.type, weights=w * np.nan_to_num(x), minlength=n), total,
                     out=np.full(n, np.nan), where=total > 0)


def book_costs(m: Context) -> np.ndarray:
    """Per book, what requesters expect an accepted crowd task to cost them (USD): the mean rate with
    the fee, over the share accepted, plus what policies charge per accepted task there."""
    return pricing.mean_cost_per_accepted_usd(m, m.state.reject_share) + m.state.surcharge_usd


def channel_costs(m: Context, per_book: np.ndarray | None = None) -> np.ndarray:
    """(types, 4) expected cost per accepted task of each channel (USD; NaN where none), from the
    books' (``book_costs``, or ``per_book``). Tasks that
    expire are not paid for on either human channel (a vendor bills the hours its staff work), so
    work left undone is a shortfall of quantity, not a price: the crowd's scarcity shows in its rates
    (``pricing.scarcity``), a vendor's in its headcount's lag."""
    books, types, state = m.books, m.types, m.state
    per_task = book_costs(m) if per_book is None else per_book
    crowd = _per_type(m, books.is_crowd, per_task)
    vendor = vendor_quote(m) / UUSD
    bound = state.levers.certified_binding
    if bound > 0 and not books.certified.any():
        # Due diligence: the bound part of the crowd's work is bought from vendors.
        crowd = np.where(np.isfinite(vendor), (1 - bound) * crowd + bound * vendor, crowd)
    # Automated output is reviewed by people, on the cheaper of the two human channels.
    human = np.fmin(crowd, vendor)
    review = types.automation_qa_share * human
    model = types.compute_uusd / UUSD + review
    llm = m.cfg.routing.llm_cost_usd + review
    return np.column_stack([crowd, vendor, model, llm])


def choose_channels(m: Context) -> None:
    """Each type's channel shares (``channel_shares``): its model's quality and, when
    ``routing.enabled``, its channels' costs against the start's; then the automation shares, the
    vendor shares, the evaluation work automation creates, and the books' rates."""
    types, state = m.types, m.state
    factor, human_rel = np.ones((types.n, 2)), np.ones((types.n, 2))
    if state.cost0.size:
        per_book = book_costs(m)
        steer(m, per_book)
        cost = channel_costs(m, per_book)
        state.channel_cost = cost
        state.people_cost = people_cost(m, cost, state.cost0)
        if m.cfg.routing.enabled:
            factor = machine_factor(m, cost, state.cost0, state.people_cost)
            human_rel = relative_costs(cost[:, :C_MODEL], state.cost0[:, :C_MODEL])
    lag = m.cfg.routing.switch_weeks
    target = channel_shares(m, state.labels, factor, human_rel)
    # Contracts and pipelines change slowly: requesters move ``1 / switch_weeks`` of the way a week.
    step = 1.0 if lag <= 1.0 or not state.channel_share.size else 1.0 / lag
    s = target if step == 1.0 else state.channel_share + step * (target - state.channel_share)
    state.channel_share = s
    state.auto_share = s[:, C_MODEL] + s[:, C_LLM]
    state.llm_part = np.divide(s[:, C_LLM], state.auto_share, out=np.zeros(types.n), where=state.auto_share > 0)
    human = s[:, C_CROWD] + s[:, C_VENDOR]
    state.vendor_share = np.divide(s[:, C_VENDOR], human, out=types.vendor_share.copy(), where=human > 0)
    # Models in production create evaluation work (RLHF, red-teaming); LLM labels are bought, not built.
    auto = types.automation_ceiling > 0
    state.eval_multiplier = evaluation_demand(
        float(s[auto, C_MODEL].mean()) if auto.any() else 0.0, m.cfg.automation.eval_demand_boost)
    route(m)


def steer(m: Context, per_book: np.ndarray) -> None:
    """Requesters steer each type's crowd batches between the books they geofence to
    ``crowd.geofence_regions`` and the rest by their cost per accepted task, charges included
    (``routing.steering_elasticity``): the geofenced share's odds times ``(rel_geo / rel_rest)^-sigma``,
    each ``rel`` the books' cost against the start's (``state.book_cost0``), moving ``1 /
    switch_weeks`` of the way a week. With no elasticity, or no start to compare with, the
    configured shares."""
    books, state = m.books, m.state
    sigma = m.cfg.routing.steering_elasticity
    if sigma <= 0 or not state.book_cost0.size:
        return
    if not books.geofenced.any():
        offer_by_region(m, per_book)
        return
    n = m.types.n
    home = books.is_crowd & ~books.alt_platform  # the incumbent platform's crowd books
    gs0 = np.where(home, books.group_share, 0.0)
    rel = relative_costs(per_book, state.book_cost0)

    def nest(mask):
        w = np.bincount(books.type, weights=np.where(mask, gs0, 0.0), minlength=n)
        r = np.divide(np.bincount(books.type, weights=np.where(mask, gs0 * rel, 0.0), minlength=n), w,
                      out=np.ones(n), where=w > 0)
        return w, r
    w_geo, r_geo = nest(books.geofenced)
    w_rest, r_rest = nest(home & ~books.geofenced)
    x = w_geo * np.power(r_geo / r_rest, -sigma)
    total = x + w_rest
    g = np.divide(x, total, out=w_geo.copy(), where=total > 0)  # the geofenced share of the type's home books
    t = books.type
    scale = np.where(books.geofenced, np.divide(g, w_geo, out=np.ones(n), where=w_geo > 0)[t],
                     np.divide(1.0 - g, w_rest, out=np.ones(n), where=w_rest > 0)[t])
    target = np.where(home, books.group_share * scale, books.group_share)
    lag = m.cfg.routing.switch_weeks
    step = 1.0 if lag <= 1.0 else 1.0 / lag
    state.group_share = state.group_share + step * (target - state.group_share)
    offer_by_region(m, per_book)


def offer_by_region(m: Context, per_book: np.ndarray) -> None:
    """The share of each crowd book's batches requesters offer each region's workers
    (``state.offer``): where a region's workers cause policy charges (``state.region_charge_h`` per
    paid hour, billed where they arise), a task they do on a book costs ``(base + charge) / (base +
    cheapest)`` times one done by the book's cheapest region that may take it, and requesters
    exclude them (a location qualification) from all but that ratio to the power
    ``-routing.steering_elasticity`` of its batches. The cheapest region is always offered
    everything, so no batch is left to nobody: a geofenced book goes to the cheaper of the
    regions it is meant for."""
    books, state = m.books, m.state
    if not state.region_charge_h.size:
        return
    base = np.maximum(per_book - state.surcharge_usd, 0.0)  # the book's cost per accepted task without charges
    charge = state.paid_h_per_task[:, None] * state.region_charge_h[None, :]  # per accepted task, by region
    cheapest = np.where(books.allowed, charge, np.inf).min(axis=1, initial=np.inf)
    cheapest = np.where(np.isfinite(cheapest), cheapest, 0.0)[:, None]
    denom = base[:, None] + cheapest
    rel = np.divide(base[:, None] + charge, denom, out=np.ones_like(charge), where=denom > 0)
    offer = np.power(np.maximum(rel, 1.0), -m.cfg.routing.steering_elasticity)
    state.offer = np.where(books.is_crowd[:, None], offer, 1.0)


def route(m: Context) -> None:
    """Book arrival rates, vendor teams and the vendor headcount vendors aim for, from the
    channel shares and the levers."""
    books, types, state, lv = m.books, m.types, m.state, m.state.levers
    t = books.type
    bound, alt = lv.certified_binding, lv.alt_platform_share
    certified = bool(books.certified.any())
    vendor_share = state.vendor_share if certified else state.vendor_share + (1 - state.vendor_share) * bound
    group = np.where(books.is_open, state.group_share * (1 - alt), state.group_share)
    if books.alt_platform.any():
        # The alternative platform's books win ``alt`` of the open books' share
        # (and hold the bound demand when they are certified).
        open_total = np.bincount(t[books.is_open], weights=state.group_share[books.is_open],
                                 minlength=types.n)
        won = (1 - bound) * open_total[t] * alt
        # Bound demand leaves the other crowd books; vendors keep their share (they
        # are not where the bound demand came from).
        others = np.where(books.is_crowd, group * (1 - bound), group)
        group = np.where(books.alt_platform, np.where(books.certified, bound + won, won), others)
    channel_share = np.where(books.is_crowd, 1.0 - vendor_share[t], vendor_share[t])
    state.book_rate_h = types.batches_per_h[t] * group * channel_share
    # Vendors staff each type's human work; a policy may make them hire more heads per hour of
    # work (an exposure cap: each moderator may spend only part of a shift on it).
    staffing = lv.vendor_staffing if lv.vendor_staffing.size else 1.0
    human = 1.0 - state.auto_share * (1.0 - types.automation_qa_share)
    work = vendor_share * human  # per type, the vendors' share of its drawn tasks done by people
    cover = lv.cover
    if cover is not None and cover.share.size:
        # A rule scoped by requesters' home: its covered batches keep their own machines' share; those
        # drawn at vendors buy ``vendor_bought[:, 0]`` of their tasks, and those drawn on a redirectable
        # crowd book move to vendors with probability ``redirect_p`` and buy ``vendor_bought[:, 1]``.
        crowd_rate = np.bincount(t, weights=state.book_rate_h * books.is_crowd, minlength=types.n)
        movable = np.bincount(t, weights=state.book_rate_h * cover.redirectable, minlength=types.n)
        redirectable = np.divide(movable, crowd_rate, out=np.zeros(types.n), where=crowd_rate > 0)
        human_cov = 1.0 - cover.auto_share * (1.0 - types.automation_qa_share)
        covered = (vendor_share * cover.vendor_bought[:, 0]
                   + (1 - vendor_share) * redirectable * cover.redirect_p * cover.vendor_bought[:, 1]) * human_cov
        work = (1 - cover.share) * work + cover.share * covered
    vendor_h = work * types.work_h_per_week * staffing
    state.team_share = (vendor_h / vendor_h.sum() if vendor_h.sum() > 0
                        else np.full(types.n, 1.0 / types.n))
    base_h = m.vendor_work_h0
    state.vendor_headcount_target = float(vendor_h.sum()) / base_h if base_h > 0 else 1.0
    state.vendor_region_factor = vendor_region_factor(m)


def vendor_work_h(m: Context) -> float:
    """Vendors' hours of work a week at the start's shares (the headcount's reference)."""
    t = m.types
    s0 = benchmark_shares(m, m.types.labels_before_start)
    human = 1.0 - (s0[:, C_MODEL] + s0[:, C_LLM]) * (1.0 - t.automation_qa_share)
    return float((t.vendor_share * human) @ t.work_h_per_week)


def headcount_target(m: Context) -> np.ndarray:
    """Per region, the vendor headcount (against the configured one) the work it wins needs."""
    return m.state.vendor_headcount_target * m.state.vendor_region_factor


def hire_toward_target(m: Context) -> None:
    """Each region's vendors close ``1 / hiring_lag_weeks`` of the gap between their headcount
    and the one the work they win needs each week (partial adjustment, hiring or laying off;
    all of it with no lag)."""
    state, lag = m.state, m.cfg.routing.hiring_lag_weeks
    step = 1.0 if lag <= 1.0 else 1.0 / lag
    state.vendor_headcount_factor = state.vendor_headcount_factor + step * (
        headcount_target(m) - state.vendor_headcount_factor)
