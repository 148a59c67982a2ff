"""The pages' theme: colours that belong to things, one number format, one table of KPI labels."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest

from labsim.classroom import figures as classroom
from labsim.model.units import ALL_REGIONS, CHANNELS
from labsim.report import run as run_report
from labsim.report import theme
from labsim.stats import HEADLINE


def _timeseries(regions: list[str], flows: dict[str, float] | None = None, weeks: int = 3) -> pl.DataFrame:
    """A tiny timeseries: each region works for the crowd, the market rows carry compute;
    ``flows`` sets policy money columns (USD per region and week)."""
    flows = flows or {}
    money = [f.column for f in theme.MONEY_FLOWS if f.column != "compute_cost_usd"]
    rows = []
    for w in range(weeks):
        for r in regions:
            rows.append({"week": w, "region": r, "channel": "crowd", "task_type": "image_annotation",
                         "active_workers": 5, "paid_hours": 10.0, "unpaid_hours": 2.0,
                         "exits_low_pay": 1, "exits_burnout": 0, "exits_other": 0,
                         "tasks_automated": 0, "tasks_posted": 0, "compute_cost_usd": 0.0,
                         **{c: 0.0 for c in money}, "earnings_usd": 30.0, "platform_fees_usd": 6.0,
                         **flows})
        rows.append({"week": w, "region": ALL_REGIONS, "channel": "crowd", "task_type": "image_annotation",
                     "active_workers": 0, "paid_hours": 0.0, "unpaid_hours": 0.0,
                     "exits_low_pay": 0, "exits_burnout": 0, "exits_other": 0,
                     "tasks_automated": 1, "tasks_posted": 4, "compute_cost_usd": 2.0,
                     **{c: 0.0 for c in money}})
    return pl.DataFrame(rows)


def _colors(fig) -> dict[str, str]:
    """Trace colours by region code (the legend shows the country's name; its group is the code)."""
    return {t.legendgroup or t.name: t.line.color for t in fig.data}


# --- colours -------------------------------------------------------------------------------------

def test_a_region_has_its_colour_whatever_other_regions_are_drawn():
    few = _timeseries(["FRA", "KEN"])
    many = _timeseries(["BGD", "FRA", "IND", "KEN", "USA"])
    for build in (run_report.workers_by_region, run_report.work_shares, classroom.wages_figure):
        a, b = _colors(build(few)), _colors(build(many))
        assert a["FRA"] == b["FRA"] == theme.REGION_COLORS["FRA"], build.__name__
        assert a["KEN"] == b["KEN"] == theme.REGION_COLORS["KEN"], build.__name__
    # A stacked area's fill is its line's colour, lighter.
    fill = {t.legendgroup: t.fillcolor for t in run_report.workers_by_region(many).data}
    assert {t.name for t in run_report.workers_by_region(many).data} >= {"United States", "Kenya", "France"}
    assert fill["USA"] == theme.rgba(theme.REGION_COLORS["USA"], 0.55)


def test_a_money_flow_has_its_colour_whichever_flows_are_present():
    plain = run_report.value_split(_timeseries(["KEN"]))
    policies = run_report.value_split(_timeseries(["KEN"], {"topup_usd": 3.0, "levy_usd": 1.0,
                                                             "public_spend_usd": 0.5}))
    a, b = ({t.name: t.line.color for t in fig.data} for fig in (plain, policies))  # by the legend's label
    assert "workers: policy top-ups" not in a and "workers: policy top-ups" in b
    for flow in theme.MONEY_FLOWS:
        for drawn in (a, b):
            if flow.label in drawn:
                assert drawn[flow.label] == flow.color, flow.label
    assert a["platform fees"] == b["platform fees"] and a["compute"] == b["compute"]


def test_colour_tables_give_each_thing_its_own_colour():
    for table in (theme.REGION_COLORS, theme.CHANNEL_COLORS, theme.TASK_TYPE_COLORS,
                  {f.column: f.color for f in theme.MONEY_FLOWS},
                  {k: c for k, (_, c) in theme.EXIT_REASONS.items()}):
        assert len(set(table.values())) == len(table), table
    assert set(theme.CHANNEL_COLORS) == set(CHANNELS)
    assert not set(theme.SPARE_PALETTE) & set(theme.REGION_COLORS.values())


def test_a_region_outside_the_table_gets_the_same_colour_in_every_process():
    """Hashed by name with crc32, not by position or Python's per-process salted hash."""
    assert theme.region_color("ZZZ") in theme.SPARE_PALETTE
    code = "from labsim.report.theme import region_color; print(region_color('ZZZ'), region_color('ATA'))"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert seen == {f"{theme.region_color('ZZZ')} {theme.region_color('ATA')}\n"}


# --- numbers and KPIs ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind, signed, text", [
    (0.1234, "share", False, "12.3 %"),
    (0.012, "share", True, "+1.2 pp"),
    (-0.012, "share", True, "-1.2 pp"),
    (1234.4, "count", False, "1,234"),
    (12, "count", True, "+12"),
    (3.314, "usd", False, "3.31"),
    (1234.4, "number", False, "1,234"),
    (0.012345, "number", False, "0.0123"),
    (0.8, "usd", False, "0.80"),
    (0.2184, "usd", False, "0.22"),  # money to the cent
    (1234.5, "usd", False, "1,234.50"),
    (123456.7, "usd", False, "123,457"),  # large sums without cents
    (-25000.4, "usd", True, "-25,000"),
    (-0.0004, "share", True, "+0.0 pp"),  # a zero, never -0.0
    (-0.0004, "share", False, "0.0 %"),
    (-0.2, "count", True, "+0"),
    (-0.0001, "change", False, "+0.0 %"),
    (-0.5, "number", True, "-0.50"),
    (0, "number", True, "+0.00"),
    (0.25, "change", False, "+25.0 %"),
    (0.123456, "index", False, "0.1235"),
    (None, "share", False, "–"),
    (float("nan"), "usd", False, "–"),
    (float("inf"), "count", False, "–"),
])
def test_one_number_format(value, kind, signed, text):
    assert theme.fmt(value, kind, signed) == text


