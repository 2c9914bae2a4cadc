"""Value stream steps: dense positions, unique names, full maps, and scope on every write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.domain.errors import KaizenError
from bot.domain.vsm import MAX_STEPS, MapState, StepDraft
from storage.db import Database
from storage.vsm import add_step, list_steps, move_step, remove_step, update_step
from storage.workspaces import Scope, get_or_add_workspace

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
CURRENT = MapState.CURRENT


def draft(name: str, process: int = 60, wait: int = 0) -> StepDraft:
    return StepDraft(name, process, wait)


async def scopes(db: Database) -> tuple[Scope, Scope]:
    async with db.transaction() as s:
        ws1 = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        ws2 = await get_or_add_workspace(s, team_id="T2", enterprise_id=None, now=NOW)
    return Scope(ws1, "C1"), Scope(ws2, "C1")


async def add(db: Database, scope: Scope, name: str, after: int | None, **kw: object) -> int:
    state = kw.get("state", CURRENT)
    assert isinstance(state, MapState)
    async with db.transaction() as s:
        step = await add_step(
            s, scope=scope, state=state, draft=draft(name), after_id=after, now=NOW
        )
    assert step.id is not None
    return step.id


async def names(db: Database, scope: Scope, state: MapState = CURRENT) -> list[tuple[int, str]]:
    async with db.transaction() as s:
        return [(st.position, st.name) for st in await list_steps(s, scope=scope, state=state)]


async def test_steps_keep_dense_positions_through_add_move_and_remove(any_db: Database) -> None:
    scope, _ = await scopes(any_db)
    build = await add(any_db, scope, "Build", None)
    deploy = await add(any_db, scope, "Deploy", build)
    test = await add(any_db, scope, "Test", build)
    plan = await add(any_db, scope, "Plan", None)
    assert await names(any_db, scope) == [(1, "Plan"), (2, "Build"), (3, "Test"), (4, "Deploy")]
    async with any_db.transaction() as s:
        await move_step(s, scope=scope, state=CURRENT, step_id=plan, after_id=deploy, now=NOW)
    assert await names(any_db, scope) == [(1, "Build"), (2, "Test"), (3, "Deploy"), (4, "Plan")]
    async with any_db.transaction() as s:
        await remove_step(s, scope=scope, state=CURRENT, step_id=test, now=NOW)
    assert await names(any_db, scope) == [(1, "Build"), (2, "Deploy"), (3, "Plan")]


async def test_a_name_is_unique_on_its_map_whatever_its_case(any_db: Database) -> None:
    scope, _ = await scopes(any_db)
    await add(any_db, scope, "Code review", None)
    with pytest.raises(KaizenError, match="already has a step"):
        await add(any_db, scope, "CODE REVIEW", None)
    await add(any_db, scope, "code review", None, state=MapState.FUTURE)
    assert await names(any_db, scope) == [(1, "Code review")]


async def test_renaming_onto_another_steps_name_is_refused(any_db: Database) -> None:
    scope, _ = await scopes(any_db)
    first = await add(any_db, scope, "Build", None)
    await add(any_db, scope, "Test", first)
    with pytest.raises(KaizenError, match="already has a step"):
        async with any_db.transaction() as s:
            await update_step(
                s, scope=scope, state=CURRENT, step_id=first, draft=draft("test"), now=NOW
            )
    async with any_db.transaction() as s:
        same = await update_step(
            s, scope=scope, state=CURRENT, step_id=first, draft=draft("BUILD", 90), now=NOW
        )
    assert same is not None and (same.name, same.process_minutes) == ("BUILD", 90)


async def test_a_full_map_refuses_another_step(any_db: Database) -> None:
    scope, _ = await scopes(any_db)
    async with any_db.transaction() as s:
        for n in range(MAX_STEPS):
            await add_step(
                s, scope=scope, state=CURRENT, draft=draft(f"Step {n}"), after_id=None, now=NOW
            )
    with pytest.raises(KaizenError, match=f"{MAX_STEPS} steps") as raised:
        await add(any_db, scope, "One more", None)
    assert raised.value.field == "name"
    assert len(await names(any_db, scope)) == MAX_STEPS


async def test_a_place_after_a_missing_step_writes_nothing(any_db: Database) -> None:
    scope, _ = await scopes(any_db)
    await add(any_db, scope, "Build", None)
    with pytest.raises(KaizenError) as raised:
        await add(any_db, scope, "Test", 999_999)
    assert raised.value.field == "after"
    assert await names(any_db, scope) == [(1, "Build")]


async def test_ids_of_another_workspace_or_channel_change_nothing(any_db: Database) -> None:
    scope, foreign = await scopes(any_db)
    step = await add(any_db, scope, "Build", None)
    other_channel = Scope(scope.workspace_id, "C2")
    for wrong in (foreign, other_channel):
        async with any_db.transaction() as s:
            assert (
                await update_step(
                    s, scope=wrong, state=CURRENT, step_id=step, draft=draft("X"), now=NOW
                )
                is None
            )
            assert await remove_step(s, scope=wrong, state=CURRENT, step_id=step, now=NOW) is None
            assert (
                await move_step(s, scope=wrong, state=CURRENT, step_id=step, after_id=None, now=NOW)
                is None
            )
    async with any_db.transaction() as s:
        # The future map is another map: a current step's id does not reach it either.
        assert (
            await remove_step(s, scope=scope, state=MapState.FUTURE, step_id=step, now=NOW) is None
        )
    assert await names(any_db, scope) == [(1, "Build")]


async def test_concurrent_adds_never_take_a_map_past_its_limit(any_db: Database) -> None:
    scope, _ = await scopes(any_db)
    for i in range(MAX_STEPS - 2):
        await add(any_db, scope, f"Step {i}", None)

    async def add_one(name: str) -> bool:
        try:
            await add(any_db, scope, name, None)
        except KaizenError:
            return False
        return True

    added = await asyncio.gather(*(add_one(f"Late {i}") for i in range(6)))
    async with any_db.transaction() as s:
        steps = await list_steps(s, scope=scope)
    assert (sum(added), len(steps)) == (2, MAX_STEPS)
