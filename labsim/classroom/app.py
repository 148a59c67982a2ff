"""The classroom page: a Dash app with the levers, a Run button, the charts and the lessons.

``create_app()`` builds it; ``labsim-classroom`` (``labsim.classroom.main``)
serves it on 127.0.0.1. Runs happen on the server (``controls.RunCache``):
the page keeps only the ids of its last two runs, so "compare with previous
run" and the handout need no re-run. Dash serves its JavaScript from the
installed package and the page carries the world outline, so the page, maps
included, works without any network.
"""

from __future__ import annotations

import threading

from dataclasses import asdict
from pathlib import Path
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from labsim.api import warm_up
from labsim.classroom.controls import (AUTOMATION_SPEEDS, CLASSROOM_SCALE, CLASSROOM_STEP_H, HORIZON_STEP,
                                       NUMBER_CONTROLS, TOGGLES, Controls, RunCache, controls_for_scenario,
                                       is_plain_number, policy_start_week, scenario_description, shown)
from labsim.classroom.export import CONTROL_LABELS, control_value, export_html
from labsim.classroom.figures import (FIGURE_HEIGHTS, FIGURES, KPI_ROWS, calibration_notes, classroom_figures,
                                     kpi_rows)
from labsim.classroom.lessons import Lesson, load_lessons
from labsim.errors import UserError
from labsim.hydra_app import scenario_about, scenario_names
from labsim.report import theme
from labsim.report.page import geo_assets_script

