"""The command line is checked before anything runs (labsim.hydra_app.read_command_line), in-process:
every distinct swept value once, every combination that meets in a cross-field rule, at a cost
that does not grow with the product of the lists."""

from __future__ import annotations

import pytest

from labsim import hydra_app
from labsim.errors import UserError

QUICK = ["horizon_weeks=3", "warmup_weeks=1", "scale=0.05"]


@pytest.fixture()
def compositions(monkeypatch):
    """Count the compositions a check makes."""
    calls = []
    real = hydra_app.compose_dict

    def counting(overrides):
        calls.append(list(overrides))
        return real(overrides)

    monkeypatch.setattr(hydra_app, "compose_dict", counting)
    hydra_app._composed.cache_clear()  # compositions kept from earlier checks would not be counted
    return calls


def test_an_invalid_combination_of_two_valid_lists_is_refused_naming_it():
    with pytest.raises(UserError) as exc:
        hydra_app.read_command_line(["horizon_weeks=6,2", "warmup_weeks=1,3", "scale=0.05"])
    line = str(exc.value)
    assert "\n" not in line
    assert line == ("warmup_weeks=3.0 is not allowed: fewer weeks than horizon_weeks (2) "
                    "(in the combination horizon_weeks=2 warmup_weeks=3)")


def test_a_swept_value_is_checked_against_the_settings_that_are_not_swept():
    with pytest.raises(UserError, match=r"^warmup_weeks=200.0 is not allowed: fewer weeks than horizon_weeks \(156\) "
                                        r"\(for the swept value warmup_weeks=200\)$"):
        hydra_app.read_command_line(["warmup_weeks=1,200", "scale=0.05"])
    with pytest.raises(UserError, match=r"a run that fits in memory: .*\(for the swept value scale=100\)$"):
        hydra_app.read_command_line(["scale=0.05,100", "horizon_weeks=5200", "warmup_weeks=1"])


def test_a_combination_through_a_scenario_is_seen(tmp_path):
    """The scenario's own values meet the swept ones: mmc with a sweep over warm-up."""
    folder = tmp_path / "scenario"
    folder.mkdir()
    (folder / "short.yaml").write_text("# @package _global_\nhorizon_weeks: 4\n")
    with pytest.raises(UserError, match=r"in the combination .*scenario=short.*warmup_weeks=5"):
        hydra_app.read_command_line([f"hydra.searchpath=[file://{tmp_path}]", "scenario=baseline,short",
                                     "warmup_weeks=1,5"])


def test_a_million_seeds_cost_one_composition_and_a_bad_last_value_is_caught(compositions):
    line = hydra_app.read_command_line(["seed=range(0,1000000)", "horizon_weeks=52,104", *QUICK[1:]])
    assert line.jobs == 2_000_000
    assert len(compositions) == 1  # numbers are checked against their declarations, not composed
    assert line.job(1_999_999)[0] == "seed=999999" and line.job(1_999_999)[1] == "horizon_weeks=104"
    compositions.clear()
    late = "seed=" + ",".join(map(str, range(5000))) + ",-1"
    with pytest.raises(UserError, match=r"^seed=-1 is not allowed: a whole number >= 0$"):
        hydra_app.read_command_line([late, *QUICK])


def test_swept_scenarios_are_composed_once_each_not_once_per_combination(compositions):
    hydra_app.read_command_line(["scenario=baseline,min_wage_floor,psych_support", "seed=range(0,200)",
                                 "horizon_weeks=60,70,80", "warmup_weeks=1", "scale=0.05"])
    assert len(compositions) == 3  # the first configuration, then the two other scenarios


def test_the_resource_estimate_sees_combinations_of_scale_and_horizon():
    """Each value alone fits; together they would not."""
    with pytest.raises(UserError, match=r"in the combination scale=100 horizon_weeks=5200"):
        hydra_app.read_command_line(["scale=0.05,100", "horizon_weeks=3,5200", "warmup_weeks=1"])