def test_kpis_have_one_label_and_format_everywhere():
    for name in HEADLINE:  # the comparison page explains each headline KPI's moves
        assert name in theme.KPIS and theme.KPIS[name].meaning, name
    assert all(k.kind in theme.KINDS for k in theme.KPIS.values())
    assert theme.kpi_label("KEN.effective_wage_mean_usd_h") == "Effective hourly wage, mean (USD/h), Kenya"
    assert theme.kpi_label("crowd.annual_turnover_rate").endswith(", crowd")
    assert theme.kpi_label("no_such_kpi") == "no_such_kpi"
    assert theme.fmt_kpi("share_below_local_min_wage", 0.25) == "25.0 %"
    # The classroom's table and the run report's cards use the same labels.
    header, rows = classroom.kpi_rows({"overall": {"share_below_local_min_wage": 0.25}})
    assert ["Share of workers below their local minimum wage", "25.0 %"] in rows


def test_layout_changes_merge_into_the_base():
    out = theme.layout(theme.SERIES_LAYOUT, height=200, margin=dict(t=90))
    assert out["margin"] == {**theme.SERIES_LAYOUT["margin"], "t": 90} and out["height"] == 200
    assert theme.SERIES_LAYOUT["height"] != 200  # the base is not changed


def test_the_run_report_marks_where_a_policy_starts_on_every_weekly_chart():
    import labsim

    res = labsim.run(labsim.compose(["scenario=min_wage_floor", "horizon_weeks=8", "warmup_weeks=1", "scale=0.05",
                                     "policy.min_wage_floor.start_week=4"]))
    assert res.meta["events"] == [{"week": 4.0, "what": "min wage floor starts"}]
    figs = run_report.run_figures(res)
    weekly = [name for name, fig in figs.items() if fig.layout.xaxis.title.text == "week"]
    assert len(weekly) >= 8
    for name in weekly:
        lines = [s for s in figs[name].layout.shapes if s.type == "line"]
        assert [(s.x0, s.line.dash) for s in lines] == [(4.0, "dot")], name
    assert not [s for s in figs["survival"].layout.shapes if s.x0 == 4.0]  # months since joining: no week
    assert labsim.run(labsim.compose(["horizon_weeks=3", "warmup_weeks=1", "scale=0.05"])).meta["events"] == []


