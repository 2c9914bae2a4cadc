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
from bot.domain.votes import base_emoji
from bot.usecases import retros
from bot.usecases.work import Origin, workspace_transaction
from handlers import kaizen, waste
from handlers.payloads import ReactionEvent
from storage.channels import get_channel_config


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_REACTION_ADDED)(reaction_added)
    app.event(ids.EVENT_REACTION_REMOVED)(reaction_removed)


async def _route(body: dict[str, Any], context: Any, deps: Deps) -> tuple[str, Any] | None:
    event = ReactionEvent.model_validate(body["event"])
    if event.item.type != "message" or not event.item.channel or not event.item.ts:
        return None
    if event.user == context.get("bot_user_id"):
        return None
    origin = Origin.of(context)
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(event.item.channel)
        config = await get_channel_config(work.session, scope=scope)
    emoji = base_emoji(event.reaction)
    if emoji == base_emoji(config.waste_emoji):
        return "waste", (origin, scope, event)
    if kaizen.is_vote_emoji(emoji, config):
        return "vote", (origin, scope, event)
    return None


async def reaction_added(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    routed = await _route(body, context, deps)
    if routed is None:
        return
    kind, (origin, scope, event) = routed
    if kind == "waste":
        await waste.log_waste_reaction(client, deps, origin, scope, event, body.get("event_id"))
    elif kind == "vote" and not await retros.vote_on_note(
        client,
        deps,
        origin,
        scope.channel_id,
        event.item.ts or "",
        event.user,
        body.get("event_id"),
    ):
        await kaizen.vote_by_reaction(client, deps, origin, scope, event, body.get("event_id"))


async def reaction_removed(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    routed = await _route(body, context, deps)
    if routed is None:
        return
    kind, (origin, scope, event) = routed
    if kind == "waste":
        await waste.retract_waste_reaction(deps, origin, scope, event)
    elif kind == "vote" and not await retros.unvote_on_note(
        deps, origin, scope.channel_id, event.item.ts or "", event.user, body.get("event_id")
    ):
        await kaizen.unvote_by_reaction(client, deps, origin, scope, event, body.get("event_id"))
