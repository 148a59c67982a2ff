"""The classroom takes from the browser only what its controls can hold, before composing anything.

Values reach the run callback as JSON from the page, and a page can send anything: text such as
``${oc.env:HOME}``, lists, objects, huge numbers, NaN. ``Controls.from_values`` (behind
``_from_page``) takes a number control only as a plain finite number within its range (the
configuration's bounds for the key it sets, then the slider's), a switch only on or off, and a
choice only from its list; anything else is one line for the page's error area. No test here runs
the model: a refused value never gets that far.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, fields

import pytest
import yaml

import labsim
import labsim.classroom.controls as controls_module
from labsim.classroom.app import CONTROL_IDS, _from_page, _history, _lesson_of, _to_page, create_app
from labsim.classroom.controls import (AUTOMATION_SPEEDS, CHOICE_CONTROLS, NUMBER_CONTROLS, SEED_MAX, TOGGLES,
                                       Controls, build_overrides, check_value, compose, controls_for_scenario,
                                       policy_start_week)
from labsim.classroom.lessons import load_lessons
from labsim.config import parameters
from labsim.errors import UserError
from labsim.hydra_app import scenario_names

HOME = os.environ.get("HOME", "/root")

# What a tampered page can send in place of a number.
NOT_NUMBERS = ["${oc.env:HOME}", "3", "0.2,0.3", "1 hydra.run.dir=/tmp/x", "", [1], [], {"a": 1}, {},
               True, False, math.nan, math.inf, -math.inf, 10 ** 400, "x" * 10_000, [[[[[[1]]]]]]]


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message and len(message) < 400, message
    assert HOME not in message or HOME == "/", message  # a resolver is never resolved
    return message


@pytest.fixture
def no_compose(monkeypatch):
    """Fails the test if anything is composed (records the calls)."""
    calls = []

    def refuse(overrides, *args, **kwargs):
        calls.append(list(overrides))
        raise AssertionError(f"composed {overrides}")

    monkeypatch.setattr(controls_module, "compose", refuse)
    monkeypatch.setattr(labsim, "compose", refuse)
    yield calls
    assert calls == []


# --- every control has its range --------------------------------------------------------------------

def test_every_control_is_a_number_a_switch_or_a_choice():
    kinds = [set(NUMBER_CONTROLS), set(TOGGLES), set(CHOICE_CONTROLS)]
    assert set().union(*kinds) == set(Controls.names())
    assert sum(len(k) for k in kinds) == len(Controls.names())  # each in one kind only


@pytest.mark.parametrize("name", sorted(NUMBER_CONTROLS))
def test_each_number_range_lies_within_what_the_configuration_declares(name):
    """The classroom's range is the config's or tighter, for the key the control sets."""
    control = NUMBER_CONTROLS[name]
    meta = {key: m for key, _, m in parameters()}[control.key]
    assert meta["kind"] in ("number", "int", "share")
    lo, hi = meta.get("lo"), meta.get("hi")
    assert lo is None or control.lo > lo or (control.lo == lo and not meta["lo_open"])
    assert hi is None or control.hi < hi or (control.hi == hi and not meta["hi_open"])
    assert f"{control.key}=" in "\n".join(build_overrides(Controls()))  # the key it really sets
    for value in (control.lo, control.hi):  # both ends are accepted, and compose
        c = Controls.from_values({name: value})
        assert getattr(c, name) == value
    compose(build_overrides(Controls.from_values({name: control.hi})))


def _components(node):
    """Every component of a Dash layout (depth first)."""
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            yield from _components(child)


@pytest.fixture(scope="module")
def app():
    app = create_app(initial={"horizon_weeks": 26})
    yield app
    app.classroom["cache"].close()


def test_the_page_draws_each_number_control_over_its_range(app):
    by_id = {getattr(c, "id", None): c for c in _components(app.layout)}
    for name, control in NUMBER_CONTROLS.items():
        component = by_id[name]
        if name == "seed":  # a box: with min/max the browser would send -1 as no value at all
            assert getattr(component, "min", None) is None and getattr(component, "max", None) is None
            continue
        assert (component.min, component.max) == (control.lo, control.hi), name
    assert [o["value"] for o in by_id["scenario"].options] == scenario_names()
    assert (by_id["automation_speed"].min, by_id["automation_speed"].max) == (0, len(AUTOMATION_SPEEDS) - 1)


def test_every_scenario_and_lesson_fits_the_page():
    """Each scenario's own values are within the page's ranges, so the page can run every one."""
    for name in scenario_names():
        c = controls_for_scenario(name)
        assert Controls.from_values(asdict(c)) == c, name
    for lesson in load_lessons():
        c = lesson.apply(Controls())
        assert Controls.from_values(asdict(c)) == c, lesson.id


# --- numbers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(NUMBER_CONTROLS))
@pytest.mark.parametrize("value", NOT_NUMBERS, ids=lambda v: repr(v)[:20])
def test_a_number_control_takes_only_a_plain_finite_number(name, value, no_compose):
    with pytest.raises(UserError) as err:
        Controls.from_values({name: value})
    message = _one_line(err)
    control = NUMBER_CONTROLS[name]
    assert message.startswith(f"{control.key}=") and f"is not allowed: {control.allowed()}" in message


@pytest.mark.parametrize("name, value, expected", [
    ("seed", -1, "seed=-1 is not allowed: a whole number >= 0"),  # the configuration's own words
    ("seed", 2.5, "seed=2.5 is not allowed: a whole number >= 0"),
    ("seed", SEED_MAX + 1, f"seed={SEED_MAX + 1} is not allowed: a whole number between 0 and {SEED_MAX} in the "
                           "classroom"),
    ("seed", 1e300, "seed=1e+300 is not allowed: a whole number between 0 and 4294967295 in the classroom"),
    ("horizon_weeks", 1e308, "horizon_weeks=1e+308 is not allowed: a number greater than 0 and at most 5200"),
    ("horizon_weeks", 1000, "horizon_weeks=1000 is not allowed: a whole number between 26 and 156 in the classroom"),
    ("horizon_weeks", 25, "horizon_weeks=25 is not allowed: a whole number between 26 and 156 in the classroom"),
    ("horizon_weeks", 30.5, "horizon_weeks=30.5 is not allowed: a whole number between 26 and 156 in the classroom"),
    ("commission", 1.5, "crowd.commission=1.5 is not allowed: a probability or share between 0 and 1"),
    ("commission", 0.65, "crowd.commission=0.65 is not allowed: a number between 0 and 0.6 in the classroom"),
    ("commission_large_batch", -0.1, "crowd.commission_large_batch=-0.1 is not allowed"),
    ("wage_floor_usd_h", 50.0, "policy.min_wage_floor.usd_h=50.0 is not allowed: a number between 0 and 10 in the "
                               "classroom"),
    ("wage_floor_local_multiple", 3.5, "policy.min_wage_floor.local_multiple=3.5 is not allowed"),
    ("exposure_cap_hours", 0.5, "policy.exposure_cap.max_hours_per_day=0.5 is not allowed: a number between 1 and 8"),
    ("exposure_cap_hours", 30.0, "policy.exposure_cap.max_hours_per_day=30.0 is not allowed"),
])
def test_a_number_outside_its_range_is_refused(name, value, expected, no_compose):
    with pytest.raises(UserError) as err:
        Controls.from_values({name: value})
    assert _one_line(err).startswith(expected)


def test_whole_numbers_may_come_as_floats():
    c = Controls.from_values({"seed": 7.0, "horizon_weeks": 52.0, "commission": 0})
    assert (c.seed, c.horizon_weeks, c.commission) == (7, 52, 0.0)
    assert type(c.seed) is int and type(c.horizon_weeks) is int and type(c.commission) is float


# --- switches and choices ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (["on"], True), ([], False),
                                             (("on",), True)])
def test_a_switch_is_on_or_off(value, expected):
    assert all(getattr(Controls.from_values({n: value}), n) is expected for n in TOGGLES)


@pytest.mark.parametrize("value", ["on", "yes", "true", 1, 0, ["x"], ["on", "on"], {"on": 1}, None, math.nan])
def test_a_switch_takes_nothing_else(value, no_compose):
    for name in TOGGLES:
        with pytest.raises(UserError, match=f"^{name}=.* is not allowed: on or off$") as err:
            Controls.from_values({name: value})
        _one_line(err)


def test_every_scenario_is_a_choice_and_nothing_else_is(no_compose):
    for name in scenario_names():
        assert Controls.from_values({"scenario": name}).scenario == name
    for value in ["nope", "../conf/config", "baseline ", "BASELINE", "", "${oc.env:HOME}", "scenario=mmc",
                  ["baseline"], {"baseline": 1}, 3, None, True]:
        with pytest.raises(UserError, match="^scenario=.* is not allowed: one of ai_boom, ") as err:
            Controls.from_values({"scenario": value})
        _one_line(err)


def test_automation_speeds_are_the_sliders_and_positions_its_notches(no_compose):
    for i, speed in enumerate(AUTOMATION_SPEEDS):
        assert Controls.from_values({"automation_speed": speed}).automation_speed == speed
        assert _from_page({"automation_speed": i}).automation_speed == speed
        assert _from_page({"automation_speed": float(i)}).automation_speed == speed
    for value in [3, 16, -1, True, "1", math.nan, [1], None]:
        with pytest.raises(UserError, match="^automation_speed=.* is not allowed: one of 0, 0.5, 1, 2, 4, 8"):
            Controls.from_values({"automation_speed": value})
    for position in [6, -1, 2.5, True, "2", [2], {"i": 2}, math.inf, 10 ** 400]:
        with pytest.raises(UserError, match="^automation_speed: slider position .* is not allowed: a whole number "
                                            "between 0 and 5$") as err:
            _from_page({"automation_speed": position})
        _one_line(err)


# --- the page as a whole ------------------------------------------------------------------------------

def test_the_page_round_trip_and_empty_boxes():
    c = Controls(scenario="min_wage_floor", horizon_weeks=52, seed=3, wage_floor=True, wage_floor_usd_h=2.0,
                 automation_speed=4.0, new_region=True)
    assert _from_page(_to_page(c)) == c
    with pytest.raises(UserError, match="^seed: no value"):
        _from_page({**_to_page(c), "seed": None})


def test_unknown_controls_are_refused_in_one_line():
    for key in ["wage_flor", "__class__", "x" * 500, 3, ("a", "b")]:
        with pytest.raises(UserError, match="no such control") as err:
            Controls.from_values({key: 1})
        _one_line(err)
    with pytest.raises(UserError, match="no such control"):
        check_value("nope", 1)


def test_policy_start_week_of_anything_is_a_week():
    for horizon in [math.inf, -math.inf, math.nan, 10 ** 400, "x", [1], None, {}]:
        assert policy_start_week(horizon) == 1
    assert policy_start_week(104) == 35


def test_history_and_lesson_from_the_browser_are_sanitised():
    lessons = {x.id: x for x in load_lessons()}
    assert _history(["a", "b", "c"]) == ["b", "c"]
    for data in [3, "abc", {"a": 1}, None, [[1]], [{"a": 1}], [1, 2]]:
        assert _history(data) == []
    assert _lesson_of(lessons, "race_to_the_bottom").id == "race_to_the_bottom"
    for lesson_id in [["race_to_the_bottom"], {"a": 1}, 3, None, "nope", "../x"]:
        assert _lesson_of(lessons, lesson_id) is None


# --- teachers' lessons files: the same checks, at start -------------------------------------------------

@pytest.mark.parametrize("controls, expected", [
    ({"horizon_weeks": 500}, "horizon_weeks=500 is not allowed: a whole number between 26 and 156"),
    ({"wage_floor": "yes"}, "wage_floor='yes' is not allowed: on or off"),
    ({"seed": "${oc.env:HOME}"}, "seed='${oc.env:HOME}' is not allowed"),
    ({"commission": [0.2]}, "crowd.commission=[0.2] is not allowed"),
    ({"automation_speed": True}, "automation_speed True is not on the page's slider"),
])
def test_a_lessons_file_with_values_the_page_cannot_hold_is_refused(tmp_path, controls, expected):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"lessons": [{"id": "x", "title": "X", "scenario": "baseline", "text": "t",
                                                 "controls": controls}]}))
    with pytest.raises(UserError) as err:
        load_lessons(path)
    message = _one_line(err)
    assert "lesson 'x'" in message and expected in message


def test_a_lessons_file_naming_no_scenario_file_is_refused(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("- {id: x, title: X, scenario: nope, text: t}\n")
    with pytest.raises(UserError, match="lesson 'x': scenario 'nope' is not one of ai_boom") as err:
        load_lessons(path)
    _one_line(err)


# --- through the page's callbacks (Dash's own request, no browser, no run) ---------------------------------

def _post(app, output_prefix: str, inputs: dict, states: dict, changed: str):
    """Call one of the app's callbacks as the page does: (HTTP status, response JSON or None)."""
    key = next(k for k in app.callback_map if k.startswith(output_prefix))
    spec = app.callback_map[key]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
               for o in key.strip(".").split("...")]
    if not key.startswith(".."):  # a callback with one output
        outputs = outputs[0]
    body = {"output": key, "outputs": outputs, "changedPropIds": [changed],
            "inputs": [{**i, "value": inputs.get(i["id"])} for i in spec["inputs"]],
            "state": [{**s, "value": states.get(s["id"])} for s in spec.get("state", [])]}
    response = app.server.test_client().post("/_dash-update-component", json=body)
    text = response.get_data(as_text=True)
    return response.status_code, (json.loads(text)["response"] if response.status_code == 200 else None)


