"""Due diligence in the supply chain: unscoped, or binding the large requesters of some jurisdictions.

Unscoped (no ``jurisdictions``): from the start week, ``coverage`` of crowd
demand is bound to certified channels: the certified platform when there is
one (a fair platform), else vendors, who pay at least the local minimum wage
by the hour. Vendors hire to match the work routed to them.

Scoped (``jurisdictions``: the EU, several, or all six): the batches of the
requesters homed there and above the rule's size (``requesters.*.large_shares``)
may use only suppliers that meet a wage standard, and each task they buy from
people carries an audit cost (``audit_cost_usd_per_supplier_year`` x
``audited_suppliers_per_task_million``). The incumbent crowd platform is below
the standard. A covered requester therefore:

- buys from vendors, who pay every hour at least the standard
  (``wage_standard_local_multiple`` x the local minimum wage). A vendor keeps
  one wage schedule for all its staff, so every client's quote rises with it:
  the rule reaches requesters it does not bind (the Brussels effect);
- with ``chain_depth: first_tier``, may still reach the crowd through a compliant
  vendor that passes the work on, paying the vendor's ``pass_through_margin``
  and the audits on top of the crowd's cost (the crowd's workers are not
  covered); with ``every_tier``, may not;
- gives more of its work to machines as people's work gets dearer to it
  (``routing``'s choice at its own costs), and buys fewer tasks
  (``demand.elasticity``).

Each week the rule sets ``levers.cover`` (``state.Cover``): the requester
groups it binds, the share of their crowd batches that go to vendors (their
crowd and vendor shares by the CES of ``routing`` at their own costs against
the uncovered requesters' shares), the charges on their batches, and their
machines' shares. Arrivals draw each batch's requester group with no extra
random number (``arrivals._arrive``), so the batches drawn are those of a run
without the rule.
"""

from __future__ import annotations

import numpy as np

from labsim.config import JURISDICTIONS
from labsim.model.books import class_shares
from labsim.model.context import Context
from labsim.model.policies.base import Policy
from labsim.model.rules import routing
from labsim.model.rules.routing import C_CROWD, C_LLM, C_MODEL, C_VENDOR
from labsim.model.state import Cover


def covered_sub(m: Context, jurisdictions: list[str]) -> np.ndarray:
    """Per requester sub-group (home jurisdiction, size): whether a rule on the large requesters homed
    in ``jurisdictions`` binds it."""
    req = m.requesters
    homes = np.array(list(JURISDICTIONS))[req.sub_home()]
    return np.isin(homes, jurisdictions) & req.sub_large()


def covered_share(m: Context, sub: np.ndarray) -> np.ndarray:
    """Per task type, the share of its batches the covered sub-groups post (the classes' type shares x
    each class's covered share)."""
    req = m.requesters
    cum = req.home_cum
    width = np.diff(np.column_stack([np.zeros(req.n), cum]), axis=1)  # classes x sub-groups
    frac = (width * sub[None, :]).sum(axis=1)
    shares, _ = class_shares(m.cfg)  # types x classes
    return shares @ frac


