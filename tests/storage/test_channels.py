"""Channel settings: defaults until changed, and never shared across workspaces."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.channels import ChannelConfig
from storage.channels import get_channel_config, update_channel_config
from storage.db import Database
from storage.workspaces import Scope, get_or_add_workspace

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


async def test_a_channel_without_settings_has_the_defaults(any_db: Database) -> None:
    async with any_db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        config = await get_channel_config(s, scope=Scope(ws, "C1"))
    assert (config.waste_emoji, config.vote_emoji, config.vote_limit) == ("wastebasket", "+1", None)


async def test_settings_are_kept_per_channel_and_workspace(any_db: Database) -> None:
    async with any_db.transaction() as s:
        ws1 = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        ws2 = await get_or_add_workspace(s, team_id="T2", enterprise_id=None, now=NOW)
        changed = ChannelConfig(waste_emoji="poop", vote_limit=3, timezone="Europe/Berlin")
        await update_channel_config(s, scope=Scope(ws1, "C1"), config=changed, now=NOW)
    async with any_db.transaction() as s:
        assert await get_channel_config(s, scope=Scope(ws1, "C1")) == changed
        assert await get_channel_config(s, scope=Scope(ws2, "C1")) == ChannelConfig()
        assert await get_channel_config(s, scope=Scope(ws1, "C2")) == ChannelConfig()
