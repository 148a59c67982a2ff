"""Results of a run: tidy polars tables, KPIs, and their files.

``Results.from_records`` turns the kernel's column arrays into
``timeseries`` (one row per week x region x task type x channel, plus rows
with region ``ALL`` for market flows that have no region) and ``workers``
(one row per worker ever present), and computes the KPIs (README, "KPIs")
over the post-warm-up window and each named window. ``write`` puts them in a run
directory atomically: every file is written under a temporary name first and
renamed only when all of them are complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from labsim.files import KPIS, REPORT, REQUESTERS, TIMESERIES, WORKER_WINDOWS, WORKERS, json_text, write_all
from labsim.indicators import view
from labsim.model import CHANNELS, Records
from labsim.model.state import EXIT_REASONS
from labsim.model.units import ALL_REGIONS, HOURS_PER_MONTH, HOURS_PER_WEEK, WEEKS_PER_YEAR

# Money flows of the policies (kpis and the value split): wage-floor and
# paid-search top-ups (part of worker pay), the social-protection levy and
# the benefits its fund pays, support and training services, public money.
POLICY_MONEY = ("topup_usd", "levy_usd", "benefits_usd", "support_cost_usd", "training_cost_usd",
                "public_spend_usd")
# The welfare total's parts and their signs (docs/model.md 7.3).
WELFARE_PARTS = {"worker_surplus_usd": 1, "platform_fees_usd": 1, "vendor_margin_usd": 1, "public_spend_usd": -1}
# Moderators are the workers whose main task type this is.
MODERATION = "content_moderation"
# The incidence table's indicators, reported for each channel in each region (``by_cell``, scope
# ``crowd:KEN``): who works, how much, at what wage and why (the wage's exact split in logs into
# pay for tasks per paid hour, paid hours per hour online and top-ups), and moderators' burnout
# (labsim.indicators' view ``cells``), with the tasks done that each region's share comes from.
CELL_KPIS = (*view("cells"), "tasks_done")


def _codes(values: np.ndarray, labels: list[str] | tuple[str, ...]) -> pl.Series:
    return pl.Series(np.asarray(labels, dtype=object)[values.astype(np.int64)].tolist(), dtype=pl.Utf8)


def _km_curve(duration: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival just after each distinct time (right-censored data)."""
    order = np.argsort(duration, kind="stable")
    d, e = duration[order], event[order].astype(bool)
    times, first = np.unique(d, return_index=True)
    at_risk = d.size - first
    deaths = np.add.reduceat(e.astype(np.int64), first)
    return times, np.cumprod(1.0 - deaths / at_risk)


def kaplan_meier_median(duration: np.ndarray, event: np.ndarray) -> float:
    """Median survival time (Kaplan-Meier, right-censored); NaN if survival stays above 1/2."""
    if duration.size == 0:
        return float("nan")
    times, surv = _km_curve(duration, event)
    below = np.flatnonzero(surv <= 0.5)
    return float(times[below[0]]) if below.size else float("nan")


def survival_median(entry: np.ndarray, stop: np.ndarray, event: np.ndarray) -> float:
    """Median of the survival curve (product-limit estimator with delayed entry): each subject
    is at risk from ``entry`` to ``stop`` (times since its own start) and leaves at ``stop``
    when ``event``. NaN if survival stays above 1/2 over the times observed."""
    times = np.unique(stop[event])
    if times.size == 0:
        return float("nan")
    entries, stops = np.sort(entry), np.sort(stop)
    at_risk = np.searchsorted(entries, times, side="left") - np.searchsorted(stops, times, side="left")
    deaths = np.bincount(np.searchsorted(times, stop[event]), minlength=times.size)
    surv = np.cumprod(1.0 - deaths / np.maximum(at_risk, 1))
    below = np.flatnonzero(surv <= 0.5)
    return float(times[below[0]]) if below.size else float("nan")


