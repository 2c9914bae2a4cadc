"""The database handle: one async engine, short transactions, SQLite tuned on connect.

``Database.transaction()`` is the one way handlers and jobs touch the database: it yields an
``AsyncSession`` inside a transaction that commits when the block ends and rolls back on error.
Keep Slack API calls outside the block, so a slow network never holds a connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if not is_sqlite(url):
        return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10)
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:")
    # One connection per process: SQLite serialises writers anyway, and several aiosqlite
    # connections writing at once trade throughput for "database is locked" errors.
    engine = create_async_engine(
        url,
        echo=echo,
        poolclass=StaticPool if in_memory else None,
        **({} if in_memory else {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30}),
        connect_args={"timeout": 15},
    )
    _tune_sqlite(engine, wal=not in_memory)
    return engine


def _tune_sqlite(engine: AsyncEngine, *, wal: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so transactions and SAVEPOINTs behave (the pysqlite
        # driver's own implicit transactions would otherwise get in the way).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


class Database:
    """The engine and its session factory; one per process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not reachable"
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
