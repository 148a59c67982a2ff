"""Typed configuration of a labsim run.

The dataclasses below are the schema: they are registered in Hydra's
ConfigStore, the YAML files in ``conf/`` and ``scenarios/`` fill and extend
them, and ``validate()`` checks the values once, at the boundary, so the kernel
can trust what it gets. Every problem becomes a ``ConfigError`` that names the
key, the value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

MODES = ("market", "mmc")
STEPS_H = (1, 2, 3, 4, 6)


class ConfigError(ValueError):
    """A user-facing configuration error: one line, key + value + what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed: {allowed}")


@dataclass
class RegionConfig:
    """One row of the regions table (conf/regions/default.yaml)."""

    name: str = "???"
    utc_offset_h: float = 0.0
    min_wage_usd_h: float = 1.0
    reservation_wage_median_usd_h: float = 1.0
    reservation_wage_sigma: float = 0.6
    initial_crowd_workers: int = 0
    potential_arrivals_per_week: float = 0.0
    vendor_workers: int = 0
    vendor_wage_usd_h: float = 0.0
    vendor_shift_start_local_h: int = 9
    crowd_session_start_local_h: int = 19
    skill_mean: float = 0.5
    entry_week: float = 0.0


@dataclass
class TaskTypeConfig:
    """One task type (conf/task_types/default.yaml)."""

    duration_median_min: float = 1.0
    duration_sigma: float = 0.5
    base_piece_rate_usd: float = 0.05
    skill_required: float = 0.0
    toxicity: float = 0.0
    automatable: bool = False
    reject_rate_novice: float = 0.15
    reject_rate_expert: float = 0.02
    batches_per_week: float = 100.0
    batch_size_median: float = 100.0
    batch_size_sigma: float = 1.5
    piece_rate_sigma: float = 0.25
    deadline_h: float = 168.0
    vendor_share: float = 0.0
    geofenced_share: float = 0.0
    geofence_rate_premium: float = 1.0
    qualified_share: float = 0.0
    qualified_rate_premium: float = 1.0
    piece_rate_floor_usd: float = 0.0
    automation_ceiling: float = 0.0
    automation_half_labels: float = 1e9
    automation_steepness: float = 1.5
    automation_qa_share: float = 0.1
    labels_before_start: float = 0.0
    compute_cost_usd: float = 0.001


@dataclass
class DemandConfig:
    """Requesters: growth of AI demand and when they post (office hours)."""

    growth_per_year: float = 0.10
    requester_utc_offset_h: float = -5.0
    office_hours_boost: float = 3.0
    office_start_local_h: float = 9.0
    office_end_local_h: float = 18.0


@dataclass
class AutomationConfig:
    """Automation of automatable task types, and the evaluation work it creates."""

    enabled: bool = True
    eval_task_types: list[str] = field(default_factory=lambda: ["rlhf_preference", "safety_evaluation"])
    eval_demand_boost: float = 2.0


@dataclass
class PricingConfig:
    """Weekly adjustment of crowd piece rates to how fast batches fill."""

    enabled: bool = True
    target_fill_h: float = 24.0
    sensitivity: float = 0.05
    max_change_per_week: float = 0.05
    min_rate_multiplier: float = 0.25
    max_rate_multiplier: float = 2.0
    expiry_weight: float = 10.0
    min_fill_h: float = 0.25


@dataclass
class RoutingConfig:
    """Requesters' choice of channel by cost per accepted task."""

    enabled: bool = False
    step_per_week: float = 0.01
    min_vendor_share: float = 0.02
    max_vendor_share: float = 0.95


@dataclass
class CrowdPlatformConfig:
    """The open crowd platform: piece rates, commission, unpaid search and rejections."""

    commission: float = 0.20
    commission_large_batch: float = 0.40
    large_batch_min_tasks: int = 10
    search_min_per_hour: float = 8.0
    give_up_search_h: float = 0.5
    geofence_regions: list[str] = field(default_factory=lambda: ["USA", "FRA"])
    qualification_min_approved: int = 15000
    qualification_min_approval: float = 0.90
    matching_rounds: int = 3


@dataclass
class VendorConfig:
    """The managed (BPO) channel: hourly wages per region, a vendor margin."""

    margin: float = 1.0
    shift_hours: float = 8.0
    shift_days_per_week: int = 5


@dataclass
class WorkersConfig:
    """Worker behaviour shared by all regions."""

    hours_per_week_median: float = 20.0
    hours_per_week_sigma: float = 0.5
    days_per_week: float = 5.0
    skill_sd: float = 0.15
    novice_slowdown: float = 1.5
    base_quit_hazard_per_week: float = 0.008
    low_pay_quit_hazard_per_week: float = 0.05
    wage_memory_weeks: float = 4.0
    vendor_quit_hazard_per_week: float = 0.004
    learning_hours: float = 600.0
    max_skill_gain: float = 1.0
    word_of_mouth_weeks: float = 8.0
    max_session_h: float = 16.0
    session_start_sd_h: float = 2.5
    initial_tenure_mean_months: float = 15.0
    initial_reviewed_tasks_per_week: float = 1000.0