def kaplan_meier(duration: np.ndarray, event: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival S(t) at the times ``at`` (right-censored data)."""
    if duration.size == 0:
        return np.full(at.shape, np.nan)
    times, surv = _km_curve(duration, event)
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, surv[np.maximum(idx, 0)], 1.0)


def cohort_survival(workers: pl.DataFrame, window_start_h: float, horizon_h: float,
                    by: str = "channel") -> pl.DataFrame:
    """Share of workers who joined after warm-up still active m months after joining (Kaplan-Meier)."""
    months = np.arange(0, int((horizon_h - window_start_h) / HOURS_PER_MONTH) + 1)
    frames = []
    cohort = workers.filter(pl.col("joined_h") >= window_start_h)
    for (key,), g in cohort.group_by(by, maintain_order=True):
        left = g["left_h"].to_numpy()
        exited = ~np.isnan(left)
        duration = np.where(exited, left, horizon_h) - g["joined_h"].to_numpy()
        frames.append(pl.DataFrame({"month": months, by: [key] * months.size,
                                    "share_active": kaplan_meier(duration, exited, months * HOURS_PER_MONTH),
                                    "cohort_size": [g.height] * months.size}))
    return pl.concat(frames) if frames else pl.DataFrame()


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: all equal; 1: one holds all)."""
    if x.size == 0 or x.sum() <= 0:
        return float("nan")
    v = np.sort(x)
    n = v.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if x.size else float("nan")


@dataclass
class Results:
    """A run's tables and KPIs. ``labsim.run(cfg)`` returns one."""

    timeseries: pl.DataFrame
    workers: pl.DataFrame
    kpis: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    worker_windows: pl.DataFrame | None = None  # each worker's flows over each named window
    requesters: pl.DataFrame | None = None  # what each requester group bought, week by week

    # -- building --------------------------------------------------------------------

    @classmethod
    def from_records(cls, rec: Records, min_wage: dict[str, float],
                     meta: dict[str, Any] | None = None) -> "Results":
        ts = _timeseries(rec)
        workers = _workers(rec)
        windows = _worker_windows(rec)
        groups = pl.DataFrame(rec.requesters) if rec.requesters else None
        kpis = _kpis(rec, ts, workers, windows, min_wage, groups)
        return cls(ts, workers, kpis, dict(meta or {}), windows, groups)

    # -- files -----------------------------------------------------------------------

    def write(self, run_dir: str | Path, report_html: str | None = None) -> None:
        """Write the outputs into ``run_dir``, all or nothing."""
        payload = {**self.kpis, "meta": self.meta}
        writers = {TIMESERIES: self.timeseries.write_parquet, WORKERS: self.workers.write_parquet,
                   KPIS: lambda p: p.write_text(json_text(payload), encoding="utf-8")}
        if self.worker_windows is not None:
            writers[WORKER_WINDOWS] = self.worker_windows.write_parquet
        if self.requesters is not None:
            writers[REQUESTERS] = self.requesters.write_parquet
        if report_html is not None:
            writers[REPORT] = lambda p: p.write_text(report_html, encoding="utf-8")
        write_all(run_dir, writers)

    @classmethod
    def read(cls, run_dir: str | Path) -> "Results":
        run_dir = Path(run_dir)
        windows, groups = run_dir / WORKER_WINDOWS, run_dir / REQUESTERS
        kpis = json.loads((run_dir / KPIS).read_text())
        meta = kpis.pop("meta", None) or {}  # write() puts the meta into kpis.json beside the KPIs
        return cls(pl.read_parquet(run_dir / TIMESERIES), pl.read_parquet(run_dir / WORKERS), kpis, dict(meta),
                   pl.read_parquet(windows) if windows.is_file() else None,
                   pl.read_parquet(groups) if groups.is_file() else None)


# --- tables ---------------------------------------------------------------------------

def _timeseries(rec: Records) -> pl.DataFrame:
    c = rec.cells
    hours = c["paid_hours"] + c["unpaid_hours"]
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = np.where(hours > 0, c["earnings_usd"] / hours, np.nan)
        below = np.where(c["workers_with_hours"] > 0,
                         c["workers_below_min_wage"] / c["workers_with_hours"], np.nan)
        crowd = c["channel"] == CHANNELS.index("crowd")
        rate = np.where(crowd & (c["tasks_done_human"] > 0), c["earnings_usd"] / c["tasks_done_human"], np.nan)
        stressed = np.where(c["active_workers"] > 0, c["high_stress_workers"] / c["active_workers"], np.nan)
    regional = pl.DataFrame({
        "week": c["week"],
        "region": _codes(c["region"], rec.region_codes),
        "task_type": _codes(c["task_type"], rec.type_names),
        "channel": _codes(c["channel"], CHANNELS),
        "active_workers": c["active_workers"], "joins": c["joins"],
        "exits_low_pay": c["exits_low_pay"], "exits_burnout": c["exits_burnout"],
        "exits_other": c["exits_other"],
        "paid_hours": c["paid_hours"], "unpaid_hours": c["unpaid_hours"],
        "earnings_usd": c["earnings_usd"],
        "effective_wage_usd_h": pl.Series(eff, nan_to_null=True),
        "share_below_local_min_wage": pl.Series(below, nan_to_null=True),
        "tasks_done_human": c["tasks_done_human"], "tasks_rejected": c["tasks_rejected"],
        "mean_piece_rate_usd": pl.Series(rate, nan_to_null=True),
        "requester_spend_usd": c["requester_spend_usd"],
        "platform_fees_usd": c["platform_fees_usd"],
        "vendor_margin_usd": c["vendor_margin_usd"], "vendor_overheads_usd": c["vendor_overheads_usd"],
        "topup_usd": c["topup_usd"], "levy_usd": c["levy_usd"], "benefits_usd": c["benefits_usd"],
        "support_cost_usd": c["support_cost_usd"], "training_cost_usd": c["training_cost_usd"],
        "public_spend_usd": c["public_spend_usd"], "tasks_done_fair": c["tasks_done_fair"],
        "workers_on_leave": c["on_leave"],
        "night_hours": c["night_hours"],
        "high_stress_workers": c["high_stress_workers"],
        "high_stress_share": pl.Series(stressed, nan_to_null=True),
    })
    m = rec.market
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(m["batches_filled"] > 0, m["fill_hours"] / m["batches_filled"], np.nan)
        crowd_market = m["channel"] == CHANNELS.index("crowd")  # vendors bill by the hour
        posted_rate = np.where(crowd_market & (m["tasks_posted_human"] > 0),
                               m["posted_value_usd"] / m["tasks_posted_human"], np.nan)
        wait = np.where(m["tasks_taken"] > 0, m["wait_hours"] / m["tasks_taken"], np.nan)
    market = pl.DataFrame({
        "week": m["week"],
        "region": pl.Series([ALL_REGIONS] * m["week"].size, dtype=pl.Utf8),
        "task_type": _codes(m["task_type"], rec.type_names),
        "channel": _codes(m["channel"], CHANNELS),
        "tasks_posted": m["tasks_posted"], "tasks_unposted": m["tasks_unposted"],
        "tasks_expired": m["tasks_expired"],
        "backlog": m["backlog"], "batches_filled": m["batches_filled"],
        "mean_time_to_fill_h": pl.Series(fill, nan_to_null=True),
        "tasks_automated": m["tasks_automated"], "tasks_llm": m["tasks_llm"],
        "automation_share": m["automation_share"], "compute_cost_usd": m["compute_cost_usd"],
        "people_cost_usd": pl.Series(m["people_cost_usd"], nan_to_null=True),
        "machine_cost_usd": pl.Series(m["machine_cost_usd"], nan_to_null=True),
        "mean_posted_rate_usd": pl.Series(posted_rate, nan_to_null=True),
        "mean_task_wait_h": pl.Series(wait, nan_to_null=True),
    })
    return pl.concat([regional, market], how="diagonal_relaxed").sort(
        ["week", "region", "task_type", "channel"])


def _worker_windows(rec: Records) -> pl.DataFrame:
    """One row per worker and named window in which it had paid hours: its flows there."""
    ww = rec.worker_windows
    names = [w.name for w in rec.windows]
    if not ww:
        return pl.DataFrame(schema={"worker_id": pl.Int64, "window": pl.Utf8,
                                    **{k: pl.Float64 for k in WINDOW_FLOWS}})
    return pl.DataFrame({"worker_id": ww["worker_id"], "window": _codes(ww["window"], names),
                         **{k: ww[k] for k in WINDOW_FLOWS}})


def _workers(rec: Records) -> pl.DataFrame:
    w = rec.workers
    reason = np.asarray(EXIT_REASONS, dtype=object)[w["exit_reason"].astype(np.int64)]
    return pl.DataFrame({
        "worker_id": w["worker_id"],
        "region": _codes(w["region"], rec.region_codes),
        "channel": _codes(w["channel"], CHANNELS),
        "main_task_type": _codes(w["main_task_type"], rec.type_names),
        "joined_h": w["joined_h"],
        "left_h": pl.Series(w["left_h"], nan_to_null=True),
        "exit_reason": pl.Series([r or None for r in reason.tolist()], dtype=pl.Utf8),
        "reservation_wage_usd_h": w["reservation_wage_usd_h"],
        "paid_hours": w["paid_hours"], "unpaid_hours": w["unpaid_hours"],
        "earnings_usd": w["earnings_usd"],
        "tasks_done": w["tasks_done"], "tasks_rejected": w["tasks_rejected"],
        "night_hours": w["night_hours"],
        "stress": w["stress"], "peak_stress": w["peak_stress"], "hours_toxic": w["hours_toxic"],
        "reputation": w["reputation"], "approved_tasks": w["approved_tasks"],
        "certified": w["certified"], "training_hours": w["training_hours"],
        **{k: v for k, v in w.items() if k.startswith("skill_")},
    })


# --- KPIs -------------------------------------------------------------------------------

def worker_kpis(w: pl.DataFrame, start: float, end: float,
                min_wage: dict[str, float] | None = None) -> dict[str, float]:
    """KPIs that are means over the workers of ``w`` with at least one paid hour in the
    window [start, end) (hours); the minimum-wage share needs ``min_wage`` per region."""
    counted = w.filter(pl.col("paid_hours") > 0)
    paid = counted["paid_hours"].to_numpy()
    unpaid = counted["unpaid_hours"].to_numpy()
    earn = counted["earnings_usd"].to_numpy()
    eff = earn / (paid + unpaid)
    left = counted["left_h"].fill_null(end).to_numpy()
    weeks = (np.minimum(left, end) - np.maximum(counted["joined_h"].to_numpy(), start)) / HOURS_PER_WEEK
    floor = (np.array([min_wage[r] for r in counted["region"].to_list()]) if min_wage is not None
             else np.full(counted.height, np.nan))
    # Half-life: survival by tenure of the workers present in the window, each at risk from its
    # tenure at the window's start (or when it joined) to its exit or the window's end; the
    # exits observed in the window trace a joining cohort's survival (assuming a steady market).
    present = w.filter((pl.col("joined_h") < end) & (pl.col("left_h").is_null() | (pl.col("left_h") > start)))
    joined = present["joined_h"].to_numpy()
    left = present["left_h"].fill_null(np.inf).to_numpy()
    exits = w.filter(pl.col("left_h").is_not_null() & (pl.col("left_h") > start) & (pl.col("left_h") <= end))
    return {
        "workers_counted": int(counted.height),
        "effective_wage_mean_usd_h": _mean(eff),
        "effective_wage_median_usd_h": _median(eff),
        "paid_wage_mean_usd_h": _mean(earn / paid),
        "unpaid_min_per_paid_hour": float(60.0 * unpaid.sum() / paid.sum()) if paid.size else float("nan"),
        "hours_per_week_mean": _mean((paid + unpaid) / np.maximum(weeks, 1.0 / HOURS_PER_WEEK)),
        "share_below_local_min_wage": (_mean((eff < floor).astype(float)) if min_wage is not None
                                       else float("nan")),
        "effective_wage_gini": gini(eff),
        # What the work is worth to the workers beyond their outside option: earnings less
        # every hour online (paid and unpaid) valued at the worker's reservation wage.
        "worker_surplus_usd": (float((earn - counted["reservation_wage_usd_h"].to_numpy() * (paid + unpaid)).sum())
                               if "reservation_wage_usd_h" in counted.columns else float("nan")),
        "worker_half_life_months": survival_median(np.maximum(start, joined) - joined,
                                                   np.minimum(end, left) - joined, left <= end) / HOURS_PER_MONTH,
        "exits": int(exits.height),
        "exits_low_pay": int((exits["exit_reason"] == "low_pay").sum()),
        "exits_burnout": int((exits["exit_reason"] == "burnout").sum()),
        "exits_other": int((exits["exit_reason"] == "other").sum()),
    }


def _flow_kpis(regional: pl.DataFrame, window_weeks: float) -> dict[str, float]:
    """KPIs from the weekly flows of the regional rows in the window."""
    tot = regional.select(pl.col("requester_spend_usd", "platform_fees_usd", "vendor_margin_usd",
                                 "vendor_overheads_usd", "earnings_usd",
                                 "tasks_done_human", "tasks_rejected", "night_hours", "paid_hours",
                                 "unpaid_hours", *POLICY_MONEY, "tasks_done_fair").sum()).row(0, named=True)
    online = tot["paid_hours"] + tot["unpaid_hours"]
    mods = regional.filter(pl.col("task_type") == MODERATION).select(
        pl.col("active_workers", "high_stress_workers", "exits_burnout").sum()).row(0, named=True)
    moderator_years = mods["active_workers"] / WEEKS_PER_YEAR
    crowd = regional.filter(pl.col("channel") == "crowd").select(
        pl.col("requester_spend_usd", "platform_fees_usd").sum()).row(0, named=True)
    weekly_active = regional.group_by("week").agg(pl.col("active_workers").sum())["active_workers"]
    exits = regional.select(pl.sum_horizontal(pl.col("exits_low_pay", "exits_burnout", "exits_other").sum())).item()
    exits_burnout = regional["exits_burnout"].sum()
    mean_active = float(weekly_active.mean()) if weekly_active.len() else float("nan")
    earned, paid = tot["earnings_usd"], tot["paid_hours"]
    for_tasks = earned - tot["topup_usd"]  # pay for the tasks done (top-ups are the floor's and paid search's)

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else float("nan")
    return {
        "online_hours": float(online),
        # The hours-weighted effective wage, and its exact split in logs (docs/model.md 7.15):
        # effective wage = pay for tasks per paid hour x paid share of hours online x top-up factor.
        "effective_wage_usd_h": ratio(earned, online),
        "task_pay_per_paid_hour_usd": ratio(for_tasks, paid),
        "paid_share_of_online_hours": ratio(paid, online),
        "topup_factor": ratio(earned, for_tasks),
        "moderator_years": float(moderator_years),
        "requester_spend_usd": float(tot["requester_spend_usd"]),
        "worker_pay_usd": float(tot["earnings_usd"]),
        "platform_fees_usd": float(tot["platform_fees_usd"]),
        "vendor_margin_usd": float(tot["vendor_margin_usd"]),
        "vendor_overheads_usd": float(tot["vendor_overheads_usd"]),
        **{k: float(tot[k]) for k in POLICY_MONEY},
        "fair_platform_task_share": (float(tot["tasks_done_fair"] / tot["tasks_done_human"])
                                     if tot["tasks_done_human"] else float("nan")),
        "tasks_done": int(tot["tasks_done_human"]),
        "tasks_rejected": int(tot["tasks_rejected"]),
        "platform_commission_share": (float(crowd["platform_fees_usd"] / crowd["requester_spend_usd"])
                                      if crowd["requester_spend_usd"] else float("nan")),
        "worker_share_of_spend": (float(tot["earnings_usd"] / tot["requester_spend_usd"])
                                  if tot["requester_spend_usd"] else float("nan")),
        "active_workers_mean": mean_active,
        "night_hours_share": float(tot["night_hours"] / online) if online else float("nan"),
        "moderator_high_stress_share": (float(mods["high_stress_workers"] / mods["active_workers"])
                                        if mods["active_workers"] else float("nan")),
        "burnout_exits_per_1000_moderator_years": (float(1000.0 * exits_burnout / moderator_years)
                                                   if moderator_years else float("nan")),
        "annual_turnover_rate": (float(exits) / mean_active * WEEKS_PER_YEAR / window_weeks
                                 if mean_active and window_weeks > 0 else float("nan")),
    }


WINDOW_FLOWS = ("paid_hours", "unpaid_hours", "earnings_usd", "tasks_done", "tasks_rejected", "night_hours")


def channel_shares_by_type(market: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Per channel (crowd, vendor, model, llm), ``{channel}_share_by_type``: its share of each task
    type's posted tasks (human review of automated work counts as human work)."""
    out: dict[str, dict[str, float]] = {f"{c}_share_by_type": {} for c in ("crowd", "vendor", "model", "llm")}
    for (t,), g in market.group_by("task_type", maintain_order=True):
        posted = g["tasks_posted"].sum()
        human = g["tasks_posted"] - g["tasks_automated"]
        counts = {"crowd": human.filter(g["channel"] == "crowd").sum(),
                  "vendor": human.filter(g["channel"] == "vendor").sum(),
                  "model": g["tasks_automated"].sum() - g["tasks_llm"].sum(), "llm": g["tasks_llm"].sum()}
        for c, n in counts.items():
            out[f"{c}_share_by_type"][t] = float(n / posted) if posted else float("nan")
    return out


def _scope_kpis(rec: Records, ts: pl.DataFrame, workers: pl.DataFrame, start_week: int, end_week: int,
                min_wage: dict[str, float], groups: pl.DataFrame | None = None) -> dict[str, Any]:
    """overall, by_region and by_channel KPIs over weeks [start_week, end_week) (from 0), with
    ``workers`` holding each worker's flows over those weeks."""
    start_h = start_week * HOURS_PER_WEEK
    end_h = min(end_week * HOURS_PER_WEEK, rec.horizon_h)
    window_weeks = (end_h - start_h) / HOURS_PER_WEEK
    win = ts.filter(pl.col("week").is_between(start_week, end_week - 1))
    regional = win.filter(pl.col("region") != ALL_REGIONS)
    market = win.filter(pl.col("region") == ALL_REGIONS)
    overall: dict[str, Any] = {
        "window_weeks": window_weeks,
        **worker_kpis(workers, start_h, end_h, min_wage),
        **_flow_kpis(regional, window_weeks),
        "tasks_posted": int(market["tasks_posted"].sum()),
        "tasks_unposted": int(market["tasks_unposted"].sum()),
        "tasks_expired": int(market["tasks_expired"].sum()),
        "tasks_automated": int(market["tasks_automated"].sum()),
        "compute_cost_usd": float(market["compute_cost_usd"].sum()),
    }
    crowd = market.filter(pl.col("channel") == "crowd")
    human = int(crowd["tasks_posted"].sum() - crowd["tasks_automated"].sum())
    overall["crowd_expired_share"] = (float(crowd["tasks_expired"].sum() / human) if human > 0
                                      else float("nan"))
    overall["unmet_tasks"] = overall["tasks_expired"] + overall["tasks_unposted"]  # demand no one met
    # requester_spend_usd is spend on human work at every scope (regions and channels have no
    # compute); requesters also pay for automated tasks, so the total and the cost per task
    # resolved (by people or models) count compute too, overall only.
    spend = overall["requester_spend_usd"] + overall["compute_cost_usd"]
    overall["requester_total_spend_usd"] = spend
    resolved = overall["tasks_done"] + overall["tasks_automated"]
    overall["requester_cost_per_task_usd"] = spend / resolved if resolved else float("nan")
    # Welfare: who gains what over the window (docs/model.md 7.3), from quantities the data pin
    # down: workers' earnings over their reservation wages, platforms' fees, vendors' profit (not
    # their overheads, a cost), less public money. Requesters appear by what they spend and the
    # tasks done and left undone; what the work is worth to them follows from an elasticity that
    # is known within a factor of ten (Robinson's markdown), so it is in no level and no sum.
    overall["welfare_total_usd"] = sum(sign * overall[part] for part, sign in WELFARE_PARTS.items())
    overall["automation_share"] = (overall["tasks_automated"] / overall["tasks_posted"]
                                   if overall["tasks_posted"] else float("nan"))
    overall["automation_share_by_type"] = {
        t: float(g["tasks_automated"].sum() / g["tasks_posted"].sum()) if g["tasks_posted"].sum() else float("nan")
        for (t,), g in market.group_by("task_type", maintain_order=True)}
    overall.update(channel_shares_by_type(market))
    overall.update({k: float(v) for k, v in rec.extra.items()})
    by_region = {code: {**worker_kpis(workers.filter(pl.col("region") == code), start_h, end_h, min_wage),
                        **_flow_kpis(regional.filter(pl.col("region") == code), window_weeks)}
                 for code in rec.region_codes}
    by_channel = {chan: {**worker_kpis(workers.filter(pl.col("channel") == chan), start_h, end_h, min_wage),
                         **_flow_kpis(regional.filter(pl.col("channel") == chan), window_weeks)}
                  for chan in CHANNELS}
    # Tasks left undone by channel: expired in its books, or brought and not posted.
    for chan, scope in by_channel.items():
        rows = market.filter(pl.col("channel") == chan)
        scope["tasks_expired"] = int(rows["tasks_expired"].sum())
        scope["tasks_unposted"] = int(rows["tasks_unposted"].sum())
    # The incidence table's cells: each channel in each region.
    by_cell = {}
    for chan in CHANNELS:
        for code in rec.region_codes:
            cell = {**worker_kpis(workers.filter((pl.col("region") == code) & (pl.col("channel") == chan)),
                                  start_h, end_h, min_wage),
                    **_flow_kpis(regional.filter((pl.col("region") == code) & (pl.col("channel") == chan)),
                                 window_weeks)}
            by_cell[f"{chan}:{code}"] = {k: cell[k] for k in CELL_KPIS if k in cell}
    # Where people's work is done: each region's (and channel's) share of the human tasks done.
    done = sum(k["tasks_done"] for k in by_region.values())
    for scope in (*by_region.values(), *by_channel.values(), *by_cell.values()):
        scope["human_work_share"] = scope["tasks_done"] / done if done else float("nan")
    overall["human_work_share"] = 1.0 if done else float("nan")
    out = {"overall": overall, "by_region": by_region, "by_channel": by_channel, "by_cell": by_cell}
    if groups is not None:
        out["by_group"] = group_kpis(groups, start_week, end_week)
        out["by_home"] = home_kpis(out["by_group"])
    return out


def requester_kpis(groups: list[dict[str, float]]) -> dict[str, float]:
    """What some requester groups (``group_kpis`` values) bought from people and what it cost them per task."""
    human = sum(g["tasks_human"] for g in groups)
    cost = sum(g["cost_human_usd"] for g in groups)
    return {"people_cost_per_task_usd": cost / human if human > 0 else float("nan"), "human_tasks_bought": human}


def home_kpis(by_group: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per home jurisdiction (scope ``home:EU``), its requesters' ``requester_kpis``."""
    homes: dict[str, list[dict[str, float]]] = {}
    for key, g in by_group.items():
        homes.setdefault(key.split(":")[2], []).append(g)
    return {f"home:{h}": requester_kpis(gs) for h, gs in homes.items()}


# What each requester group bought over a window (labsim.model.rules.arrivals.GROUP_FLOWS), with
# people's tasks on both channels together, and whether this run's rule binds the group (1 or 0).
GROUP_KPIS = ("tasks_drawn", "tasks_bought", "tasks_human", "tasks_human_crowd", "tasks_human_vendor",
              "tasks_automated", "cost_human_usd", "covered")


def group_kpis(requesters: pl.DataFrame, start_week: int, end_week: int) -> dict[str, dict[str, float]]:
    """Per requester group (``group:<class>:<home>:<large|small>``) with batches drawn in weeks
    [start_week, end_week), its ``GROUP_KPIS`` summed over them."""
    f = requesters.filter(pl.col("week").is_between(start_week, end_week - 1))
    sums = (f.group_by("requester_class", "home", "large", maintain_order=True)
            .agg(pl.col("tasks_drawn", "tasks_bought", "tasks_human_crowd", "tasks_human_vendor", "tasks_automated",
                        "cost_human_usd").sum(), pl.col("covered").max()))
    out = {}
    for row in sums.iter_rows(named=True):
        if row["tasks_drawn"] <= 0:
            continue
        key = f"group:{row['requester_class']}:{row['home']}:{'large' if row['large'] else 'small'}"
        out[key] = {"tasks_drawn": float(row["tasks_drawn"]), "tasks_bought": float(row["tasks_bought"]),
                    "tasks_human": float(row["tasks_human_crowd"] + row["tasks_human_vendor"]),
                    "tasks_human_crowd": float(row["tasks_human_crowd"]),
                    "tasks_human_vendor": float(row["tasks_human_vendor"]),
                    "tasks_automated": float(row["tasks_automated"]),
                    "cost_human_usd": float(row["cost_human_usd"]), "covered": float(bool(row["covered"]))}
    return out


def workers_over(workers: pl.DataFrame, worker_windows: pl.DataFrame, window: str) -> pl.DataFrame:
    """The workers table with each worker's flows over ``window`` (zero where it had none)."""
    flows = worker_windows.filter(pl.col("window") == window).drop("window")
    return (workers.drop(WINDOW_FLOWS).join(flows, on="worker_id", how="left")
            .with_columns(pl.col(WINDOW_FLOWS).fill_null(0)))


def _kpis(rec: Records, ts: pl.DataFrame, workers: pl.DataFrame, worker_windows: pl.DataFrame,
          min_wage: dict[str, float], groups: pl.DataFrame | None = None) -> dict[str, Any]:
    """The KPI window's KPIs at the top (overall, by_region, by_channel, as scripts read them),
    and every named window's under ``windows``; with ``groups`` (the requesters table), what each
    requester group bought in each."""
    kpi = rec.windows[0]
    out = _scope_kpis(rec, ts, workers, kpi.start_week, kpi.end_week, min_wage, groups)
    out["windows"] = {}
    for w in rec.windows:
        scoped = workers if w.name == kpi.name else workers_over(workers, worker_windows, w.name)
        out["windows"][w.name] = {"weeks": w.label(),
                                  **_scope_kpis(rec, ts, scoped, w.start_week, w.end_week, min_wage, groups)}
    return out
