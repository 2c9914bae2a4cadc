"""Workspaces (Slack teams) and the scope every other query is filtered by.

Every transaction starts by resolving its workspace; ``WorkspaceCache`` lets a process skip
that once it has seen the workspace installed (see there for how it is kept honest).
"""

from __future__ import annotations

import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Installation, Workspace
from storage.sql import advisory_lock, insert_ignoring_conflict


@dataclass(frozen=True, slots=True)
class Scope:
    """One channel of one workspace: the unit every feature query works in."""

    workspace_id: int
    channel_id: str


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    id: int
    reporter_secret: str


CACHE_TTL = 60.0
"""Seconds a process trusts that a workspace it saw is still installed without asking the
database: how long an uninstall made by *another* process may go unnoticed here."""


class WorkspaceCache:
    """The workspaces one process has resolved: (team, enterprise) → id and reporter secret.

    A workspace's id and secret never change, so the only thing that can go stale is whether
    it is installed: a verified request from an uninstalled workspace must mark it installed
    again (``resolve_workspace``). So an entry is only made after the transaction that saw
    the workspace installed (or reinstalled it) committed, it is dropped when this process
    uninstalls the workspace, and it is trusted for ``CACHE_TTL`` seconds at most, which
    bounds what an uninstall by another process can leave unnoticed. An entry made by a
    lookup that began before an uninstall is refused (``generation``).
    """

    def __init__(
        self, *, ttl: float = CACHE_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._found: dict[tuple[str, str], tuple[WorkspaceRef, float]] = {}
        self._ttl = ttl
        self._clock = clock
        self.generation = 0
        """Bumped by every uninstall, so that a lookup racing one does not cache its answer."""

    def get(self, team_id: str, enterprise_id: str | None) -> WorkspaceRef | None:
        key = (team_id, enterprise_id or "")
        found = self._found.get(key)
        if found is None:
            return None
        ref, until = found
        if self._clock() >= until:
            del self._found[key]
            return None
        return ref

    def put(
        self, team_id: str, enterprise_id: str | None, ref: WorkspaceRef, *, generation: int
    ) -> None:
        """Remember a workspace seen installed by a committed transaction that began at
        ``generation``; nothing if an uninstall happened since."""
        if generation == self.generation:
            self._found[(team_id, enterprise_id or "")] = (ref, self._clock() + self._ttl)

    def forget(self, team_id: str, enterprise_id: str | None) -> None:
        self.generation += 1
        self._found.pop((team_id, enterprise_id or ""), None)


_caches: weakref.WeakKeyDictionary[Engine, WorkspaceCache] = weakref.WeakKeyDictionary()


def workspace_cache(engine: Engine) -> WorkspaceCache:
    """The cache of the process's database ``engine`` (the sync engine under an async one)."""
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = WorkspaceCache()
    return cache


def _cache_of(session: AsyncSession) -> WorkspaceCache:
    bind: Any = session.get_bind()
    return workspace_cache(getattr(bind, "engine", bind))


async def resolve_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> WorkspaceRef:
    """The workspace a request came from, created on its first request."""
    enterprise = enterprise_id or ""
    await insert_ignoring_conflict(
        session,
        Workspace.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "enterprise_id": enterprise,
            "name": "",
            "created_at": now,
            "next_theme_number": 1,
            "reporter_secret": secrets.token_hex(32),
        },
    )
    row = await session.execute(
        select(Workspace.id, Workspace.reporter_secret, Workspace.uninstalled_at).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == enterprise
        )
    )
    workspace_id, secret, uninstalled_at = row.one()
    if uninstalled_at is not None:
        # A verified request (or an install) from a workspace that had removed the app: it is
        # back, and its scheduled work resumes.
        await session.execute(
            update(Workspace).where(Workspace.id == workspace_id).values(uninstalled_at=None)
        )
    return WorkspaceRef(id=workspace_id, reporter_secret=secret)


async def get_or_add_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> int:
    found = await resolve_workspace(session, team_id=team_id, enterprise_id=enterprise_id, now=now)
    return found.id


MAP_LOCKS = 0x766D  # "vm": the namespace of the per-map advisory locks


async def lock_map(session: AsyncSession, *, scope: Scope, state: str) -> None:
    """Serialise the writers of one channel's map for the rest of the transaction.

    For rules no constraint can hold, such as "at most 30 steps a map": two transactions could
    each count 29 and both add. The lock is on this map only, and not a row lock on the
    workspace: every insert into a table that refers to the workspace takes a key-share lock
    on its row, so two writers that each claimed a delivery and then asked for the row itself
    waited for each other, a deadlock.
    """
    key = f"{scope.workspace_id}:{scope.channel_id}:{state}"
    await advisory_lock(session, space=MAP_LOCKS, key=key)


async def find_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None
) -> int | None:
    row = await session.execute(
        select(Workspace.id).where(
            Workspace.team_id == team_id, Workspace.enterprise_id == (enterprise_id or "")
        )
    )
    return row.scalar_one_or_none()


async def uninstall_workspace(
    session: AsyncSession, *, team_id: str, enterprise_id: str | None, now: datetime
) -> int | None:
    """Slack says the app left a workspace: forget its bot token and mark it, so nothing
    scheduled posts there until it installs again. Its data stays. None if it is unknown."""
    workspace_id = await find_workspace(session, team_id=team_id, enterprise_id=enterprise_id)
    if workspace_id is None:
        return None
    # Forgotten now, so that no request of this process trusts it from here on, and again
    # after the commit, so that a request that looked it up before the commit (PostgreSQL:
    # it still read it installed) does not bring the entry back.
    cache = _cache_of(session)
    cache.forget(team_id, enterprise_id)
    event.listen(
        session.sync_session,
        "after_commit",
        lambda _session: cache.forget(team_id, enterprise_id),
        once=True,
    )
    await session.execute(delete(Installation).where(Installation.workspace_id == workspace_id))
    await session.execute(
        update(Workspace).where(Workspace.id == workspace_id).values(uninstalled_at=now)
    )
    return workspace_id


async def is_uninstalled(session: AsyncSession, *, workspace_id: int) -> bool:
    found = await session.scalar(
        select(Workspace.uninstalled_at).where(Workspace.id == workspace_id)
    )
    return found is not None


async def get_workspace_origin(
    session: AsyncSession, *, workspace_id: int
) -> tuple[str, str | None] | None:
    """(team id, Enterprise Grid id or None) of a workspace, for work no request started."""
    found = (
        await session.execute(
            select(Workspace.team_id, Workspace.enterprise_id).where(Workspace.id == workspace_id)
        )
    ).first()
    if found is None:
        return None
    team, enterprise = found
    return str(team), (str(enterprise) or None)