@dataclass
class WellbeingConfig:
    """Stress from toxic exposure, recovery, burnout (labsim/model/wellbeing.py)."""

    stress_per_toxic_hour: float = 0.0018
    recovery_per_week: float = 0.10
    sensitivity_sigma: float = 0.4
    burnout_threshold: float = 1.0
    high_stress_threshold: float = 0.6
    reject_penalty_at_burnout: float = 0.15
    support_accumulation_factor: float = 1.0
    support_recovery_factor: float = 1.0
    initial_stress_cap: float = 0.95


# --- policies (labsim/model/policy.py) ----------------------------------------------
# Each is off by default and, when on, starts at ``start_week`` so the
# before/after is visible. Who pays is stated on each.


@dataclass
class MinWageFloorPolicy:
    """Effective hourly floor (unpaid time included): the higher of ``usd_h`` and
    ``local_multiple`` x the region's minimum wage. Crowd platforms top weekly
    pay up to it and bill requesters; vendors raise hourly wages to it (their
    margin on top). Paid by requesters."""

    enabled: bool = False
    start_week: float = 52.0
    usd_h: float = 0.0
    local_multiple: float = 1.0
    channels: list[str] = field(default_factory=lambda: ["crowd", "vendor"])


@dataclass
class PaidSearchPolicy:
    """Crowd platforms pay ``share`` of the unpaid time (search, rejected work) at the
    worker's paid hourly rate of the week. Paid by requesters."""

    enabled: bool = False
    start_week: float = 52.0
    share: float = 1.0


@dataclass
class PsychSupportPolicy:
    """Counselling for workers on toxic task types: stress builds more slowly and
    fades faster; ``cost_usd_per_hour`` per hour of such work, paid by requesters."""

    enabled: bool = False
    start_week: float = 52.0
    accumulation_factor: float = 0.6
    recovery_factor: float = 1.5
    cost_usd_per_hour: float = 0.5
    min_toxicity: float = 0.5


@dataclass
class ExposureCapPolicy:
    """At most ``max_hours_per_day`` on toxic task types per working day (enforced
    over the week). Vendor staff past the cap sit out the rest of their shift,
    paid: their employer bills it."""

    enabled: bool = False
    start_week: float = 52.0
    max_hours_per_day: float = 4.0
    min_toxicity: float = 0.5


@dataclass
class SocialProtectionLevyPolicy:
    """A levy of ``share_of_pay`` on all pay, charged to requesters, into a fund that
    pays workers who burn out ``leave_weeks`` of paid leave (they come back
    instead of leaving) and those who quit ``between_jobs_weeks`` of benefit, at
    ``replacement_rate`` of recent weekly earnings. The public purse covers any
    deficit of the fund."""

    enabled: bool = False
    start_week: float = 52.0
    share_of_pay: float = 0.03
    leave_weeks: float = 8.0
    replacement_rate: float = 0.6
    between_jobs_weeks: float = 4.0


@dataclass
class FairPlatformPolicy:
    """A platform with a low commission that pays rejected work enters the crowd
    market and wins ``market_share`` of the open crowd batches over ``ramp_weeks``."""

    enabled: bool = False
    start_week: float = 52.0
    commission: float = 0.10
    pays_rejections: bool = True
    market_share: float = 0.3
    ramp_weeks: float = 26.0


@dataclass
class DueDiligencePolicy:
    """Requesters bound by the rule (``coverage`` of crowd demand) may only use
    certified channels: the fair platform when there is one, else vendors,
    who pay at least the local minimum wage by the hour. Vendors hire to match."""

    enabled: bool = False
    start_week: float = 52.0
    coverage: float = 0.5


@dataclass
class TrainingCertificationPolicy:
    """A training and certification programme: each week a share of crowd workers not yet
    certified enrols, spends ``hours`` of its online time in training (unpaid; a public
    stipend per hour), and gains ``skill_gain`` in the target task type. The public purse
    pays the course (``cost_usd_per_hour``) and the stipends."""

    enabled: bool = False
    start_week: float = 0.0
    enrol_prob_per_week: float = 0.02
    hours: float = 40.0
    skill_gain: float = 0.3
    target_task_type: str = "safety_evaluation"
    cost_usd_per_hour: float = 0.0
    stipend_usd_per_hour: float = 0.0


