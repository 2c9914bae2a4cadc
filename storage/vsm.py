"""Value stream steps: reading and maintaining a channel's current and future maps.

Positions on a map stay dense (1..n) after every change, and a step name is unique on its map
whatever its case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.errors import InvalidInput
from bot.domain.vsm import MapState, StepDraft, check_room, clean_step_name, place_after
from bot.domain.vsm import Step as StepData
from storage.models import Step
from storage.workspaces import Scope, lock_map


def to_domain(row: Step) -> StepData:
    return StepData(
        id=row.id,
        name=row.name,
        position=row.position,
        owner_role=row.owner_role,
        process_minutes=row.process_minutes,
        wait_minutes=row.wait_minutes,
        pct_complete_accurate=row.pct_complete_accurate,
    )


def _in_scope(scope: Scope) -> tuple[ColumnElement[bool], ...]:
    return (Step.workspace_id == scope.workspace_id, Step.channel_id == scope.channel_id)


async def list_steps(
    session: AsyncSession, *, scope: Scope, state: MapState = MapState.CURRENT
) -> list[StepData]:
    rows = await session.scalars(
        select(Step)
        .where(*_in_scope(scope), Step.state == state.value)
        .order_by(Step.position, Step.id)
    )
    return [to_domain(r) for r in rows]


async def get_step(
    session: AsyncSession, *, scope: Scope, step_id: int, state: MapState | None = None
) -> StepData | None:
    """A step of this channel's map, or None for an id of another channel or workspace."""
    stmt = select(Step).where(*_in_scope(scope), Step.id == step_id)
    if state is not None:
        stmt = stmt.where(Step.state == state.value)
    row = await session.scalar(stmt)
    return to_domain(row) if row is not None else None


async def find_step(
    session: AsyncSession, *, scope: Scope, name: str, state: MapState = MapState.CURRENT
) -> StepData | None:
    row = await session.scalar(
        select(Step).where(
            *_in_scope(scope), Step.state == state.value, Step.name_key == name.strip().casefold()
        )
    )
    return to_domain(row) if row is not None else None


async def _map_rows(session: AsyncSession, scope: Scope, state: str) -> list[Step]:
    rows = await session.scalars(
        select(Step).where(*_in_scope(scope), Step.state == state).order_by(Step.position, Step.id)
    )
    return list(rows)


def _check_name_free(rows: Sequence[Step], name: str, *, except_id: int | None = None) -> None:
    taken = {r.name_key: r.id for r in rows if r.id != except_id}
    clean_step_name(name, taken)


def _renumber(rows: Sequence[Step], order: Sequence[int], now: datetime) -> None:
    """Dense positions 1..n in ``order``; only rows whose position changes are touched."""
    by_id = {r.id: r for r in rows}
    for position, step_id in enumerate(order, start=1):
        row = by_id[step_id]
        if row.position != position:
            row.position = position
            row.updated_at = now


async def _flush_names(session: AsyncSession, name: str) -> None:
    """Flush, turning a name taken by a concurrent request into the same error as a pre-check."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise InvalidInput(f"This map already has a step called “{name}”.", field="name") from None


async def add_step(
    session: AsyncSession,
    *,
    scope: Scope,
    state: MapState,
    draft: StepDraft,
    after_id: int | None,
    now: datetime,
) -> StepData:
    """Add a step right after ``after_id`` (None: first) and renumber the map 1..n.

    Raises ``KaizenError`` with ``field`` "name" (taken, map full) or "after" (no such step).
    """
    await lock_map(session, scope=scope, state=state.value)
    rows = await _map_rows(session, scope, state.value)
    check_room(len(rows))
    _check_name_free(rows, draft.name)
    order = [r.id for r in rows]
    # Validate the place before writing anything (the new id is not known yet).
    place_after([*order, 0], 0, after_id)
    row = Step(
        workspace_id=scope.workspace_id,
        channel_id=scope.channel_id,
        state=state.value,
        position=len(rows) + 1,
        created_at=now,
        **_fields(draft, now),
    )
    session.add(row)
    await _flush_names(session, draft.name)
    _renumber([*rows, row], place_after([*order, row.id], row.id, after_id), now)
    await session.flush()
    return to_domain(row)


def _fields(draft: StepDraft, now: datetime) -> dict[str, object]:
    return {
        "name": draft.name,
        "name_key": draft.name.casefold(),
        "owner_role": draft.owner_role,
        "process_minutes": draft.process_minutes,
        "wait_minutes": draft.wait_minutes,
        "pct_complete_accurate": draft.pct_complete_accurate,
        "updated_at": now,
    }


async def _scoped_row(
    session: AsyncSession, scope: Scope, step_id: int, state: MapState
) -> Step | None:
    return await session.scalar(
        select(Step).where(*_in_scope(scope), Step.state == state.value, Step.id == step_id)
    )


async def update_step(
    session: AsyncSession,
    *,
    scope: Scope,
    state: MapState,
    step_id: int,
    draft: StepDraft,
    now: datetime,
) -> StepData | None:
    """Change a step's fields; None when the id is not on this channel's map."""
    row = await _scoped_row(session, scope, step_id, state)
    if row is None:
        return None
    _check_name_free(await _map_rows(session, scope, state.value), draft.name, except_id=row.id)
    for key, value in _fields(draft, now).items():
        setattr(row, key, value)
    await _flush_names(session, draft.name)
    return to_domain(row)


async def move_step(
    session: AsyncSession,
    *,
    scope: Scope,
    state: MapState,
    step_id: int,
    after_id: int | None,
    now: datetime,
) -> StepData | None:
    """Put a step right after ``after_id`` (None: first); None when the id is not on the map."""
    await lock_map(session, scope=scope, state=state.value)
    rows = await _map_rows(session, scope, state.value)
    moving = next((r for r in rows if r.id == step_id), None)
    if moving is None:
        return None
    _renumber(rows, place_after([r.id for r in rows], step_id, after_id), now)
    await session.flush()
    return to_domain(moving)


async def remove_step(
    session: AsyncSession, *, scope: Scope, state: MapState, step_id: int, now: datetime
) -> StepData | None:
    """Delete a step and close the gap; logs that named it keep their text but lose the step."""
    await lock_map(session, scope=scope, state=state.value)
    rows = await _map_rows(session, scope, state.value)
    gone = next((r for r in rows if r.id == step_id), None)
    if gone is None:
        return None
    removed = to_domain(gone)
    await session.execute(delete(Step).where(*_in_scope(scope), Step.id == step_id))
    rest = [r for r in rows if r.id != step_id]
    _renumber(rest, [r.id for r in rest], now)
    await session.flush()
    return removed
