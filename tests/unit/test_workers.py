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


def test_a_half_hour_zone_splits_the_hour_between_yesterdays_and_todays_session():
    """An hour that begins 23.5 h after a 4 h session's start holds no part of that session and
    the first half hour of the next: 0.5 h online, and the session starts in that hour."""
    frac, starts = session_fraction(0.0, np.array([23.5, 0.5, 3.5]), np.array([4.0, 4.0, 4.0]))
    # elapsed 23.5: the next session starts 0.5 h into the hour -> 0.5 h online, starts
    # elapsed 0.5: the session started half an hour ago -> a full hour online, no start
    # elapsed 3.5: the last half hour of a 4 h session -> 0.5 h
    assert frac.tolist() == [0.5, 1.0, 0.5]
    assert starts.tolist() == [True, False, False]


def test_a_half_hour_zone_shift_keeps_its_eight_hours_over_the_day():
    """A shift starting at half past an hour (UTC+5:30, 09:00 local) adds up to 8 h over the
    24 hours of a Monday, and to none on a Saturday."""
    monday = sum(shift_fraction(h, np.array([5.5]), np.array([9.0]), 8.0, 5)[0] for h in range(24))
    saturday = sum(shift_fraction(h, np.array([5.5]), np.array([9.0]), 8.0, 5)[0] for h in range(120, 144))
    assert monday == pytest.approx(8.0) and saturday == 0.0
