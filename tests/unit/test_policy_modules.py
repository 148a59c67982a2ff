"""One policy module at a time, through its hooks, on small hand-built markets (no Hydra).

Each test enables one policy in ``LabsimConfig()``, builds a market of one
region and one or two task types, hand-sets a few workers and calls the
hook the market would call (``weekly_money``, ``start_week``,
``set_levers``, the step hooks, ``update_workers``, ``exits``, ``books``),
then checks a value worked out by hand from the rule in the module's
docstring.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from labsim.model.market import Market
from labsim.model.policies import PolicySet, in_force
from labsim.model.policies.social_protection_levy import FUND
from labsim.model.rules import joining, routing, schedule
from labsim.model.rules.schedule import Online
from labsim.model.rules.work import Pairs
from labsim.model.state import EXIT_BURNOUT, EXIT_LOW_PAY, EXIT_NONE
from labsim.model.units import CROWD, HOURS_PER_WEEK, VENDOR
from tests.unit.small_world import add, book_row, cell_of, config, market, region, task, work_step

WEEK = HOURS_PER_WEEK


# --- small worlds --------------------------------------------------------------------------------


def only(m: Market):
    """The one policy the market built."""
    assert len(m.policies.all) == 1
    return m.policies.all[0]


# --- policies/__init__.py ------------------------------------------------------------------------

def test_a_policy_is_in_force_from_its_start_weeks_boundary():
    """Start week 2: the week starting at 336 h is the first; 168 h is not; a disabled policy never is."""
    p = SimpleNamespace(enabled=True, start_week=2.0)
    assert not in_force(p, 168.0) and not in_force(p, 335.0)
    assert in_force(p, 336.0) and in_force(p, 336.0 - 1e-10) and in_force(p, 504.0)
    assert not in_force(SimpleNamespace(enabled=False, start_week=0.0), 336.0)


def test_the_policy_set_builds_only_enabled_policies_in_the_order_of_payments():
    """Only the enabled policies are built, paid search before the wage floor (which counts its pay)."""
    cfg = config()
    for name in ("exposure_cap", "min_wage_floor", "paid_search_and_rejections"):
        getattr(cfg.policy, name).enabled = True
    assert [p.name for p in PolicySet(cfg).all] == ["paid_search_and_rejections", "min_wage_floor",
                                                    "exposure_cap"]
    assert PolicySet(config()).all == []


def test_step_limits_list_only_policies_whose_step_hooks_apply_that_week():
    """An exposure cap from week 2 limits steps from the week starting at 336 h; a wage floor never does."""
    cfg = config("exposure_cap", types={"mod": task(toxicity=1.0)}, start_week=2.0)
    cfg.policy.min_wage_floor.enabled = True
    cfg.policy.min_wage_floor.start_week = 0.0
    m = market(cfg)
    assert m.policies.step_limits == []  # set at t = 0
    m.policies.set_levers(m, 168.0)
    assert m.policies.step_limits == []
    m.policies.set_levers(m, 336.0)
    assert [p.name for p in m.policies.step_limits] == ["exposure_cap"]


def test_a_cap_with_nothing_to_cap_never_limits_steps_but_training_always_does():
    """No task type reaches the cap's toxicity: never a step limit. Training limits steps before its start
    week too (those enrolled keep training)."""
    cfg = config("exposure_cap", types={"text": task(toxicity=0.0)}, start_week=0.0)
    cfg.policy.training_certification.enabled = True
    cfg.policy.training_certification.start_week = 5.0
    m = market(cfg)
    assert [p.name for p in m.policies.step_limits] == ["training_certification"]


# --- policies/min_wage_floor.py ------------------------------------------------------------------

def _floor_market(**settings):
    kw = dict(usd_h=2.0, local_multiple=2.0, start_week=1.0)
    kw.update(settings)
    return market(config("min_wage_floor", regions={"KEN": region(min_wage_usd_h=1.5)}, **kw))


def test_crowd_pay_is_topped_up_to_the_floor_over_paid_and_unpaid_hours():
    """Floor max(2, 2 x 1.5) = 3 USD/h x (8 paid + 2 unpaid) h = 30 USD; earned 12: top-up 18 USD.
    A worker earning 40 USD in 10 h gets nothing; vendor staff get no crowd top-up."""
    m = _floor_market()
    a = add(m, 3, channel=[CROWD, CROWD, VENDOR], wk_paid_h=[8.0, 8.0, 10.0], wk_unpaid_h=[2.0, 2.0, 0.0],
            wk_earn_uusd=[12_000_000, 40_000_000, 5_000_000])
    m.policies.weekly_money(m, a, 168.0)
    assert m.pool.wk_earn_uusd[a].tolist() == [30_000_000, 40_000_000, 5_000_000]
    wk, c = m.accounts.week, cell_of(m, 0, 0, CROWD)
    assert wk["topup_uusd"][c] == 18_000_000 and m.accounts.totals["topup_uusd"] == 18_000_000
    assert wk["earnings_uusd"][c] == 18_000_000 and wk["requester_spend_uusd"][c] == 18_000_000


def test_a_top_up_is_rounded_up_to_the_micro_dollar():
    """2.000002 USD/h x 0.25 h = 500_000.5 µUSD: the top-up is 500_001, never below the floor."""
    m = _floor_market(usd_h=2.000002, local_multiple=0.0)
    a = add(m, wk_paid_h=0.25)
    m.policies.weekly_money(m, a, 168.0)
    assert m.pool.wk_earn_uusd[a[0]] == 500_001


def test_no_top_up_before_the_start_week():
    """The week starting at 0 h is before start week 1: pay stays at 12 USD."""
    m = _floor_market()
    a = add(m, wk_paid_h=10.0, wk_earn_uusd=12_000_000)
    m.policies.weekly_money(m, a, 0.0)
    assert m.pool.wk_earn_uusd[a[0]] == 12_000_000
    assert m.accounts.totals["topup_uusd"] == 0


def test_a_floor_in_one_region_sets_the_wage_floor_of_its_vendors_quotes_only():
    """A Kenya-only floor of max(2, 1 x local minimum) binds Kenyan vendors' quotes from its start week;
    India's stays free (0); off vendors (crowd only), no region's quote is held."""
    cfg = config("min_wage_floor", regions={"KEN": region(min_wage_usd_h=1.5), "IND": region(min_wage_usd_h=0.3)},
                 usd_h=2.0, local_multiple=1.0, start_week=1.0)
    cfg.policy.min_wage_floor.regions = ["KEN"]
    m = market(cfg)
    m.policies.set_levers(m, 0.0)
    assert m.state.levers.vendor_wage_floor_usd_h.tolist() == [0.0, 0.0]
    m.policies.set_levers(m, 168.0)
    assert m.state.levers.vendor_wage_floor_usd_h.tolist() == [2.0, 0.0]
    cfg.policy.min_wage_floor.channels = ["crowd"]
    m = market(cfg)
    m.policies.set_levers(m, 168.0)
    assert m.state.levers.vendor_wage_floor_usd_h.tolist() == [0.0, 0.0]


def test_vendors_raise_hourly_wages_to_the_floor_from_the_start_week():
    """From week 1 a vendor wage of 1 USD/h rises to the 3 USD/h floor; 4 USD/h stays."""
    m = _floor_market()
    v = add(m, 2, channel=VENDOR, team=-1, wage_uusd_h=[1_000_000, 4_000_000])
    m.policies.start_week(m, 0.0)
    assert m.pool.wage_uusd_h[v].tolist() == [1_000_000, 4_000_000]
    m.policies.start_week(m, 168.0)
    assert m.pool.wage_uusd_h[v].tolist() == [3_000_000, 4_000_000]


def test_a_floor_for_vendors_only_tops_up_no_crowd_pay():
    """With channels = [vendor], a crowd worker's 12 USD for 10 h stays 12 USD."""
    m = _floor_market(channels=["vendor"])
    a = add(m, wk_paid_h=10.0, wk_earn_uusd=12_000_000)
    m.policies.weekly_money(m, a, 168.0)
    assert m.pool.wk_earn_uusd[a[0]] == 12_000_000