@pytest.mark.parametrize("override, message", [
    ("+foo=1", r"^\+foo=1: no such setting"),
    ("++foo=1", r"^\+\+foo=1: no such setting"),
    ("regions={}", r"^regions=\{\}: regions is a table: change an entry"),
    ("task_types={}", r"^task_types=\{\}: task_types is a table"),
    ("scenario=[baseline,mmc]", r"^scenario=\[baseline,mmc\]: scenario takes one name"),
    ("output={report:false}", r"^output=\{report:false\}: output is a group of settings"),
    ("output.report=2", r"^output.report=2 is not allowed: true or false$"),
    ("seed=interval(0,1)", r"^seed=interval\(0,1\): labsim sweeps lists and ranges"),
    ("~seed=0", r"^~seed=0: labsim settings cannot be deleted"),
    ("seed=${oc.env:HOME}", r"^seed: a value may not call a resolver"),
    ("mmc.servers=${oc.decode:5}", r"^mmc.servers: a value may not call a resolver"),
    ("+seed=1", r"^\+seed=1: seed exists: write seed=... without the \+"),
    ("+regions.NGA.name=Nigeria", r"no such setting .*added in a scenario file"),
])
def test_what_composition_would_accept_or_garble_is_refused_in_one_line(override, message):
    with pytest.raises(UserError) as exc:
        hydra_app.read_command_line([override, *QUICK])
    assert "\n" not in str(exc.value)
    import re

    assert re.search(message, str(exc.value)), str(exc.value)


def test_a_scenario_file_may_still_add_a_region_and_a_key_it_invents_is_refused(tmp_path):
    folder = tmp_path / "scenario"
    folder.mkdir()
    region = ("# @package _global_\nregions:\n  NGA:\n    name: Nigeria\n    min_wage_usd_h: 0.3\n"
              "    reservation_wage_median_usd_h: 0.5\n")
    (folder / "nigeria.yaml").write_text(region)
    (folder / "typo.yaml").write_text(region + "    colour: 1\n")
    line = hydra_app.read_command_line([f"hydra.searchpath=[file://{tmp_path}]", "scenario=nigeria", *QUICK])
    assert "NGA" in line.config.regions
    with pytest.raises(UserError, match=r"colour"):
        hydra_app.read_command_line([f"hydra.searchpath=[file://{tmp_path}]", "scenario=typo", *QUICK])


def test_a_billion_laughs_scenario_is_refused_before_composition(tmp_path):
    folder = tmp_path / "scenario"
    folder.mkdir()
    lines = ["# @package _global_", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    (folder / "laughs.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"laughs.yaml: its anchors and aliases expand to more than"):
        hydra_app.task_overrides([f"hydra.searchpath=[file://{tmp_path}]", "scenario=laughs"])


def test_a_sweep_job_numbering_matches_hydras_basic_sweeper():
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides = ["scenario=baseline,mmc", "seed=0,1,2", "horizon_weeks=3", "warmup_weeks=1"]
    line = hydra_app.read_command_line(overrides)
    batches = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(overrides), None)[0]
    assert [line.job(i) for i in range(line.jobs)] == batches


def test_a_sweep_jobs_folder_is_named_by_its_number_and_overrides():
    from labsim.hydra_app import JOB_NAME_CHARS, job_folder, job_number

    name = job_folder(3, "horizon_weeks=104,scale=0.1,scenario=min_wage_floor,seed=0")
    assert name == "3-scenario=min_wage_floor,seed=0,horizon_weeks=104,scale=0.1" and job_number(name) == 3
    assert job_folder(0, "") == "0" and job_number("0") == 0 and job_number("logs") is None
    odd = job_folder(12, "hydra.searchpath=[file:///x y],seed=1" + ",a.b=1" * 40)
    assert odd.startswith("12-seed=1,hydra.searchpath=_file____x_y_") and len(odd) == JOB_NAME_CHARS
    assert "/" not in odd and " " not in odd and job_number(odd) == 12
