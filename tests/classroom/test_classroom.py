"""Classroom mode without a browser: controls -> overrides -> runs -> figures -> handout."""

from __future__ import annotations

import html
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import fields, replace
from pathlib import Path

import pytest
import yaml

from labsim.classroom.controls import (AUTOMATION_SPEEDS, CLASSROOM_SCALE, CLASSROOM_STEP_H, CONF_DIR,
                                       NEW_REGION, Controls, RunCache, build_overrides, command_line, compose,
                                       controls_for_scenario, policy_start_week, scenario_config, simulate)
from labsim.classroom.export import export_html
from labsim.classroom.figures import (FIGURES, PREVIOUS, classroom_figures, figure_signature, kpi_rows,
                                      quarterly_by_region)
from labsim.classroom.lessons import LESSONS_FILE, load_lessons, markdown_html
from labsim.config import PolicyConfig
from labsim.errors import UserError
from labsim.report import theme
from labsim.hydra_app import scenario_names
from labsim.paths import scenarios_dir
from tests.conftest import process_running

pytestmark = pytest.mark.slow  # the classroom's server and its runs

# Short classroom runs: half a year (policies start at week 9), the classroom's scale and step.
SHORT = 26


@pytest.fixture(scope="module")
def runs():
    """A short run, the same with a $3 wage floor, and the same with automation four times as fast."""
    base = Controls(horizon_weeks=SHORT)
    return {"base": simulate(base),
            "floor": simulate(Controls(horizon_weeks=SHORT, wage_floor=True, wage_floor_usd_h=3.0)),
            "fast": simulate(Controls(horizon_weeks=SHORT, automation_speed=4.0))}


# --- overrides from the controls ---------------------------------------------------------------

def _value(overrides: list[str], key: str) -> str:
    found = [o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0] == key]
    assert len(found) == 1, (key, overrides)
    return found[0]


def test_overrides_from_the_default_controls_reproduce_the_baseline():
    """Default controls change nothing in the scenario but the classroom's horizon, scale and step,
    and every policy's start (a third of the way through)."""
    c = Controls()
    ov = build_overrides(c)
    assert _value(ov, "scenario") == "baseline"
    assert _value(ov, "horizon_weeks") == "104" and _value(ov, "step_h") == str(CLASSROOM_STEP_H)
    assert float(_value(ov, "scale")) == CLASSROOM_SCALE
    assert policy_start_week(104) == 35 and c.policy_start_week() == 35
    for f in fields(PolicyConfig):  # every policy, whatever the scenario switches on
        assert _value(ov, f"policy.{f.name}.start_week") == "35"
    cfg, base = compose(ov), scenario_config("baseline")
    assert cfg.crowd == base.crowd and cfg.task_types == base.task_types and cfg.regions == base.regions
    assert cfg.policy.min_wage_floor.enabled is False and cfg.automation.enabled is True
    assert cfg.output.progress is False and cfg.horizon_weeks == 104 and cfg.scale == CLASSROOM_SCALE


def test_overrides_carry_every_lever():
    c = Controls(scenario="baseline", horizon_weeks=78, seed=4, wage_floor=True, wage_floor_usd_h=2.5,
                 wage_floor_local_multiple=1.5, commission=0.3, commission_large_batch=0.5, psych_support=True,
                 exposure_cap=True,
                 exposure_cap_hours=3.0, automation_speed=4.0, new_region=True)
    ov = build_overrides(c)
    cfg = compose(ov)
    start = policy_start_week(78)
    assert start == 26
    f = cfg.policy.min_wage_floor
    assert (f.enabled, f.usd_h, f.local_multiple, f.start_week) == (True, 2.5, 1.5, start)
    assert cfg.policy.psych_support.enabled and cfg.policy.psych_support.start_week == start
    assert cfg.policy.exposure_cap.enabled and cfg.policy.exposure_cap.max_hours_per_day == 3.0
    assert cfg.crowd.commission == 0.3 and cfg.crowd.commission_large_batch == 0.5
    base = scenario_config("baseline")
    for name, t in base.task_types.items():
        if t.automatable:
            assert cfg.task_types[name].automation_half_labels == pytest.approx(t.automation_half_labels / 4)
            assert cfg.task_types[name].labels_before_start == pytest.approx(t.labels_before_start / 4)
        else:
            assert cfg.task_types[name] == t
    assert cfg.seed == 4 and cfg.horizon_weeks == 78
    assert NEW_REGION in cfg.regions and cfg.regions[NEW_REGION].entry_week == start


