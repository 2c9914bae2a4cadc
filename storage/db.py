"""The database handle: one async engine, short transactions, SQLite tuned on connect.

``Database.transaction()`` is the one way handlers and jobs touch the database: it yields an
``AsyncSession`` inside a transaction that commits when the block ends and rolls back on error.
Keep Slack API calls outside the block, so a slow network never holds a connection.

``Database.retry()`` runs a whole transaction again when PostgreSQL aborted it as a deadlock
victim or a serialisation failure (or SQLite stayed locked): such a transaction wrote nothing, so
running it again is safe. The database also remembers why its last write failed (read-only file,
disk or file-size limit, read-only server), so the health check can say so without writing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.util import greenlet_spawn

from storage.driver import BUSY_TIMEOUT_MS, DriverTransaction, WriteLockTaken, sqlite_batch

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
# PostgreSQL codes that mean "this server cannot take writes now": read-only transaction or
# standby, insufficient resources (disk full, out of memory or connections), I/O error.
_PG_CANNOT_WRITE = ("25006", "53", "58030")
_SQLITE_CANNOT_WRITE = (
    "readonly database",
    "read-only",
    "disk is full",
    "disk i/o error",
    "unable to open database",
)
ATTEMPTS = 4
HEALTH_CHECK_EVERY = 15.0
"""Seconds a write check is trusted, so a probe hit per second costs one check per 15 s."""


def sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else None


def is_transient(error: BaseException) -> bool:
    """A failure that rolled the whole transaction back and may pass if it runs again."""
    if not isinstance(error, DBAPIError):
        return False
    if sqlstate(error) in (DEADLOCK, SERIALIZATION_FAILURE):
        return True
    return "database is locked" in str(error.orig).lower()


def cannot_write(error: BaseException) -> bool:
    """A failure that says the database refuses writes, not that this one write was wrong."""
    if isinstance(error, sqlite3.Error):  # from the driver itself (``run_batch``)
        return any(part in str(error).lower() for part in _SQLITE_CANNOT_WRITE)
    driver_code = getattr(error, "sqlstate", None)  # asyncpg's own, likewise
    if isinstance(driver_code, str):
        return driver_code.startswith(_PG_CANNOT_WRITE)
    if not isinstance(error, DBAPIError):
        return False
    code = sqlstate(error)
    if code is not None:
        return code.startswith(_PG_CANNOT_WRITE)
    message = str(error.orig).lower()
    return any(part in message for part in _SQLITE_CANNOT_WRITE)


@dataclass
class WriteHealth:
    """What the process knows about whether its database takes writes."""

    failure: str | None = None
    """Why the last write failed, until a write commits again."""
    checked_at: float = float("-inf")
    check_failure: str | None = None
    deadlocks: int = 0
    retries: int = 0


def secure_sqlite_file(url: str) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite opens it.

    SQLite creates a missing file with the process umask (usually 0644: readable by every
    local user). The WAL and shared-memory files SQLite adds take the main file's mode.
    """
    database = make_url(url).database
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return  # a missing folder or no permission: SQLite reports it when it connects
    os.close(fd)


def _sqlite_file(url: str) -> tuple[str, bool] | None:
    """The database a SQLite URL names, as ``sqlite3.connect`` takes it (and whether as a URI);
    None for an in-memory database."""
    parsed = make_url(url)
    database = parsed.database
    if database in (None, "", ":memory:"):
        return None
    if str(parsed.query.get("uri", "")).lower() == "true":
        return database, True
    # Never create the file: a checkpoint of a database that is not there has nothing to do.
    return _file_uri(database, mode="rw"), True


def _file_uri(database: str, *, mode: str) -> str:
    """The SQLite file ``database`` as a URI opened in ``mode`` (``rw``: never created)."""
    return f"file:{quote(str(Path(database).absolute()))}?mode={mode}"


def _checkpoint(database: str, uri: bool) -> None:
    connection = sqlite3.connect(database, uri=uri, timeout=1)
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


PING_IDLE_AFTER = 2.0
"""Seconds a pooled PostgreSQL connection may sit unused before it is checked at checkout."""

WAL_CHECKPOINT_EVERY = 1.0
"""Seconds between the background copies of SQLite's write-ahead log into the database file
(``Database.checkpointing``)."""
WAL_AUTOCHECKPOINT_PAGES = 10_000
"""Pages (4 KiB) of write-ahead log after which a commit copies it into the database file
itself: SQLite's default is 1000. The background copy keeps the log well under this; the
bound is there for processes that run none (migrations, the command line)."""