def test_the_platform_counts_search_up_to_its_cap():
    """Cap 20 minutes per paid hour: 6 paid h count 2 h of a worker's 5 unpaid h, so 8 h x 3 USD/h =
    24 USD; earned 6: a top-up of 18 USD. Counting all search (the default, 6000) it is 27."""
    m = _floor_market(counted_search_min_per_paid_hour=20.0)
    a = add(m, wk_paid_h=6.0, wk_unpaid_h=5.0, wk_earn_uusd=6_000_000)
    m.policies.weekly_money(m, a, 168.0)
    assert m.pool.wk_earn_uusd[a[0]] == 24_000_000
    m = _floor_market()
    a = add(m, wk_paid_h=6.0, wk_unpaid_h=5.0, wk_earn_uusd=6_000_000)
    m.policies.weekly_money(m, a, 168.0)
    assert m.pool.wk_earn_uusd[a[0]] == 33_000_000


def test_a_week_of_search_without_a_paid_task_is_topped_up_when_all_search_counts():
    """1.5 h searched, no task found: counting all search (the default) the week pays 1.5 x 3 = 4.5 USD
    (search that finds no task is still time online, which the floor covers); with a cap per paid hour, nothing."""
    m = _floor_market()
    a = add(m, 2, wk_paid_h=[0.0, 0.0], wk_unpaid_h=[1.5, 0.0], wk_earn_uusd=[0, 0])
    m.policies.weekly_money(m, a, 168.0)
    assert m.pool.wk_earn_uusd[a].tolist() == [4_500_000, 0]
    m = _floor_market(counted_search_min_per_paid_hour=20.0)
    a = add(m, wk_paid_h=0.0, wk_unpaid_h=1.5, wk_earn_uusd=0)
    m.policies.weekly_money(m, a, 168.0)
    assert m.pool.wk_earn_uusd[a[0]] == 0