@pytest.mark.parametrize("control, value", [("commission", 0.3), ("commission_large_batch", 0.25)])
def test_a_commission_control_sets_its_own_key_and_nothing_else(control, value):
    """The classroom adds no rule: each commission slider is one key of crowd.*, and the
    configuration differs from the default controls' in that key alone."""
    before = compose(build_overrides(Controls()))
    after = compose(build_overrides(Controls(**{control: value})))
    assert getattr(after.crowd, control) == value
    assert replace(after, crowd=replace(after.crowd, **{control: getattr(before.crowd, control)})) == before


def test_automation_speed_one_is_the_scenario_and_others_keep_learning_from_the_same_start():
    """x1 leaves the stationary baseline's trained models as they are; x4 lets them keep
    learning four times faster per label, from the share they start at."""
    base = scenario_config("baseline")
    one = compose(build_overrides(Controls(automation_speed=1.0)))
    four = compose(build_overrides(Controls(automation_speed=4.0)))
    assert one.automation == base.automation and one.task_types == base.task_types
    assert four.automation.learning is True and base.automation.learning is False
    for name, t in base.task_types.items():
        if t.automatable:
            f = four.task_types[name]
            assert f.labels_before_start / f.automation_half_labels == pytest.approx(
                t.labels_before_start / t.automation_half_labels)


def test_automation_speed_zero_switches_automation_off():
    cfg = compose(build_overrides(Controls(automation_speed=0.0)))
    assert cfg.automation.enabled is False


def test_new_region_with_any_scenario_and_off_in_its_own():
    """The switch adds Bangladesh to any scenario (the classroom's config group) and removes it
    from new_region_entry; either way it enters a third of the way through."""
    on = compose(build_overrides(Controls(scenario="min_wage_floor", new_region=True, horizon_weeks=52)))
    assert on.regions[NEW_REGION].entry_week == policy_start_week(52) and on.policy.min_wage_floor.enabled is False
    own = compose(build_overrides(Controls(scenario="new_region_entry", new_region=True)))
    assert own.regions[NEW_REGION].entry_week == 35
    off = compose(build_overrides(Controls(scenario="new_region_entry", new_region=False)))
    assert NEW_REGION not in off.regions


def test_the_classroom_bangladesh_is_the_scenario_bangladesh():
    """labsim/classroom/conf/region_entry/BGD.yaml copies scenarios/new_region_entry.yaml's region."""
    ours = yaml.safe_load((CONF_DIR / "region_entry" / f"{NEW_REGION}.yaml").read_text())["regions"][NEW_REGION]
    theirs = yaml.safe_load((scenarios_dir() / "new_region_entry.yaml").read_text())["regions"][NEW_REGION]
    assert ours == theirs


def test_controls_follow_the_scenario_picked():
    assert controls_for_scenario("min_wage_floor").wage_floor is True
    assert controls_for_scenario("psych_support").psych_support is True
    assert controls_for_scenario("exposure_cap").exposure_cap is True
    assert controls_for_scenario("new_region_entry").new_region is True
    fair = controls_for_scenario("fair_work_package", Controls(horizon_weeks=52, seed=3))
    assert (fair.wage_floor, fair.psych_support, fair.exposure_cap) == (True, True, True)
    assert (fair.horizon_weeks, fair.seed) == (52, 3)  # kept from the page
    base = controls_for_scenario("baseline")
    assert base == Controls()


@pytest.mark.parametrize("controls, expected", [
    (dict(commission=1.5), "crowd.commission=1.5 is not allowed: a probability or share between 0 and 1"),
    (dict(horizon_weeks=None), "horizon_weeks='None' is not allowed: a number"),
    (dict(seed=-1), "seed=-1 is not allowed: a whole number >= 0"),
    (dict(exposure_cap=True, exposure_cap_hours=30.0),
     "policy.exposure_cap.max_hours_per_day=30.0 is not allowed"),
    (dict(scenario="nope"), "scenario='nope' is not allowed: one of"),
])
def test_bad_values_are_caught_as_one_line(controls, expected):
    with pytest.raises(UserError) as err:
        simulate(Controls(**controls))
    message = str(err.value)
    assert expected in message and "\n" not in message and "Traceback" not in message


def test_unknown_controls_and_the_queueing_mode_are_refused_in_one_line():
    with pytest.raises(UserError, match="^wage_flor: no such control"):
        Controls.from_values({"wage_flor": True})
    with pytest.raises(UserError, match="queueing-theory mode") as err:
        simulate(Controls(scenario="mmc"))
    assert "\n" not in str(err.value)


