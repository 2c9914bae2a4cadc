"""Posting a theme in its channel for votes, so that no stored theme is silently left unposted.

A post can fail in two ways. Refused (Slack said no: not in the channel, rate limited after
retries): nothing was posted, and it can be tried again. Unknown (a timeout, a 5xx, a dropped
connection): Slack may have posted it all the same. Every theme message therefore carries the
theme's id in its message metadata, and before posting again the channel is searched for it,
so a post that outlived the client's timeout is adopted instead of doubled.

``retry_unposted_theme_messages`` is for the scheduler: it re-posts every recent open theme
that has no message yet.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.kaizen import Theme
from bot.usecases.claims import claim, finish
from bot.usecases.clients import client_for_workspace
from bot.usecases.notify import NOT_A_MEMBER
from bot.views.kaizen import build_theme_message
from storage import jobs as runs
from storage import kaizen as store
from storage.channels import get_channel_config
from storage.workspaces import Scope

logger = logging.getLogger(__name__)

THEME_EVENT = "kaizen_theme"
"""The metadata event type on every theme message; its payload names the theme id."""

RETRY_AFTER = timedelta(minutes=2)
"""A theme younger than this may still be being posted by the request that stored it."""

RETRY_WITHIN = timedelta(days=7)
"""Older unposted themes are left alone (the bot was likely never invited there)."""

JOB_THEME_POST = "theme_post"
"""Re-posts are claimed under this job name, so two processes never post one theme twice."""

HISTORY_SEARCHED = 200
"""How many of a channel's latest messages are searched for a theme's post."""


class NotPosted(Exception):
    """The theme is stored but not posted; ``reason`` is Slack's error or ``timeout``."""

    def __init__(self, theme_ref: str, channel_id: str, reason: str) -> None:
        super().__init__(reason)
        self.theme_ref = theme_ref
        self.channel_id = channel_id
        self.reason = reason

    @property
    def not_in_channel(self) -> bool:
        return self.reason in NOT_A_MEMBER


async def publish_theme(
    client: AsyncWebClient, deps: Deps, workspace_id: int, theme: Theme, vote_emoji: str
) -> str:
    """Post ``theme`` (or adopt its message if an earlier try did land) and remember it.

    Returns the message ts; raises ``NotPosted`` when Slack did not take it.
    """
    ts = await _post_or_find(client, theme, vote_emoji)
    async with deps.db.transaction() as session:
        await store.set_theme_message(
            session,
            workspace_id=workspace_id,
            theme_id=theme.id,
            channel_id=theme.channel_id,
            message_ts=ts,
        )
    try:
        await client.reactions_add(channel=theme.channel_id, timestamp=ts, name=vote_emoji)
    except SlackApiError as exc:
        if exc.response.get("error") != "already_reacted":
            logger.info("kaizen.vote_emoji_not_added", extra={"error": exc.response.get("error")})
    return ts


async def _post_or_find(client: AsyncWebClient, theme: Theme, vote_emoji: str) -> str:
    message = build_theme_message(theme, actions=[], vote_emoji=vote_emoji)
    metadata = {"event_type": THEME_EVENT, "event_payload": {"theme_id": theme.id}}
    try:
        posted = await client.chat_postMessage(
            channel=theme.channel_id, metadata=metadata, **message
        )
        return str(posted["ts"])
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown")
        if exc.response.status_code < 500:
            raise NotPosted(theme.ref, theme.channel_id, error) from None
    except (TimeoutError, ClientError):
        error = "timeout"
    # The outcome is unknown: Slack may have posted it before failing to answer.
    found = await find_theme_message(client, theme)
    if found is None:
        raise NotPosted(theme.ref, theme.channel_id, error)
    logger.info("kaizen.theme_message_adopted", extra={"channel": theme.channel_id})
    return found


async def find_theme_message(client: AsyncWebClient, theme: Theme) -> str | None:
    """The ts of the message posted for ``theme`` in its channel, if one is there.

    Raises ``NotPosted`` when the channel cannot be read: posting again blind could double it.
    """
    try:
        # The newest messages: a theme's post is at most days old, in channels that talk little.
        history = await client.conversations_history(
            channel=theme.channel_id, limit=HISTORY_SEARCHED, include_all_metadata=True
        )
    except SlackApiError as exc:
        raise NotPosted(theme.ref, theme.channel_id, str(exc.response.get("error"))) from None
    except (TimeoutError, ClientError):
        raise NotPosted(theme.ref, theme.channel_id, "timeout") from None
    for message in history.get("messages") or []:
        if _is_for(message, theme):
            return str(message["ts"])
    return None


def _is_for(message: dict[str, Any], theme: Theme) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == THEME_EVENT and payload.get("theme_id") == theme.id


async def republish_theme(
    client: AsyncWebClient, deps: Deps, workspace_id: int, theme: Theme
) -> str:
    """Post a theme again on request: adopt a message that did land, else post it."""
    if theme.message_ts is not None:
        return theme.message_ts
    found = await find_theme_message(client, theme)
    if found is not None:
        async with deps.db.transaction() as session:
            await store.set_theme_message(
                session,
                workspace_id=workspace_id,
                theme_id=theme.id,
                channel_id=theme.channel_id,
                message_ts=found,
            )
        return found
    async with deps.db.transaction() as session:
        scope = Scope(workspace_id, theme.channel_id)
        config = await get_channel_config(session, scope=scope)
    return await publish_theme(client, deps, workspace_id, theme, config.vote_emoji)


async def retry_unposted_theme_messages(deps: Deps, now: datetime) -> int:
    """Post every recent open theme that has no channel message yet; how many got one.

    For the scheduler, every few minutes. A theme whose channel refuses it stays unposted and
    is tried again next time, until it is a week old.
    """
    async with deps.db.transaction() as session:
        pending = await store.list_unposted_themes(
            session, created_after=now - RETRY_WITHIN, created_before=now - RETRY_AFTER
        )
    posted = 0
    for workspace_id, theme in pending:
        client = await client_for_workspace(deps, workspace_id)
        key = f"{workspace_id}:{theme.id}"
        if client is None or not await claim(deps, JOB_THEME_POST, key, retry_after=RETRY_AFTER):
            continue
        try:
            await republish_theme(client, deps, workspace_id, theme)
        except NotPosted as failed:
            await finish(deps, JOB_THEME_POST, key, runs.FAILED, failed.reason)
            logger.info(
                "kaizen.theme_repost_failed",
                extra={"channel": theme.channel_id, "error": failed.reason},
            )
            continue
        await finish(deps, JOB_THEME_POST, key, runs.DONE)
        posted += 1
    if pending:
        logger.info("kaizen.themes_reposted", extra={"posted": posted, "pending": len(pending)})
    return posted
