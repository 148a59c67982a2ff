"""Learning by doing, reputation, qualification, night hours, joining."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labsim.model.rules.joining import lognormal_cdf, truncated_lognormal
from labsim.model.rules.schedule import night_share
from labsim.model.rules.skills import approval_rate, learn, qualified


def test_learning_closes_63_percent_of_the_gap_in_learning_hours():
    """After learning_hours of work a worker has closed 1 - 1/e of its gap to full skill."""
    assert learn(np.array([0.5]), np.array([150.0]), 150.0)[0] == pytest.approx(1 - 0.5 / np.e)


@given(skill=st.floats(0, 1), h1=st.floats(0, 5000), h2=st.floats(0, 5000))
def test_skill_grows_with_experience_and_stays_below_one(skill, h1, h2):
    """More hours never mean less skill; skill never exceeds 1; no hours, no change."""
    lo, hi = sorted([h1, h2])
    a = learn(np.array([skill]), np.array([lo]), 150.0)[0]
    b = learn(np.array([skill]), np.array([hi]), 150.0)[0]
    assert skill - 1e-12 <= a <= b + 1e-12 <= 1.0 + 1e-12
    assert learn(np.array([skill]), np.array([0.0]), 150.0)[0] == pytest.approx(skill)


def test_reputation_is_the_approval_rate():
    """Reputation is accepted over reviewed tasks, 1 before any review."""
    assert approval_rate(np.array([90, 0]), np.array([100, 0])).tolist() == [0.9, 1.0]


def test_qualification_needs_both_count_and_rate():
    """Qualified batches need enough approved tasks and a high enough approval rate."""
    acc = np.array([20000, 20000, 100])
    done = np.array([21000, 30000, 100])
    assert qualified(acc, done, 15000, 0.9).tolist() == [True, False, False]


def test_night_is_eight_hours_a_day():
    """Over the 24 hours of a day, 8 fall in the night (22:00-06:00), fractions included."""
    assert night_share(np.arange(24.0)).sum() == pytest.approx(8.0)
    assert night_share(np.arange(24.0) + 0.5).sum() == pytest.approx(8.0)
    assert night_share(np.array([23.0, 3.0, 12.0, 21.5, 5.5])).tolist() == [1, 1, 0, 0.5, 0.5]


def test_joiners_have_reservation_wages_below_the_expected_wage():
    """Truncated draws stay below the quantile, and the CDF is that of the log-normal."""
    share = lognormal_cdf(3.0, 1.5, 0.6)
    draws = truncated_lognormal(np.random.default_rng(0), 1.5, 0.6, share, 2000)
    assert draws.max() <= 3.0 + 1e-9
    assert lognormal_cdf(1.5, 1.5, 0.6) == pytest.approx(0.5)
    assert lognormal_cdf(0.0, 1.5, 0.6) == 0.0