def test_no_chart_offers_to_send_its_data_to_a_cloud_service():
    import plotly.graph_objects as go

    from labsim.classroom.app import GRAPH_CONFIG
    from labsim.report.page import figure_html

    text = figure_html(go.Figure(), "fig-x")
    assert '"showSendToCloud": false' in text and '"sendDataToCloud"' in text and '"displaylogo": false' in text
    assert GRAPH_CONFIG["showSendToCloud"] is False and "sendDataToCloud" in GRAPH_CONFIG["modeBarButtonsToRemove"]


# --- the comparison page's answers in words ---------------------------------------------------------

def _diff(kpi: str, base: float, new: float, lo: float | None, hi: float | None) -> dict:
    return {"scenario": "p", "scope": "ALL", "kpi": kpi, "n_pairs": 3, "baseline_mean": base,
            "scenario_mean": new, "mean_diff": new - base, "ci_low": lo, "ci_high": hi,
            "relative_change": (new - base) / base}


def test_an_answer_says_what_moves_by_how_much_and_how_sure():
    from labsim.report.compare import answer, significant

    wage = _diff("effective_wage_mean_usd_h", 3.0, 3.8, 0.62, 0.98)
    assert significant(wage)
    assert answer(wage) == ("Raises workers' effective hourly wage by $0.80 an hour ($3.00 → $3.80 an hour, "
                            "+26.7 %; 95 % interval +$0.62 to +$0.98 an hour).")
    share = _diff("share_below_local_min_wage", 0.144, 0.0, -0.195, -0.093)
    assert answer(share) == ("Lowers the share of workers paid below their local minimum wage by 14.4 "
                             "percentage points (14.4 % → 0.0 %; 95 % interval -19.5 pp to -9.3 pp).")
    noisy = _diff("requester_cost_per_task_usd", 0.25, 0.252, -0.01, 0.02)
    assert not significant(noisy)
    assert answer(noisy) == ("Too few runs to tell whether requesters' cost per task changes: +$0.00 a task ($0.25 "
                             "→ $0.25 a task, +0.8 %), and the 95 % interval, -$0.01 to +$0.02 a task, includes "
                             "zero, wider than ±$0.005 a task, the smallest change that matters: more seeds would "
                             "tell.")
    flat = _diff("effective_wage_mean_usd_h", 3.0, 3.01, -0.03, 0.04)
    assert answer(flat) == ("No clear change in workers' effective hourly wage: +$0.01 an hour ($3.00 → $3.01 an "
                            "hour, +0.3 %), and the 95 % interval, -$0.03 to +$0.04 an hour, lies within ±$0.05 an "
                            "hour, the smallest change that matters.")
    one = _diff("effective_wage_mean_usd_h", 3.0, 3.5, None, None)
    assert not significant(one) and "no interval" in answer(one) and answer(one).startswith("Too few runs to tell")


