"""The bot invited to a channel or removed from one: ``member_joined_channel``, ``channel_left``
and ``group_left``.

What the app remembers of the bot's membership (the invite hint after a quick log) is dropped
for that channel by the middleware in ``bot.app`` as such an event arrives; these listeners
answer Slack, so the event is not sent again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import ids

logger = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_MEMBER_JOINED_CHANNEL)(membership_changed)
    app.event(ids.EVENT_CHANNEL_LEFT)(membership_changed)
    app.event(ids.EVENT_GROUP_LEFT)(membership_changed)


async def membership_changed(event: dict[str, Any], context: Any) -> None:
    if event.get("type") != ids.EVENT_MEMBER_JOINED_CHANNEL or event.get("user") == context.get(
        "bot_user_id"
    ):
        logger.info(
            "bot.membership_changed",
            extra={
                "team": context.get("team_id"),
                "channel": event.get("channel"),
                "event": event.get("type"),
            },
        )
