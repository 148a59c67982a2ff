"""Hydra wiring: the schema, the scenario presets, composition and friendly errors.

Scenario files live in ``scenarios/`` (``# @package _global_``, listing only
what they change) and are registered as the config group ``scenario``, so
``scenario=NAME`` selects one. Users add their own with Hydra's search path:
a folder holding ``scenario/NAME.yaml``, passed as
``hydra.searchpath=[file:///abs/path/to/folder]``.

Hydra's own error reports run over several lines and mention stack traces;
``read_command_line`` checks every configuration a command line would run
before anything runs, the way the runs will, and turns any problem into one
line: the key, the value, what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import functools
import itertools
import math
import re
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from labsim.config import (RULES, LabsimConfig, check_field, check_rules, describe, late_starts, parameters,
                           register_configs, set_setting, settings_key, validate)
from labsim.errors import ConfigError, UserError
from labsim.paths import config_dir, scenarios_dir
from labsim.posterior import NO_DRAW, check_draw, stale_warning

_REGISTERED = False


JOB_NAME_CHARS = 120  # a job folder's name is kept well under file systems' 255


def job_folder(num: Any, overrides: Any) -> str:
    """A sweep job's folder name: its number, then its overrides (Hydra's ``override_dirname``, the
    scenario and the seed first), e.g. ``3-scenario=min_wage_floor,seed=0,horizon_weeks=104``;
    characters a file name should not hold become ``_``, and a long name is cut (the number keeps it
    unique; ``.hydra/overrides.yaml`` has them all)."""
    items = [x for x in str(overrides or "").split(",") if x]
    items.sort(key=lambda x: (0 if x.startswith("scenario=") else 1 if x.startswith("seed=") else 2))
    text = re.sub(r"[^A-Za-z0-9=,._+-]", "_", ",".join(items))
    return f"{num}-{text}"[:JOB_NAME_CHARS] if text else str(num)


def job_number(name: str) -> int | None:
    """The job number a sweep folder's job is named with (``3`` or ``3-...``), or None."""
    m = re.match(r"(\d+)(?:-|$)", name)
    return int(m.group(1)) if m else None


# conf/config.yaml names sweep jobs' folders with it; registered on import, since a sweep's worker
# processes resolve their folder there (they import this module with the job's function).
if not OmegaConf.has_resolver("labsim_job"):
    OmegaConf.register_new_resolver("labsim_job", job_folder)


class EnvironmentRefused(ValueError):
    """A configuration asked for an environment variable (``${oc.env:NAME}``)."""


def _no_environment(name: str, *default: Any) -> Any:
    raise EnvironmentRefused(f"${{oc.env:{name}}} reads the environment of the machine running labsim, which "
                             "a configuration may not do (its value could end in an error, a file or a page): "
                             "write the value itself")


# Wherever configuration enters (the command line, a scenario file, a search path's files, --cfg with
# --resolve, the classroom), ``${oc.env:...}`` is refused without reading the variable: OmegaConf's
# resolver is replaced by one that raises. Hydra's own interpolations (${now:...}, the job's name,
# its override dirname) are untouched.
OmegaConf.register_new_resolver("oc.env", _no_environment, replace=True)


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


@dataclass(frozen=True)
class ScenarioAbout:
    """What a scenario file says of itself in its opening comments: ``# title:``, ``# description:``
    (one line each), then a paragraph (``text``) on what it changes and what to watch."""

    name: str
    title: str
    description: str
    text: str


def scenario_about(name: str) -> ScenarioAbout:
    """The opening comments of ``scenarios/NAME.yaml`` (a missing file gives the name as title)."""
    path = scenarios_dir() / f"{name}.yaml"
    head: dict[str, str] = {}
    lines: list[str] = []
    for line in (path.read_text(encoding="utf-8").splitlines() if path.is_file() else []):
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        key, sep, value = text.partition(":")
        if text.startswith("@package"):
            continue
        if sep and key in ("title", "description") and not lines:
            head[key] = value.strip()
        else:
            lines.append(text)
    return ScenarioAbout(name, head.get("title", name), head.get("description", ""),
                         " ".join(x for x in lines if x))


