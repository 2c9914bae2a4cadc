"""Housekeeping: old delivery claims pruned, anonymous logs unlinked, plain tokens sealed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from slack_sdk.oauth.installation_store.models.bot import Bot
from sqlalchemy import func, select

from bot import ids
from bot.deps import Deps
from bot.domain.observations import ANONYMOUS_UNDO_WINDOW, reporter_key
from bot.usecases.housekeeping import run_housekeeping
from jobs.scheduler import find_job, start_scheduler
from storage.db import Database
from storage.installations import DatabaseInstallationStore
from storage.models import Delivery, Installation, Observation, Workspace
from tests.handlers.test_waste_modal import waste_values
from tests.support.clock import FrozenClock
from tests.support.harness import TEAM, Harness, running_app


@pytest.fixture
async def app_on(any_db: Database, clock: FrozenClock) -> AsyncIterator[Harness]:
    async with running_app(any_db, clock) as harness:
        yield harness


async def log(harness: Harness, description: str, *, anonymous: bool, user: str = "U1") -> None:
    response = await harness.driver.view_submission(
        ids.VIEW_WASTE,
        waste_values(description=description, anonymous=anonymous),
        user=user,
        view_id=f"V{description}",
        private_metadata=json.dumps({"c": "C1"}),
    )
    assert response.status == 200 and "errors" not in response.text


async def listed(harness: Harness, user: str = "U1") -> str:
    response = await harness.driver.command("/waste", "list", user=user, channel="C1")
    return json.dumps(response.json)


async def test_after_the_undo_window_nothing_ties_an_anonymous_log_to_its_reporter(
    app_on: Harness,
) -> None:
    await log(app_on, "Blame-free", anonymous=True)
    await log(app_on, "Signed", anonymous=False)
    assert "Blame-free" in await listed(app_on)
    app_on.clock.advance(seconds=ANONYMOUS_UNDO_WINDOW.total_seconds() + 1)
    await log(app_on, "Fresh and anonymous", anonymous=True)

    done = await run_housekeeping(app_on.deps, app_on.clock())

    assert done.reporters_forgotten == 1
    async with app_on.deps.db.transaction() as s:
        secret = await s.scalar(select(Workspace.reporter_secret))
        rows = {r.description: r for r in await s.scalars(select(Observation))}
    assert secret is not None
    old = rows["Blame-free"]
    # Even with the database and its per-workspace secret, the reporter cannot be recomputed.
    assert old.reporter_key != reporter_key(secret, "U1")
    assert (old.reporter_id, old.reaction_key) == (None, None)
    assert "U1" not in json.dumps([str(getattr(old, c.key)) for c in Observation.__table__.c])
    assert rows["Signed"].reporter_key == reporter_key(secret, "U1")
    assert rows["Fresh and anonymous"].reporter_key == reporter_key(secret, "U1")
    shown = await listed(app_on)
    assert "Blame-free" not in shown and "Signed" in shown and "Fresh and anonymous" in shown
    await app_on.driver.block_action(ids.ACTION_WASTE_UNDO, str(old.id), user="U1", channel="C1")
    refused = await app_on.fake.wait_for("response_url", lambda c: "nobody" in json.dumps(c.args))
    assert "older than an hour" in json.dumps(refused.args)


async def test_delivery_claims_older_than_two_days_are_pruned(app_on: Harness) -> None:
    await app_on.driver.command("/waste", "waiting 1h for CI", user="U1", channel="C1")
    app_on.clock.advance(days=3)
    await app_on.driver.command("/waste", "waiting 2h for CI", user="U1", channel="C1")
    done = await run_housekeeping(app_on.deps, app_on.clock())
    assert done.deliveries_pruned == 1
    async with app_on.deps.db.transaction() as s:
        assert await s.scalar(select(func.count(Delivery.id))) == 1
        assert await s.scalar(select(func.count(Observation.id))) == 2


async def test_tokens_are_sealed_at_rest_with_a_key_and_plain_ones_still_work(
    app_on: Harness,
) -> None:
    db = app_on.deps.db
    plain_store = DatabaseInstallationStore(db, app_on.clock)
    await plain_store.async_save_bot(
        Bot(team_id=TEAM, bot_token="xoxb-plain-1", bot_id="B", bot_user_id="UB", installed_at=1.0)
    )
    keyed = Deps(
        settings=app_on.deps.settings.model_copy(
            update={"kaizen_secret_key": SecretStr(Fernet.generate_key().decode())}
        ),
        db=db,
        clock=app_on.clock,
    )
    try:
        store = DatabaseInstallationStore(db, app_on.clock, keyed.tokens)
        found = await store.async_find_bot(enterprise_id=None, team_id=TEAM)
        assert found is not None and found.bot_token == "xoxb-plain-1"  # stored before the key

        done = await run_housekeeping(keyed, app_on.clock())

        assert done.tokens_sealed == 1
        async with db.transaction() as s:
            stored = await s.scalar(select(Installation.bot_token))
        assert stored is not None and stored.startswith("fernet:") and "xoxb" not in stored
        found = await store.async_find_bot(enterprise_id=None, team_id=TEAM)
        assert found is not None and found.bot_token == "xoxb-plain-1"
        await store.async_save_bot(
            Bot(
                team_id=TEAM, bot_token="xoxb-new-2", bot_id="B", bot_user_id="UB", installed_at=2.0
            )
        )
        async with db.transaction() as s:
            assert "xoxb" not in str(await s.scalar(select(Installation.bot_token)))
        # Without the key the sealed token is unreadable: not installed, never garbage.
        assert await plain_store.async_find_bot(enterprise_id=None, team_id=TEAM) is None
    finally:
        keyed.cpu.shutdown(wait=False)


def test_a_malformed_secret_key_is_refused_at_start() -> None:
    from bot.settings import ConfigError, load_settings

    with pytest.raises(ConfigError, match="KAIZEN_SECRET_KEY"):
        load_settings(kaizen_secret_key="not a key", _env_file=None)


async def test_the_scheduler_unlinks_anonymous_logs_soon_after_the_undo_window(
    app_on: Harness,
) -> None:
    await log(app_on, "Blame-free", anonymous=True)
    app_on.clock.advance(seconds=ANONYMOUS_UNDO_WINDOW.total_seconds() + 1)
    job = find_job("housekeeping")
    assert job is not None and job.every.total_seconds() <= 600
    scheduler = start_scheduler(app_on.deps, (job,), first_run_in=0)
    try:
        async with asyncio.timeout(10):
            while True:
                async with app_on.deps.db.transaction() as s:
                    secret = await s.scalar(select(Workspace.reporter_secret))
                    row = await s.scalar(select(Observation))
                if row is not None and row.reporter_key != reporter_key(str(secret), "U1"):
                    break
                await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    assert "Blame-free" not in await listed(app_on)
