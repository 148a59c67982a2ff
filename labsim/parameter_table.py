"""docs/parameters.md: every setting of the model with its default, unit, range and source.

The table is written from the declarations in ``labsim/config.py`` (the single
source of defaults, ranges, units and sources), so it cannot drift from the
code; a test compares the file with what this module writes. Regenerate it
after changing a declaration or a table in ``conf/``:

    python -m labsim.parameter_table > docs/parameters.md

Settings that are not facts about the world say what they are instead of a
source: run settings (seed, horizon, scale...), switches (``*.enabled``),
policy levers (``policy.*``: the policy being simulated), the queueing mode
and output options.
"""

from __future__ import annotations

from typing import Any

from labsim.config import LabsimConfig, describe, parameters

RUN_SETTINGS = ("seed", "posterior_draw", "mode", "horizon_weeks", "warmup_weeks", "scale", "step_h", "start")
TABLES = {"regions": "Regions (`conf/regions/default.yaml`)",
          "task_types": "Task types (`conf/task_types/default.yaml`)",
          "requesters": "Requester classes (`conf/requesters/default.yaml`)"}
SWITCHES = ("automation.learning",)


def role(key: str, meta: dict[str, Any]) -> str:
    """What a setting without a source is: '' for a parameter of the model (which needs one)."""
    if key in RUN_SETTINGS:
        return "run setting"
    if key.startswith("policy."):
        return "policy lever"
    if key.startswith("mmc."):
        return "queueing mode"
    if key.startswith(("output.", "windows.")):
        return "output"
    if key.endswith(".enabled") or key in SWITCHES or meta.get("kind") == "names":
        return "switch"
    return ""


def model_parameters_without_source(cfg: LabsimConfig | None = None) -> list[str]:
    """Keys of model parameters (not run settings, switches, levers or outputs) with no source."""
    return [key for key, _, meta in parameters(cfg) if meta.get("kind") != "text"
            and not meta.get("source") and not role(key, meta)]


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return str(v)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _allowed(meta: dict[str, Any]) -> str:
    if meta.get("kind") in ("name", "names"):
        return f"keys of {meta['table']}"
    if meta.get("kind") == "shares_by_type":
        return "shares by task type"
    if meta.get("kind") == "shares_by_jurisdiction":
        return "shares by home jurisdiction (US, EU, UK, CN, IN, other)"
    return describe(meta)


def markdown(cfg: LabsimConfig | None = None) -> str:
    cfg = cfg or LabsimConfig()
    rows = parameters(cfg)
    out = ["# Parameters", "",
           "Every setting of labsim with its default, unit, allowed values, meaning and source, written",
           "from `labsim/config.py` by `python -m labsim.parameter_table > docs/parameters.md` (a test",
           "keeps this file current). Money is in 2024 US dollars. Settings that are not facts about",
           "the world say what they are instead of a source: run settings, switches, policy levers",
           "(the policy being simulated), the queueing mode and outputs. `docs/model.md` describes the",
           "model they belong to.", ""]
    groups: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {}
    tables: dict[str, dict[str, dict[str, tuple[Any, dict[str, Any]]]]] = {}
    for key, value, meta in rows:
        if meta.get("kind") == "text":
            continue
        head = key.split(".")[0]
        if head in TABLES:
            _, row, name = key.split(".", 2)
            tables.setdefault(head, {}).setdefault(name, {})[row] = (value, meta)
        else:
            group = ".".join(key.split(".")[:2]) if head == "policy" else (head if "." in key else "run")
            groups.setdefault(group, []).append((key, value, meta))
    for group, items in groups.items():
        out += [f"## `{group}`" if group != "run" else "## Run settings", "",
                "| setting | default | unit | allowed | meaning | source |", "|---|---|---|---|---|---|"]
        for key, value, meta in items:
            source = meta.get("source") or f"*{role(key, meta) or 'missing'}*"
            out.append(f"| `{key}` | {_cell(_value(value))} | {_cell(meta.get('unit', ''))} | "
                       f"{_cell(_allowed(meta))} | {_cell(meta.get('doc', ''))} | {_cell(source)} |")
        out.append("")
    for head, fields_ in tables.items():
        names = list(next(iter(fields_.values())))
        out += [f"## {TABLES[head]}", "",
                "| setting | unit | " + " | ".join(names) + " | meaning | source |",
                "|---|---|" + "---|" * len(names) + "---|---|"]
        for field_name, by_row in fields_.items():
            meta = next(iter(by_row.values()))[1]
            values = " | ".join(_cell(_value(by_row[n][0])) for n in names)
            source = meta.get("source") or "*missing*"
            out.append(f"| `{field_name}` | {_cell(meta.get('unit', ''))} | {values} | "
                       f"{_cell(meta.get('doc', ''))} | {_cell(source)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    print(markdown(), end="")


if __name__ == "__main__":
    main()
