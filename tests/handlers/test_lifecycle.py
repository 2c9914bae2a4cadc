"""app_uninstalled and tokens_revoked: that workspace's token goes and its scheduled work stops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.oauth.installation_store.models.bot import Bot
from sqlalchemy import func, select

from bot.usecases.clients import client_for_workspace
from storage.db import Database
from storage.installations import DatabaseInstallationStore, get_bot_token
from storage.models import Observation
from storage.workspaces import find_workspace
from tests.support.clock import FrozenClock
from tests.support.harness import OTHER_TEAM, TEAM, Harness, running_app


@pytest.fixture
async def app_on(any_db: Database, clock: FrozenClock) -> AsyncIterator[Harness]:
    async with running_app(any_db, clock) as harness:
        yield harness


async def workspace(harness: Harness, team: str) -> int:
    async with harness.deps.db.transaction() as s:
        found = await find_workspace(s, team_id=team, enterprise_id=None)
    assert found is not None
    return found


async def installed(harness: Harness, team: str) -> None:
    """A workspace that installed through OAuth and logged a waste."""
    store = DatabaseInstallationStore(harness.deps.db, clock=harness.clock)
    await store.async_save_bot(
        Bot(
            team_id=team,
            bot_token=f"xoxb-{team}",
            bot_id="B1",
            bot_user_id="UBOT",
            installed_at=1.0,
        )
    )
    response = await harness.driver_for(team).command(
        "/waste", "waiting 1h for review", user="U1", channel="C1"
    )
    assert "lost 1h" in response.text


async def token_of(harness: Harness, team: str) -> str | None:
    ws = await workspace(harness, team)
    async with harness.deps.db.transaction() as s:
        return await get_bot_token(s, workspace_id=ws)


async def test_an_uninstall_stops_that_workspace_only_until_it_is_back(app_on: Harness) -> None:
    await installed(app_on, TEAM)
    await installed(app_on, OTHER_TEAM)
    response = await app_on.driver.event({"type": "app_uninstalled"})
    assert response.status == 200
    assert await token_of(app_on, TEAM) is None
    assert await token_of(app_on, OTHER_TEAM) == f"xoxb-{OTHER_TEAM}"
    gone, other = await workspace(app_on, TEAM), await workspace(app_on, OTHER_TEAM)
    assert await client_for_workspace(app_on.deps, gone) is None
    assert await client_for_workspace(app_on.deps, other) is not None
    async with app_on.deps.db.transaction() as s:
        logs = await s.scalar(select(func.count(Observation.id)))
    assert logs == 2  # the data stays; see README
    # Installed again: its next verified request brings scheduled work back.
    await app_on.driver.command("/waste", "list", user="U1", channel="C1")
    assert await client_for_workspace(app_on.deps, gone) is not None


async def test_a_revoked_bot_token_is_deleted_and_user_tokens_change_nothing(
    app_on: Harness,
) -> None:
    await installed(app_on, TEAM)
    await installed(app_on, OTHER_TEAM)
    users_only = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}}
    assert (await app_on.driver.event(users_only)).status == 200
    assert await token_of(app_on, TEAM) == f"xoxb-{TEAM}"
    bot = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    assert (await app_on.driver_for(OTHER_TEAM).event(bot)).status == 200
    assert await token_of(app_on, OTHER_TEAM) is None
    assert await token_of(app_on, TEAM) == f"xoxb-{TEAM}"
    assert await client_for_workspace(app_on.deps, await workspace(app_on, OTHER_TEAM)) is None


async def test_an_uninstall_from_a_workspace_never_seen_is_answered(app_on: Harness) -> None:
    response = await app_on.driver_for("T0NEVER").event({"type": "app_uninstalled"})
    assert response.status == 200
