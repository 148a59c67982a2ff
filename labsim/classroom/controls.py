"""From the classroom's controls to a run: overrides, composition, simulation.

Everything here is plain Python (no Dash), so it is tested without a browser.
The controls are a few levers of the model; ``build_overrides`` turns them
into the same ``key=value`` overrides the ``labsim`` command takes, and
``compose`` goes through ``labsim.compose``, so a bad value is caught and
phrased as one line (``labsim.errors.UserError``) exactly as on the command
line. Each control sets configuration keys and adds no rule of its own: what
a run does is what ``labsim`` does with the same overrides
(``command_line`` prints them).

Classroom runs are short: ``CLASSROOM_SCALE`` of the population and demand
(0.1, the smallest scale at which per-worker KPIs agree with scale 1:
tests/validation/test_scale.py) and ``CLASSROOM_STEP_H``-hour cohort steps.
A run's cost is mostly per cohort step, not per worker, so the step is the
main lever, but a coarse step also moves the answer: requesters measure how
fast their tasks are taken step by step, and workers search and work in
step-long slices. Measured on the project's 2-core machine (scale 0.1, two
years, seeds 0-2, `python -m labsim` with ``step_h`` 1-6), the crowd's mean
effective wage against 2-hour steps (the model's default, at which it is
calibrated) was -4 % with 1-hour steps (21 s a run), +1 % with 3-hour steps
(8.5 s), +4 % with 4-hour steps (6.9 s) and +12 % with 6-hour steps (5.6 s;
12 s with 2-hour steps). The classroom takes 3-hour steps: within 1 % of
the calibrated model, and about 30 % faster.
``labsim-classroom --scale/--step-h`` trade speed for detail.

The page's values come from a browser, so ``Controls.from_values`` (through
which every value of the page, a lesson or ``create_app(initial=...)``
passes) takes each control only as what its component can hold, before
anything is composed: a number control a plain finite number (not true or
false, not text) within the configuration's bounds for the key it sets and
then the page's own, tighter range (``NUMBER_CONTROLS``, the sliders'
ranges); a switch on or off; the scenario one of the scenario files; the
automation speed one of the slider's speeds. Anything else is a one-line
``UserError`` naming the key, the value (shortened) and what is allowed.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

import labsim
from labsim.config import LabsimConfig, check_field, parameters
from labsim.errors import UserError, is_plain_number, shown
from labsim.hydra_app import explain, scenario_about, scenario_names
from labsim.model.windows import events

CLASSROOM_SCALE = 0.1  # the smallest scale at which per-worker KPIs agree with scale 1 (tests/validation/test_scale.py)
CLASSROOM_STEP_H = 3
# The classroom's own config group: a new region that can enter any scenario
# (Hydra cannot add a region with a plain override: regions are typed).
CONF_DIR = Path(__file__).resolve().parent / "conf"
NEW_REGION = "BGD"
NEW_REGION_SCENARIO = "new_region_entry"
# Names of the policies on the charts (a policy not named here shows as its key).
POLICY_LABELS = {"min_wage_floor": "wage floor", "paid_search_and_rejections": "paid search",
                 "psych_support": "psychological support", "exposure_cap": "exposure cap",
                 "social_protection_levy": "social-protection levy", "fair_platform": "fair platform",
                 "due_diligence": "due diligence", "training_certification": "training programme"}
# Automation speed: 0 switches automation off; 1 keeps the scenario's automation
# as configured; any other speed lets models keep learning, each new human label
# counting speed times as much (build_overrides).
AUTOMATION_SPEEDS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
HORIZON_MIN, HORIZON_MAX, HORIZON_STEP = 26, 156, 13
WARMUP_WEEKS = 13
SEED_MAX = 2**32 - 1  # the seed box: any 32-bit seed (the configuration sets no upper bound)


@dataclass(frozen=True)
class NumberControl:
    """A number control: the configuration key it sets and the page's range for it (within the
    key's declared bounds; the slider's, for a slider)."""

    key: str
    lo: float
    hi: float
    whole: bool = False

    def allowed(self) -> str:
        def g(x: float) -> str:  # 4294967295, not 4.29497e+09
            return str(int(x)) if x == int(x) else f"{x:g}"
        return f"{'a whole number' if self.whole else 'a number'} between {g(self.lo)} and {g(self.hi)}"

    def check(self, value: Any) -> int | float:
        """``value`` as the run takes it; UserError unless it is a plain number in range."""
        if not is_plain_number(value):
            raise UserError(f"{self.key}={shown(value)} is not allowed: {self.allowed()}")
        check_field(None, self.key, value, config_meta(self.key))  # the config's bounds, in its words
        if not self.lo <= value <= self.hi or (self.whole and int(value) != value):
            raise UserError(f"{self.key}={shown(value)} is not allowed: {self.allowed()} in the classroom")
        return int(value) if self.whole else float(value)


# Every number control and its range; app.py draws the sliders from these.
NUMBER_CONTROLS = {
    "horizon_weeks": NumberControl("horizon_weeks", HORIZON_MIN, HORIZON_MAX, whole=True),
    "seed": NumberControl("seed", 0, SEED_MAX, whole=True),
    "wage_floor_usd_h": NumberControl("policy.min_wage_floor.usd_h", 0.0, 10.0),
    "wage_floor_local_multiple": NumberControl("policy.min_wage_floor.local_multiple", 0.0, 3.0),
    "commission": NumberControl("crowd.commission", 0.0, 0.6),
    "commission_large_batch": NumberControl("crowd.commission_large_batch", 0.0, 0.6),
    "exposure_cap_hours": NumberControl("policy.exposure_cap.max_hours_per_day", 1.0, 8.0),
}
# Switches (on the page, checklists holding ["on"] or []).
TOGGLES = ("wage_floor", "psych_support", "exposure_cap", "new_region")
# Controls with a list of choices: the scenario files, the automation slider's speeds.
CHOICE_CONTROLS = ("scenario", "automation_speed")


@lru_cache(maxsize=1)
def _config_metas() -> dict[str, dict[str, Any]]:
    return {key: meta for key, _, meta in parameters()}


def config_meta(key: str) -> dict[str, Any]:
    """What the configuration declares for ``key`` (kind, bounds...)."""
    return _config_metas()[key]


def check_value(name: str, value: Any) -> Any:
    """The value of control ``name`` as ``Controls`` holds it, or UserError (one line) when the
    control cannot take it (see the module's docstring)."""
    if name in NUMBER_CONTROLS:
        return NUMBER_CONTROLS[name].check(value)
    if name in TOGGLES:
        if isinstance(value, bool):
            return value
        if isinstance(value, (list, tuple)) and list(value) in ([], ["on"]):
            return bool(value)  # a checklist: ["on"] or []
        raise UserError(f"{name}={shown(value)} is not allowed: on or off")
    if name == "scenario":
        names = scenario_names()
        if isinstance(value, str) and value in names:
            return value
        raise UserError(f"scenario={shown(value)} is not allowed: one of {', '.join(names)}")
    if name == "automation_speed":
        if is_plain_number(value) and value in AUTOMATION_SPEEDS:
            return float(value)
        raise UserError(f"automation_speed={shown(value)} is not allowed: one of "
                        f"{', '.join(f'{s:g}' for s in AUTOMATION_SPEEDS)} (the slider's speeds)")
    raise UserError(f"{shown(name)}: no such control (one of {', '.join(Controls.names())})")


@dataclass
class Controls:
    """The levers on the classroom page (ids of the page's controls are these names)."""

    scenario: str = "baseline"
    horizon_weeks: int = 104
    seed: int = 0
    wage_floor: bool = False
    wage_floor_usd_h: float = 0.0
    wage_floor_local_multiple: float = 1.0
    commission: float = 0.20  # crowd.commission: batches under crowd.large_batch_min_tasks tasks
    commission_large_batch: float = 0.40  # crowd.commission_large_batch: the others, most of the work
    psych_support: bool = False
    exposure_cap: bool = False
    exposure_cap_hours: float = 4.0
    automation_speed: float = 1.0
    new_region: bool = False

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> "Controls":
        """Controls from the page's values (toggles given as lists), each checked by
        ``check_value``: unknown keys and values a control cannot take are refused in one line."""
        names = cls.names()
        unknown = [k for k in values if k not in names]
        if unknown:
            key = unknown[0]
            key = key if isinstance(key, str) and key.isprintable() and len(key) <= 40 else shown(key)
            raise UserError(f"{key}: no such control (one of {', '.join(names)})")
        return cls(**{name: check_value(name, values[name]) for name in names if name in values})

    def policy_start_week(self) -> int:
        return policy_start_week(self.horizon_weeks)


def policy_start_week(horizon_weeks: Any) -> int:
    """Policies (and the new region) start a third of the way through, so the before/after shows
    (week 1 for what is not a number of weeks)."""
    try:
        return max(1, int(round(float(horizon_weeks) / 3)))
    except (TypeError, ValueError, OverflowError):  # OverflowError: infinite or huge
        return 1


def policy_names(cfg: LabsimConfig) -> list[str]:
    """The policies of a configuration (every one has ``enabled`` and ``start_week``)."""
    return [f.name for f in fields(cfg.policy)]


_COMPOSE_LOCK = threading.Lock()  # Hydra's global state is not thread-safe


def compose(overrides: list[str]) -> LabsimConfig:
    """``labsim.compose`` under a lock, its errors as one-line ``UserError``."""
    with _COMPOSE_LOCK:
        try:
            return labsim.compose(overrides)
        except Exception as exc:  # noqa: BLE001 - every problem becomes one line
            raise UserError(explain(exc, overrides)) from None


@lru_cache(maxsize=64)
def scenario_config(scenario: str) -> LabsimConfig:
    """A scenario as its file defines it (no classroom settings)."""
    if scenario not in scenario_names():
        raise UserError(f"scenario={scenario!r} is not allowed: one of {', '.join(scenario_names())}")
    return compose([f"scenario={scenario}"])


def scenario_description(scenario: str) -> str:
    """A scenario's one-line description, as students read it (what it does; when is a setting, and
    the classroom starts policies a third of the way through)."""
    return scenario_about(scenario).description


def controls_for_scenario(scenario: str, keep: Controls | None = None) -> Controls:
    """The controls showing what ``scenario`` sets (horizon and seed kept from ``keep``)."""
    cfg = scenario_config(scenario)
    pol = cfg.policy
    base = keep or Controls()
    return replace(
        base, scenario=scenario,
        wage_floor=bool(pol.min_wage_floor.enabled),
        wage_floor_usd_h=float(pol.min_wage_floor.usd_h),
        wage_floor_local_multiple=float(pol.min_wage_floor.local_multiple),
        commission=float(cfg.crowd.commission),
        commission_large_batch=float(cfg.crowd.commission_large_batch),
        psych_support=bool(pol.psych_support.enabled),
        exposure_cap=bool(pol.exposure_cap.enabled),
        exposure_cap_hours=float(pol.exposure_cap.max_hours_per_day),
        automation_speed=1.0 if cfg.automation.enabled else 0.0,
        new_region=NEW_REGION in cfg.regions)


def _num(v: Any) -> str:
    """A control's value as an override value (floats without trailing noise)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 10))
    return str(v)


def _path_value(text: str) -> str:
    """A path as an override value, quoted when Hydra's grammar needs it."""
    if re.fullmatch(r"[A-Za-z0-9_/.:+-]+", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def build_overrides(c: Controls, scale: float = CLASSROOM_SCALE, step_h: int = CLASSROOM_STEP_H) -> list[str]:
    """The ``key=value`` overrides that run ``c`` (what the ``labsim`` command would take)."""
    base = scenario_config(c.scenario)
    start = c.policy_start_week()
    horizon = c.horizon_weeks
    try:
        warmup = min(WARMUP_WEEKS, max(0, int(float(horizon)) // 4))
    except (TypeError, ValueError):
        warmup = WARMUP_WEEKS
    ov = [f"scenario={c.scenario}", f"horizon_weeks={_num(horizon)}", f"warmup_weeks={warmup}",
          f"seed={_num(c.seed)}", f"scale={_num(scale)}", f"step_h={_num(step_h)}",
          "output.progress=false", "output.report=false"]
    # Every policy the scenario (or a control) switches on starts a third of the way in.
    ov += [f"policy.{name}.start_week={start}" for name in policy_names(base)]
    # A run without a policy splits its 'before' and 'after' weeks there too, so that a lesson's two
    # runs report the same weeks.
    ov.append(f"windows.reference_week={start}")
    ov += [f"policy.min_wage_floor.enabled={_num(bool(c.wage_floor))}",
           f"policy.min_wage_floor.usd_h={_num(c.wage_floor_usd_h)}",
           f"policy.min_wage_floor.local_multiple={_num(c.wage_floor_local_multiple)}",
           f"policy.psych_support.enabled={_num(bool(c.psych_support))}",
           f"policy.exposure_cap.enabled={_num(bool(c.exposure_cap))}",
           f"policy.exposure_cap.max_hours_per_day={_num(c.exposure_cap_hours)}",
           f"crowd.commission={_num(c.commission)}",
           f"crowd.commission_large_batch={_num(c.commission_large_batch)}"]
    speed = c.automation_speed
    if isinstance(speed, (int, float)) and not isinstance(speed, bool) and speed <= 0:
        ov.append("automation.enabled=false")
    else:
        # x1 is the scenario's automation as configured (in the stationary baseline, models
        # trained already that stop learning). Any other speed lets the models keep learning
        # from every new label, that many times faster per label, from the same start: the
        # labels behind the start and the half-way point both shrink by the speed, so the
        # share done by models at t = 0 is the configured one.
        ov.append("automation.enabled=true")
        numeric = isinstance(speed, (int, float))
        if not numeric or speed != 1:
            ov.append("automation.learning=true")
        for name, t in base.task_types.items():
            if t.automatable and numeric and speed != 1:
                ov.append(f"task_types.{name}.automation_half_labels={t.automation_half_labels / float(speed):.6g}")
                ov.append(f"task_types.{name}.labels_before_start={t.labels_before_start / float(speed):.6g}")
            elif t.automatable and not numeric:
                ov.append(f"task_types.{name}.automation_half_labels={_num(speed)}")
    has_region = NEW_REGION in base.regions
    if c.new_region and not has_region:
        ov += [f"hydra.searchpath=[{_path_value('file://' + CONF_DIR.as_posix())}]",
               f"+region_entry={NEW_REGION}"]
    if c.new_region:
        ov.append(f"regions.{NEW_REGION}.entry_week={start}")
    elif has_region:
        ov.append(f"~regions.{NEW_REGION}")
    return ov


def command_line(overrides: list[str]) -> str:
    """The ``labsim`` command that runs the same configuration (for the handout)."""
    def quote(o: str) -> str:
        return f"'{o}'" if any(ch in o for ch in "[]{}~ ,()") else o
    return "labsim " + " ".join(quote(o) for o in overrides if not o.startswith("output."))


@dataclass
class ClassRun:
    """One classroom run: what was asked, what ran, what came out."""

    id: str
    controls: Controls
    overrides: list[str]
    timeseries: pl.DataFrame
    kpis: dict[str, Any]
    events: list[tuple[float, str]]
    seconds: float
    scale: float
    step_h: int
    number: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        return asdict(self.controls)


def simulate(c: Controls, scale: float = CLASSROOM_SCALE, step_h: int = CLASSROOM_STEP_H) -> ClassRun:
    """Compose and run the controls; ``UserError`` (one line) when they cannot run."""
    try:
        overrides = build_overrides(c, scale, step_h)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"cannot use these settings: {exc}") from None
    cfg = compose(overrides)
    if cfg.mode != "market":
        raise UserError(f"scenario {c.scenario} is labsim's queueing-theory mode (one queue, no countries "
                             "or wages): the classroom's charts need a market scenario, pick another one")
    t0 = time.perf_counter()
    try:
        results = labsim.run(cfg)
    except Exception as exc:  # noqa: BLE001
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"the run failed: {first}") from None
    seconds = time.perf_counter() - t0
    return ClassRun(id=run_key(overrides), controls=c, overrides=overrides, timeseries=results.timeseries,
                    kpis={**results.kpis, "meta": results.meta},
                    events=events(cfg, lambda name: POLICY_LABELS.get(name, name.replace("_", " "))),
                    seconds=seconds, scale=scale, step_h=step_h)


def run_key(overrides: list[str]) -> str:
    import hashlib

    return hashlib.sha1("\n".join(overrides).encode()).hexdigest()[:12]


class RunCache:
    """The last runs, by id, kept on the server (a class shares one machine).

    The same settings run again come back from here at once: runs are
    deterministic for a seed. ``run_pair`` runs a lesson's "before" in a
    helper process while this one runs the "after", so on two cores the pair
    takes about as long as one run.
    """

    def __init__(self, size: int = 24) -> None:
        self.size = size
        self._runs: OrderedDict[str, ClassRun] = OrderedDict()
        self._lock = threading.Lock()
        self._count = 0
        self._pool = None

    def get(self, run_id: str | None) -> ClassRun | None:
        if not run_id:
            return None
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                self._runs.move_to_end(run_id)
            return run

    def _cached(self, c: Controls, scale: float, step_h: int) -> ClassRun | None:
        cached = self.get(run_key(build_overrides(c, scale, step_h)))
        if cached is None:
            return None
        return replace(cached, controls=c, extra={**cached.extra, "cached": True})

    def _store(self, run: ClassRun) -> ClassRun:
        with self._lock:
            self._count += 1
            run.number = self._count
            self._runs[run.id] = run
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
        return run

    def run(self, c: Controls, scale: float = CLASSROOM_SCALE, step_h: int = CLASSROOM_STEP_H) -> ClassRun:
        return self._cached(c, scale, step_h) or self._store(simulate(c, scale, step_h))

    def _helper(self):
        """A one-process pool (labsim.jobs.Pool: spawned, as a fork would copy the server's threads; it
        ignores Ctrl+C, which the server answers, and ends with the server), made on first use."""
        with self._lock:
            if self._pool is None:
                from labsim.jobs import Pool

                self._pool = Pool(1)
            return self._pool

    def warm_up(self) -> None:
        """Start the helper process now (it imports labsim and loads the compiled kernel once), so the
        first pair is quick."""
        from labsim.api import warm_up

        try:
            self._helper().submit(warm_up)
        except Exception:  # noqa: BLE001 - run_pair falls back to one process
            pass

    def run_pair(self, first: Controls, second: Controls, scale: float = CLASSROOM_SCALE,
                 step_h: int = CLASSROOM_STEP_H) -> tuple[ClassRun, ClassRun]:
        """Both runs (``first`` numbered before ``second``), in parallel when neither is cached."""
        one, two = self._cached(first, scale, step_h), self._cached(second, scale, step_h)
        future = None
        if one is None and two is None:
            build_overrides(first, scale, step_h)  # a bad value fails here, before any process starts
            try:
                future = self._helper().submit(simulate, first, scale, step_h)
            except Exception:  # noqa: BLE001 - no helper: one after the other
                future = None
        if two is None:
            two = simulate(second, scale, step_h)
        if one is None and future is not None:
            try:
                one = future.result()
            except UserError:
                raise
            except Exception:  # noqa: BLE001 - the helper died: run it here
                one = None
        if one is None:
            one = simulate(first, scale, step_h)
        if not one.extra.get("cached"):
            self._store(one)
        if not two.extra.get("cached"):
            self._store(two)
        return one, two

    def close(self) -> None:
        """Stop the helper process (the server is stopping; labsim-classroom calls this)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
