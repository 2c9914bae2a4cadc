"""Value stream steps: reading and maintaining a channel's current and future maps."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.vsm import MapState
from bot.domain.vsm import Step as StepData
from storage.models import Step
from storage.workspaces import Scope


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
