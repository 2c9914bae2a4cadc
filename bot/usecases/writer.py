"""Group commit: writes that arrive together are stored in one transaction.

One writer of a kind per database and process (``writer_for``). Requests hand it their item and
wait; it stores everything that waits in one transaction, then answers each request, so each
still hears "stored" only after the commit that stored its item. While it writes, new items
gather for the next transaction: the more requests come at once, the more each commit carries.

A batch that fails is not the fault of every item in it: each is then stored on its own, as
without the writer, and a failure reaches only the request whose item it was.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.usecases.work import Origin
from storage.db import Database
from storage.workspaces import WorkspaceRef, resolve_workspace, workspace_cache

logger = logging.getLogger(__name__)


class Item(Protocol):
    @property
    def origin(self) -> Origin: ...


T = TypeVar("T", bound=Item)
R = TypeVar("R")
W = TypeVar("W", bound="GroupWriter[Any, Any]")


class GroupWriter(ABC, Generic[T, R]):
    """Stores the items handed in meanwhile together (``store_together``), or one by one
    (``store_alone``) when that fails."""

    name: ClassVar[str]
    """The writer's task name."""
    batch_failed: ClassVar[str]
    """The log line of a batch stored one by one."""
    limit: ClassVar[int] = 200
    """Items stored in one transaction at most."""
    gather_turns: ClassVar[int] = 10
    """Turns of the event loop a batch waits for more items at most (``_gather``)."""
    quiet_turns: ClassVar[int] = 3
    """Turns in a row that brought no item, after which the batch is written at once."""
    batches_at_once: ClassVar[int] = 1
    """Batches written at the same time at most, where the database takes several writers
    (PostgreSQL): while one waits for the server, the next is read and sent."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writing: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._at_once = 1 if db.writes_one_at_a_time else self.batches_at_once
        self._arrival: asyncio.Future[None] | None = None

    @abstractmethod
    async def store_together(self, items: list[T]) -> list[R]:
        """Every item in one transaction; an answer for each, in order."""

    @abstractmethod
    async def store_alone(self, item: T) -> R:
        """One item in its own transaction, as without the writer."""

    async def submit(self, item: T) -> R:
        stored: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, stored))
        if self._arrival is not None and not self._arrival.done():
            self._arrival.set_result(None)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)
        return await asyncio.shield(stored)

    async def settle(self) -> None:
        """Wait until every item handed in so far is stored or refused, not those handed in
        after: a write that must come after them (taking a vote back) waits only for them."""
        earlier = [future for _, future in (*self._writing, *self._pending)]
        if earlier:
            await asyncio.wait(earlier)

    async def drain(self) -> None:
        """Wait until every item handed in so far is stored (at shutdown)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        stores: set[asyncio.Task[None]] = set()
        try:
            while self._pending or stores:
                if not self._pending or len(stores) == self._at_once:
                    await self._next_turn(stores)
                    stores = {store for store in stores if not store.done()}
                    continue
                await self._gather()
                batch = self._pending[: self.limit]
                del self._pending[: self.limit]
                self._writing = [(i, f) for i, f in self._writing if not f.done()] + batch
                if self._at_once == 1:
                    await self._store(batch)
                else:
                    stores.add(asyncio.create_task(self._store(batch), name=self.name))
        finally:
            self._task = None
            for store in stores:
                store.cancel()
            if stores:
                await asyncio.wait(stores)
            for _, left in (*self._writing, *self._pending):
                if not left.done():
                    left.set_exception(RuntimeError(f"the {self.name} stopped"))
            self._writing = []
            self._pending.clear()

    async def _next_turn(self, stores: set[asyncio.Task[None]]) -> None:
        """Until a batch is stored, or an item comes while another batch may start."""
        waiting: set[asyncio.Future[Any]] = set(stores)
        if len(stores) < self._at_once:
            self._arrival = asyncio.get_running_loop().create_future()
            waiting.add(self._arrival)
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._arrival = None

    async def _gather(self) -> None:
        """Let the requests already read reach the writer before it writes.

        A request goes from its socket to ``submit`` over a few turns of the event loop, and
        requests that came in together are at different turns of that way: the batch would
        otherwise hold only those that reached ``submit`` in the same turn (about three of ten
        at concurrency 10), and the others would each wait for a commit of their own. Each turn
        waited runs their work, so it costs no time the process had to spare; a lone item
        waits ``quiet_turns`` empty turns, some microseconds.
        """
        quiet = 0
        for _ in range(self.gather_turns):
            if len(self._pending) >= self.limit:
                return
            before = len(self._pending)
            await asyncio.sleep(0)
            quiet = 0 if len(self._pending) > before else quiet + 1
            if quiet == self.quiet_turns:
                return

    async def _store(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            stored = await self.store_together([item for item, _ in batch])
        except Exception as error:  # each alone: one bad item must not cost the others
            logger.warning(
                self.batch_failed,
                extra={
                    "team": ",".join(sorted({item.origin.team_id for item, _ in batch})),
                    "items": len(batch),
                    "error": type(error).__name__,
                },
            )
            for item, future in batch:
                await self._store_alone(item, future)
            return
        for (_, future), result in zip(batch, stored, strict=True):
            future.set_result(result)

    async def _store_alone(self, item: T, future: asyncio.Future[R]) -> None:
        try:
            result = await self.store_alone(item)
        except Exception as error:  # it reaches the request that brought this item, no other
            future.set_exception(error)
        else:
            future.set_result(result)


class BatchWorkspaces:
    """The workspaces of one batch's items: from the process's cache, else resolved in the
    batch's transaction and cached once it has committed (``commit``)."""

    def __init__(self, db: Database) -> None:
        self._cache = workspace_cache(db.engine.sync_engine)
        self._generation = self._cache.generation
        self._found: dict[tuple[str, str | None], WorkspaceRef] = {}
        self._resolved: list[tuple[tuple[str, str | None], WorkspaceRef]] = []

    async def get(self, session: AsyncSession, origin: Origin, now: datetime) -> WorkspaceRef:
        key = (origin.team_id, origin.enterprise_id)
        ref = self._found.get(key) or self._cache.get(*key)
        if ref is None:
            ref = await resolve_workspace(session, team_id=key[0], enterprise_id=key[1], now=now)
            self._resolved.append((key, ref))
        self._found[key] = ref
        return ref

    def cached(self, origins: Iterable[Origin]) -> list[WorkspaceRef] | None:
        """The workspace of each origin from the process's cache; None when one is not there
        (it must be resolved in a session)."""
        refs = []
        for origin in origins:
            ref = self._cache.get(origin.team_id, origin.enterprise_id)
            if ref is None:
                return None
            refs.append(ref)
        return refs

    def committed(self) -> None:
        for key, ref in self._resolved:
            self._cache.put(*key, ref, generation=self._generation)


_writers: weakref.WeakKeyDictionary[Database, dict[type, GroupWriter[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)


def writer_for(db: Database, kind: type[W]) -> W:
    """The process's writer of ``kind`` for ``db``."""
    writers = _writers.setdefault(db, {})
    writer = writers.get(kind)
    if writer is None:
        writer = writers[kind] = kind(db)
    return writer  # type: ignore[return-value]


async def drain_writers(db: Database) -> None:
    """Store what was handed to the writers so far before the process stops."""
    for writer in list(_writers.get(db, {}).values()):
        await writer.drain()