_CHECKED = "_labsim_checked"  # set on a configuration to_config returned: its settings_key then


def to_config(cfg: Any) -> LabsimConfig:
    """A configuration that may run, from a LabsimConfig, a DictConfig or a plain dict: every key
    known, every value within its declared range and the cross-field rules, the shipped posterior's
    draw applied (``posterior_draw``) and checked again, and a run that fits in this machine's memory
    (``labsim.resources``). Raises ConfigError (one line). The one place a configuration is checked:
    one it returned, unchanged since, comes back as it is (a run, a job's folder, a worker process
    receiving it check nothing twice)."""
    from labsim import posterior, resources

    if isinstance(cfg, LabsimConfig) and getattr(cfg, _CHECKED, None) == settings_key(cfg):
        return cfg
    if not isinstance(cfg, LabsimConfig):
        cfg = typed_config(cfg)
    validate(cfg)
    if posterior.apply(cfg):  # a draw's values: within their settings' ranges, checked again with the rules
        validate(cfg)
    resources.check(cfg)
    object.__setattr__(cfg, _CHECKED, settings_key(cfg))
    return cfg


def typed_config(values: Any) -> LabsimConfig:
    """A LabsimConfig from a DictConfig or a plain dict, every key known (``refuse_unknown``) and
    every value of its field's type, not yet validated."""
    if isinstance(values, DictConfig):
        values = OmegaConf.to_container(values, resolve=False)
    refuse_unknown(values)
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(LabsimConfig), values))


def refuse_unknown(values: Any, cls: type = LabsimConfig, prefix: str = "") -> None:
    """Raise ConfigError for the first key of ``values`` (nested dicts) that ``cls`` has no field for
    (a table's entries may be new; their fields may not)."""
    if not isinstance(values, dict):
        return
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    for key, value in values.items():
        full = f"{prefix}{key}"
        if key == "hydra" and not prefix:
            continue
        f = known.get(str(key))
        if f is None:
            raise ConfigError(full, value, f"no such setting{_suggest(full)}")
        kind = f.metadata.get("kind")
        if kind == "group":
            refuse_unknown(value, hints[f.name], f"{full}.")
        elif kind == "table" and isinstance(value, dict):
            row = typing.get_args(hints[f.name])[1]
            for entry, fields_ in value.items():
                refuse_unknown(fields_, row, f"{full}.{entry}.")


def compose(overrides: list[str] | tuple[str, ...] = ()) -> LabsimConfig:
    """Compose conf/ + a scenario + overrides, as the command line does, and validate."""
    screen_overrides(list(overrides), once=False)  # in Python a later override may replace an earlier one
    try:
        return to_config(compose_dict(list(overrides)))
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - Hydra's and OmegaConf's refusals, as one line
        if any(isinstance(e, EnvironmentRefused) for e in _chain(exc)):
            raise UserError(explain(exc, list(overrides))) from None
        raise


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


