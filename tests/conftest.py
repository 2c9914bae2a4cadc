"""Fixtures: databases (SQLite always, PostgreSQL when reachable), a clock, the running app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from storage.db import Database
from tests.support import databases
from tests.support.clock import FrozenClock

if TYPE_CHECKING:
    from tests.support.harness import Harness


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import asyncio

    folder = tmp_path_factory.mktemp("template")
    return asyncio.run(databases.migrated_sqlite_template(folder))


@pytest.fixture(scope="session")
def postgres_url() -> object:
    """A migrated PostgreSQL database for this run, or None when no server answers."""
    import asyncio

    async def setup() -> str | None:
        if not await databases.postgres_reachable():
            if databases.postgres_required():
                raise RuntimeError(
                    f"PostgreSQL is required but not reachable at {databases.PG_ADMIN_URL}"
                )
            return None
        url = await databases.create_postgres_database()
        db = Database(url)
        from storage.migrate import upgrade

        await upgrade(db)
        await db.dispose()
        return url

    url = asyncio.run(setup())
    yield url
    if url is not None:
        asyncio.run(databases.drop_postgres_database(url))


@pytest.fixture
async def db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(databases.copy_sqlite(sqlite_template, tmp_path))
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path, postgres_url: str | None
) -> AsyncIterator[Database]:
    """The storage suite runs on both backends; PostgreSQL only where a server answers."""
    if request.param == "sqlite":
        database = Database(databases.copy_sqlite(sqlite_template, tmp_path))
    else:
        if postgres_url is None:
            pytest.skip("no PostgreSQL server reachable (CI requires one when present)")
        database = Database(postgres_url)
        await databases.truncate_all(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def harness(db: Database, clock: FrozenClock) -> AsyncIterator[Harness]:
    from tests.support.harness import running_app

    async with running_app(db, clock) as running:
        yield running


@pytest.fixture
async def deadline_harness(db: Database, clock: FrozenClock) -> AsyncIterator[Harness]:
    """The app with its own reply budget, for the tests of Slack's three-second deadline."""
    from bot.reply_budget import REPLY_BUDGET
    from tests.support.harness import running_app

    async with running_app(db, clock, reply_budget=REPLY_BUDGET) as running:
        yield running