def test_page_values_convert():
    c = Controls.from_values({"wage_floor": ["on"], "psych_support": [], "commission": 0.1})
    assert c.wage_floor is True and c.psych_support is False and c.commission == 0.1


def test_every_scenario_file_is_offered_and_composes():
    names = scenario_names()
    assert names == sorted(p.stem for p in scenarios_dir().glob("*.yaml"))
    for name in names:
        compose(build_overrides(controls_for_scenario(name)))


def test_the_command_line_reproduces_the_run():
    line = command_line(build_overrides(Controls(new_region=True)))
    assert line.startswith("labsim scenario=baseline ") and "+region_entry=BGD" in line
    assert "'hydra.searchpath=[file://" in line and "output." not in line


# --- runs and figures ------------------------------------------------------------------------

def test_a_short_run_gives_every_figure(runs):
    run = runs["base"]
    figs = classroom_figures(run.timeseries, None, run.events)
    assert list(figs) == list(FIGURES)
    for key, fig in figs.items():
        assert fig.data, key
        assert not any(PREVIOUS in (t.name or "") for t in fig.data)
    assert run.seconds > 0
    assert run.events == []  # no policy, and Madagascar enters at week 26, the horizon itself
    header, rows = kpi_rows(run.kpis)
    assert header == ["indicator (weeks 23–26: once the policies have settled in)", "this run"] and len(rows) >= 8


def test_figures_change_when_a_lever_changes(runs):
    base, floor, fast = runs["base"], runs["floor"], runs["fast"]
    f0 = classroom_figures(base.timeseries, None, base.events)
    f1 = classroom_figures(floor.timeseries, None, floor.events)
    f2 = classroom_figures(fast.timeseries, None, fast.events)
    # The floor starts at week 9: wages, the value split (top-ups) and the map move.
    for key in ("wages", "value", "map"):
        assert figure_signature(f0[key]) != figure_signature(f1[key]), key
    assert any(t.name == "workers: policy top-ups" for t in f1["value"].data)
    assert not any(t.name == "workers: policy top-ups" for t in f0["value"].data)
    # Faster automation: more of the automatable tasks go to models from the start.
    assert figure_signature(f0["automation"]) != figure_signature(f2["automation"])
    share = {t.name: sum(t.y) for t in f0["automation"].data}
    faster = {t.name: sum(t.y) for t in f2["automation"].data}
    assert set(share) == set(faster) and all(faster[k] > share[k] for k in share)


def test_the_previous_run_is_overlaid_dashed(runs):
    base, floor = runs["base"], runs["floor"]
    figs = classroom_figures(floor.timeseries, base.timeseries, floor.events)
    for key in ("wages", "exits", "automation", "work", "value"):
        prev = [t for t in figs[key].data if (t.name or "").endswith(PREVIOUS)]
        now = [t for t in figs[key].data if not (t.name or "").endswith(PREVIOUS)]
        assert prev and all(t.line.dash == "dash" for t in prev), key
        colors = {t.name: t.line.color for t in now}
        for t in prev:  # same colour as the same series of this run
            name = t.name[: -len(PREVIOUS)]
            if name in colors:
                assert t.line.color == colors[name]
    header, rows = kpi_rows(floor.kpis, base.kpis)
    assert header[-2:] == ["previous run", "difference"] and all(len(r) == 4 for r in rows)
    # Totals of a run at a tenth of the market read as the real-world market's: ten times the run's.
    scaled = dict((r[0].split(",")[0], r[1]) for r in kpi_rows(floor.kpis, None, 0.1)[1])
    plain = dict((r[0].split(",")[0], r[1]) for r in kpi_rows(floor.kpis)[1])
    topup = floor.kpis["windows"]["after"]["overall"]["topup_usd"]
    assert topup > 0 and scaled["Policy top-ups paid to workers (USD over the weeks reported)"] == theme.fmt_kpi("topup_usd", topup / 0.1)
    assert plain["Effective hourly wage"] == scaled["Effective hourly wage"]  # per worker: unchanged


def test_the_map_has_a_frame_per_quarter_by_iso3_code(runs):
    run = runs["base"]
    fig = classroom_figures(run.timeseries)["map"]
    q = quarterly_by_region(run.timeseries)
    assert len(fig.frames) == q["quarter"].n_unique() == 2
    assert [t.type for t in fig.data] == ["choropleth", "choropleth"]
    assert all(t.locationmode == "ISO-3" for t in fig.data)
    assert set(fig.data[0].locations) == set(scenario_config("baseline").regions)
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"


