"""Retro phases move at their deadlines, with an injected clock, once across two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.deps import Deps
from jobs.retro_phases import advance_retro_phases
from jobs.scheduler import find_job, run_job
from storage.db import Database
from storage.models import Retro
from tests.support.clock import FrozenClock
from tests.support.harness import Harness, running_app
from tests.support.retro import add_note, add_team, start_retro, thread


@pytest.fixture
async def any_harness(any_db: Database, clock: FrozenClock) -> AsyncIterator[Harness]:
    async with running_app(any_db, clock) as running:
        yield running


async def phase(harness: Harness) -> str:
    async with harness.deps.db.transaction() as s:
        return str((await s.scalars(select(Retro.phase))).one())


async def test_phases_move_at_their_deadlines_and_only_then(harness: Harness) -> None:
    add_team(harness)
    start = harness.clock()
    root = await start_retro(harness, collect=timedelta(days=1), vote=timedelta(days=2))
    await add_note(harness, root, "U2", "waiting", "Review queue")
    assert await advance_retro_phases(harness.deps, start + timedelta(hours=23)) == 0
    assert await phase(harness) == "collect"
    assert thread(harness, root) == []

    harness.clock.set(start + timedelta(days=1))
    assert await advance_retro_phases(harness.deps, harness.clock()) == 1
    assert await advance_retro_phases(harness.deps, harness.clock()) == 0
    assert await phase(harness) == "vote"
    [note, voting] = thread(harness, root)
    assert note["text"].endswith("Review queue") and "Voting is open" in voting["text"]

    harness.clock.set(start + timedelta(days=2, minutes=1))
    assert await advance_retro_phases(harness.deps, harness.clock()) == 1
    assert await phase(harness) == "summary"
    assert "the results" in thread(harness, root)[-1]["text"]
    # The summary stays up: later runs change nothing.
    harness.clock.advance(days=30)
    assert await advance_retro_phases(harness.deps, harness.clock()) == 0


async def test_two_processes_on_one_database_move_a_retro_once(any_harness: Harness) -> None:
    harness = any_harness
    add_team(harness)
    root = await start_retro(harness)
    for user, text in (("U2", "Flaky tests"), ("U3", "Slow reviews"), ("U4", "Lost context")):
        await add_note(harness, root, user, "defects", text)
    other = Deps(
        settings=harness.deps.settings, db=Database(harness.deps.db.url), clock=harness.clock
    )
    try:
        harness.clock.advance(days=1, minutes=1)
        moved = await asyncio.gather(
            advance_retro_phases(harness.deps, harness.clock()),
            advance_retro_phases(other, harness.clock()),
        )
        assert sorted(moved) == [0, 1]
        texts = [m["text"] for m in thread(harness, root)]
        assert sum("Flaky tests" in t for t in texts) == 1
        assert len(texts) == 4  # three notes and "voting is open"

        harness.clock.advance(days=1)
        moved = await asyncio.gather(
            advance_retro_phases(harness.deps, harness.clock()),
            advance_retro_phases(other, harness.clock()),
        )
        assert sorted(moved) == [0, 1]
        results = [m for m in thread(harness, root) if "the results" in m["text"]]
        assert len(results) == 1
    finally:
        await other.close()


async def test_the_scheduler_runs_the_phase_job_every_minute(harness: Harness) -> None:
    job = find_job("retro_phases")
    assert job is not None and job.every == timedelta(minutes=1)
    add_team(harness)
    root = await start_retro(harness)
    await add_note(harness, root, "U2", "waiting", "Review queue")
    harness.clock.advance(days=1)
    assert await run_job(harness.deps, job) == 1
    assert await phase(harness) == "vote"
