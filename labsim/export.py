"""``labsim-figures``: the charts of a run or of a sweep as SVG, PNG or PDF files, for a brief or a slide.

A run folder (``outputs/DATE/TIME``) gives the run report's charts; a sweep
folder (``multirun/DATE/TIME``) the comparison page's. The charts are drawn
by the same code as the pages (``labsim.report``) from the files the run or
the sweep wrote, and written by Plotly's image engine, kaleido (``pip install
'labsim[figures]'``; it drives a local Chrome or Chromium, with no network).
The files appear all at once: they are written into a temporary folder and
moved into place only when every one is complete.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from labsim.errors import ArgumentParser, UserError
from labsim.files import KPIS, STATUS
from labsim.jobs import read_status
from labsim.report.page import WORLD_TOPOJSON

PROG = "labsim-figures"
FORMATS = ("svg", "png", "pdf")
WIDTH = 1100  # pixels: a chart's width when the page lets it fill the window


def run_figures_of(folder: Path) -> dict:
    """The run report's charts of a finished run folder, by name."""
    from labsim.report.run import run_figures
    from labsim.results import Results

    try:
        results = Results.read(folder)
    except Exception as exc:  # noqa: BLE001 - a file cut short or not labsim's (polars' own errors included)
        raise UserError(f"{folder}: cannot read the run's tables ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    return {f"run-{name}": fig for name, fig in run_figures(results).items()}


def sweep_figures_of(folder: Path, baseline: str | None = None) -> dict:
    """The comparison page's charts of a sweep folder, by the id of their place on the page."""
    from labsim.hydra_app import scenario_about
    from labsim.report.compare import comparison_figures, prepare
    from labsim.stats import scenarios
    from labsim.sweep import collect, quarterly_wages

    runs = collect(folder)
    if runs.height == 0:
        raise UserError(f"{folder}: no runs found (a sweep folder holds job folders with .hydra/overrides.yaml)")
    ok = runs.filter(runs["status"] == "ok")
    if ok.height == 0:
        bad = runs["run_dir"].to_list()
        raise UserError(f"{folder}: no finished run to draw ({len(bad)} without a readable {KPIS} or "
                        f"{STATUS}: {', '.join(Path(d).name for d in bad[:3])}{', ...' if len(bad) > 3 else ''})")
    names = scenarios(runs)
    if baseline is not None and baseline not in names:
        raise UserError(f"--baseline {baseline}: no such scenario in the runs (scenarios: {', '.join(names)})")
    about = {n: (a.title, a.description) for n in scenarios(runs) for a in [scenario_about(n)]}
    return comparison_figures(prepare(runs, baseline, quarterly_wages(runs), about))


def figures_of(folder: Path, baseline: str | None = None) -> dict:
    """A run folder's charts (it holds kpis.json and status.json) or a sweep folder's."""
    if (folder / STATUS).is_file():  # a run's folder
        if baseline is not None:
            raise UserError(f"--baseline {baseline}: a sweep's option, and {folder} is one run's folder")
        said = read_status(folder)
        if not said.ok or not (folder / KPIS).is_file():
            why = said.error if not said.ok else f"no {KPIS}"
            raise UserError(f"{folder}: not a finished run ({why}): nothing to draw")
        return run_figures_of(folder)
    return sweep_figures_of(folder, baseline)


def write_figures(figs: dict, out: Path, formats: Sequence[str], scale: float = 2.0) -> list[Path]:
    """Write every figure in every format into ``out`` (``NAME.FORMAT``); returns the files. All or
    nothing: they are drawn into a temporary folder beside ``out``, then moved in."""
    try:
        import kaleido  # noqa: F401
        import plotly.io as pio
    except ImportError:
        raise UserError("figure export needs kaleido: pip install 'labsim[figures]' (or pip install kaleido)") from None
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".figures.", suffix=".part", dir=out))
    try:
        names = [f"{name}.{fmt}" for name in figs for fmt in formats]
        images = [figs[name] for name in figs for _ in formats]
        images = [_static(fig) for fig in images]
        # Maps draw the world outline shipped with labsim, not one fetched from the internet.
        pio.defaults.topojson = WORLD_TOPOJSON.parent.as_uri() + "/"
        try:
            pio.write_images(images, [staging / n for n in names], scale=scale)
        except Exception as exc:  # kaleido's own errors: no Chrome, a browser that would not start
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UserError(f"kaleido could not draw the figures: {first} (it needs Chrome or Chromium: "
                            "install one, or run plotly_get_chrome)") from None
        missing = [n for n in names if not (staging / n).is_file()]
        if missing:
            raise UserError(f"kaleido drew no {', '.join(missing)}: nothing written")
        written = []
        for n in names:
            os.replace(staging / n, out / n)
            written.append(out / n)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _static(fig):
    """A page's chart as a still image: an animation (the maps) shows its last frame, the latest
    quarter, and the buttons, sliders and menus that only work on the page are left out."""
    fig = fig.__class__(fig)  # a copy: the caller's figure is left as it was
    if fig.frames:
        last = fig.frames[-1]
        for trace, data in zip(fig.data, last.data):
            trace.update(data)
        if last.layout and last.layout.title and last.layout.title.text:
            fig.update_layout(title=last.layout.title.text)
        fig.frames = []
    fig.layout.sliders, fig.layout.updatemenus = (), ()
    if fig.layout.width is None:
        fig.update_layout(width=WIDTH)
    return fig


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog=PROG, description=(
        "Write the charts of a run folder (its report's) or of a sweep folder (its comparison page's) "
        "as image files, for a brief or a slide."))
    p.add_argument("folder", metavar="FOLDER", help="a run folder (outputs/DATE/TIME) or a sweep folder "
                                                    "(multirun/DATE/TIME)")
    p.add_argument("--format", default="svg,png", metavar="LIST",
                   help=f"comma-separated formats among {', '.join(FORMATS)} (default: svg,png)")
    p.add_argument("--out", metavar="DIR", default=None, help="where to write them (default: FOLDER/figures)")
    p.add_argument("--only", metavar="NAMES", default=None,
                   help="comma-separated chart names to write (default: all; a wrong name lists them)")
    p.add_argument("--baseline", metavar="NAME", default=None, help="a sweep's baseline scenario (default: baseline)")
    p.add_argument("--scale", type=float, default=2.0, help="pixel density of PNG files (default: 2)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point of ``labsim-figures``; returns the exit code."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        folder = Path(args.folder)
        if not folder.is_dir():
            raise UserError(f"no such folder: {folder}")
        formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise UserError(f"--format {args.format}: formats are {', '.join(FORMATS)}")
        if not 0 < args.scale <= 10:
            raise UserError(f"--scale {args.scale:g}: a number above 0, at most 10")
        out = Path(args.out) if args.out else folder / "figures"
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} is not a folder")
        figs = figures_of(folder, args.baseline)
        if args.only:
            wanted = [n.strip() for n in args.only.split(",") if n.strip()]
            unknown = [n for n in wanted if n not in figs]
            if unknown:
                raise UserError(f"--only {','.join(unknown)}: no such chart (charts: {', '.join(figs)})")
            figs = {n: figs[n] for n in wanted}
        written = write_figures(figs, out, formats, args.scale)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # -h / --help
        return exc.code if isinstance(exc.code, int) else 0
    print(f"{PROG}: {len(written)} files -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