def test_the_run_cache_returns_the_same_settings_at_once():
    cache = RunCache(size=2)
    c = Controls(horizon_weeks=SHORT)
    first = cache.run(c)
    t0 = time.perf_counter()
    again = cache.run(c)
    assert time.perf_counter() - t0 < 1.0
    assert again.id == first.id and again.extra.get("cached") and cache.get(first.id) is not None


# --- the handout -----------------------------------------------------------------------------

def test_the_handout_is_self_contained_with_the_lesson_and_every_figure(runs):
    lesson = next(x for x in load_lessons() if x.id == "who_pays_for_a_wage_floor")
    page = export_html(runs["floor"], runs["base"], lesson, compare=True)
    assert not re.search(r"<script[^>]+src=[\"']?https?:", page, re.I)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", page, re.I)
    assert "window.PlotlyGeoAssets" in page and "world_110m" in page  # the map's outline
    assert page.count("Plotly.newPlot") >= len(FIGURES)
    for key in FIGURES:
        assert f'id="fig-{key}"' in page, key
    assert lesson.html() in page and "Who pays for a wage floor" in page
    assert "What to look for" in page
    assert "wage floor, global (USD/h)</td><td>3</td><td>0</td>" in page  # this run, previous run
    assert "+region_entry" not in page and "labsim scenario=baseline" in page
    assert "dashed: previous run" in page


def test_the_handout_without_a_lesson_or_comparison(runs):
    page = export_html(runs["base"], runs["floor"], None, compare=False)
    assert "The lesson" not in page and "previous run</th>" not in page
    for key in FIGURES:
        assert f'id="fig-{key}"' in page


# --- lessons --------------------------------------------------------------------------------------

def test_the_lessons_load_and_every_lesson_composes():
    lessons = load_lessons()
    assert len(lessons) >= 3
    assert {"race_to_the_bottom", "who_pays_for_a_wage_floor", "automation_trained_by_its_workers"} <= {
        x.id for x in lessons}
    for lesson in lessons:
        assert lesson.scenario in scenario_names(), lesson.id
        assert len(lesson.text.split()) > 60 and lesson.look_for, lesson.id
        c = lesson.apply(Controls())
        assert c.scenario == lesson.scenario
        for key, value in lesson.controls.items():
            assert getattr(c, key) == value, (lesson.id, key)
        compose(build_overrides(c))
        before = lesson.reference(c)
        if before is not None:
            assert before != c
            compose(build_overrides(before))


def test_a_teachers_lessons_file_adds_lessons(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({"lessons": [{
        "id": "commission", "title": "What a platform takes", "scenario": "baseline",
        "controls": {"commission": 0.4}, "compare_to": {"commission": 0.2},
        "text": "Platforms charge **requesters** a commission.\n\n- one\n- two",
        "look_for": ["The value split."]}]}))
    lessons = load_lessons(mine)
    assert lessons[-1].id == "commission" and len(lessons) == len(load_lessons()) + 1
    assert lessons[-1].apply().commission == 0.4
    bad = tmp_path / "bad.yaml"
    bad.write_text("lessons:\n  - {id: x, title: X, scenario: baseline, text: t, controls: {comission: 1}}\n")
    with pytest.raises(UserError, match="names no control 'comission'") as err:
        load_lessons(bad)
    assert "\n" not in str(err.value)
    dup = tmp_path / "dup.yaml"
    dup.write_text("- {id: race_to_the_bottom, title: X, scenario: baseline, text: t}\n")
    with pytest.raises(UserError, match="already exists"):
        load_lessons(dup)
    speed = tmp_path / "speed.yaml"
    speed.write_text("- {id: s, title: S, scenario: baseline, text: t, controls: {automation_speed: 3}}\n")
    with pytest.raises(UserError, match="automation_speed 3"):
        load_lessons(speed)
    assert 3 not in AUTOMATION_SPEEDS


def test_lesson_markdown_to_html():
    out = markdown_html("A **bold** <move> and *this*.\nSame paragraph `x=1`.\n\n- one\n- two")
    assert out == ("<p>A <strong>bold</strong> &lt;move&gt; and <em>this</em>. Same paragraph "
                   "<code>x=1</code>.</p>\n<ul><li>one</li><li>two</li></ul>")
    assert LESSONS_FILE.is_file()


