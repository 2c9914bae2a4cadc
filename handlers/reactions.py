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
from bot.usecases import retros, votes, waste
from bot.usecases.work import Origin, workspace_transaction
from handlers.payloads import ReactionEvent
from storage.channels import get_channel_config
from storage.workspaces import Scope

Routed = tuple[str, Origin, Scope, ReactionEvent, str]


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_REACTION_ADDED)(reaction_added)
    app.event(ids.EVENT_REACTION_REMOVED)(reaction_removed)


async def _route(body: dict[str, Any], context: Any, deps: Deps) -> Routed | None:
    event = ReactionEvent.model_validate(body["event"])
    if event.item.type != "message" or not event.item.channel or not event.item.ts:
        return None
    if event.user == context.get("bot_user_id"):
        return None
    origin = Origin.of(context)
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(event.item.channel)
        config = await get_channel_config(work.session, scope=scope)
    if base_emoji(event.reaction) == base_emoji(config.waste_emoji):
        return "waste", origin, scope, event, event.item.ts
    if votes.is_vote_emoji(event.reaction, config):
        return "vote", origin, scope, event, event.item.ts
    return None


async def reaction_added(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    routed = await _route(body, context, deps)
    if routed is None:
        return
    kind, origin, scope, event, ts = routed
    delivery = body.get("event_id")
    if kind == "vote" and await retros.vote_on_note(
        client, deps, origin, scope, user=event.user, message_ts=ts, delivery=delivery
    ):
        return  # a revealed retro note, not a theme
    log = waste.log_waste_reaction if kind == "waste" else votes.cast_vote
    await log(
        client, deps, origin, scope, user=event.user, message_ts=ts, delivery=body.get("event_id")
    )


async def reaction_removed(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    routed = await _route(body, context, deps)
    if routed is None:
        return
    kind, origin, scope, event, ts = routed
    if kind == "waste":
        await waste.retract_waste_reaction(deps, origin, scope, user=event.user, message_ts=ts)
    elif not await retros.unvote_on_note(
        deps, origin, scope, user=event.user, message_ts=ts, delivery=body.get("event_id")
    ):
        await votes.remove_vote(
            client, deps, origin, scope, user=event.user, message_ts=ts,
            delivery=body.get("event_id"),
        )  # fmt: skip
