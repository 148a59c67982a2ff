"""The calibration's checks on one page (``referee.html``, written by ``labsim-calibrate``).

What a referee asks of an ABC calibration: for every unknown, its prior and
its posterior (did the targets move it?); the pair plots of the posterior
(which unknowns the targets pin down, which they leave free, which trade off
against each other); the posterior predictive distribution of every target
against its published band (does the calibrated model reproduce the data?);
and the acceptance threshold by generation (did the sequence converge?).

Drawn from what the calibration wrote: the last generation's weighted
particles with their summary statistics (``posterior.parquet``) and
``provenance.json`` (the priors, the thresholds, the command). This module
reads no file.
"""

from __future__ import annotations

import html
import math
from typing import Any, Mapping

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from labsim.posterior import PREDICTED
from labsim.report import theme
from labsim.report.page import figure_html, page, table_html
from labsim.report.theme import fmt
from labsim.stats import effective_sample_size, weighted_quantile

PRIOR_COLOR, POSTERIOR_COLOR = "#7f7f7f", "#1f77b4"


def _note(text: str) -> str:
    return f"<p class='note'>{html.escape(text)}</p>"


def prior_density(prior: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    """The prior's density at ``x`` (uniform or log-uniform on [low, high])."""
    lo, hi = float(prior["low"]), float(prior["high"])
    inside = (x >= lo) & (x <= hi)
    if prior["shape"] == "loguniform":
        return np.where(inside, 1.0 / (np.maximum(x, lo) * math.log(hi / lo)), 0.0)
    return np.where(inside, 1.0 / (hi - lo), 0.0)


def parameter_rows(posterior: pl.DataFrame, priors: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per unknown: its prior range, the posterior's weighted median and 90 % interval, and the
    interval's width as a share of the prior's, on the prior's own scale (log for a loguniform
    prior; below one half: the targets pin it down)."""
    w = posterior["weight"].to_numpy()
    rows = []
    for p in priors:
        x = posterior[p["key"]].to_numpy()
        lo, med, hi = weighted_quantile(x, w, [0.05, 0.5, 0.95])
        low, high = float(p["low"]), float(p["high"])
        share = (math.log(hi / lo) / math.log(high / low) if p["shape"] == "loguniform"
                 else (hi - lo) / (high - low))
        rows.append({**p, "median": med, "q05": lo, "q95": hi, "width_share": share})
    return rows


def predictive_rows(posterior: pl.DataFrame, bands: Mapping[str, tuple[float, float, float]]) -> list[dict[str, Any]]:
    """Per target: its band, and the posterior predictive median and 90 % interval (weighted over
    the particles whose run computed the statistic)."""
    rows = []
    for stat, (target, low, high) in bands.items():
        col = PREDICTED + stat
        if col not in posterior.columns:
            continue
        frame = posterior.select(col, "weight").drop_nulls()
        if frame.height == 0:
            continue
        q05, med, q95 = weighted_quantile(frame[col].to_numpy(), frame["weight"].to_numpy(), [0.05, 0.5, 0.95])
        rows.append({"stat": stat, "target": target, "low": low, "high": high, "median": med, "q05": q05,
                     "q95": q95, "median_inside": low <= med <= high, "overlaps": q05 <= high and q95 >= low})
    return rows


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1].replace("_", " ")


def prior_posterior_figure(posterior: pl.DataFrame, priors: list[Mapping[str, Any]]) -> go.Figure:
    cols = 2
    rows = math.ceil(len(priors) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p["key"] for p in priors],
                        vertical_spacing=0.5 / max(rows, 1), horizontal_spacing=0.08)
    w = posterior["weight"].to_numpy()
    for i, p in enumerate(priors):
        r, c = divmod(i, cols)
        lo, hi = float(p["low"]), float(p["high"])
        log = p["shape"] == "loguniform"
        edges = np.geomspace(lo, hi, 21) if log else np.linspace(lo, hi, 21)
        density, _ = np.histogram(posterior[p["key"]].to_numpy(), bins=edges, weights=w, density=True)
        mids = np.sqrt(edges[:-1] * edges[1:]) if log else (edges[:-1] + edges[1:]) / 2
        fig.add_trace(go.Bar(x=mids, y=density, width=np.diff(edges), marker_color=POSTERIOR_COLOR, opacity=0.7,
                             name="posterior", legendgroup="posterior", showlegend=i == 0,
                             hovertemplate="%{x:.3g}: density %{y:.3g}<extra>posterior</extra>"), r + 1, c + 1)
        xs = np.geomspace(lo, hi, 100) if log else np.linspace(lo, hi, 100)
        fig.add_trace(go.Scatter(x=xs, y=prior_density(p, xs), mode="lines", line=dict(color=PRIOR_COLOR, dash="dash"),
                                 name="prior", legendgroup="prior", showlegend=i == 0,
                                 hovertemplate="%{x:.3g}: density %{y:.3g}<extra>prior</extra>"), r + 1, c + 1)
        if log:
            fig.update_xaxes(type="log", row=r + 1, col=c + 1)
    fig.update_layout(**theme.layout(height=230 * rows + 80, bargap=0, legend=dict(orientation="h", y=1.04),
                                     margin=dict(t=90)))
    fig.update_annotations(font_size=11)
    return fig


def pairs_figure(posterior: pl.DataFrame, priors: list[Mapping[str, Any]]) -> go.Figure:
    w = posterior["weight"].to_numpy()
    size = 4 + 14 * np.sqrt(w / w.max())
    dims = [dict(label=_short(p["key"]), values=posterior[p["key"]].to_numpy()) for p in priors]
    fig = go.Figure(go.Splom(dimensions=dims, showupperhalf=False, diagonal_visible=False,
                             marker=dict(size=size, color=POSTERIOR_COLOR, opacity=0.5, line=dict(width=0)),
                             hovertemplate="%{xaxis.title.text}: %{x:.3g}<br>%{yaxis.title.text}: %{y:.3g}"
                                           "<extra></extra>"))
    n = len(dims)
    fig.update_layout(**theme.layout(height=max(500, 110 * n), width=max(600, 110 * n), showlegend=False,
                                     margin=dict(l=90, b=90, t=30)), font=dict(size=9))
    for k, p in enumerate(priors):  # each axis spans its prior, so a cloud's width reads against it
        span = [math.log10(p["low"]), math.log10(p["high"])] if p["shape"] == "loguniform" else [p["low"], p["high"]]
        kind = "log" if p["shape"] == "loguniform" else "linear"
        suffix = "" if k == 0 else str(k + 1)
        fig.update_layout({f"xaxis{suffix}": dict(type=kind, range=span), f"yaxis{suffix}": dict(type=kind, range=span)})
    return fig


def predictive_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Each target's band as [0, 1] (its low and high ends) and the posterior predictive's median
    and 90 % interval on the same scale, so targets in dollars, shares and minutes share an axis."""
    def pos(v: float, r: dict[str, Any]) -> float:
        return (v - r["low"]) / (r["high"] - r["low"])

    labels = [r["stat"] for r in rows]
    fig = go.Figure()
    fig.add_vrect(x0=0, x1=1, fillcolor="#2ca02c", opacity=0.12, line_width=0,
                  annotation_text="published band", annotation_position="top left")
    fig.add_trace(go.Scatter(
        x=[pos(r["median"], r) for r in rows], y=labels, mode="markers", name="posterior predictive median",
        marker=dict(color=POSTERIOR_COLOR, size=9),
        error_x=dict(type="data", symmetric=False, array=[pos(r["q95"], r) - pos(r["median"], r) for r in rows],
                     arrayminus=[pos(r["median"], r) - pos(r["q05"], r) for r in rows], color=POSTERIOR_COLOR),
        customdata=[[fmt(r["median"]), fmt(r["q05"]), fmt(r["q95"]), fmt(r["low"]), fmt(r["high"])] for r in rows],
        hovertemplate="%{y}<br>median %{customdata[0]} (90 %: %{customdata[1]} to %{customdata[2]})"
                      "<br>band %{customdata[3]} to %{customdata[4]}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[pos(r["target"], r) for r in rows], y=labels, mode="markers", name="target",
                             marker=dict(color="#222", symbol="line-ns-open", size=14)))
    fig.update_layout(**theme.layout(height=60 + 34 * len(rows), margin=dict(l=330),
                                     legend=dict(orientation="h", y=-0.08)),
                      xaxis_title="position in the band (0: its low end, 1: its high end)")
    fig.update_yaxes(autorange="reversed")
    return fig


def epsilon_figure(generations: list[Mapping[str, Any]]) -> go.Figure:
    t = [g["t"] for g in generations]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=t, y=[g["epsilon"] for g in generations], mode="lines+markers",
                             name="acceptance threshold (target bands, root mean square)"), secondary_y=False)
    fig.add_trace(go.Bar(x=t, y=[g["samples"] for g in generations], name="runs", opacity=0.3,
                         marker_color=PRIOR_COLOR), secondary_y=True)
    fig.update_layout(**theme.layout(height=360, legend=dict(orientation="h", y=-0.25)), xaxis_title="generation")
    fig.update_yaxes(title_text="threshold", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="runs", secondary_y=True, showgrid=False)
    return fig