def test_the_platform_closes_sign_ups_where_top_ups_are_over_a_tenth_of_pay():
    """This week's crowd pay 10 USD in both regions, of which top-ups 2 USD in Kenya (a fifth) and 0.5 USD
    in India (a twentieth): sign-ups close in Kenya only, and next week's joiners come from India
    alone; before the start week, and at a threshold of 1, nothing closes."""
    regions = {r: region(min_wage_usd_h=1.5, potential_arrivals_per_week=500.0, reservation_wage_median_usd_h=0.01)
               for r in ("KEN", "IND")}
    m = market(config("min_wage_floor", regions=regions, usd_h=2.0, start_week=1.0))
    for r, up in ((0, 2_000_000), (1, 500_000)):
        m.accounts.post(m.accounts.cell(np.array([r]), np.array([0]), np.array([CROWD])),
                        {"earnings_uusd": np.array([10_000_000]), "topup_uusd": np.array([up])})
    m.policies.set_levers(m, 0.0)
    assert m.state.levers.signups_closed.size == 0
    m.policies.set_levers(m, 168.0)
    assert m.state.levers.signups_closed.tolist() == [True, False]
    m.state.expected_wage[:] = 5.0
    joining.join(m, 168.0)
    joined = m.pool.region[m.active][m.pool.channel[m.active] == CROWD]
    assert (joined == 1).sum() > 100 and (joined == 0).sum() == 0
    m.cfg.policy.min_wage_floor.close_signups_above_topup_share = 1.0
    m.policies.set_levers(m, 168.0)
    assert m.state.levers.signups_closed.size == 0


def test_a_minimum_reward_per_task_pays_the_floor_at_the_mean_speed():
    """A 2 USD/h floor and 1-minute tasks: a minimum reward of 1 x 2 / 60 USD = 33_333 µUSD per task on
    crowd books from the start week, the table's floor before it and when the policy is off."""
    m = _floor_market(usd_h=2.0, local_multiple=0.0, min_reward_hours_at_floor=1.0)
    crowd = m.books.is_crowd
    m.policies.set_levers(m, 0.0)
    assert (m.books.floor_uusd[crowd] == 0).all()
    m.policies.set_levers(m, 168.0)
    assert m.books.floor_uusd[crowd].tolist() == [33_333.0] * int(crowd.sum())


# --- policies/paid_search.py ---------------------------------------------------------------------

def test_a_share_of_unpaid_time_is_paid_at_the_weeks_paid_rate():
    """Paid 8 h for 16 USD (2 USD/h), 2 h unpaid, share 0.5: 1 h becomes paid, 2 USD more."""
    m = market(config("paid_search_and_rejections", start_week=0.0, share=0.5))
    a = add(m, wk_paid_h=8.0, wk_unpaid_h=2.0, wk_earn_uusd=16_000_000)
    m.policies.weekly_money(m, a, 0.0)
    p = m.pool
    assert p.wk_earn_uusd[a[0]] == 18_000_000
    assert p.wk_paid_h[a[0]] == pytest.approx(9.0) and p.wk_unpaid_h[a[0]] == pytest.approx(1.0)
    wk, c = m.accounts.week, cell_of(m, 0, 0, CROWD)
    assert wk["topup_uusd"][c] == 2_000_000 and wk["requester_spend_uusd"][c] == 2_000_000
    assert wk["paid_hours"][c] == pytest.approx(1.0) and wk["unpaid_hours"][c] == pytest.approx(-1.0)


def test_without_a_paid_hour_search_is_paid_at_the_recent_wage():
    """No paid hour this week; recent 6 USD over 3 h = 2 USD/h; 1 h unpaid x 0.5 x 2 = 1 USD."""
    m = market(config("paid_search_and_rejections", start_week=0.0, share=0.5))
    a = add(m, wk_unpaid_h=1.0, ew_earn_usd=6.0, ew_hours=3.0)
    m.policies.weekly_money(m, a, 0.0)
    assert m.pool.wk_earn_uusd[a[0]] == 1_000_000


# --- policies/psych_support.py -------------------------------------------------------------------

def test_support_sets_the_stress_levers_from_its_start_week():
    """Before week 1 stress builds and fades as usual (x 1); from it, x 0.6 and x 1.5."""
    m = market(config("psych_support", start_week=1.0, accumulation_factor=0.6, recovery_factor=1.5))
    lv = m.state.levers
    assert (lv.stress_accumulation, lv.stress_recovery) == (1.0, 1.0)  # set at t = 0
    m.policies.set_levers(m, 168.0)
    assert (lv.stress_accumulation, lv.stress_recovery) == (0.6, 1.5)


def test_support_costs_requesters_per_hour_on_toxic_types():
    """10 h on a type of toxicity 0 and 6 h on one of toxicity 1 (covered from 0.5): 6 x 0.5 USD = 3 USD."""
    cfg = config("psych_support", types={"text": task(), "mod": task(toxicity=1.0)}, start_week=0.0,
                 cost_usd_per_hour=0.5, min_toxicity=0.5)
    m = market(cfg)
    a = add(m, main_type=1)
    m.pool.wk_hours_type[a[0]] = [10.0, 6.0]
    m.policies.weekly_money(m, a, 0.0)
    wk, c = m.accounts.week, cell_of(m, 0, 1, CROWD)
    assert wk["support_cost_uusd"][c] == 3_000_000 and wk["requester_spend_uusd"][c] == 3_000_000


