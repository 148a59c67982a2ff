"""A self-contained HTML page around Plotly figures (plotly.js inline, no CDN)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from labsim.report import theme

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1.5rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.sub { color: #666; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: .6rem .9rem; min-width: 150px; }
.card .v { font-size: 1.4rem; font-weight: 600; } .card .k { color: #666; font-size: .8rem; }
table { border-collapse: collapse; font-size: .85rem; } th, td { padding: .25rem .6rem;
  border-bottom: 1px solid #eee; text-align: right; } th:first-child, td:first-child, td.t { text-align: left; }
.fig { margin: 1rem 0 2rem; } .scroll { overflow-x: auto; } .note { color: #555; font-size: .9rem; max-width: 900px; }
ul.answers { padding-left: 1.2rem; max-width: 900px; } ul.answers li { margin: .25rem 0; color: #555; }
ul.answers li.sig, tr.sig td { font-weight: 600; color: #222; } tr.sig td:first-child { border-left: 3px solid #2ca02c; }
.note.warn { color: #8a4b00; background: #fff4e0; padding: .4rem .6rem; border-left: 3px solid #e08a00; }
"""


def figure_html(fig: go.Figure, div_id: str, auto_play: bool = True) -> str:
    """A figure's div and script; ``auto_play=False`` keeps an animated figure on its first frame."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, auto_play=auto_play,
                       config={**theme.PLOT_CONFIG, "responsive": True})


def table_html(header: list[str], rows: Iterable[list[str]], classes: Iterable[str] | None = None,
               kpis: Iterable[str] | None = None, columns: Iterable[str] | None = None) -> str:
    """A table of text cells; ``classes`` gives each row a CSS class ("sig" marks a row in bold);
    ``kpis`` names each row's indicator, ``columns`` each column's (a ``data-kpi`` attribute,
    labsim.indicators; "" for none)."""
    keys = list(columns) if columns is not None else [""] * len(header)
    head = "".join((f"<th data-kpi='{html.escape(k)}'>" if k else "<th>") + f"{html.escape(h)}</th>"
                   for h, k in zip(header, keys))
    rows = list(rows)
    marks = list(classes) if classes is not None else [""] * len(rows)
    names = list(kpis) if kpis is not None else [""] * len(rows)
    body = "".join("<tr" + (f" class='{c}'" if c else "") + (f" data-kpi='{html.escape(k)}'" if k else "") + ">"
                   + "".join(_cell(x) for x in r) + "</tr>" for r, c, k in zip(rows, marks, names))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_NUMBER = re.compile(r"[+\-−]?[$]?[\d.,]|–$")


def _cell(text: str) -> str:
    """A cell: numbers right-aligned (they line up), words left-aligned."""
    return f"<td>{html.escape(text)}</td>" if _NUMBER.match(text) else f"<td class='t'>{html.escape(text)}</td>"


WORLD_TOPOJSON = Path(__file__).resolve().parent / "assets" / "world_110m.json"


@lru_cache(maxsize=1)
def geo_assets_script() -> str:
    """The world outline for geo charts, as a script that must run before plotly.js.

    Plotly's geo traces fetch their outline (topojson) from a CDN when the page
    is viewed, so offline a map is blank. plotly.js reads
    ``window.PlotlyGeoAssets.topojson[name]`` before it fetches, so the page
    carries the outline itself (``assets/world_110m.json``, see SOURCE.txt there).
    """
    topo = WORLD_TOPOJSON.read_text(encoding="utf-8").strip().replace("</", "<\\/")
    return ("<script type='text/javascript'>window.PlotlyGeoAssets = "
            f"{{topojson: {{\"world_110m\": {topo}}}}};</script>")


def plotlyjs_name() -> str:
    """The file name under which pages share plotly.js (its version in it, so that pages written by
    another labsim never load a script they were not drawn for)."""
    import plotly

    return f"plotly-{plotly.__version__}.min.js"


def page(title: str, subtitle: str, sections: list[str], geo: bool = False, plotlyjs: str | None = None) -> str:
    """A whole HTML document: sections are HTML fragments, plotly.js is inlined once.

    ``geo=True`` inlines the world outline too, for pages with maps. ``plotlyjs`` (a relative
    path, e.g. ``../plotly-6.0.0.min.js``) loads plotly.js from that file instead of inlining it:
    a sweep's run reports share one copy in the sweep folder (still offline).
    """
    script = (f"<script type='text/javascript' src='{html.escape(plotlyjs)}'></script>" if plotlyjs
              else f"<script type='text/javascript'>{get_plotlyjs()}</script>")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        + (geo_assets_script() if geo else "")
        + f"{script}</head><body>"
        f"<h1>{html.escape(title)}</h1><p class='sub'>{html.escape(subtitle)}</p>"
        + "\n".join(sections) + "</body></html>\n"
    )
