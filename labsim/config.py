"""Typed configuration of a labsim run: every parameter, its default, range, unit and source.

The dataclasses below are the one source of truth for defaults: Hydra's
ConfigStore registers them as the schema, ``conf/config.yaml`` only says how
to compose (scenario, launcher, output folders), and the regions and task
types come from their tables in ``conf/`` (``conf/regions/default.yaml``,
``conf/task_types/default.yaml``), which the default factories load. So
``LabsimConfig()``, ``labsim.compose([])`` and the command line describe the
same model.

Every field declares what it accepts next to its default (``num``,
``share``, ``count``, ``choice``...): a range with finite bounds, or a
stated reason where a side is open, its unit, a one-line meaning and a
source ("assumption: ..." where there is none). ``validate()`` checks every
value against these declarations once, at the boundary, and then the
cross-field rules; every problem becomes a ``ConfigError`` that names the
key, the value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from labsim.errors import ConfigError

__all__ = ["ConfigError", "LabsimConfig", "validate", "describe", "parameters"]

MODES = ("market", "mmc")
STEPS_H = (1, 2, 3, 4, 6)
CHANNEL_NAMES = ("crowd", "vendor")
# ``policy.min_wage_floor.counted_search_min_per_paid_hour`` at its maximum counts every minute of search.
ALL_SEARCH_MIN = 6000.0
# Requesters' home jurisdictions and the offset of their office time from UTC (standard time: the
# United States at US Eastern, where most of its online-labour buyers post (Kassi and Lehdonvirta
# 2018); the EU at Central European Time, where most of its population lives; "other" at UTC, an
# assumption for a rest of the world spread from the Americas to Asia-Pacific).
JURISDICTIONS = {"US": -5.0, "EU": 1.0, "UK": 0.0, "CN": 8.0, "IN": 5.5, "other": 0.0}
MAX_WEEKS = 5200.0  # a century: no question this model answers needs longer runs


# --- declaring fields -----------------------------------------------------------------

def _field(default: Any, meta: dict[str, Any]) -> Any:
    if callable(default) and not isinstance(default, (int, float, str, bool)):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def num(default: float, lo: float | None, hi: float | None, unit: str, doc: str, source: str = "",
        *, lo_open: bool = False, hi_open: bool = False, unbounded: str = "", integer: bool = False) -> Any:
    """A number in [lo, hi] (``lo_open``/``hi_open``: the bound itself excluded). A side
    given as None is unbounded, and ``unbounded`` must say why."""
    if (lo is None or hi is None) and not unbounded:
        raise TypeError(f"an unbounded side needs a reason ({doc})")
    return _field(default, {"kind": "int" if integer else "number", "lo": lo, "hi": hi,
                            "lo_open": lo_open, "hi_open": hi_open, "unbounded": unbounded,
                            "unit": unit, "doc": doc, "source": source})


def count(default: int, lo: int, hi: int | None, unit: str, doc: str, source: str = "",
          unbounded: str = "") -> Any:
    return num(default, lo, hi, unit, doc, source, unbounded=unbounded, integer=True)


def share(default: float, doc: str, source: str = "") -> Any:
    """A probability or share in [0, 1]."""
    return _field(default, {"kind": "share", "lo": 0.0, "hi": 1.0, "lo_open": False, "hi_open": False,
                            "unit": "share", "doc": doc, "source": source})


def flag(default: bool, doc: str, source: str = "") -> Any:
    return _field(default, {"kind": "bool", "unit": "", "doc": doc, "source": source})


def choice(default: Any, choices: tuple, doc: str, source: str = "") -> Any:
    return _field(default, {"kind": "choice", "choices": choices, "unit": "", "doc": doc, "source": source})


def name_of(default: Any, table: str, doc: str, source: str = "", many: bool = False) -> Any:
    """A key (or, ``many``, a list of keys) of one of the run's tables (``regions``, ``task_types``)
    or of a fixed set (``channels``)."""
    return _field(default, {"kind": "names" if many else "name", "table": table, "unit": "",
                            "doc": doc, "source": source})


def text(default: str, doc: str) -> Any:
    return _field(default, {"kind": "text", "unit": "", "doc": doc, "source": ""})


def table(factory: Any, doc: str) -> Any:
    return _field(factory, {"kind": "table", "unit": "", "doc": doc, "source": ""})


def group(cls: type, doc: str = "") -> Any:
    return _field(cls, {"kind": "group", "unit": "", "doc": doc or (cls.__doc__ or "").split("\n")[0],
                        "source": ""})


def policy_regions() -> Any:
    return name_of(lambda: [], "regions", "regions whose workers the policy covers (empty: every region)",
                   many=True)


def start_week(default: float = 52.0) -> Any:
    return num(default, 0.0, MAX_WEEKS, "weeks", "first week the policy applies to (weeks start at 0)",
               "assumption: year 2 by default, so a run shows the market before and after")


WEEKS = "weeks"
USD_H = "USD per hour"


# --- the tables ---------------------------------------------------------------------------

@dataclass
class RegionConfig:
    """One row of the regions table (conf/regions/default.yaml, where each value's source is)."""

    name: str = text("???", "the region's name, as pages show it")
    utc_offset_h: float = num(0.0, -12.0, 14.0, "hours", "offset of local time from UTC",
                              source="standard time of each region's capital (no daylight saving)")
    min_wage_usd_h: float = num(1.0, 0.0, 1000.0, USD_H, "local minimum wage", lo_open=True,
                                source=("national minimum wages, 2024, at 2024 exchange rates "
                                        "(conf/regions/default.yaml lists each)"))
    reservation_wage_median_usd_h: float = num(1.0, 0.0, 1000.0, USD_H,
                                               "median reservation wage of the region's workers", lo_open=True,
                                               source=("Horton and Chilton 2010: median $1.38/h on Mechanical "
                                                       "Turk, spread by local wage levels (assumption)"))
    reservation_wage_sigma: float = num(0.6, 0.0, 5.0, "log-sd", "spread of reservation wages (log-normal)",
                                        source=("Horton and Chilton 2010: log-normal reservation wages; the spread"
                                                " is an assumption"))
    initial_crowd_workers: int = count(0, 0, 10_000_000, "workers at scale 1", "crowd workers present at t = 0",
                                       source=("the stock the region's arrivals sustain in the baseline (the "
                                               "stored steady state)"))
    potential_arrivals_per_week: float = num(0.0, 0.0, 1e7, "people per week at scale 1",
                                             "people who consider joining each week",
                                             source=("calibrated: regions' shares of the crowd (Online Labour "
                                                     "Index) and the half-life band (Difallah et al. 2018)"))
    vendor_workers: int = count(0, 0, 10_000_000, "workers at scale 1", "vendor headcount the region's vendors keep",
                                source=("assumption: vendor centres in India, the Philippines, Kenya and "
                                        "Madagascar (press coverage 2022-2024)"))
    vendor_shift_start_local_h: int = count(9, 0, 23, "local hour", "start of vendor shifts",
                                            source=("assumption: Philippine BPOs serve US office hours at night; "
                                                    "others work local days"))
    crowd_session_start_local_h: int = count(19, 0, 23, "local hour", "typical start of crowd sessions",
                                             source=("assumption: crowd work after the day's other work, in the "
                                                     "local evening"))
    skill_mean: float = share(0.5, "mean skill of the region's newcomers (0 novice, 1 expert)",
                              source="assumption; KEN and MDG calibrated to Berg et al. 2018's African wage band")
    entry_week: float = num(0.0, 0.0, MAX_WEEKS, WEEKS, "first week the region's workers may join",
                            source="assumption: Madagascar's crowd grows later (its platforms' expansion)")


@dataclass
class TaskTypeConfig:
    """One task type (conf/task_types/default.yaml, where each value's source is)."""

    duration_median_min: float = num(1.0, 0.0, 1440.0, "minutes", "median duration of a task (log-normal)",
                                     lo_open=True,
                                     source=("Papadopoulos et al. 2017 (boxes ~35 s), Kirillov et al. 2023 (masks "
                                             "14-34 s), moderation ~1 item a minute (Kenyan moderators' 2024 "
                                             "case); evaluation: assumption"))
    duration_sigma: float = num(0.5, 0.0, 5.0, "log-sd", "spread of task durations",
                                source="assumption")
    base_piece_rate_usd: float = num(0.05, 0.0, 1000.0, "USD per task",
                                     "the type's observed piece rate: the mean rate its optimising requesters "
                                     "post at Mechanical Turk's fees, from which what a task is worth follows "
                                     "(Robinson's markdown, docs/model.md 7.2); academic requesters' customary "
                                     "rate; the queueing mode's rate",
                                     lo_open=True,
                                     source=("calibrated to Berg et al. 2018's wages by region, year by year"))
    skill_required: float = share(0.0, "skill a crowd worker needs to take the type",
                                  source=("assumption: RLHF and safety evaluation need more skill (press coverage "
                                          "2023-2024)"))
    toxicity: float = num(0.0, 0.0, 100.0, "stress weight per hour", "weight of an hour of the type in toxic exposure",
                          source=("assumption: moderation 1, safety evaluation 0.5, RLHF 0.1 (moderators' 2024 "
                                  "case: graphic content)"))
    automatable: bool = flag(False, "whether models can learn to do the type",
                             source=("assumption: annotation and classification are what models learn first "
                                     "(Kirillov et al. 2023; Gilardi et al. 2023)"))
    reject_rate_novice: float = share(0.15, "share of a novice's tasks rejected",
                                      source=("assumption, checked against the unpaid-time band (ILO WESO 2021: "
                                              "~20 unpaid minutes per paid hour)"))
    reject_rate_expert: float = share(0.02, "share of an expert's tasks rejected",
                                      source="assumption, checked against the unpaid-time band (ILO WESO 2021)")
    batches_per_week: float = num(100.0, 0.0, 1e8, "batches per week at scale 1", "batch arrivals",
                                  source=("calibrated: hours per worker (ILO WESO 2021: 24 h/week) at the regions'"
                                          " stocks"))
    batch_size_median: float = num(100.0, 1.0, 1e8, "tasks", "median batch size (log-normal)",
                                   source=("assumption (Difallah et al. 2015 describe heavy-tailed Mechanical Turk"
                                           " batch sizes)"))
    batch_size_sigma: float = num(1.5, 0.0, 5.0, "log-sd", "spread of batch sizes",
                                  source=("assumption: 0.8 for every type (heavy-tailed, and large enough at scale"
                                          " 0.1)"))
    deadline_h: float = num(168.0, 0.0, 8766.0, "hours", "time a batch stays open", lo_open=True,
                            source="assumption: evaluation and moderation are needed sooner")
    vendor_share: float = share(0.0, "share of the type's batches sent to vendors at the start (then by cost)",
                                source=("assumption: moderation is mostly outsourced to BPO vendors (TIME 2023; "
                                        "Kenyan moderators' case)"))
    geofenced_share: float = share(0.0, "share of crowd batches open only to crowd.geofence_regions",
                                   source=("assumption: English-language and US-centric work restricted to "
                                           "US/France workers"))
    geofence_value_premium: float = num(1.0, 0.0, 100.0, "x value", "value of work that needs the geofenced "
                                        "regions' workers (their language, their culture)", lo_open=True,
                                        source="calibrated: 1.15, the US wage band (Berg et al. 2018)")
    qualified_value_premium: float = num(1.0, 0.0, 100.0, "x value", "value of work requesters reserve for "
                                         "qualified workers", lo_open=True,
                                         source="assumption: qualified batches pay 20-30 % more")
    piece_rate_floor_usd: float = num(0.0, 0.0, 1000.0, "USD per task", "no batch pays less",
                                      source="policy lever: 0 in the baseline")
    automation_ceiling: float = share(0.0, "share of new tasks a model can do at most",
                                      source=("assumption: model-assisted masks and boxes cut human time 60-80 % "
                                              "(Kirillov et al. 2023; Papadopoulos et al. 2017)"))
    automation_half_labels: float = num(1e9, 0.0, 1e15, "labels per unit of scale",
                                        "human labels at which a model does half its ceiling", lo_open=True,
                                        source=("assumption: a quarter to a third automated after three years of "
                                                "learning (scenario automation_shock)"))
    automation_steepness: float = num(1.5, 0.0, 20.0, "", "steepness of the learning curve in log-labels",
                                      lo_open=True,
                                      source="assumption")
    automation_qa_share: float = share(0.1, "share of a model's tasks that humans review",
                                       source="assumption: a tenth of model output reviewed by people")
    labels_before_start: float = num(0.0, 0.0, 1e15, "labels per unit of scale", "labels learnt before t = 0",
                                     source=("assumption: the models' training before t = 0 (the baseline's "
                                             "automation share, about 5 % of automatable work)"))
    llm_share: float = share(0.0, "share of the type's tasks labelled by an LLM at the start (automatable types)",
                             source=("assumption: a tenth of text classification (Gilardi et al. 2023: LLM labels "
                                     "beat crowd workers' on text classification at a thirtieth of the cost; "
                                     "adoption partial in 2024)"))
    compute_cost_usd: float = num(0.001, 0.0, 100.0, "USD per task", "compute price of an automated task",
                                  source=("assumption: a fraction of a cent per inference (Gilardi et al. 2023: "
                                          "LLM labels about $0.003 per annotation)"))


@dataclass
class RequesterConfig:
    """One class of requesters (conf/requesters/default.yaml, where each value's source is)."""

    name: str = text("???", "the class's name, as pages show it")
    type_shares: dict[str, float] = _field(dict, {
        "kind": "shares_by_type", "unit": "share",
        "source": ("assumption: frontier labs buy RLHF and evaluation, enterprises annotation and moderation, "
                   "academics surveys and classification (Difallah et al. 2018)"),
        "doc": "share of each task type's batches this class posts (each type's shares sum to 1)"})
    value_multiplier: float = num(1.0, 0.0, 1000.0, "x type value", "value of its tasks against the type's",
                                  lo_open=True,
                                  source="assumption")
    value_sigma: float = num(0.5, 0.0, 5.0, "log-sd", "spread of values between its batches",
                             source="assumption")
    deadline_multiplier: float = num(1.0, 0.0, 100.0, "x type deadline", "how long its batches stay open",
                                     lo_open=True,
                                     source="assumption")
    batch_size_multiplier: float = num(1.0, 0.0, 1000.0, "x type size", "size of its batches", lo_open=True,
                                       source="assumption")
    qualified_share: float = share(0.0, "share of its crowd batches only for qualified workers (quality needs)",
                                   source="assumption (quality needs)")
    fixed_cost_usd: float = num(0.0, 0.0, 1e7, "USD per batch", "what setting up and reviewing a batch costs "
                                "it: a batch worth less than that and its tasks' cost is not posted",
                                source="assumption: instructions, gold questions and review of a batch")
    customary_rate: bool = flag(False, "it pays the task type's customary rate (base_piece_rate_usd) out of "
                                "a fixed budget per batch instead of the rate that maximises its surplus: a higher "
                                "platform fee buys fewer of its tasks",
                                source=("assumption: academic pay norms (Dynamo guidelines 2014) and round-number "
                                        "rewards (Dube et al. 2020)"))
    home_shares: dict[str, float] = _field(lambda: {"US": 1.0}, {
        "kind": "shares_by_jurisdiction", "unit": "share",
        "source": "conf/requesters/default.yaml gives each class's sources (Online Labour Index, AI Index 2024)",
        "doc": "share of its batches posted by requesters homed in each jurisdiction (they sum to 1)"})
    large_shares: dict[str, float] = _field(dict, {
        "kind": "shares_by_jurisdiction", "unit": "share",
        "source": "assumption with a prior (conf/calibration/priors.yaml gives none yet: a rule's scope, not "
                  "a market outcome); conf/requesters/default.yaml says why",
        "doc": "share of its batches, by home jurisdiction, posted by firms above a due-diligence rule's size "
               "thresholds (absent: none)"})
    budget_fee_share: float = share(0.40, "the platform fee its budgets were planned at: a customary-rate batch's "
                                    "budget buys its drawn size at this fee, so its tasks scale by (1 + this) / "
                                    "(1 + the fee charged)",
                                    source=("Mechanical Turk's 40 % fee on batches of 10 or more since July 2015 "
                                            "(Amazon fee notice)"))


def _load_table(name: str, row: type) -> dict[str, Any]:
    """The packaged table ``conf/<name>/default.yaml`` as typed rows (defaults for missing keys)."""
    import yaml  # PyYAML, Hydra's own YAML reader; only loaded when a default table is needed

    from labsim.paths import config_dir

    raw = yaml.safe_load((config_dir() / name / "default.yaml").read_text(encoding="utf-8")) or {}
    kinds = {f.name: f.type for f in fields(row)}
    out = {}
    for key, values in raw.items():
        typed = {}
        for k, v in (values or {}).items():
            kind = kinds.get(k)
            typed[k] = (float(v) if kind == "float" else int(v) if kind == "int"
                        else bool(v) if kind == "bool"
                        else {str(a): float(b) for a, b in v.items()} if str(kind).startswith("dict") else v)
        out[str(key)] = row(**typed)
    return out


def default_regions() -> dict[str, RegionConfig]:
    return _load_table("regions", RegionConfig)


def default_task_types() -> dict[str, TaskTypeConfig]:
    return _load_table("task_types", TaskTypeConfig)


def default_requesters() -> dict[str, RequesterConfig]:
    return _load_table("requesters", RequesterConfig)


# --- the market's rules -----------------------------------------------------------------------

@dataclass
class DemandConfig:
    """Requesters: growth of AI demand and when they post (office hours)."""

    growth_per_year: float = num(
        0.0, -1.0, 10.0, "per year", "growth of batch arrivals (0: the baseline is stationary)", lo_open=True,
        source="scenario ai_boom: 0.10, a third of the labelling market's projected ~29 %/yr ($2.2 B in 2022 "
               "to $17 B in 2030, market research, secondary) for micro-task volume at constant prices")
    requester_utc_offset_h: float = num(
        -5.0, -12.0, 14.0, "hours", "requesters' time zone",
        "the US buys as much online labour as the rest of the world (Kassi and Lehdonvirta 2018): US Eastern")
    office_hours_boost: float = num(3.0, 0.0, 100.0, "x off-hours rate", "posting rate in office hours",
                                    "assumption", lo_open=True)
    office_hours_by_home: bool = flag(
        False, "requesters post in the office hours of their home jurisdictions (requesters.*.home_shares), "
        "each at its standard time, instead of all at requester_utc_offset_h",
        "off by default so that the recorded results stand until the calibration is re-run with it (docs/model.md "
        "7.16); the home shares are sourced in conf/requesters/default.yaml")
    office_start_local_h: float = num(9.0, 0.0, 24.0, "local hour", "requesters' office hours start",
                                      "assumption: a working day", hi_open=True)
    office_end_local_h: float = num(18.0, 0.0, 24.0, "local hour", "requesters' office hours end",
                                    "assumption: a working day", lo_open=True)
    elasticity: float = num(
        0.5, 0.0, 5.0, "", "own-price elasticity of requesters' demand for human tasks (absolute value): "
        "tasks bought x (cost per accepted task / the cost at the requester's own best rate)^-elasticity",
        "assumption with a prior (conf/calibration/priors.yaml): no estimate for crowd work exists; own-wage "
        "elasticities of labour demand centre on -0.4 (Lichter, Peichl and Siegloch, EER 2015), larger for "
        "low-skilled and atypical work")


@dataclass
class AutomationConfig:
    """Automation of automatable task types, and the evaluation work it creates."""

    enabled: bool = flag(True, "models do part of the automatable work")
    learning: bool = flag(False, "models keep learning from human labels, so their share grows (a trend: "
                                 "off in the stationary baseline, which holds the share at its start level)")
    eval_task_types: list[str] = name_of(lambda: ["rlhf_preference", "safety_evaluation"], "task_types",
                                         "task types whose demand automation raises", many=True)
    eval_demand_boost: float = num(2.0, 0.0, 100.0, "x mean automation share",
                                   "evaluation demand x (1 + boost x mean automation share)", "assumption")


@dataclass
class PricingConfig:
    """How requesters set piece rates (labsim/model/rules/pricing.py; docs/model.md 7.2)."""

    enabled: bool = flag(True, "requesters learn the rejections and policy charges of their books every week "
                               "and price by them (off: their beliefs stay at the start's)")
    supply_elasticity: float = num(
        0.1, 0.01, 1.0, "", "requester-level elasticity of a batch's take-up to its piece rate: requesters post "
        "Robinson's markdown of a task's value, e / (1 + e) of it per unit of cost factor",
        "Dube, Jacobs, Naidu and Suri, Monopsony in Online Labor Markets, AER: Insights 2020: about 0.1 "
        "on Mechanical Turk, with little heterogeneity")
    belief_weeks: float = num(8.0, 1.0, 520.0, WEEKS, "weeks over which requesters average the rejections and "
                              "policy charges they see", "assumption")
    charges_by_book: bool = flag(True, "policies' charges (a floor's top-ups, paid search, a levy, support) are "
                                 "billed to the books whose work caused them: each region's charges per crowd paid "
                                 "hour, over the hours its workers worked on each book; requesters learn each book's "
                                 "charge per accepted task (off: one charge per task type, pooled over its books and "
                                 "regions)",
                                 source=("DESIGN: charges billed to the work that caused them; a platform bills "
                                         "top-ups to the requesters whose tasks the topped-up hours were spent on"))
    slack_response: bool = flag(True, "requesters value a book's work at the throughput the market gives them: where "
                                      "its type's crowd searches longer per paid hour than in the stored steady state "
                                      "its tasks are taken faster, the marginal task is worth less and rates fall; "
                                      "where tasks wait or expire they rise (off: Robinson's constant markdown)",
                                "textbook monopsony: with an upward supply kappa p^e and a downward demand of "
                                "elasticity eta, more supply lowers the wage, p ~ kappa^(-1/(eta+e)) (Manning, "
                                "Monopsony in Motion, 2003, ch. 2); take-up in proportion to searchers' hours per "
                                "task, a matching function of elasticity 0.5 (Petrongolo and Pissarides, JEL 2001)")


@dataclass
class RoutingConfig:
    """Requesters' choice of channel by cost per accepted task (labsim/model/rules/routing.py)."""

    enabled: bool = flag(True, "requesters share each type's work between the crowd, vendors, their own model and "
                               "LLM labels by each channel's cost per accepted task (off: the table's shares)")
    substitution_elasticity: float = num(
        2.0, 0.0, 20.0, "", "elasticity of substitution between the human channels, the crowd and vendors (CES), "
        "and between vendor regions: a channel 1 % dearer than at the start loses about this many % of its share",
        "assumption: within the 1.5-4 of Armington elasticities between sources of the same good (Feenstra et al., "
        "REStat 2018, 'In search of the Armington elasticity'); weakly identified by the targets")
    automation_elasticity: float = num(
        2.0, 0.0, 20.0, "", "how machines' work answers to people's cost: the elasticity of the odds that a "
        "machine (the requester's model or LLM labels) does a task it can do to the margin people's cost leaves over "
        "the machine's (the shape of the log-logistic spread of machines' error rates across a type's tasks; about "
        "the elasticity of substitution between machines and people)",
        "assumption: 2 puts the quartiles of machines' error rates across a type's tasks a factor 3 apart "
        "(zero-shot LLM accuracy spreads that much across text tasks: Gilardi, Alizadeh and Kubli, PNAS 2023; "
        "Ziems et al., Computational Linguistics 2024); prior 1-4 (conf/calibration/priors.yaml)")
    steering_elasticity: float = num(
        2.0, 0.0, 20.0, "", "how requesters steer crowd work away from the regions whose workers carry a "
        "policy's charges: each region is offered (cost per accepted task there / the cheapest region's)^-this of "
        "a book's batches, and the geofenced books' share of a type's batches moves with their cost against the "
        "rest's in the same way (0: no steering, the table's shares)",
        "assumption: the Armington elasticity between foreign sources (3-4; about 1 between home and abroad: "
        "Feenstra, Luck, Obstfeld and Russ, REStat 2018), lowered for the language and knowledge that tie some "
        "work to some regions; prior 0.5-4, weak (conf/calibration/priors.yaml)")
    llm_cost_usd: float = num(0.003, 0.0, 100.0, "USD per task", "price of an LLM label",
                              "Gilardi, Alizadeh and Kubli, PNAS 2023: under $0.003 per annotation")
    switch_weeks: float = num(4.0, 0.0, 520.0, WEEKS, "mean lag with which requesters move work between channels "
                              "(a 1/lag share of the gap a week)", "assumption: contracts and pipelines change over "
                              "weeks, like requesters' beliefs (pricing.belief_weeks)")
    hiring_lag_weeks: float = num(4.0, 0.0, 52.0, WEEKS, "mean lag with which vendors' headcount follows the work "
                                  "contracted to them (partial adjustment: a 1/lag share of the gap a week)",
                                  "assumption: BPO recruitment and onboarding take about a month")


@dataclass
class CrowdPlatformConfig:
    """The open crowd platform: piece rates, commission, unpaid search and rejections."""

    commission: float = share(0.20, "platform fee on small batches, on top of the reward",
                              "Amazon Mechanical Turk fee schedule since July 2015")
    commission_large_batch: float = share(0.40, "platform fee on large batches",
                                          "Amazon Mechanical Turk fee schedule since July 2015")
    large_batch_min_tasks: int = count(10, 1, 1_000_000_000, "tasks", "size from which a batch is large",
                                       "Amazon Mechanical Turk fee schedule since July 2015")
    search_min_per_hour: float = num(8.0, 0.0, 60.0, "minutes per hour online", "unpaid search when work is plentiful",
                                     "ILO WESO 2021: ~20 unpaid minutes per paid hour in all (calibrated)")
    give_up_search_h: float = num(0.5, 0.0, 24.0, "hours", "search before a worker who finds nothing logs off",
                                  "assumption")
    geofence_regions: list[str] = name_of(lambda: ["USA", "FRA"], "regions",
                                          "regions geofenced batches are open to", "assumption", many=True)
    qualification_min_approved: int = count(
        15000, 0, 1_000_000_000, "tasks", "approved tasks qualified batches ask for",
        "about 2.25 months of full-time low-paid work to unlock better tasks (arXiv 2105.12762, 2021)")
    qualification_min_approval: float = share(0.90, "approval rate qualified batches ask for",
                                               "requesters often ask 95 %; our rejections include rework")
    matching_rounds: int = count(3, 1, 100, "books", "books a rationed worker tries in a step", "assumption")


@dataclass
class VendorConfig:
    """The managed (BPO) channel: hourly wages per region, a vendor margin."""

    margin: float = num(5.25, 0.0, 100.0, "x wage", "what a vendor bills over the wage it pays (overhead and "
                        "profit), as a multiple of the wage",
                        "TIME (Perrigo, 2023): clients paid about $12.50/h for Nairobi labellers taking home "
                        "$1.32-2/h, a mark-up of 5.25-8.5x the wage; the low end (take-home $2/h)")
    profit_share: float = num(
        0.21, 0.0, 0.9, "share of the bill", "what a vendor keeps of its bill as operating profit (EBITDA; at "
        "most what the bill leaves above the wage); the bill less the wage and the profit pays overheads "
        "(supervision, quality assurance, facilities, recruitment), a cost rather than a surplus",
        "TaskUs 2024: adjusted EBITDA $209.9 M on $995 M of revenue (21.1 %); TELUS International 2023 21.5 %, "
        "Teleperformance 2023 21.3 % (annual results)")
    wage_premium: float = num(0.5, 0.0, 100.0, "x local wage", "what vendors pay over the local wage (the region's "
                              "median reservation wage, at least its minimum wage), as a share of it",
                              "TIME (2022-2023): Nairobi moderators and labellers took home $1.32-2/h, 1.5-2.2x Kenya's "
                              "median reservation wage ($0.90/h); the low end, as in the margin")
    shift_hours: float = num(8.0, 0.0, 24.0, "hours", "length of a shift", "assumption", lo_open=True)
    shift_days_per_week: int = count(5, 1, 7, "days", "shifts per week", "assumption")


@dataclass
class WorkersConfig:
    """Worker behaviour shared by all regions."""

    hours_per_week_median: float = num(14.0, 0.0, 168.0, "hours per week", "median weekly hours of a crowd worker",
                                       "ILO WESO 2021: microtask workers average 24 h/week", lo_open=True)
    hours_per_week_sigma: float = num(0.5, 0.0, 5.0, "log-sd", "spread of weekly hours", "assumption")
    reservation_wage_scale: float = num(
        1.0, 0.01, 100.0, "x", "multiplies every region's reservation wages (its median; the spread is kept): one "
        "knob for the crowd's outside options", "1 is the calibrated baseline; a knob for sensitivity and calibration")
    labour_supply_elasticity: float = num(
        0.43, 0.0, 5.0, "", "elasticity of a crowd worker's hours to its effective wage over its reservation wage "
        "(the intensive margin: whether to work at all is the reservation wage's job)",
        "assumption with a prior (conf/calibration/priors.yaml): hours elasticities run from about 0.3 (Keane, "
        "JEL 2011, the mean Hicksian elasticity of men's hours) to about 1.2 for flexible gig work (Angrist, "
        "Caldwell and Hall, AEJ: Applied 2021, Uber drivers' Frisch elasticity); Horton and Chilton's 0.43 "
        "is an elasticity of participation, not of hours")
    hours_factor_min: float = num(0.25, 0.0, 1.0, "x usual hours", "fewest hours against the usual ones",
                                  "assumption")
    hours_factor_max: float = num(2.0, 1.0, 10.0, "x usual hours", "most hours against the usual ones",
                                  "assumption")
    days_per_week: float = num(5.0, 0.0, 7.0, "days", "days a crowd worker works", "assumption", lo_open=True)
    skill_sd: float = share(0.15, "spread of newcomers' skills", "assumption")
    novice_slowdown: float = num(3.0, 1.0, 100.0, "x expert time", "how much slower novices are",
                                 "assumption; Kirillov et al. 2023 and Papadopoulos et al. 2017 show "
                                 "2-5x speed-ups from tooling")
    base_quit_hazard_per_week: float = share(
        0.0105, "weekly quit probability for reasons other than pay",
        "Difallah et al. (WSDM 2018): half-life 12-18 months, a weekly hazard near 0.011 in all")
    low_pay_quit_hazard_per_week: float = share(0.03, "weekly quit probability of a worker earning nothing",
                                                "assumption")
    wage_memory_weeks: float = num(4.0, 1.0, 520.0, WEEKS, "weeks over which workers judge their pay",
                                   "assumption")
    vendor_quit_hazard_per_week: float = share(0.004, "weekly quit probability of vendor staff", "assumption")
    learning_hours: float = num(600.0, 0.0, 1e6, "hours", "hours on a type that close 63 % of the skill gap",
                                "assumption", lo_open=True)
    max_skill_gain: float = share(0.5, "skill a worker can gain over its skill at joining", "assumption")
    word_of_mouth_weeks: float = num(8.0, 1.0, 520.0, WEEKS, "weeks over which a region's expected wage is averaged",
                                     "assumption")
    max_session_h: float = num(16.0, 0.0, 24.0, "hours", "longest daily crowd session", "assumption",
                               lo_open=True)
    session_start_sd_h: float = num(2.5, 0.0, 12.0, "hours", "spread of session starts around the region's hour",
                                    "assumption")
    initial_tenure_mean_months: float = num(
        21.6, 0.0, 600.0, "months", "mean tenure of workers present at a stylised start (start=stylised)",
        "a stock whose joining cohorts halve in 15 months (Difallah et al., WSDM 2018) has tenures with mean "
        "15 / ln 2", lo_open=True)
    initial_paid_share: float = share(0.75, "share of their online hours that those present at t = 0 were "
                                      "paid for, which sets the record of reviewed tasks their tenure earned "
                                      "(weekly hours x this share x their tasks per hour on their main type)",
                                      "the target of 20 unpaid minutes per paid hour: 60 / (60 + 20)")


@dataclass
class WellbeingConfig:
    """Stress from toxic exposure, recovery, burnout (labsim/model/rules/wellbeing.py)."""

    stress_per_toxic_hour: float = num(
        0.0018, 0.0, 10.0, "stress per hour", "stress an hour of exposure adds",
        "chosen so a full-time moderator of median sensitivity reaches high stress within months "
        "(144 Kenyan moderators assessed in the 2024 court case all had PTSD, 81 % severe)")
    recovery_per_week: float = num(0.10, 0.0, 10.0, "per week", "rate at which stress fades", "assumption",
                                   lo_open=True)
    sensitivity_sigma: float = num(0.4, 0.0, 5.0, "log-sd", "spread of sensitivity to toxic material", "assumption")
    burnout_threshold: float = num(1.0, 0.0, 100.0, "stress", "stress at which a worker burns out", "scale",
                                   lo_open=True)
    high_stress_threshold: float = num(0.6, 0.0, 100.0, "stress", "stress counted as high", "assumption",
                                       lo_open=True)
    reject_penalty_at_burnout: float = share(0.15, "extra rejection probability at burnout", "assumption")
    support_accumulation_factor: float = num(1.0, 0.0, 10.0, "x", "multiplier of stress build-up (1: no support)",
                                             "scale")
    support_recovery_factor: float = num(1.0, 0.0, 10.0, "x", "multiplier of recovery (1: no support)", "scale",
                                         lo_open=True)
    initial_stress_cap: float = share(0.95, "stress of those present at t = 0, at most, x the burnout threshold",
                                      "assumption: those above burnout would have left")


# --- policies (labsim/model/policies/, one module each) --------------------------------------

@dataclass
class MinWageFloorPolicy:
    """Effective hourly floor (unpaid time included): the higher of ``usd_h`` and
    ``local_multiple`` x the region's minimum wage. Paid by requesters."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week()
    usd_h: float = num(0.0, 0.0, 1000.0, USD_H, "global floor")
    local_multiple: float = num(1.0, 0.0, 100.0, "x local minimum wage", "local floor")
    channels: list[str] = name_of(lambda: ["crowd", "vendor"], "channels", "channels the floor covers", many=True)
    regions: list[str] = policy_regions()
    counted_search_min_per_paid_hour: float = num(
        ALL_SEARCH_MIN, 0.0, ALL_SEARCH_MIN, "minutes per paid hour", "the crowd platform counts a worker's unpaid search towards "
        "the floor up to this many minutes per paid hour (6000, the default and the maximum: all of it, as the rule "
        "is written, in a week without a paid task too)",
        "policy lever and a platform's possible response. A floor on every hour online invites search without "
        "regard to the rate; platforms limit what counts (California's Proposition 22, 2020: engaged time only; "
        "New York City's delivery-worker minimum pay, 2023: apps that pay for trip time only pay a higher rate); "
        "20 counts the search the market normally needs (ILO WESO 2021: about 20 unpaid minutes per paid hour). "
        "Off by default: with billing where charges arise, steering and closed sign-ups, unpaid search per paid "
        "hour does not rise under the local floor (docs/model.md 7.15)")
    close_signups_above_topup_share: float = num(
        0.1, 0.0, 1.0, "share of pay", "the crowd platform closes sign-ups in a region while the floor's top-ups "
        "there come to more than this share of its crowd workers' pay (1: never closes)",
        "assumption: the platform's response where a rule binds. Crowd platforms have closed sign-ups by country "
        "(Amazon Mechanical Turk stopped accepting most new non-US workers from 2012; Prolific puts new "
        "participants on a waiting list when its pool exceeds demand); New York City's delivery apps restricted log-ins after the 2023 "
        "minimum pay; 0.1: a region whose top-ups are a tenth of pay is one where the floor, not the market, "
        "sets what work pays")
    min_reward_hours_at_floor: float = num(
        0.0, 0.0, 10.0, "x", "the crowd platform's minimum reward per task: the lowest covered floor for this "
        "multiple of a task's mean duration (0: none; 1: a task done at the mean speed pays the floor)",
        "assumption: off by default, since a minimum per task binds every requester on the platform, covered "
        "regions or not, and raises rates everywhere (Prolific sets a minimum pay per estimated hour, GBP 6 in "
        "2024; Mechanical Turk's minimum reward is USD 0.01 an assignment). The default platform response is "
        "the cap on counted search and closed sign-ups")


@dataclass
class PaidSearchPolicy:
    """Crowd platforms pay ``share`` of the unpaid time at the worker's paid rate. Paid by requesters."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week()
    share: float = share(1.0, "share of unpaid time paid")
    regions: list[str] = policy_regions()


@dataclass
class PsychSupportPolicy:
    """Counselling: stress builds more slowly and fades faster; paid by requesters."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week()
    accumulation_factor: float = share(0.6, "multiplier of stress build-up", "assumption")
    recovery_factor: float = num(1.5, 0.0, 100.0, "x", "multiplier of recovery", "assumption", lo_open=True)
    cost_usd_per_hour: float = num(0.5, 0.0, 1000.0, "USD per hour of toxic work", "cost of support", "assumption")
    min_toxicity: float = num(0.5, 0.0, 100.0, "toxicity", "task types covered: toxicity at least this")
    regions: list[str] = policy_regions()


@dataclass
class ExposureCapPolicy:
    """At most ``max_hours_per_day`` on toxic task types per working day (enforced over the week)."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week()
    max_hours_per_day: float = num(4.0, 0.0, 24.0, "hours per day", "cap on toxic work", lo_open=True)
    min_toxicity: float = num(0.5, 0.0, 100.0, "toxicity", "task types capped: toxicity at least this")
    notice_weeks: float = num(8.0, 0.0, 520.0, WEEKS, "weeks before the start that vendors know of the cap and "
                              "staff up (and bill the extra heads)",
                              "assumption: rules are announced ahead; two months to recruit and train a team")
    regions: list[str] = policy_regions()


@dataclass
class SocialProtectionLevyPolicy:
    """A levy on all pay into a fund paying leave after burnout and benefits between jobs;
    the public purse covers any deficit."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week()
    share_of_pay: float = share(0.03, "levy on pay, charged to requesters")
    leave_weeks: float = num(8.0, 0.0, 520.0, WEEKS, "paid leave after a burnout")
    replacement_rate: float = share(0.6, "benefit as a share of recent weekly pay")
    between_jobs_weeks: float = num(4.0, 0.0, 520.0, WEEKS, "weeks of benefit after quitting")
    regions: list[str] = policy_regions()


@dataclass
class FairPlatformPolicy:
    """A platform with a low commission that pays rejected work wins ``market_share`` of the
    open crowd batches over ``ramp_weeks``."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week()
    commission: float = share(0.10, "the fair platform's fee")
    pays_rejections: bool = flag(True, "rejected work is paid")
    market_share: float = share(0.3, "share of open crowd batches it wins")
    ramp_weeks: float = num(26.0, 0.0, 520.0, WEEKS, "weeks to reach its market share")


@dataclass
class DueDiligencePolicy:
    """Due diligence in the supply chain. Unscoped (no ``jurisdictions``): ``coverage`` of crowd demand
    must use certified channels (the fair platform, else vendors). Scoped: the large requesters homed in
    ``jurisdictions`` may buy people's work only from suppliers that meet a wage standard, and pay for
    audits (docs/model.md 7.16)."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week()
    coverage: float = share(0.5, "share of crowd demand bound (the unscoped rule only)")
    jurisdictions: list[str] = name_of(
        lambda: [], "jurisdictions", "home jurisdictions whose large requesters the rule binds (empty: the "
        "unscoped rule, coverage of all crowd demand); all six: the rule adopted by every jurisdiction", many=True,
        source="policy lever. The EU's Corporate Sustainability Due Diligence Directive (EU) 2024/1760 as "
               "amended by the Omnibus I simplification (December 2025): EU companies above 5,000 employees "
               "and EUR 1.5 billion turnover")
    chain_depth: str = choice(
        "every_tier", ("first_tier", "every_tier"),
        "how deep the chain is covered: first_tier, the requester's direct suppliers only (a compliant vendor "
        "may pass the work on to the crowd platform); every_tier, every worker in the chain (no crowd work "
        "unless the platform is certified)",
        "policy lever. every_tier by default: the directive as amended asks for risk-based due diligence beyond "
        "direct business partners, and the risks of data work on crowd platforms are documented (ILO 2021); "
        "first_tier is Germany's Supply Chain Act (2023), which reaches indirect suppliers only on substantiated "
        "knowledge")
    wage_standard_local_multiple: float = num(
        1.0, 0.0, 100.0, "x local minimum wage", "the wage standard a compliant supplier pays every hour "
        "(vendors serving a covered requester pay it to all their staff: one wage schedule per vendor)",
        "policy lever: 1, the legal minimum, the least an audit checks; living-wage clauses come with the "
        "employment issue")
    pass_through_margin: float = share(
        0.15, "what a compliant first-tier vendor adds to the crowd work it passes on, as a share of its cost "
        "(first_tier only)", "assumption: a vendor's margin on managed crowd work, vendor.margin's order")
    audit_cost_usd_per_supplier_year: float = num(
        10000.0, 0.0, 1e7, "USD per supplier and year", "what auditing one supplier costs a covered requester a year",
        "assumption: third-party social audits cost USD 1,500-4,000 each (amfori BSCI fee schedules) and "
        "certification such as SA8000 USD 10,000-20,000 a year per site; one audited relationship a year")
    audited_suppliers_per_task_million: float = num(
        2.0, 0.0, 1e6, "suppliers per million tasks a year", "supplier relationships a covered requester audits "
        "per million tasks it buys from people a year",
        "assumption: a large buyer splits its labelling between two or three vendors and a platform; per "
        "million tasks so that the cost per task holds at every scale")


@dataclass
class TrainingCertificationPolicy:
    """A training and certification programme paid by the public purse: enrolled crowd workers
    spend ``hours`` of online time training and gain ``skill_gain`` in the target type; the
    certificate is a credential for the type's batches reserved for qualified workers."""

    enabled: bool = flag(False, "the policy is on")
    start_week: float = start_week(0.0)
    enrol_prob_per_week: float = share(0.0025, "weekly enrolment probability of a crowd worker",
                                       source=("assumption: a programme sized to the work it certifies for "
                                               "(about 13 % of crowd workers a year for safety evaluation)"))
    hours: float = num(40.0, 0.0, 10000.0, "hours", "length of the course", lo_open=True)
    skill_gain: float = share(0.3, "skill gained in the target type")
    credential: bool = flag(True, "certified workers may take the target type's batches reserved for qualified "
                                  "workers (the certificate stands in for the track record they ask for; off: a "
                                  "course with no standing with requesters)")
    target_task_type: str = name_of("safety_evaluation", "task_types", "task type the training is for")
    cost_usd_per_hour: float = num(0.0, 0.0, 1000.0, "USD per hour", "course cost, public")
    stipend_usd_per_hour: float = num(0.0, 0.0, 1000.0, "USD per hour", "stipend to trainees, public")
    regions: list[str] = policy_regions()


@dataclass
class PolicyConfig:
    """The policy library; each policy is off by default."""

    min_wage_floor: MinWageFloorPolicy = group(MinWageFloorPolicy)
    paid_search_and_rejections: PaidSearchPolicy = group(PaidSearchPolicy)
    psych_support: PsychSupportPolicy = group(PsychSupportPolicy)
    exposure_cap: ExposureCapPolicy = group(ExposureCapPolicy)
    social_protection_levy: SocialProtectionLevyPolicy = group(SocialProtectionLevyPolicy)
    fair_platform: FairPlatformPolicy = group(FairPlatformPolicy)
    due_diligence: DueDiligencePolicy = group(DueDiligencePolicy)
    training_certification: TrainingCertificationPolicy = group(TrainingCertificationPolicy)


@dataclass
class MMCConfig:
    """Queueing-theory mode: the market reduced to an M/M/c queue."""

    servers: int = count(5, 1, 100_000, "workers", "always-online workers")
    arrival_rate_per_h: float = num(4.0, 0.0, 1e6, "tasks per hour", "Poisson arrival rate", lo_open=True)
    service_rate_per_h: float = num(1.0, 0.0, 1e6, "tasks per hour", "service rate of one worker", lo_open=True)
    region: str = name_of("USA", "regions", "the queue's region")
    task_type: str = name_of("text_classification", "task_types", "the queue's task type")


@dataclass
class WindowsConfig:
    """The named windows of weeks over which kpis.json reports (labsim/model/windows.py)."""

    settling_weeks: float = num(13.0, 0.0, MAX_WEEKS, WEEKS, "weeks after a policy or a region's entry "
                                "starts before the 'after' window opens", "assumption: a quarter")
    yearly: bool = flag(True, "one window per full year of the run (year1, year2, ...)")
    reference_week: float = num(52.0, 0.0, MAX_WEEKS, WEEKS, "week at which 'before' and 'after' split in a run "
                                "where no policy or region entry starts (a baseline then reports the same weeks as "
                                "the policies it is compared with)", "assumption: the policies' default start week")


@dataclass
class OutputConfig:
    """What a run writes and shows."""

    report: bool = flag(True, "write report.html")
    progress: bool = flag(True, "show a progress bar on a terminal")
    overwrite: bool = flag(False, "replace a folder that already holds a finished run (off: such a folder is "
                                  "refused); the folder is replaced whole, never mixed")


@dataclass
class LabsimConfig:
    """A whole run. ``scenario=NAME`` on the command line picks a preset."""

    seed: int = count(0, 0, None, "", "seed of every random stream",
                      unbounded="any non-negative whole number seeds numpy's SeedSequence")
    posterior_draw: int = count(-1, -1, None, "", "draw of the shipped posterior (conf/posterior/, "
                                "labsim/posterior.py) whose values replace the calibrated settings; "
                                "-1: the baseline's own values", unbounded="up to the number of draws shipped")
    mode: str = choice("market", MODES, "the market, or its reduction to an M/M/c queue")
    horizon_weeks: float = num(156.0, 0.0, MAX_WEEKS, WEEKS, "length of the run (3 years)", lo_open=True)
    warmup_weeks: float = num(13.0, 0.0, MAX_WEEKS, WEEKS, "weeks left out of the KPIs")
    scale: float = num(1.0, 0.0, 100.0, "x", "multiplies populations and demand together (1: ~10,000 workers a year)",
                       lo_open=True)
    step_h: int = choice(2, STEPS_H, "hours advanced per cohort step (divides a day)")
    start: str = choice("steady", ("steady", "stylised"), "the market at t = 0: drawn from the baseline's stored "
                        "steady state (conf/steady_state/, labsim/model/steady.py), or from stylised draws "
                        "(exponential tenures, skills warmed on a guess of their hours, beliefs at the start rates)")
    regions: dict[str, RegionConfig] = table(default_regions, "the regions table (conf/regions/default.yaml)")
    task_types: dict[str, TaskTypeConfig] = table(default_task_types,
                                                   "the task types (conf/task_types/default.yaml)")
    requesters: dict[str, RequesterConfig] = table(default_requesters,
                                                   "the classes of requesters (conf/requesters/default.yaml)")
    demand: DemandConfig = group(DemandConfig)
    automation: AutomationConfig = group(AutomationConfig)
    pricing: PricingConfig = group(PricingConfig)
    routing: RoutingConfig = group(RoutingConfig)
    crowd: CrowdPlatformConfig = group(CrowdPlatformConfig)
    vendor: VendorConfig = group(VendorConfig)
    workers: WorkersConfig = group(WorkersConfig)
    wellbeing: WellbeingConfig = group(WellbeingConfig)
    policy: PolicyConfig = group(PolicyConfig)
    mmc: MMCConfig = group(MMCConfig)
    windows: WindowsConfig = group(WindowsConfig)
    output: OutputConfig = group(OutputConfig)

    def validate(self) -> "LabsimConfig":
        validate(self)
        return self


# --- reading the declarations -------------------------------------------------------------------

def parameters(obj: Any = None, prefix: str = "") -> list[tuple[str, Any, dict[str, Any]]]:
    """Every leaf setting of ``obj`` (a default LabsimConfig if None): (dotted key, value, metadata).
    Table rows are listed under their keys (``regions.KEN.min_wage_usd_h``)."""
    obj = LabsimConfig() if obj is None else obj
    out: list[tuple[str, Any, dict[str, Any]]] = []
    for f in fields(obj):
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        kind = f.metadata.get("kind")
        if kind == "group":
            out.extend(parameters(value, f"{key}."))
        elif kind == "table":
            for row_key, row in value.items():
                out.extend(parameters(row, f"{key}.{row_key}."))
        else:
            out.append((key, value, dict(f.metadata)))
    return out


def _g(x: float) -> str:
    return f"{x:g}"


def describe(meta: dict[str, Any]) -> str:
    """What a field accepts, in words (the end of its error line)."""
    kind = meta.get("kind")
    if kind == "share":
        return "a probability or share between 0 and 1"
    if kind == "bool":
        return "true or false"
    if kind == "choice":
        return f"one of {', '.join(map(str, meta['choices']))}"
    what = "a whole number" if kind == "int" else "a number"
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None and not meta["lo_open"] and not meta["hi_open"]:
        return f"{what} between {_g(lo)} and {_g(hi)}"
    parts = []
    if lo is not None:
        parts.append(f"greater than {_g(lo)}" if meta["lo_open"] else f">= {_g(lo)}")
    if hi is not None:
        parts.append(f"less than {_g(hi)}" if meta["hi_open"] else f"at most {_g(hi)}")
    return f"{what} " + " and ".join(parts)


def _check_number(key: str, value: Any, meta: dict[str, Any]) -> None:
    integer = meta["kind"] == "int"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, value, describe(meta))
    if integer and int(value) != value:
        raise ConfigError(key, value, describe(meta))
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and (value < lo or (meta["lo_open"] and value == lo)):
        raise ConfigError(key, value, describe(meta))
    if hi is not None and (value > hi or (meta["hi_open"] and value == hi)):
        raise ConfigError(key, value, describe(meta))


