"""Per-channel settings; a channel without a row has the defaults."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelConfig
from storage.models import ChannelSettings
from storage.workspaces import Scope

_FIELDS = [f.name for f in fields(ChannelConfig)]


def _to_domain(row: ChannelSettings) -> ChannelConfig:
    return ChannelConfig(**{name: getattr(row, name) for name in _FIELDS})


def channel_config(row: ChannelSettings | None) -> ChannelConfig:
    """The settings a row holds; the defaults for a channel without one (for queries that
    read the settings along with something else)."""
    return _to_domain(row) if row is not None else ChannelConfig()


async def get_channel_config(session: AsyncSession, *, scope: Scope) -> ChannelConfig:
    row = await session.scalar(
        select(ChannelSettings).where(
            ChannelSettings.workspace_id == scope.workspace_id,
            ChannelSettings.channel_id == scope.channel_id,
        )
    )
    return _to_domain(row) if row is not None else ChannelConfig()


async def update_channel_config(
    session: AsyncSession, *, scope: Scope, config: ChannelConfig, now: datetime
) -> ChannelConfig:
    row = await session.scalar(
        select(ChannelSettings).where(
            ChannelSettings.workspace_id == scope.workspace_id,
            ChannelSettings.channel_id == scope.channel_id,
        )
    )
    if row is None:
        row = ChannelSettings(workspace_id=scope.workspace_id, channel_id=scope.channel_id)
        session.add(row)
    for name, value in asdict(config).items():
        setattr(row, name, value)
    row.updated_at = now
    await session.flush()
    return _to_domain(row)
