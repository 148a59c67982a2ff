"""Hydra wiring: the schema, the scenario presets, composition and friendly errors.

Scenario files live in ``scenarios/`` (``# @package _global_``, listing only
what they change) and are registered as the config group ``scenario``, so
``scenario=NAME`` selects one. Users add their own with Hydra's search path:
a folder holding ``scenario/NAME.yaml``, passed as
``hydra.searchpath=[file:///abs/path/to/folder]``.

Hydra's own error reports run over several lines and mention stack traces;
``check_overrides`` composes the configuration first, the way the run will,
and turns any problem into one line: the key, the value, what is allowed.
"""

from __future__ import annotations

import difflib
import itertools
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf

from labsim.config import LabsimConfig, late_starts, register_configs, validate
from labsim.errors import ConfigError, UserError
from labsim.paths import config_dir, scenarios_dir

_REGISTERED = False


def register() -> None:
    """Register the schema and the bundled scenarios with Hydra (once)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from hydra.core.config_store import ConfigStore

    register_configs()
    cs = ConfigStore.instance()
    for path in sorted(scenarios_dir().glob("*.yaml")):
        cs.store(group="scenario", name=path.stem, node=OmegaConf.load(path), package="_global_")
    _REGISTERED = True


def scenario_names() -> list[str]:
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def to_config(cfg: Any) -> LabsimConfig:
    """A validated LabsimConfig from a LabsimConfig, a DictConfig or a plain dict."""
    if not isinstance(cfg, LabsimConfig):
        node = OmegaConf.merge(OmegaConf.structured(LabsimConfig), cfg)
        cfg = OmegaConf.to_object(node)
    validate(cfg)
    return cfg


def compose(overrides: list[str] | tuple[str, ...] = ()) -> LabsimConfig:
    """Compose conf/ + a scenario + overrides, as the command line does, and validate."""
    screen_overrides(list(overrides), once=False)  # in Python a later override may replace an earlier one
    return to_config(compose_dict(list(overrides)))


# A value that calls a resolver: ``${oc.env:HOME}``, ``${oc.decode:...}``, any ``${name:...}``.
_RESOLVER = re.compile(r"\$\{\s*[A-Za-z_][\w.]*\s*:")


def screen_overrides(overrides: list[str], once: bool = True) -> None:
    """Refuse, in one line, what composition would accept or mishandle: a value that calls a
    resolver outside Hydra's own settings (``${oc.env:HOME}`` reads the environment of the
    machine running labsim, and composition's error would print it back), and, with ``once``
    (a command line), a setting given twice (the last would silently win)."""
    seen: dict[str, str] = {}
    for o in overrides:
        key, _, value = o.partition("=")
        bare = key.lstrip("+~")
        if bare.startswith("hydra."):
            continue  # Hydra's interpolations (hydra.sweep.subdir=${hydra.job.override_dirname}) are its own
        if _RESOLVER.search(value):
            raise UserError(f"{bare}: a value may not call a resolver such as ${{oc.env:...}} (it could read "
                            "the environment or files); write the value itself")
        if once and bare in seen:
            raise UserError(f"{bare} is given twice ({seen[bare]} and {o}): give each setting once")
        seen[bare] = o


def compose_dict(overrides: list[str]) -> DictConfig:
    """Compose the configuration for ``overrides`` without running anything."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose(config_name="config", overrides=overrides)
    return cfg


# --- turning errors into one line -------------------------------------------------------

def _all_keys(node: Any, prefix: str = "") -> list[str]:
    keys = []
    if isinstance(node, DictConfig):
        for k in node.keys():
            full = f"{prefix}.{k}" if prefix else str(k)
            keys.append(full)
            keys.extend(_all_keys(node._get_node(k), full))
    return keys


def _suggest(key: str) -> str:
    try:
        known = _all_keys(OmegaConf.structured(LabsimConfig)) + _all_keys(compose_dict([]))
    except Exception:  # pragma: no cover - suggestions are a courtesy
        return ""
    close = difflib.get_close_matches(key, sorted(set(known)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def explain(exc: BaseException, overrides: list[str]) -> str:
    """One line saying what is wrong with the user's input."""
    if isinstance(exc, (ConfigError, UserError)):
        return str(exc)
    text = "\n".join(str(e) for e in _chain(exc))
    m = re.search(r"Could not find '([^']+)/([^']+)'", text)
    if m:
        group, name = m.group(1), m.group(2)
        listed = re.search(rf"Available options in '{re.escape(group)}':\n((?:\t.*\n?)+)", text)
        options = listed.group(1).split() if listed else scenario_names()
        return f"{group}={name!r} is not allowed: one of {', '.join(options)}"
    m = (re.search(r"Key '([^']+)' (?:is not in struct|not in '\w+')\s+full_key: (\S+)", text)
         or re.search(r"Could not override '()([^']+)'", text))
    if m:
        key = m.group(2)
        given = [o.split("=", 1)[1] for o in overrides if o.lstrip("+~").split("=", 1)[0] == key]
        shown = f"{key}={given[0]}" if given else key
        return f"{shown}: no such setting{_suggest(key)}"
    m = re.search(r"Value '([^']*)' (?:of type '\w+' )?could not be converted to (\w+)\s+full_key: (\S+)", text)
    if m:
        kind = {"Integer": "a whole number", "Float": "a number", "Boolean": "true or false"}.get(
            m.group(2), m.group(2))
        return f"{m.group(3)}={m.group(1)!r} is not allowed: {kind}"
    m = re.search(r"Error parsing override '([^']+)'", text)
    if m:
        return f"cannot read the override {m.group(1)!r}: write key=value, e.g. seed=3"
    if type(exc).__name__ == "OverrideParseException":
        return f"cannot read the command line {' '.join(overrides)!r}: {text.strip().splitlines()[0]}"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


# --- checking a command line before Hydra runs it ------------------------------------

def _combinations(overrides: list[str]) -> list[list[str]]:
    """Override lists to check: every value of every sweep, with the others at their first."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    choices: list[list[str]] = []
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            values = list(o.sweep_string_iterator())
        else:
            values = [o.get_value_element_as_str()]
        choices.append([f"{key}={v}" for v in values])
    if not choices:
        return [[]]
    combos = [[c[0] for c in choices]]
    for i, c in enumerate(choices):
        for v in c[1:]:
            combo = [x[0] for x in choices]
            combo[i] = v
            combos.append(combo)
    return combos


def check_overrides(args: list[str]) -> list[str]:
    """Compose and validate every configuration a command line would run; raise UserError.
    Returns the warnings of the configurations checked (``config.late_starts``), each once."""
    overrides = [a for a in args if not a.startswith("-") and "=" in a]
    stray = [a for a in args if not a.startswith("-") and "=" not in a]
    if stray:
        raise UserError(f"cannot read {stray[0]!r}: settings are written key=value, e.g. seed=3")
    # Hydra's own settings are Hydra's business, except the search path for scenarios.
    overrides = [o for o in overrides if not o.lstrip("+~").startswith("hydra.")
                 or o.lstrip("+~").startswith("hydra.searchpath")]
    screen_overrides(overrides)
    try:
        combos = _combinations(overrides)
    except Exception as exc:
        raise UserError(explain(exc, overrides)) from None
    warnings: list[str] = []
    for combo in itertools.islice(combos, 200):
        try:
            cfg = to_config(compose_dict(combo))
        except Exception as exc:
            raise UserError(explain(exc, combo)) from None
        warnings += [w for w in late_starts(cfg) if w not in warnings]
    return warnings