@pytest.mark.parametrize("low, high, delta, sign_depends, expected", [
    (0.62, 0.98, 0.05, False, "raises"),            # clear of zero, above
    (-0.195, -0.093, 0.01, False, "lowers"),        # clear of zero, below
    (-0.002, 0.004, 0.005, False, "no clear change"),  # within the smallest change that matters
    (-0.005, 0.005, 0.005, False, "no clear change"),  # its edges included
    (-0.01, 0.02, 0.005, False, "too few runs to tell"),  # holds zero and changes that matter
    (0.1, 0.3, 0.05, True, "too few runs to tell"),  # clear of zero, but the sign depends on the unknowns
    (-0.001, 0.001, None, False, "too few runs to tell"),  # no smallest change declared
    (None, None, 0.05, False, "too few runs to tell"),  # one pair: no interval
    (float("nan"), 0.1, 0.05, False, "too few runs to tell"),
    (0.0, 0.4, 0.05, False, "too few runs to tell"),  # touching zero is not excluding it
])
def test_the_three_verdicts_on_hand_built_intervals(low, high, delta, sign_depends, expected):
    from labsim.indicators import verdict

    assert verdict(low, high, delta, sign_depends) == expected


def test_psychological_supports_burnout_exits_with_three_seeds_are_too_few_to_tell():
    """40.43 -> 0.00 burnout exits per 1,000 moderator-years (-100 %) over three seeds, whose paired
    differences spread widely: the interval holds zero and changes far larger than one exit, so the
    page must not call it "no clear change"."""
    import polars as pl

    from labsim.indicators import verdict_of
    from labsim.stats import mean_ci

    diffs = pl.Series([-121.3, 0.0, 0.0])  # one seed's moderators burned out, the others' did not
    mean, low, high = mean_ci(diffs)
    assert mean == pytest.approx(-40.43, abs=0.01) and low < 0 < high
    assert verdict_of("burnout_exits_per_1000_moderator_years", low, high) == "too few runs to tell"
    row = {**_diff("burnout_exits_per_1000_moderator_years", 40.43, 0.0, low, high)}
    from labsim.report.compare import answer

    assert answer(row).startswith("Too few runs to tell whether burnout exits per 1,000 moderator-years changes")


def test_axes_read_as_whole_counts_and_percentages(small_results):
    """The burnout-exit axis ticks whole workers from zero on its own (not 9.9, 19.8, ... from the
    left axis's grid); shares read as per cent with no row of identical labels."""
    figs = run_report.run_figures(small_results)
    y2 = figs["wellbeing"].layout.yaxis2
    assert y2.tickformat == ",d" and y2.tick0 == 0 and float(y2.dtick).is_integer() and y2.range[0] == 0
    assert y2.showgrid is False and y2.tickmode == "linear"
    for key in ("wellbeing", "night", "automation", "shares", "survival"):
        assert figs[key].layout.yaxis.tickformat == theme.tickformat("share") == ".2~%", key


def test_every_answer_sentence_carries_its_unit():
    """The comparison page's sentences name the unit of every level, difference and interval they give:
    dollars, per cent and percentage points, or the indicator's own measure."""
    from labsim.indicators import CATALOGUE, view
    from labsim.report.compare import answer

    for kpi in view("answer"):
        k = CATALOGUE[kpi]
        unit = {"usd": "$", "share": " %"}.get(k.kind) or k.measure
        assert unit, kpi
        for low, high in ((0.1, 0.3), (-0.3, 0.3), (-0.001, 0.001), (None, None)):
            text = answer(_diff(kpi, 0.5, 0.6, low, high))
            assert text.count(unit) >= (2 if k.kind == "share" else 3 if low is not None else 2), (kpi, text)


def test_the_run_reports_cards_show_catalogued_indicators_each_formatted_one_way(small_results):
    """The cards mark their indicator (data-kpi); each is in the catalogue, and its value is written
    as the catalogue's format writes it, the same as in the classroom's table."""
    import re

    from labsim.indicators import CATALOGUE

    page = run_report.run_report(small_results)
    cards = re.findall(r"<div class='card' data-kpi='([a-z_0-9]+)'><div class='v'>([^<]*)</div>", page)
    assert len(cards) >= 10
    overall = small_results.kpis["overall"]
    for name, shown in cards:
        assert name in CATALOGUE, name
        assert shown == theme.fmt_kpi(name, overall.get(name)), name
    header, rows = classroom.kpi_rows({"overall": overall})
    by_label = {r[0]: r[1] for r in rows}
    for name, shown in cards:
        if theme.kpi_label(name) in by_label:
            assert by_label[theme.kpi_label(name)] == shown, name


