"""A region, a channel, a money flow and a task type have one colour on every page.

The test draws the run report's figures and the classroom's (the handout draws the same ones) from
two runs (one with a wage floor, whose top-ups add a money flow, and a new region entering), reads
every trace's colour and what it stands for (its legend group or its name), and checks that each
thing has exactly its theme colour wherever it appears, the classroom's dashed previous run included.
The comparison page colours scenarios, which exist only within a sweep, by their order.
"""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

import labsim
from labsim.classroom.figures import PREVIOUS, classroom_figures
from labsim.report import theme
from labsim.report.run import run_figures
from tests.conftest import small_config

_BY_COUNTRY = {name: code for code, name in theme.COUNTRY_NAMES.items()}
_BY_FLOW_LABEL = {f.label: f.column for f in theme.MONEY_FLOWS}


def _thing(trace) -> tuple[str, str] | None:
    """What a trace stands for: (kind, key), or None for a trace with no identity of its own."""
    group = trace.legendgroup or ""
    name = (trace.name or "").removesuffix(PREVIOUS)
    if group in theme.REGION_COLORS or name in _BY_COUNTRY:
        return "region", group if group in theme.REGION_COLORS else _BY_COUNTRY[name]
    if group in theme.CHANNEL_COLORS:
        return "channel", group
    if group in theme.FLOWS or name in _BY_FLOW_LABEL:
        return "flow", group if group in theme.FLOWS else _BY_FLOW_LABEL[name]
    if group in theme.TASK_TYPE_COLORS:
        return "task type", group
    return None


_EXPECTED = {"region": theme.region_color, "channel": theme.channel_color, "flow": theme.flow_color,
             "task type": theme.task_type_color}


def _colour(trace) -> str | None:
    line = getattr(trace, "line", None)
    if line is not None and line.color:
        return line.color
    colour = getattr(getattr(trace, "marker", None), "color", None)  # maps have none: they colour by value
    return colour if isinstance(colour, str) else None


@pytest.fixture(scope="module")
def pages() -> dict[str, dict[str, go.Figure]]:
    overrides = ["policy.min_wage_floor.start_week=3", "windows.reference_week=3"]
    base = labsim.run(small_config("scenario=baseline", *overrides))
    floor = labsim.run(small_config("scenario=min_wage_floor", *overrides))
    entry = labsim.run(small_config("scenario=new_region_entry", "regions.BGD.entry_week=3"))
    return {"run report (floor)": run_figures(floor),
            "run report (new region)": run_figures(entry),
            "classroom (floor over baseline)": classroom_figures(floor.timeseries, base.timeseries, scale=0.1),
            "classroom (new region)": classroom_figures(entry.timeseries, scale=0.1)}


def test_each_region_channel_flow_and_task_type_has_its_colour_on_every_page(pages):
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    for page, figs in pages.items():
        for key, fig in figs.items():
            for trace in fig.data:
                thing, colour = _thing(trace), _colour(trace)
                if thing and colour:
                    seen.setdefault(thing, {}).setdefault(colour, []).append(f"{page} / {key} / {trace.name}")
    for (kind, key), colours in seen.items():
        assert set(colours) == {_EXPECTED[kind](key)}, (kind, key, colours)
    # The test saw what it is about: every region (Bangladesh too), both channels, the money flows
    # with the top-ups, every task type, each on both pages.
    kinds = {kind: {key for k, key in seen if k == kind} for kind in _EXPECTED}
    assert kinds["region"] >= set(theme.REGION_COLORS), kinds["region"]
    assert kinds["channel"] == {"crowd", "vendor"}
    assert {"earnings_usd", "topup_usd", "platform_fees_usd", "vendor_margin_usd", "compute_cost_usd"} <= kinds["flow"]
    assert kinds["task type"] == set(theme.TASK_TYPE_COLORS)
    for thing in [("region", "FRA"), ("region", "BGD"), ("flow", "topup_usd"), ("task type", "content_moderation")]:
        pages_seen = {where.split(" (")[0] for where in sum(seen[thing].values(), [])}
        assert pages_seen == {"run report", "classroom"}, (thing, pages_seen)
