"""The unit of work: one database transaction, scoped to the workspace a request or job is for.

``workspace_transaction`` opens the one transaction of a handler or a job run and resolves the
workspace, so no query can run unscoped. A use case marked ``@retried`` runs again when
PostgreSQL rolled its transaction back as a deadlock victim or a serialisation failure, so such
a conflict between two requests never reaches the user.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.deps import Deps
from bot.domain.observations import reporter_key
from storage.deliveries import claim_delivery
from storage.workspaces import Scope, resolve_workspace, workspace_cache

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Origin:
    """The workspace a request came from (Enterprise Grid id included when there is one)."""

    team_id: str
    enterprise_id: str | None

    @classmethod
    def of(cls, context: Any) -> Origin:
        team = context.get("team_id") or context.get("user_token_team_id") or ""
        return cls(team_id=str(team), enterprise_id=context.get("enterprise_id"))


@dataclass(frozen=True, slots=True)
class Reaction:
    """A person's emoji on a message, added or removed, as one event delivered it."""

    origin: Origin
    scope: Scope
    user: str
    message_ts: str
    delivery: str | None
    """The event id: a retried delivery is handled once."""


@dataclass(slots=True)
class Work:
    session: AsyncSession
    workspace_id: int
    deps: Deps
    reporter_secret: str

    def scope(self, channel_id: str) -> Scope:
        return Scope(self.workspace_id, channel_id)

    def reporter_key(self, user_id: str) -> str:
        return reporter_key(self.reporter_secret, user_id)

    async def first_delivery(self, key: str | None) -> bool:
        """Claim a delivery key (event id or trigger id); False when it was handled before."""
        if not key:
            return True
        return await claim_delivery(
            self.session, workspace_id=self.workspace_id, key=key, now=self.deps.now()
        )


@asynccontextmanager
async def workspace_transaction(deps: Deps, origin: Origin) -> AsyncIterator[Work]:
    """One transaction for ``origin``'s workspace; the workspace comes from the process's
    cache when this process saw it installed lately (``storage.workspaces.WorkspaceCache``),
    else from the database, and is cached once this transaction has committed."""
    team, enterprise = origin.team_id, origin.enterprise_id
    cache = workspace_cache(deps.db.engine.sync_engine)
    generation = cache.generation
    cached = cache.get(team, enterprise)
    # With the write lock from the start (SQLite), as resolving the workspace took it before
    # there was a cache: a use case that reads and then writes is not refused by SQLite when
    # another process wrote in between.
    async with deps.db.transaction(write_lock=True) as session:
        workspace = cached or await resolve_workspace(
            session, team_id=team, enterprise_id=enterprise, now=deps.now()
        )
        yield Work(
            session=session,
            workspace_id=workspace.id,
            deps=deps,
            reporter_secret=workspace.reporter_secret,
        )
    if cached is None:
        cache.put(team, enterprise, workspace, generation=generation)


@asynccontextmanager
async def workspace_reading(deps: Deps, origin: Origin) -> AsyncIterator[Work]:
    """A transaction that only reads (``Database.reading``), for a workspace in the process's
    cache; otherwise ``workspace_transaction``, which may store the workspace first."""
    cached = workspace_cache(deps.db.engine.sync_engine).get(origin.team_id, origin.enterprise_id)
    if cached is None:
        async with workspace_transaction(deps, origin) as work:
            yield work
        return
    async with deps.db.reading() as session:
        yield Work(
            session=session,
            workspace_id=cached.id,
            deps=deps,
            reporter_secret=cached.reporter_secret,
        )


def retried(use_case: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run ``use_case`` again (a few times) when its transaction was rolled back as a deadlock
    victim or a serialisation failure; the ``Deps`` among its arguments gives the database.

    Only for a use case whose transaction comes before anything else it does (a Slack call, a
    second transaction): the failed run wrote nothing and did nothing, so it starts afresh.
    """

    @functools.wraps(use_case)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        deps = next(a for a in (*args, *kwargs.values()) if isinstance(a, Deps))
        return await deps.db.retry(lambda: use_case(*args, **kwargs))

    return run
