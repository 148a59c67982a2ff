"""The one kind of error labsim shows a user: a single line, no traceback.

Every command catches ``UserError`` at its boundary, prints its message as
one line and exits with code 2. ``ConfigError`` is the configuration's case:
it names the key, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import math
import reprlib
from typing import Any


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
