"""What the world maps share: quarters, play/pause and slider controls, the map's look.

The sweep comparison (labsim/report/compare.py) and the classroom
(labsim/classroom/figures.py) both animate choropleths of countries quarter
by quarter (``labsim.stats.quarterly_by_region``); the outline itself ships with
the page (page.geo_assets_script).
"""

from __future__ import annotations

from typing import Callable

import plotly.graph_objects as go


def quarter_label(q: int) -> str:
    return f"year {q // 4 + 1}, Q{q % 4 + 1}"


def animate_quarters(fig: go.Figure, quarters: list[int], frame_data: Callable[[int], list],
                     title: str, duration_ms: int = 600, pad_top: int = 40) -> None:
    """Give ``fig`` one frame per quarter (``frame_data(q)`` its traces, titled
    ``title, <quarter>``), a slider over them and play/pause buttons."""
    fig.frames = [go.Frame(name=str(q), data=frame_data(q), layout=dict(title=f"{title}, {quarter_label(q)}"))
                  for q in quarters]
    step = dict(mode="immediate", frame=dict(duration=duration_ms, redraw=True), transition=dict(duration=0))
    fig.update_layout(
        title=f"{title}, {quarter_label(quarters[0])}",
        sliders=[dict(active=0, currentvalue=dict(visible=False), pad=dict(t=pad_top, b=10),
                      x=0.24, len=0.76, xanchor="left", y=0, yanchor="top",
                      steps=[dict(label=quarter_label(q), method="animate",
                                  args=[[str(q)], {**step, "frame": dict(duration=0, redraw=True)}])
                             for q in quarters])],
        # The buttons sit left of the slider, clear of its first label, down to a 700-pixel-wide chart.
        updatemenus=[dict(type="buttons", direction="left", x=0.2, y=0, xanchor="right", yanchor="top",
                          pad=dict(t=pad_top + 35, r=10), showactive=False,
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, {**step, "fromcurrent": True}]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], {**step, "frame": dict(duration=0, redraw=False)}])])])


def style_world(fig: go.Figure, lat_range: tuple[float, float] = (-45, 75)) -> None:
    """The maps' look: natural-earth projection, grey land, country borders, no ocean."""
    fig.update_geos(projection_type="natural earth", showcountries=True, countrycolor="#bbb",
                    showland=True, landcolor="#f2f2f2", showocean=False, showframe=False,
                    lataxis_range=list(lat_range))