def _page_state(**values):
    state = _to_page(Controls(horizon_weeks=26))
    state.update(values)
    return {**state, "history": [], "lesson": None}


@pytest.mark.parametrize("control, value, expected", [
    ("seed", "${oc.env:HOME}", "seed='${oc.env:HOME}' is not allowed: a whole number between 0 and 4294967295"),
    ("seed", [1], "seed=[1] is not allowed"),
    ("horizon_weeks", {"a": 1}, "horizon_weeks={'a': 1} is not allowed"),
    ("horizon_weeks", 1e300, "horizon_weeks=1e+300 is not allowed"),
    ("commission", 0.9, "crowd.commission=0.9 is not allowed: a number between 0 and 0.6 in the classroom"),
    ("wage_floor_usd_h", "1 hydra.run.dir=/tmp/x", "policy.min_wage_floor.usd_h='1 hydra.run.dir=/tmp/x' is not"),
    ("scenario", ["baseline"], "scenario=['baseline'] is not allowed: one of"),
    ("wage_floor", "yes", "wage_floor='yes' is not allowed: on or off"),
    ("automation_speed", 9, "automation_speed: slider position 9 is not allowed"),
])
def test_the_run_button_shows_one_line_and_composes_nothing(app, no_compose, control, value, expected):
    assert control in CONTROL_IDS
    status, response = _post(app, "..history.data", {"run": 1, "run-lesson": 0}, _page_state(**{control: value}),
                             "run.n_clicks")
    assert status == 200
    error = response["error"]["children"]
    assert error.startswith(expected) and "\n" not in error and HOME not in error.replace("${oc.env:HOME}", "")
    assert "history" not in response  # no run


