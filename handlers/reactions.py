"""Emoji reactions: the waste emoji logs a waste, the vote emoji on a theme or a revealed retro
note is a vote.

Removing the reaction takes the log or the vote back.

One listener per event type routes by emoji, because Bolt runs only the first listener that
matches an event. A vote on a theme, the most frequent reaction, is read and stored in one
transaction; the use case says when the reaction belongs to the waste or retro features.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.usecases import retros, votes, waste
from bot.usecases.work import Origin
from handlers.payloads import ReactionEvent


def register_first(app: AsyncApp) -> None:
    """The listener of every emoji added where the app is (``handlers.register_all``)."""
    app.event(ids.EVENT_REACTION_ADDED)(reaction_added)


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_REACTION_REMOVED)(reaction_removed)


def _parse(body: dict[str, Any], context: Any) -> votes.Reacted | None:
    """The reaction, or None for an item the app ignores or the bot's own reaction."""
    event = ReactionEvent.model_validate(body["event"])
    channel, ts = event.item.channel, event.item.ts
    if event.item.type != "message" or not channel or not ts:
        return None
    if event.user == context.get("bot_user_id"):
        return None
    origin = Origin.of(context)
    return votes.Reacted(origin, channel, event.user, ts, event.reaction, body.get("event_id"))


async def reaction_added(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    if (reacted := _parse(body, context)) is None:
        return
    elsewhere = await votes.cast_vote(client, deps, reacted)
    if elsewhere is None:
        return
    if elsewhere.to is votes.Elsewhere.WASTE:
        await waste.log_waste_reaction(client, deps, elsewhere.reaction)
    else:
        await retros.vote_on_note(client, deps, elsewhere.reaction)


async def reaction_removed(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    if (reacted := _parse(body, context)) is None:
        return
    elsewhere = await votes.remove_vote(client, deps, reacted)
    if elsewhere is None:
        return
    if elsewhere.to is votes.Elsewhere.WASTE:
        await waste.retract_waste_reaction(deps, elsewhere.reaction)
    else:
        await retros.unvote_on_note(deps, elsewhere.reaction)