# --- the command ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_labsim_classroom_serves_on_localhost_and_prints_the_address(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "labsim.classroom", "--port", str(port), "--no-browser"],
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == (f"labsim-classroom: serving the classroom page at http://127.0.0.1:{port}/ "
                                "(Ctrl+C to stop)"), line
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert "labsim classroom" in body and "window.PlotlyGeoAssets" in body
        assert "https://" not in re.sub(r"<script type='text/javascript'>window\.PlotlyGeoAssets.*?</script>",
                                        "", body, flags=re.S)
        # The same port again: one line, exit code 2.
        busy = subprocess.run([sys.executable, "-m", "labsim.classroom", "--port", str(port), "--no-browser"],
                              capture_output=True, text=True, timeout=60)
        assert busy.returncode == 2
        assert busy.stderr.strip() == (f"labsim-classroom: error: port {port} is in use on 127.0.0.1; "
                                       "pick another with --port")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
        proc.stderr.close()


def test_the_console_script_is_declared():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'labsim-classroom = "labsim.entry:classroom"' in text


def test_a_pair_of_runs_numbers_before_then_after_and_caches_both():
    cache = RunCache()
    try:
        before, after = Controls(horizon_weeks=SHORT), Controls(horizon_weeks=SHORT, commission=0.3)
        one, two = cache.run_pair(before, after)
        assert (one.number, two.number) == (1, 2)
        assert one.controls == before and two.controls == after and one.id != two.id
        assert cache.get(one.id) is not None and cache.get(two.id) is not None
        again = cache.run_pair(before, after)
        assert all(r.extra.get("cached") for r in again)
        with pytest.raises(UserError, match="crowd.commission=2"):
            cache.run_pair(Controls(horizon_weeks=SHORT, commission=2.0), after)
    finally:
        cache.close()


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for row in out.splitlines():
        p, pp = map(int, row.split())
        children.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


# ``python -m labsim.classroom`` with Ctrl+C answered as Python answers it from a terminal.
_AS_FROM_A_TERMINAL = ("import signal, runpy; signal.signal(signal.SIGINT, signal.default_int_handler); "
                       "runpy.run_module('labsim.classroom', run_name='__main__', alter_sys=True)")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_the_classroom_leaves_no_process_and_no_traceback(tmp_path, sig):
    """Ctrl+C or kill: the server and its helper process (started by a lesson's page) stop, quietly."""
    port = _free_port()
    # Ctrl+C as a terminal delivers it: a shell's background job without job control (`cmd &` in a
    # script, as a CI runner may start the suite) begins with SIGINT ignored, and a child inherits
    # that, so Python would never raise KeyboardInterrupt in it.
    proc = subprocess.Popen([sys.executable, "-c", _AS_FROM_A_TERMINAL, "--port", str(port), "--no-browser"],
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("labsim-classroom: serving")
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
                break
            except OSError:
                time.sleep(0.1)
        # Choosing a lesson with a comparison starts the helper process, as the page does.
        body = json.dumps({"output": "..run-lesson.style...run-lesson-hint.children..",
                           "outputs": [{"id": "run-lesson", "property": "style"},
                                       {"id": "run-lesson-hint", "property": "children"}],
                           "inputs": [{"id": "lesson", "property": "value", "value": _a_comparing_lesson()}],
                           "changedPropIds": ["lesson.value"], "state": []}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/_dash-update-component", data=body,
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30).close()
        deadline = time.monotonic() + 60
        while len(_descendants(proc.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        family = _descendants(proc.pid)
        assert family, "the helper process should be running"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0
        assert "Traceback" not in err and err.strip().splitlines()[-1] == "labsim-classroom: stopped"
        # A production server, quiet: no development-server warning, no line per request.
        assert err.strip().splitlines() == ["labsim-classroom: stopped"], err
        deadline = time.monotonic() + 15
        while any(process_running(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in family if process_running(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=20)


def _a_comparing_lesson() -> str:
    return next(x.id for x in load_lessons() if x.compare_to)


def test_a_run_outside_the_calibrated_setting_says_so_on_the_page_and_the_handout():
    """labsim-classroom --scale 0.05 runs below the smallest calibrated scale: the table and the
    handout carry the one-line warning; the classroom's own scale carries none."""
    from labsim.classroom.figures import calibration_notes

    small = simulate(Controls(horizon_weeks=SHORT), scale=0.05)
    note = calibration_notes(small.kpis)
    assert note.startswith("Outside the calibrated setting") and "scale=0.05 is below 0.1" in note
    assert html.escape(note) in export_html(small)
    assert calibration_notes(simulate(Controls(horizon_weeks=SHORT)).kpis) == ""
