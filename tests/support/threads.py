"""Waiting for the worker threads a test started, while its event loop still runs.

aiosqlite runs each connection on a thread of its own. A connection that fails to open stops
that thread by queueing one last call whose answer goes back to the event loop; if the loop
closed first (the test ended), the thread fails inside whichever test runs next. Waiting here
keeps a failure with the test that caused it.
"""

from __future__ import annotations

import asyncio
import threading
import time

AIOSQLITE_WORKER = "_connection_worker_thread"


def aiosqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if AIOSQLITE_WORKER in t.name and t.is_alive()}


async def wait_for_workers_to_stop(
    started_before: set[threading.Thread], *, deadline_s: float = 10.0
) -> None:
    """Return once every aiosqlite worker started since ``started_before`` has ended."""
    deadline = time.monotonic() + deadline_s
    while left := aiosqlite_workers() - started_before:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"aiosqlite worker threads still running: {sorted(map(str, left))}"
            )
        await asyncio.sleep(0.01)
