"""Votes: the channel's vote emoji on a theme message casts one, removing it takes it back."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.kaizen import Theme, VoteOutcome
from bot.domain.votes import is_same_emoji, vote_limit_message
from bot.usecases.home import refresh_home
from bot.usecases.notify import tell
from bot.usecases.themes import refresh_theme_soon
from bot.usecases.work import Reaction, Work, retried, workspace_transaction
from bot.views.common import build_error
from storage import kaizen as store
from storage.channels import get_channel_config

logger = logging.getLogger(__name__)


def is_vote_emoji(reaction: str, config: ChannelConfig) -> bool:
    return is_same_emoji(reaction, config.vote_emoji)


def _not_counted(outcome: VoteOutcome, theme: Theme, limit: int | None) -> str:
    if outcome is VoteOutcome.CLOSED:
        status = theme.status.value.replace("_", " ")
        return f"{theme.ref} is {status}: votes on it no longer count."
    return f"{vote_limit_message(limit or 0)} Your vote on {theme.ref} was not counted."


async def _theme_voted_on(work: Work, reaction: Reaction) -> Theme | None:
    """The theme whose message got the reaction, the first time this event is handled.

    The claim also keeps a late retry of an old removal from taking back a newer vote.
    """
    theme = await store.find_theme_by_message(
        work.session, scope=reaction.scope, message_ts=reaction.message_ts
    )
    if theme is None or not await work.first_delivery(reaction.delivery):
        return None
    return theme


@retried
async def cast_vote(client: AsyncWebClient, deps: Deps, reaction: Reaction) -> None:
    """A vote on a theme message: one per person, within the channel's limit."""
    origin, scope, user = reaction.origin, reaction.scope, reaction.user
    async with workspace_transaction(deps, origin) as work:
        if (theme := await _theme_voted_on(work, reaction)) is None:
            return
        config = await get_channel_config(work.session, scope=scope)
        outcome = await store.add_vote(
            work.session,
            scope=scope,
            theme=theme,
            user_id=user,
            limit=config.vote_limit,
            now=deps.now(),
        )
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


@retried
async def remove_vote(client: AsyncWebClient, deps: Deps, reaction: Reaction) -> None:
    async with workspace_transaction(deps, reaction.origin) as work:
        if (theme := await _theme_voted_on(work, reaction)) is None:
            return
        removed = await store.remove_vote(
            work.session, workspace_id=work.workspace_id, theme_id=theme.id, user_id=reaction.user
        )
    if removed:
        refresh_theme_soon(client, deps, reaction.origin, theme.id)
        refresh_home(client, deps, reaction.origin, reaction.user)