@dataclass
class PolicyConfig:
    min_wage_floor: MinWageFloorPolicy = field(default_factory=MinWageFloorPolicy)
    paid_search_and_rejections: PaidSearchPolicy = field(default_factory=PaidSearchPolicy)
    psych_support: PsychSupportPolicy = field(default_factory=PsychSupportPolicy)
    exposure_cap: ExposureCapPolicy = field(default_factory=ExposureCapPolicy)
    social_protection_levy: SocialProtectionLevyPolicy = field(default_factory=SocialProtectionLevyPolicy)
    fair_platform: FairPlatformPolicy = field(default_factory=FairPlatformPolicy)
    due_diligence: DueDiligencePolicy = field(default_factory=DueDiligencePolicy)
    training_certification: TrainingCertificationPolicy = field(default_factory=TrainingCertificationPolicy)


@dataclass
class MMCConfig:
    """Queueing-theory mode: the market reduced to an M/M/c queue."""

    servers: int = 5
    arrival_rate_per_h: float = 4.0
    service_rate_per_h: float = 1.0
    region: str = "USA"
    task_type: str = "text_classification"


@dataclass
class OutputConfig:
    report: bool = True
    progress: bool = True


@dataclass
class LabsimConfig:
    """A whole run. ``scenario=NAME`` on the command line picks a preset."""

    seed: int = 0
    mode: str = "market"
    horizon_weeks: float = 156.0
    warmup_weeks: float = 13.0
    scale: float = 1.0
    step_h: int = 2
    regions: dict[str, RegionConfig] = field(default_factory=dict)
    task_types: dict[str, TaskTypeConfig] = field(default_factory=dict)
    demand: DemandConfig = field(default_factory=DemandConfig)
    automation: AutomationConfig = field(default_factory=AutomationConfig)
    pricing: PricingConfig = field(default_factory=PricingConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    crowd: CrowdPlatformConfig = field(default_factory=CrowdPlatformConfig)
    vendor: VendorConfig = field(default_factory=VendorConfig)
    workers: WorkersConfig = field(default_factory=WorkersConfig)
    wellbeing: WellbeingConfig = field(default_factory=WellbeingConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    mmc: MMCConfig = field(default_factory=MMCConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def validate(self) -> "LabsimConfig":
        validate(self)
        return self


# --- validation -----------------------------------------------------------------

# Keys whose values are probabilities or shares: must lie in [0, 1].
_UNIT_INTERVAL = {
    "skill_mean", "skill_required", "reject_rate_novice", "reject_rate_expert",
    "vendor_share", "geofenced_share", "commission", "commission_large_batch",
    "skill_sd", "qualified_share", "qualification_min_approval", "enrol_prob_per_week",
    "reject_penalty_at_burnout", "skill_gain", "automation_ceiling", "automation_qa_share",
    "max_skill_gain",
    "max_change_per_week", "share", "share_of_pay", "replacement_rate", "market_share", "coverage",
    "accumulation_factor", "min_toxicity",
}
# Keys that must be strictly positive.
_POSITIVE = {
    "horizon_weeks", "scale", "duration_median_min", "base_piece_rate_usd",
    "batch_size_median", "deadline_h", "min_wage_usd_h",
    "reservation_wage_median_usd_h", "hours_per_week_median", "days_per_week",
    "shift_hours", "shift_days_per_week", "servers", "arrival_rate_per_h",
    "service_rate_per_h", "wage_memory_weeks", "novice_slowdown", "office_hours_boost",
    "learning_hours", "word_of_mouth_weeks", "burnout_threshold", "high_stress_threshold",
    "automation_half_labels", "automation_steepness", "target_fill_h", "min_rate_multiplier",
    "max_rate_multiplier", "recovery_factor", "max_hours_per_day",
}
# Keys allowed to be any finite real number.
_ANY_REAL = {"utc_offset_h", "growth_per_year", "requester_utc_offset_h"}
# Everything else numeric must be >= 0.


def _check_number(key: str, value: Any) -> None:
    leaf = key.rsplit(".", 1)[-1]
    if isinstance(value, bool):
        return
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, value, "a finite number")
    if leaf in _UNIT_INTERVAL and not 0.0 <= value <= 1.0:
        raise ConfigError(key, value, "a probability or share between 0 and 1")
    if leaf in _POSITIVE and value <= 0:
        raise ConfigError(key, value, "a number greater than 0")
    if leaf not in _POSITIVE and leaf not in _ANY_REAL and value < 0:
        raise ConfigError(key, value, "a number >= 0")


def _walk(prefix: str, obj: Any) -> None:
    if is_dataclass(obj):
        for f in fields(obj):
            _walk(f"{prefix}{f.name}" if not prefix else f"{prefix}.{f.name}", getattr(obj, f.name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _walk(f"{prefix}.{k}", v)
    elif isinstance(obj, (int, float)):
        _check_number(prefix, obj)


def validate(cfg: LabsimConfig) -> None:
    """Raise ConfigError on the first value a run cannot use."""
    if cfg.mode not in MODES:
        raise ConfigError("mode", cfg.mode, f"one of {', '.join(MODES)}")
    _walk("", cfg)
    if cfg.step_h not in STEPS_H:
        raise ConfigError("step_h", cfg.step_h, f"one of {', '.join(map(str, STEPS_H))} (hours dividing a day)")
    if cfg.warmup_weeks >= cfg.horizon_weeks:
        raise ConfigError("warmup_weeks", cfg.warmup_weeks,
                          f"fewer weeks than horizon_weeks ({cfg.horizon_weeks:g})")
    if not cfg.regions:
        raise ConfigError("regions", {}, "at least one region")
    if not cfg.task_types:
        raise ConfigError("task_types", {}, "at least one task type")
    for code, r in cfg.regions.items():
        if len(code) != 3 or not code.isalpha() or not code.isupper():
            raise ConfigError(f"regions.{code}", code, "an ISO-3 country code such as KEN")
        if not -12 <= r.utc_offset_h <= 14:
            raise ConfigError(f"regions.{code}.utc_offset_h", r.utc_offset_h, "between -12 and 14")
        for key in ("vendor_shift_start_local_h", "crowd_session_start_local_h"):
            if not 0 <= getattr(r, key) <= 23:
                raise ConfigError(f"regions.{code}.{key}", getattr(r, key), "an hour 0..23")
        if r.vendor_workers > 0 and r.vendor_wage_usd_h <= 0:
            raise ConfigError(f"regions.{code}.vendor_wage_usd_h", r.vendor_wage_usd_h,
                              "a wage > 0 where vendor_workers > 0")
    for name, t in cfg.task_types.items():
        if t.reject_rate_expert > t.reject_rate_novice:
            raise ConfigError(f"task_types.{name}.reject_rate_expert", t.reject_rate_expert,
                              f"at most reject_rate_novice ({t.reject_rate_novice:g})")
    for name, t in cfg.task_types.items():
        if t.geofenced_share + t.qualified_share > 1:
            raise ConfigError(f"task_types.{name}.qualified_share", t.qualified_share,
                              f"at most 1 - geofenced_share ({1 - t.geofenced_share:g})")
    for name in cfg.automation.eval_task_types:
        if name not in cfg.task_types:
            raise ConfigError("automation.eval_task_types", name, f"one of {', '.join(cfg.task_types)}")
    for name, t in cfg.task_types.items():
        if t.automation_ceiling > 0 and not t.automatable:
            raise ConfigError(f"task_types.{name}.automation_ceiling", t.automation_ceiling,
                              "0 for a task type that is not automatable")
    if cfg.policy.training_certification.target_task_type not in cfg.task_types:
        raise ConfigError("policy.training_certification.target_task_type",
                          cfg.policy.training_certification.target_task_type,
                          f"one of {', '.join(cfg.task_types)}")
    for code in cfg.crowd.geofence_regions:
        if code not in cfg.regions:
            raise ConfigError("crowd.geofence_regions", code,
                              f"a configured region ({', '.join(cfg.regions)})")
    for ch in cfg.policy.min_wage_floor.channels:
        if ch not in ("crowd", "vendor"):
            raise ConfigError("policy.min_wage_floor.channels", ch, "crowd or vendor")
    if cfg.policy.exposure_cap.max_hours_per_day > 24:
        raise ConfigError("policy.exposure_cap.max_hours_per_day", cfg.policy.exposure_cap.max_hours_per_day,
                          "at most 24")
    if cfg.vendor.shift_days_per_week > 7:
        raise ConfigError("vendor.shift_days_per_week", cfg.vendor.shift_days_per_week, "at most 7")
    if cfg.workers.days_per_week > 7:
        raise ConfigError("workers.days_per_week", cfg.workers.days_per_week, "at most 7")
    if cfg.vendor.shift_hours > 24:
        raise ConfigError("vendor.shift_hours", cfg.vendor.shift_hours, "at most 24")
    if cfg.mode == "mmc":
        if cfg.mmc.region not in cfg.regions:
            raise ConfigError("mmc.region", cfg.mmc.region, f"one of {', '.join(cfg.regions)}")
        if cfg.mmc.task_type not in cfg.task_types:
            raise ConfigError("mmc.task_type", cfg.mmc.task_type,
                              f"one of {', '.join(cfg.task_types)}")
        if int(cfg.mmc.servers) != cfg.mmc.servers:
            raise ConfigError("mmc.servers", cfg.mmc.servers, "a whole number of workers")


def register_configs() -> None:
    """Register the schema with Hydra (imported lazily: the kernel never needs Hydra)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="labsim_schema", node=LabsimConfig)
