"""The look of every labsim page: colours, layouts, number formats and KPI labels.

The run report, the sweep comparison, the sensitivity page and the classroom
all draw from here, so that France is the same colour on every page, a KPI
has one name and one way of writing its values, and a chart looks the same
wherever it appears.

Colours belong to *things*, not to positions: a region, a channel, a money
flow, a task type or a reason for leaving always gets its own colour, looked
up by its name. Adding a region or a band to a chart therefore never
recolours another. Names outside the tables (a region a user adds) are
hashed into a spare palette, so they too keep their colour from page to
page. Only series with no identity of their own beyond one page (the
scenarios of a sweep, drawn in the sweep's order) take colours by position.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from typing import Any, Mapping

from labsim.indicators import CATALOGUE, Indicator
from labsim.model.units import ALL_REGIONS

# --- colours -------------------------------------------------------------------------------

# Regions of the default market and of the new-region scenario, by ISO-3 code.
REGION_COLORS = {"USA": "#1f77b4", "FRA": "#9467bd", "IND": "#ff7f0e", "PHL": "#2ca02c",
                 "VEN": "#d62728", "KEN": "#8c564b", "MDG": "#e377c2", "BGD": "#17becf"}
# Country names for the codes above (results carry only codes; a region's
# `name` field is in its configuration, which pages drawn from files lack).
COUNTRY_NAMES = {"USA": "United States", "FRA": "France", "IND": "India", "PHL": "Philippines",
                 "VEN": "Venezuela", "KEN": "Kenya", "MDG": "Madagascar", "BGD": "Bangladesh"}
CHANNEL_COLORS = {"crowd": "#4c78a8", "vendor": "#f58518"}
# Lines that must tell the channels apart while their colour says the region.
CHANNEL_DASH = {"crowd": "solid", "vendor": "dot"}
TASK_TYPE_COLORS = {"image_annotation": "#1b9e77", "text_classification": "#d95f02",
                    "content_moderation": "#7570b3", "rlhf_preference": "#e7298a",
                    "safety_evaluation": "#66a61e"}
TASK_TYPE_LABELS = {"image_annotation": "image annotation", "text_classification": "text classification",
                    "content_moderation": "content moderation", "rlhf_preference": "RLHF preference rating",
                    "safety_evaluation": "safety evaluation"}
# The flow of tasks through the market (the run report's tasks chart).
TASK_FLOW_COLORS = {"tasks_posted": "#4c4c9d", "tasks_done_human": "#2ca02c", "tasks_expired": "#d62728",
                    "backlog": "#7f7f7f"}
# Spare colours for names outside the tables (none of them is in a table above).
SPARE_PALETTE = ("#bcbd22", "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
                 "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#393b79", "#637939", "#8c6d31")
# Series that are only ordered (the scenarios of one sweep).
SERIES_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#17becf")
# Continuous scales: money (wages) and head counts, on maps and heat maps.
# Every chart's toolbar: no plotly logo, and no button that sends the data to a cloud service (the
# pages are offline documents).
PLOT_CONFIG = {"displaylogo": False, "showSendToCloud": False, "modeBarButtonsToRemove": ["sendDataToCloud"]}
EVENT_COLOR = "#555555"  # the dotted line where a policy starts or a region enters
MONEY_SCALE = "Viridis"
COUNT_SCALE = "Blues"


def _hashed(name: str) -> str:
    """A colour for a name outside the tables: the same in every process and page
    (crc32, unlike ``hash``, is not salted per process)."""
    return SPARE_PALETTE[zlib.crc32(name.encode("utf-8")) % len(SPARE_PALETTE)]


def region_color(code: str) -> str:
    return REGION_COLORS.get(code) or _hashed(code)


def channel_color(channel: str) -> str:
    return CHANNEL_COLORS.get(channel) or _hashed(channel)


def task_type_color(name: str) -> str:
    return TASK_TYPE_COLORS.get(name) or _hashed(name)


def task_type_label(name: str) -> str:
    return TASK_TYPE_LABELS.get(name) or name.replace("_", " ")


def series_color(i: int) -> str:
    """The i-th colour for series that have only an order (a sweep's scenarios)."""
    return SERIES_PALETTE[i % len(SERIES_PALETTE)]


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code, code)