# --- policies/exposure_cap.py --------------------------------------------------------------------

def _cap_market():
    cfg = config("exposure_cap", types={"text": task(), "mod": task(toxicity=1.0)}, start_week=0.0,
                 max_hours_per_day=4.0, min_toxicity=0.5)
    cfg.crowd.search_min_per_hour = 0.0
    cfg.workers.days_per_week = 6.0
    cfg.vendor.shift_days_per_week = 5
    m = market(cfg)
    assert m.books.type.tolist() == [0, 1]
    return m, only(m)


def test_the_weekly_allowance_is_the_daily_cap_times_working_days():
    """4 h a day x 6 days = 24 h for the crowd, x 5 shift days = 20 h for vendor staff; 20 h used:
    4 h and 0 h left."""
    m, cap = _cap_market()
    a = add(m, 2, channel=[CROWD, VENDOR], team=[-1, 1], wk_exposed_h=20.0)
    assert cap.left(m, a).tolist() == pytest.approx([4.0, 0.0])


def test_a_worker_at_the_cap_may_not_take_capped_books():
    """A worker with 24 of 24 h used loses the toxic book; one with 10 h used keeps it."""
    m, cap = _cap_market()
    a = add(m, 2, wk_exposed_h=[24.0, 10.0])
    value = np.full((2, 2), 10.0)
    cap.restrict_choices(m, a, value)
    assert value.tolist() == [[10.0, -np.inf], [10.0, 10.0]]


def test_no_stretch_of_capped_work_runs_past_what_is_left():
    """23 of 24 h used: a 1.8 h stretch of toxic work is cut to 1 h (108 tasks to 60); the other type's
    stretch is untouched; the hour counts towards the cap."""
    m, cap = _cap_market()
    a = add(m, wk_exposed_h=23.0)
    pairs = Pairs(who=a, n_crowd=1, w=np.array([0, 0]), b=np.array([0, 1]), hours=np.array([0.5, 1.8]),
                  expected=np.array([30.0, 108.0]))
    cap.trim_hours(m, pairs)
    assert pairs.hours.tolist() == pytest.approx([0.5, 1.0])
    assert pairs.expected.tolist() == pytest.approx([30.0, 60.0])
    cap.after_work(m, pairs)
    assert m.pool.wk_exposed_h[a[0]] == pytest.approx(24.0)


def test_vendor_staff_rotate_so_capped_work_takes_its_share_of_each_step():
    """4 h of an 8 h shift: a vendor moderator with 20 h of allowance left does at most half of a
    step on capped work (the rest on other duties); a crowd worker with as much left is not held."""
    m, cap = _cap_market()
    a = add(m, 2, channel=[CROWD, VENDOR], team=[-1, 1], wk_exposed_h=0.0)
    step = float(m.sub_hours)
    pairs = Pairs(who=a, n_crowd=1, w=np.array([0, 1]), b=np.array([1, 1]), hours=np.full(2, step),
                  expected=np.full(2, 60.0 * step))
    cap.trim_hours(m, pairs)
    assert pairs.hours.tolist() == pytest.approx([step, 0.5 * step])
    assert pairs.expected.tolist() == pytest.approx([60.0 * step, 30.0 * step])


def test_a_cap_scoped_to_one_region_holds_its_workers_only():
    """A Kenya-only cap: a Kenyan crowd worker at the cap loses the toxic book, an American one with the same
    hours keeps it; a Kenyan vendor moderator rotates, an American one is not held. Vendors staff capped work
    for the covered heads only: Kenya has 2 of 8, so 1 + (2 - 1) x 2/8 = 1.25 times over."""
    cfg = config("exposure_cap", types={"text": task(), "mod": task(toxicity=1.0)},
                 regions={"KEN": region(vendor_workers=2, vendor_wage_usd_h=1.0),
                          "USA": region(vendor_workers=6, vendor_wage_usd_h=1.0)},
                 start_week=0.0, max_hours_per_day=4.0, min_toxicity=0.5)
    cfg.policy.exposure_cap.regions = ["KEN"]
    cfg.crowd.search_min_per_hour = 0.0
    cfg.workers.days_per_week = 6.0
    m = market(cfg)
    cap = only(m)
    assert m.state.levers.vendor_staffing.tolist() == pytest.approx([1.0, 1.25])
    crowd = add(m, 2, region=[0, 1], wk_exposed_h=24.0)
    value = np.full((2, m.books.crowd_cols.size), 10.0)
    cap.restrict_choices(m, crowd, value)
    toxic = int(np.flatnonzero(m.books.type[m.books.crowd_cols] == 1)[0])
    assert np.isneginf(value[0, toxic]) and value[1, toxic] == 10.0
    staff = add(m, 2, channel=VENDOR, team=1, region=[0, 1], wk_exposed_h=0.0)
    step = float(m.sub_hours)
    book = int(np.flatnonzero(m.books.type == 1)[0])  # a capped book (trim_hours reads only its type)
    pairs = Pairs(who=staff, n_crowd=0, w=np.array([0, 1]), b=np.array([book, book]), hours=np.full(2, step),
                  expected=np.full(2, 60.0 * step))
    cap.trim_hours(m, pairs)
    assert pairs.hours.tolist() == pytest.approx([0.5 * step, step])