def _table_keys(cfg: LabsimConfig, table_name: str) -> tuple[str, ...]:
    fixed = {"channels": CHANNEL_NAMES, "jurisdictions": tuple(JURISDICTIONS)}
    return fixed[table_name] if table_name in fixed else tuple(getattr(cfg, table_name))


def check_field(cfg: LabsimConfig, key: str, value: Any, meta: dict[str, Any]) -> None:
    """Raise ConfigError unless ``value`` is what the field ``key`` (declared by ``meta``) accepts."""
    kind = meta.get("kind")
    if kind in ("number", "int", "share"):
        _check_number(key, value, meta)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(key, value, "true or false")
    elif kind == "choice":
        if value not in meta["choices"]:
            raise ConfigError(key, value, describe(meta))
    elif kind in ("name", "names"):
        allowed = _table_keys(cfg, meta["table"])
        for v in (value if kind == "names" else [value]):
            if v not in allowed:
                raise ConfigError(key, v, f"one of {', '.join(allowed)}")
    elif kind == "shares_by_type":
        if not isinstance(value, dict):
            raise ConfigError(key, value, "a mapping of task type to share")
        for t, x in value.items():
            if t not in cfg.task_types:
                raise ConfigError(f"{key}.{t}", x, f"a task type: one of {', '.join(cfg.task_types)}")
            _check_number(f"{key}.{t}", x, {"kind": "share", "lo": 0.0, "hi": 1.0, "lo_open": False,
                                            "hi_open": False})
    elif kind == "shares_by_jurisdiction":
        if not isinstance(value, dict):
            raise ConfigError(key, value, "a mapping of home jurisdiction to share")
        for j, x in value.items():
            if j not in JURISDICTIONS:
                raise ConfigError(f"{key}.{j}", x, f"a jurisdiction: one of {', '.join(JURISDICTIONS)}")
            _check_number(f"{key}.{j}", x, {"kind": "share", "lo": 0.0, "hi": 1.0, "lo_open": False,
                                            "hi_open": False})
    elif kind == "text":
        if not isinstance(value, str):
            raise ConfigError(key, value, "text")


