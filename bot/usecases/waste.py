"""Waste and wait logs: storing one (from a command, a modal or a reaction) and taking it back.

Logs that arrive together are stored together (``LogWriter``): one transaction and a few
statements for all of them instead of one transaction each. Each request still hears
"stored" only after the commit that stored its log.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
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
from bot.views.waste import build_reaction_prompt
from storage import waste as store
from storage.db import Database
from storage.vsm import find_step, get_step, list_steps
from storage.workspaces import Scope, WorkspaceRef, resolve_workspace, workspace_cache

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


BATCH_LIMIT = 200
"""Logs stored in one transaction at most (a few parameters each, far below SQLite's cap)."""


@dataclass(slots=True)
class _Pending:
    deps: Deps
    origin: Origin
    channel: str
    waste: NewWaste
    user: str
    delivery: str
    now: datetime
    stored: asyncio.Future[LoggedWaste | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class LogWriter:
    """One writer per database and process for logs at no step (most quick logs and modals).

    Requests hand it their log and wait; it stores everything that waits in one transaction
    (``storage.waste.add_observations``: the deliveries claimed in one statement, the logs
    inserted in another), then answers each request. While it writes, new logs gather for the
    next transaction, so the more requests come at once, the more each commit carries.

    A batch that fails is not the fault of every log in it: each is then stored on its own, as
    without the writer, and a failure reaches only the request whose log it was.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None

    async def add(
        self,
        deps: Deps,
        origin: Origin,
        channel: str,
        waste: NewWaste,
        user: str,
        delivery: str,
    ) -> LoggedWaste | None:
        pending = _Pending(deps, origin, channel, waste, user, delivery, deps.now())
        self._pending.append(pending)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="waste.writer")
        return await asyncio.shield(pending.stored)

    async def drain(self) -> None:
        """Wait until every log handed in so far is stored (at shutdown)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._pending:
                batch = self._pending[:BATCH_LIMIT]
                del self._pending[:BATCH_LIMIT]
                await self._store(batch)
        finally:
            self._task = None
            for left in (*batch, *self._pending):
                if not left.stored.done():
                    left.stored.set_exception(RuntimeError("the log writer stopped"))
            self._pending.clear()

    async def _store(self, batch: list[_Pending]) -> None:
        try:
            stored = await self._store_together(batch)
        except Exception as error:  # each log alone: one bad log must not cost the others
            logger.warning(
                "waste.batch_failed",
                extra={
                    "team": ",".join(sorted({p.origin.team_id for p in batch})),
                    "logs": len(batch),
                    "error": type(error).__name__,
                },
            )
            for pending in batch:
                await self._store_alone(pending)
            return
        for pending, waste in zip(batch, stored, strict=True):
            pending.stored.set_result(waste)

    async def _store_alone(self, pending: _Pending) -> None:
        try:
            waste = await _log_alone(
                pending.deps,
                pending.origin,
                pending.channel,
                pending.waste,
                user=pending.user,
                delivery=pending.delivery,
            )
        except Exception as error:  # it reaches the request that brought this log, no other
            pending.stored.set_exception(error)
        else:
            pending.stored.set_result(waste)

    async def _store_together(self, batch: list[_Pending]) -> list[LoggedWaste | None]:
        cache = workspace_cache(self._db.engine.sync_engine)
        generation = cache.generation
        found: dict[tuple[str, str | None], WorkspaceRef] = {}
        resolved: list[tuple[tuple[str, str | None], WorkspaceRef]] = []
        async with self._db.transaction(write_lock=True) as session:
            logs = []
            for p in batch:
                key = (p.origin.team_id, p.origin.enterprise_id)
                ref = found.get(key) or cache.get(*key)
                if ref is None:
                    ref = await resolve_workspace(
                        session, team_id=key[0], enterprise_id=key[1], now=p.now
                    )
                    resolved.append((key, ref))
                found[key] = ref
                logs.append(
                    store.NewLog(
                        scope=Scope(ref.id, p.channel),
                        waste=p.waste,
                        reporter_id=p.user,
                        reporter_key=reporter_key(ref.reporter_secret, p.user),
                        delivery=p.delivery,
                        now=p.now,
                    )
                )
            stored = await store.add_observations(session, logs)
        for key, ref in resolved:
            cache.put(*key, ref, generation=generation)
        return stored


_writers: weakref.WeakKeyDictionary[Database, LogWriter] = weakref.WeakKeyDictionary()


def log_writer(db: Database) -> LogWriter:
    writer = _writers.get(db)
    if writer is None:
        writer = _writers[db] = LogWriter(db)
    return writer


async def drain_log_writer(db: Database) -> None:
    """Store the logs handed in so far before the process stops."""
    writer = _writers.get(db)
    if writer is not None:
        await writer.drain()


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
