"""The run's accounts: every flow of money, hours and tasks is posted once.

A post adds flows to the week's record of their cells: (region, task type,
channel) for the flows of workers, (task type, channel) for market flows
that belong to no region (tasks posted, expired, automated, compute). The
run's totals (the ledger) are sums of these records, so the two can never
disagree; stocks that no flow records (a fund's balance) are kept beside
them. At each weekly tick the week's record is closed with the counts of
workers and the open backlog. Money is integer micro-dollars throughout and
becomes US dollars once, when the records are stacked.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from labsim.model.jit import njit
from labsim.model.units import UUSD

# Per-cell weekly flows.
CELL_FLOWS = ("paid_hours", "unpaid_hours", "earnings_uusd", "tasks_done_human",
              "tasks_rejected", "requester_spend_uusd", "platform_fees_uusd", "vendor_margin_uusd",
              "vendor_overheads_uusd",  # a vendor's bill less the wage and its profit (margin)
              # policies: wage-floor and paid-search top-ups (in earnings), the
              # levy, benefits from the fund, support and training services,
              # public money, tasks done on the alternative (fair) platform
              "topup_uusd", "levy_uusd", "benefits_uusd", "support_cost_uusd", "training_cost_uusd",
              "public_spend_uusd", "tasks_done_fair")
# Market flows per (task type, channel).
MARKET_FLOWS = ("tasks_posted", "tasks_unposted", "tasks_expired", "batches_filled", "fill_hours", "tasks_automated",
                "tasks_llm",  # of the automated tasks, those LLMs labelled
                "compute_cost_uusd", "tasks_posted_human", "posted_value_uusd", "tasks_taken",
                "wait_hours",
                # what the work is worth to requesters: tasks done by people (decayed by their
                # wait) and by models; lost when tasks expire or batches are not posted
                "value_human_uusd", "value_automated_uusd", "value_expired_uusd", "value_unposted_uusd")
# Market levels per (task type, channel), set once a week (not added up): the share of new tasks
# machines do, and what requesters reckon people's work and a model's label cost per accepted task.
MARKET_LEVELS = ("automation_share", "people_cost_usd", "machine_cost_usd")


def _is_count(name: str) -> bool:
    """Money and task counts are whole numbers; hours are not."""
    return name.endswith("uusd") or name.startswith("tasks") or name.startswith("batches")


@njit
def _post(cells, values, whole, row, ints, floats, truncate):  # pragma: no cover - compiled
    """Add ``values[j]`` (one per entry of ``cells``) into row ``row[j]`` of ``ints`` (``whole``)
    or ``floats``: each flow is summed per cell first, in entry order (as ``bincount`` sums),
    then added; a whole-number flow's sum is rounded (or ``truncate``d, as ``astype`` does)."""
    n = ints.shape[1]
    total = np.zeros(n)
    for j in range(values.shape[0]):
        total[:] = 0.0
        for i in range(cells.size):
            total[cells[i]] += values[j, i]
        if whole[j]:
            for c in range(n):
                ints[row[j], c] += np.int64(total[c]) if truncate else np.int64(np.rint(total[c]))
        else:
            for c in range(n):
                floats[row[j], c] += total[c]