@pytest.mark.parametrize("history, lesson", [(3, None), ({"a": 1}, None), ([[1]], ["x"]), ("abc", {"a": 1})])
def test_tampered_history_or_lesson_is_no_server_error(app, history, lesson):
    for prefix, inputs, states, changed in [
            ("..fig-map.figure", {"history": history, "compare": []}, {}, "history.data"),
            ("..download.data", {"export": 1}, {"history": history, "compare": [], "lesson": lesson},
             "export.n_clicks"),
            ("lesson-panel.children", {"lesson": lesson}, {}, "lesson.value"),
            ("..run-lesson.style", {"lesson": lesson}, {}, "lesson.value"),
            ("..scenario.value", {"lesson": lesson, "scenario": "baseline"},
             {k: v for k, v in _to_page(Controls()).items() if k != "scenario"}, "lesson.value"),
            ("policy-start.children", {"horizon_weeks": 10 ** 400}, {}, "horizon_weeks.value"),
            ("scenario-description.children", {"scenario": "../conf/config"}, {}, "scenario.value")]:
        status, response = _post(app, prefix, inputs, states, changed)
        assert status in (200, 204), prefix  # 204: nothing to update
        if prefix == "scenario-description.children":
            assert response["scenario-description"]["children"] == ""  # no file outside scenarios/ is read
    status, response = _post(app, "..history.data", {"run": 1, "run-lesson": 0},
                             {**_page_state(scenario="nope"), "history": history, "lesson": lesson}, "run.n_clicks")
    assert status == 200 and response["error"]["children"].startswith("scenario='nope' is not allowed")


def test_controls_fields_match_the_page():
    assert CONTROL_IDS == [f.name for f in fields(Controls)]


@pytest.mark.parametrize("args, says", [
    (["--scale", "1000"], "scale=1000.0 is not allowed: a number greater than 0 and at most 100"),
    (["--scale", "nan"], "scale=nan is not allowed"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_the_command_refuses_a_scale_the_page_could_not_run_before_serving(capsys, args, says):
    """The largest run the page can ask for (its longest horizon) is checked at start, as every run is."""
    from labsim.classroom import main

    assert main([*args, "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("labsim-classroom: error: ") and says in err[0], err
