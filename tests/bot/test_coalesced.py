"""Coalesced follow-ups: one run per key at a time, and with a gap, one run per gap."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

from bot.deps import Deps
from bot.settings import Settings
from storage.db import Database


def deps_on(db: Database) -> Deps:
    settings = Settings(database_url=db.url, _env_file=None)  # type: ignore[call-arg]
    return Deps(settings=settings, db=db)


async def test_requests_just_after_a_run_ended_are_folded_into_one_run_after_the_gap(
    db: Database,
) -> None:
    deps = deps_on(db)
    runs: list[int] = []

    async def refresh() -> None:
        runs.append(len(runs) + 1)
        await asyncio.sleep(0.2)  # Slack's answer to chat.update

    deps.spawn_coalesced("theme:1", refresh, gap=2.0)
    await deps.drain()
    assert runs == [1]
    # The first run has ended; two more votes come within its gap, one a moment after the
    # other: one run, after the gap, shows both (not one run each).
    deps.spawn_coalesced("theme:1", refresh, gap=2.0)
    await asyncio.sleep(0.1)
    deps.spawn_coalesced("theme:1", refresh, gap=2.0)
    await deps.drain()
    assert runs == [1, 2]


async def test_other_keys_and_no_gap_are_not_held_back(db: Database) -> None:
    deps = deps_on(db)
    runs: list[str] = []

    async def refresh(key: str) -> None:
        runs.append(key)

    deps.spawn_coalesced("theme:1", lambda: refresh("theme:1"), gap=60)
    deps.spawn_coalesced("theme:2", lambda: refresh("theme:2"), gap=60)
    await asyncio.wait_for(deps.drain(), 10)
    deps.spawn_coalesced("home:U1", lambda: refresh("home:U1"))
    await asyncio.wait_for(deps.drain(), 10)
    deps.spawn_coalesced("home:U1", lambda: refresh("home:U1"))
    await asyncio.wait_for(deps.drain(), 10)
    assert sorted(runs) == ["home:U1", "home:U1", "theme:1", "theme:2"]


async def test_runs_of_keys_begun_together_drift_apart_and_keep_their_gap(db: Database) -> None:
    """Twenty themes voted on all the time: their refreshes do not come back together every
    gap, and each theme's still come no sooner than the gap after the one before."""
    deps = deps_on(db)
    loop = asyncio.get_running_loop()
    starts: dict[str, list[float]] = {f"theme:{n}": [] for n in range(20)}

    def refresh(key: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def run() -> None:
            starts[key].append(loop.time())

        return run

    until = loop.time() + 1.2
    while loop.time() < until:
        for key in starts:
            deps.spawn_coalesced(key, refresh(key), gap=0.2)
        await asyncio.sleep(0.01)
    await asyncio.wait_for(deps.drain(), 10)
    assert all(len(times) >= 4 for times in starts.values())
    third = [times[2] for times in starts.values()]
    assert max(third) - min(third) > 0.02
    for times in starts.values():
        assert all(later - earlier >= 0.2 for earlier, later in itertools.pairwise(times))