def test_a_difference_of_shares_is_drawn_in_percentage_points():
    """The axis said "(percentage points)" while its ticks read "-30 %": now both say points."""
    import polars as pl

    from labsim.report.compare import forest
    from labsim.stats import DIFF_SCHEMA

    row = {**{k: None for k in DIFF_SCHEMA}, **_diff("share_below_local_min_wage", 0.40, 0.10, -0.35, -0.25)}
    fig = forest(pl.DataFrame([row], schema=DIFF_SCHEMA), "share_below_local_min_wage", "baseline", ["p"])
    assert fig.layout.xaxis.ticksuffix == " pp" and "percentage points" in fig.layout.xaxis.title.text
    assert fig.data[0].x[0] == pytest.approx(-30.0)
    assert fig.data[0].error_x.array[0] == pytest.approx(5.0) and fig.data[0].error_x.arrayminus[0] == pytest.approx(5.0)
    wage = {**{k: None for k in DIFF_SCHEMA}, **_diff("effective_wage_mean_usd_h", 3.0, 3.5, 0.4, 0.6)}
    fig = forest(pl.DataFrame([wage], schema=DIFF_SCHEMA), "effective_wage_mean_usd_h", "baseline", ["p"])
    assert fig.data[0].x[0] == pytest.approx(0.5) and not fig.layout.xaxis.ticksuffix


def test_every_marked_indicator_on_the_pages_is_catalogued_and_written_one_way(small_results):
    """The pages mark each indicator they show (data-kpi): the comparison's answers and table of
    differences, the run report's cards, the classroom's table and its exported page. Each mark names
    a catalogued indicator, and one indicator's value is written the same in the run report's cards
    and in the classroom's table."""
    import re

    from labsim.classroom.export import export_html  # noqa: F401 (the exported page uses the same rows)
    from labsim.classroom.figures import KPI_ROWS
    from labsim.indicators import CATALOGUE
    from labsim.report.compare import differences_table
    from labsim.report.page import table_html
    from labsim.stats import DIFF_SCHEMA

    rows = [{**{k: None for k in DIFF_SCHEMA}, **_diff(k, 0.5, 0.6, 0.01, 0.2)} for k in ("effective_wage_mean_usd_h",
                                                                                         "exits_burnout")]
    import polars as pl

    marked = re.findall(r"data-kpi='([^']*)'", differences_table(pl.DataFrame(rows, schema=DIFF_SCHEMA)))
    assert marked == ["effective_wage_mean_usd_h", "exits_burnout"]
    header, table = classroom.kpi_rows({"overall": small_results.kpis["overall"]})
    marked = re.findall(r"data-kpi='([^']*)'", table_html(header, table, kpis=KPI_ROWS))
    assert marked == list(KPI_ROWS) and all(k in CATALOGUE for k in marked)
    report = run_report.run_report(small_results)
    cards = dict(re.findall(r"<div class='card' data-kpi='([a-z_0-9]+)'><div class='v'>([^<]*)</div>", report))
    columns = re.findall(r"<th data-kpi='([a-z_0-9]+)'>", report)  # the table by region and channel
    scale = small_results.meta["scale"]
    assert (f"1 in {1 / scale:.3g} of the real one" in report) == (scale != 1)  # its counts are the run's
    assert columns and all(k in CATALOGUE for k in columns)
    for name, row in zip(KPI_ROWS, table):
        if name in cards:
            assert row[1] == cards[name], name
