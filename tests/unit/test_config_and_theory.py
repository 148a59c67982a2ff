"""Configuration validation and the closed-form queueing results."""


import pytest

from labsim.config import ConfigError, validate
from labsim.theory import erlang_c, mmc_mean_wait
from tests.conftest import small_config


def test_default_configuration_is_valid():
    """The shipped configuration validates."""
    validate(small_config())


@pytest.mark.parametrize("path, value, fragment", [
    (("horizon_weeks",), -5.0, "greater than 0"),
    (("task_types", "image_annotation", "reject_rate_novice"), 1.5, "between 0 and 1"),
    (("regions", "KEN", "min_wage_usd_h"), -1.0, "greater than 0"),
    (("warmup_weeks",), 500.0, "fewer weeks than horizon_weeks"),
    (("mode",), "nope", "one of market, mmc"),
])
def test_bad_values_are_refused_with_key_value_and_rule(path, value, fragment):
    """validate() names the key, the value and what is allowed."""
    cfg = small_config()
    node = cfg
    for key in path[:-1]:
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    setattr(node, path[-1], value)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert ".".join(path) in str(err.value) and fragment in str(err.value)


def test_erlang_c_single_server_is_utilisation():
    """For one server the probability of waiting is the utilisation, and W_q = rho / (mu - lam)."""
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_wait(1, 0.7, 1.0) == pytest.approx(0.7 / 0.3)


def test_erlang_c_textbook_value():
    """C(2, 1) = 1/3 (two servers, offered load one Erlang)."""
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_erlang_c_refuses_unstable_load():
    """An offered load at or above the number of servers has no steady state."""
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)