# --- validation -------------------------------------------------------------------------------

def enabled_policies(cfg: LabsimConfig) -> list[tuple[str, Any]]:
    """(name, settings) of each policy switched on."""
    return [(f.name, p) for f in fields(cfg.policy) if (p := getattr(cfg.policy, f.name)).enabled]


def late_starts(cfg: LabsimConfig) -> list[str]:
    """The warnings of a valid configuration, one line each: an enabled policy or a region's entry
    that starts after the run ends, a reference week set beyond it (short runs of the shipped
    scenarios stay possible, but the run cannot show them), an M/M/c queue that never settles
    (utilisation at least 1: a run of it is possible, but its waits are not a steady state's)."""
    out = [f"policy.{name} starts in week {p.start_week:g}, after the run ends (horizon_weeks="
           f"{cfg.horizon_weeks:g}): the run cannot show it"
           for name, p in enabled_policies(cfg) if p.start_week >= cfg.horizon_weeks]
    out += [f"regions.{code}.entry_week={r.entry_week:g} is after the run ends (horizon_weeks="
            f"{cfg.horizon_weeks:g}): its workers never join" for code, r in cfg.regions.items()
            if r.entry_week >= cfg.horizon_weeks]
    split = cfg.windows.reference_week
    if split >= cfg.horizon_weeks and split != WindowsConfig().reference_week and cfg.mode == "market":
        out.append(f"windows.reference_week={split:g} is after the run ends (horizon_weeks={cfg.horizon_weeks:g}): "
                   "a run without a policy reports no 'before' and 'after' windows")
    q = cfg.mmc
    load = q.arrival_rate_per_h / (q.servers * q.service_rate_per_h)
    if cfg.mode == "mmc" and load >= 1:
        out.append(f"mmc: utilisation {load:.3g} (arrival_rate_per_h / (servers x service_rate_per_h)) is at least 1: "
                   "the queue never settles, and its waits grow with the run's length rather than measure a "
                   "steady state")
    return out


