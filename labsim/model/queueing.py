"""The market reduced to an M/M/c queue, for checking against queueing theory.

One region, one task type, ``servers`` always-online workers; single tasks
arrive as a Poisson stream, each worker serves one task at a time with an
exponential duration, first come first served; no turnover, pricing or
rejections. Unlike the market's cohort steps this runs event by event (one
SimPy process per worker, one event per arrival and per service), so its mean
wait must match Erlang C. Per-task work is plain Python on pre-drawn blocks
of random numbers; flows reach the accounts once a week, which the same
weekly bookkeeping as the market's records.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import simpy

import labsim.model.week as wk
from labsim.model.accounts import Accounts
from labsim.model.engine import Engine, Progress
from labsim.model.market import run_window
from labsim.model.records import Records, records
from labsim.model.state import WorkerPool
from labsim.model.units import CHANNELS, CROWD, UUSD
from labsim.model.windows import named_windows

if TYPE_CHECKING:
    from labsim.config import LabsimConfig
    from labsim.model.rng import Streams

_BLOCK = 4096


def _draws(rng: np.random.Generator, mean: float):
    """Endless exponential draws with the given mean, from one stream, in blocks."""
    while True:
        yield from rng.exponential(mean, _BLOCK).tolist()


class QueueModel:
    """An M/M/c queue built from the kernel's workers, accounts and weekly bookkeeping."""

    step_h = None  # no cohort steps: events are arrivals and services

    def __init__(self, cfg: LabsimConfig, streams: Streams, progress: Progress | None = None) -> None:
        self.cfg, self.rng, self.progress = cfg, streams, progress
        m = cfg.mmc
        self.region_codes, self.type_names = list(cfg.regions), list(cfg.task_types)
        self.min_wage_usd_h = np.array([r.min_wage_usd_h for r in cfg.regions.values()])
        self.horizon_h, self.window_start_h = run_window(cfg)
        self.windows = named_windows(cfg)
        self.region = self.region_codes.index(m.region)
        self.task_type = self.type_names.index(m.task_type)
        self.rate_uusd = int(round(cfg.task_types[m.task_type].base_piece_rate_usd * UUSD))
        self.fee_uusd = int(round(self.rate_uusd * cfg.crowd.commission))
        self.accounts = Accounts(len(self.region_codes), len(self.type_names), len(CHANNELS))
        self.pool = WorkerPool(len(self.type_names), capacity=1024, n_windows=len(self.windows))
        self.active = np.zeros(0, np.int64)
        self.week_start_h = 0.0
        self.week: wk.Week | None = None
        self.queue: deque[float] = deque()
        self.in_service = 0
        self.wait_h = 0.0
        self.waited = 0
        self.busy_h = 0.0
        # this week's flows, posted to the accounts at the weekly tick
        self.wk = dict(posted=0, done=0, paid_h=0.0, unpaid_h=0.0)

    def run(self) -> Records:
        self.engine = Engine(self, self.progress)
        self.engine.run()
        window_h = self.horizon_h - self.window_start_h
        return records(self, self.region_codes, self.type_names, {
            "mean_wait_h": self.wait_h / self.waited if self.waited else float("nan"),
            "utilization": self.busy_h / (self.cfg.mmc.servers * window_h),
            "tasks_started_in_window": float(self.waited),
        })

    def start(self, env: simpy.Environment) -> None:
        self.env = env
        self.posted = env.event()
        k = int(self.cfg.mmc.servers)
        offset = self.cfg.regions[self.region_codes[self.region]].utc_offset_h
        idx = self.pool.add(k, region=np.full(k, self.region), channel=np.full(k, CROWD),
                            joined_h=np.zeros(k), reservation_wage=np.full(k, 0.01),
                            utc_offset=np.full(k, offset), main_type=np.full(k, self.task_type))
        self.pool.skill[idx] = 1.0
        self.active = idx
        env.process(self._arrivals())
        services = _draws(self.rng["work"], 1.0 / self.cfg.mmc.service_rate_per_h)
        for i in idx:
            env.process(self._server(int(i), services))

    def step_phases(self):
        return ()

    def week_phases(self):
        return (self.open_tick, self.post_week, self.measure, self.record, self.roll_over)

    def final_phases(self):
        return self.week_phases() if self.horizon_h > self.week_start_h else ()

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
        env, queue, pool, wk_flows = self.env, self.queue, self.pool, self.wk
        window, horizon = self.window_start_h, self.horizon_h
        while True:
            if not queue:
                idle_from = env.now
                yield self.posted
                pool.wk_unpaid_h[i] += env.now - idle_from
                wk_flows["unpaid_h"] += env.now - idle_from
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
            wk_flows["done"] += 1
            wk_flows["paid_h"] += service

    # --- the weekly tick: the week's flows, then the market's bookkeeping --------------------

    def open_tick(self, now: float) -> None:
        self.week = wk.Week(self.week_start_h, now, self.active)

    def post_week(self, now: float) -> None:
        flows, acc = self.wk, self.accounts
        done, pay, fee = flows["done"], flows["done"] * self.rate_uusd, flows["done"] * self.fee_uusd
        cell = acc.cell(np.array([self.region]), np.array([self.task_type]), np.array([CROWD]))
        acc.post(cell, {"paid_hours": [flows["paid_h"]], "unpaid_hours": [flows["unpaid_h"]],
                        "earnings_uusd": [pay], "tasks_done_human": [done],
                        "requester_spend_uusd": [pay + fee], "platform_fees_uusd": [fee]})
        acc.post_market(np.array([self.task_type * len(CHANNELS) + CROWD]),
                        {"tasks_posted": np.array([flows["posted"]], float)})
        flows.update(posted=0, done=0, paid_h=0.0, unpaid_h=0.0)  # in place: processes hold it

    def measure(self, now: float) -> None:
        wk.measure(self, self.week)

    def record(self, now: float) -> None:
        wk.record(self, self.week)

    def roll_over(self, now: float) -> None:
        wk.roll_over(self, self.week)

    def backlog(self) -> np.ndarray:
        out = np.zeros(self.accounts.n_market, np.int64)
        out[self.task_type * len(CHANNELS) + CROWD] = len(self.queue) + self.in_service
        return out
