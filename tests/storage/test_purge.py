"""Purging a workspace or a channel deletes its rows in every table and nothing else.

The seed writes a row into every table of the schema for several workspaces and channels, so a
table added later is covered without touching this test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Base
from storage.purge import PurgeTarget, count_purgeable, purge
from storage.workspaces import get_or_add_workspace

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

# (team, channel): None is the workspace's own rows (installation, deliveries).
Owner = tuple[str, str | None]


@dataclass
class Seeded:
    workspaces: dict[str, int] = field(default_factory=dict)
    rows: dict[Owner, dict[str, list[int]]] = field(default_factory=dict)
    shared: dict[str, list[int]] = field(default_factory=dict)
    """Rows of tables that belong to no workspace (OAuth states, job runs)."""


def _channel_level(table: Table) -> bool:
    """A table whose rows belong to a channel: a channel column, or a parent that has one."""
    if "channel_id" in table.c:
        return True
    return any(
        fk.column.table is not table and _channel_level(fk.column.table)  # type: ignore[arg-type]
        for fk in table.foreign_keys
    )


class _Values:
    def __init__(self) -> None:
        self.n = 0

    def for_column(self, column: Any) -> Any:
        self.n += 1
        kind = getattr(column.type, "impl", column.type).python_type
        if kind is bool:
            return False
        if kind is int:
            return self.n
        if kind is float:
            return 1.5
        if kind is datetime:
            return NOW
        if kind is date:
            return NOW.date()
        length = getattr(column.type, "length", None) or 40
        return f"v{self.n}"[:length]


async def _insert(
    session: AsyncSession, table: Table, values: _Values, fixed: dict[str, Any]
) -> int:
    row: dict[str, Any] = {}
    for column in table.c:
        if column.primary_key:
            continue
        if column.name in fixed:
            row[column.name] = fixed[column.name]
        elif column.foreign_keys:
            (fk,) = column.foreign_keys
            row[column.name] = fixed.get(f"{fk.column.table.name}.id")
        else:
            row[column.name] = values.for_column(column)
    result = await session.execute(insert(table).values(**row).returning(table.c.id))
    return int(result.scalar_one())


def _kind(table: Table) -> str:
    """Whose rows a table holds: a channel's, a workspace's, or nobody's ("shared")."""
    if _channel_level(table):
        return "channel"
    parents = [fk.column.table for fk in table.foreign_keys if fk.column.table is not table]
    if "workspace_id" in table.c or any(
        p.name == "workspaces" or _kind(p) == "workspace"  # type: ignore[arg-type]
        for p in parents
    ):
        return "workspace"
    return "shared"


async def seed(db: Database, teams: tuple[str, ...], channels: tuple[str, ...]) -> Seeded:
    seeded = Seeded()
    values = _Values()
    tables = [t for t in Base.metadata.sorted_tables if t.name != "workspaces"]
    async with db.transaction() as s:
        for team in teams:
            workspace_id = await get_or_add_workspace(s, team_id=team, enterprise_id=None, now=NOW)
            seeded.workspaces[team] = workspace_id
            for channel in (None, *channels):
                kind = "workspace" if channel is None else "channel"
                fixed: dict[str, Any] = {
                    "workspace_id": workspace_id,
                    "channel_id": channel,
                    "workspaces.id": workspace_id,
                }
                rows = seeded.rows.setdefault((team, channel), {})
                for table in tables:
                    if _kind(table) == kind:
                        fixed[f"{table.name}.id"] = new_id = await _insert(s, table, values, fixed)
                        rows[table.name] = [new_id]
        for table in tables:
            if _kind(table) == "shared":
                seeded.shared[table.name] = [await _insert(s, table, values, {})]
    return seeded


async def surviving(db: Database, table_name: str, ids: list[int]) -> list[int]:
    table = Base.metadata.tables[table_name]
    async with db.transaction() as s:
        found = await s.execute(select(table.c.id).where(table.c.id.in_(ids)))
        return sorted(row_id for (row_id,) in found)


async def assert_kept(db: Database, rows: dict[str, list[int]]) -> None:
    for table_name, ids in rows.items():
        assert await surviving(db, table_name, ids) == sorted(ids), table_name


async def assert_gone(db: Database, rows: dict[str, list[int]]) -> None:
    for table_name, ids in rows.items():
        assert await surviving(db, table_name, ids) == [], table_name


async def test_the_seed_covers_every_channel_table(any_db: Database) -> None:
    seeded = await seed(any_db, ("T1",), ("C1",))
    channel_tables = {t.name for t in Base.metadata.sorted_tables if _channel_level(t)}
    assert set(seeded.rows[("T1", "C1")]) == channel_tables
    assert {"themes", "votes", "observations", "action_items"} <= channel_tables


async def test_purging_a_channel_leaves_other_channels_and_workspaces(any_db: Database) -> None:
    seeded = await seed(any_db, ("T1", "T2"), ("C1", "C2"))
    target = PurgeTarget(workspace_id=seeded.workspaces["T1"], channel_id="C1")
    async with any_db.transaction() as s:
        counted = await count_purgeable(s, target=target)
        deleted = await purge(s, target=target)
    assert counted == deleted == dict.fromkeys(seeded.rows["T1", "C1"], 1)
    await assert_gone(any_db, seeded.rows[("T1", "C1")])
    for owner in (("T1", "C2"), ("T1", None), ("T2", "C1"), ("T2", "C2"), ("T2", None)):
        await assert_kept(any_db, seeded.rows[owner])
    await assert_kept(any_db, seeded.shared)


async def test_purging_a_workspace_deletes_all_of_it_and_only_it(any_db: Database) -> None:
    seeded = await seed(any_db, ("T1", "T2"), ("C1", "C2"))
    target = PurgeTarget(workspace_id=seeded.workspaces["T1"])
    async with any_db.transaction() as s:
        deleted = await purge(s, target=target)
    assert deleted["workspaces"] == 1
    assert deleted["installations"] == 1
    for owner in (("T1", "C1"), ("T1", "C2"), ("T1", None)):
        await assert_gone(any_db, seeded.rows[owner])
    await assert_gone(any_db, {"workspaces": [seeded.workspaces["T1"]]})
    for owner in (("T2", "C1"), ("T2", "C2"), ("T2", None)):
        await assert_kept(any_db, seeded.rows[owner])
    await assert_kept(any_db, {"workspaces": [seeded.workspaces["T2"]]})
    await assert_kept(any_db, seeded.shared)