# The calibrated setting (labsim-calibration's bands are met there): scale at least the smallest at
# which per-worker figures agree with scale 1 (tests/validation/test_scale.py, docs/model.md), the
# stored steady start, and a KPI window of at least a quarter.
CALIBRATED_MIN_SCALE = 0.1
CALIBRATED_MIN_KPI_WEEKS = 13.0


def outside_calibration(cfg: LabsimConfig) -> list[str]:
    """One line per way a market run leaves the calibrated setting, and what that changes."""
    if cfg.mode != "market":
        return []
    out = []
    if cfg.scale < CALIBRATED_MIN_SCALE:
        out.append(f"scale={cfg.scale:g} is below {CALIBRATED_MIN_SCALE:g}, the smallest scale at which per-worker "
                   "figures agree with scale 1: wages and shares are noisier, and not checked against the "
                   "published figures")
    if cfg.start != "steady":
        out.append(f"start={cfg.start}: the market starts from stylised draws, not the calibrated steady "
                   "state, and drifts before it settles")
    weeks = cfg.horizon_weeks - cfg.warmup_weeks
    if weeks < CALIBRATED_MIN_KPI_WEEKS:
        out.append(f"the KPIs cover {weeks:g} weeks (horizon_weeks minus warmup_weeks), less than a quarter: "
                   "turnover, tenure and burnout rates rest on few exits")
    return out


