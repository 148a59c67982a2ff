"""Guided lessons: a set of control values plus a plain-language explanation.

The lessons live in ``lessons.yaml`` beside this file; teachers add their own
in a file of the same shape (``labsim-classroom --lessons my_lessons.yaml``).
Lesson texts use a small part of Markdown: paragraphs separated by blank
lines, ``- `` bullets, ``**bold**``, ``*italics*`` and ```code```; the page
and the handout render the same text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labsim.classroom.controls import AUTOMATION_SPEEDS, Controls, check_value, controls_for_scenario
from labsim.errors import UserError
from labsim.hydra_app import scenario_names

LESSONS_FILE = Path(__file__).resolve().parent / "lessons.yaml"
_REQUIRED = ("id", "title", "scenario", "text")
_KNOWN = set(_REQUIRED) | {"controls", "compare_to", "summary", "look_for", "try_next"}


@dataclass
class Lesson:
    id: str
    title: str
    scenario: str
    text: str
    summary: str = ""
    controls: dict[str, Any] = field(default_factory=dict)
    look_for: list[str] = field(default_factory=list)
    try_next: str = ""
    compare_to: dict[str, Any] = field(default_factory=dict)

    def apply(self, keep: Controls | None = None) -> Controls:
        """The controls this lesson sets: its scenario's, then its own values."""
        base = controls_for_scenario(self.scenario, keep)
        values = {**base.__dict__, **self.controls}
        return Controls.from_values(values)

    def reference(self, current: Controls) -> Controls | None:
        """The run to compare with ("before"): ``current`` with the lesson's ``compare_to``
        values, or None when the lesson names none."""
        if not self.compare_to:
            return None
        return Controls.from_values({**current.__dict__, **self.compare_to})

    def markdown(self) -> str:
        """The lesson as Markdown (for the page)."""
        parts = [self.text.strip()]
        if self.look_for:
            parts.append("**What to look for**\n\n" + "\n".join(f"- {x.strip()}" for x in self.look_for))
        if self.try_next:
            parts.append("**Try next**\n\n" + self.try_next.strip())
        return "\n\n".join(parts)

    def html(self) -> str:
        """The lesson as HTML (for the handout)."""
        return markdown_html(self.markdown())


def _lesson(raw: Any, where: str) -> Lesson:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: a lesson is a mapping with {', '.join(_REQUIRED)}")
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise UserError(f"{where}: lesson {raw.get('id', '?')!r} has no {missing[0]}")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise UserError(f"{where}: lesson {raw['id']!r}: unknown field {unknown[0]!r} "
                             f"(fields: {', '.join(sorted(_KNOWN))})")
    controls = raw.get("controls") or {}
    compare_to = raw.get("compare_to") or {}
    for name, values in (("controls", controls), ("compare_to", compare_to)):
        if not isinstance(values, dict):
            raise UserError(f"{where}: lesson {raw['id']!r}: {name} is a mapping of control: value")
        bad = sorted(set(values) - set(Controls.names()))
        if bad:
            raise UserError(f"{where}: lesson {raw['id']!r}: {name} names no control {bad[0]!r} "
                                 f"(controls: {', '.join(Controls.names())})")
    for values in (controls, compare_to):
        speed = values.get("automation_speed")
        if speed is not None and (isinstance(speed, bool) or speed not in AUTOMATION_SPEEDS):
            raise UserError(f"{where}: lesson {raw['id']!r}: automation_speed {speed!r} is not on the "
                                 f"page's slider: one of {', '.join(f'{s:g}' for s in AUTOMATION_SPEEDS)}")
        for name, value in values.items():  # what the page's controls can hold, as from the browser
            try:
                check_value(name, value)
            except UserError as exc:
                raise UserError(f"{where}: lesson {raw['id']!r}: {exc}") from None
    if str(raw["scenario"]) not in scenario_names():
        raise UserError(f"{where}: lesson {raw['id']!r}: scenario {raw['scenario']!r} is not one of "
                        f"{', '.join(scenario_names())}")
    look_for = raw.get("look_for") or []
    if isinstance(look_for, str):
        look_for = [look_for]
    return Lesson(id=str(raw["id"]), title=str(raw["title"]), scenario=str(raw["scenario"]),
                  text=str(raw["text"]), summary=str(raw.get("summary") or ""),
                  controls={k: v for k, v in controls.items() if k != "scenario"},
                  look_for=[str(x) for x in look_for], try_next=str(raw.get("try_next") or ""),
                  compare_to=dict(compare_to))


def load_lessons(*extra: str | Path, builtin: bool = True) -> list[Lesson]:
    """The built-in lessons, then those of each ``extra`` file (ids must be unique)."""
    paths = ([LESSONS_FILE] if builtin else []) + [Path(p) for p in extra]
    lessons: list[Lesson] = []
    for path in paths:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UserError(f"cannot read the lessons file {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
        items = data.get("lessons") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise UserError(f"{path}: expected a list of lessons under 'lessons:'")
        for i, raw in enumerate(items):
            lesson = _lesson(raw, f"{Path(path).name} (lesson {i + 1})")  # the file's name: one short line
            if any(x.id == lesson.id for x in lessons):
                raise UserError(f"{path}: a lesson with id {lesson.id!r} already exists")
            lessons.append(lesson)
    return lessons


# --- a small Markdown subset to HTML --------------------------------------------------------

def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\*)", r"<em>\1</em>", text)
    return text


def markdown_html(md: str) -> str:
    """Paragraphs, ``- `` bullets, bold, italics and code, as HTML."""
    out = []
    for block in re.split(r"\n\s*\n", md.strip()):
        lines = [ln.rstrip() for ln in block.strip().splitlines()]
        if lines and all(ln.lstrip().startswith("- ") for ln in lines):
            out.append("<ul>" + "".join(f"<li>{_inline(ln.lstrip()[2:])}</li>" for ln in lines) + "</ul>")
        elif lines:
            out.append(f"<p>{_inline(' '.join(ln.strip() for ln in lines))}</p>")
    return "\n".join(out)
