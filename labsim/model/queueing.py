"""The market reduced to an M/M/c queue, for checking against queueing theory.

One region, one task type, ``servers`` always-online workers; single tasks
arrive as a Poisson stream, each worker serves one task at a time with an
exponential duration, first come first served; no turnover, pricing or
rejections. Unlike the market's hourly cohorts this runs event by event (one
SimPy process per worker, one event per arrival and per service), so its mean
wait must match Erlang C. Per-task work is plain Python on pre-drawn blocks
of random numbers; flows reach the weekly recorder once a week.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from labsim.config import LabsimConfig
from labsim.model.demand import UUSD, Book
from labsim.model.market import CHANNELS, Kernel, Progress, Records
from labsim.model.rng import Streams
from labsim.model.workers import CROWD

_BLOCK = 4096


def _draws(rng: np.random.Generator, mean: float):
    """Endless exponential draws with the given mean, from one stream, in blocks."""
    while True:
        yield from rng.exponential(mean, _BLOCK).tolist()


class QueueModel(Kernel):
    """An M/M/c queue built from the kernel's workers, ledgers and recorder."""

    turnover = False

    def make_books(self) -> list[Book]:
        return []  # tasks wait in a FIFO deque of their arrival times

    def __init__(self, cfg: LabsimConfig, streams: Streams, progress: Progress | None = None) -> None:
        super().__init__(cfg, streams, progress)
        m = cfg.mmc
        self.region = self.region_codes.index(m.region)
        self.task_type = self.type_names.index(m.task_type)
        self.rate_uusd = int(round(cfg.task_types[m.task_type].base_piece_rate_usd * UUSD))
        self.fee_uusd = int(round(self.rate_uusd * cfg.crowd.commission))
        self.queue: deque[float] = deque()
        self.in_service = 0
        self.posted = self.env.event()
        self.wait_h = 0.0
        self.waited = 0
        self.busy_h = 0.0
        # this week's flows, flushed into the recorder at the weekly tick
        self.wk = dict(posted=0, done=0, paid_h=0.0, unpaid_h=0.0)

    def start(self) -> None:
        k = int(self.cfg.mmc.servers)
        idx = self.pool.add(k, region=np.full(k, self.region), channel=np.full(k, CROWD),
                            joined_h=np.zeros(k), reservation_wage=np.full(k, 0.01),
                            utc_offset=np.full(k, self.reg_offset[self.region]),
                            main_type=np.full(k, self.task_type))
        self.pool.skill[idx] = 1.0
        self.active = idx
        self.env.process(self._arrivals())
        services = _draws(self.rng["work"], 1.0 / self.cfg.mmc.service_rate_per_h)
        for i in idx:
            self.env.process(self._server(int(i), services))

    def _arrivals(self):
        env, queue = self.env, self.queue
        for gap in _draws(self.rng["demand"], 1.0 / self.cfg.mmc.arrival_rate_per_h):
            yield env.timeout(gap)
            queue.append(env.now)
            self.wk["posted"] += 1
            if not self.posted.triggered:
                self.posted.succeed()
                self.posted = env.event()

    def _server(self, i: int, services):
        env, queue, pool, wk = self.env, self.queue, self.pool, self.wk
        window, horizon = self.window_start_h, self.horizon_h
        while True:
            if not queue:
                idle_from = env.now
                yield self.posted
                pool.wk_unpaid_h[i] += env.now - idle_from
                wk["unpaid_h"] += env.now - idle_from
                continue
            start = env.now
            arrived = queue.popleft()
            if start >= window:
                self.wait_h += start - arrived
                self.waited += 1
            service = next(services)
            self.in_service += 1
            yield env.timeout(service)
            self.in_service -= 1
            self.busy_h += max(0.0, min(env.now, horizon) - max(start, window))
            pool.wk_paid_h[i] += service
            pool.wk_earn_uusd[i] += self.rate_uusd
            pool.wk_tasks[i] += 1
            pool.wk_hours_type[i, self.task_type] += service
            wk["done"] += 1
            wk["paid_h"] += service

    def flush_week(self) -> None:
        wk, rec = self.wk, self.rec
        done, pay, fee = wk["done"], wk["done"] * self.rate_uusd, wk["done"] * self.fee_uusd
        cell = rec.cell(np.array([self.region]), np.array([self.task_type]), np.array([CROWD]))
        rec.add_many(cell, {"paid_hours": [wk["paid_h"]], "unpaid_hours": [wk["unpaid_h"]],
                            "earnings_uusd": [pay], "tasks_done_human": [done],
                            "requester_spend_uusd": [pay + fee], "platform_fees_uusd": [fee]})
        rec.add_market("tasks_posted", self.task_type, CROWD, wk["posted"])
        led = self.ledger
        led["tasks_posted"] += wk["posted"]
        led["tasks_done_human"] += done
        led["worker_pay_uusd"] += pay
        led["platform_fees_uusd"] += fee
        led["requester_spend_uusd"] += pay + fee
        wk.update(posted=0, done=0, paid_h=0.0, unpaid_h=0.0)  # in place: processes hold it

    def backlog(self) -> np.ndarray:
        out = np.zeros(self.rec.n_market, np.int64)
        out[self.task_type * len(CHANNELS) + CROWD] = len(self.queue) + self.in_service
        return out

    def records(self) -> Records:
        window_h = self.horizon_h - self.window_start_h
        self.extra = {
            "mean_wait_h": self.wait_h / self.waited if self.waited else float("nan"),
            "utilization": self.busy_h / (self.cfg.mmc.servers * window_h),
            "tasks_started_in_window": float(self.waited),
        }
        return super().records()