def settings_key(cfg: LabsimConfig) -> str:
    """A digest of what a run of ``cfg`` computes: every setting but ``output`` (what it writes and
    shows). Two configurations with the same key give the same results, byte for byte: a sweep's job
    or a design's run whose folder holds a finished run with this key is already done."""
    import dataclasses
    import hashlib
    import json

    values = dataclasses.asdict(cfg)
    values.pop("output", None)
    text = json.dumps(values, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def validate(cfg: LabsimConfig) -> None:
    """Raise ConfigError on the first value a run cannot use: each field against its declaration,
    then the cross-field rules (``RULES``)."""
    for key, value, meta in parameters(cfg):
        if meta.get("kind") not in ("name", "names"):  # names are checked against the tables by _names
            check_field(cfg, key, value, meta)
            if _negative_zero(value):  # -0.0 is 0 (numpy's samplers would read a sigma of -0.0 as below 0)
                set_setting(cfg, key, 0.0)
            elif isinstance(value, dict):
                value.update({k: 0.0 for k, x in value.items() if _negative_zero(x)})
    check_rules(cfg)


def _negative_zero(value: Any) -> bool:
    return isinstance(value, float) and value == 0.0 and math.copysign(1.0, value) < 0


def check_rules(cfg: LabsimConfig, rules: Any = None) -> None:
    """The cross-field rules (all of ``RULES``, or the ones given), in order."""
    for _, rule in (RULES if rules is None else rules):
        rule(cfg)


def _warmup_before_horizon(cfg: LabsimConfig) -> None:
    if cfg.warmup_weeks >= cfg.horizon_weeks:
        raise ConfigError("warmup_weeks", cfg.warmup_weeks,
                          f"fewer weeks than horizon_weeks ({cfg.horizon_weeks:g})")


def _tables(cfg: LabsimConfig) -> None:
    if not cfg.regions:
        raise ConfigError("regions", {}, "at least one region")
    if not cfg.task_types:
        raise ConfigError("task_types", {}, "at least one task type")
    for code in cfg.regions:
        if len(code) != 3 or not code.isalpha() or not code.isupper():
            raise ConfigError(f"regions.{code}", code, "an ISO-3 country code such as KEN")
    if not cfg.requesters:
        raise ConfigError("requesters", {}, "at least one class of requesters")


def _type_shares(cfg: LabsimConfig) -> None:
    for code, r in cfg.requesters.items():
        total = sum(r.home_shares.values())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"requesters.{code}.home_shares", round(total, 6),
                              "shares of the class's batches by home jurisdiction that sum to 1")
    for name in cfg.task_types:
        total = sum(r.type_shares.get(name, 0.0) for r in cfg.requesters.values())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"requesters.*.type_shares.{name}", round(total, 6),
                              "shares of the type's batches that sum to 1 over the classes")


