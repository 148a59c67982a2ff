"""The simulation kernel: SimPy and numpy only, no files, no Hydra, no plots.

``simulate(cfg)`` takes a validated ``LabsimConfig`` and returns ``Records``
(column arrays and ledgers); ``labsim.results`` turns them into tables.
``docs/architecture.md`` maps each rule and policy to its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labsim.model.engine import Progress
from labsim.model.market import Market
from labsim.model.queueing import QueueModel
from labsim.model.records import Records
from labsim.model.rng import Streams
from labsim.model.steady import StartState
from labsim.model.units import CHANNELS

if TYPE_CHECKING:
    from labsim.config import LabsimConfig

__all__ = ["CHANNELS", "Market", "QueueModel", "Records", "StartState", "Streams", "simulate"]


def simulate(cfg: LabsimConfig, progress: Progress | None = None, start: StartState | None = None) -> Records:
    """Run one replication of the model described by ``cfg`` (already validated), the market
    starting from ``start`` (a stored steady state) when given."""
    if cfg.mode == "mmc":
        return QueueModel(cfg, Streams(cfg.seed), progress).run()
    return Market(cfg, Streams(cfg.seed), progress, start).run()
