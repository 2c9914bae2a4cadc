"""Workspaces (Slack teams) and the scope every other query is filtered by."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Workspace
from storage.sql import insert_ignoring_conflict


@dataclass(frozen=True, slots=True)
class Scope:
    """One channel of one workspace: the unit every feature query works in."""

    workspace_id: int
    channel_id: str


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    id: int
    reporter_secret: str


async def resolve_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> WorkspaceRef:
    """The workspace a request came from, created on its first request."""
    enterprise = enterprise_id or ""
    await insert_ignoring_conflict(
        session,
        Workspace.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "enterprise_id": enterprise,
            "name": "",
            "created_at": now,
            "next_theme_number": 1,
            "reporter_secret": secrets.token_hex(32),
        },
    )
    row = await session.execute(
        select(Workspace.id, Workspace.reporter_secret).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == enterprise
        )
    )
    workspace_id, secret = row.one()
    return WorkspaceRef(id=workspace_id, reporter_secret=secret)


async def get_or_add_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> int:
    found = await resolve_workspace(session, team_id=team_id, enterprise_id=enterprise_id, now=now)
    return found.id


async def lock_workspace(session: AsyncSession, *, workspace_id: int) -> None:
    """Serialise a workspace's writers for the rest of the transaction.

    For rules no constraint can hold, such as "at most 30 steps a map": two transactions could
    each count 29 and both add. PostgreSQL takes a row lock; SQLite has one writer already.
    """
    await session.execute(
        select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()
    )


async def find_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None
) -> int | None:
    row = await session.execute(
        select(Workspace.id).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == (enterprise_id or "")
        )
    )
    return row.scalar_one_or_none()


async def get_workspace_origin(
    session: AsyncSession, *, workspace_id: int
) -> tuple[str, str | None] | None:
    """(team id, Enterprise Grid id or None) of a workspace, for work no request started."""
    found = (
        await session.execute(
            select(Workspace.team_id, Workspace.enterprise_id).where(Workspace.id == workspace_id)
        )
    ).first()
    if found is None:
        return None
    team, enterprise = found
    return str(team), (str(enterprise) or None)
