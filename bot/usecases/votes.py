"""Votes: the channel's vote emoji on a theme message casts one, removing it takes it back."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.errors import NotAllowed
from bot.domain.kaizen import Theme, VoteOutcome
from bot.domain.votes import base_emoji, check_vote_limit
from bot.usecases.home import refresh_home
from bot.usecases.notify import tell
from bot.usecases.themes import refresh_theme_soon
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_error
from storage import kaizen as store
from storage.channels import get_channel_config
from storage.workspaces import Scope

logger = logging.getLogger(__name__)


def is_vote_emoji(reaction: str, config: ChannelConfig) -> bool:
    return base_emoji(reaction) == base_emoji(config.vote_emoji)


def _not_counted(outcome: VoteOutcome, theme: Theme, limit: int | None) -> str:
    if outcome is VoteOutcome.CLOSED:
        status = theme.status.value.replace("_", " ")
        return f"{theme.ref} is {status}: votes on it no longer count."
    try:
        check_vote_limit(limit or 0, limit)
    except NotAllowed as error:
        return f"{error.message} Your vote on {theme.ref} was not counted."
    return f"Your vote on {theme.ref} was not counted."


async def cast_vote(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    scope: Scope,
    *,
    user: str,
    message_ts: str,
    delivery: str | None,
) -> None:
    """A vote on the theme posted as ``message_ts``: one per person, within the channel's limit."""
    async with workspace_transaction(deps, origin) as work:
        theme = await store.find_theme_by_message(work.session, scope=scope, message_ts=message_ts)
        if theme is None or not await work.first_delivery(delivery):
            return
        config = await get_channel_config(work.session, scope=scope)
        outcome = await store.add_vote(
            work.session, scope=scope, theme=theme, user_id=user, limit=config.vote_limit,
            now=deps.now(),
        )  # fmt: skip
    logger.info(
        "kaizen.vote",
        extra={
            "team": origin.team_id,
            "channel": scope.channel_id,
            "user": user,
            "outcome": outcome.value,
        },
    )
    if outcome is VoteOutcome.COUNTED:
        refresh_theme_soon(client, deps, origin, theme.id)
        refresh_home(client, deps, origin, user)
    elif outcome in (VoteOutcome.OVER_LIMIT, VoteOutcome.CLOSED):
        text = _not_counted(outcome, theme, config.vote_limit)
        await tell(client, user=user, channel=scope.channel_id, message=build_error(text))


async def remove_vote(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    scope: Scope,
    *,
    user: str,
    message_ts: str,
    delivery: str | None,
) -> None:
    async with workspace_transaction(deps, origin) as work:
        theme = await store.find_theme_by_message(work.session, scope=scope, message_ts=message_ts)
        # The claim keeps a late retry of an old removal from taking back a newer vote.
        if theme is None or not await work.first_delivery(delivery):
            return
        removed = await store.remove_vote(
            work.session, workspace_id=work.workspace_id, theme_id=theme.id, user_id=user
        )
    if removed:
        refresh_theme_soon(client, deps, origin, theme.id)
        refresh_home(client, deps, origin, user)
