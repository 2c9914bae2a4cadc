"""Counting what is stored, to show that a refused request wrote nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Base


async def row_counts(db: Database) -> dict[str, int]:
    """Rows per table, for every table the models declare."""
    counts = {}
    async with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(
                (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            )
    return counts