def create_engine(
    url: str, *, echo: bool = False, ping_idle_after: float = PING_IDLE_AFTER
) -> AsyncEngine:
    if not is_sqlite(url):
        engine = create_async_engine(url, echo=echo, pool_size=10)
        _ping_when_idle(engine, after=ping_idle_after)
        return engine
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:")
    if not in_memory:
        secure_sqlite_file(url)
    # One connection per process that writes: SQLite serialises writers anyway, and several
    # aiosqlite connections writing at once trade throughput for "database is locked" errors
    # (reads may have one of their own: ``Database.reading``).
    engine = create_async_engine(
        url,
        echo=echo,
        poolclass=StaticPool if in_memory else None,
        **({} if in_memory else {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30}),
        # The pool's one connection is used by one caller at a time, in aiosqlite's thread or,
        # for a batch, in the event loop's (``run_batch``).
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_reset_on_return=None,  # the "reset" listener of _tune_sqlite rolls back instead
    )
    _tune_sqlite(engine, wal=not in_memory)
    return engine


def _create_reader(url: str, *, echo: bool) -> AsyncEngine | None:
    """A read-only connection of its own to the SQLite file ``url`` names (``Database.reading``);
    None for PostgreSQL, an in-memory database or a URL given as a URI (read on the one
    connection instead)."""
    if not is_sqlite(url):
        return None
    parsed = make_url(url)
    database = parsed.database
    if database in (None, "", ":memory:") or parsed.query:
        return None
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{_file_uri(database, mode='ro')}&uri=true",
        echo=echo,
        pool_size=1,
        max_overflow=0,
        pool_timeout=30,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        pool_reset_on_return=None,
    )
    _tune_sqlite(engine, wal=False)  # a read-only connection leaves the journal mode be
    return engine