def hydra_settings(overrides: list[str], keys: list[str]) -> list[Any]:
    """The values Hydra will give its own settings ``keys`` (``hydra.run.dir``...) for this command
    line, resolved (``${now:...}``, ``${hydra.job.override_dirname}``), without running anything."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base=None, job_name="cli"):
            cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
            HydraConfig.instance().set_config(cfg)
            values = [OmegaConf.select(cfg, key) for key in keys]
    except Exception as exc:
        raise UserError(explain(exc, overrides)) from None
    finally:
        GlobalHydra.instance().clear()
    return values


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
    refused = next((e for e in _chain(exc) if isinstance(e, EnvironmentRefused)), None)
    if refused is not None:  # say which setting, never what the environment holds
        key = next((getattr(e, "full_key", None) for e in _chain(exc) if getattr(e, "full_key", None)), None)
        return f"{key}: {refused}" if key else str(refused)
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
        if key == "scenario" or key.startswith("scenario."):  # a scenario file's values, in its own package
            return ("a scenario file's settings must apply to the whole configuration: write '# @package "
                    f"_global_' as its first line, as the shipped scenarios do (it set {key})")
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
    m = re.search(r"LexerNoViableAltException: (.*)", text)
    if m:
        return (f"cannot read {m.group(1).strip()!r}: quote a value holding spaces or letters outside a-z, "
                "e.g. hydra.run.dir='/data/my runs'")
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

@dataclass
class CommandLine:
    """A command line, checked: its task overrides per key (each a list of ``key=value`` strings,
    as Hydra's basic sweeper builds them: job ``i`` is the ``i``-th of their product), the first
    job's configuration and the warnings of every configuration checked."""

    choices: list[list[str]]
    config: LabsimConfig
    warnings: list[str] = field(default_factory=list)

    @property
    def first(self) -> list[str]:
        """The first job's overrides, as composition takes them (the search path included)."""
        return [c[0] for c in self.choices]

    @property
    def jobs(self) -> int:
        return math.prod(len(c) for c in self.choices)

    def job(self, i: int) -> list[str]:
        """The overrides of job ``i`` (Hydra's numbering), without building the whole product."""
        out = []
        for c in reversed(self.choices):
            i, r = divmod(i, len(c))
            out.append(c[r])
        return [o for o in out[::-1] if not o.lstrip("+~").startswith("hydra")]


_TABLES = ("regions", "task_types", "requesters")


def _lookup_field(key: str) -> tuple[str, Any]:
    """What the dotted ``key`` names in the schema, and its declaration where it is a setting:
    ('leaf', meta), ('row', meta or None) for a table entry or one of its fields, ('group', None),
    ('table', None), ('scenario', None) or ('unknown', None)."""
    if key == "scenario":
        return "scenario", None
    obj: Any = LabsimConfig
    parts = key.split(".")
    for n, part in enumerate(parts):
        f = {x.name: x for x in fields(obj)}.get(part)
        if f is None:
            return "unknown", None
        kind = f.metadata.get("kind")
        last = n == len(parts) - 1
        if kind == "table":
            if last:
                return "table", None
            if len(parts) == n + 3:  # regions.KEN.min_wage_usd_h: a field of a row
                row = typing.get_args(typing.get_type_hints(obj)[part])[1]
                meta = {x.name: x for x in fields(row)}.get(parts[-1])
                return "row", (dict(meta.metadata) if meta is not None else None)
            return "row", None
        if kind == "group":
            if last:
                return "group", None
            obj = typing.get_type_hints(obj)[part]  # the annotations are strings (from __future__)
            continue
        return ("leaf", dict(f.metadata)) if last else ("unknown", None)
    return "unknown", None


MAX_SWEEP_JOBS = 2_000_000  # jobs in one sweep: Hydra builds the list of them all before the first runs


def sweep_length(o: Any) -> int:
    """How many values a parsed override takes (1 unless it is a sweep), counted before any list is
    built; UserError for a sweep that is empty, endless or not a list of values."""
    from hydra.core.override_parser.types import ChoiceSweep, Glob, RangeSweep

    if not o.is_sweep_override():
        return 1
    text = o.input_line
    value = o.value()
    if isinstance(value, Glob):
        raise UserError(f"{text}: labsim sweeps list their values (glob() matches configuration files): "
                        "write key=a,b,c (labsim --scenarios lists the scenarios)")
    if isinstance(value, RangeSweep):
        start, stop, step = value.start, value.stop, value.step
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                   for x in (start, stop, step)):
            raise UserError(f"{text}: range() takes finite numbers: range(START, STOP[, STEP])")
        if step == 0:
            raise UserError(f"{text}: range() needs a STEP other than 0")
        n = (max(0, math.ceil((stop - start) / step)) if any(isinstance(x, float) for x in (start, stop, step))
             else len(range(start, stop, step)))
        if n == 0:
            raise UserError(f"{text}: this range is empty (from {start} up to {stop}, by {step}): "
                            f"{'give a STEP below 0 to count down' if stop < start and step > 0 else 'swap its ends'}")
        return n
    if isinstance(value, ChoiceSweep):
        return len(value.list)
    raise UserError(f"{text}: labsim sweeps lists and ranges (key=a,b or key=range(0,10)), not intervals")


