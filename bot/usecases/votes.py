"""Votes: the channel's vote emoji on a theme message casts one, removing it takes it back.

A reaction is read, claimed and counted in one transaction: the channel's emoji settings, the
theme the message is, the delivery's claim (a retried event counts once) and the vote itself.
What follows the commit runs after the reply: the theme message shows the new count (paced and
coalesced per theme, see ``bot.usecases.themes``), and the voter's App Home is published again
only when the vote changed what it shows (the channel's top themes) and they opened it lately.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.kaizen import Theme, VoteOutcome
from bot.domain.votes import is_same_emoji, vote_limit_message
from bot.usecases.home import opened_home_lately, refresh_home
from bot.usecases.notify import tell
from bot.usecases.themes import refresh_theme_soon
from bot.usecases.work import Origin, Reaction, Work, retried, workspace_transaction
from bot.views.common import build_error
from bot.views.home import THEMES_PER_CHANNEL
from storage import kaizen as store

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reacted:
    """An emoji added to or removed from a message, as the event told it."""

    origin: Origin
    channel: str
    user: str
    message_ts: str
    emoji: str
    delivery: str | None
    """The event id: a retried delivery is handled once."""


class Elsewhere(StrEnum):
    """What a reaction that is no vote on a theme may still be."""

    WASTE = "waste"
    """The channel's waste emoji: a waste log."""
    NOTE = "note"
    """The vote emoji on a message that is no theme: perhaps a retro note."""


@dataclass(frozen=True, slots=True)
class NotATheme:
    """A reaction for another feature, with the workspace it was resolved in."""

    to: Elsewhere
    reaction: Reaction


def is_vote_emoji(reaction: str, config: ChannelConfig) -> bool:
    return is_same_emoji(reaction, config.vote_emoji)


def _not_counted(outcome: VoteOutcome, theme: Theme, limit: int | None) -> str:
    if outcome is VoteOutcome.CLOSED:
        status = theme.status.value.replace("_", " ")
        return f"{theme.ref} is {status}: votes on it no longer count."
    return f"{vote_limit_message(limit or 0)} Your vote on {theme.ref} was not counted."


@dataclass(frozen=True, slots=True)
class _Target:
    reaction: Reaction
    config: ChannelConfig
    theme: Theme | None
    """None when the emoji is no vote or the message is no theme, or on a repeated delivery."""
    elsewhere: NotATheme | None
    on_home: bool
    """Whether the theme shows on App Home (among its channel's top themes) ranked with the
    votes asked for; False when not asked."""


async def _target(work: Work, reacted: Reacted, *, rank_with: int | None) -> _Target:
    """What the reaction is for, read in the vote's own transaction; the delivery is claimed
    only when it is a vote on a theme, so a late retry of an old removal cannot take back a
    newer vote."""
    scope = work.scope(reacted.channel)
    reaction = Reaction(reacted.origin, scope, reacted.user, reacted.message_ts, reacted.delivery)
    found = await store.find_reacted_message(
        work.session, scope=scope, message_ts=reacted.message_ts, rank_with=rank_with
    )
    config, theme = found.config, found.theme
    on_home = found.ahead is not None and found.ahead < THEMES_PER_CHANNEL
    if is_same_emoji(reacted.emoji, config.waste_emoji):
        return _Target(reaction, config, None, NotATheme(Elsewhere.WASTE, reaction), False)
    if not is_vote_emoji(reacted.emoji, config):
        return _Target(reaction, config, None, None, False)
    if theme is None:
        return _Target(reaction, config, None, NotATheme(Elsewhere.NOTE, reaction), False)
    if not await work.first_delivery(reacted.delivery):
        return _Target(reaction, config, None, None, False)
    return _Target(reaction, config, theme, None, on_home)


@retried
async def cast_vote(client: AsyncWebClient, deps: Deps, reacted: Reacted) -> NotATheme | None:
    """A vote on a theme message: one per person, within the channel's limit.

    Returns where the reaction belongs when it is no vote on a theme (None when it was handled
    here, or is ignored).
    """
    origin, user = reacted.origin, reacted.user
    # Ranked as if the vote were in, and only for a Home that may be looked at again soon.
    rank_with = 1 if opened_home_lately(deps, origin, user) else None
    async with workspace_transaction(deps, origin) as work:
        target = await _target(work, reacted, rank_with=rank_with)
        if (theme := target.theme) is None:
            return target.elsewhere
        scope, limit = target.reaction.scope, target.config.vote_limit
        outcome = await store.add_vote(
            work.session, scope=scope, theme=theme, user_id=user, limit=limit, now=deps.now()
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
        if target.on_home:
            refresh_home(client, deps, origin, user)
    elif outcome in (VoteOutcome.OVER_LIMIT, VoteOutcome.CLOSED):
        text = _not_counted(outcome, theme, limit)
        await tell(client, user=user, channel=scope.channel_id, message=build_error(text))
    return None


@retried
async def remove_vote(client: AsyncWebClient, deps: Deps, reacted: Reacted) -> NotATheme | None:
    """The vote emoji taken off a theme message takes the person's vote back."""
    # Ranked before the removal: a theme that leaves the top changes the Home too.
    rank_with = 0 if opened_home_lately(deps, reacted.origin, reacted.user) else None
    async with workspace_transaction(deps, reacted.origin) as work:
        target = await _target(work, reacted, rank_with=rank_with)
        if (theme := target.theme) is None:
            return target.elsewhere
        removed = await store.remove_vote(
            work.session, workspace_id=work.workspace_id, theme_id=theme.id, user_id=reacted.user
        )
    if removed:
        refresh_theme_soon(client, deps, reacted.origin, theme.id)
        if target.on_home:
            refresh_home(client, deps, reacted.origin, reacted.user)
    return None