def _ping_when_idle(engine: AsyncEngine, *, after: float) -> None:
    """Check a pooled connection at checkout only when it sat unused for ``after`` seconds.

    ``pool_pre_ping`` costs a round trip to the server at every checkout, one of the four or
    five a short transaction makes. What it guards against is a connection that died while it
    sat in the pool (the server restarted, a proxy cut it): a connection used moments ago was
    alive moments ago. A dead one found at checkout is replaced, as with ``pool_pre_ping``;
    one that dies within ``after`` seconds of its last use fails the transaction that gets it
    (and SQLAlchemy then discards the whole pool), as any connection dying mid-use does.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the pool replaces the connection
            raise DisconnectionError("a pooled connection is gone") from error


def _tune_sqlite(engine: AsyncEngine, *, wal: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so transactions and SAVEPOINTs behave (the pysqlite
        # driver's own implicit transactions would otherwise get in the way).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            mode = cursor.fetchone()
            # A commit then appends to the log without waiting for the disk (the checkpoint
            # syncs it, in the background): one that can run in the event loop (``run_batch``).
            record.info[COMMITS_AT_ONCE] = mode is not None and str(mode[0]).lower() == "wal"
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        # The pool's rollback on return, for a connection still in a transaction only. One
        # that was never in one, or whose transaction its driver ended (a driver batch
        # commits by itself), would only cost a hop to the driver's thread for nothing.
        if not state.asyncio_safe:
            return  # as SQLAlchemy's own reset: the connection is being thrown away
        driver = record.driver_connection if record is not None else None
        if driver is None or driver.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_LOCK_AT_BEGIN)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


COMMITS_AT_ONCE = "kaizen_commits_at_once"
"""Connection info: a SQLite file in write-ahead-log mode, whose commits wait for no disk."""

WRITE_LOCK_AT_BEGIN = "kaizen_write_lock_at_begin"
"""Execution option: on SQLite, begin with the write lock (``BEGIN IMMEDIATE``)."""


async def _run_sqlite_batch(
    driver: Any,
    dialect: Any,
    work: Callable[[DriverTransaction], Coroutine[Any, Any, T]],
    *,
    in_loop: bool,
) -> T:
    """A batch on aiosqlite's connection ``driver``, through sqlite3's own connection (reached
    as SQLAlchemy's adaptation of aiosqlite reaches it).

    In the event loop itself when the connection commits without waiting for the disk
    (``COMMITS_AT_ONCE``) and no other connection holds the write lock: a few statements take
    well under a millisecond, less than handing them to aiosqlite's thread costs (two thread
    switches and a wait for the interpreter lock, for each batch). Otherwise in that thread,
    through the queue it serves, where the batch waits for the lock as every statement does.
    """
    connection = driver._conn
    if in_loop and not connection.in_transaction:
        with suppress(WriteLockTaken):
            return sqlite_batch(connection, dialect, work, wait=False)
    result: T = await driver._execute(partial(sqlite_batch, connection, dialect, work))
    return result


class Database:
    """The engine and its session factory; one per process."""

    def __init__(
        self, url: str, *, echo: bool = False, ping_idle_after: float = PING_IDLE_AFTER
    ) -> None:
        self.url = url
        self._sqlite = is_sqlite(url)
        self._sqlite_file = _sqlite_file(url) if self._sqlite else None
        self.engine = create_engine(url, echo=echo, ping_idle_after=ping_idle_after)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reader = _create_reader(url, echo=echo)
        self._read_sessions = (
            async_sessionmaker(self._reader, expire_on_commit=False)
            if self._reader is not None
            else self.sessionmaker
        )
        self.health = WriteHealth()
        self._watch_writes()

    @property
    def writes_one_at_a_time(self) -> bool:
        """SQLite: the process has one connection that writes, and a write waits for the one
        before it to end. PostgreSQL takes several at once, from a pool."""
        return self._sqlite

    def _watch_writes(self) -> None:
        health = self.health

        @event.listens_for(self.engine.sync_engine, "after_cursor_execute")
        def _wrote(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
                conn.info["wrote"] = True

        @event.listens_for(self.engine.sync_engine, "commit")
        def _committing(conn: Any) -> None:
            # A failed commit fires handle_error after this and sets the failure again.
            if conn.info.pop("wrote", False):
                health.failure = None

        @event.listens_for(self.engine.sync_engine, "rollback")
        def _rolled_back(conn: Any) -> None:
            # A connection that died mid-transaction has no info to clear; reading it would
            # try to reconnect inside the rollback and hide the real error.
            if not conn.invalidated:
                conn.info.pop("wrote", None)

        @event.listens_for(self.engine.sync_engine, "handle_error")
        def _failed(context: Any) -> None:
            error = context.sqlalchemy_exception
            if error is not None and cannot_write(error):
                health.failure = str(getattr(error, "orig", error))[:200]

    @asynccontextmanager
    async def transaction(self, *, write_lock: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction; ``write_lock`` (SQLite): take the write lock when it begins.

        For a transaction that reads before it writes while another process may write the
        same SQLite file: otherwise its first write finds the file changed since it began to
        read, and SQLite answers "database is locked" at once instead of waiting its turn.
        Within one process it changes nothing (SQLite has one connection per process).
        """
        async with self.sessionmaker() as session, session.begin():
            if write_lock and self._sqlite:
                await session.connection(execution_options={WRITE_LOCK_AT_BEGIN: True})
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A transaction that only reads: on a SQLite file, on a read-only connection of its
        own; elsewhere as ``transaction()``.

        SQLite's one connection per process is otherwise held for as long as a read lasts,
        and a read of a few statements takes a turn of the busy event loop for each: the
        write batches waited behind it. In write-ahead-log mode a reader waits for no writer
        and no writer for it; it sees what was committed when it began.
        """
        async with self._read_sessions() as session, session.begin():
            yield session

    async def run_batch(
        self,
        work: Callable[[DriverTransaction], Coroutine[Any, Any, T]],
        *,
        one_write: bool = False,
    ) -> T:
        """``work``'s statements as one write transaction, begun and ended by the driver
        itself, with no session around it: for batches of a few statements sent without
        SQLAlchemy's statement and result machinery (``storage.driver``).

        With ``one_write``, ``work`` writes with one statement at most, after its reads: on
        PostgreSQL it then runs in no transaction of its own, that statement being atomic by
        itself (BEGIN and COMMIT would be two more round trips to the server per batch).

        On SQLite, the whole batch is one call of ``sqlite_batch``, with sqlite3's own blocking
        calls (each statement would otherwise wait its turn for aiosqlite's thread and then for
        the event loop); ``work`` must then await nothing but its statements. On PostgreSQL,
        asyncpg's own transaction on a pooled connection.
        """
        try:
            pooled = await self.engine.raw_connection()
            try:
                driver: Any = pooled.driver_connection
                dialect = self.engine.dialect
                if self._sqlite:
                    at_once = bool(pooled.info.get(COMMITS_AT_ONCE))
                    result: T = await _run_sqlite_batch(driver, dialect, work, in_loop=at_once)
                elif one_write:
                    result = await work(DriverTransaction(driver, dialect))
                else:
                    async with driver.transaction():
                        result = await work(DriverTransaction(driver, dialect))
            finally:
                # On SQLite, given back at once: the driver ended the transaction (committed
                # or rolled back), so the pool's reset sends nothing. ``engine.connect()`` would
                # cost two more trips through SQLAlchemy's greenlet bridge per batch, and
                # ``async with`` one more turn of the event loop. A SQLite batch still running
                # in the driver's thread (its caller was cancelled) is given back through the
                # bridge, so that the reset's rollback can wait behind it there. So is every
                # connection on PostgreSQL: one taken beyond the pool's size is closed when it
                # comes back, and closing an asyncpg connection awaits.
                if not self._sqlite or driver.in_transaction:
                    await greenlet_spawn(pooled.close)
                else:
                    pooled.close()
        except BaseException as error:
            if cannot_write(error):
                self.health.failure = str(error)[:200]
            raise
        self.health.failure = None
        return result

    @asynccontextmanager
    async def checkpointing(self, *, every: float = WAL_CHECKPOINT_EVERY) -> AsyncIterator[None]:
        """While open, SQLite's write-ahead log is copied into the database file every
        ``every`` seconds, by a connection of its own in a worker thread (a no-op for
        PostgreSQL and in-memory databases).

        With SQLite's default, the commit that grew the log past 1000 pages made that copy
        itself, and synced the file: every hundred or so batches, one took ten times as long
        as the others, with its requests and every one waiting behind it. A passive
        checkpoint waits for no reader or writer, and the app's own connection then has
        nothing left to copy (``WAL_AUTOCHECKPOINT_PAGES``).
        """
        if self._sqlite_file is None:
            yield
            return
        task = asyncio.get_running_loop().create_task(
            self._checkpoint_every(self._sqlite_file, every), name="db.checkpoint"
        )
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    @staticmethod
    async def _checkpoint_every(target: tuple[str, bool], every: float) -> None:
        failing = False
        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.to_thread(_checkpoint, *target)
            except sqlite3.Error as error:
                if not failing:  # once per spell of failures, not every second
                    logger.warning("db.checkpoint_failed", extra={"error": str(error)[:200]})
                failing = True
            else:
                failing = False

    async def retry(self, run: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
        """Run a transaction, again (a few times, after a short random pause) when it was
        rolled back as a deadlock victim or serialisation failure; the last error is raised."""
        for attempt in range(1, attempts + 1):
            try:
                return await run()
            except DBAPIError as error:
                if not is_transient(error) or attempt == attempts:
                    raise
                if sqlstate(error) == DEADLOCK:
                    self.health.deadlocks += 1
                self.health.retries += 1
                logger.warning(
                    "db.transaction_retried",
                    extra={"attempt": attempt, "sqlstate": sqlstate(error) or "locked"},
                )
                await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def write_problem(self, *, now: float | None = None) -> str | None:
        """Why the database cannot take a write now, or None when it can.

        No write per call: a failed real write is remembered until a write commits again, and a
        write check (a no-op UPDATE, rolled back) runs at most every ``HEALTH_CHECK_EVERY``
        seconds. While a failure is remembered, the check commits its no-op write, so a
        database that recovers while idle is seen to recover.
        """
        now = time.monotonic() if now is None else now
        if now - self.health.checked_at >= HEALTH_CHECK_EVERY:
            self.health.checked_at = now
            self.health.check_failure = await self._check_write(
                commit=self.health.failure is not None
            )
        return self.health.failure or self.health.check_failure

    async def _check_write(self, *, commit: bool) -> str | None:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
                await (conn.commit() if commit else conn.rollback())
        except DBAPIError as error:
            return str(error.orig)[:200]
        except OSError as error:
            return str(error)[:200]
        return None

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not reachable"
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._reader is not None:
            await self._reader.dispose()