CONTROL_IDS = [n for n in Controls.names()]
GRAPH_CONFIG = dict(theme.PLOT_CONFIG)

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0; color: #222; background: #fafafa; }
header { padding: .5rem 1.2rem; background: #1f3b57; color: #fff; }
header h1 { font-size: 1.35rem; margin: 0; } header p { margin: .15rem 0 0; color: #d8e2ec; font-size: .9rem; }
body { font-size: 17px; }
.wrap { display: grid; grid-template-columns: 300px minmax(0, 1fr) 340px; gap: 1rem; padding: .8rem 1rem; }
.controls { position: sticky; top: .5rem; align-self: start; max-height: calc(100vh - 1rem); overflow-y: auto; }
@media (max-width: 1350px) {  /* a projector's width: the lesson goes above the charts */
  .wrap { grid-template-columns: 300px minmax(0, 1fr); align-items: start; }
  .controls { grid-column: 1; grid-row: 1 / span 2; } .lesson { grid-column: 2; grid-row: 1; }
  .charts-panel { grid-column: 2; grid-row: 2; } }
.panel { background: #fff; border: 1px solid #e2e2e2; border-radius: 8px; padding: .8rem 1rem; }
.controls h3, .lesson h3 { font-size: .95rem; margin: .9rem 0 .3rem; color: #1f3b57; }
.controls label.lbl { display: block; font-size: .85rem; margin: .55rem 0 .1rem; color: #333; }
.controls .hint, .hint { color: #666; font-size: .78rem; margin: .15rem 0; }
.controls input[type=number] { width: 6rem; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; margin: .2rem 0 .4rem; align-items: center; }
button.primary { background: #1f77b4; color: #fff; border: none; border-radius: 6px; padding: .55rem 1.4rem;
                 font-size: 1rem; cursor: pointer; }
button.secondary { background: #fff; color: #1f3b57; border: 1px solid #1f3b57; border-radius: 6px;
                   padding: .4rem .8rem; cursor: pointer; }
button:disabled { opacity: .5; cursor: progress; }
.error { color: #b00020; font-size: .88rem; margin-top: .5rem; min-height: 1.1rem; }
.status { color: #444; font-size: .85rem; margin-top: .4rem; }
.hint.warn { color: #8a4b00; background: #fff4e0; padding: .3rem .5rem; border-left: 3px solid #e08a00; }
.chart { margin-bottom: 1rem; }
.chart h2 { font-size: 1.1rem; margin: .2rem 0 0; color: #1f3b57; }
table.kpis { border-collapse: collapse; font-size: .85rem; width: 100%; }
table.kpis th, table.kpis td { padding: .25rem .5rem; border-bottom: 1px solid #eee; text-align: right; }
table.kpis th:first-child, table.kpis td:first-child { text-align: left; }
.lesson .md p, .lesson .md li { line-height: 1.45; font-size: 1rem; margin: .3rem 0; }
.lesson .summary { color: #555; font-style: italic; }
"""


def _index() -> str:
    return ("<!DOCTYPE html>\n<html lang='en'><head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}"
            f"<style>{_CSS}</style>" + geo_assets_script()
            + "</head><body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body></html>")


def _speed_index(speed: Any) -> int:
    """The automation slider's position (it moves over AUTOMATION_SPEEDS, evenly spaced)."""
    try:
        return min(range(len(AUTOMATION_SPEEDS)), key=lambda i: abs(AUTOMATION_SPEEDS[i] - float(speed)))
    except (TypeError, ValueError):
        return AUTOMATION_SPEEDS.index(1.0)


def _to_page(c: Controls) -> dict[str, Any]:
    """Control values as the page's components hold them (toggles are checklists)."""
    values = asdict(c)
    values["automation_speed"] = _speed_index(c.automation_speed)
    return {k: (["on"] if v else []) if k in TOGGLES else v for k, v in values.items()}


def _from_page(values: dict[str, Any]) -> Controls:
    """Controls from the components' values (the inverse of ``_to_page``), every value checked by
    ``Controls.from_values`` (UserError, one line, for anything its component cannot hold)."""
    values = dict(values)
    empty = [k for k, v in values.items() if v is None]
    if empty:  # a number box left empty, or holding what the browser cannot read as a number
        raise UserError(f"{empty[0]}: no value (type a number)")
    if "automation_speed" in values:  # the slider's position, 0 to len(AUTOMATION_SPEEDS) - 1
        i = values["automation_speed"]
        if not (is_plain_number(i) and int(i) == i and 0 <= i < len(AUTOMATION_SPEEDS)):
            raise UserError(f"automation_speed: slider position {shown(i)} is not allowed: a whole number "
                            f"between 0 and {len(AUTOMATION_SPEEDS) - 1}")
        values["automation_speed"] = AUTOMATION_SPEEDS[int(i)]
    return Controls.from_values(values)


def _lesson_of(by_id: dict[str, Lesson], lesson_id: Any) -> Lesson | None:
    """The lesson the page names, or None (no lesson, or not one of the list: the value comes
    from the browser)."""
    return by_id.get(lesson_id) if isinstance(lesson_id, str) else None


def _history(data: Any) -> list[str]:
    """The page's last two run ids (the store comes back from the browser: anything else is
    no history)."""
    if not isinstance(data, list):
        return []
    return [x for x in data if isinstance(x, str)][-2:]


def _slider(id_: str, step: float | None, value: float, marks: dict) -> dcc.Slider:
    """The slider of number control ``id_``, over its range (controls.NUMBER_CONTROLS)."""
    lo, hi = NUMBER_CONTROLS[id_].lo, NUMBER_CONTROLS[id_].hi
    return dcc.Slider(id=id_, min=lo, max=hi, step=step, value=value, marks=marks, included=False,
                      tooltip={"placement": "bottom", "always_visible": False}, updatemode="mouseup")


def _toggle(id_: str, label: str, on: bool) -> dcc.Checklist:
    return dcc.Checklist(id=id_, options=[{"label": f" {label}", "value": "on"}], value=["on"] if on else [],
                         inputStyle={"marginRight": ".35rem"})


def _label(text: str, for_: str | None = None) -> html.Label:
    return html.Label(text, className="lbl", htmlFor=for_)


def _controls_panel(c: Controls, lessons: list[Lesson]) -> html.Div:
    speeds = {i: ("off" if s == 0 else f"×{s:g}") for i, s in enumerate(AUTOMATION_SPEEDS)}
    return html.Div(className="panel controls", children=[
        # Run first: on a projector (1280 x 720) it shows without scrolling, and the panel scrolls
        # on its own while the charts stay in view.
        html.Div(className="buttons", children=[
            html.Button("▶ Run", id="run", className="primary", n_clicks=0),
            html.Button("Download handout", id="export", className="secondary", n_clicks=0),
        ]),
        _toggle("compare", "compare with previous run (dashed)", False),
        html.Div(id="error", className="error", role="alert"),
        html.Div(id="status", className="status"),
        html.H3("Lesson"),
        dcc.Dropdown(id="lesson", options=[{"label": x.title, "value": x.id} for x in lessons],
                     placeholder="Choose a guided lesson…", value=None),
        html.H3("Scenario"),
        dcc.Dropdown(id="scenario", options=[{"label": scenario_about(s).title, "value": s} for s in scenario_names()],
                     value=c.scenario, clearable=False),
        html.P(id="scenario-description", className="hint"),
        _label("Weeks to simulate"),
        _slider("horizon_weeks", HORIZON_STEP, c.horizon_weeks,
                {26: "½ y", 52: "1 y", 104: "2 y", 156: "3 years"}),
        html.P(id="policy-start", className="hint"),
        _label("Random seed", "seed"),
        # No min/max on the box: the browser would send an out-of-range number as no value at all;
        # the server refuses it with its range (controls.NUMBER_CONTROLS["seed"]).
        dcc.Input(id="seed", type="number", step=1, value=c.seed, debounce=True),
        html.P("Runs with the same seed share their luck, so two runs differ only by your changes.",
               className="hint"),
        html.H3("Policies"),
        _toggle("wage_floor", "wage floor (on all hours online)", c.wage_floor),
        _label("Global floor, USD per hour"),
        _slider("wage_floor_usd_h", 0.25, c.wage_floor_usd_h, {0: "0", 2: "$2", 4: "$4", 6: "$6", 8: "$8", 10: "$10"}),
        _label("…or this multiple of the local minimum wage, if higher"),
        _slider("wage_floor_local_multiple", 0.25, c.wage_floor_local_multiple,
                {0: "0", 1: "×1", 2: "×2", 3: "×3"}),
        _toggle("psych_support", "psychological support for toxic work", c.psych_support),
        _toggle("exposure_cap", "cap on toxic work per day", c.exposure_cap),
        _label("Hours of toxic work allowed a day"),
        _slider("exposure_cap_hours", 1, c.exposure_cap_hours, {1: "1 h", 4: "4 h", 8: "8 h"}),
        html.H3("Market"),
        _label("Platform commission on batches of 10 tasks or more"),
        _slider("commission_large_batch", 0.05, c.commission_large_batch,
                {0: "0 %", 0.2: "20 %", 0.4: "40 %", 0.6: "60 %"}),
        _label("…and on smaller batches"),
        _slider("commission", 0.05, c.commission, {0: "0 %", 0.2: "20 %", 0.4: "40 %", 0.6: "60 %"}),
        html.P("Paid by requesters on top of the reward. Most work comes in batches of 10 or more; "
               "Mechanical Turk charges 40 % on those and 20 % on smaller ones.", className="hint"),
        _label("Automation speed"),
        dcc.Slider(id="automation_speed", min=0, max=len(AUTOMATION_SPEEDS) - 1, step=1,
                   value=_speed_index(c.automation_speed), marks=speeds, included=False,
                   tooltip={"placement": "bottom", "always_visible": False}, updatemode="mouseup"),
        html.P("How few human labels the models need to learn a task: ×2 learns twice as fast; "
               "off: no automation.", className="hint"),
        _toggle("new_region", "a new region enters (Bangladesh)", c.new_region),
        dcc.Download(id="download"),
    ])


def _lesson_panel(lesson: Lesson | None) -> list:
    if lesson is None:
        return [dcc.Markdown(
            "**How to use this page:** choose a **guided lesson** on the left, or move the levers and "
            "press **Run**. Policies and the new region start a third of the way through, at the dotted "
            "line. Tick *compare with previous run* to see your last run dashed; **Download handout** "
            "saves what you see as one file that opens without internet.", className="md")]
    return [html.H3(lesson.title), html.P(lesson.summary, className="summary") if lesson.summary else None,
            dcc.Markdown(lesson.markdown(), className="md")]


def _kpi_table(header: list[str], rows: list[list[str]]) -> html.Table:
    """The indicators' table; each row marks its indicator (``data-kpi``, labsim.indicators)."""
    return html.Table(className="kpis", children=[
        html.Thead(html.Tr([html.Th(h) for h in header])),
        html.Tbody([html.Tr([html.Td(c) for c in r], **{"data-kpi": k}) for r, k in zip(rows, KPI_ROWS)])])


def create_app(*, scale: float = CLASSROOM_SCALE, step_h: int = CLASSROOM_STEP_H,
               initial: dict[str, Any] | None = None, lessons: list[Lesson] | None = None,
               lesson_files: tuple[str | Path, ...] = ()) -> Dash:
    """The classroom's Dash app (serve with ``app.run(...)`` or any WSGI server on ``app.server``).

    ``initial`` sets control values at start (e.g. ``{"horizon_weeks": 26}``);
    ``lesson_files`` adds teachers' lessons to the built-in ones.
    """
    lessons = lessons if lessons is not None else load_lessons(*lesson_files)
    by_id = {x.id: x for x in lessons}
    start = Controls.from_values(initial or {})
    start = Controls.from_values({**asdict(controls_for_scenario(start.scenario, start)), **(initial or {})})
    cache = RunCache()
    # The server's own first run waits for nothing but itself: the compiled kernel loads now.
    threading.Thread(target=warm_up, name="labsim-warm-up", daemon=True).start()

    app = Dash(__name__, title="labsim classroom", update_title=None, serve_locally=True)
    app.index_string = _index()
    app.layout = html.Div([
        html.Header([html.H1("labsim classroom: the labour markets behind AI"),
                     html.P("Move a lever, press Run, and watch a simulated market of data labellers, "
                            "content moderators and AI raters react.")]),
        html.Div(className="wrap", children=[
            _controls_panel(start, lessons),
            html.Main(className="panel charts-panel", children=[
                dcc.Loading(type="circle", children=html.Div(id="charts", children=[
                    html.Div(className="chart", children=[
                        html.H2(title), dcc.Graph(id=f"fig-{key}", config=GRAPH_CONFIG, responsive=True,
                                                  style={"height": f"{FIGURE_HEIGHTS.get(key, 360)}px"},
                                                  figure={"data": [], "layout": {}})])
                    for key, title in FIGURES.items()] + [
                    html.Div(className="chart", children=[html.H2("Indicators"), html.Div(id="kpis"),
                                                          html.P("Means are over workers.", className="hint")])])),
            ]),
            html.Aside(className="panel lesson", children=[
                html.Div(id="lesson-panel", children=_lesson_panel(None)),
                html.Button("▶ Run this lesson: before and after", id="run-lesson", className="primary",
                            n_clicks=0, style={"display": "none"}),
                html.P(id="run-lesson-hint", className="hint")]),
        ]),
        dcc.Store(id="history", data=[]),
    ])

    control_states = [State(n, "value") for n in CONTROL_IDS]

    def read_controls(values: list[Any]) -> Controls:
        return _from_page(dict(zip(CONTROL_IDS, values)))

    @app.callback([Output("scenario", "value")] + [Output(n, "value") for n in CONTROL_IDS if n != "scenario"],
                  Input("lesson", "value"), Input("scenario", "value"),
                  [State(n, "value") for n in CONTROL_IDS if n != "scenario"], prevent_initial_call=True)
    def set_controls(lesson_id, scenario, *rest):
        """A lesson sets its scenario and values; a scenario sets what it switches on."""
        # Empty boxes take their default (a lesson must apply even then).
        keep = {k: v for k, v in zip([n for n in CONTROL_IDS if n != "scenario"], rest) if v is not None}
        try:
            current = _from_page({**keep, "scenario": scenario})
            if ctx.triggered_id == "lesson":
                lesson = _lesson_of(by_id, lesson_id)
                if lesson is None:
                    raise PreventUpdate
                new = lesson.apply(current)
            else:
                new = controls_for_scenario(scenario, current)
        except UserError:
            raise PreventUpdate from None
        values = _to_page(new)
        return [values["scenario"]] + [values[n] for n in CONTROL_IDS if n != "scenario"]

    @app.callback(Output("lesson-panel", "children"), Input("lesson", "value"))
    def show_lesson(lesson_id):
        return _lesson_panel(_lesson_of(by_id, lesson_id))

    @app.callback(Output("run-lesson", "style"), Output("run-lesson-hint", "children"), Input("lesson", "value"))
    def show_lesson_button(lesson_id):
        lesson = _lesson_of(by_id, lesson_id)
        if lesson is None or not lesson.compare_to:
            return {"display": "none"}, ""
        cache.warm_up()  # the helper process that runs the "before" alongside
        before = ", ".join(f"{CONTROL_LABELS.get(k, k).split(' (')[0]} {control_value(v)}"
                           for k, v in lesson.compare_to.items())
        return {"display": "inline-block"}, (f"Runs the market twice with the controls as they are: first with "
                                             f"{before} (dashed lines), then as set (solid lines).")

    @app.callback(Output("scenario-description", "children"), Input("scenario", "value"))
    def describe(scenario):
        return scenario_description(scenario) if isinstance(scenario, str) and scenario in scenario_names() else ""

    @app.callback(Output("policy-start", "children"), Input("horizon_weeks", "value"))
    def policy_start(horizon):
        return f"Policies and the new region start at week {policy_start_week(horizon)} (a third of the way)."

    @app.callback(Output("history", "data"), Output("status", "children"), Output("error", "children"),
                  Output("compare", "value"),
                  Input("run", "n_clicks"), Input("run-lesson", "n_clicks"), control_states,
                  State("history", "data"), State("lesson", "value"),
                  running=[(Output("run", "disabled"), True, False),
                           (Output("run-lesson", "disabled"), True, False)])
    def run(_clicks, _lesson_clicks, *args):
        *values, history, lesson_id = args
        history = _history(history)
        compare = no_update
        try:
            c = read_controls(values)  # every value checked before anything is composed
            before = None
            lesson = _lesson_of(by_id, lesson_id)
            reference = lesson.reference(c) if ctx.triggered_id == "run-lesson" and lesson is not None else None
            if reference is not None:
                before, result = cache.run_pair(reference, c, scale, step_h)
                history = [before.id]
                compare = ["on"]
            else:
                result = cache.run(c, scale, step_h)
        except UserError as exc:
            return no_update, no_update, str(exc), no_update
        except Exception as exc:  # noqa: BLE001 - never a traceback on the page
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return no_update, no_update, f"cannot run these settings: {first}", no_update
        if not history or history[-1] != result.id:
            history = (history + [result.id])[-2:]
        again = " (the same settings as a run before: shown again)" if result.extra.get("cached") else ""
        status = (f"Run {result.number}: {scenario_about(c.scenario).title}, {c.horizon_weeks} weeks, seed {c.seed}, "
                  f"simulated in {result.seconds:.1f} s{again}.")
        if before is not None:
            status += f" Dashed: run {before.number}, the lesson's 'before'."
        return history, status, "", compare

    @app.callback([Output(f"fig-{k}", "figure") for k in FIGURES]
                  + [Output("kpis", "children"), Output("error", "children", allow_duplicate=True)],
                  Input("history", "data"), Input("compare", "value"), prevent_initial_call=True)
    def render(history, compare):
        history = _history(history)
        current = cache.get(history[-1]) if history else None
        if current is None:
            raise PreventUpdate
        previous = cache.get(history[-2]) if compare and len(history) > 1 else None
        try:
            figs = classroom_figures(current.timeseries, previous.timeseries if previous else None,
                                     current.events, current.scale)
            header, rows = kpi_rows(current.kpis, previous.kpis if previous else None, current.scale)
        except Exception as exc:  # noqa: BLE001 - never a traceback on the page
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return [no_update] * (len(FIGURES) + 1) + [f"cannot draw the charts: {first}"]
        notes = calibration_notes(current.kpis)
        table = [_kpi_table(header, rows)] + ([html.P(notes, className="hint warn")] if notes else [])
        return [figs[k] for k in FIGURES] + [table, no_update]

    @app.callback(Output("download", "data"), Output("error", "children", allow_duplicate=True),
                  Input("export", "n_clicks"), State("history", "data"), State("compare", "value"),
                  State("lesson", "value"), prevent_initial_call=True)
    def export(_clicks, history, compare, lesson_id):
        history = _history(history)
        lesson = _lesson_of(by_id, lesson_id)
        current = cache.get(history[-1]) if history else None
        if current is None:
            return no_update, "nothing to export yet: press Run first"
        previous = cache.get(history[-2]) if len(history) > 1 else None
        try:
            page = export_html(current, previous, lesson, compare=bool(compare))
        except Exception as exc:  # noqa: BLE001
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return no_update, f"cannot export: {first}"
        name = f"labsim-classroom-{lesson.id if lesson else current.controls.scenario}-run{current.number}.html"
        return dict(content=page, filename=name, type="text/html"), ""

    app.classroom = {"cache": cache, "lessons": lessons, "scale": scale, "step_h": step_h, "initial": start}
    app.labsim_cache = cache  # the command stops its helper process when the server stops
    return app
