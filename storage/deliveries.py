"""Idempotency for Slack deliveries.

Slack redelivers events it thinks were lost (``X-Slack-Retry-Num``) and may send the same event
twice; Bolt runs the listener again each time. A handler claims the delivery's key (the
``event_id``, or the ``trigger_id`` of a command or interaction) in the same transaction as its
write, so the second delivery finds the claim and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.driver import DriverTransaction, column_arrays, insert_many, unnest_rows
from storage.models import Delivery
from storage.sql import rows_changed

KEEP_FOR = timedelta(days=2)

_DELIVERIES: Any = Delivery.__table__
KEY_LENGTH: int = _DELIVERIES.c.key.type.length


def delivery_pair(workspace_id: int, key: str) -> tuple[int, str]:
    """A delivery as it is stored and claimed: (workspace id, key cut to the column's length)."""
    return (workspace_id, key[:KEY_LENGTH])


_CLAIM = {
    name: module.insert(_DELIVERIES).on_conflict_do_nothing().returning(_DELIVERIES.c.id)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
"""INSERT … ON CONFLICT DO NOTHING RETURNING id, built once: every write request claims."""
_CLAIM_MANY = {
    "postgresql": postgresql.insert(_DELIVERIES)
    .on_conflict_do_nothing()
    .returning(_DELIVERIES.c.workspace_id, _DELIVERIES.c.key)
}
"""The same for many at once, in a PostgreSQL session (SQLite's driver sends its own):
SQLAlchemy sends the rows as one multi-row INSERT."""


async def claim_delivery(
    session: AsyncSession, *, workspace_id: int, key: str, now: datetime
) -> bool:
    """True the first time ``key`` is claimed in this workspace, False for a repeat."""
    claim = _CLAIM[session.get_bind().dialect.name]
    found = await session.execute(
        claim, {"workspace_id": workspace_id, "key": key[:KEY_LENGTH], "received_at": now}
    )
    return found.scalar_one_or_none() is not None


async def claim_deliveries(
    session: AsyncSession | DriverTransaction, claims: Iterable[tuple[int, str, datetime]]
) -> set[tuple[int, str]]:
    """Claim many (workspace id, key, received at) in one statement; the (workspace id, key)
    pairs claimed now. A key given twice is claimed once."""
    ordered = _claim_rows(claims)
    if not ordered:
        return set()
    found = await insert_many(
        session,
        _DELIVERIES,
        ordered,
        returning=("workspace_id", "key"),
        skip_conflicts=True,
        otherwise=_CLAIM_MANY,
    )
    return {(int(ws), str(key)) for ws, key in found}


def _claim_rows(claims: Iterable[tuple[int, str, datetime]]) -> list[dict[str, Any]]:
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for workspace_id, key, now in claims:
        pair = delivery_pair(workspace_id, key)
        rows.setdefault(pair, {"workspace_id": workspace_id, "key": pair[1], "received_at": now})
    # In key order, so that two processes claiming overlapping keys lock them in one order
    # and cannot deadlock on each other.
    return [rows[k] for k in sorted(rows)]


async def claim_then_insert(
    transaction: DriverTransaction,
    claims: Iterable[tuple[int, str, datetime]],
    table: Table,
    rows: Sequence[tuple[dict[str, Any], str | None]],
    *,
    returning: Sequence[str],
    skip_conflicts: bool = False,
) -> tuple[set[tuple[int, str]], list[tuple[Any, ...]]]:
    """On PostgreSQL, ``claim_deliveries`` and then the insert of each row (values, delivery
    key) whose delivery, in the row's ``workspace_id``, was claimed now, or that has none: in
    one statement, atomic by itself, so a batch needs no transaction of its own (BEGIN and
    COMMIT are two of the four round trips to the server that the claim and the insert make
    otherwise). The pairs claimed now, and the ``returning`` columns of the rows inserted.

    ``rows`` (one at least) all have the same keys. Rows with the same delivery key are all
    inserted when it is claimed: give each key once. With ``skip_conflicts``, a row that would
    break a unique constraint (with a row stored before or one earlier in ``rows``) is left
    out, as ``ON CONFLICT DO NOTHING`` does.
    """
    claimed_rows = _claim_rows(claims)
    columns = tuple(rows[0][0])
    sql = _claim_then_insert_sql(table, columns, tuple(returning), skip_conflicts)
    dialect = transaction.dialect
    values = [
        *column_arrays(_DELIVERIES, _CLAIM_COLUMNS, claimed_rows, dialect),
        *column_arrays(table, columns, [values for values, _ in rows], dialect),
        [None if key is None else key[:KEY_LENGTH] for _, key in rows],
    ]
    found = await transaction.fetch(sql, values)
    claimed = {(int(row[0]), str(row[1])) for row in found if row[0] is not None}
    return claimed, [row[2:] for row in found if row[0] is None]


_CLAIM_COLUMNS = ("workspace_id", "key", "received_at")


@cache
def _claim_then_insert_sql(
    table: Table, columns: tuple[str, ...], returning: tuple[str, ...], skip_conflicts: bool
) -> str:
    claims = unnest_rows([(c, _DELIVERIES.c[c].type) for c in _CLAIM_COLUMNS], 1, alias="c")
    typed = [(c, table.c[c].type) for c in columns]
    given = unnest_rows([*typed, ("delivery", String())], len(_CLAIM_COLUMNS) + 1, alias="v")
    names = ", ".join(f'"{c}"' for c in columns)
    keys = ", ".join(f'"{c}"' for c in _CLAIM_COLUMNS[:2])
    back = ", ".join(f'"{c}"' for c in returning)
    nothing = ", ".join("NULL" for _ in returning)
    return (
        f'WITH claimed AS (INSERT INTO "{_DELIVERIES.name}" ({keys}, "received_at") '
        f"SELECT * FROM {claims} ON CONFLICT DO NOTHING RETURNING {keys}), "
        f'inserted AS (INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {given} '
        f'WHERE v."delivery" IS NULL OR (v."workspace_id", v."delivery") IN '
        f"(SELECT {keys} FROM claimed)"
        + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
        + f" RETURNING {back}) "
        f"SELECT NULL, NULL, {back} FROM inserted "
        f"UNION ALL SELECT {keys}, {nothing} FROM claimed"
    )


async def prune_deliveries(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(Delivery).where(Delivery.received_at < now - KEEP_FOR))
    return rows_changed(result)
