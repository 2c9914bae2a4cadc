"""What a database holds, for the operator's commands: installed workspaces, channels in use."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Installation


async def count_installations(session: AsyncSession) -> int:
    """Workspaces with an OAuth install (a bot token) in this database."""
    return int(await session.scalar(select(func.count()).select_from(Installation)) or 0)


async def list_channels_with_data(session: AsyncSession, *, workspace_id: int) -> set[str]:
    """The channels of a workspace that have any row at all."""
    channels: set[str] = set()
    for table in Base.metadata.sorted_tables:
        if "workspace_id" in table.c and "channel_id" in table.c:
            rows = await session.execute(
                select(table.c.channel_id).where(table.c.workspace_id == workspace_id).distinct()
            )
            channels.update(channel for (channel,) in rows)
    return channels
