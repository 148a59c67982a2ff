"""The one kind of error labsim shows a user: a single line, no traceback.

Every command catches ``UserError`` at its boundary, prints its message as
one line and exits with code 2. ``ConfigError`` is the configuration's case:
it names the key, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import math
import os
import reprlib
import signal
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator


class UserError(Exception):
    """A problem with what the user asked for, already phrased as one line."""


class ConfigError(UserError, ValueError):
    """A configuration value a run cannot use: key, value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed: {allowed}")


class ArgumentParser(argparse.ArgumentParser):
    """argparse for labsim's commands: a mistake is a UserError (one line), not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(message)


class Interrupted(BaseException):
    """SIGTERM (or SIGHUP): stop like Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def raise_interrupted(signum: int, frame: Any) -> None:
    """A signal handler: turn SIGTERM or SIGHUP into ``Interrupted``, so that ``finally`` clauses run."""
    raise Interrupted(signum)


_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_pending: list[int] = []


@contextmanager
def held_signals() -> Iterator[Callable[[], None]]:
    """Hold SIGINT, SIGTERM and SIGHUP while the simulation runs, and deliver them at safe points.

    A signal's handler runs between two Python instructions, and the kernel's compiled loops
    (numba) are called from Python code that numba runs too: an exception raised there comes out as
    a ``SystemError`` ("returned a result with an exception set"), so a run stopped by Ctrl-C or
    SIGTERM would look like a failed one. Within this block the signals are only noted; the function
    yielded delivers a noted one (call it where stopping is safe: between the simulation's weeks),
    and leaving the block delivers it too, as the handlers in force before would have. Outside the
    main thread (a server's worker threads) signals are not this thread's: nothing is held.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    before = {sig: signal.getsignal(sig) for sig in _HELD}

    def note(signum: int, frame: Any) -> None:
        _pending.append(signum)

    def deliver() -> None:
        if not _pending:
            return
        signum = _pending[0]
        _pending.clear()
        for sig, handler in before.items():
            signal.signal(sig, handler)
        handler = before[signum]
        if callable(handler):
            handler(signum, None)  # Python's default for SIGINT raises KeyboardInterrupt; labsim's, Interrupted
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), signum)  # the default: end as that signal ends a process
        for sig in _HELD:  # an ignored signal: hold on
            signal.signal(sig, note)

    for sig in _HELD:
        signal.signal(sig, note)
    try:
        yield deliver
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    if _pending:
        deliver()


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4
_SHORT.maxlevel = 2


def shown(value: Any) -> str:
    """A value someone else wrote (a file, a browser), for a one-line message: its repr, shortened."""
    return _SHORT.repr(value)


def is_plain_number(value: Any) -> bool:
    """An int or float (not a bool) that is finite (an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
