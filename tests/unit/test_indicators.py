"""The catalogue of indicators (labsim/indicators.py): one syntax for an indicator in a scope, the
views, the smallest changes that matter."""

from __future__ import annotations

import pytest

from labsim.indicators import (ALL, CATALOGUE, VIEWS, base_name, counts, from_older, parse, scoped, view)


@pytest.mark.parametrize("name, scope, text", [
    ("effective_wage_mean_usd_h", None, "effective_wage_mean_usd_h"),
    ("effective_wage_mean_usd_h", ALL, "effective_wage_mean_usd_h"),
    ("effective_wage_mean_usd_h", "KEN", "KEN.effective_wage_mean_usd_h"),
    ("hours_per_week_mean", "crowd", "crowd.hours_per_week_mean"),
    ("hours_per_week_mean", "crowd:all", "crowd.hours_per_week_mean"),
    ("effective_wage_mean_usd_h", "crowd:IND+PHL", "crowd:IND+PHL.effective_wage_mean_usd_h"),
])
def test_one_syntax_for_an_indicator_in_a_scope(name, scope, text):
    assert scoped(name, scope) == text
    back_scope, back_name = parse(text)
    assert back_name == name and back_scope == (None if scope in (None, ALL) else scope.replace(":all", ""))
    assert base_name(text) == name


def test_a_nested_indicator_has_no_scope_and_a_bad_scope_is_refused():
    assert parse("automation_share_by_type.image_annotation") == (None, "automation_share_by_type.image_annotation")
    with pytest.raises(ValueError, match="is not a scope"):
        scoped("x", "crowd IND")


def test_names_from_before_the_one_syntax_are_read():
    assert from_older("effective_wage_mean_usd_h crowd:all") == "crowd.effective_wage_mean_usd_h"
    assert from_older("effective_wage_mean_usd_h crowd:IND+PHL") == "crowd:IND+PHL.effective_wage_mean_usd_h"
    assert from_older("crowd.effective_wage_mean_usd_h") == "crowd.effective_wage_mean_usd_h"


def test_every_view_lists_catalogued_indicators_in_the_catalogues_order():
    order = list(CATALOGUE)
    for v in VIEWS:
        names = view(v)
        assert names and [order.index(n) for n in names] == sorted(order.index(n) for n in names), v
    with pytest.raises(ValueError, match="unknown view"):
        view("nope")


def test_every_indicator_a_verdict_is_given_for_has_its_smallest_change_or_is_a_count():
    """A difference of a rate gets "no clear change" only against a stated delta; counts grow with the
    scale, so they have none (their verdicts are raises, lowers or too few runs to tell)."""
    for name in view("headline"):
        i = CATALOGUE[name]
        assert (i.delta is not None and i.delta > 0) != (name in counts()), name
    for name, i in CATALOGUE.items():
        assert i.scales in ("rate", "count") and i.better in ("", "higher", "lower"), name


def test_an_old_posterior_header_reads_under_todays_names(tmp_path):
    from labsim import posterior
    from tests.conftest import write_test_posterior

    folder = write_test_posterior(tmp_path / "p", n=3, seed=1)
    draws = folder / "draws.csv"
    draws.write_text(draws.read_text().replace("predicted:test", "predicted:x crowd:all", 1))
    assert "crowd.x" in posterior.read(folder).predicted


def test_the_catalogues_scopes_are_where_a_run_reports_each_indicator():
    """kpis.json of a market run holds each indicator in the scopes the catalogue says."""
    import labsim

    kpis = labsim.run(labsim.compose(["scale=0.05", "horizon_weeks=3", "warmup_weeks=1"])).kpis
    region, channel = next(iter(kpis["by_region"].values())), next(iter(kpis["by_channel"].values()))
    home = kpis["by_home"]["home:US"]
    for name, i in CATALOGUE.items():
        assert (name in kpis["overall"]) == ("overall" in i.scopes), name
        assert (name in region) == ("region" in i.scopes), name
        assert (name in channel) == ("channel" in i.scopes), name
        assert (name in home) == ("home" in i.scopes), name
