"""Routing: how each task type's demand is split between channels and books.

Each task type's batches go to vendors for a share ``vendor_share`` and to
the crowd otherwise; within the crowd, to its books by their group shares
(open, geofenced, qualified). An alternative platform, when there is one,
wins a share of the open books' batches; a share of crowd demand may be
bound to certified channels (the alternative platform's books when it is
certified, else vendors). These two levers are set by policies. Vendor teams
and headcount follow the work routed to vendors.

With ``routing.enabled``, requesters also move each type's vendor share by
``step_per_week`` towards the channel with the lower cost per accepted task:
the crowd's is the week's crowd spend over its accepted tasks; the vendors'
is their quote, the hourly bill (wage + margin) over the accepted tasks an
hour their staff of the regions' average skill deliver, averaged over
vendor regions by headcount.
"""

from __future__ import annotations

import numpy as np

from labsim.model.context import Context
from labsim.model.rules.skills import reject_probability, tasks_per_hour
from labsim.model.units import CROWD, UUSD


def route(m: Context) -> None:
    """Book arrival rates, vendor teams and vendor headcount from the channel shares.

    Reads the vendor shares and the levers; writes each book's arrival rate,
    the vendor teams' shares and the vendor headcount factor.
    """
    books, types, state, lv = m.books, m.types, m.state, m.state.levers
    t = books.type
    bound, alt = lv.certified_binding, lv.alt_platform_share
    certified = bool(books.certified.any())
    vendor_share = state.vendor_share if certified else state.vendor_share + (1 - state.vendor_share) * bound
    group = np.where(books.is_open, books.group_share * (1 - alt), books.group_share)
    if books.alt_platform.any():
        # The alternative platform's books win ``alt`` of the open books' share
        # (and hold the bound demand when they are certified).
        open_total = np.bincount(t[books.is_open], weights=books.group_share[books.is_open],
                                 minlength=types.n)
        won = (1 - bound) * open_total[t] * alt
        # Bound demand leaves the other crowd books; vendors keep their share (they
        # are not where the bound demand came from).
        others = np.where(books.is_crowd, group * (1 - bound), group)
        group = np.where(books.alt_platform, np.where(books.certified, bound + won, won), others)
    channel_share = np.where(books.is_crowd, 1.0 - vendor_share[t], vendor_share[t])
    state.book_rate_h = types.batches_per_h[t] * group * channel_share
    # Vendors staff each type's work; a policy may make them hire more heads per hour of work
    # (an exposure cap: each moderator may spend only part of a shift on it).
    staffing = lv.vendor_staffing if lv.vendor_staffing.size else 1.0
    vendor_h = vendor_share * types.work_h_per_week * staffing
    state.team_share = (vendor_h / vendor_h.sum() if vendor_h.sum() > 0
                        else np.full(types.n, 1.0 / types.n))
    # Vendors staff up or down (by not rehiring) with the work routed to them.
    base_h = m.vendor_work_h0
    state.vendor_headcount_factor = float(vendor_h.sum()) / base_h if base_h > 0 else 1.0


def vendor_quote(m: Context) -> np.ndarray:
    """Vendors' price per accepted task of each type (µUSD), at their regions' average skill."""
    regions, types, cfg = m.regions, m.types, m.cfg
    staff = regions.vendor_workers
    if staff.sum() == 0:
        return np.full(types.n, np.nan)
    bill = regions.vendor_wage_usd_h * (1 + cfg.vendor.margin) * UUSD
    skill = regions.skill_mean[:, None]
    tph = tasks_per_hour(types.duration_mean_min[None, :], skill, cfg.workers.novice_slowdown)
    accepted = tph * (1.0 - reject_probability(skill, types.reject_novice, types.reject_expert))
    return (staff @ (bill[:, None] / accepted)) / staff.sum()


def toward_cheaper(vendor_share: np.ndarray, crowd_cost: np.ndarray, vendor_cost: np.ndarray,
                   step: float, lowest: float, highest: float) -> np.ndarray:
    """Vendor shares moved one step towards the cheaper channel, within bounds."""
    return np.clip(vendor_share + step * np.sign(crowd_cost - vendor_cost), lowest, highest)


def reroute(m: Context) -> None:
    """Move vendor shares towards the cheaper channel (reads the week's crowd spend
    and accepted tasks per type, before the week is recorded), then route."""
    rc, acc, state = m.cfg.routing, m.accounts, m.state
    n_r, n_t, n_c = acc.shape
    spend = acc.week["requester_spend_uusd"].reshape(n_r, n_t, n_c).sum(axis=0)[:, CROWD]
    done = acc.week["tasks_done_human"].reshape(n_r, n_t, n_c).sum(axis=0)[:, CROWD]
    quote = m.vendor_quote_uusd
    seen = (done > 0) & m.types.routable & np.isfinite(quote)
    if not seen.any():
        return
    crowd_cost = np.divide(spend, done, out=np.full(n_t, np.nan), where=done > 0)
    moved = toward_cheaper(state.vendor_share, crowd_cost, quote, rc.step_per_week,
                           rc.min_vendor_share, rc.max_vendor_share)
    state.vendor_share = np.where(seen, moved, state.vendor_share)
    route(m)
