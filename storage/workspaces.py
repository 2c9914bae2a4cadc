"""Workspaces (Slack teams) and the scope every other query is filtered by."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Installation, Workspace
from storage.sql import advisory_lock, insert_ignoring_conflict


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
        select(Workspace.id, Workspace.reporter_secret, Workspace.uninstalled_at).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == enterprise
        )
    )
    workspace_id, secret, uninstalled_at = row.one()
    if uninstalled_at is not None:
        # A verified request (or an install) from a workspace that had removed the app: it is
        # back, and its scheduled work resumes.
        await session.execute(
            update(Workspace).where(Workspace.id == workspace_id).values(uninstalled_at=None)
        )
    return WorkspaceRef(id=workspace_id, reporter_secret=secret)


async def get_or_add_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> int:
    found = await resolve_workspace(session, team_id=team_id, enterprise_id=enterprise_id, now=now)
    return found.id


MAP_LOCKS = 0x766D  # "vm": the namespace of the per-map advisory locks


async def lock_map(session: AsyncSession, *, scope: Scope, state: str) -> None:
    """Serialise the writers of one channel's map for the rest of the transaction.

    For rules no constraint can hold, such as "at most 30 steps a map": two transactions could
    each count 29 and both add. The lock is on this map only, and not a row lock on the
    workspace: every insert into a table that refers to the workspace takes a key-share lock
    on its row, so two writers that each claimed a delivery and then asked for the row itself
    waited for each other, a deadlock.
    """
    key = f"{scope.workspace_id}:{scope.channel_id}:{state}"
    await advisory_lock(session, space=MAP_LOCKS, key=key)


async def find_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None
) -> int | None:
    row = await session.execute(
        select(Workspace.id).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == (enterprise_id or "")
        )
    )
    return row.scalar_one_or_none()


async def uninstall_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> int | None:
    """Slack says the app left a workspace: forget its bot token and mark it, so nothing
    scheduled posts there until it installs again. Its data stays. None if it is unknown."""
    workspace_id = await find_workspace(session, team_id=team_id, enterprise_id=enterprise_id)
    if workspace_id is None:
        return None
    await session.execute(delete(Installation).where(Installation.workspace_id == workspace_id))
    await session.execute(
        update(Workspace).where(Workspace.id == workspace_id).values(uninstalled_at=now)
    )
    return workspace_id


async def is_uninstalled(session: AsyncSession, *, workspace_id: int) -> bool:
    found = await session.scalar(
        select(Workspace.uninstalled_at).where(Workspace.id == workspace_id)
    )
    return found is not None


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