class DueDiligence(Policy):
    name = "due_diligence"

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self._shares: np.ndarray | None = None  # covered requesters' channel shares (types x 4), lagged

    def bound_requesters(self, m: Context) -> np.ndarray | None:
        return covered_sub(m, self.p.jurisdictions) if self.p.jurisdictions else None

    def set_levers(self, m: Context, now: float) -> None:
        levers = m.state.levers
        if not self.p.jurisdictions:
            levers.certified_binding = self.p.coverage if self.active(now) else 0.0
            return
        if not self.active(now):
            levers.cover = None
            return
        # Vendors pay every hour at least the standard (one wage schedule per vendor).
        standard = self.p.wage_standard_local_multiple * m.regions.min_wage_usd_h
        floor = levers.vendor_wage_floor_usd_h
        levers.vendor_wage_floor_usd_h = np.maximum(floor, standard) if floor.size else standard
        levers.cover = self.cover(m)

    def audit_usd(self) -> float:
        """The audit cost per task bought from people (USD)."""
        return self.p.audit_cost_usd_per_supplier_year * self.p.audited_suppliers_per_task_million / 1e6

    def cover(self, m: Context) -> Cover:
        """This week's cover: who is bound, where their batches go, what they pay."""
        books, types, state = m.books, m.types, m.state
        n = types.n
        sub = covered_sub(m, self.p.jurisdictions)
        audit = self.audit_usd()
        crowd_book = routing.book_costs(m) if state.cost0.size else np.zeros(books.n)
        redirectable = books.is_crowd & ~books.certified
        first_tier = self.p.chain_depth == "first_tier"
        # On the crowd through a compliant vendor: its margin on the crowd's cost, and the audits.
        charge = np.where(redirectable, (self.p.pass_through_margin * np.nan_to_num(crowd_book) + audit)
                          if first_tier else 0.0, audit)
        cost = state.channel_cost if state.channel_cost.size else np.full((n, 4), np.nan)
        crowd, vendor = cost[:, C_CROWD], cost[:, C_VENDOR]
        mine = cost.copy()
        mine[:, C_CROWD] = crowd * (1 + self.p.pass_through_margin) + audit if first_tier else np.inf
        mine[:, C_VENDOR] = vendor + audit
        target = self._target(m, mine)
        lag = m.cfg.routing.switch_weeks
        step = 1.0 if lag <= 1.0 or self._shares is None else 1.0 / lag
        self._shares = target if self._shares is None else self._shares + step * (target - self._shares)
        s = self._shares
        human = s[:, C_CROWD] + s[:, C_VENDOR]
        v_cov = np.divide(s[:, C_VENDOR], human, out=np.ones(n), where=human > 0)
        v = state.vendor_share
        redirect = np.clip(np.divide(v_cov - v, 1.0 - v, out=np.ones(n), where=v < 1.0), 0.0, 1.0)
        auto = s[:, C_MODEL] + s[:, C_LLM]
        llm = np.divide(s[:, C_LLM], auto, out=np.zeros(n), where=auto > 0)
        # Covered vendor work buys fewer tasks by what it costs against the requester's cost without the
        # rule (vendors before the standard, or the crowd its batch was drawn for), never more.
        eta = m.cfg.demand.elasticity
        before = state.cost0 if state.cost0.size else cost
        dearer = np.column_stack([routing.relative_costs(vendor + audit, before[:, C_VENDOR]),
                                  routing.relative_costs(vendor + audit, before[:, C_CROWD])])
        bought = np.minimum(1.0, np.power(dearer, -eta))
        return Cover(sub, redirect, redirectable, charge, bought, np.full(n, audit), auto, llm,
                     share=covered_share(m, sub))

    def _target(self, m: Context, mine: np.ndarray) -> np.ndarray:
        """The covered requesters' channel shares (types x 4) at their own costs ``mine``: routing's
        choice (machines against people, then the crowd against vendors), the crowd left out where the
        rule covers every tier."""
        state, n = m.state, m.types.n
        every = self.p.chain_depth == "every_tier"
        if not state.cost0.size or not m.cfg.routing.enabled:
            # Costs do not move shares: the table's, with the crowd's part bought from vendors under every tier.
            s = routing.channel_shares(m, state.labels, np.ones((n, 2)), np.ones((n, 2)))
            if every:
                s[:, C_VENDOR] += s[:, C_CROWD]
                s[:, C_CROWD] = 0.0
            return s
        cost0 = state.cost0
        people = mine[:, C_VENDOR] if every else routing.people_cost(m, mine, cost0)  # every tier: vendors only
        factor = routing.machine_factor(m, mine, cost0, people)
        rel = routing.relative_costs(mine[:, :C_MODEL], cost0[:, :C_MODEL])
        if every:
            rel[:, C_CROWD] = np.inf  # the crowd's benchmark share goes to vendors (the CES's zero weight)
        return routing.channel_shares(m, state.labels, factor, rel)