def _task_type_rows(cfg: LabsimConfig) -> None:
    for name, t in cfg.task_types.items():
        if t.reject_rate_expert > t.reject_rate_novice:
            raise ConfigError(f"task_types.{name}.reject_rate_expert", t.reject_rate_expert,
                              f"at most reject_rate_novice ({t.reject_rate_novice:g})")
        if t.automation_ceiling > 0 and not t.automatable:
            raise ConfigError(f"task_types.{name}.automation_ceiling", t.automation_ceiling,
                              "0 for a task type that is not automatable")
        if t.llm_share > 0:
            # the model's share at the start (its learning curve's) and LLM labels' must leave people some
            x0 = (t.labels_before_start / t.automation_half_labels) ** t.automation_steepness
            room = t.automation_ceiling - t.automation_ceiling * x0 / (1 + x0)
            if t.llm_share >= room:
                raise ConfigError(f"task_types.{name}.llm_share", t.llm_share,
                                  f"less than automation_ceiling ({t.automation_ceiling:g}; 0 where not automatable) "
                                  f"less the model's share at the start ({t.automation_ceiling - room:.3g})")


def _names(cfg: LabsimConfig) -> None:
    """Settings naming a region or a task type name one of the run's (a scenario may change the tables)."""
    for key, value, meta in parameters(cfg):
        if meta.get("kind") in ("name", "names"):
            check_field(cfg, key, value, meta)


