"""How long the Slack calls a request makes before its reply may take.

Slack waits three seconds for a reply. The app replies only when its listener is done (see
``process_before_response`` in ``bot.app``), so every Web API call a listener makes counts
against that time. The HTTP edge (or, in Socket Mode, the first middleware) starts the clock;
``remaining()`` says what is left; follow-ups that run after the reply start without one.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

REPLY_BUDGET = 2.3
"""Seconds from a request's arrival to its reply, leaving Slack's three a margin."""

_reply_by: ContextVar[float | None] = ContextVar("reply_by", default=None)


class SlackSlow(TimeoutError):
    """A Slack call before the reply could not finish in time (hanging, rate-limited, 5xx)."""

    def __init__(self, method: str) -> None:
        super().__init__(method)
        self.method = method


def start_reply_clock(budget: float = REPLY_BUDGET, *, restart: bool = False) -> None:
    """Start counting for the request being handled in this task, unless already counting
    (``restart``: count from now in any case, for a request with no edge before it)."""
    if restart or _reply_by.get() is None:
        _reply_by.set(asyncio.get_running_loop().time() + budget)


def clear_reply_clock() -> None:
    """Work that runs after the reply (``Deps.spawn``) has no reply to keep waiting."""
    _reply_by.set(None)


def remaining() -> float | None:
    """Seconds left before the reply is due; None outside a request."""
    deadline = _reply_by.get()
    if deadline is None:
        return None
    return max(deadline - asyncio.get_running_loop().time(), 0.0)