def test_each_workers_capped_stretches_share_its_allowance_in_order():
    """Two workers with 1.5 h and 0.5 h of allowance left, each with two 1 h toxic stretches
    (interleaved): the first keeps 1 + 0.5 h, the second 0.5 + 0 h."""
    m, cap = _cap_market()
    a = add(m, 2, wk_exposed_h=[22.5, 23.5])  # 24 h a week: 1.5 and 0.5 h left
    pairs = Pairs(who=a, n_crowd=2, w=np.array([0, 1, 0, 1]), b=np.array([1, 1, 1, 1]),
                  hours=np.ones(4), expected=np.full(4, 60.0))
    cap.trim_hours(m, pairs)
    assert pairs.hours.tolist() == pytest.approx([1.0, 0.5, 0.5, 0.0])
    assert pairs.expected.tolist() == pytest.approx([60.0, 30.0, 30.0, 0.0])


def test_two_capped_stretches_in_one_step_stay_within_the_allowance():
    """19 of 20 h used (4 h x 5 days); the best toxic book holds 54 tasks (0.9 h), the next toxic book
    plenty: in a 2 h step the worker may do 1 more hour of toxic work, not 0.9 + 1.0 = 1.9 h."""
    tox = dict(toxicity=1.0)
    cfg = config("exposure_cap", types={"mod_a": task(base_piece_rate_usd=0.10, **tox),
                                        "mod_b": task(base_piece_rate_usd=0.05, **tox)},
                 start_week=0.0, max_hours_per_day=4.0, min_toxicity=0.5)
    cfg.crowd.search_min_per_hour = 0.0
    cfg.workers.days_per_week = 5.0
    m = market(cfg)
    a = add(m, wk_exposed_h=19.0)
    m.store.add(np.array([0, 1]), np.array([54, 1000]), np.array([100_000, 50_000]), np.zeros(2, np.int64),
                0.0, np.array([100.0, 100.0]))
    work_step(m, 0.0, Online(a, np.array([2.0]), np.zeros(0, np.int64), np.zeros(0)))
    assert m.pool.wk_exposed_h[a[0]] <= 20.0 + 1e-9


# --- policies/social_protection_levy.py ----------------------------------------------------------

def _levy_market(**settings):
    kw = dict(start_week=1.0, share_of_pay=0.03, leave_weeks=8.0, replacement_rate=0.6, between_jobs_weeks=4.0)
    kw.update(settings)
    m = market(config("social_protection_levy", **kw))
    return m, only(m)


def test_the_levy_takes_a_share_of_all_pay_into_the_fund():
    """3 % of 10 USD and of 5.000001 USD: 300_000 + 150_000 µUSD (150_000.03 rounded) into the fund."""
    m, levy = _levy_market()
    a = add(m, 2, channel=[CROWD, VENDOR], team=[-1, 0], wk_earn_uusd=[10_000_000, 5_000_001])
    m.policies.weekly_money(m, a, 168.0)
    assert levy.fund_uusd == 450_000 and m.accounts.totals[FUND] == 450_000
    assert m.accounts.totals["levy_uusd"] == 450_000
    assert m.accounts.totals["requester_spend_uusd"] == 450_000


def _exits(m, fund_uusd):
    levy = only(m)
    levy.fund_uusd = fund_uusd
    m.accounts.balances[FUND] = fund_uusd
    m.week_start_h = 168.0  # the week [168, 336) closes; the levy is in force from week 1
    # recent weekly pay: exponentially weighted earnings over 4 weeks of memory, / 4
    a = add(m, 3, ew_earn_usd=[40.0, 20.0, 30.0])
    reasons = np.array([EXIT_BURNOUT, EXIT_LOW_PAY, EXIT_NONE], np.int8)
    return a, m.policies.exits(m, a, reasons, 336.0)


def test_a_burnout_becomes_paid_leave_instead_of_an_exit():
    """The worker who burned out stays, on leave until 336 + 8 x 168 = 1680 h; the low-pay quit stands."""
    m, _ = _levy_market()
    a, reasons = _exits(m, 100_000_000)
    assert reasons.tolist() == [EXIT_NONE, EXIT_LOW_PAY, EXIT_NONE]
    assert m.pool.leave_until_h[a].tolist() == [1680.0, -np.inf, -np.inf]


