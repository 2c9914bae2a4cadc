"""The database handle: retried conflicts, serialised migrations, a private SQLite file."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import stat
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from storage.db import WAL_AUTOCHECKPOINT_PAGES, Database
from storage.migrate import upgrade
from storage.models import Observation
from storage.workspaces import resolve_workspace
from tests.support import databases

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def test_two_processes_migrating_an_empty_postgres_at_once_both_start(
    postgres_url: str | None,
) -> None:
    if postgres_url is None:
        pytest.skip("no PostgreSQL server reachable (CI requires one when present)")
    url = await databases.create_postgres_database()
    first, second = Database(url), Database(url)
    try:
        await asyncio.wait_for(asyncio.gather(upgrade(first), upgrade(second)), 30)
        async with first.transaction() as s:
            versions = (await s.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
        assert versions == 1
    finally:
        await first.dispose()
        await second.dispose()
        await databases.drop_postgres_database(url)


async def test_a_deadlocked_transaction_is_run_again_and_both_writers_land(
    postgres_url: str | None,
) -> None:
    if postgres_url is None:
        pytest.skip("no PostgreSQL server reachable (CI requires one when present)")
    db = Database(postgres_url)
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY)"))
        await conn.execute(text("TRUNCATE deadlock_probe"))
        await conn.execute(text("INSERT INTO deadlock_probe VALUES (1), (2)"))
    both_hold_one = asyncio.Barrier(2)
    runs = {"a": 0, "b": 0}

    def writer(name: str, first: int, second: int) -> object:
        async def run() -> None:
            runs[name] += 1
            async with db.transaction() as s:
                await s.execute(text(f"UPDATE deadlock_probe SET id = id WHERE id = {first}"))
                if runs[name] == 1:
                    await both_hold_one.wait()
                await s.execute(text(f"UPDATE deadlock_probe SET id = id WHERE id = {second}"))

        return db.retry(run)

    try:
        await asyncio.wait_for(asyncio.gather(writer("a", 1, 2), writer("b", 2, 1)), 30)  # type: ignore[arg-type]
        assert db.health.deadlocks == 1
        assert sorted(runs.values()) == [1, 2]
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP TABLE deadlock_probe"))
        await db.dispose()


async def test_a_write_that_is_simply_wrong_is_not_retried(any_db: Database) -> None:
    calls = 0

    async def run() -> None:
        nonlocal calls
        calls += 1
        async with any_db.transaction() as s:
            await s.execute(text("INSERT INTO no_such_table VALUES (1)"))

    with pytest.raises(DBAPIError):
        await any_db.retry(run)
    assert calls == 1


async def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "kaizen.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_database_opened_read_only_reports_that_it_cannot_write(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = databases.copy_sqlite(sqlite_template, tmp_path)
    path = url.removeprefix("sqlite+aiosqlite:///")
    writable, read_only = (
        Database(url),
        Database(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"),
    )
    try:
        assert await writable.write_problem() is None
        problem = await read_only.write_problem()
        assert problem is not None and "readonly" in problem
    finally:
        await writable.dispose()
        await read_only.dispose()


FILE_SIZE_LIMIT = """
import asyncio, resource, sys
from sqlalchemy import text
from storage.db import Database

async def main(url: str, path: str) -> None:
    db = Database(url)
    import os
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 65536,) * 2)
    try:
        for n in range(1000):
            async with db.transaction() as s:
                await s.execute(
                    text("INSERT INTO oauth_states (state, expires_at) VALUES (:s, '2030-01-01')"),
                    {"s": f"{n}-" + "x" * 120},
                )
                await s.execute(text("UPDATE workspaces SET name = :n"), {"n": "y" * 4000})
    except Exception as error:
        print("write failed:", type(error).__name__)
    print("problem:", await db.write_problem())
    await db.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_a_file_size_limit_reached_is_remembered_as_a_write_problem(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = databases.copy_sqlite(sqlite_template, tmp_path)
    path = url.removeprefix("sqlite+aiosqlite:///")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FILE_SIZE_LIMIT,
        url,
        path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    lines = out.decode().splitlines()
    assert lines[0].startswith("write failed"), (out, err[-2000:])
    assert lines[1] != "problem: None", lines


async def _cut_connections(database_url: str) -> int:
    """What a server restart does to the pool: every connection to the database is gone."""
    name = database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(databases.PG_ADMIN_URL)
    try:
        cut = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await conn.close()
    return len(cut)


async def test_a_pooled_postgres_connection_that_died_while_idle_is_replaced(
    postgres_url: str | None,
) -> None:
    if postgres_url is None:
        pytest.skip("no PostgreSQL server reachable")
    db = Database(postgres_url, ping_idle_after=0.0)
    try:
        async with db.transaction() as s:
            assert await s.scalar(text("SELECT 1")) == 1
        assert await _cut_connections(postgres_url) >= 1
        async with db.transaction() as s:
            assert await s.scalar(text("SELECT 2")) == 2
    finally:
        await db.dispose()


async def test_a_recently_used_postgres_connection_is_not_pinged(
    postgres_url: str | None,
) -> None:
    if postgres_url is None:
        pytest.skip("no PostgreSQL server reachable")
    db = Database(postgres_url, ping_idle_after=3600.0)
    sent: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: sent.append(statement),
    )
    try:
        for _ in range(3):
            async with db.transaction() as s:
                await s.scalar(text("SELECT 1"))
        assert sent == ["SELECT 1"] * 3
        # The pooled connection sat unused for less than an hour: it is not checked, so
        # cutting it under the pool fails the next transaction (as any connection dying
        # mid-use does); the pool is replaced and the one after works.
        await _cut_connections(postgres_url)
        with pytest.raises(DBAPIError):
            async with db.transaction() as s:
                await s.scalar(text("SELECT 1"))
        async with db.transaction() as s:
            assert await s.scalar(text("SELECT 3")) == 3
    finally:
        await db.dispose()