def _screen_parsed(parsed: list[Any]) -> None:
    """One-line refusals Hydra would make in several lines, or not make at all; a sweep sized before
    any of its lists is built."""
    sizes = [(sweep_length(o), o) for o in parsed]
    total = math.prod(n for n, _ in sizes)
    if total > MAX_SWEEP_JOBS:
        n, o = max(sizes, key=lambda x: x[0])
        raise UserError(f"{o.input_line} is not allowed: a sweep of at most {MAX_SWEEP_JOBS:,} jobs "
                        f"(this one has {total:,}); split it into several sweeps")
    for o in parsed:
        key = o.get_key_element().lstrip("+~")
        if key.startswith("hydra") or "/" in key:
            continue
        kind, meta = _lookup_field(key)
        text = o.input_line
        if o.is_sweep_override() and not o.is_discrete_sweep():
            raise UserError(f"{text}: labsim sweeps lists and ranges (key=a,b or key=range(0,10)), not "
                            "intervals")
        values = list(o.sweep_iterator()) if o.is_sweep_override() else [o.value()]
        if kind in ("scenario", "group", "table") and any(isinstance(v, (list, dict)) for v in values):
            hint = {"scenario": "scenario takes one name (to run several: labsim -m scenario=a,b)",
                    "group": f"{key} is a group of settings: set them one by one ({key}.<setting>=VALUE)",
                    "table": f"{key} is a table: change an entry ({key}.<entry>.<setting>=VALUE), or add "
                             "entries in a scenario file"}[kind]
            raise UserError(f"{text}: {hint}")
        if o.is_add() or o.is_force_add():
            if kind == "unknown" or (kind == "row" and not _default_entry(key)):
                raise UserError(f"{text}: no such setting{_suggest(key)} (a new region, task type or class of "
                                "requesters is added in a scenario file, as scenarios/new_region_entry.yaml does)")
            if kind == "row" and meta is None and len(key.split(".")) > 3:  # a new key inside a row's mapping
                raise UserError(f"{text}: no such setting{_suggest(key)}")
            raise UserError(f"{text}: {key} exists: write {key}=... without the +")
        if o.is_delete():
            raise UserError(f"{text}: labsim settings cannot be deleted; set a value instead")


def _default_entry(key: str) -> bool:
    """Whether ``key`` (``regions.KEN...``) names an entry of the packaged tables."""
    table, entry = key.split(".")[:2]
    return entry in getattr(_defaults(), table)


@functools.lru_cache(maxsize=1)
def _defaults() -> LabsimConfig:
    return LabsimConfig()


def _coerce(key: str, value: Any, meta: dict[str, Any]) -> Any:
    """``value`` (as Hydra's parser typed it) as the field declared by ``meta`` holds it, the way
    composition would convert it; ConfigError (one line) for a value of the wrong kind."""
    kind = meta.get("kind")
    wrong = ConfigError(key, value, describe(meta) if kind in ("number", "int", "share", "bool", "choice")
                        else {"text": "text", "name": "a name", "names": "a list of names"}.get(kind, kind))
    if kind in ("number", "share", "int"):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise wrong from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
        if kind == "int":
            return int(value) if float(value).is_integer() else value  # check_field refuses 2.5
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong
        return value
    if kind == "choice":
        for c in meta["choices"]:
            if not isinstance(value, (list, dict)) and str(value) == str(c):
                return c
        raise wrong
    if kind in ("text", "name"):
        if not isinstance(value, str):
            raise wrong
        return value
    if kind == "names":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong
        return list(value)
    raise wrong


_FAST = ("number", "int", "share", "bool", "choice", "text", "name", "names")


def _fast(kind: str, meta: dict[str, Any] | None, key: str, base: LabsimConfig) -> bool:
    """Whether a value of ``key`` is checked against its declaration directly (not composed)."""
    if meta is None or meta.get("kind") not in _FAST:
        return False
    if kind == "leaf":
        return True
    table, entry = key.split(".")[:2]
    return kind == "row" and entry in getattr(base, table)


