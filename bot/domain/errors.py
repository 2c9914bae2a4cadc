"""The one base class for every error a user can cause.

Handlers turn a ``KaizenError`` into an ephemeral message, or into an inline field error when
``field`` names the modal input the problem belongs to.
"""

from __future__ import annotations


class KaizenError(Exception):
    """A problem the user can fix; ``message`` is shown to them as it is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(KaizenError):
    """Text the user typed that cannot be read."""


class NotFound(KaizenError):
    """A reference (a step, a theme number) that names nothing in this channel."""


class NotAllowed(KaizenError):
    """A change the rules do not permit (a status move, a vote over the limit)."""
