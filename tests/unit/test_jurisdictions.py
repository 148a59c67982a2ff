"""Requesters' home jurisdictions and a rule scoped by them, piece by piece: the draw of each batch's
requester group, the cover a rule sets, office hours by home, the leakage split on frames whose answer
is known, and bad settings refused with one line."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import labsim
from labsim.config import JURISDICTIONS
from labsim.errors import ConfigError
from labsim.model.rules.arrivals import _arrive
from labsim.model.rules.posting import home_weights, office_hours_profile, posting_profile
from labsim.model.tables import Requesters, TaskTypes, home_cum
from labsim.stats import LEAKAGE, MOVED, leakage_split, rule_differences

N_SUB = 2 * len(JURISDICTIONS)


def _draw(n: int, class_cum: np.ndarray, cum: np.ndarray, covered: np.ndarray, redirect: float,
          redirectable=(True, False), seed: int = 0):
    """``n`` batches of one type over two books (a crowd book, redirectable, and its vendor book, half the
    batches each) with the classes' ``class_cum`` (books x classes) and sub-groups' ``cum``."""
    u = np.random.default_rng(seed).random((n, 5))
    return _arrive(np.array([n]), u, np.array([1.0, 1.0]), np.array([0, 0]), np.array([[0, 1]]), np.array([2]),
                   class_cum, cum, covered, np.array([redirect]), np.array([1]), np.array(redirectable)), u


def test_the_group_draw_keeps_the_class_and_follows_the_home_shares():
    """The class is the one the class's uniform picks (as before requesters had homes), and within each
    class the sub-groups come out in their shares: the uniform rescaled within the class's interval is
    uniform and independent of the class."""
    rows = [type("R", (), {"home_shares": {"US": 0.5, "EU": 0.3, "other": 0.2}, "large_shares": {"EU": 0.5}})(),
            type("R", (), {"home_shares": {"CN": 1.0}, "large_shares": {"CN": 1.0}})()]
    cum = home_cum(rows)
    class_cum = np.array([[0.3, 1.0], [0.6, 1.0]])
    (which, cls, grp, cov, *_), u = _draw(200_000, class_cum, cum, np.zeros(N_SUB, bool), 0.0)
    # Compare with the class each uniform picks on its own book, the batches being in book order.
    book = (u[:, 0] > 0.5).astype(int)
    order = np.argsort(book, kind="stable")
    expected = (u[order, 1][:, None] > class_cum[book[order]][:, :1]).sum(axis=1)
    assert (cls == expected).all() and (which == book[order]).all()
    assert (grp // N_SUB == cls).all() and not cov.any()
    sub = grp % N_SUB
    first = cls == 0
    eu = list(JURISDICTIONS).index("EU")
    shares = np.bincount(sub[first], minlength=N_SUB) / first.sum()
    assert shares[2 * eu] == pytest.approx(0.15, abs=0.005) and shares[2 * eu + 1] == pytest.approx(0.15, abs=0.005)
    assert shares[0] == pytest.approx(0.5, abs=0.005)  # the US, all small
    cn = list(JURISDICTIONS).index("CN")
    assert (sub[~first] == 2 * cn + 1).all()


def test_a_rule_moves_its_share_of_covered_crowd_batches_and_no_other():
    """Covered batches drawn on a redirectable crowd book go to the vendor book with the rule's
    probability; uncovered ones, and covered ones already at vendors, stay where they were drawn."""
    rows = [type("R", (), {"home_shares": {"US": 0.6, "EU": 0.4}, "large_shares": {"EU": 1.0}})()]
    cum = home_cum(rows)
    covered = np.zeros(N_SUB, bool)
    covered[2 * list(JURISDICTIONS).index("EU") + 1] = True
    (which, _, grp, cov, *_), u = _draw(200_000, np.array([[1.0], [1.0]]), cum, covered, 0.3)
    # In drawing order: each batch's book and (one class) sub-group, from its own uniforms.
    drawn_book = (u[:, 0] > 0.5).astype(int)
    drawn_cov = covered[np.minimum((u[:, 1][:, None] > cum[0][None, :]).sum(axis=1), N_SUB - 1)]
    is_cov = covered[grp % N_SUB]
    assert is_cov.mean() == pytest.approx(0.4, abs=0.005) and is_cov.sum() == drawn_cov.sum()
    assert (cov[~is_cov] == 0).all() and (cov[is_cov] > 0).all()
    # uncovered batches stay where they were drawn; covered ones at vendors stay there
    for b in (0, 1):
        assert ((which == b) & ~is_cov).sum() == ((drawn_book == b) & ~drawn_cov).sum()
    assert ((which == 1) & (cov == 1)).sum() == ((drawn_book == 1) & drawn_cov).sum()
    # of the covered batches drawn on the crowd book, the rule's share moved to the vendor book
    moved = (cov == 2).sum() / ((drawn_book == 0) & drawn_cov).sum()
    assert moved == pytest.approx(0.3, abs=0.01) and (which[cov == 2] == 1).all()
    # a book that is not redirectable (a certified platform) keeps its covered batches
    (which2, _, _, cov2, *_), _ = _draw(20_000, np.array([[1.0], [1.0]]), cum, covered, 1.0, (False, False))
    assert not (cov2 == 2).any()


def test_office_hours_by_home_mix_the_homes_clocks_by_their_share_of_batches():
    cfg = labsim.compose(["demand.office_hours_by_home=true"])
    types = TaskTypes.from_config(cfg)
    w = home_weights(cfg, types.batches_per_h)
    assert w.sum() == pytest.approx(1.0) and w[0] > 0.5  # the US posts most
    d = cfg.demand
    mixed = sum(wj * office_hours_profile(off, d.office_hours_boost, d.office_start_local_h, d.office_end_local_h)
                for wj, off in zip(w, JURISDICTIONS.values()))
    profile = posting_profile(cfg, types)
    assert profile == pytest.approx(mixed) and profile.mean() == pytest.approx(1.0)
    # off: one clock, the configured offset's
    one = posting_profile(labsim.compose([]), types)
    assert one == pytest.approx(office_hours_profile(d.requester_utc_offset_h, d.office_hours_boost))
    # work arrives around the clock more evenly when buyers post from several homes
    assert profile.max() < one.max()


def test_the_shipped_classes_have_homes_that_sum_to_one():
    req = Requesters.from_config(labsim.compose([]))
    assert req.home_cum.shape == (req.n, N_SUB)
    assert np.allclose(req.home_cum[:, -1], 1.0) and (np.diff(req.home_cum, axis=1) >= 0).all()


@pytest.mark.parametrize("override, key", [
    ("requesters.academic.home_shares.US=0.9", "requesters.academic.home_shares"),
    ("+requesters.academic.home_shares.XX=0.1", "requesters.academic.home_shares.XX"),
    ("policy.due_diligence.jurisdictions=[EU,Mars]", "policy.due_diligence.jurisdictions"),
    ("policy.due_diligence.chain_depth=third_tier", "policy.due_diligence.chain_depth"),
])
def test_bad_jurisdiction_settings_are_refused_with_the_key(override, key):
    with pytest.raises(ConfigError) as err:
        labsim.compose([override])
    line = str(err.value)
    assert "\n" not in line and key in line


# --- where the covered work goes, on frames whose answer is known -----------------------------------

def _group(home: str, size: str, human_crowd: float, human_vendor: float, automated: float, cost: float,
           covered: bool) -> dict[str, float]:
    g = f"group:enterprise:{home}:{size}"
    return {f"{g}.tasks_human": human_crowd + human_vendor, f"{g}.tasks_human_crowd": human_crowd,
            f"{g}.tasks_human_vendor": human_vendor, f"{g}.tasks_automated": automated,
            f"{g}.cost_human_usd": cost, f"{g}.covered": float(covered)}


def test_the_leakage_split_adds_up_and_finds_each_destination():
    """Covered work 100 tasks (60 crowd, 40 vendors); under the rule, 70 at vendors, 10 more to machines,
    15 more bought by uncovered requesters: done under the rule 0.7, moved 0.25 (0.15 + 0.10), no
    longer done 0.05."""
    rows = []
    for seed in range(3):
        rows.append({"status": "ok", "scenario": "baseline", "seed": seed,
                     **_group("EU", "large", 60, 40, 20, 30.0, False), **_group("US", "large", 500, 100, 50, 180.0, False)})
        rows.append({"status": "ok", "scenario": "eu_rule", "seed": seed,
                     **_group("EU", "large", 0, 70, 30, 42.0, True), **_group("US", "large", 510, 105, 50, 180.0, False)})
    runs = pl.DataFrame(rows)
    split = leakage_split(runs)
    covered = split.filter(pl.col("kpi") == LEAKAGE)
    value = dict(zip(covered["part"], covered["value"]))
    assert value == pytest.approx({"total": 1.0, "done_under_rule": 0.7, "moved": 0.25, "no_longer_done": 0.05})
    assert covered.filter(pl.col("part") == "total")["residual"][0] == pytest.approx(0.0, abs=1e-12)
    moved = dict(zip(*split.filter(pl.col("kpi") == MOVED).select("part", "value")))
    assert moved == pytest.approx({"total": 0.25, "to_uncovered_requesters": 0.15, "to_machines": 0.10,
                                   "to_uncovered_tier": 0.0})
    diffs = rule_differences(runs)
    cost = diffs.filter((pl.col("scope") == "rule:covered") & (pl.col("kpi") == "people_cost_per_task_usd"))
    assert cost["mean_diff"][0] == pytest.approx(0.6 - 0.3)
    # a scenario whose rule binds nobody has no split
    none = runs.with_columns(pl.lit(0.0).alias("group:enterprise:EU:large.covered"))
    assert leakage_split(none).height == 0 and rule_differences(none).height == 0