def test_those_on_leave_and_those_who_quit_receive_benefits_from_the_fund():
    """Weekly pay 40/4 = 10 and 20/4 = 5 USD: on leave 0.6 x 10 = 6 USD; quitting 0.6 x 5 x 4 weeks = 12 USD.
    The fund of 20 USD pays 18 and keeps 2."""
    m, levy = _levy_market()
    a, _ = _exits(m, 20_000_000)
    wk, c = m.accounts.week, cell_of(m, 0, 0, CROWD)
    assert wk["benefits_uusd"][c] == 18_000_000
    assert levy.fund_uusd == 2_000_000 and m.accounts.totals[FUND] == 2_000_000
    assert m.accounts.totals["public_spend_uusd"] == 0


def test_the_public_purse_covers_the_funds_deficit():
    """Benefits of 18 USD from a fund of 5 USD: the public purse pays 13 USD and the fund ends at 0."""
    m, levy = _levy_market()
    _exits(m, 5_000_000)
    assert m.accounts.totals["benefits_uusd"] == 18_000_000
    assert m.accounts.totals["public_spend_uusd"] == 13_000_000
    assert levy.fund_uusd == 0 and m.accounts.totals[FUND] == 0


def test_before_its_start_week_the_levy_changes_no_exit():
    """In the week starting at 0 h (before week 1) a burnout is an exit and nobody is paid."""
    m, _ = _levy_market()
    a = add(m, 1, ew_earn_usd=40.0)
    m.week_start_h = 0.0
    reasons = m.policies.exits(m, a, np.array([EXIT_BURNOUT], np.int8), 168.0)
    assert reasons.tolist() == [EXIT_BURNOUT]
    assert m.accounts.totals["benefits_uusd"] == 0


# --- policies/fair_platform.py -------------------------------------------------------------------

def test_the_fair_platform_adds_its_own_book_to_each_crowd_type():
    """A type with crowd work gets a certified book on the other platform, fee 10 % whatever the batch,
    paying rejections and counted as fair; a vendor-only type gets none."""
    cfg = config("fair_platform", types={"text": task(), "bpo": task(vendor_share=1.0)}, commission=0.1)
    cfg.regions["KEN"] = region(vendor_workers=1, vendor_wage_usd_h=1.0)
    m = market(cfg)
    specs = m.books.specs
    assert [(s.task_type, s.channel, s.alt_platform) for s in specs] == [(0, CROWD, False), (0, CROWD, True),
                                                                         (1, VENDOR, False)]
    assert m.books.commission[:, 1].tolist() == [0.1, 0.1]
    assert m.books.pays_rejections.tolist() == [False, True, False]
    assert m.books.certified.tolist() == [False, True, False]
    assert m.books.count_as["tasks_done_fair"].tolist() == [False, True, False]


def test_the_fair_platforms_share_ramps_up_from_its_start_week():
    """Share 0.3 over 26 weeks from week 10: 0 in week 9, 0.3 x 13/26 = 0.15 in week 23, 0.3 in week 40."""
    m = market(config("fair_platform", start_week=10.0, ramp_weeks=26.0, market_share=0.3))
    for week, share in ((9, 0.0), (23, 0.15), (40, 0.3)):
        m.policies.set_levers(m, week * WEEK)
        assert m.state.levers.alt_platform_share == pytest.approx(share)


def test_the_fair_platform_wins_its_share_of_the_open_books_only():
    """1 batch an hour, crowd open 0.8 and geofenced 0.2: the fair platform wins 0.3 of the open share,
    0.24; the open book keeps 0.56, the geofenced book 0.2."""
    cfg = config("fair_platform", types={"text": task(geofenced_share=0.2)},
                 regions={"KEN": region(), "USA": region()})
    cfg.crowd.geofence_regions = ["USA"]  # geofenced to some regions only: not an open book
    m = market(cfg)
    m.state.levers.alt_platform_share = 0.3
    routing.route(m)
    assert m.state.book_rate_h.tolist() == pytest.approx([0.56, 0.2, 0.24])


def test_workers_prefer_the_fair_book_where_rejected_work_is_paid():
    """Half of the worker's tasks are rejected: 60 tasks an hour pay 30 on the incumbent's book, 60 on
    the fair one."""
    m = market(config("fair_platform", types={"text": task(reject_rate_novice=0.5, reject_rate_expert=0.5)}))
    a = add(m)
    assert book_row(m, a[0]).value.tolist() == pytest.approx([30.0, 60.0])


def test_on_the_fair_platform_rejected_work_is_paid_and_its_tasks_counted():
    """Every task done there, accepted or rejected, pays the batch's 50_000 µUSD with the 10 % fee on top;
    all the worker's time there is paid."""
    cfg = config("fair_platform", types={"text": task(reject_rate_novice=0.5, reject_rate_expert=0.5)},
                 commission=0.1)
    cfg.crowd.search_min_per_hour = 6.0
    m = market(cfg)
    a = add(m)
    m.store.add(np.array([1]), np.array([500]), np.array([50_000]), np.array([5_000]), 0.0, np.array([100.0]))
    work_step(m, 0.0, Online(a, np.array([2.0]), np.zeros(0, np.int64), np.zeros(0)))
    p, i = m.pool, a[0]
    done = int(p.wk_tasks[i] + p.wk_rejected[i])
    assert p.wk_tasks[i] > 0 and p.wk_rejected[i] > 0
    assert p.wk_earn_uusd[i] == done * 50_000
    assert m.accounts.totals["platform_fees_uusd"] == done * 5_000
    assert m.accounts.totals["tasks_done_fair"] == p.wk_tasks[i]
    assert p.wk_paid_h[i] == pytest.approx(1.8)  # 2 h less 0.1 h an hour of search


