"""The catalogue of indicators: every KPI a page, a table or a summary shows, defined once.

Each indicator of ``kpis.json`` has here its label (with its unit), how its values are written
(``kind``, ``labsim.report.theme.fmt``), its unit, which way is better for the workers it
describes, whether it is a rate (the same at any ``scale``) or a count (that grows with it), the
smallest change that matters to a user of the tool (``delta``, in the indicator's own units: 0.01
of a share is one percentage point), and the views that show it: the sweep's table of differences
(``headline``), the comparison page's charts (``sweep``) and sentences (``answer``), the end of a
run (``summary``), the sensitivity analysis's default (``sensitivity``), the classroom's table
(``classroom``), the run report's cards (``cards``) and table by region and channel
(``by_region``), and the incidence table: each channel in each region (``incidence``) and who pays
overall (``payers``). ``cells`` lists what kpis.json reports for each channel in each region
(``by_cell``), ``wage_parts`` the three parts whose product the hours-weighted wage is. A view lists its indicators in the catalogue's order.

``verdict`` says what a paired difference shows, the same way everywhere (``docs/guide/kpis.md``):
"raises" or "lowers" when its 95 % interval excludes zero; "no clear change" when the interval lies
within the smallest change that matters (plus or minus ``delta``); "too few runs to tell" otherwise
(an interval wider than that and holding zero, or a single pair of runs, which has no interval).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The version of the outputs' schema: kpis.json (meta.schema), runs.parquet and comparison.csv (a
# schema_version column). 1: before it was written; 2: verdicts, the run's scale, counts scaled to
# the real-world market on pages and in comparison.csv; 3: the incidence table (kpis.json's by_cell,
# runs.parquet's crowd:KEN.<kpi> columns, comparison.csv's cell scopes and exact splits); 4: requesters by
# home jurisdiction (requesters.parquet, kpis.json's by_group and by_home, comparison.csv's home: and rule:
# scopes and the covered work's split). CHANGELOG.md says what each version changed.
SCHEMA_VERSION = 4

RAISES, LOWERS, NO_CLEAR_CHANGE, TOO_FEW = "raises", "lowers", "no clear change", "too few runs to tell"
VERDICTS = (RAISES, LOWERS, NO_CLEAR_CHANGE, TOO_FEW)
VIEWS = ("headline", "sweep", "answer", "summary", "sensitivity", "classroom", "cards", "by_region", "incidence",
         "payers", "cells", "wage_parts", "requesters")


@dataclass(frozen=True)
class Indicator:
    """One indicator of ``kpis.json`` and how it is shown.

    ``label`` names it (with its unit), ``kind`` says how to write its values, ``meaning`` says in
    plain words what a move of it means for the people concerned, ``short`` heads a column of the
    table by region, ``noun`` names it in a sentence, ``unit`` follows an amount in a sentence
    ("an hour"), ``measure`` follows a number or a count ("hours a week"). ``better``: "higher",
    "lower" or "" (a description, not a goal). ``scales``: "rate" or "count". ``delta``: the
    smallest change that matters (None: no verdict of "no clear change" for it). ``views``: where
    it is shown (VIEWS). ``scopes``: where ``kpis.json`` reports it (``overall``, by ``region``,
    by ``channel``; the queue's only in the M/M/c mode, ``queue``; by requesters' ``home``)."""

    label: str
    kind: str = "number"
    meaning: str = ""
    short: str = ""
    noun: str = ""
    unit: str = ""
    better: str = ""
    scales: str = "rate"
    delta: float | None = None
    views: frozenset[str] = frozenset()
    measure: str = ""  # the unit written after a number or a count ("exits per 1,000 moderator-years")
    scopes: frozenset[str] = frozenset(("overall", "region", "channel"))  # where kpis.json reports it


def _views(*names: str) -> frozenset[str]:
    unknown = set(names) - set(VIEWS)
    if unknown:
        raise ValueError(f"unknown views {sorted(unknown)}: one of {', '.join(VIEWS)}")
    return frozenset(names)


_OVERALL = frozenset(("overall",))
_QUEUE = frozenset(("queue",))
_HOME = frozenset(("home",))  # by requesters' home jurisdiction (kpis.json's by_home, scope home:EU)

# The smallest changes that matter (``delta``) are assumptions, stated in docs/guide/kpis.md: about
# 1 % of the baseline's level for money (5 US cents an hour on a wage near 3 USD/h, half a US cent
# on a task near 0.25 USD), one percentage point for the shares people are counted in, half a
# point for the shares of money and work, one exit per 1,000 moderator-years.
CATALOGUE: dict[str, Indicator] = {
    "workers_counted": Indicator("Workers counted", "count", short="workers", scales="count",
        views=_views("cells", "by_region", "incidence"), measure="workers"),
    "online_hours": Indicator("Hours online, paid and unpaid (over the weeks reported)", "count", short="hours online",
        scales="count", views=_views("cells", "incidence"), measure="hours"),
    "effective_wage_usd_h": Indicator(
        "Effective hourly wage, hours-weighted (USD/h)", "usd",
        "Right of zero: an hour online pays more, counting unpaid search and rejected work: earnings "
        "over hours online, which is pay for tasks per paid hour x paid share of the hours x top-ups.",
        "effective wage (per hour online)", "the effective wage per hour online", " an hour", better="higher",
        delta=0.05, views=_views("cells", "incidence")),
    "task_pay_per_paid_hour_usd": Indicator("Pay for tasks per paid hour (USD/h)", "usd", short="pay per paid hour",
                                            better="higher", delta=0.05, views=_views("cells", "wage_parts")),
    "paid_share_of_online_hours": Indicator("Paid share of hours online", "share", short="paid share of hours",
                                            better="higher", delta=0.01, views=_views("cells", "wage_parts")),
    "topup_factor": Indicator("Top-up factor (earnings / pay for tasks)", "number", short="top-up factor",
                              delta=0.01, views=_views("cells", "wage_parts")),
    "moderator_years": Indicator("Moderator-years (over the weeks reported)", "count", scales="count",
                                 measure="moderator-years", views=_views("cells")),
    "effective_wage_mean_usd_h": Indicator(
        "Effective hourly wage, mean (USD/h)", "usd",
        "Right of zero: workers earn more per hour online, counting the unpaid search and "
        "rejected work that piece rates leave out.", "effective wage (mean)",
        "workers' effective hourly wage", " an hour", better="higher", delta=0.05,
        views=_views("cards", "by_region", "headline", "sweep", "answer", "summary", "sensitivity", "classroom")),
    "effective_wage_median_usd_h": Indicator("Effective hourly wage, median (USD/h)", "usd",
                                             short="effective wage (median)", better="higher", delta=0.05,
                                                 views=_views("cards", "by_region")),
    "paid_wage_mean_usd_h": Indicator("Wage per paid hour, mean (USD/h)", "usd", short="paid-hour wage",
                                      better="higher", delta=0.05, views=_views("cards", "by_region")),
    "unpaid_min_per_paid_hour": Indicator("Unpaid minutes per paid hour", "number", better="lower", delta=0.5,
        views=_views("cells", "cards"), measure="minutes"),
    "share_below_local_min_wage": Indicator(
        "Share of workers below their local minimum wage", "share",
        "Left of zero: fewer workers earn less than their own country's legal minimum per "
        "hour (the axis is in percentage points).", "below local min. wage",
        "the share of workers paid below their local minimum wage", better="lower", delta=0.01,
        views=_views("cards", "by_region", "headline", "sweep", "answer", "summary", "sensitivity", "classroom")),
    "hours_per_week_mean": Indicator("Hours online per week, mean", "number", short="hours / week", delta=0.5,
        views=_views("cards", "by_region"), measure="hours a week"),
    "annual_turnover_rate": Indicator(
        "Annual turnover (% of workers leaving in a year)", "share",
        "Left of zero: workers stay longer, which keeps their skills and reputation in the market.",
        "annual turnover", "annual turnover (the share of workers leaving in a year)", better="lower", delta=0.02,
        views=_views("cards", "by_region", "headline", "sweep", "answer", "sensitivity", "classroom")),
    "worker_half_life_months": Indicator("Worker half-life (months)", "number", short="half-life (months)",
                                         better="higher", delta=0.5, views=_views("cards", "by_region"),
                                         measure="months"),
    "moderator_high_stress_share": Indicator(
        "Moderators with high stress", "share",
        "Left of zero: fewer content moderators carry a high level of stress from the material "
        "they review.", noun="the share of content moderators under high stress", better="lower", delta=0.01,
        views=_views("cards", "headline", "answer", "summary", "classroom")),
    "burnout_exits_per_1000_moderator_years": Indicator(
        "Burnout exits per 1,000 moderator-years", "number",
        "Left of zero: fewer content moderators leave because the material they review has "
        "worn them out.", noun="burnout exits per 1,000 moderator-years", better="lower", delta=1.0,
        views=_views("cells", "cards", "headline", "sweep", "answer"), measure="exits per 1,000 moderator-years"),
    "exits_burnout": Indicator(
        "Burnout exits (workers over the weeks reported)", "count",
        "The same burnout exits as a head count, which also moves with the size of the workforce.",
        better="lower", scales="count", views=_views("cells", "headline", "classroom"), measure="workers"),
    "automation_share": Indicator(
        "Share of tasks automated", "share",
        "Right of zero: models take over more of the work (the axis is in percentage points).",
        noun="the share of tasks done by models", delta=0.005,
        views=_views("cards", "headline", "answer", "classroom"), scopes=_OVERALL),
    "human_work_share": Indicator(
        "Share of people's tasks done", "share",
        "Right of zero: a region's (or channel's) workers do a larger share of the tasks people do. "
        "Where one region regulates and the others do not, this shows where the work goes "
        "(all regions together: always 100 %).", "share of tasks done", delta=0.01,
            views=_views("cells", "by_region", "headline", "incidence")),
    "worker_share_of_spend": Indicator(
        "Workers' share of requester spend on human work", "share",
        "Right of zero: more of every dollar requesters spend on human work reaches workers "
        "rather than platform fees and vendor margins.", noun="workers' share of requester spend",
        better="higher", delta=0.005,
        views=_views("cards", "headline", "sweep", "answer", "sensitivity", "classroom")),
    "requester_cost_per_task_usd": Indicator(
        "Requester cost per task (USD)", "usd",
        "Right of zero: the policy makes each finished task dearer for the AI companies "
        "buying the work; this is who pays.", noun="requesters' cost per task", unit=" a task", delta=0.005,
        views=_views("headline", "sweep", "answer", "summary", "classroom"), scopes=_OVERALL),
    "people_cost_per_task_usd": Indicator(
        "Requesters' cost per task bought from people (USD)", "usd",
        "Right of zero: each task these requesters buy from people costs them more (rates, fees and charges on "
        "the crowd, vendors' quotes, audits under a due-diligence rule).", short="cost per task",
        noun="their cost per task bought from people", unit=" a task", delta=0.005, views=_views("requesters"),
        scopes=_HOME),
    "human_tasks_bought": Indicator(
        "Tasks bought from people", "number",
        "Right of zero: these requesters buy more work from people (the crowd and vendors together).",
        short="tasks from people", noun="the tasks they buy from people", scales="count", views=_views("requesters"),
        measure="tasks", scopes=_HOME),
    "topup_usd": Indicator("Policy top-ups paid to workers (USD over the weeks reported)", "usd", scales="count",
        short="top-ups", views=_views("cells", "classroom", "incidence", "payers")),
    "night_hours_share": Indicator("Share of working hours at night", "share", short="night share", delta=0.01,
        views=_views("cards", "by_region")),
    "platform_commission_share": Indicator("Platform fees / crowd spend", "share", delta=0.005,
        views=_views("cards")),
    "effective_wage_gini": Indicator("Gini of effective wages", "number", better="lower", delta=0.01,
        views=_views("cards")),
    "worker_pay_usd": Indicator("Pay to workers (USD over the weeks reported)", "usd", short="pay (USD)",
                                scales="count", views=_views("cells", "by_region", "incidence", "payers")),
    "requester_total_spend_usd": Indicator(
        "Requesters' spend, people and machines (USD over the weeks reported)", "usd", short="requesters pay",
        scales="count", views=_views("payers"), scopes=_OVERALL),
    "platform_fees_usd": Indicator("Platform fees (USD over the weeks reported)", "usd", short="platform fees",
                                   scales="count", views=_views("payers")),
    "vendor_margin_usd": Indicator("Vendors' margin (USD over the weeks reported)", "usd", short="vendors' margin",
                                   scales="count", views=_views("payers")),
    "public_spend_usd": Indicator("Public money spent (USD over the weeks reported)", "usd", short="public purse",
                                  better="lower", scales="count", views=_views("payers")),
    "mean_wait_h": Indicator("Mean wait of a task before a worker takes it (h)", "number", delta=0.1,
                             views=_views("sweep"), measure="hours", scopes=_QUEUE),
    "utilization": Indicator("Utilisation of the workers", "share", delta=0.01, views=_views("sweep"),
                             scopes=_QUEUE),
}


def view(name: str) -> tuple[str, ...]:
    """The indicators a view shows, in the catalogue's order."""
    if name not in VIEWS:
        raise ValueError(f"unknown view {name!r}: one of {', '.join(VIEWS)}")
    return tuple(k for k, i in CATALOGUE.items() if name in i.views)


