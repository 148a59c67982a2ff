"""Stress, burnout and their effect on quality."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labsim.model.rules.wellbeing import burned_out, stress_reject_penalty, stress_update

levels = arrays(np.float64, 8, elements=st.floats(0, 5))
hours = arrays(np.float64, 8, elements=st.floats(0, 80))


def test_a_week_of_full_time_moderation_adds_stress():
    """40 toxic hours at 0.0025 per hour add 0.1 to a worker of sensitivity 1."""
    s = stress_update(np.array([0.0]), np.array([40.0]), np.array([1.0]), 0.0025, 0.1)
    assert s[0] == pytest.approx(0.1)


def test_rest_lets_stress_fade_exponentially():
    """With no exposure, a share 1 - exp(-r) of stress fades each week."""
    s = stress_update(np.array([1.0]), np.array([0.0]), np.array([1.0]), 0.0025, 0.1)
    assert s[0] == pytest.approx(np.exp(-0.1))


@given(stress=levels, toxic=hours)
def test_stress_is_never_negative(stress, toxic):
    """Stress stays at or above zero."""
    assert np.all(stress_update(stress, toxic, np.ones(8), 0.003, 0.2) >= 0)


@given(stress=levels)
def test_without_exposure_stress_only_recovers(stress):
    """Zero exposure never raises stress."""
    assert np.all(stress_update(stress, np.zeros(8), np.ones(8), 0.003, 0.2) <= stress + 1e-12)


@given(stress=levels, toxic=hours, extra=hours)
def test_more_exposure_means_more_stress(stress, toxic, extra):
    """More toxic hours never lower stress."""
    a = stress_update(stress, toxic, np.ones(8), 0.003, 0.2)
    b = stress_update(stress, toxic + extra, np.ones(8), 0.003, 0.2)
    assert np.all(b >= a - 1e-12)


@given(stress=levels, toxic=hours)
def test_psychological_support_lowers_stress(stress, toxic):
    """Lower accumulation and faster recovery never leave a worker more stressed."""
    without = stress_update(stress, toxic, np.ones(8), 0.003, 0.2)
    supported = stress_update(stress, toxic, np.ones(8), 0.003, 0.2,
                              support_accumulation=0.5, support_recovery=2.0)
    assert np.all(supported <= without + 1e-12)


def test_stress_raises_rejections_up_to_a_cap():
    """The rejection penalty grows linearly with stress and stops at burnout."""
    pen = stress_reject_penalty(np.array([0.0, 0.5, 1.0, 3.0]), 1.0, 0.15)
    assert pen.tolist() == pytest.approx([0.0, 0.075, 0.15, 0.15])


def test_burnout_at_the_threshold():
    """A worker burns out when stress reaches the threshold."""
    assert burned_out(np.array([0.99, 1.0, 1.2]), 1.0).tolist() == [False, True, True]
