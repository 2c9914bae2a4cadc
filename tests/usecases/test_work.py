"""The unit of work: each transaction in its own workspace, resolved once per process."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from bot.settings import Settings
from bot.usecases.work import Origin, workspace_transaction
from storage.db import Database
from storage.models import Workspace
from storage.workspaces import uninstall_workspace, workspace_cache
from tests.support.clock import FrozenClock


@pytest.fixture
def deps(any_db: Database, clock: FrozenClock) -> Deps:
    settings = Settings(database_url=any_db.url, _env_file=None)  # type: ignore[call-arg]
    return Deps(settings=settings, db=any_db, clock=clock)


async def test_each_workspace_gets_its_own_id_and_secret_from_the_cache_too(deps: Deps) -> None:
    seen = []
    for _ in range(2):
        for team in ("T1", "T2"):
            async with workspace_transaction(deps, Origin(team, None)) as work:
                seen.append((team, work.workspace_id, work.reporter_key("U1")))
    first, second = seen[:2], seen[2:]
    assert first == second
    assert first[0][1] != first[1][1] and first[0][2] != first[1][2]
    async with deps.db.transaction() as s:
        assert await s.scalar(select(func.count(Workspace.id))) == 2


async def test_a_rolled_back_first_transaction_leaves_nothing_cached(deps: Deps) -> None:
    with pytest.raises(RuntimeError):
        async with workspace_transaction(deps, Origin("T1", None)):
            raise RuntimeError("the write failed")
    assert workspace_cache(deps.db.engine.sync_engine).get("T1", None) is None
    async with workspace_transaction(deps, Origin("T1", None)) as work:
        assert work.workspace_id is not None
    async with deps.db.transaction() as s:
        assert await s.scalar(select(func.count(Workspace.id))) == 1


async def test_a_request_after_an_uninstall_marks_the_workspace_installed_again(
    deps: Deps,
) -> None:
    async with workspace_transaction(deps, Origin("T1", None)):
        pass
    async with deps.db.transaction() as s:
        await uninstall_workspace(s, team_id="T1", enterprise_id=None, now=deps.now())
    async with workspace_transaction(deps, Origin("T1", None)):
        pass
    async with deps.db.transaction() as s:
        gone = await s.scalar(select(Workspace.uninstalled_at).where(Workspace.team_id == "T1"))
    assert gone is None
