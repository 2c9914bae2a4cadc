"""Workspaces (Slack teams) and the scope every other query is filtered by."""

from __future__ import annotations

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


async def get_or_add_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> int:
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
        },
    )
    row = await session.execute(
        select(Workspace.id).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == enterprise
        )
    )
    return row.scalar_one()


async def find_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None
) -> int | None:
    row = await session.execute(
        select(Workspace.id).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == (enterprise_id or "")
        )
    )
    return row.scalar_one_or_none()
