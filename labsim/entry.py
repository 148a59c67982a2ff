"""The console commands' first instructions: signals are answered before anything else is imported.

Every command of ``[project.scripts]`` starts here. Until the command's own module is imported (a
second or so: numpy, polars, Hydra), Ctrl-C, SIGTERM and SIGHUP end the process at once with one
line and the signal's exit code (128 + its number), as nothing has been written yet. Then Ctrl-C
raises KeyboardInterrupt and SIGTERM or SIGHUP ``Interrupted``, so that every ``finally`` clause of
the command runs (a run's staging folder is discarded, a pool's workers are stopped), and a signal
the command did not answer itself still ends in one line and that exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from typing import Any, Callable, NoReturn

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _prog() -> str:
    return os.path.basename(sys.argv[0]) or "labsim"


def _starting(signum: int, frame: Any) -> None:
    os.write(2, f"{_prog()}: interrupted ({signal.Signals(signum).name}) while starting; nothing was written\n"
             .encode())
    os._exit(128 + signum)


def _raise(signum: int, frame: Any) -> None:
    from labsim.errors import Interrupted

    raise Interrupted(signum)


def start(target: str) -> NoReturn:
    """Run the command ``module:function`` (its return value is the exit code)."""
    for sig in _SIGNALS:
        signal.signal(sig, _starting)
    module, name = target.split(":")
    main = getattr(importlib.import_module(module), name)
    from labsim.errors import Interrupted

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGHUP, _raise)
    try:
        try:
            code = main()
        finally:  # done (or stopped): a signal now would only cut the exit short
            for sig in _SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
    except KeyboardInterrupt:
        code = _said(signal.SIGINT)
    except Interrupted as exc:
        code = _said(exc.signum)
    sys.exit(code)


def _said(signum: int) -> int:
    print(f"{_prog()}: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
    return 128 + signum


def _command(target: str) -> Callable[[], NoReturn]:
    """The console script of the command ``module:function``."""

    def command() -> NoReturn:
        start(target)

    command.__doc__ = f"The console command that runs {target}."
    return command


labsim = _command("labsim.cli:main")
calibration = _command("labsim.calibration:main")
compare = _command("labsim.sweep:main")
sensitivity = _command("labsim.sensitivity:main")
classroom = _command("labsim.classroom:main")
figures = _command("labsim.export:main")
calibrate = _command("labsim.calibrate:main")
