"""Logs that arrive together are stored together, and each request hears only of its own."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.deps import Deps
from bot.domain.errors import NotFound
from bot.domain.observations import NewWaste, Source
from bot.settings import Settings
from bot.usecases.waste import log_waste, log_writer
from bot.usecases.work import Origin
from bot.usecases.writer import drain_writers
from fake_slack import SlackDriver
from storage.db import Database
from storage.models import Observation
from tests.support.clock import FrozenClock
from tests.support.harness import OTHER_TEAM, Harness


@pytest.fixture
def deps(any_db: Database, clock: FrozenClock) -> Deps:
    settings = Settings(database_url=any_db.url, _env_file=None)  # type: ignore[call-arg]
    return Deps(settings=settings, db=any_db, clock=clock)


def waste(text: str, *, step_id: int | None = None) -> NewWaste:
    return NewWaste(
        category="waiting", description=text, minutes=5, step_id=step_id, source=Source.MODAL
    )


async def stored(deps: Deps) -> list[tuple[str, str]]:
    async with deps.db.transaction() as s:
        rows = await s.execute(
            select(Observation.description, Observation.channel_id).order_by(Observation.id)
        )
        return [(d, c) for d, c in rows.all()]


async def test_a_log_that_fails_in_a_batch_costs_the_others_nothing(deps: Deps) -> None:
    writer = log_writer(deps.db)
    origin = Origin("T1", None)
    # The middle one names a step that is gone (removed since the form was opened).
    results = await asyncio.gather(
        writer.add(deps, origin, "C1", waste("first"), "U1", "d1"),
        writer.add(deps, origin, "C1", waste("gone step", step_id=999_999), "U2", "d2"),
        writer.add(deps, Origin("T2", None), "C9", waste("other team"), "U3", "d3"),
        return_exceptions=True,
    )
    first, failed, other = results
    assert isinstance(failed, NotFound)
    assert getattr(first, "description", None) == "first"
    assert getattr(other, "description", None) == "other team"
    assert await stored(deps) == [("first", "C1"), ("other team", "C9")]


async def test_a_delivery_repeated_within_a_batch_or_after_it_is_stored_once(deps: Deps) -> None:
    origin = Origin("T1", None)
    twice = await asyncio.gather(
        *(log_waste(deps, origin, "C1", waste("once"), user="U1", delivery="t1") for _ in range(2))
    )
    assert sorted(w is None for w in twice) == [False, True]
    assert await log_waste(deps, origin, "C1", waste("once"), user="U1", delivery="t1") is None
    # The same delivery key from another workspace is another delivery.
    assert await log_waste(deps, Origin("T2", None), "C1", waste("x"), user="U1", delivery="t1")
    assert await stored(deps) == [("once", "C1"), ("x", "C1")]


async def test_stopping_stores_every_log_handed_in_first(deps: Deps) -> None:
    origin = Origin("T1", None)
    handed = [
        asyncio.create_task(
            log_waste(deps, origin, "C1", waste(f"log {n}"), user=f"U{n}", delivery=f"t{n}")
        )
        for n in range(20)
    ]
    await asyncio.sleep(0)  # handed in, not yet stored
    await drain_writers(deps.db)
    assert all(task.done() for task in handed)
    async with deps.db.transaction() as s:
        assert await s.scalar(select(func.count(Observation.id))) == 20
    for task in handed:
        await task


async def test_quick_logs_sent_at_once_each_confirm_their_own_log(harness: Harness) -> None:
    async def quick_log(n: int, team_driver: SlackDriver) -> tuple[int, dict[str, Any]]:
        response = await team_driver.command(
            "/waste", f"waiting {n + 1}m for build {n}", user=f"U{n}", channel="C1"
        )
        return n, response.json

    other = harness.driver_for(OTHER_TEAM)
    replies = await asyncio.gather(
        *(quick_log(n, harness.driver if n % 2 else other) for n in range(16))
    )
    for n, reply in replies:
        assert f"for build {n}" in json.dumps(reply)
    async with harness.deps.db.transaction() as s:
        rows = (await s.execute(select(Observation.id, Observation.description))).all()
    assert len(rows) == 16
    # Each reply's Undo names the row of its own log.
    by_id = {str(i): d for i, d in rows}
    for n, reply in replies:
        [undo] = [a["value"] for a in _undo_buttons(reply)]
        assert by_id[undo] == f"waiting for build {n}"


def _undo_buttons(reply: dict[str, Any]) -> list[dict[str, str]]:
    return [
        element
        for block in reply.get("blocks") or []
        for element in [block.get("accessory"), *(block.get("elements") or [])]
        if isinstance(element, dict) and element.get("action_id") == ids.ACTION_WASTE_UNDO
    ]
