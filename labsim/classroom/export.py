"""The handout: the current view as one self-contained HTML file.

Every chart on the page, the lesson's text and the settings used, with
plotly.js and the world outline inlined (``labsim.report.page``), so the file
opens offline and can be mailed or printed.
"""

from __future__ import annotations

import datetime as _dt
import html

from labsim import __version__
from labsim.classroom.controls import ClassRun, command_line
from labsim.classroom.figures import FIGURES, KPI_ROWS, calibration_notes, classroom_figures, kpi_rows
from labsim.classroom.lessons import Lesson
from labsim.report.page import figure_html, page, table_html

CONTROL_LABELS = {
    "scenario": "scenario",
    "horizon_weeks": "weeks simulated",
    "seed": "random seed",
    "wage_floor": "wage floor",
    "wage_floor_usd_h": "wage floor, global (USD/h)",
    "wage_floor_local_multiple": "wage floor, multiple of the local minimum wage",
    "commission_large_batch": "platform commission, batches of 10+ tasks",
    "commission": "platform commission, smaller batches",
    "psych_support": "psychological support",
    "exposure_cap": "exposure cap on toxic work",
    "exposure_cap_hours": "exposure cap (hours a day)",
    "automation_speed": "automation speed (0 = off, 1 = as configured, otherwise models keep learning that fast)",
    "new_region": "Bangladesh enters",
}

_EXTRA_STYLE = ("<style>.lesson { max-width: 900px; } .lesson p, .lesson li { line-height: 1.45; } "
                "code { background: #f4f4f4; padding: 0 .2rem; border-radius: 3px; font-size: .85rem; } "
                ".cmd { font-family: monospace; font-size: .8rem; background: #f4f4f4; padding: .5rem; "
                "white-space: pre-wrap; word-break: break-all; }</style>")


def control_value(v: object) -> str:
    """A control's value as the handout and the page write it (on/off, 2.5, baseline)."""
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def settings_rows(run: ClassRun, previous: ClassRun | None = None) -> tuple[list[str], list[list[str]]]:
    now = run.settings()
    prev = previous.settings() if previous is not None else None
    header = ["setting", "this run"] + (["previous run"] if prev is not None else [])
    rows = []
    for key, label in CONTROL_LABELS.items():
        row = [label, control_value(now.get(key))]
        if prev is not None:
            row.append(control_value(prev.get(key)))
        rows.append(row)
    start = run.controls.policy_start_week()
    rows.append(["policies and the new region start at week", str(start)]
                + ([str(previous.controls.policy_start_week())] if previous is not None else []))
    rows.append(["population and demand (scale), cohort step", f"{run.scale:g}, {run.step_h} h"]
                + ([f"{previous.scale:g}, {previous.step_h} h"] if previous is not None else []))
    return header, rows


def export_html(run: ClassRun, previous: ClassRun | None = None, lesson: Lesson | None = None,
                compare: bool = False) -> str:
    """The handout page for ``run`` (and ``previous`` as dashed lines when ``compare``)."""
    prev = previous if compare else None
    figs = classroom_figures(run.timeseries, prev.timeseries if prev is not None else None, run.events, run.scale)
    title = f"labsim classroom — {lesson.title}" if lesson else "labsim classroom"
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    c = run.controls
    subtitle = (f"scenario {c.scenario} · {c.horizon_weeks} weeks · seed {c.seed}"
                f" · labsim {__version__} · exported {when}")
    sections = [_EXTRA_STYLE]
    if lesson is not None:
        sections += [f"<h2>The lesson: {html.escape(lesson.title)}</h2>"]
        if lesson.summary:
            sections.append(f"<p class='sub'>{html.escape(lesson.summary)}</p>")
        sections.append(f"<div class='lesson'>{lesson.html()}</div>")
    header, rows = settings_rows(run, prev)
    sections += ["<h2>Settings used</h2>", f"<div class='scroll'>{table_html(header, rows)}</div>",
                 f"<p class='note'>The same run on the command line (the classroom simulates {run.scale:g} of "
                 "the full population and demand in steps of "
                 f"{run.step_h} hours; remove <code>scale</code> and <code>step_h</code> for the full "
                 "model):</p>", f"<div class='cmd'>{html.escape(command_line(run.overrides))}</div>"]
    if run.events:
        sections.append("<p class='note'>On the charts, dotted vertical lines mark: "
                        + "; ".join(f"week {w:g}: {html.escape(what)}" for w, what in run.events) + ".</p>")
    header, rows = kpi_rows(run.kpis, prev.kpis if prev is not None else None, run.scale)
    sections += ["<h2>Indicators</h2>", f"<div class='scroll'>{table_html(header, rows, kpis=KPI_ROWS)}</div>",
                 "<p class='note'>Over the weeks the table's heading names; means are over workers. Effective "
                 "wage counts unpaid search and rejected work as working time."
                 + (" Dashed lines on the charts are the previous run." if prev is not None else "") + "</p>"]
    notes = calibration_notes(run.kpis)
    if notes:
        sections.append(f"<p class='note warn'>{html.escape(notes)}</p>")
    for key, fig in figs.items():
        sections += [f"<h2>{html.escape(FIGURES[key])}</h2>",
                     f"<div class='fig'>{figure_html(fig, f'fig-{key}', auto_play=False)}</div>"]
    return page(title, subtitle, sections, geo=True)
