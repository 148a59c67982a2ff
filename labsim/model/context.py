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
    from labsim.model.books import Books
    from labsim.model.rng import Streams
    from labsim.model.state import MarketState, WorkerPool
    from labsim.model.store import BatchStore
    from labsim.model.tables import Regions, Requesters, TaskTypes


class Context:
    """The parts of a running market."""

    cfg: LabsimConfig
    rng: Streams  # named random streams
    held: Any  # labsim.model.rng.Generators: the streams of the steps, for compiled code
    held_work: int  # the position of stream "work" among them
    held_schedule: int  # and of stream "schedule"
    work_slots: tuple  # the accounts' rows of the flows a step posts (labsim.model.rules.work.work_slots)
    batch_slots: tuple  # and of those arrivals post (labsim.model.rules.arrivals.BATCH_FLOWS)
    expiry_slots: tuple  # and of those expiry posts (labsim.model.rules.expiry.EXPIRY_FLOWS)
    regions: Regions
    types: TaskTypes
    requesters: Requesters
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
    vendor_work_h0: float  # vendor work per week as configured (routing's reference)
    policies: Any  # labsim.model.policies.PolicySet
    rosters: Any  # labsim.model.rules.schedule.Rosters of the current week
    crew: Any  # labsim.model.crew.Crew: the rosters' workers, dense, while the week's steps run
    vendor_shifts: Any  # labsim.model.rules.schedule.VendorShifts
    group_week: np.ndarray  # this week's flows per requester group (arrivals.GROUP_FLOWS x groups)
    group_rows: list  # and each recorded week's
    no_cover: Any  # labsim.model.state.Cover: no rule scoped by requesters' home
    vendor_book: np.ndarray  # per type, its vendor book (-1: none)
