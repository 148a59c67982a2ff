"""Worker rules: quitting, schedules, speed and quality."""

import numpy as np
import pytest

from labsim.model.rules.schedule import session_fraction, session_phase, shift_fraction
from labsim.model.rules.skills import reject_probability, tasks_per_hour
from labsim.model.rules.turnover import exit_reasons, quit_hazard
from labsim.model.state import EXIT_LOW_PAY, EXIT_NONE, EXIT_OTHER


def test_no_shortfall_means_base_hazard_only():
    """A worker earning at least its reservation wage quits only at the base hazard."""
    total, low = quit_hazard(np.array([5.0, 10.0]), np.array([5.0, 5.0]), 0.01, 0.2)
    assert np.allclose(total, 0.01) and np.allclose(low, 0.0)


def test_earning_nothing_gives_full_low_pay_hazard():
    """A worker earning nothing faces the whole low-pay hazard on top of the base one."""
    total, low = quit_hazard(np.array([0.0]), np.array([2.0]), 0.01, 0.2)
    assert low[0] == pytest.approx(0.2)
    assert total[0] == pytest.approx(1 - 0.99 * 0.8)


def test_exit_reason_follows_the_single_draw():
    """Below the low-pay hazard the exit is for low pay, then other, then none."""
    u = np.array([0.05, 0.15, 0.5])
    reasons = exit_reasons(u, total=np.full(3, 0.2), low_pay=np.full(3, 0.1))
    assert reasons.tolist() == [EXIT_LOW_PAY, EXIT_OTHER, EXIT_NONE]


def test_session_covers_its_local_hours():
    """A 2.5 h session from 19:00 local covers 19-20, 20-21 and half of 21-22 local."""
    phase, length = session_phase(np.array([3.0]), np.array([19.0])), np.array([2.5])
    fractions = [session_fraction(h - 3.0, phase, length)[0][0] for h in range(17, 24)]
    assert fractions == [0, 0, 1, 1, 0.5, 0, 0]
    assert session_fraction(16.0, phase, length)[1][0]  # 19:00 local: the session starts


def test_vendor_shift_only_on_weekdays():
    """An 8 h shift from 09:00 local runs Monday to Friday, not at the weekend."""
    offset, start = np.array([0.0]), np.array([9.0])
    monday_10 = 10.0
    saturday_10 = 5 * 24 + 10.0
    assert shift_fraction(monday_10, offset, start, 8.0, 5)[0] == 1.0
    assert shift_fraction(saturday_10, offset, start, 8.0, 5)[0] == 0.0
    assert shift_fraction(18.0, offset, start, 8.0, 5)[0] == 0.0  # 18:00: after the shift


def test_experts_are_faster_and_rejected_less():
    """Skill raises tasks per hour and lowers the rejection rate."""
    skill = np.array([0.0, 0.5, 1.0])
    tph = tasks_per_hour(np.full(3, 2.0), skill, 1.5)
    assert tph[2] == pytest.approx(30.0) and tph[0] == pytest.approx(20.0)
    assert np.all(np.diff(tph) > 0)
    rej = reject_probability(skill, np.full(3, 0.2), np.full(3, 0.04))
    assert rej.tolist() == pytest.approx([0.2, 0.12, 0.04])
