"""What every listener and job is handed: settings, database, clock and a CPU pool.

One ``Deps`` per process, built by ``bot.__main__`` (or a test) and given to listeners by a
middleware under the context key ``deps``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ParamSpec, TypeVar

from bot.pacing import Pacer
from bot.recent import Recent
from bot.reply_budget import REPLY_BUDGET, clear_reply_clock
from bot.settings import Settings
from storage.db import Database
from storage.secrets import TokenSealer

logger = logging.getLogger(__name__)

HOME_OPEN_FOR = 30 * 60.0
"""Seconds a person who opened their App Home counts as someone who may look at it again."""
HOMES_REMEMBERED = 10_000
"""How many of those people the process remembers (the oldest go first)."""
COALESCED_REMEMBERED = 10_000
"""Start times of coalesced follow-ups kept before the ones older than their gap are dropped."""
MESSAGE_UPDATES_PER_MINUTE = 40
"""``chat.update`` calls a workspace's follow-ups make in a minute, after a burst of
``MESSAGE_UPDATE_BURST``: under Slack's Tier 3 (about 50 a minute), leaving room for the
updates a person's own action makes (a retro board)."""
MESSAGE_UPDATE_BURST = 10

P = ParamSpec("P")
R = TypeVar("R")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = utc_now
    cpu: Executor = field(default_factory=lambda: ThreadPoolExecutor(2, "kaizen-cpu"))
    reply_budget: float = REPLY_BUDGET
    """Seconds from a request's arrival to its reply (see ``bot.reply_budget``)."""
    homes_opened: Recent = field(
        default_factory=lambda: Recent(keep_for=HOME_OPEN_FOR, most=HOMES_REMEMBERED),
        init=False,
        repr=False,
    )
    """Who opened their App Home lately (``bot.usecases.home``)."""
    message_updates: Pacer = field(
        default_factory=lambda: Pacer(
            per_minute=MESSAGE_UPDATES_PER_MINUTE, burst=MESSAGE_UPDATE_BURST
        ),
        init=False,
        repr=False,
    )
    """Turns for the messages follow-ups update, per workspace (``bot.pacing``)."""
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set, init=False, repr=False)
    _running: set[str] = field(default_factory=set, init=False, repr=False)
    _again: set[str] = field(default_factory=set, init=False, repr=False)
    _started: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def tokens(self) -> TokenSealer:
        """Seals OAuth bot tokens at rest when KAIZEN_SECRET_KEY is set."""
        key = self.settings.kaizen_secret_key
        return TokenSealer.from_keys(key.get_secret_value() if key else None)

    async def run_cpu(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run CPU-bound work (drawing images) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.cpu, lambda: fn(*args, **kwargs))

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> None:
        """Run follow-up Slack calls after the reply to Slack, for work already committed.

        Only messages go this way (a confirmation, a drawn map), never a write: the user has
        been told nothing is stored until it is.
        """
        context = contextvars.copy_context()
        context.run(clear_reply_clock)
        task = asyncio.get_running_loop().create_task(coro, name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def spawn_coalesced(
        self, key: str, make: Callable[[], Coroutine[Any, Any, Any]], *, gap: float = 0.0
    ) -> None:
        """Like ``spawn``, but one run per ``key`` at a time: a request made while one is under
        way makes it run once more when it ends, however many requests came meanwhile.

        For refreshing what Slack shows from the database (a theme message after a burst of
        votes): the last run reads the final state, and Slack's rate limits see a few calls
        instead of one per event. With a ``gap`` (seconds), a run starts no sooner than that
        after the one before it started, whether that one is still under way or ended: a steady
        stream of requests costs one run per gap.
        """
        if key in self._running:
            self._again.add(key)
            return
        self._running.add(key)

        async def run() -> None:
            loop = asyncio.get_running_loop()
            try:
                if (pause := self._started.get(key, -gap) + _spread(gap) - loop.time()) > 0:
                    await asyncio.sleep(pause)
                while True:
                    self._again.discard(key)
                    started = self._note_start(key, loop.time(), gap)
                    await make()
                    if key not in self._again:
                        return
                    if (pause := started + _spread(gap) - loop.time()) > 0:
                        await asyncio.sleep(pause)
            finally:
                self._running.discard(key)

        self.spawn(run(), name=key)

    def _note_start(self, key: str, now: float, gap: float) -> float:
        if len(self._started) >= COALESCED_REMEMBERED:
            # Only starts within a gap matter; the rest go (a gap is at most a few seconds).
            self._started = {k: t for k, t in self._started.items() if now - t < gap}
        self._started[key] = now
        return now

    def runs_again(self, key: str) -> bool:
        """Whether the coalesced run under way for ``key`` will run once more when it ends."""
        return key in self._again

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("followup.failed", exc_info=error, extra={"task": task.get_name()})

    async def drain(self) -> None:
        """Wait for the follow-ups under way (at shutdown, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        self.cpu.shutdown(wait=False, cancel_futures=True)
        await self.db.dispose()


def _spread(gap: float) -> float:
    """A coalesced run's gap, and up to a quarter of it more, at random."""
    return gap * (1 + random.uniform(0, 0.25)) if gap else 0.0
