"""Retro phases at their deadlines: collect ends into the vote, the vote into the summary.

Run every minute or so by the scheduler. Each due retro is moved by a conditional update, so
with several processes on one database each retro moves (and is posted) exactly once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.usecases.clients import client_for_workspace
from bot.usecases.retros import Advance, advance
from storage.retro import list_due_retros

logger = logging.getLogger(__name__)


async def advance_retro_phases(deps: Deps, now: datetime) -> int:
    """Move on every retro whose deadline passed by ``now``; how many this process moved."""
    async with deps.db.transaction() as session:
        due = await list_due_retros(session, now=now)
    moved = 0
    for workspace_id, retro in due:
        client = await client_for_workspace(deps, workspace_id)
        if client is None:
            continue
        try:
            if await advance(client, deps, workspace_id, retro) is Advance.MOVED:
                moved += 1
        except SlackApiError as exc:
            # One workspace's Slack trouble must not hold up the others; the next run retries
            # whatever is still due.
            logger.warning(
                "retro.phase_failed",
                extra={"channel": retro.channel_id, "error": exc.response.get("error")},
            )
    return moved
