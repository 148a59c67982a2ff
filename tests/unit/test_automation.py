"""Automation learning curves, the split of batches, evaluation demand, inequality."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labsim.model.rules.automation import automation_odds, evaluation_demand, split_tasks
from labsim.results import gini

labels = st.floats(0, 1e12, allow_nan=False)


def automation_share(labels, ceiling, half_labels, steepness):
    """The model's share of new tasks at the start's costs with no other machine (routing.channel_shares
    with no LLM and a machine factor of 1): the ceiling times the learning curve's x / (1 + x)."""
    x = automation_odds(labels, half_labels, steepness)
    return ceiling * (x / (1.0 + x))


def test_share_is_half_the_ceiling_at_half_labels():
    """At automation_half_labels the model does half of what it eventually can."""
    assert automation_share(np.array([3e8]), 0.6, 3e8, 1.5)[0] == pytest.approx(0.3)
    assert automation_share(np.array([0.0]), 0.6, 3e8, 1.5)[0] == 0.0


@given(l1=labels, l2=labels, ceiling=st.floats(0, 1), steep=st.floats(0.1, 5))
def test_share_rises_with_labels_and_never_exceeds_the_ceiling(l1, l2, ceiling, steep):
    """More human labels never lower the automation share, which stays in [0, ceiling]."""
    lo, hi = sorted([l1, l2])
    a = automation_share(np.array([lo]), ceiling, 3e8, steep)[0]
    b = automation_share(np.array([hi]), ceiling, 3e8, steep)[0]
    assert 0.0 <= a <= b + 1e-12 <= ceiling + 1e-12


@given(size=st.integers(1, 10 ** 6), share=st.floats(0, 1), qa=st.floats(0, 1))
def test_split_keeps_every_task(size, share, qa):
    """Human and automated tasks add up to the batch; review returns part of the model's share."""
    human, auto = split_tasks(np.array([size]), np.array([share]), np.array([qa]))
    assert human[0] + auto[0] == size and 0 <= auto[0] <= size
    assert auto[0] <= size * share + 0.5 + 1e-9


def test_automation_creates_evaluation_work():
    """Evaluation demand grows with the automated share."""
    assert evaluation_demand(0.0, 2.0) == 1.0
    assert evaluation_demand(0.25, 2.0) == pytest.approx(1.5)


def test_gini_of_equal_and_concentrated_wages():
    """Gini is 0 when all earn the same and (n-1)/n when one earns everything."""
    assert gini(np.full(10, 3.0)) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 8.0])) == pytest.approx(0.75)
