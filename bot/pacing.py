"""Calls to Slack of one kind, per workspace, kept within the rate Slack allows them.

Slack limits most Web API methods per method and workspace ("Tier 3" is some 50 calls a minute,
with occasional bursts), and answers a call over the limit with ``ratelimited``. What the app
calls on its own after a reply, such as refreshing twenty theme messages while the whole channel
votes, waits its turn here instead: a burst goes at once, the rest is spread at the rate, and the
callers that coalesce (``Deps.spawn_coalesced``) fold the changes made meanwhile into the call
they make when their turn comes.

Per process: two processes each keep to the rate, so together they may exceed it by as much;
Slack's ``Retry-After`` then paces them (``bot.usecases.clients``).
"""

from __future__ import annotations

import asyncio

KEYS_REMEMBERED = 10_000
"""Workspaces whose turns are kept before the ones back to a full burst are forgotten."""


class Pacer:
    """A token bucket per key: ``burst`` calls at once, then one every ``60 / per_minute`` s.

    Turns are handed out in the order they are asked for: a caller that must wait is given the
    next free slot at once (the bucket goes below zero), so later callers queue behind it.
    """

    def __init__(self, *, per_minute: float, burst: int) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("a pacer needs a positive rate and a burst of at least one")
        self.per_second = per_minute / 60
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        """key -> (tokens, when counted): below zero, turns already promised."""

    def delay(self, key: str, now: float) -> float:
        """Take a turn for ``key`` at ``now``: the seconds to wait before it (0: at once)."""
        tokens, then = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.per_second) - 1
        if len(self._buckets) >= KEYS_REMEMBERED and key not in self._buckets:
            self._forget_full(now)
        self._buckets[key] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens / self.per_second

    async def turn(self, key: str) -> None:
        """Wait for the next turn of ``key``."""
        if (wait := self.delay(key, asyncio.get_running_loop().time())) > 0:
            await asyncio.sleep(wait)

    def _forget_full(self, now: float) -> None:
        """Drop the keys whose bucket has filled again: they start full when asked anew."""
        refill = self.per_second
        self._buckets = {
            key: (tokens, then)
            for key, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * refill < self.burst
        }