def _thresholds(cfg: LabsimConfig) -> None:
    _ordered(cfg, "wellbeing.high_stress_threshold", "wellbeing.burnout_threshold")


def _office_hours(cfg: LabsimConfig) -> None:
    _ordered(cfg, "demand.office_start_local_h", "demand.office_end_local_h", strict=True)


_NAME_KEYS = ("automation.eval_task_types", "crowd.geofence_regions", "mmc.region", "mmc.task_type",
              "policy.*.regions", "policy.*.target_task_type")

# Each cross-field rule with the settings it reads (glob patterns over dotted keys; a table's
# name stands for all its rows). A sweep's pre-check (labsim.hydra_app) tries every combination
# of the swept values that meet in one rule, and only those.
def _some_workers(cfg: LabsimConfig) -> None:
    """A market run needs at least one worker at its start: each region's workers are its headcounts
    at scale 1 times ``scale``, rounded."""
    if cfg.mode != "market":
        return
    largest = max((max(r.initial_crowd_workers, r.vendor_workers) for r in cfg.regions.values()), default=0)
    if largest and largest * cfg.scale < 0.5:
        raise ConfigError("scale", cfg.scale, f"large enough for at least one worker (the largest headcount, "
                          f"{largest:,} at scale 1, times scale rounds to 0): at least {0.5 / largest:.2g}")