def _write_from_another_process(path: str) -> str:
    """Another process writing the file, without waiting for a lock: "ok" or SQLite's error."""
    conn = sqlite3.connect(path, timeout=0)
    try:
        conn.execute("UPDATE alembic_version SET version_num = version_num")
        conn.commit()
    except sqlite3.OperationalError as error:
        return str(error)
    finally:
        conn.close()
    return "ok"


@pytest.mark.parametrize("write_lock", [True, False])
async def test_a_sqlite_transaction_can_hold_the_write_lock_from_its_start(
    db: Database, write_lock: bool
) -> None:
    path = db.url.removeprefix("sqlite+aiosqlite:///")
    async with db.transaction(write_lock=write_lock) as s:
        assert await s.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        other = await asyncio.to_thread(_write_from_another_process, path)
    # Holding it, nobody else writes before this transaction's own writes; without it,
    # another process may, and this transaction's first write would then be refused.
    assert other == ("database is locked" if write_lock else "ok")


def rows_in_the_file_itself(url: str) -> int:
    """Observations in the database file, not counting what is still in its write-ahead log."""
    path = url.removeprefix("sqlite+aiosqlite:///")
    with closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM observations").fetchone()[0])


async def test_the_write_ahead_log_is_copied_into_the_file_in_the_background(
    db: Database,
) -> None:
    """Commits only append to the log; the copy into the file runs beside them, so that no
    request's commit waits for it."""
    async with db.engine.connect() as conn:
        pages = (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one()
    assert pages == WAL_AUTOCHECKPOINT_PAGES
    async with db.transaction() as session:
        ws = await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    for n in range(3):
        async with db.transaction() as session:
            session.add(
                Observation(
                    workspace_id=ws.id,
                    channel_id="C1",
                    description=f"log {n}",
                    reporter_key="k" * 64,
                    source="command",
                    created_at=NOW,
                )
            )
    assert rows_in_the_file_itself(db.url) == 0
    async with db.checkpointing(every=0.02):
        deadline = asyncio.get_running_loop().time() + 5
        while rows_in_the_file_itself(db.url) < 3:
            assert asyncio.get_running_loop().time() < deadline, "the log was never copied"
            await asyncio.sleep(0.02)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Observation.id))) == 3


async def test_a_checkpoint_that_fails_is_logged_once_not_every_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Its folder is gone: the checkpoints fail (and create nothing) until it is back."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/gone/kaizen.db")
    try:
        with caplog.at_level(logging.WARNING):
            async with db.checkpointing(every=0.01):
                await asyncio.sleep(0.2)
        failures = [r for r in caplog.records if r.getMessage() == "db.checkpoint_failed"]
        assert len(failures) == 1
        assert not (tmp_path / "gone").exists()
    finally:
        await db.dispose()


async def test_a_read_holds_up_no_write_on_sqlite(db: Database) -> None:
    """A read has a connection of its own: a write that comes while it is under way is
    stored at once, and the read goes on seeing what it began with."""
    async with db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    async with db.reading() as reader:
        assert await reader.scalar(select(func.count(Observation.id))) == 0

        async def one_log() -> None:
            async with db.transaction() as session:
                session.add(
                    Observation(
                        workspace_id=1,
                        channel_id="C1",
                        description="stored",
                        source="command",
                        reporter_key="k" * 64,
                        created_at=NOW,
                    )
                )

        await asyncio.wait_for(one_log(), 5)
        assert await reader.scalar(select(func.count(Observation.id))) == 0
    async with db.reading() as reader:
        assert await reader.scalar(select(func.count(Observation.id))) == 1
