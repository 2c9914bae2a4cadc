"""Claiming a scheduled post before sending it, and recording how it went, each committed alone.

The claim's own transaction commits before the Slack call, so another process sees it at once;
the outcome is recorded in another after the call. No transaction is held open over the network.
"""

from __future__ import annotations

from datetime import timedelta

from bot.deps import Deps
from storage import jobs as runs

RETRY_FAILED_AFTER = timedelta(minutes=15)
"""How long a failed post waits before a later tick may try it again."""

CLAIM_LEASE = timedelta(hours=1)
"""How long a claim may stay ``running`` before it counts as left by a process that stopped
mid-post, and a later tick takes it over. A post takes seconds (a minute with Slack's rate
limits); a process that stops between Slack's answer and recording it leaves no way to tell,
and the post is sent again after the lease."""


async def claim(
    deps: Deps, job: str, key: str, *, retry_after: timedelta = RETRY_FAILED_AFTER
) -> bool:
    async with deps.db.transaction() as session:
        return await runs.claim_run(
            session,
            job=job,
            key=key,
            now=deps.now(),
            lease=CLAIM_LEASE,
            retry_failed_after=retry_after,
        )


async def finish(deps: Deps, job: str, key: str, status: str, detail: str = "") -> None:
    async with deps.db.transaction() as session:
        await runs.finish_run(
            session, job=job, key=key, status=status, now=deps.now(), detail=detail
        )