def _delta(base: LabsimConfig, other: LabsimConfig) -> dict[str, Any]:
    """The settings in which ``other`` differs from ``base``: leaves, or whole tables whose entries differ."""
    out: dict[str, Any] = {}
    for name in _TABLES:
        if set(getattr(base, name)) != set(getattr(other, name)):
            out[name] = getattr(other, name)
    mine = {k: v for k, v, _ in parameters(base)}
    for k, v, _ in parameters(other):
        if k.split(".", 1)[0] in out:
            continue
        if k not in mine or mine[k] != v:
            out[k] = v
    return out


def _touches(key: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) or fnmatch.fnmatchcase(key, p + ".*")
               or p.startswith(key + ".") for p in patterns)


def read_command_line(overrides: list[str]) -> CommandLine:
    """Compose and validate every configuration ``overrides`` would run, without building their product.

    Every distinct value of every swept key is checked once (others at their first value): a
    number against its field's declaration directly, anything else (a scenario, a table entry)
    by composing. Then the cross-field rules (``config.RULES`` and the resource estimate) are
    tried on every combination of the swept values that meet in one rule, and only those; each
    try sets a few values on one configuration and reads one rule, so a sweep of a million seeds
    costs a million field checks and no compositions. Raises UserError with one line.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from labsim import resources

    screen_overrides(overrides)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:
        raise UserError(explain(exc, overrides)) from None
    _screen_parsed(parsed)
    choices: list[list[str]] = []
    typed: list[list[Any]] = []
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            choices.append([f"{key}={v}" for v in o.sweep_string_iterator()])
            typed.append(list(o.sweep_iterator()))
        else:
            choices.append([f"{key}={o.get_value_element_as_str()}"])
            typed.append([o.value()])
    first = [c[0] for c in choices]
    # The configuration before the settings checked directly: composed (once per distinct list).
    looked = [_lookup_field(o.get_key_element().lstrip("+")) for o in parsed]
    structural = tuple(f for f, o, (kind, meta) in zip(first, parsed, looked)
                       if kind not in ("leaf", "row") or meta is None or meta.get("kind") not in _FAST)
    base = copy.deepcopy(_composing(_composed, structural))
    direct = [i for i, (o, (kind, meta)) in enumerate(zip(parsed, looked))
              if _fast(kind, meta, o.get_key_element().lstrip("+"), base)]
    for i in direct:
        key = parsed[i].get_key_element().lstrip("+")
        set_setting(base, key, _coerce(key, typed[i][0], looked[i][1]))
    if len(direct) < len(first) - len(structural):  # a row of a table the scenario lacks: Hydra says so
        base = _composing(lambda o: to_config(compose_dict(list(o))), tuple(first))
    validate(base)
    warnings = [*late_starts(base), *resources.check(base)]
    deltas: list[dict[int, dict[str, Any]]] = []  # per swept position: value index -> delta
    touched: list[set[str]] = []  # per swept position: the settings its values change
    for i, (c, o) in enumerate(zip(choices, parsed)):
        per: dict[int, dict[str, Any]] = {0: {}}
        keys: set[str] = set()
        key = o.get_key_element().lstrip("+")
        meta = looked[i][1]
        seen: dict[str, int] = {c[0]: 0}
        for j in range(1, len(c)):
            if c[j] in seen:
                per[j] = per[seen[c[j]]]
                continue
            seen[c[j]] = j
            if i in direct:
                value = _coerce(key, typed[i][j], meta)
                if meta["kind"] not in ("name", "names"):
                    check_field(base, key, value, meta)  # raises ConfigError (one line)
                per[j] = {key: value}
                keys.add(key)
                continue
            combo = list(first)
            combo[i] = c[j]
            cfg = _composing(lambda o: to_config(compose_dict(list(o))), tuple(combo))
            warnings += [w for w in (*late_starts(cfg), *resources.check(cfg)) if w not in warnings]
            per[j] = _delta(base, cfg)
            keys.update(per[j])
        deltas.append(per)
        touched.append(keys)
    _check_combinations(base, choices, deltas, touched)
    # The posterior's draws asked for: each one shipped (conf/posterior/), and the posterior still the model's.
    draws = {base.posterior_draw, *(v for i in direct if parsed[i].get_key_element().lstrip("+") == "posterior_draw"
                                    for v in typed[i])}
    if draws - {NO_DRAW}:
        for k in sorted(draws):
            check_draw(int(k))
        warnings += [w for w in [stale_warning()] if w]
    return CommandLine(choices, base, warnings)


def _composing(build: Any, overrides: tuple[str, ...]) -> LabsimConfig:
    """``build(overrides)``, its errors as one line."""
    try:
        return build(overrides)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(explain(exc, list(overrides))) from None


@functools.lru_cache(maxsize=8)
def _composed(overrides: tuple[str, ...]) -> LabsimConfig:
    """The configuration composed from ``overrides``, every key known but not yet validated (the
    settings checked directly are set on it first); kept for the next check of the same list."""
    return typed_config(compose_dict(list(overrides)))


# What the resource estimate reads (labsim.resources): a sweep's pre-check tries it on every
# combination of these settings' swept values.
RESOURCE_DRIVERS = ("scale", "horizon_weeks", "step_h", "mode", "regions", "task_types", "requesters", "mmc.*",
                    "demand.*", "workers.*", "vendor.*", "windows.*", "policy.*")


def _rules() -> list[tuple[tuple[str, ...], Any]]:
    from labsim import resources

    return [*RULES, (RESOURCE_DRIVERS, resources.check)]


def _check_combinations(base: LabsimConfig, choices: list[list[str]], deltas: list[dict[int, dict[str, Any]]],
                        touched: list[set[str]]) -> None:
    """Each cross-field rule on every combination of the swept values whose settings it reads."""
    swept = [i for i, c in enumerate(choices) if len(c) > 1]
    for patterns, rule in _rules():
        involved = [i for i in swept if any(_touches(k, patterns) for k in touched[i])]
        if not involved:
            continue  # the first configuration passed every rule
        for pick in itertools.product(*(range(len(choices[i])) for i in involved)):
            old: list[tuple[str, Any]] = []
            try:
                for i, j in zip(involved, pick):
                    for k, v in deltas[i][j].items():
                        old.append((k, set_setting(base, k, v)))
                try:
                    check_rules(base, [(patterns, rule)])
                except UserError as exc:
                    combo = " ".join(choices[i][j] for i, j in zip(involved, pick))
                    where = "in the combination" if len(involved) > 1 else "for the swept value"
                    raise UserError(f"{exc} ({where} {combo})") from None
            finally:
                for k, v in reversed(old):
                    set_setting(base, k, v)


def check_overrides(args: list[str]) -> list[str]:
    """Compose and validate every configuration a command line would run; raise UserError.
    Returns the warnings of the configurations checked (``config.late_starts``), each once."""
    return read_command_line(task_overrides(args)).warnings


MAX_YAML_BYTES = 1_000_000
MAX_YAML_VALUES = 100_000


def screen_yaml(path: Path) -> Any:
    """Refuse a user's YAML file that composition could not read in reasonable time and memory, or
    would read wrongly: over a megabyte, with anchors and aliases expanding to more than
    MAX_YAML_VALUES values (a "billion laughs" file: each alias copies its anchor, so nine levels of
    ten make a billion), with more than MAX_TABLE_ROWS rows in a table, with a key given twice, or
    empty. Returns what the file holds."""
    import yaml

    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise UserError(f"{path}: a scenario file over {MAX_YAML_BYTES // 1_000_000} MB is not read")
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        root = loader.get_single_node()
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: cannot read it as YAML ({first})") from None
    if root is None or (isinstance(root, yaml.MappingNode) and not root.value):
        raise UserError(f"{path} is empty: a scenario file sets values (see the shipped scenarios, labsim --scenarios)")
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int = 0) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if depth > 100:
            raise UserError(f"{path}: nested more than 100 levels deep")
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, _ in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        raise UserError(f"{path}: the key {k.value!r} is given twice (line {k.start_mark.line + 1}): "
                                        "give each key once")
                    seen.add(k.value)
            if depth <= 2 and len(node.value) > MAX_TABLE_ROWS:
                raise UserError(f"{path}: a table of {len(node.value):,} rows (line {node.start_mark.line + 1}); "
                                f"labsim reads at most {MAX_TABLE_ROWS:,} regions, task types or requester classes")
            n = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(v, depth + 1) for v in node.value)
        else:
            n = 1
        sizes[id(node)] = n
        return n

    if size(root) > MAX_YAML_VALUES:
        raise UserError(f"{path}: its anchors and aliases expand to more than {MAX_YAML_VALUES:,} values; "
                        "write the values out")
    try:  # what the file holds, from the nodes read above (the file is read and parsed once)
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: cannot read it as YAML ({str(exc).strip().splitlines()[0]})") from None
    finally:
        loader.dispose()


MAX_TABLE_ROWS = 1_000


def _search_folders(value: str) -> list[Path]:
    """The local folders a ``hydra.searchpath=[...]`` value names."""
    out = []
    for item in re.split(r"[,\[\]]", value):
        item = item.strip().strip("'\"")
        if item.startswith("file://"):
            out.append(Path(item[len("file://"):]))
    return out


def screen_search_path(overrides: list[str]) -> None:
    """Screen the scenario files a command line would load from the folders ``hydra.searchpath``
    adds (users' scenarios; see screen_yaml), following their ``defaults``: only those, so that a
    broken file beside them stops nothing and a search path of ``/`` is not read whole. A folder
    that is not one, or the root of the file system, is refused; so is a scenario whose defaults
    include itself."""
    folders: list[Path] = []
    for o in overrides:
        key, _, value = o.partition("=")
        if key.lstrip("+~") != "hydra.searchpath":
            continue
        for folder in _search_folders(value):
            if folder == Path(folder.anchor or "/") or str(folder) in ("", "."):
                raise UserError(f"hydra.searchpath: file://{folder} is the root of the file system: name the "
                                "folder that holds scenario/NAME.yaml")
            if not folder.is_dir():
                raise UserError(f"hydra.searchpath: file://{folder} is not a folder: name the folder that "
                                "holds scenario/NAME.yaml")
            folders.append(folder)
    if not folders:
        return
    names = [v.strip().strip("'\"") for o in overrides if o.lstrip("+~").partition("=")[0] == "scenario"
             for v in o.partition("=")[2].split(",")]
    for name in names or ["baseline"]:
        _screen_scenario(name, folders, [])


def _screen_scenario(name: str, folders: list[Path], chain: list[str]) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        return  # not a plain name (a sweep function...): read_command_line says what is wrong with it
    if name in chain:
        raise UserError(f"scenario {chain[0]}: its defaults include scenario {name} again "
                        f"({' -> '.join([*chain, name])}): a scenario cannot include itself")
    path = next((f / "scenario" / f"{name}.yaml" for f in folders if (f / "scenario" / f"{name}.yaml").is_file()),
                None)
    if path is None:
        return  # a shipped scenario, or none: Hydra says so
    content = screen_yaml(path)
    defaults = content.get("defaults") if isinstance(content, dict) else None
    for entry in defaults if isinstance(defaults, list) else []:
        if isinstance(entry, str) and entry != "_self_" and "/" not in entry and not entry.startswith("override"):
            _screen_scenario(entry.removeprefix("optional ").strip(), folders, [*chain, name])


def task_overrides(args: list[str]) -> list[str]:
    """The overrides of ``args`` that configure the run (Hydra's own settings left out, except the
    search path for scenarios); refuses words that are not ``key=value``."""
    overrides = [a for a in args if not a.startswith("-") and "=" in a]
    stray = [a for a in args if not a.startswith("-") and "=" not in a]
    if stray:
        raise UserError(f"cannot read {stray[0]!r}: settings are written key=value, e.g. seed=3")
    overrides = [o for o in overrides if not o.lstrip("+~").startswith("hydra")
                 or o.lstrip("+~").startswith("hydra.searchpath")]
    screen_search_path(overrides)
    return overrides
