"""Telling a user something where they are, and what the app reads of a user from Slack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.views.common import with_invite_hint

logger = logging.getLogger(__name__)


NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}

FOLLOW_UP_FAILURES = (SlackApiError, SlackRequestError, TimeoutError, ClientError)
"""How a Slack call after the reply can fail once its retries are spent: refused by Slack,
refused by the upload URL (``SlackRequestError``), timed out, or cut off."""


def failure_reason(error: BaseException) -> str:
    """A short name for a failed Slack call, for the log and for the user's message."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"http_{error.response.status_code}")
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, SlackRequestError):
        return "upload_failed"
    return "connection_failed"


def certainly_not_done(reason: str) -> bool:
    """Slack refused outright; after a timeout or a server error it may have been done."""
    return reason not in ("timeout", "connection_failed", "fatal_error", "internal_error") and not (
        reason.startswith("http_5")
    )


def _team(client: AsyncWebClient) -> str | None:
    """The workspace a client speaks for: Bolt's per-request clients and the clients of
    ``client_for_workspace`` carry it as the ``team_id`` of every call."""
    team = client.default_params.get("team_id")
    return str(team) if team else None


async def tell(
    client: AsyncWebClient,
    *,
    user: str,
    channel: str | None,
    message: dict[str, Any],
    response_url: str | None = None,
) -> None:
    """Show ``message`` to one user where they are; DM it when the bot is not in the channel.

    A response URL (from a command or shortcut) works in channels the bot was never invited to;
    otherwise an ephemeral message, and where that is refused a DM with the /invite hint (or,
    when Slack fails at the ephemeral, the DM alone).
    """
    payload = {k: v for k, v in message.items() if k in ("text", "blocks")}
    where = {"team": _team(client), "user": user, "channel": channel}
    if response_url:
        try:
            # The client's session, when it has one: no new connection pool per message.
            hook = AsyncWebhookClient(response_url, session=client.session)
            sent = await hook.send(response_type="ephemeral", **payload)
            if sent.status_code == 200:
                return
        except Exception:  # an unreachable response_url: fall back to the API
            pass
        logger.warning("tell.response_url_failed", extra=where)
    if channel:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, **payload)
            return
        except FOLLOW_UP_FAILURES as exc:
            if failure_reason(exc) in NOT_A_MEMBER:
                logger.info("tell.not_in_channel", extra=where)
                payload = with_invite_hint(payload, channel)
            else:
                # Slack failing at ephemerals must not cost the message: a DM still reaches them.
                logger.warning(
                    "tell.ephemeral_failed", extra=where | {"error": failure_reason(exc)}
                )
    await client.chat_postMessage(channel=user, **payload)


# Slack calls made before a reply get this long: a rate-limited method (the client waits out
# Retry-After) must not push the reply past Slack's 3-second deadline.
BEFORE_ACK_BUDGET = 1.0


async def user_tz_offset(client: AsyncWebClient, user: str) -> int:
    """The user's UTC offset in seconds, for showing times as they read them; 0 if unknown."""
    try:
        async with asyncio.timeout(BEFORE_ACK_BUDGET):
            found = await client.users_info(user=user)
    except (SlackApiError, TimeoutError):
        return 0
    return int((found.get("user") or {}).get("tz_offset") or 0)


MEMBERSHIP_TTL = 300.0
"""Seconds a process trusts what Slack said about the bot being in a channel."""


class ChannelMembership:
    """Whether the bot is in a channel, as Slack last said, per workspace and channel.

    Only a hint hangs on it (how to /invite the bot), so an answer is kept for
    ``MEMBERSHIP_TTL`` seconds, and dropped sooner when the app learns otherwise: a
    ``not_in_channel`` or ``channel_not_found`` from any call for that channel, or the bot
    joining or leaving it (``forget``). One per app; bounded, oldest answers go first.
    """

    def __init__(
        self,
        *,
        ttl: float = MEMBERSHIP_TTL,
        limit: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._known: dict[tuple[str, str], tuple[bool, float]] = {}
        self._ttl = ttl
        self._limit = limit
        self._clock = clock

    def get(self, team: str, channel: str) -> bool | None:
        found = self._known.get((team, channel))
        if found is None:
            return None
        member, until = found
        if self._clock() >= until:
            self._known.pop((team, channel), None)
            return None
        return member

    def put(self, team: str, channel: str, member: bool) -> None:
        if len(self._known) >= self._limit:
            self._known.pop(next(iter(self._known)))
        self._known[(team, channel)] = (member, self._clock() + self._ttl)

    def forget(self, team: str, channel: str) -> None:
        self._known.pop((team, channel), None)


def membership_of(client: AsyncWebClient) -> ChannelMembership | None:
    """The app's membership cache, carried by the clients it hands its listeners."""
    found = getattr(client, "membership", None)
    return found if isinstance(found, ChannelMembership) else None


async def bot_in_channel(client: AsyncWebClient, channel: str) -> bool | None:
    """Whether the bot is in ``channel`` (a DM counts); None when Slack does not say in time.

    Asked before a reply, within its budget: a slow Slack costs the hint, never the reply.
    What Slack said is kept for a while (``ChannelMembership``) where the client has a cache.
    """
    if channel.startswith("D"):
        return True
    cache, team = membership_of(client), _team(client)
    if cache is not None and team is not None:
        known = cache.get(team, channel)
        if known is not None:
            return known
    try:
        async with asyncio.timeout(BEFORE_ACK_BUDGET):
            found = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        member = False if exc.response.get("error") in NOT_A_MEMBER else None
    except TimeoutError:
        return None
    else:
        member = bool((found.get("channel") or {}).get("is_member"))
    if member is not None and cache is not None and team is not None:
        cache.put(team, channel, member)
    return member