# A scope: a region's code (KEN), a channel (crowd, vendor), a channel's workers in some regions
# (crowd:IND+PHL) or all regions (ALL, the same as no scope); requesters by home jurisdiction
# (home:EU), or those a scenario's rule binds and the rest (rule:covered, rule:uncovered).
_SCOPE = re.compile(r"(?:[A-Z][A-Z0-9_]*|crowd|vendor)(?::[A-Z][A-Z0-9_]*(?:\+[A-Z][A-Z0-9_]*)*)?"
                    r"|home:[A-Za-z]+|rule:(?:covered|uncovered)")
ALL = "ALL"


def scoped(name: str, scope: str | None = None) -> str:
    """The one way labsim names an indicator in a scope, in every table, option and file: ``NAME``
    overall, ``SCOPE.NAME`` in a scope (``KEN.effective_wage_mean_usd_h``, ``crowd.hours_per_week_mean``,
    ``crowd:IND+PHL.effective_wage_mean_usd_h``). A channel over all regions is the channel alone
    (``crowd:all`` is ``crowd``)."""
    if scope is None or scope in ("", ALL):
        return name
    if scope.endswith(":all"):
        scope = scope[: -len(":all")]
    if not _SCOPE.fullmatch(scope):
        raise ValueError(f"{scope!r} is not a scope: a region code (KEN), a channel (crowd, vendor), a "
                         "channel in some regions (crowd:IND+PHL), requesters' home (home:EU) or a rule's "
                         "reach (rule:covered, rule:uncovered)")
    return f"{scope}.{name}"


