"""What a running market's rules and policies see: its parts, by name and type.

Rules and policies take the market as their first argument, ``m``, and read
and write only the parts listed here (each rule's docstring says which).
``labsim.model.market.Market`` is the one implementation; a test may hand a
rule any object with the attributes it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from labsim.config import LabsimConfig
    from labsim.model.accounts import Accounts
    from labsim.model.books import BatchStore, Books
    from labsim.model.rng import Streams
    from labsim.model.state import MarketState, WorkerPool
    from labsim.model.tables import Regions, Requesters, TaskTypes


class Context:
    """The parts of a running market."""

    cfg: LabsimConfig
    rng: Streams  # named random streams
    regions: Regions
    types: TaskTypes
    requesters: Requesters
    solver: Any  # labsim.model.rules.pricing.RateSolver
    books: Books
    store: BatchStore  # open batches
    accounts: Accounts  # the week's records and the run's totals
    pool: WorkerPool  # every worker ever present
    state: MarketState  # what the weekly rules move; the policies' levers
    active: np.ndarray  # workers present (rows of the pool)
    profile: np.ndarray  # requesters' posting rate per hour of the week
    sub_hours: int  # hours in a step
    horizon_h: float
    window_start_h: float  # the KPI window opens here
    week_start_h: float  # start of the current week
    week_hours: list  # (worker, task type, hours) of the week's steps
    vendor_work_h0: float  # vendor work per week as configured (routing's reference)
    policies: Any  # labsim.model.policies.PolicySet
    rosters: Any  # labsim.model.rules.schedule.Rosters of the current week
    vendor_shifts: Any  # labsim.model.rules.schedule.VendorShifts
