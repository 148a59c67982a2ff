"""A due-diligence rule: requesters may only use certified channels for part of their work.

From the start week, ``coverage`` of crowd demand is bound to certified
channels: the certified platform when there is one (a fair platform), else
vendors, who pay at least the local minimum wage by the hour. Vendors hire
to match the work routed to them.
"""

from __future__ import annotations

from labsim.model.context import Context
from labsim.model.policies.base import Policy


class DueDiligence(Policy):
    name = "due_diligence"

    def set_levers(self, m: Context, now: float) -> None:
        m.state.levers.certified_binding = self.p.coverage if self.active(now) else 0.0
