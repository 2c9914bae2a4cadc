"""App Home: published when a person opens it, and again when their kaizen changes.

The "Log a waste" button is handled by ``handlers.waste`` and "Propose a theme" by
``handlers.kaizen``; this module only draws the tab.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.kaizen import Theme, local_date
from bot.usecases.work import Origin, workspace_transaction
from bot.views.home import THEMES_PER_CHANNEL, build_home
from storage import kaizen as store
from storage.waste import list_reporter_observations

logger = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_APP_HOME_OPENED)(home_opened)


async def home_opened(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    event = body.get("event") or {}
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    # Publishing looks up channel members: answer the event first, publish right after.
    refresh_home(client, deps, Origin.of(context), str(event["user"]))


async def _is_member(client: AsyncWebClient, channel: str, user: str) -> bool:
    """Whether ``user`` is in ``channel``; False where the bot cannot see the members."""
    try:
        async for page in await client.conversations_members(channel=channel, limit=1000):
            if user in (page.get("members") or []):
                return True
    except SlackApiError:
        return False
    return False


async def _shared_channels(
    client: AsyncWebClient, deps: Deps, origin: Origin, user: str
) -> list[str]:
    """Channels with open themes that the person is in (and the bot can see)."""
    async with workspace_transaction(deps, origin) as work:
        channels = await store.list_theme_channels(work.session, workspace_id=work.workspace_id)
    found = await asyncio.gather(*(_is_member(client, c, user) for c in channels))
    return [c for c, member in zip(channels, found, strict=True) if member]


async def publish_home(client: AsyncWebClient, deps: Deps, origin: Origin, user: str) -> None:
    channels = await _shared_channels(client, deps, origin, user)
    channel_themes: list[tuple[str, list[Theme]]] = []
    async with workspace_transaction(deps, origin) as work:
        # Overdue is judged in UTC: a person's channels may each keep a different time zone.
        today = local_date(deps.now(), "UTC")
        actions = await store.list_owner_actions(
            work.session, workspace_id=work.workspace_id, owner_id=user, today=today
        )
        logs = await list_reporter_observations(
            work.session, workspace_id=work.workspace_id, reporter_key=work.reporter_key(user)
        )
        for channel in channels:
            themes = await store.list_themes(
                work.session, scope=work.scope(channel), limit=THEMES_PER_CHANNEL
            )
            if themes:
                channel_themes.append((channel, themes))
    view = build_home(actions=actions, logs=logs, channel_themes=channel_themes, today=today)
    try:
        await client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        logger.warning(
            "home.publish_failed", extra={"user": user, "error": exc.response.get("error")}
        )


def refresh_home(client: AsyncWebClient, deps: Deps, origin: Origin, *users: str) -> None:
    """Re-publish the Home tab of each person after a change that shows there."""
    for user in dict.fromkeys(users):
        if user:
            deps.spawn(publish_home(client, deps, origin, user), name="home.publish")
