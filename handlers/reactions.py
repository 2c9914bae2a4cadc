"""Emoji reactions: the waste emoji logs a waste, the vote emoji on a theme or a revealed retro
note is a vote.

Removing the reaction takes the log or the vote back.

One listener per event type routes by emoji, because Bolt runs only the first listener that
matches an event.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.votes import is_same_emoji
from bot.usecases import retros, votes, waste
from bot.usecases.work import Origin, Reaction, workspace_transaction
from handlers.payloads import ReactionEvent
from storage.channels import get_channel_config


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_REACTION_ADDED)(reaction_added)
    app.event(ids.EVENT_REACTION_REMOVED)(reaction_removed)


async def _route(body: dict[str, Any], context: Any, deps: Deps) -> tuple[str, Reaction] | None:
    """("waste" or "vote", the reaction), or None for an emoji or an item the app ignores."""
    event = ReactionEvent.model_validate(body["event"])
    channel, ts = event.item.channel, event.item.ts
    if event.item.type != "message" or not channel or not ts:
        return None
    if event.user == context.get("bot_user_id"):
        return None
    origin = Origin.of(context)
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        config = await get_channel_config(work.session, scope=scope)
    reaction = Reaction(origin, scope, event.user, ts, body.get("event_id"))
    if is_same_emoji(event.reaction, config.waste_emoji):
        return "waste", reaction
    if votes.is_vote_emoji(event.reaction, config):
        return "vote", reaction
    return None


async def reaction_added(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    routed = await _route(body, context, deps)
    if routed is None:
        return
    kind, reaction = routed
    if kind == "vote" and await retros.vote_on_note(client, deps, reaction):
        return  # a revealed retro note, not a theme
    add = waste.log_waste_reaction if kind == "waste" else votes.cast_vote
    await add(client, deps, reaction)


async def reaction_removed(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    routed = await _route(body, context, deps)
    if routed is None:
        return
    kind, reaction = routed
    if kind == "waste":
        await waste.retract_waste_reaction(deps, reaction)
    elif not await retros.unvote_on_note(deps, reaction):
        await votes.remove_vote(client, deps, reaction)
