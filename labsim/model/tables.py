"""The configuration's two tables as arrays the rules index: regions and task types.

Rules work on whole populations at once, so they need a region's minimum
wage or a task type's mean duration as a numpy array indexed by the region
or type number of each worker or book, not as a config object. These tables
are built once per run and never change; everything that changes during a
run lives in ``labsim.model.state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from labsim.config import JURISDICTIONS
from labsim.model.units import HOURS_PER_WEEK, UUSD

if TYPE_CHECKING:  # the kernel takes a validated config object; it never imports Hydra
    from labsim.config import LabsimConfig


@dataclass(frozen=True)
class Regions:
    """Per region (in the order of ``codes``)."""

    codes: list[str]
    utc_offset_h: np.ndarray
    min_wage_usd_h: np.ndarray
    entry_h: np.ndarray  # when the region's workers may first join
    vendor_shift_start_local_h: np.ndarray
    vendor_workers: np.ndarray  # at scale 1
    vendor_wage_usd_h: np.ndarray  # the local wage (median reservation wage, at least the minimum) + a premium
    skill_mean: np.ndarray
    crowd_session_start_local_h: np.ndarray
    reservation_median_usd_h: np.ndarray  # the region's median x workers.reservation_wage_scale
    reservation_sigma: np.ndarray

    @property
    def n(self) -> int:
        return len(self.codes)

    @classmethod
    def from_config(cls, cfg: LabsimConfig) -> "Regions":
        rows = [cfg.regions[c] for c in cfg.regions]
        reservation = np.array([r.reservation_wage_median_usd_h for r in rows]) * cfg.workers.reservation_wage_scale
        minimum = np.array([r.min_wage_usd_h for r in rows])
        return cls(
            codes=list(cfg.regions),
            utc_offset_h=np.array([r.utc_offset_h for r in rows]),
            min_wage_usd_h=np.array([r.min_wage_usd_h for r in rows]),
            entry_h=np.array([r.entry_week * HOURS_PER_WEEK for r in rows]),
            vendor_shift_start_local_h=np.array([r.vendor_shift_start_local_h for r in rows], float),
            vendor_workers=np.array([r.vendor_workers for r in rows], float),
            vendor_wage_usd_h=np.maximum(reservation, minimum) * (1.0 + cfg.vendor.wage_premium),
            skill_mean=np.array([r.skill_mean for r in rows]),
            crowd_session_start_local_h=np.array([r.crowd_session_start_local_h for r in rows], float),
            reservation_median_usd_h=reservation,
            reservation_sigma=np.array([r.reservation_wage_sigma for r in rows]),
        )


@dataclass(frozen=True)
class TaskTypes:
    """Per task type (in the order of ``names``)."""

    names: list[str]
    duration_mean_min: np.ndarray  # mean of the log-normal duration
    duration_cv2: np.ndarray  # squared coefficient of variation of a task's duration
    reject_novice: np.ndarray
    reject_expert: np.ndarray
    skill_required: np.ndarray
    toxicity: np.ndarray
    base_piece_rate_usd: np.ndarray
    batches_per_h: np.ndarray  # batch arrivals per hour (any scale: batches shrink with it), before office
    # hours and growth
    work_h_per_week: np.ndarray  # hours of work a type's batches bring per week (scale 1, before growth)
    vendor_share: np.ndarray  # share of the type's batches sent to vendors
    routable: np.ndarray  # both channels serve the type
    llm_share: np.ndarray  # share of the type's tasks LLMs label at the start (0: none)
    compute_uusd: np.ndarray  # compute price of an automated task
    automation_ceiling: np.ndarray  # 0 where the type is not automated in this run
    automation_half_labels: np.ndarray
    automation_steepness: np.ndarray
    automation_qa_share: np.ndarray
    labels_before_start: np.ndarray
    is_eval: np.ndarray  # evaluation work that automation creates

    @property
    def n(self) -> int:
        return len(self.names)

    @classmethod
    def from_config(cls, cfg: LabsimConfig) -> "TaskTypes":
        rows = [cfg.task_types[t] for t in cfg.task_types]
        mean_min = np.array([t.duration_median_min * np.exp(t.duration_sigma ** 2 / 2) for t in rows])
        auto_on = cfg.automation.enabled
        return cls(
            names=list(cfg.task_types),
            duration_mean_min=mean_min,
            duration_cv2=np.array([np.expm1(t.duration_sigma ** 2) for t in rows]),
            reject_novice=np.array([t.reject_rate_novice for t in rows]),
            reject_expert=np.array([t.reject_rate_expert for t in rows]),
            skill_required=np.array([t.skill_required for t in rows]),
            toxicity=np.array([t.toxicity for t in rows]),
            base_piece_rate_usd=np.array([t.base_piece_rate_usd for t in rows]),
            batches_per_h=np.array([t.batches_per_week / HOURS_PER_WEEK for t in rows]),
            work_h_per_week=np.array([t.batches_per_week * t.batch_size_median
                                      * np.exp(t.batch_size_sigma ** 2 / 2) * mean_min[i] / 60
                                      for i, t in enumerate(rows)]),
            vendor_share=np.array([t.vendor_share for t in rows]),
            routable=np.array([0 < t.vendor_share < 1 for t in rows]),
            llm_share=np.array([t.llm_share if (auto_on and t.automatable) else 0.0 for t in rows]),
            compute_uusd=np.array([round(t.compute_cost_usd * UUSD) for t in rows], np.int64),
            automation_ceiling=np.array([t.automation_ceiling if (auto_on and t.automatable) else 0.0
                                         for t in rows]),
            automation_half_labels=np.array([t.automation_half_labels for t in rows]),
            automation_steepness=np.array([t.automation_steepness for t in rows]),
            automation_qa_share=np.array([t.automation_qa_share for t in rows]),
            labels_before_start=np.array([t.labels_before_start for t in rows], float),
            is_eval=np.isin(list(cfg.task_types), cfg.automation.eval_task_types),
        )


@dataclass(frozen=True)
class Requesters:
    """Per class of requesters (in the order of ``names``)."""

    names: list[str]
    value_multiplier: np.ndarray
    value_sigma: np.ndarray
    deadline_multiplier: np.ndarray
    size_multiplier: np.ndarray
    fixed_cost_usd: np.ndarray
    customary_rate: np.ndarray  # bool: pays the type's customary rate out of a fixed budget
    budget_fee_share: np.ndarray
    # Each class's requesters by home jurisdiction and size: sub-group ``j * 2 + large`` (``large``: a firm
    # above a due-diligence rule's thresholds), cumulative shares within the class (classes x sub-groups).
    home_cum: np.ndarray = field(default_factory=lambda: np.ones((0, 0)))

    @property
    def n_sub(self) -> int:
        return self.home_cum.shape[1]

    @property
    def n_groups(self) -> int:
        """Requester groups: (class, home jurisdiction, large), group ``class * n_sub + sub``."""
        return self.n * self.n_sub

    def sub_home(self) -> np.ndarray:
        """Per sub-group, its home jurisdiction's index (in ``config.JURISDICTIONS``)."""
        return np.arange(self.n_sub) // 2

    def sub_large(self) -> np.ndarray:
        return np.arange(self.n_sub) % 2 == 1

    @property
    def n(self) -> int:
        return len(self.names)

    @classmethod
    def from_config(cls, cfg: LabsimConfig) -> "Requesters":
        rows = list(cfg.requesters.values())
        return cls(
            names=list(cfg.requesters),
            value_multiplier=np.array([r.value_multiplier for r in rows]),
            value_sigma=np.array([r.value_sigma for r in rows]),
            deadline_multiplier=np.array([r.deadline_multiplier for r in rows]),
            size_multiplier=np.array([r.batch_size_multiplier for r in rows]),
            fixed_cost_usd=np.array([r.fixed_cost_usd for r in rows]),
            customary_rate=np.array([r.customary_rate for r in rows], bool),
            budget_fee_share=np.array([r.budget_fee_share for r in rows]),
            home_cum=home_cum(rows),
        )


def home_cum(rows: list) -> np.ndarray:
    """Per class (rows of requester settings), the cumulative shares of its sub-groups: each home
    jurisdiction's share split into its small firms' and its large firms' (classes x 2 jurisdictions)."""
    out = np.zeros((len(rows), 2 * len(JURISDICTIONS)))
    for c, r in enumerate(rows):
        shares = []
        for j in JURISDICTIONS:
            home, large = float(r.home_shares.get(j, 0.0)), float(r.large_shares.get(j, 0.0))
            shares += [home * (1.0 - large), home * large]
        cum = np.cumsum(shares)
        out[c] = cum / cum[-1] if cum[-1] > 0 else np.linspace(1.0 / len(shares), 1.0, len(shares))
        out[c, -1] = 1.0
    return out