class Accounts:
    """The week's records per cell; the run's totals are their sums.

    The week's flows are rows of four tables (whole-number and other flows, per cell and per
    market cell); ``week[name]`` is the flow's row, and a post adds to rows in one compiled
    pass (``slots`` names the rows of a list of flows once, for callers that post every step).
    """

    def __init__(self, n_regions: int, n_types: int, n_channels: int) -> None:
        self.shape = (n_regions, n_types, n_channels)
        self.n_cells = n_regions * n_types * n_channels
        self.n_market = n_types * n_channels
        self.balances: dict[str, int] = defaultdict(int)  # stocks a policy keeps, such as a fund
        self._slot: dict[str, tuple[bool, int]] = {}
        for names in (CELL_FLOWS, (*MARKET_FLOWS, *MARKET_LEVELS)):
            whole = [k for k in names if _is_count(k) and k not in MARKET_LEVELS]
            other = [k for k in names if k not in whole]
            self._slot.update({k: (True, j) for j, k in enumerate(whole)})
            self._slot.update({k: (False, j) for j, k in enumerate(other)})
        self._width = {True: sum(1 for k in CELL_FLOWS if _is_count(k)),
                       False: sum(1 for k in CELL_FLOWS if not _is_count(k))}
        self._market_width = {True: sum(1 for k in MARKET_FLOWS if _is_count(k)),
                              False: sum(1 for k in MARKET_FLOWS if not _is_count(k)) + len(MARKET_LEVELS)}
        self._zero_week()
        self.rows: list[dict[str, np.ndarray]] = []
        self.market_rows: list[dict[str, np.ndarray]] = []

    def _zero_week(self) -> None:
        self.cell_ints = np.zeros((self._width[True], self.n_cells), np.int64)
        self.cell_floats = np.zeros((self._width[False], self.n_cells))
        self.market_ints = np.zeros((self._market_width[True], self.n_market), np.int64)
        self.market_floats = np.zeros((self._market_width[False], self.n_market))
        self.week: dict[str, np.ndarray] = {}
        for names, ints, floats in ((CELL_FLOWS, self.cell_ints, self.cell_floats),
                                    ((*MARKET_FLOWS, *MARKET_LEVELS), self.market_ints, self.market_floats)):
            for k in names:
                whole, j = self._slot[k]
                self.week[k] = ints[j] if whole else floats[j]

    def slots(self, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(whole-number or not, row) of each flow named: where a post adds it."""
        return (np.array([self._slot[k][0] for k in names], bool),
                np.array([self._slot[k][1] for k in names], np.int64))

    def cell(self, region: np.ndarray, task_type: np.ndarray, channel: np.ndarray) -> np.ndarray:
        _, n_t, n_c = self.shape
        return (region.astype(np.int64) * n_t + task_type) * n_c + channel

    def post(self, cells: np.ndarray, flows: dict[str, np.ndarray]) -> None:
        """Add flows (name -> one value per entry of ``cells``) to the week's record."""
        whole, row = self.slots(tuple(flows))
        values = np.array([np.asarray(v, float) for v in flows.values()]).reshape(len(flows), -1)
        _post(np.asarray(cells, np.int64), values, whole, row, self.cell_ints, self.cell_floats, False)

    def post_rows(self, cells: np.ndarray, values: np.ndarray, slots: tuple[np.ndarray, np.ndarray]) -> None:
        """Add per-cell flows ``values`` (flows x entries, floats) to the rows ``slots`` names."""
        _post(cells, values, slots[0], slots[1], self.cell_ints, self.cell_floats, False)

    def post_market(self, market_cells: np.ndarray, flows: dict[str, np.ndarray]) -> None:
        """Add market flows given per entry of ``market_cells`` ((task type, channel) cells)."""
        whole, row = self.slots(tuple(flows))
        values = np.array([np.asarray(v, float) for v in flows.values()]).reshape(len(flows), -1)
        _post(np.asarray(market_cells, np.int64), values, whole, row, self.market_ints, self.market_floats, True)

    def post_market_rows(self, market_cells: np.ndarray, values: np.ndarray,
                         slots: tuple[np.ndarray, np.ndarray]) -> None:
        """Add market flows ``values`` (flows x entries, floats) to the rows ``slots`` names."""
        _post(market_cells, values, slots[0], slots[1], self.market_ints, self.market_floats, True)

    @property
    def totals(self) -> dict[str, int]:
        """Whole-number flows over the run so far (the recorded weeks and the current one),
        and the stocks kept beside them."""
        out = {}
        for names, rows in ((CELL_FLOWS, self.rows), (MARKET_FLOWS, self.market_rows)):
            for k in names:
                if _is_count(k):
                    out[k] = int(self.week[k].sum()) + sum(int(r[k].sum()) for r in rows)
        out.update(self.balances)
        return out

    def close_week(self, week: int, counts: dict[str, np.ndarray], backlog: np.ndarray) -> None:
        """Record the week: flows so far plus worker counts and the open backlog."""
        row = {k: self.week[k] for k in CELL_FLOWS}
        row.update(counts)
        row["week"] = np.full(self.n_cells, week, np.int32)
        self.rows.append(row)
        market = {k: self.week[k] for k in (*MARKET_FLOWS, *MARKET_LEVELS)}
        market["backlog"] = backlog.astype(np.int64)
        market["week"] = np.full(self.n_market, week, np.int32)
        self.market_rows.append(market)
        self._zero_week()

    def tables(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Stacked records: per-cell table and per-market table, as column arrays (USD)."""
        def stack(rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
            if not rows:
                return {}
            return {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        cells, market = stack(self.rows), stack(self.market_rows)
        n_weeks = len(self.rows)
        n_r, n_t, n_c = self.shape
        grid = np.indices(self.shape).reshape(3, -1)
        for i, key in enumerate(("region", "task_type", "channel")):
            cells[key] = np.tile(grid[i], n_weeks)
        mgrid = np.indices((n_t, n_c)).reshape(2, -1)
        market["task_type"] = np.tile(mgrid[0], n_weeks)
        market["channel"] = np.tile(mgrid[1], n_weeks)
        for tbl in (cells, market):
            for k in [k for k in tbl if k.endswith("_uusd")]:
                tbl[k[: -len("_uusd")] + "_usd"] = tbl.pop(k) / UUSD
        return cells, market
