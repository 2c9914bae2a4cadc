"""Logged wastes and waits (observations): add, undo, categorise, list, aggregate.

Every function takes the workspace (and usually the channel) it may touch; an id from another
workspace or channel finds nothing.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.hypotheses import LoggedTotals
from bot.domain.observations import LoggedWaste, NewWaste, Source
from bot.domain.vsm import MapState
from bot.domain.wastes import WasteCategory
from storage.deliveries import claim_deliveries, claim_then_insert, delivery_pair
from storage.driver import DriverTransaction, insert_many
from storage.models import Observation, Step
from storage.sql import rows_changed
from storage.workspaces import Scope


def _select() -> Any:
    return select(Observation, Step.name).outerjoin(Step, Step.id == Observation.step_id)


def _from_row(found: Sequence[Any]) -> LoggedWaste:
    observation, step_name = found
    return _to_domain(observation, step_name)


def _to_domain(row: Any, step_name: str | None) -> LoggedWaste:
    """A log from its ORM row or from the columns an INSERT … RETURNING gave back."""
    return LoggedWaste(
        id=row.id,
        channel_id=row.channel_id,
        category=row.category,
        description=row.description,
        minutes=row.minutes,
        is_wait=row.is_wait,
        step_id=row.step_id,
        step_name=step_name,
        work_item=row.work_item,
        link=row.link,
        source=Source(row.source),
        anonymous=row.anonymous,
        reporter_id=None if row.anonymous else row.reporter_id,
        created_at=row.created_at,
    )


_OBSERVATIONS: Any = Observation.__table__
_ADD = {
    name: module.insert(_OBSERVATIONS).on_conflict_do_nothing().returning(*_OBSERVATIONS.c)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
"""The insert of a log, returning the stored row: built once, as every log runs it."""


def reaction_key(channel_id: str, message_ts: str, reporter_key: str) -> str:
    return f"{channel_id}:{message_ts}:{reporter_key}"


def _values(
    scope: Scope,
    waste: NewWaste,
    reporter_id: str,
    reporter_key: str,
    now: datetime,
) -> dict[str, Any]:
    key = None
    if waste.source is Source.REACTION and waste.message_ts:
        key = reaction_key(scope.channel_id, waste.message_ts, reporter_key)
    return {
        "workspace_id": scope.workspace_id,
        "channel_id": scope.channel_id,
        "category": waste.category,
        "description": waste.description,
        "minutes": waste.minutes,
        "is_wait": waste.is_wait,
        "step_id": waste.step_id,
        "work_item": waste.work_item,
        "link": waste.link,
        "source": waste.source.value,
        "anonymous": waste.anonymous,
        "reporter_id": None if waste.anonymous else reporter_id,
        "reporter_key": reporter_key,
        "message_ts": waste.message_ts,
        "reaction_key": key,
        "created_at": now,
    }


async def add_observation(
    session: AsyncSession,
    *,
    scope: Scope,
    waste: NewWaste,
    reporter_id: str,
    reporter_key: str,
    now: datetime,
) -> LoggedWaste | None:
    """Store a log; None when it is a reaction log this reporter already made on that message."""
    values = _values(scope, waste, reporter_id, reporter_key, now)
    added = (await session.execute(_ADD[session.get_bind().dialect.name], values)).first()
    if added is None:
        return None
    step_name = None
    if waste.step_id is not None:
        step_name = await session.scalar(select(Step.name).where(Step.id == waste.step_id))
    return _to_domain(added, step_name)


@dataclass(frozen=True, slots=True)
class NewLog:
    """One log of a batch: where, what, whose, and the delivery that brought it."""

    scope: Scope
    waste: NewWaste
    reporter_id: str
    reporter_key: str
    delivery: str | None
    now: datetime


_SAME_LOG = (
    "workspace_id", "channel_id", "reporter_key", "description", "minutes", "category",
    "is_wait", "step_id", "work_item", "link", "source", "anonymous",
)  # fmt: skip
"""What tells one log of a batch from another; logs alike in all of it are interchangeable."""
_ADD_MANY = insert(_OBSERVATIONS).returning(
    _OBSERVATIONS.c.id, *(_OBSERVATIONS.c[name] for name in _SAME_LOG)
)
"""Many logs in one statement, giving back what tells them apart and their ids."""


async def add_observations(
    session: AsyncSession | DriverTransaction, logs: Sequence[NewLog]
) -> list[LoggedWaste | None]:
    """Store many logs with two statements whatever their number: claim every delivery, then
    insert the logs whose delivery was not handled before (nor earlier in ``logs``). In a
    ``DriverTransaction`` on PostgreSQL, both in one statement (``claim_then_insert``).

    Each answer is the stored log, or None for a repeated delivery. Not for reaction logs:
    their once-per-message rule is ``add_observation``'s. In a ``DriverTransaction``, only logs
    at no step (their step's name would need a query).
    """
    if any(log.waste.source is Source.REACTION for log in logs):
        raise ValueError("reaction logs are stored one at a time")
    if not isinstance(session, AsyncSession) and any(log.waste.step_id for log in logs):
        raise ValueError("logs at a step are stored in a session")
    claims = [(log.scope.workspace_id, log.delivery, log.now) for log in logs if log.delivery]
    every = [
        _values(log.scope, log.waste, log.reporter_id, log.reporter_key, log.now) for log in logs
    ]
    returned = ("id", *_SAME_LOG)
    in_one = isinstance(session, DriverTransaction) and session.claims_with_insert
    if isinstance(session, DriverTransaction) and in_one and logs:
        # The first copy of each delivery only: a later one in ``logs`` is a repeat anyhow.
        sent: list[int] = []
        seen: set[tuple[int, str]] = set()
        for index, log in enumerate(logs):
            if log.delivery:
                if _delivery(log) in seen:
                    continue
                seen.add(_delivery(log))
            sent.append(index)
        claimed, stored = await claim_then_insert(
            session,
            claims,
            _OBSERVATIONS,
            [(every[i], logs[i].delivery or None) for i in sent],
            returning=returned,
        )
    else:
        claimed = await claim_deliveries(session, claims)
    fresh: list[int] = []
    for index, log in enumerate(logs):
        key = _delivery(log) if log.delivery else None
        if key is not None:
            if key not in claimed:
                continue
            claimed.discard(key)  # a second copy of it in ``logs`` is a repeat
        fresh.append(index)
    answers: list[LoggedWaste | None] = [None] * len(logs)
    if not fresh:
        return answers
    rows = [every[i] for i in fresh]
    if not in_one:
        # In a session on PostgreSQL: _ADD_MANY, which SQLAlchemy sends as one multi-row INSERT.
        stored = await insert_many(
            session, _OBSERVATIONS, rows, returning=returned, otherwise={"postgresql": _ADD_MANY}
        )
    # Logs alike in every column of _SAME_LOG are interchangeable: each gets one of their ids.
    # (SQLite gives booleans back as 0 and 1, equal to False and True as keys.)
    ids: dict[tuple[Any, ...], deque[int]] = defaultdict(deque)
    for row in sorted(stored, key=lambda row: int(row[0])):
        ids[tuple(row[1:])].append(int(row[0]))
    steps = {row["step_id"] for row in rows if row["step_id"] is not None}
    names: dict[int, str] = {}
    if steps:
        assert isinstance(session, AsyncSession)
        found = await session.execute(select(Step.id, Step.name).where(Step.id.in_(steps)))
        names = {int(step): str(name) for step, name in found.all()}
    for index, values in zip(fresh, rows, strict=True):
        key = tuple(values[c] for c in _SAME_LOG)
        logged = SimpleNamespace(**values, id=ids[key].popleft())
        answers[index] = _to_domain(logged, names.get(values["step_id"]))
    return answers


def _delivery(log: NewLog) -> tuple[int, str]:
    assert log.delivery
    return delivery_pair(log.scope.workspace_id, log.delivery)


async def get_observation(
    session: AsyncSession, *, workspace_id: int, observation_id: int
) -> LoggedWaste | None:
    found = (
        await session.execute(
            _select().where(
                Observation.workspace_id == workspace_id, Observation.id == observation_id
            )
        )
    ).first()
    return _from_row(found) if found else None


async def delete_observation(
    session: AsyncSession, *, workspace_id: int, observation_id: int, reporter_key: str
) -> LoggedWaste | None:
    """Undo: only the reporter's own log goes; None when there is no such log of theirs."""
    found = await get_observation(session, workspace_id=workspace_id, observation_id=observation_id)
    if found is None:
        return None
    result = await session.execute(
        delete(Observation).where(
            Observation.workspace_id == workspace_id,
            Observation.id == observation_id,
            Observation.reporter_key == reporter_key,
        )
    )
    return found if rows_changed(result) == 1 else None


async def delete_reaction_observation(
    session: AsyncSession, *, scope: Scope, message_ts: str, reporter_key: str
) -> LoggedWaste | None:
    key = reaction_key(scope.channel_id, message_ts, reporter_key)
    row = await session.scalar(
        select(Observation.id).where(
            Observation.workspace_id == scope.workspace_id, Observation.reaction_key == key
        )
    )
    if row is None:
        return None
    return await delete_observation(
        session, workspace_id=scope.workspace_id, observation_id=row, reporter_key=reporter_key
    )


async def _own_observation(
    session: AsyncSession, workspace_id: int, observation_id: int, reporter_key: str
) -> Observation | None:
    """The log, if it is this reporter's: nobody else may change it."""
    return await session.scalar(
        select(Observation).where(
            Observation.workspace_id == workspace_id,
            Observation.id == observation_id,
            Observation.reporter_key == reporter_key,
        )
    )


async def set_category(
    session: AsyncSession,
    *,
    workspace_id: int,
    observation_id: int,
    reporter_key: str,
    category: str,
) -> LoggedWaste | None:
    row = await _own_observation(session, workspace_id, observation_id, reporter_key)
    if row is None:
        return None
    row.category = category
    await session.flush()
    return await get_observation(session, workspace_id=workspace_id, observation_id=observation_id)


async def set_step(
    session: AsyncSession,
    *,
    workspace_id: int,
    observation_id: int,
    reporter_key: str,
    step_id: int | None,
) -> LoggedWaste | None:
    """Put the reporter's log at a step of its own channel's current map (None: no step)."""
    row = await _own_observation(session, workspace_id, observation_id, reporter_key)
    if row is None:
        return None
    if step_id is not None:
        step = await session.scalar(
            select(Step.id).where(
                Step.workspace_id == workspace_id,
                Step.channel_id == row.channel_id,
                Step.state == MapState.CURRENT.value,
                Step.id == step_id,
            )
        )
        if step is None:
            return None
    row.step_id = step_id
    await session.flush()
    return await get_observation(session, workspace_id=workspace_id, observation_id=observation_id)


async def forget_anonymous_reporters(session: AsyncSession, *, before: datetime) -> int:
    """Unlink anonymous logs made before ``before`` from their reporters; how many.

    The reporter key is a keyed hash whose key sits in the same database, so anyone with a
    copy could recompute it for every member; once cleared, the log is nobody's. A reaction
    log's key embeds the reporter key too, so it goes as well.
    """
    result = await session.execute(
        update(Observation)
        .where(
            Observation.anonymous.is_(True),
            Observation.created_at < before,
            Observation.reporter_key != "",
        )
        .values(reporter_key="", reaction_key=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def list_reporter_observations(
    session: AsyncSession,
    *,
    workspace_id: int,
    reporter_key: str,
    channel_id: str | None = None,
    limit: int = 10,
) -> list[LoggedWaste]:
    stmt = _select().where(
        Observation.workspace_id == workspace_id, Observation.reporter_key == reporter_key
    )
    if channel_id is not None:
        stmt = stmt.where(Observation.channel_id == channel_id)
    stmt = stmt.order_by(Observation.created_at.desc(), Observation.id.desc()).limit(limit)
    return [_from_row(r) for r in (await session.execute(stmt)).all()]


async def list_observations(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime
) -> list[LoggedWaste]:
    """A channel's logs in [start, end), oldest first."""
    stmt = (
        _select()
        .where(
            Observation.workspace_id == scope.workspace_id,
            Observation.channel_id == scope.channel_id,
            Observation.created_at >= start,
            Observation.created_at < end,
        )
        .order_by(Observation.created_at, Observation.id)
    )
    return [_from_row(r) for r in (await session.execute(stmt)).all()]


async def get_logged_totals(
    session: AsyncSession,
    *,
    scope: Scope,
    start: datetime,
    end: datetime,
    step_id: int | None = None,
    category: WasteCategory | None = None,
) -> LoggedTotals:
    """A channel's categorised logs in [start, end) added up in SQL, as a hypothesis reads
    them (``bot.domain.hypotheses.total_logs`` is the same over loaded rows)."""
    window = (
        Observation.workspace_id == scope.workspace_id,
        Observation.channel_id == scope.channel_id,
        Observation.category.is_not(None),
        Observation.created_at >= start,
        Observation.created_at < end,
    )
    chosen = [*window]
    if category is not None:
        chosen.append(Observation.category == category.value)
    if step_id is not None:
        chosen.append(Observation.step_id == step_id)
    count, minutes = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Observation.minutes), 0)).where(*chosen)
        )
    ).one()
    waits: tuple[int, ...] = ()
    if step_id is not None:
        rows = await session.scalars(
            select(Observation.minutes).where(
                *window,
                Observation.is_wait.is_(True),
                Observation.step_id == step_id,
                Observation.minutes.is_not(None),
            )
        )
        waits = tuple(m for m in rows.all() if m is not None)
    return LoggedTotals(int(count or 0), int(minutes or 0), waits)