def test_rejected_work_on_the_fair_platform_is_paid_at_the_rate_of_the_batches_taken():
    """Two batches at 100_000 and 50_000 µUSD: rejections are paid at the mean rate of the tasks the
    worker had accepted in the stretch (pay / accepted), not at the book's best rate."""
    cfg = config("fair_platform", types={"text": task(reject_rate_novice=0.5, reject_rate_expert=0.5)},
                 commission=0.1)
    cfg.crowd.search_min_per_hour = 0.0
    m = market(cfg)
    a = add(m)
    m.store.add(np.array([1, 1]), np.array([10, 1000]), np.array([100_000, 50_000]), np.zeros(2, np.int64),
                0.0, np.array([100.0, 100.0]))
    work_step(m, 0.0, Online(a, np.array([2.0]), np.zeros(0, np.int64), np.zeros(0)))
    p, i = m.pool, a[0]
    acc, rej = int(p.wk_tasks[i]), int(p.wk_rejected[i])
    assert acc > 10 and rej > 0  # it took the dear batch whole and part of the cheap one
    accepted_pay = 10 * 100_000 + (acc - 10) * 50_000
    assert p.wk_earn_uusd[i] == accepted_pay + round(rej * accepted_pay / acc)
    assert p.wk_earn_uusd[i] < accepted_pay + rej * 100_000


# --- policies/due_diligence.py -------------------------------------------------------------------

def _dd_market(fair: bool):
    cfg = config("due_diligence", types={"text": task(vendor_share=0.25, geofenced_share=0.2)},
                 regions={"KEN": region(vendor_workers=1, vendor_wage_usd_h=1.0), "USA": region()},
                 start_week=1.0, coverage=0.4)
    cfg.crowd.geofence_regions = ["USA"]
    cfg.policy.fair_platform.enabled = fair
    return market(cfg)


def test_due_diligence_binds_its_coverage_from_the_start_week():
    """Before week 1 no demand is bound; from it, 0.4."""
    m = _dd_market(fair=False)
    assert m.state.levers.certified_binding == 0.0
    m.policies.set_levers(m, 168.0)
    assert m.state.levers.certified_binding == 0.4


def test_without_a_certified_platform_bound_demand_goes_to_vendors():
    """Vendor share 0.25 + 0.75 x 0.4 = 0.55; crowd 0.45 split 0.8 / 0.2; vendor headcount 0.55/0.25 = 2.2."""
    m = _dd_market(fair=False)
    m.policies.set_levers(m, 168.0)
    routing.route(m)
    assert m.state.book_rate_h.tolist() == pytest.approx([0.36, 0.09, 0.55])
    assert m.state.vendor_headcount_target == pytest.approx(2.2)


def test_with_a_certified_platform_bound_demand_leaves_the_crowd_books_not_the_vendors():
    """Bound 0.4 of crowd demand goes to the fair platform, which also wins 0.3 of the rest of the open share:
    0.4 + 0.6 x 0.8 x 0.3 = 0.544; open 0.8 x 0.7 x 0.6 = 0.336, geofenced 0.2 x 0.6 = 0.12; all x 0.75
    crowd. Vendors keep 0.25 and their headcount."""
    m = _dd_market(fair=True)
    m.policies.set_levers(m, 168.0)
    m.state.levers.alt_platform_share = 0.3
    routing.route(m)
    assert [(s.channel, s.alt_platform) for s in m.books.specs] == [(CROWD, False), (CROWD, False),
                                                                   (VENDOR, False), (CROWD, True)]
    assert m.state.book_rate_h.tolist() == pytest.approx([0.252, 0.09, 0.25, 0.408])
    assert m.state.vendor_headcount_target == pytest.approx(1.0)


# --- policies/training_certification.py ----------------------------------------------------------

def _training_market(**settings):
    kw = dict(start_week=0.0, enrol_prob_per_week=1.0, hours=10.0, skill_gain=0.3, cost_usd_per_hour=2.0,
              stipend_usd_per_hour=1.0)
    kw.update(settings)
    cfg = config("training_certification", regions={"KEN": region(vendor_workers=1, vendor_wage_usd_h=1.0)},
                 types={"text": task(vendor_share=0.5)}, **kw)
    cfg.workers.days_per_week = 7.0
    m = market(cfg)
    return m, only(m)


def test_crowd_workers_enrol_at_the_start_of_the_first_week():
    """With enrolment certain, every crowd worker present at t = 0 enrols for 10 h; vendor staff do not."""
    m, tc = _training_market()
    a = add(m, 2, channel=[CROWD, VENDOR], team=[-1, 0])
    m.rosters = schedule.Rosters.for_week(m, 0.0)
    m.policies.start_week(m, 0.0)
    assert m.pool.enrolled[a].tolist() == [True, False]
    assert m.pool.training_left_h[a].tolist() == [10.0, 0.0]
    assert tc.anyone_training


