"""A channel's settings (time zone, digest, emoji, vote limit) and who subscribes to its digest."""

from __future__ import annotations

import logging

from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.usecases.work import Origin, workspace_transaction
from storage import kaizen as store
from storage.channels import get_channel_config, update_channel_config

logger = logging.getLogger(__name__)


async def get_settings(deps: Deps, origin: Origin, channel: str) -> ChannelConfig:
    async with workspace_transaction(deps, origin) as work:
        return await get_channel_config(work.session, scope=work.scope(channel))


async def save_settings(
    deps: Deps, origin: Origin, channel: str, config: ChannelConfig, *, user: str
) -> ChannelConfig:
    """Store the channel's settings; whether the digest is on stays as it was."""
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        current = await get_channel_config(work.session, scope=scope)
        kept = ChannelConfig(
            timezone=config.timezone,
            digest_weekday=config.digest_weekday,
            digest_time=config.digest_time,
            digest_enabled=current.digest_enabled,
            vote_emoji=config.vote_emoji,
            waste_emoji=config.waste_emoji,
            vote_limit=config.vote_limit,
        )
        saved = await update_channel_config(work.session, scope=scope, config=kept, now=deps.now())
    logger.info(
        "kaizen.settings_saved", extra={"team": origin.team_id, "channel": channel, "user": user}
    )
    return saved


async def subscribe(deps: Deps, origin: Origin, channel: str, user: str, *, on: bool) -> bool:
    """Subscribe ``user`` to the channel's digest (or not); False when nothing changed."""
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        if on:
            return await store.add_subscription(
                work.session, scope=scope, user_id=user, now=deps.now()
            )
        return await store.remove_subscription(work.session, scope=scope, user_id=user)
