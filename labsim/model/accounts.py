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

from labsim.model.units import UUSD

# Per-cell weekly flows.
CELL_FLOWS = ("paid_hours", "unpaid_hours", "earnings_uusd", "tasks_done_human",
              "tasks_rejected", "requester_spend_uusd", "platform_fees_uusd", "vendor_margin_uusd",
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


def _is_count(name: str) -> bool:
    """Money and task counts are whole numbers; hours are not."""
    return name.endswith("uusd") or name.startswith("tasks") or name.startswith("batches")


class Accounts:
    """The week's records per cell; the run's totals are their sums."""

    def __init__(self, n_regions: int, n_types: int, n_channels: int) -> None:
        self.shape = (n_regions, n_types, n_channels)
        self.n_cells = n_regions * n_types * n_channels
        self.n_market = n_types * n_channels
        self.balances: dict[str, int] = defaultdict(int)  # stocks a policy keeps, such as a fund
        self.week = self._zero_week()
        self.rows: list[dict[str, np.ndarray]] = []
        self.market_rows: list[dict[str, np.ndarray]] = []

    def _zero_week(self) -> dict[str, np.ndarray]:
        wk = {k: np.zeros(self.n_cells, np.int64 if _is_count(k) else np.float64) for k in CELL_FLOWS}
        wk.update({k: np.zeros(self.n_market, np.int64 if _is_count(k) else np.float64)
                   for k in MARKET_FLOWS})
        wk["automation_share"] = np.zeros(self.n_market)
        return wk

    def cell(self, region: np.ndarray, task_type: np.ndarray, channel: np.ndarray) -> np.ndarray:
        _, n_t, n_c = self.shape
        return (region.astype(np.int64) * n_t + task_type) * n_c + channel

    def post(self, cells: np.ndarray, flows: dict[str, np.ndarray]) -> None:
        """Add flows (name -> one value per entry of ``cells``) to the week's record."""
        k, n = len(flows), self.n_cells
        sums = np.bincount((cells[None, :] + n * np.arange(k)[:, None]).ravel(),
                           weights=np.concatenate([np.asarray(v, float) for v in flows.values()]),
                           minlength=k * n).reshape(k, n)
        for name, total in zip(flows, sums):
            acc = self.week[name]
            acc += np.rint(total).astype(np.int64) if acc.dtype == np.int64 else total

    def post_market(self, market_cells: np.ndarray, flows: dict[str, np.ndarray]) -> None:
        """Add market flows given per entry of ``market_cells`` ((task type, channel) cells)."""
        for name, values in flows.items():
            acc = self.week[name]
            acc += np.bincount(market_cells, weights=values, minlength=self.n_market).astype(acc.dtype)

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
        market = {k: self.week[k] for k in (*MARKET_FLOWS, "automation_share")}
        market["backlog"] = backlog.astype(np.int64)
        market["week"] = np.full(self.n_market, week, np.int32)
        self.market_rows.append(market)
        self.week = self._zero_week()

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
