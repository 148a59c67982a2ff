"""The one kind of error labsim shows a user: a single line, no traceback.

Every command catches ``UserError`` at its boundary, prints its message as
one line and exits with code 2. ``ConfigError`` is the configuration's case:
it names the key, the value and what is allowed.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A problem with what the user asked for, already phrased as one line."""


class ConfigError(UserError, ValueError):
    """A configuration value a run cannot use: key, value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed: {allowed}")
