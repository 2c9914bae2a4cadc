"""Many rows in one INSERT, or a SELECT built once, sent by the database driver itself.

Every batch of logs or votes makes two multi-row inserts (the deliveries' claims, then the rows).
Through SQLAlchemy's asyncio adaptation of aiosqlite each one costs four hops to the driver's
thread (cursor, execute, fetch, close) and a pass through the statement and result machinery:
most of what a batch costs. Here the statement is written once per table, column list and row
count; the values go through the columns' own SQLAlchemy types, so they are stored exactly as
SQLAlchemy stores them; and the driver runs it in one call. In a session ``insert_many`` does
this on SQLite only, on the connection and in the transaction the session already began; on
PostgreSQL SQLAlchemy sends the insert the caller built for it.

A batch whose workspaces are known runs in a ``DriverTransaction`` (``Database.run_batch``)
instead, on SQLite and PostgreSQL alike: its reads with ``select_rows`` (a SQLAlchemy statement
compiled once per shape, its parameters and results converted by the columns' own types) and its
inserts with ``insert_many``, with no session. On SQLite the whole batch is one call of
``sqlite_batch``, with sqlite3's own blocking calls: in the event loop when the write lock is free,
in the driver's thread when the batch must wait for it. On PostgreSQL a batch of logs or votes
claims and inserts in one statement, its rows sent as one array per column (``unnest_rows``).
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Coroutine, Hashable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Float, Numeric, Select, String, Table
from sqlalchemy.dialects.postgresql import dialect as postgresql_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from storage.types import UTCDateTime, stored_utc

MAX_VARIABLES = 30_000
"""Bound values per statement at most (SQLite's own limit is 32 766)."""

BUSY_TIMEOUT_MS = 15_000
"""How long a SQLite connection waits for another one's write lock before it fails with
"database is locked"."""

T = TypeVar("T")

_POSTGRESQL: Dialect = postgresql_dialect()  # type: ignore[no-untyped-call]


class DriverTransaction:
    """A transaction held by the driver alone, for ``select_rows`` and ``insert_many``: a
    batch's (``Database.run_batch``), with no session around it, or on SQLite the one a
    session began. The driver is asyncpg's connection on PostgreSQL and aiosqlite's on SQLite
    (sqlite3's own within a batch: ``sqlite_batch``)."""

    def __init__(self, driver: Any, dialect: Dialect) -> None:
        self.driver = driver
        self.dialect = dialect
        self._sqlite = dialect.name == "sqlite"
        self.claims_with_insert = dialect.name == "postgresql"
        """A batch's deliveries are claimed in its insert's statement here
        (``storage.deliveries.claim_then_insert``): on PostgreSQL, where each statement is a
        round trip to the server. On SQLite the batch is one call anyway."""

    async def fetch(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self._sqlite:
            return [tuple(row) for row in await self.driver.execute_fetchall(sql, values)]
        return [tuple(row) for row in await self.driver.fetch(sql, *values)]


class _SQLiteBatch(DriverTransaction):
    """A batch's transaction on sqlite3's own connection: the statements are blocking calls,
    so the coroutine that sends them never waits."""

    async def fetch(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.driver.execute(sql, values).fetchall()]


class WriteLockTaken(Exception):
    """Another connection holds SQLite's write lock, and the batch was not to wait for it."""


def sqlite_batch(
    connection: sqlite3.Connection,
    dialect: Dialect,
    work: Callable[[DriverTransaction], Coroutine[Any, Any, T]],
    *,
    wait: bool = True,
) -> T:
    """Begin with the write lock, run ``work`` to its end and commit, all in the calling
    thread. With ``wait`` (in aiosqlite's thread) the lock is waited for as every statement
    there waits for it; without (in the event loop), a lock another connection holds raises
    ``WriteLockTaken`` at once, with nothing begun, rather than stop the loop while it waits.

    ``work`` may await nothing but its transaction's statements: anything else would need the
    event loop, which does not run while the batch does. That is refused (rolled back,
    nothing written).
    """
    if wait:
        connection.execute("BEGIN IMMEDIATE")
    else:
        _begin_at_once(connection)
    try:
        running = work(_SQLiteBatch(connection, dialect))
        try:
            running.send(None)
        except StopIteration as done:
            result: T = done.value
        else:
            running.close()
            raise RuntimeError("a driver batch awaited something other than its statements")
        connection.commit()
    except BaseException:
        if connection.in_transaction:
            connection.rollback()
        raise
    return result


def _begin_at_once(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode == sqlite3.SQLITE_BUSY:
            raise WriteLockTaken from error
        raise
    finally:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


async def insert_many(
    session: AsyncSession | DriverTransaction,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str],
    skip_conflicts: bool = False,
    otherwise: Mapping[str, Any],
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (each with the same keys) and give back the ``returning`` columns of the
    rows inserted, as the driver gives them; with ``skip_conflicts`` a row that breaks a unique
    constraint is left out (``ON CONFLICT DO NOTHING``). In a session on another database than
    SQLite, SQLAlchemy sends ``otherwise[dialect name]`` instead: the same insert, built
    once, with the rows as its parameters."""
    if isinstance(session, DriverTransaction):
        transaction = session
    else:
        dialect = session.get_bind().dialect
        if dialect.name != "sqlite":
            statement = otherwise[dialect.name]
            return [tuple(row) for row in await session.execute(statement, rows)]
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        transaction = DriverTransaction(driver, dialect)
        # The health watch (storage.db) takes a commit after a write for a database that
        # writes again.
        connection.info["wrote"] = True
    dialect = transaction.dialect
    if not rows:
        return []
    columns = tuple(rows[0])
    values_of = _row_values(table, columns, dialect)
    per_statement = max(1, MAX_VARIABLES // len(columns))
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = _statement(
            table.name, columns, tuple(returning), len(chunk), skip_conflicts, dialect.name
        )
        values: list[Any] = []
        for row in chunk:
            values += values_of(row)
        found += await transaction.fetch(sql, values)
    return found


def column_arrays(
    table: Table, columns: tuple[str, ...], rows: Sequence[Mapping[str, Any]], dialect: Dialect
) -> list[list[Any]]:
    """``rows``' values column by column (each converted as ``insert_many`` converts it): the
    arrays that ``unnest_rows`` turns back into rows on PostgreSQL."""
    values_of = _row_values(table, columns, dialect)
    arrays: list[list[Any]] = [[] for _ in columns]
    for row in rows:
        for array, value in zip(arrays, values_of(row), strict=True):
            array.append(value)
    return arrays


def unnest_rows(columns: Sequence[tuple[str, Any]], first: int, *, alias: str) -> str:
    """``unnest($first::type[], …) AS alias(names)``: rows of the (name, SQLAlchemy type)
    ``columns`` sent as one array per column, parameters numbered from ``first`` (asyncpg's).
    One statement whatever the number of rows, so asyncpg prepares it once. Strings go as
    ``text``: a cast to ``VARCHAR(n)`` would cut a longer value short, where an insert into
    the column refuses it."""
    types = ", ".join(
        f"${first + k}::{'text' if isinstance(type_, String) else type_.compile(_POSTGRESQL)}[]"
        for k, (_, type_) in enumerate(columns)
    )
    names = ", ".join(f'"{name}"' for name, _ in columns)
    return f"unnest({types}) AS {alias}({names})"


def _same(value: Any) -> Any:
    return value


_row_converters: weakref.WeakKeyDictionary[
    Dialect, dict[tuple[Table, tuple[str, ...]], Callable[[Mapping[str, Any]], list[Any]]]
] = weakref.WeakKeyDictionary()


def _row_values(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> Callable[[Mapping[str, Any]], list[Any]]:
    """A row's values in ``columns`` order, as the columns' bind processors send them: made
    once per dialect, table and column list (SQLAlchemy makes the processors at every call).
    Most columns have none; only the others are converted."""
    known = _row_converters.setdefault(dialect, {})
    found = known.get((table, columns))
    if found is None:
        found = known[(table, columns)] = _values_in_order(
            columns, [_bind(table.c[name].type, dialect) for name in columns]
        )
    return found


def _values_in_order(
    columns: tuple[str, ...], convert: list[Callable[[Any], Any]]
) -> Callable[[Mapping[str, Any]], list[Any]]:
    pick = itemgetter(*columns)
    converted = _converted(convert)
    if len(columns) == 1:  # itemgetter of one key gives the value, not a tuple
        return lambda row: _convert([pick(row)], converted)
    return lambda row: _convert(list(pick(row)), converted)


_Converted = tuple[tuple[int, Callable[[Any], Any]], ...]
"""The places of the values that a processor converts, with it (the others are sent or read
as they are)."""


def _converted(processors: Sequence[Callable[[Any], Any]]) -> _Converted:
    return tuple((i, f) for i, f in enumerate(processors) if f is not _same)


def _convert(values: list[Any], converted: _Converted) -> list[Any]:
    for i, f in converted:
        values[i] = f(values[i])
    return values


def _bind(type_: Any, dialect: Dialect) -> Callable[[Any], Any]:
    """How SQLAlchemy sends a value of ``type_`` to ``dialect``: through the dialect's own
    variant of the type (SQLite's DATETIME writes its text with microseconds, always)."""
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_text
    return type_.dialect_impl(dialect).bind_processor(dialect) or _same


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """A ``UTCDateTime`` as SQLAlchemy stores it on SQLite (``UTCDateTime`` then SQLite's
    ``DATETIME``: UTC, no offset, microseconds always), in one step instead of two: the two
    took 4.5 µs of each timestamp, and a batch of logs writes two per log."""
    stored = stored_utc(value, keep_offset=False)
    return None if stored is None else stored.isoformat(" ", "microseconds")


def _result(type_: Any, dialect: Dialect) -> Callable[[Any], Any]:
    impl = type_.dialect_impl(dialect)
    if dialect.name == "postgresql" and isinstance(impl, Float | Numeric):
        # asyncpg gives a FLOAT column's value as a float and a NUMERIC's as a Decimal, as
        # the types declare; SQLAlchemy's processor would need the column's type OID.
        return _same
    processor = impl.result_processor(dialect, None) or _same
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite":
        return partial(_utc_from_sqlite_text, otherwise=processor)
    return processor


def _utc_from_sqlite_text(value: Any, *, otherwise: Callable[[Any], Any]) -> Any:
    """A ``UTCDateTime`` read back on SQLite: text in the one shape ``_sqlite_utc_text``
    writes is read in one step, anything else as SQLAlchemy reads it (``otherwise``)."""
    if type(value) is str and len(value) == 26 and value[10] == " " and value[19] == ".":
        with suppress(ValueError):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return otherwise(value)


@cache
def _statement(
    table: str,
    columns: tuple[str, ...],
    returning: tuple[str, ...],
    rows: int,
    skip: bool,
    dialect: str,
) -> str:
    width = len(columns)
    if dialect == "sqlite":
        one = "(" + ", ".join("?" * width) + ")"
        values = ", ".join([one] * rows)
    else:  # asyncpg numbers its parameters
        values = ", ".join(
            "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")"
            for r in range(rows)
        )
    names = ", ".join(f'"{c}"' for c in columns)
    back = ", ".join(f'"{c}"' for c in returning)
    conflicts = " ON CONFLICT DO NOTHING" if skip else ""
    return f'INSERT INTO "{table}" ({names}) VALUES {values}{conflicts} RETURNING {back}'


@dataclass(frozen=True, slots=True)
class _Query:
    sql: str
    names: tuple[str, ...]
    """The parameters' names, in their places in ``sql``."""
    binds: tuple[Callable[[Any], Any], ...]
    results: _Converted
    """The result columns whose values are converted (most are given as the driver gives
    them)."""


_queries: weakref.WeakKeyDictionary[Dialect, dict[Hashable, _Query]] = weakref.WeakKeyDictionary()


def _compiled(statement: Select[Any], dialect: Dialect) -> _Query:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = tuple(_bind(compiled.binds[n].type, dialect) for n in names)
    results = _converted([_result(c.type, dialect) for c in statement.selected_columns])
    return _Query(str(compiled), names, binds, results)


_built: dict[Hashable, Select[Any]] = {}


async def select_rows(
    transaction: AsyncSession | DriverTransaction,
    shape: Hashable,
    build: Callable[[], Select[Any]],
    params: Mapping[str, Any],
) -> list[tuple[Any, ...]]:
    """The rows of the statement ``build()`` makes (with named bound parameters, no expanding
    ones) the first time this ``shape`` is asked for, with ``params``; each value as
    SQLAlchemy gives it back. In a session, SQLAlchemy runs it; in a ``DriverTransaction``,
    the driver, compiled once."""
    if isinstance(transaction, AsyncSession):
        statement = _built.get(shape)
        if statement is None:
            statement = _built[shape] = build()
        return [tuple(row) for row in await transaction.execute(statement, params)]
    known = _queries.setdefault(transaction.dialect, {})
    query = known.get(shape)
    if query is None:
        query = known[shape] = _compiled(build(), transaction.dialect)
    values = [f(params[n]) for n, f in zip(query.names, query.binds, strict=True)]
    rows = await transaction.fetch(query.sql, values)
    if not query.results:
        return rows
    return [tuple(_convert(list(row), query.results)) for row in rows]