def rgba(hex_color: str, alpha: float) -> str:
    """``#rrggbb`` with an opacity (bands around a line, stacked areas)."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


@dataclass(frozen=True)
class Flow:
    """A money flow of the value split: its column, legend label and colour.

    ``stacked`` flows add up to what requesters (and the public purse) pay;
    the others are transfers drawn as dotted lines beside the stack.
    ``always`` flows are drawn even when zero (the market's own split);
    policy flows only once a policy puts money there.
    """

    column: str
    label: str
    color: str
    stacked: bool = True
    always: bool = False


# In stacking order. Worker pay is split into pay for work (earnings minus
# top-ups) and the policies' top-ups, so that a wage floor's cost shows.
MONEY_FLOWS = (
    Flow("earnings_usd", "workers: pay for work", "#2ca02c", always=True),
    Flow("topup_usd", "workers: policy top-ups", "#98df8a"),
    Flow("platform_fees_usd", "platform fees", "#d62728", always=True),
    Flow("vendor_margin_usd", "vendor profit", "#ff7f0e", always=True),
    Flow("vendor_overheads_usd", "vendor overheads (supervision, QA, facilities)", "#fdd0a2", always=True),
    Flow("compute_cost_usd", "compute", "#7f7f7f", always=True),
    Flow("levy_usd", "social-protection levy", "#9467bd"),
    Flow("support_cost_usd", "psychological support", "#e377c2"),
    Flow("training_cost_usd", "training (public)", "#bcbd22"),
    Flow("benefits_usd", "benefits paid to workers (fund, stipends)", "#8c564b", stacked=False),
    Flow("public_spend_usd", "public money (training, fund deficit)", "#17becf", stacked=False),
)
FLOWS = {f.column: f for f in MONEY_FLOWS}


def flow_color(column: str) -> str:
    flow = FLOWS.get(column)
    return flow.color if flow else _hashed(column)


# Reasons for leaving: timeseries column -> (label, colour).
EXIT_REASONS = {"exits_low_pay": ("low pay", "#d62728"), "exits_burnout": ("burnout", "#9467bd"),
                "exits_other": ("other reasons", "#7f7f7f")}


def exit_color(label: str) -> str:
    return next((c for lab, c in EXIT_REASONS.values() if lab == label), None) or _hashed(label)


# --- layouts -------------------------------------------------------------------------------

TEMPLATE = "plotly_white"
BASE_LAYOUT: dict[str, Any] = dict(template=TEMPLATE, margin=dict(l=60, r=20, t=50, b=40))
# Charts over weeks: the legend below, one hover label for all series of a week.
SERIES_LAYOUT: dict[str, Any] = {**BASE_LAYOUT, "height": 380, "legend": dict(orientation="h", y=-0.2),
                                 "hovermode": "x unified"}


def layout(base: Mapping[str, Any] = BASE_LAYOUT, **changes: Any) -> dict[str, Any]:
    """A copy of ``base`` with ``changes``; a dict (margin, legend) is merged key by key,
    so ``layout(margin=dict(t=110))`` keeps the other margins."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


# --- numbers -------------------------------------------------------------------------------

MISSING = "–"
# How values are written (``fmt``'s kinds):
#   number  adaptive: 1,234 / 3.31 / 0.80 / 0.0123 (three significant digits below 0.1)
#   usd     a money amount to the cent: 1,234.50 / 0.22 (the unit is in the label)
#   share   a share in per cent, 12.3 %; a difference of shares in points, +1.2 pp
#   count   a whole number, 1,234
#   change  a relative change, +12.3 %
#   index   four significant digits (sensitivity indices)
KINDS = ("number", "usd", "share", "count", "change", "index")


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def fmt(value: Any, kind: str = "number", signed: bool = False) -> str:
    """``value`` written as ``kind`` (see KINDS); ``signed`` writes a difference (+/-,
    shares in percentage points). None, NaN and infinities are written "–"; text
    is written as it is."""
    if isinstance(value, str):
        return value
    if value is None or not _finite(value):
        return MISSING
    if kind not in KINDS:
        raise ValueError(f"unknown number format {kind!r}: one of {', '.join(KINDS)}")
    text = _fmt(float(value), kind, "+" if signed else "")
    if text.startswith("-") and not any(ch in "123456789" for ch in text):  # -0.0 pp: a zero
        text = ("+" if signed or kind == "change" else "") + text[1:]
    return text


def _fmt(v: float, kind: str, sign: str) -> str:
    if kind == "share":
        return f"{100 * v:{sign}.1f}" + (" pp" if sign else " %")
    if kind == "change":
        return f"{100 * v:+.1f} %"
    if kind == "count":
        return f"{round(v):{sign},d}"
    if kind == "index":
        return f"{v:{sign}.4g}"
    if kind == "usd":  # to the cent, but large sums (pay, top-ups over weeks) in whole dollars
        return f"{v:{sign},.0f}" if abs(v) >= 10_000 else f"{v:{sign},.2f}"
    if abs(v) >= 100:
        return f"{v:{sign},.0f}"
    if abs(v) >= 0.1 or v == 0:  # two decimals, so that a column lines up
        return f"{v:{sign}.2f}"
    return f"{v:{sign}.3g}"  # small values keep three significant digits


def tickformat(kind: str) -> str:
    """Plotly's axis tick format for values of ``kind`` (shares as per cent)."""
    # Up to two decimals, trailing zeros dropped: 20 %, 5.15 %, never a row of "5.2%, 5.2%" on a
    # narrow range or "0.0%" on small shares.
    return ".2~%" if kind == "share" else ""


# --- KPIs ----------------------------------------------------------------------------------

# One catalogue (labsim.indicators): a KPI's label, format, unit, better direction, smallest change
# that matters and the views that show it.
Kpi = Indicator
KPIS = CATALOGUE


def kpi(name: str) -> Kpi:
    """The KPI ``name``: ``NAME`` overall, ``KEN.NAME`` a region's, ``crowd.NAME`` a
    channel's (labelled "..., Kenya" or "..., crowd"); unknown names show as they are."""
    if name in KPIS:
        return KPIS[name]
    scope, _, rest = name.partition(".")
    if rest in KPIS:
        k = KPIS[rest]
        where = "all regions" if scope == ALL_REGIONS else country_name(scope)
        return replace(k, label=f"{k.label}, {where}", noun=f"{k.noun or k.label} in {where}")
    return Kpi(name)


def kpi_noun(name: str) -> str:
    k = kpi(name)
    return k.noun or k.label[:1].lower() + k.label[1:]


def kpi_label(name: str) -> str:
    return kpi(name).label


def kpi_kind(name: str) -> str:
    return kpi(name).kind


def fmt_kpi(name: str, value: Any, signed: bool = False) -> str:
    """A KPI's value written the KPI's way."""
    return fmt(value, kpi_kind(name), signed)


def fmt_unit(name: str, value: Any, signed: bool = False, bare: bool = False) -> str:
    """A KPI's value with its unit, for a sentence: $3.47 an hour, 25.0 %, +3.0 pp, 40.4 exits per
    1,000 moderator-years. ``bare`` leaves out what follows the number (an hour, exits per...), for
    the first of two values written together."""
    k = kpi(name)
    text = fmt(value, k.kind, signed)
    if text == MISSING or k.kind in ("share", "change"):
        return text
    if k.kind == "usd":
        sign = text[0] if text[0] in "+-" else ""
        return f"{sign}${text[len(sign):]}" + ("" if bare else k.unit)
    return text if bare or not k.measure else f"{text} {k.measure}"


def fmt_range(name: str, low: Any, high: Any, signed: bool = False, joint: str = " to ") -> str:
    """Two values of a KPI with the unit said once: $3.00 to $3.80 an hour, -19.5 pp to -9.3 pp."""
    return f"{fmt_unit(name, low, signed, bare=True)}{joint}{fmt_unit(name, high, signed)}"
