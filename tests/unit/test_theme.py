"""The pages' theme: colours that belong to things, one number format, one table of KPI labels."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from labsim.model.units import CHANNELS
from labsim.report import theme


# --- colours -------------------------------------------------------------------------------------

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
    for name in ("effective_wage_mean_usd_h", "share_below_local_min_wage", "worker_share_of_spend"):
        assert name in theme.KPIS and theme.KPIS[name].meaning, name
    assert all(k.kind in theme.KINDS for k in theme.KPIS.values())
    assert theme.kpi_label("KEN.effective_wage_mean_usd_h") == "Effective hourly wage, mean (USD/h), Kenya"
    assert theme.kpi_label("crowd.annual_turnover_rate").endswith(", crowd")
    assert theme.kpi_label("no_such_kpi") == "no_such_kpi"
    assert theme.fmt_kpi("share_below_local_min_wage", 0.25) == "25.0 %"


def test_layout_changes_merge_into_the_base():
    out = theme.layout(theme.SERIES_LAYOUT, height=200, margin=dict(t=90))
    assert out["margin"] == {**theme.SERIES_LAYOUT["margin"], "t": 90} and out["height"] == 200
    assert theme.SERIES_LAYOUT["height"] != 200  # the base is not changed