def test_trainees_spend_their_online_time_in_training_first():
    """3 h of course left: a 2 h step is all training (the trainee is not looking for work in it);
    in the next, 1 h of training, 1 h left for work."""
    m, tc = _training_market()
    a = add(m, enrolled=True, training_left_h=3.0)
    tc.anyone_training = True
    on = Online(a, np.array([2.0]), np.zeros(0, np.int64), np.zeros(0))
    tc.online_time(m, on)
    assert on.crowd.size == 0 and on.crowd_h.size == 0 and m.pool.training_left_h[a[0]] == 1.0
    on = Online(a, np.array([2.0]), np.zeros(0, np.int64), np.zeros(0))
    tc.online_time(m, on)
    assert on.crowd_h.tolist() == [1.0] and m.pool.training_left_h[a[0]] == 0.0
    assert m.pool.training_h[a[0]] == 3.0 and m.pool.wk_train_h[a[0]] == 3.0


def test_graduates_are_certified_and_gain_skill_in_the_target_type():
    """Course done: certified, skill 0.5 + 0.3 = 0.8 (ceiling raised from 0.6 to 0.8); a worker not yet
    enrolled enrols at the tick."""
    m, tc = _training_market()
    a = add(m, 2, enrolled=[True, False], skill=0.5)
    m.pool.skill_cap[a, 0] = 0.6
    m.policies.update_workers(m, a, 168.0)
    p = m.pool
    assert p.certified[a].tolist() == [True, False] and p.enrolled[a].tolist() == [False, True]
    assert p.skill[a[0], 0] == pytest.approx(0.8) and p.skill_cap[a[0], 0] == pytest.approx(0.8)
    assert p.training_left_h[a[1]] == 10.0


@pytest.mark.parametrize("credential", [True, False])
def test_a_certificate_opens_the_target_types_qualified_batches_as_a_track_record_would(credential):
    """Types a (the target) and b, each with an open and a qualified book: a newcomer with no track record
    is certified on graduating; with ``credential`` the target's qualified book opens to it, the other
    type's stays closed; without, both stay closed."""
    cfg = config("training_certification", types={"a": task(qualified_value_premium=1.3),
                                                  "b": task(qualified_value_premium=1.3)},
                 start_week=0.0, enrol_prob_per_week=0.0, skill_gain=0.0, credential=credential)
    cfg.policy.training_certification.target_task_type = "a"
    cfg.requesters["all"].qualified_share = 0.3
    m = market(cfg)
    qualified = [b for b, s in enumerate(m.books.specs) if s.needs_qualification]
    assert [m.books.specs[b].task_type for b in qualified] == [0, 1]
    a = add(m, enrolled=True, skill=0.5)
    col = {b: int(np.flatnonzero(m.books.crowd_cols == b)[0]) for b in qualified}
    assert np.isneginf(book_row(m, a[0]).value[list(col.values())]).all()
    m.policies.update_workers(m, a, 168.0)
    assert m.pool.certified[a[0]]
    assert np.isfinite(book_row(m, a[0]).value[col[qualified[0]]]) == credential
    assert np.isneginf(book_row(m, a[0]).value[col[qualified[1]]])


def test_nobody_enrols_before_the_start_week():
    """Start week 2: the tick at 168 h enrols nobody, the tick at 336 h (for the week from 336 h) does."""
    m, tc = _training_market(start_week=2.0)
    a = add(m)
    m.policies.update_workers(m, a, 168.0)
    assert not m.pool.enrolled[a[0]]
    m.policies.update_workers(m, a, 336.0)
    assert m.pool.enrolled[a[0]]


def test_the_public_purse_pays_the_course_and_the_stipends():
    """10 h of training: course 10 x 2 USD = 20 USD, stipend 10 x 1 USD = 10 USD, public spend 30 USD."""
    m, tc = _training_market()
    a = add(m, wk_train_h=10.0)
    m.policies.weekly_money(m, a, 0.0)
    wk, c = m.accounts.week, cell_of(m, 0, 0, CROWD)
    assert wk["training_cost_uusd"][c] == 20_000_000 and wk["benefits_uusd"][c] == 10_000_000
    assert wk["public_spend_uusd"][c] == 30_000_000
    assert wk["requester_spend_uusd"][c] == 0


def test_a_trainee_trains_through_its_whole_session():
    """A 6 h session from 08:00 (UTC) with 40 h of course left: 6 h of training that day."""
    m, tc = _training_market(hours=40.0)
    a = add(m, utc_offset=0.0, start_local_h=8.0, session_h=6.0)
    m.open_week(0.0)  # rosters, then enrolment at t = 0
    assert m.pool.enrolled[a[0]]
    for now in range(0, 24, 2):
        for phase in m.step_phases():
            phase(float(now))
    assert m.pool.training_h[a[0]] == pytest.approx(6.0)
