"""Dialect-aware statements shared by the query modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
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


def rows_changed(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (SQLAlchemy types ``execute`` as a plain
    ``Result``, which does not declare ``rowcount``)."""
    return int(getattr(result, "rowcount", 0) or 0)
