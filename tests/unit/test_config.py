"""The configuration: one source of defaults, and a declared range for every setting."""

from __future__ import annotations

import dataclasses
import math

import pytest

import labsim
from labsim.config import ConfigError, LabsimConfig, describe, parameters, validate


def _flat(obj, prefix=""):
    out = {}
    for key, value in (dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj).items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_python_defaults_and_composed_defaults_are_the_same_model():
    """LabsimConfig(), labsim.compose([]) and the command line's composition agree key by key
    (the YAML says how to compose, the dataclasses hold every default)."""
    python, composed = _flat(LabsimConfig()), _flat(labsim.compose([]))
    assert python.keys() == composed.keys()
    differ = {k: (python[k], composed[k]) for k in python if python[k] != composed[k]}
    assert not differ
    assert len(python) > 200  # the tables are in: 7 regions x 13 + 5 types x 25 + the rest


def test_every_setting_declares_what_it_accepts():
    """Each leaf setting has a kind; each numeric one has finite bounds on both sides or a
    stated reason for an open side; each has a one-line meaning."""
    for key, _, meta in parameters():
        assert meta.get("kind") in {"number", "int", "share", "bool", "choice", "name", "names", "text",
                                    "shares_by_type", "shares_by_jurisdiction"}, key
        assert meta.get("doc"), key
        if meta["kind"] in {"number", "int"}:
            for side in ("lo", "hi"):
                bound = meta[side]
                assert (bound is not None and math.isfinite(bound)) or meta["unbounded"], (key, side)


def test_every_default_lies_in_its_range():
    """The shipped defaults validate: each value inside its declared range."""
    validate(LabsimConfig())


def _numeric_settings():
    return [(key, meta) for key, _, meta in parameters() if meta["kind"] in {"number", "int", "share"}]


def _set(cfg, key, value):
    *path, leaf = key.split(".")
    node = cfg
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    setattr(node, leaf, value)


@pytest.mark.slow  # a configuration composed for every numeric setting
@pytest.mark.parametrize("key, meta", _numeric_settings(), ids=lambda x: x if isinstance(x, str) else "")
def test_values_just_outside_a_range_are_refused_with_the_rule(key, meta):
    """Just below the lower bound and just above the upper one, a setting is refused with one
    line naming the key, the value and what is allowed."""
    for side, step in (("lo", -1), ("hi", 1)):
        bound = meta[side]
        if bound is None:
            continue
        outside = bound + step * max(1e-6 * abs(bound), 1e-6)
        if meta["kind"] == "int":
            outside = int(bound) + step
        cfg = LabsimConfig()
        _set(cfg, key, outside)
        with pytest.raises(ConfigError) as err:
            validate(cfg)
        assert str(err.value).startswith(f"{key}=") and describe(meta) in str(err.value)


@pytest.mark.parametrize("key, value, rule", [
    ("requesters.academic.type_shares", {"image_annotation": 0.5, "text_classification": 0.35,
                                          "content_moderation": 0.05, "rlhf_preference": 0.05,
                                          "safety_evaluation": 0.05}, "sum to 1 over the classes"),
    ("requesters.academic.type_shares", {"poetry": 1.0}, "a task type: one of image_annotation"),
    ("task_types.text_classification.llm_share", 0.9, "less than automation_ceiling (0.7"),
    ("task_types.content_moderation.llm_share", 0.1, "less than automation_ceiling (0;"),
    ("wellbeing.high_stress_threshold", 5.0, "at most wellbeing.burnout_threshold"),
    ("demand.office_start_local_h", 18.0, "less than demand.office_end_local_h"),
    ("seed", 1.5, "a whole number"),
    ("workers.hours_per_week_median", 200.0, "at most 168"),
    ("crowd.search_min_per_hour", 61.0, "between 0 and 60"),
    ("workers.base_quit_hazard_per_week", 2.0, "between 0 and 1"),
    ("demand.growth_per_year", -5.0, "greater than -1"),
    ("automation.eval_task_types", ["nope"], "one of image_annotation"),
    ("policy.min_wage_floor.channels", ["crowd", "bus"], "one of crowd, vendor"),
])
def test_cross_field_and_set_rules(key, value, rule):
    """Pairs keep their order (min <= max, thresholds in order) and names name something."""
    cfg = LabsimConfig()
    _set(cfg, key, value)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert rule in str(err.value)


def test_a_value_that_calls_a_resolver_is_refused_without_reading_it(monkeypatch):
    """``seed=${oc.env:...}`` would read the server's environment and print it in the error: it is refused
    in one line that names the key and not the variable's value; Hydra's own settings keep their
    interpolations; a plain interpolation of another setting is not a resolver."""
    import labsim
    from labsim.errors import UserError
    from labsim.hydra_app import check_overrides

    monkeypatch.setenv("LABSIM_SECRET", "s3cr3t-value")
    for args in (["seed=${oc.env:LABSIM_SECRET}"], ["-m", "seed=0,${oc.env:LABSIM_SECRET}"]):
        with pytest.raises(UserError) as err:
            check_overrides(args)
        assert "seed" in str(err.value) and "s3cr3t" not in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UserError):
        labsim.compose(["scenario=baseline", "policy.min_wage_floor.usd_h=${oc.env:LABSIM_SECRET}"])
    check_overrides(["-m", "seed=0,1", "hydra.sweep.subdir=${hydra.job.override_dirname}"])
    assert labsim.compose(["horizon_weeks=20", "warmup_weeks=${horizon_weeks}", "warmup_weeks=4"]).warmup_weeks == 4


def test_a_setting_given_twice_on_the_command_line_is_refused():
    """``seed=1 seed=2`` would silently run seed 2: refused in one line naming both."""
    from labsim.errors import UserError
    from labsim.hydra_app import check_overrides

    with pytest.raises(UserError, match=r"seed is given twice \(seed=1 and seed=2\)"):
        check_overrides(["seed=1", "seed=2"])


def test_a_policy_or_region_that_starts_after_the_run_gets_a_one_line_warning_not_a_refusal():
    """The wage floor scenario starts in week 52: a 14-week run of it is valid but cannot show it, so the
    command line warns in one line (once for the sweep's configurations); so does a region entering after
    the horizon. A policy starting inside the run gives no warning."""
    from labsim.config import late_starts
    from labsim.hydra_app import check_overrides

    short = ["scenario=min_wage_floor", "horizon_weeks=14", "warmup_weeks=2"]
    assert check_overrides(["-m", *short, "seed=0,1"]) == [
        "policy.min_wage_floor starts in week 52, after the run ends (horizon_weeks=14): the run cannot show it"]
    cfg = labsim.compose([*short, "policy.min_wage_floor.start_week=3", "regions.MDG.entry_week=20"])
    assert late_starts(cfg) == [
        "regions.MDG.entry_week=20 is after the run ends (horizon_weeks=14): its workers never join"]
    assert check_overrides(["scenario=min_wage_floor", "horizon_weeks=60"]) == []


def test_runs_outside_the_calibrated_setting_are_named():
    from labsim.config import outside_calibration

    assert outside_calibration(LabsimConfig()) == []
    assert outside_calibration(labsim.compose(["scale=0.1", "horizon_weeks=60"])) == []
    notes = outside_calibration(labsim.compose(["scale=0.05", "start=stylised", "horizon_weeks=10",
                                                "warmup_weeks=1"]))
    assert [n.split()[0] for n in notes] == ["scale=0.05", "start=stylised:", "the"]
    assert "9 weeks" in notes[2]
    assert outside_calibration(labsim.compose(["scenario=mmc", "scale=0.01"])) == []  # no market to calibrate
