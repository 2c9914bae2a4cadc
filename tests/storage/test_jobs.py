"""Claims on scheduled posts: one taker, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage import jobs as runs
from storage.db import Database

NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)
LEASE = timedelta(hours=1)


async def take(db: Database, at: datetime) -> bool:
    async with db.transaction() as session:
        return await runs.claim_run(session, job="digest", key="1:C1:2026-W47", now=at, lease=LEASE)


async def test_a_running_claim_past_its_lease_is_taken_over_by_one_of_many(
    any_db: Database,
) -> None:
    assert await take(any_db, NOW)
    assert not await take(any_db, NOW + LEASE - timedelta(seconds=1))
    others = [Database(any_db.url) for _ in range(4)]
    try:
        taken = await asyncio.gather(*(take(db, NOW + LEASE) for db in others))
    finally:
        for db in others:
            await db.dispose()
    assert sorted(taken) == [False, False, False, True]
    async with any_db.transaction() as session:
        handled = await runs.list_handled_keys(
            session, job="digest", keys=["1:C1:2026-W47"], now=NOW + LEASE, lease=LEASE
        )
        run = await runs.get_run(session, job="digest", key="1:C1:2026-W47")
    assert handled == {"1:C1:2026-W47"}
    assert run is not None and run.status == runs.RUNNING and run.started_at == NOW + LEASE


async def test_a_finished_claim_is_never_taken_over(any_db: Database) -> None:
    assert await take(any_db, NOW)
    async with any_db.transaction() as session:
        await runs.finish_run(session, job="digest", key="1:C1:2026-W47", status=runs.DONE, now=NOW)
    assert not await take(any_db, NOW + LEASE * 10)
