"""The clock: the only user of SimPy in the market, and the order of things.

A model gives the engine two ordered lists of phases: those of a *step*
(every ``step_h`` hours: batches arrive, workers work) and those of a *week*
(every 168 hours: the week is closed and the next one opened). One SimPy
process runs them: at a time that is both a week boundary and a step, the
week's phases run first, then the step's, because a step works in the week
it starts. The run ends at the horizon with the final phases, which close
the last (possibly partial) week. A model may also start SimPy processes of
its own (the queueing mode runs event by event).
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import simpy

from labsim.model.units import HOURS_PER_WEEK

Phase = Callable[[float], None]
Progress = Callable[[float], None]


class Model(Protocol):
    horizon_h: float
    step_h: float | None  # None: the model has no steps, only weeks

    def start(self, env: simpy.Environment) -> None: ...
    def step_phases(self) -> Sequence[Phase]: ...
    def week_phases(self) -> Sequence[Phase]: ...
    def final_phases(self) -> Sequence[Phase]: ...


class Engine:
    """Runs a model's phases in order, on one SimPy clock, up to its horizon."""

    def __init__(self, model: Model, progress: Progress | None = None) -> None:
        self.model = model
        self.progress = progress
        self.env = simpy.Environment()

    def run(self) -> None:
        m, env = self.model, self.env
        m.start(env)
        env.process(self._clock())
        env.run(until=m.horizon_h)
        for phase in m.final_phases():
            phase(m.horizon_h)
        self._report(m.horizon_h)

    def _clock(self):
        m, env = self.model, self.env
        dt = m.step_h or HOURS_PER_WEEK
        week, step = tuple(m.week_phases()), tuple(m.step_phases())
        while True:
            now = env.now
            if now > 0 and now % HOURS_PER_WEEK == 0:
                for phase in week:
                    phase(now)
                self._report(now)
            for phase in step:
                phase(now)
            yield env.timeout(dt)

    def _report(self, now: float) -> None:
        if self.progress is not None:
            self.progress(min(now, self.model.horizon_h) / self.model.horizon_h)
