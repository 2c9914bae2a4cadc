"""Deleting a workspace's or one channel's data for good (``kaizen-bot purge``).

The rows to delete are found from the schema itself rather than a hand-kept list, so a table
added later is purged too: a table is a workspace's when it has ``workspace_id`` and a channel's
when it has ``channel_id``; a table with neither (votes, theme events, retro notes) belongs to the
rows its foreign keys point at. Children are deleted before their parents, so the result does
not depend on ``ON DELETE CASCADE`` being enforced.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Table, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Workspace

_WORKSPACES: Table = Workspace.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class PurgeTarget:
    """A workspace, or one channel of it when ``channel_id`` is set."""

    workspace_id: int
    channel_id: str | None = None


def _owned_ids(
    table: Table, target: PurgeTarget, seen: frozenset[str] = frozenset()
) -> Select[tuple[int]] | None:
    """The ids of ``table``'s rows that belong to ``target``, or None if none can."""
    if target.channel_id is None and table is _WORKSPACES:
        return select(table.c.id).where(table.c.id == target.workspace_id)
    columns = table.c
    if "workspace_id" in columns and (target.channel_id is None or "channel_id" in columns):
        return select(columns.id).where(_scope(table, target))
    parents = []
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent is table or parent.name in seen:
            continue
        owned = _owned_ids(parent, target, seen | {table.name})
        if owned is not None:
            parents.append(fk.parent.in_(owned))
    if not parents:
        return None
    return select(columns.id).where(or_(*parents))


def _scope(table: Table, target: PurgeTarget) -> ColumnElement[bool]:
    condition = table.c.workspace_id == target.workspace_id
    if target.channel_id is not None:
        condition = condition & (table.c.channel_id == target.channel_id)
    return condition


def _tables(target: PurgeTarget) -> list[tuple[Table, Select[tuple[int]]]]:
    """Every table with rows owned by ``target``, children first."""
    found = []
    for table in reversed(Base.metadata.sorted_tables):
        owned = _owned_ids(table, target)
        if owned is not None:
            found.append((table, owned))
    return found


async def count_purgeable(session: AsyncSession, *, target: PurgeTarget) -> dict[str, int]:
    """Rows that ``purge`` would delete, by table; tables without any are left out."""
    counts: dict[str, int] = {}
    for table, owned in _tables(target):
        number = await session.scalar(select(func.count()).select_from(owned.subquery()))
        if number:
            counts[table.name] = int(number)
    return counts


async def purge(session: AsyncSession, *, target: PurgeTarget) -> dict[str, int]:
    """Delete every row owned by ``target``; returns the rows deleted, by table."""
    deleted: dict[str, int] = {}
    for table, owned in _tables(target):
        ids = [row_id for (row_id,) in await session.execute(owned)]
        if not ids:
            continue
        for start in range(0, len(ids), 500):
            await session.execute(delete(table).where(table.c.id.in_(ids[start : start + 500])))
        deleted[table.name] = len(ids)
    return deleted
