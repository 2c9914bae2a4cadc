"""Test databases: a migrated SQLite file per test, and PostgreSQL when a server answers.

PostgreSQL is tried at ``KAIZEN_TEST_POSTGRES_URL`` (default: the local server). Each test run
creates its own database and drops it at the end. With ``KAIZEN_TEST_POSTGRES=required`` (CI sets
it when a server is present) an unreachable server fails the run instead of leaving it out.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base

PG_ADMIN_URL = os.environ.get(
    "KAIZEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_required() -> bool:
    return os.environ.get("KAIZEN_TEST_POSTGRES", "").lower() == "required"


async def postgres_reachable() -> bool:
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def create_postgres_database(
    admin_url: str = PG_ADMIN_URL, prefix: str = "kaizen_test"
) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin_url.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"


async def drop_postgres_database(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    """Drop it even while something is still connected (``WITH (FORCE)``)."""
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def empty_postgres_database(
    admin_url: str = PG_ADMIN_URL, prefix: str = "kaizen_test"
) -> AsyncIterator[str]:
    """A new database with no tables (not migrated), dropped when the block exits."""
    url = await create_postgres_database(admin_url, prefix)
    try:
        yield url
    finally:
        await drop_postgres_database(url, admin_url)


async def migrated_sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.dispose()
    return path


def copy_sqlite(template: Path, folder: Path) -> str:
    path = folder / f"kaizen-{secrets.token_hex(4)}.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


async def truncate_all(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
