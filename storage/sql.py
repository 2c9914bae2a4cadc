"""Dialect-aware statements shared by the query modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignoring_conflict(
    session: AsyncSession, table: Table, values: dict[str, Any]
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None if the row existed.

    Concurrent callers are safe: the loser of a race gets None, never an IntegrityError that
    would abort its whole transaction.
    """
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def advisory_lock(session: AsyncSession, *, space: int, key: str) -> None:
    """Hold a lock on ``key`` (in the namespace ``space``) until the transaction ends.

    For rules no constraint can hold (a cap counted before an insert). PostgreSQL only: an
    advisory lock interleaves with no row lock, so it cannot deadlock with the key-share locks
    that foreign keys take. SQLite needs none: it has one writer at a time already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"), {"space": space, "key": key}
    )


def rows_changed(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (SQLAlchemy types ``execute`` as a plain
    ``Result``, which does not declare ``rowcount``)."""
    return int(getattr(result, "rowcount", 0) or 0)
