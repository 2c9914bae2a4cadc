"""Workspaces and delivery claims: the scoping and idempotency every feature stands on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.deliveries import claim_delivery, prune_deliveries
from storage.workspaces import (
    WorkspaceCache,
    WorkspaceRef,
    find_workspace,
    get_or_add_workspace,
    resolve_workspace,
    uninstall_workspace,
    workspace_cache,
)

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


async def test_get_or_add_workspace_returns_the_same_id_each_time(any_db: Database) -> None:
    async with any_db.transaction() as s:
        first = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
    async with any_db.transaction() as s:
        again = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        other = await get_or_add_workspace(s, team_id="T2", enterprise_id=None, now=NOW)
    assert first == again
    assert other != first


async def test_grid_workspaces_are_told_apart_by_enterprise(any_db: Database) -> None:
    async with any_db.transaction() as s:
        plain = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        grid = await get_or_add_workspace(s, team_id="T1", enterprise_id="E1", now=NOW)
        assert await find_workspace(s, team_id="T1", enterprise_id="E1") == grid
        assert await find_workspace(s, team_id="T9", enterprise_id=None) is None
    assert plain != grid


async def test_concurrent_first_requests_create_one_workspace(any_db: Database) -> None:
    async def resolve() -> int:
        async with any_db.transaction() as s:
            return await get_or_add_workspace(s, team_id="T7", enterprise_id=None, now=NOW)

    ids = await asyncio.gather(*(resolve() for _ in range(10)))
    assert len(set(ids)) == 1


async def test_a_delivery_is_claimed_once_per_workspace(any_db: Database) -> None:
    async with any_db.transaction() as s:
        ws1 = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        ws2 = await get_or_add_workspace(s, team_id="T2", enterprise_id=None, now=NOW)
        assert await claim_delivery(s, workspace_id=ws1, key="Ev1", now=NOW)
        assert not await claim_delivery(s, workspace_id=ws1, key="Ev1", now=NOW)
        assert await claim_delivery(s, workspace_id=ws2, key="Ev1", now=NOW)


async def test_a_rolled_back_claim_can_be_claimed_again(any_db: Database) -> None:
    async with any_db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
    try:
        async with any_db.transaction() as s:
            assert await claim_delivery(s, workspace_id=ws, key="Ev2", now=NOW)
            raise RuntimeError("the handler's write failed")
    except RuntimeError:
        pass
    async with any_db.transaction() as s:
        assert await claim_delivery(s, workspace_id=ws, key="Ev2", now=NOW)


async def test_old_deliveries_are_pruned(any_db: Database) -> None:
    async with any_db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        await claim_delivery(s, workspace_id=ws, key="old", now=NOW - timedelta(days=3))
        await claim_delivery(s, workspace_id=ws, key="new", now=NOW)
        assert await prune_deliveries(s, now=NOW) == 1
        assert await claim_delivery(s, workspace_id=ws, key="old", now=NOW)


async def test_each_workspace_keeps_its_own_reporter_secret(any_db: Database) -> None:
    async with any_db.transaction() as s:
        first = await resolve_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        other = await resolve_workspace(s, team_id="T2", enterprise_id=None, now=NOW)
    async with any_db.transaction() as s:
        again = await resolve_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
    assert again == first
    assert len(first.reporter_secret) == 64
    assert other.reporter_secret != first.reporter_secret


class Ticking:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_workspace_cache_trusts_an_entry_for_its_time_only() -> None:
    tick = Ticking()
    cache = WorkspaceCache(ttl=60, clock=tick)
    ref = WorkspaceRef(id=1, reporter_secret="s1")
    cache.put("T1", None, ref, generation=cache.generation)
    assert cache.get("T1", None) == ref
    assert cache.get("T1", "E1") is None  # a Grid workspace with the same team id is another
    assert cache.get("T2", None) is None
    tick.now = 59.9
    assert cache.get("T1", None) == ref
    tick.now = 60.0
    assert cache.get("T1", None) is None


def test_a_lookup_that_began_before_an_uninstall_is_not_cached() -> None:
    cache = WorkspaceCache()
    began = cache.generation
    cache.forget("T1", None)
    cache.put("T1", None, WorkspaceRef(id=1, reporter_secret="s1"), generation=began)
    assert cache.get("T1", None) is None


async def test_an_uninstall_drops_the_cached_workspace_and_only_that_one(any_db: Database) -> None:
    cache = workspace_cache(any_db.engine.sync_engine)
    async with any_db.transaction() as s:
        first = await resolve_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        other = await resolve_workspace(s, team_id="T2", enterprise_id=None, now=NOW)
    cache.put("T1", None, first, generation=cache.generation)
    cache.put("T2", None, other, generation=cache.generation)
    async with any_db.transaction() as s:
        await uninstall_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        began = cache.generation
        # A request of this process that looks T1 up while the uninstall is not yet committed.
        cache.put("T1", None, first, generation=began)
    assert cache.get("T1", None) is None
    assert cache.get("T2", None) == other
