"""docs/parameters.md is the configuration's own table: every model parameter has a source."""

from __future__ import annotations

from pathlib import Path

from labsim.parameter_table import markdown, model_parameters_without_source

DOC = Path(__file__).resolve().parents[2] / "docs" / "parameters.md"


def test_every_model_parameter_has_a_source_or_says_it_is_an_assumption():
    """Run settings, switches, policy levers and outputs aside, no setting lacks a source."""
    assert model_parameters_without_source() == []


def test_the_parameters_page_is_current():
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/parameters.md is stale: `python -m labsim.parameter_table > docs/parameters.md`")


def test_the_page_lists_every_region_and_every_table_field():
    page = markdown()
    for code in ("USA", "FRA", "IND", "PHL", "VEN", "KEN", "MDG"):
        assert f"| {code} |" in page.splitlines()[page.splitlines().index(
            "## Regions (`conf/regions/default.yaml`)") + 2]
    assert "| `base_piece_rate_usd` |" in page and "| `fixed_cost_usd` |" in page
    assert "*missing*" not in page