def referee_page(posterior: pl.DataFrame, provenance: Mapping[str, Any],
                 bands: Mapping[str, tuple[float, float, float]]) -> str:
    """The whole page, self-contained (plotly.js inlined)."""
    priors = list(provenance.get("priors") or [])
    generations = list(provenance.get("generations") or [])
    params = parameter_rows(posterior, priors)
    predictive = predictive_rows(posterior, bands)
    seconds = provenance.get("seconds")
    runtime = f", {seconds / 3600:.2f} hours of runs" if isinstance(seconds, (int, float)) else ""
    # How many equal-weight particles the weighted ones are worth: a low number means a few
    # particles carry the posterior.
    ess = effective_sample_size(posterior["weight"].to_numpy())
    sections = [
        "<h2>What was run</h2>",
        _note(f"{provenance.get('command', '')}: {posterior.height} particles (worth {ess:.1f} of equal "
              f"weight) after {len(generations)} generations{runtime}; labsim {provenance.get('labsim_version', '?')}, model fingerprint "
              f"{provenance.get('model_fingerprint', '?')}, {provenance.get('date', '')}."),
        "<h2>Prior and posterior of every unknown</h2>",
        _note("Dashed: the prior. Bars: the posterior (the last generation's particles, by weight). "
              "A posterior as flat as its prior means the targets say nothing about that unknown; "
              "'identified by' is what the priors file expected, 'width' the 90 % interval's share "
              "of the prior's range (below 50 %: pinned down)."),
        table_html(["unknown", "prior", "identified by", "posterior median", "90 % interval", "width"],
                   [[p["key"], f"{p['shape']} {fmt(p['low'])} to {fmt(p['high'])}", p["identified_by"],
                     fmt(p["median"]), f"{fmt(p['q05'])} to {fmt(p['q95'])}", f"{100 * p['width_share']:.0f} %"]
                    for p in params],
                   ["sig" if p["width_share"] <= 0.5 else "" for p in params]),
        f"<div class='fig'>{figure_html(prior_posterior_figure(posterior, priors), 'priors')}</div>",
        "<h2>Pairs: what the targets pin down, and what trades off</h2>",
        _note("Each dot is a particle (its size its weight); each axis spans the unknown's prior. A cloud "
              "squeezed along one axis: that unknown is pinned down. A diagonal cloud: two unknowns trade "
              "off, and the targets fix only their combination. A cloud filling the square: free."),
        f"<div class='fig scroll'>{figure_html(pairs_figure(posterior, priors), 'pairs')}</div>",
        "<h2>The calibrated model against the data</h2>",
        _note("For every target: its published band (green) and the posterior predictive distribution "
              "(the particles' own runs, by weight): median and 90 % interval."),
        table_html(["target", "band", "predictive median", "90 % interval", "median in band",
                    "interval meets band"],
                   [[r["stat"], f"{fmt(r['low'])} to {fmt(r['high'])}", fmt(r["median"]),
                     f"{fmt(r['q05'])} to {fmt(r['q95'])}", "yes" if r["median_inside"] else "NO",
                     "yes" if r["overlaps"] else "NO"]
                    for r in predictive],
                   ["" if r["median_inside"] and r["overlaps"] else "sig" for r in predictive]),
        f"<div class='fig'>{figure_html(predictive_figure(predictive), 'predictive')}</div>",
        "<h2>Convergence</h2>",
        _note("The acceptance threshold by generation and the runs each generation took: a threshold that "
              "stops falling while the runs climb means more generations buy little."),
        f"<div class='fig'>{figure_html(epsilon_figure(generations), 'epsilon')}</div>",
    ]
    return page("labsim calibration: the referee's checks", "approximate Bayesian computation (ABC-SMC, pyabc) "
                "against the published targets", sections)
