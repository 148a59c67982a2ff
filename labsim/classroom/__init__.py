"""Classroom mode: an interactive page where a class watches the market react.

    labsim-classroom                 # serves http://127.0.0.1:8050/ and opens a browser
    labsim-classroom --port 8060 --no-browser --lessons my_lessons.yaml

Sliders and switches for the main levers (wage floor, commission,
psychological support, exposure cap, automation speed, a new region), a
scenario picker, guided lessons (``lessons.yaml``), an animated world map and
the market's charts, a comparison with the previous run, and a handout to
download as one HTML file that opens offline. The pieces:

- ``controls``: the levers -> overrides -> ``labsim.compose`` -> a run (no Dash)
- ``figures``: the charts from a run's timeseries (no Dash)
- ``lessons``: the lessons file and its Markdown subset
- ``export``: the handout page
- ``app``: the Dash app, ``create_app()``
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import webbrowser

from labsim.classroom.controls import CLASSROOM_SCALE, CLASSROOM_STEP_H, HORIZON_MAX, compose
from labsim.errors import ArgumentParser, UserError

PROG = "labsim-classroom"
HOST = "127.0.0.1"

__all__ = ["main", "create_app"]


def create_app(**kwargs):
    """The Dash app (see ``labsim.classroom.app.create_app``)."""
    from labsim.classroom.app import create_app as _create

    return _create(**kwargs)


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog=PROG, description="Start labsim's classroom page: move the levers of a simulated labour market "
                               "behind AI and watch it react. Serves on 127.0.0.1 only.")
    p.add_argument("--port", type=int, default=8050, help="port to serve on (default 8050)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser, just print the address")
    p.add_argument("--lessons", action="append", default=[], metavar="FILE",
                   help="a YAML file of your own lessons (same shape as labsim/classroom/lessons.yaml); "
                        "repeatable")
    p.add_argument("--scale", type=float, default=CLASSROOM_SCALE,
                   help=f"share of the full population and demand to simulate (default {CLASSROOM_SCALE:g})")
    p.add_argument("--step-h", type=int, default=CLASSROOM_STEP_H, choices=(1, 2, 3, 4, 6),
                   help=f"hours per cohort step; smaller is slower (default {CLASSROOM_STEP_H})")
    return p


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"{PROG}: error: --port {args.port} is not allowed: a port between 1 and 65535", file=sys.stderr)
        return 2
    try:  # the largest run the page can ask for must be a valid one, and fit in memory
        compose([f"scale={args.scale!r}", f"step_h={args.step_h}", f"horizon_weeks={HORIZON_MAX}"])
    except UserError as exc:
        print(f"{PROG}: error: --scale/--step-h: {exc}", file=sys.stderr)
        return 2
    if not _port_free(args.port):
        print(f"{PROG}: error: port {args.port} is in use on {HOST}; pick another with --port", file=sys.stderr)
        return 2
    try:
        app = create_app(scale=args.scale, step_h=args.step_h, lesson_files=tuple(args.lessons))
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    url = f"http://{HOST}:{args.port}/"
    print(f"{PROG}: serving the classroom page at {url} (Ctrl+C to stop)", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    signal.signal(signal.SIGTERM, _stop)  # kill stops the page as Ctrl+C does
    # A production WSGI server (waitress, pure Python, the one Flask and Dash recommend) rather than
    # the development server and its warning; quiet on a projector: no line per request, no banner
    # (errors still show).
    from waitress import create_server

    logging.getLogger("waitress").setLevel(logging.ERROR)
    app.logger.setLevel(logging.WARNING)
    server = create_server(app.server, host=HOST, port=args.port, threads=4)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        app.labsim_cache.close()
    print(f"{PROG}: stopped", file=sys.stderr)
    return 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