async def list_waits_by_step(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """(step id, minutes) of every wait logged against a step in the window."""
    rows = await session.execute(
        select(Observation.step_id, Observation.minutes).where(
            Observation.workspace_id == scope.workspace_id,
            Observation.channel_id == scope.channel_id,
            Observation.is_wait.is_(True),
            Observation.step_id.is_not(None),
            Observation.minutes.is_not(None),
            Observation.created_at >= start,
            Observation.created_at < end,
        )
    )
    return [(step, minutes) for step, minutes in rows.all() if step is not None and minutes]


async def count_by_step(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime
) -> dict[int, int]:
    rows = await session.execute(
        select(Observation.step_id, func.count())
        .where(
            Observation.workspace_id == scope.workspace_id,
            Observation.channel_id == scope.channel_id,
            Observation.step_id.is_not(None),
            Observation.created_at >= start,
            Observation.created_at < end,
        )
        .group_by(Observation.step_id)
    )
    return {step: int(count) for step, count in rows.all() if step is not None}


async def lost_by_step(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime
) -> dict[int, int]:
    """Minutes lost to waste (waits included) logged at each step in ``[start, end)``."""
    rows = await session.execute(
        select(Observation.step_id, func.sum(Observation.minutes))
        .where(
            Observation.workspace_id == scope.workspace_id,
            Observation.channel_id == scope.channel_id,
            Observation.step_id.is_not(None),
            Observation.minutes.is_not(None),
            Observation.created_at >= start,
            Observation.created_at < end,
        )
        .group_by(Observation.step_id)
    )
    return {step: int(total) for step, total in rows.all() if step is not None and total}


async def list_all_observations(
    session: AsyncSession, *, workspace_id: int, channel_id: str | None = None
) -> list[LoggedWaste]:
    """Every log of a workspace (or of one of its channels), oldest first, for exports."""
    stmt = _select().where(Observation.workspace_id == workspace_id)
    if channel_id is not None:
        stmt = stmt.where(Observation.channel_id == channel_id)
    stmt = stmt.order_by(Observation.created_at, Observation.id)
    return [_from_row(r) for r in (await session.execute(stmt)).all()]
