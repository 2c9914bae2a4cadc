"""Waste and wait logs: storing one (from a command, a modal or a reaction) and taking it back.

Logs that arrive together are stored together (``LogWriter``, a ``bot.usecases.writer``
group commit): one transaction and a few statements for all of them instead of one transaction
each. Each request still hears "stored" only after the commit that stored its log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.errors import NotFound
from bot.domain.observations import LoggedWaste, NewWaste, Source, reporter_key
from bot.domain.vsm import Step
from bot.domain.wastes import QuickWait, WasteCategory
from bot.usecases.notify import BEFORE_ACK_BUDGET, tell
from bot.usecases.work import Origin, Reaction, Work, retried, workspace_transaction
from bot.usecases.writer import BatchWorkspaces, GroupWriter, writer_for
from bot.views.waste import build_reaction_prompt
from storage import waste as store
from storage.db import Database
from storage.vsm import find_step, get_step, list_steps
from storage.workspaces import Scope, WorkspaceRef

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


async def log_waste(
    deps: Deps,
    origin: Origin,
    channel: str,
    new: NewWaste | QuickWait,
    *,
    user: str,
    delivery: str,
) -> LoggedWaste | None:
    """Store a log once (None for a repeated delivery); NotFound when the step is not ours.

    A log at no step goes with the others that arrive meanwhile (``LogWriter``); one naming a
    step is stored alone, as the step must be found on the channel's map in its transaction.
    """
    if isinstance(new, QuickWait) and not new.step_hint:
        new = quick_wait(new, None)
    if isinstance(new, NewWaste) and new.step_id is None:
        waste = await log_writer(deps.db).add(deps, origin, channel, new, user, delivery)
    else:
        waste = await _log_alone(deps, origin, channel, new, user=user, delivery=delivery)
    if waste is None:  # a repeated delivery: logged when it was first stored
        return None
    logger.info(
        "waste.logged",
        extra={
            "team": origin.team_id,
            "channel": channel,
            "user": user,
            "source": Source.COMMAND.value if isinstance(new, QuickWait) else new.source.value,
            "wait": True if isinstance(new, QuickWait) else new.is_wait,
        },
    )
    return waste


@retried
async def _log_alone(
    deps: Deps,
    origin: Origin,
    channel: str,
    new: NewWaste | QuickWait,
    *,
    user: str,
    delivery: str,
) -> LoggedWaste | None:
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
        return await _add(work, scope, new, user)


@dataclass(frozen=True, slots=True)
class _Pending:
    deps: Deps
    origin: Origin
    channel: str
    waste: NewWaste
    user: str
    delivery: str
    now: datetime


class LogWriter(GroupWriter[_Pending, LoggedWaste | None]):
    """One writer per database and process for logs at no step (most quick logs and modals):
    the logs waiting are stored in one transaction (``storage.waste.add_observations``: the
    deliveries claimed in one statement, the logs inserted in another)."""

    name = "waste.writer"
    batch_failed = "waste.batch_failed"

    async def add(
        self, deps: Deps, origin: Origin, channel: str, waste: NewWaste, user: str, delivery: str
    ) -> LoggedWaste | None:
        return await self.submit(_Pending(deps, origin, channel, waste, user, delivery, deps.now()))

    async def store_alone(self, item: _Pending) -> LoggedWaste | None:
        return await _log_alone(
            item.deps, item.origin, item.channel, item.waste, user=item.user, delivery=item.delivery
        )

    async def store_together(self, items: list[_Pending]) -> list[LoggedWaste | None]:
        workspaces = BatchWorkspaces(self.db)
        refs = workspaces.cached(p.origin for p in items)
        if refs is not None:  # nothing to read first: the driver alone writes the batch
            logs = _logs(items, refs)
            # One statement on PostgreSQL (``add_observations``): no transaction around it.
            return await self.db.run_batch(
                lambda driver: store.add_observations(driver, logs), one_write=True
            )
        async with self.db.transaction(write_lock=True) as session:
            refs = [await workspaces.get(session, p.origin, p.now) for p in items]
            stored = await store.add_observations(session, _logs(items, refs))
        workspaces.committed()
        return stored


def _logs(items: list[_Pending], refs: list[WorkspaceRef]) -> list[store.NewLog]:
    return [
        store.NewLog(
            scope=Scope(ref.id, p.channel),
            waste=p.waste,
            reporter_id=p.user,
            reporter_key=reporter_key(ref.reporter_secret, p.user),
            delivery=p.delivery,
            now=p.now,
        )
        for p, ref in zip(items, refs, strict=True)
    ]


def log_writer(db: Database) -> LogWriter:
    return writer_for(db, LogWriter)


@dataclass(frozen=True, slots=True)
class QuickWaitLogged:
    waste: LoggedWaste | None
    """None for a repeated delivery."""
    unknown_step: str | None = None
    """The step name typed after ``in`` when no step of the map is called that."""
    steps: tuple[Step, ...] = ()
    """The map's steps, offered instead of the unknown one."""


async def log_quick_wait(
    deps: Deps, origin: Origin, channel: str, quick: QuickWait, *, user: str, delivery: str
) -> QuickWaitLogged:
    """A ``/wait`` typed as text, stored at once; a step name the map lacks is said, not lost."""
    waste = await log_waste(deps, origin, channel, quick, user=user, delivery=delivery)
    if waste is None or not quick.step_hint or waste.step_id is not None:
        return QuickWaitLogged(waste)
    async with workspace_transaction(deps, origin) as work:
        steps = await list_steps(work.session, scope=work.scope(channel))
    return QuickWaitLogged(waste, unknown_step=quick.step_hint, steps=tuple(steps))


async def place_log_at_step(
    deps: Deps, origin: Origin, *, user: str, value: str
) -> LoggedWaste | None:
    """The step button after an unknown step name (``"‹log id›:‹step id›"``, no step: ``"‹id›:"``).

    None when the log is gone, is someone else's, or the step is not on its channel's map.
    """
    observation, _, step = value.partition(":")
    if not observation.isdigit() or not (step.isdigit() or not step):
        return None
    async with workspace_transaction(deps, origin) as work:
        return await store.set_step(
            work.session,
            workspace_id=work.workspace_id,
            observation_id=int(observation),
            reporter_key=work.reporter_key(user),
            step_id=int(step) if step else None,
        )


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
