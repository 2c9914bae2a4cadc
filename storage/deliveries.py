"""Idempotency for Slack deliveries.

Slack redelivers events it thinks were lost (``X-Slack-Retry-Num``) and may send the same event
twice; Bolt runs the listener again each time. A handler claims the delivery's key (the
``event_id``, or the ``trigger_id`` of a command or interaction) in the same transaction as its
write, so the second delivery finds the claim and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.driver import DriverTransaction, insert_many
from storage.models import Delivery
from storage.sql import rows_changed

KEEP_FOR = timedelta(days=2)

_DELIVERIES: Any = Delivery.__table__
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
        claim, {"workspace_id": workspace_id, "key": key[:255], "received_at": now}
    )
    return found.scalar_one_or_none() is not None


async def claim_deliveries(
    session: AsyncSession | DriverTransaction, claims: Iterable[tuple[int, str, datetime]]
) -> set[tuple[int, str]]:
    """Claim many (workspace id, key, received at) in one statement; the (workspace id, key)
    pairs claimed now. A key given twice is claimed once."""
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for workspace_id, key, now in claims:
        pair = (workspace_id, key[:255])
        rows.setdefault(pair, {"workspace_id": workspace_id, "key": pair[1], "received_at": now})
    if not rows:
        return set()
    # In key order, so that two processes claiming overlapping keys lock them in one order
    # and cannot deadlock on each other.
    ordered = [rows[k] for k in sorted(rows)]
    found = await insert_many(
        session,
        _DELIVERIES,
        ordered,
        returning=("workspace_id", "key"),
        skip_conflicts=True,
        otherwise=_CLAIM_MANY,
    )
    return {(int(ws), str(key)) for ws, key in found}


async def prune_deliveries(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(Delivery).where(Delivery.received_at < now - KEEP_FOR))
    return rows_changed(result)