RULES: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("warmup_weeks", "horizon_weeks"), _warmup_before_horizon),
    (("regions", "task_types", "requesters"), _tables),
    (("task_types", "requesters"), _type_shares),
    (("task_types",), _task_type_rows),
    (("regions", "task_types", *_NAME_KEYS), _names),
    (("wellbeing.high_stress_threshold", "wellbeing.burnout_threshold"), _thresholds),
    (("demand.office_start_local_h", "demand.office_end_local_h"), _office_hours),
    (("scale", "regions"), _some_workers),
)


def set_setting(cfg: Any, key: str, value: Any) -> Any:
    """Set the dotted ``key`` of ``cfg`` (dataclasses and table dicts); return the old value."""
    *path, last = key.split(".")
    obj = cfg
    for part in path:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    if isinstance(obj, dict):
        old = obj.get(last)
        obj[last] = value
    else:
        old = getattr(obj, last)
        setattr(obj, last, value)
    return old


def _get(cfg: Any, key: str) -> Any:
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _ordered(cfg: LabsimConfig, low_key: str, high_key: str, strict: bool = False) -> None:
    """``low_key`` must not exceed (``strict``: must stay below) ``high_key``."""
    low, high = _get(cfg, low_key), _get(cfg, high_key)
    if low > high or (strict and low == high):
        raise ConfigError(low_key, low, f"{'less than' if strict else 'at most'} {high_key} ({high:g})")


def register_configs() -> None:
    """Register the schema with Hydra (imported lazily: the kernel never needs Hydra)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="labsim_schema", node=LabsimConfig)
