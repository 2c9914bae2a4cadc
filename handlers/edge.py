"""What every feature handler shares at the Slack edge: who is asking, in which workspace.

``workspace_transaction`` opens the one database transaction of a handler and resolves the
workspace the request came from, so no query can run unscoped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deps import Deps
from bot.domain.errors import KaizenError
from bot.domain.observations import reporter_key
from bot.views.common import with_invite_hint
from storage.deliveries import claim_delivery
from storage.workspaces import Scope, resolve_workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Origin:
    """The workspace a request came from (Enterprise Grid id included when there is one)."""

    team_id: str
    enterprise_id: str | None

    @classmethod
    def of(cls, context: Any) -> Origin:
        team = context.get("team_id") or context.get("user_token_team_id") or ""
        return cls(team_id=str(team), enterprise_id=context.get("enterprise_id"))


@dataclass(slots=True)
class Work:
    session: AsyncSession
    workspace_id: int
    deps: Deps
    reporter_secret: str

    def scope(self, channel_id: str) -> Scope:
        return Scope(self.workspace_id, channel_id)

    def reporter_key(self, user_id: str) -> str:
        return reporter_key(self.reporter_secret, user_id)

    async def first_delivery(self, key: str | None) -> bool:
        """Claim a delivery key (event id or trigger id); False when it was handled before."""
        if not key:
            return True
        return await claim_delivery(
            self.session, workspace_id=self.workspace_id, key=key, now=self.deps.now()
        )


@asynccontextmanager
async def workspace_transaction(deps: Deps, origin: Origin) -> AsyncIterator[Work]:
    async with deps.db.transaction() as session:
        workspace = await resolve_workspace(
            session, team_id=origin.team_id, enterprise_id=origin.enterprise_id, now=deps.now()
        )
        yield Work(
            session=session,
            workspace_id=workspace.id,
            deps=deps,
            reporter_secret=workspace.reporter_secret,
        )


NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}


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
    otherwise an ephemeral message, and where that is refused a DM with the /invite hint.
    """
    payload = {k: v for k, v in message.items() if k in ("text", "blocks")}
    if response_url:
        try:
            sent = await AsyncWebhookClient(response_url).send(response_type="ephemeral", **payload)
            if sent.status_code == 200:
                return
        except Exception:  # an unreachable response_url: fall back to the API
            pass
        logger.warning("tell.response_url_failed", extra={"user": user, "channel": channel})
    if channel:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, **payload)
            return
        except SlackApiError as exc:
            if exc.response.get("error") not in NOT_A_MEMBER:
                raise
            logger.info("tell.not_in_channel", extra={"user": user, "channel": channel})
            payload = with_invite_hint(payload, channel)
    await client.chat_postMessage(channel=user, **payload)


class FormErrors(Exception):
    """Inline modal errors, keyed by input block id; acked with ``response_action: errors``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors

    def as_ack(self) -> dict[str, Any]:
        return {"response_action": "errors", "errors": self.errors}


def field_errors(error: KaizenError, fields: dict[str | None, str]) -> FormErrors:
    """Map a domain error's ``field`` to the input block it belongs to."""
    block = fields.get(error.field) or fields.get(None) or next(iter(fields.values()))
    return FormErrors({block: error.message})


def errors_ack(error: KaizenError | FormErrors, fields: dict[str | None, str]) -> dict[str, Any]:
    """The ack that shows a modal's bad input inline, whichever way it was found."""
    found = error if isinstance(error, FormErrors) else field_errors(error, fields)
    return found.as_ack()


_SLACK_HOOK_HOSTS = {"hooks.slack.com", "hooks.slack-gov.com"}


def trusted_response_url(url: str | None, deps: Deps) -> str | None:
    """A response URL carried in modal metadata, only if it points at Slack (or its stand-in)."""
    if not url:
        return None
    parsed = urlsplit(url)
    allowed = _SLACK_HOOK_HOSTS | {urlsplit(deps.settings.slack_api_url).netloc}
    if parsed.scheme in ("https", "http") and parsed.netloc in allowed:
        return url
    return None


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
