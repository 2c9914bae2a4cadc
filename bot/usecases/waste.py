"""Waste and wait logs: storing one (from a command, a modal or a reaction) and taking it back."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.errors import NotFound
from bot.domain.observations import LoggedWaste, NewWaste, Source
from bot.domain.vsm import Step
from bot.domain.wastes import QuickWait, WasteCategory
from bot.usecases.notify import BEFORE_ACK_BUDGET, tell
from bot.usecases.work import Origin, Reaction, Work, retried, workspace_transaction
from bot.views.waste import build_reaction_prompt
from storage import waste as store
from storage.vsm import find_step, get_step
from storage.workspaces import Scope

logger = logging.getLogger(__name__)


async def _add(work: Work, scope: Scope, new: NewWaste, user: str) -> LoggedWaste | None:
    return await store.add_observation(
        work.session,
        scope=scope,
        waste=new,
        reporter_id=user,
        reporter_key=work.reporter_key(user),
        now=work.deps.now(),
    )


def quick_wait(quick: QuickWait, step: Step | None) -> NewWaste:
    """A ``/wait`` typed as text; its ``in ‹step›`` words name the step when the map has it."""
    return NewWaste(
        category=WasteCategory.WAITING.value,
        description=quick.reason_without_step if step else quick.reason,
        minutes=quick.minutes,
        is_wait=True,
        step_id=step.id if step else None,
        source=Source.COMMAND,
    )


@retried
async def log_waste(
    deps: Deps,
    origin: Origin,
    channel: str,
    new: NewWaste | QuickWait,
    *,
    user: str,
    delivery: str,
) -> LoggedWaste | None:
    """Store a log once (None for a repeated delivery); NotFound when the step is not ours."""
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        if isinstance(new, QuickWait):
            hint = new.step_hint
            step = await find_step(work.session, scope=scope, name=hint) if hint else None
            new = quick_wait(new, step)
        elif new.step_id is not None and (
            await get_step(work.session, scope=scope, step_id=new.step_id) is None
        ):
            raise NotFound("That step is not on this channel's map.", field="step")
        if not await work.first_delivery(delivery):
            return None
        waste = await _add(work, scope, new, user)
    logger.info(
        "waste.logged",
        extra={
            "team": origin.team_id,
            "channel": channel,
            "user": user,
            "source": new.source.value,
            "wait": new.is_wait,
        },
    )
    return waste


async def _message_text(client: AsyncWebClient, channel: str, ts: str) -> str:
    try:
        found = await client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
    except SlackApiError:
        return ""
    messages = found.get("messages") or []
    if messages and messages[0].get("ts") == ts:
        return str(messages[0].get("text") or "")[:3000]
    return ""


async def _reacted_message(
    client: AsyncWebClient, origin: Origin, channel: str, ts: str
) -> tuple[str | None, str]:
    """The message's permalink and text, where Slack answers in time."""
    try:
        async with asyncio.timeout(BEFORE_ACK_BUDGET):
            found = await client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(found["permalink"]), await _message_text(client, channel, ts)
    except (SlackApiError, TimeoutError):
        logger.info("waste.message_unavailable", extra={"team": origin.team_id, "channel": channel})
        return None, ""


async def log_waste_reaction(client: AsyncWebClient, deps: Deps, reaction: Reaction) -> None:
    """The waste emoji on a message: log it once per message and reporter, ask the category."""
    origin, scope, user, ts = reaction.origin, reaction.scope, reaction.user, reaction.message_ts
    permalink, text = await _reacted_message(client, origin, scope.channel_id, ts)
    new = NewWaste(
        category=None,
        description=text,
        link=permalink or "",
        source=Source.REACTION,
        message_ts=ts,
    )
    async with workspace_transaction(deps, origin) as work:
        if not await work.first_delivery(reaction.delivery):
            return
        waste = await _add(work, scope, new, user)
    if waste is None:
        return
    prompt = build_reaction_prompt(waste, permalink=permalink)
    deps.spawn(
        tell(client, user=user, channel=scope.channel_id, message=prompt),
        name="waste.reaction_prompt",
    )


@retried
async def retract_waste_reaction(deps: Deps, reaction: Reaction) -> None:
    async with workspace_transaction(deps, reaction.origin) as work:
        await store.delete_reaction_observation(
            work.session,
            scope=reaction.scope,
            message_ts=reaction.message_ts,
            reporter_key=work.reporter_key(reaction.user),
        )
