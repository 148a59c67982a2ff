"""The simulation kernel: SimPy and numpy only, no files, no Hydra, no plots.

``simulate(cfg)`` takes a validated ``LabsimConfig`` and returns ``Records``
(column arrays and ledgers); ``labsim.results`` turns them into tables.
"""

from __future__ import annotations

from labsim.config import LabsimConfig
from labsim.model.market import CHANNELS, Market, Progress, Records
from labsim.model.queueing import QueueModel
from labsim.model.rng import Streams

__all__ = ["CHANNELS", "Records", "simulate"]


def simulate(cfg: LabsimConfig, progress: Progress | None = None) -> Records:
    """Run one replication of the model described by ``cfg`` (already validated)."""
    model_cls = QueueModel if cfg.mode == "mmc" else Market
    return model_cls(cfg, Streams(cfg.seed), progress).run()
