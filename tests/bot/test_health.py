"""/healthz says 503 when the database cannot take a write, without writing per probe hit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text

from storage.db import Database
from tests.support.clock import FrozenClock
from tests.support.harness import Harness, running_app
from tests.support.scaleout import add_step


async def read_only(db: Database, on: bool) -> None:
    """Make the database refuse writes (or take them again), as a read-only file or server."""
    if db.url.startswith("sqlite"):
        # One pooled connection on a SQLite file: the pragma holds for every later request.
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql(f"PRAGMA query_only={int(on)}")
        return
    async with db.engine.connect() as conn:
        await conn.execute(text("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"))
        await conn.commit()
        name = (await conn.execute(text("SELECT current_database()"))).scalar_one()
        setting = "on" if on else "off"
        await conn.execute(
            text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {setting}')
        )
        await conn.commit()
    await db.engine.dispose()


@pytest.fixture
async def app_on(any_db: Database, clock: FrozenClock) -> AsyncIterator[Harness]:
    async with running_app(any_db, clock) as harness:
        try:
            yield harness
        finally:
            await read_only(any_db, False)


def write_checks(db: Database) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "alembic_version" in statement:
            seen.append(statement)

    return seen


async def test_healthz_is_503_while_writes_fail_and_200_once_they_land(app_on: Harness) -> None:
    db = app_on.deps.db
    assert (await app_on.get("/healthz"))[0] == 200
    await read_only(db, True)
    logged = await app_on.driver.command("/waste", "waiting 2h for CI", user="U1", channel="C1")
    assert "went wrong" in logged.text and "nothing was changed" in logged.text
    # The failure is remembered: no need to wait for the next periodic check.
    status, body = await app_on.get("/healthz")
    assert (status, json.loads(body)["database"]) == (503, "cannot write")
    await read_only(db, False)
    logged = await app_on.driver.command("/waste", "waiting 2h for CI", user="U1", channel="C1")
    assert "lost 2h" in logged.text
    assert (await app_on.get("/healthz"))[0] == 200


async def test_a_form_whose_write_fails_stays_open_under_a_notice(app_on: Harness) -> None:
    await read_only(app_on.deps.db, True)
    response = await add_step(app_on.driver, 1, "C1", "Build")
    assert response.json["response_action"] == "push", response.text
    assert "nothing was changed" in json.dumps(response.json["view"])


async def test_a_database_read_only_from_the_start_is_seen_by_one_check_per_interval(
    app_on: Harness,
) -> None:
    db = app_on.deps.db
    await read_only(db, True)
    checks = write_checks(db)
    answers = [await app_on.get("/healthz") for _ in range(10)]
    assert {status for status, _ in answers} == {503}
    assert len(checks) == 1
