"""Many rows in one INSERT, or a SELECT built once, sent by the SQLite driver itself.

Every batch of logs or votes makes two multi-row inserts (the deliveries' claims, then the rows).
Through SQLAlchemy's asyncio adaptation of aiosqlite each one costs four hops to the driver's
thread (cursor, execute, fetch, close) and a pass through the statement and result machinery:
most of what a batch costs. Here the statement is written once per table, column list and row
count; the values go through the columns' own SQLAlchemy types, so they are stored exactly as
SQLAlchemy stores them; and aiosqlite runs it in one hop, on the connection and in the
transaction the session already began. On other databases (PostgreSQL: no thread to hop to)
``insert_many`` returns None and the caller keeps to SQLAlchemy.

A batch that must read before it writes (votes: the channels' settings and theme messages)
reads with ``select_rows`` in a ``DriverTransaction``: a SQLAlchemy statement compiled once per
shape, its parameters and results converted by the columns' own types, run in one hop.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

MAX_VARIABLES = 30_000
"""Bound values per statement at most (SQLite's own limit is 32 766)."""


class DriverTransaction:
    """A SQLite transaction held by the driver alone (``Database.driver_transaction``): for a
    batch that needs nothing but ``insert_many``, without a session around it."""

    def __init__(self, driver: Any, dialect: Dialect) -> None:
        self.driver = driver
        self.dialect = dialect


async def insert_many(
    session: AsyncSession | DriverTransaction,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str],
    skip_conflicts: bool = False,
) -> list[tuple[Any, ...]] | None:
    """Insert ``rows`` (each with the same keys) and give back the ``returning`` columns of the
    rows inserted, as SQLite stored them; with ``skip_conflicts`` a row that breaks a unique
    constraint is left out (``ON CONFLICT DO NOTHING``). None when the session's database is not
    SQLite: then nothing was sent."""
    if isinstance(session, DriverTransaction):
        driver, dialect = session.driver, session.dialect
    else:
        dialect = session.get_bind().dialect
        if dialect.name != "sqlite":
            return None
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        # The health watch (storage.db) takes a commit after a write for a database that
        # writes again.
        connection.info["wrote"] = True
    if not rows:
        return []
    columns = tuple(rows[0])
    convert = _converters(table, columns, dialect)
    per_statement = max(1, MAX_VARIABLES // len(columns))
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = _statement(table.name, columns, tuple(returning), len(chunk), skip_conflicts)
        values = [f(row[c]) for row in chunk for c, f in zip(columns, convert, strict=True)]
        found += [tuple(r) for r in await driver.execute_fetchall(sql, values)]
    return found


def _same(value: Any) -> Any:
    return value


def _converters(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> list[Callable[[Any], Any]]:
    return [_bind(table.c[name].type, dialect) for name in columns]


def _bind(type_: Any, dialect: Dialect) -> Callable[[Any], Any]:
    """How SQLAlchemy sends a value of ``type_`` to ``dialect``: through the dialect's own
    variant of the type (SQLite's DATETIME writes its text with microseconds, always)."""
    return type_.dialect_impl(dialect).bind_processor(dialect) or _same


def _result(type_: Any, dialect: Dialect) -> Callable[[Any], Any]:
    return type_.dialect_impl(dialect).result_processor(dialect, None) or _same


@cache
def _statement(
    table: str, columns: tuple[str, ...], returning: tuple[str, ...], rows: int, skip: bool
) -> str:
    one = "(" + ", ".join("?" * len(columns)) + ")"
    names = ", ".join(f'"{c}"' for c in columns)
    back = ", ".join(f'"{c}"' for c in returning)
    conflicts = " ON CONFLICT DO NOTHING" if skip else ""
    values = ", ".join([one] * rows)
    return f'INSERT INTO "{table}" ({names}) VALUES {values}{conflicts} RETURNING {back}'


@dataclass(frozen=True, slots=True)
class _Query:
    sql: str
    names: tuple[str, ...]
    """The parameters' names, in their places in ``sql``."""
    binds: tuple[Callable[[Any], Any], ...]
    results: tuple[Callable[[Any], Any], ...]


_queries: weakref.WeakKeyDictionary[Dialect, dict[Hashable, _Query]] = weakref.WeakKeyDictionary()


def _compiled(statement: Select[Any], dialect: Dialect) -> _Query:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = tuple(_bind(compiled.binds[n].type, dialect) for n in names)
    results = tuple(_result(c.type, dialect) for c in statement.selected_columns)
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
    rows = await transaction.driver.execute_fetchall(query.sql, values)
    return [tuple(f(v) for f, v in zip(query.results, row, strict=True)) for row in rows]