def parse(text: str) -> tuple[str | None, str]:
    """``scoped``'s inverse: (scope, name), scope None overall. A nested KPI
    (``automation_share_by_type.image_annotation``) has no scope."""
    head, dot, rest = text.partition(".")
    if dot and rest and _SCOPE.fullmatch(head):
        return (None if head == ALL else head), rest
    return None, text


def base_name(name: str) -> str:
    """The catalogue's name of ``name``, a KPI overall (``NAME``) or in a scope (``KEN.NAME``,
    ``crowd.NAME``, ``ALL.NAME``)."""
    return name if name in CATALOGUE else parse(name)[1]


def from_older(text: str) -> str:
    """A statistic named as labsim-calibrate named them before (``NAME SCOPE``, ``NAME crowd:all``),
    in the one syntax; other names as they are."""
    name, space, scope = text.partition(" ")
    return scoped(name, scope) if space and scope and " " not in scope else text


def verdict(ci_low: float | None, ci_high: float | None, delta: float | None,
            sign_depends: bool = False) -> str:
    """What a paired difference with this 95 % interval shows (see the module): RAISES, LOWERS,
    NO_CLEAR_CHANGE or TOO_FEW. ``sign_depends``: over the posterior's draws, the effect's sign
    depends on the unknown parameters, so an interval clear of zero is not a clear answer."""
    if ci_low is None or ci_high is None or ci_low != ci_low or ci_high != ci_high:
        return TOO_FEW
    if not sign_depends and ci_low > 0:
        return RAISES
    if not sign_depends and ci_high < 0:
        return LOWERS
    if delta is not None and -delta <= ci_low and ci_high <= delta:
        return NO_CLEAR_CHANGE
    return TOO_FEW


def verdict_of(kpi: str, ci_low: float | None, ci_high: float | None, sign_depends: bool = False) -> str:
    """``verdict`` with the catalogue's smallest change that matters for ``kpi`` (in any scope)."""
    found = CATALOGUE.get(base_name(kpi))
    return verdict(ci_low, ci_high, found.delta if found else None, sign_depends)


def counts() -> tuple[str, ...]:
    """The indicators that are counts over the market (they grow with ``scale``)."""
    return tuple(k for k, i in CATALOGUE.items() if i.scales == "count")
