"""Housekeeping: what the database must forget or tidy as time passes.

``run_housekeeping`` prunes old delivery claims (one row per Slack request, needed only while
Slack may still retry), unlinks anonymous logs from their reporters once the undo window is
over, and seals OAuth tokens stored before ``KAIZEN_SECRET_KEY`` was set. The scheduler runs it
from its first tick after start; it is safe to run from several processes at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.deps import Deps
from bot.domain.observations import ANONYMOUS_UNDO_WINDOW
from storage.deliveries import prune_deliveries
from storage.installations import seal_plain_tokens
from storage.waste import forget_anonymous_reporters

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Housekeeping:
    deliveries_pruned: int
    reporters_forgotten: int
    tokens_sealed: int


async def run_housekeeping(deps: Deps, now: datetime) -> Housekeeping:
    async def attempt() -> Housekeeping:
        async with deps.db.transaction() as session:
            return Housekeeping(
                deliveries_pruned=await prune_deliveries(session, now=now),
                reporters_forgotten=await forget_anonymous_reporters(
                    session, before=now - ANONYMOUS_UNDO_WINDOW
                ),
                tokens_sealed=await seal_plain_tokens(session, sealer=deps.tokens),
            )

    done = await deps.db.retry(attempt)
    logger.info(
        "housekeeping.done",
        extra={
            "deliveries_pruned": done.deliveries_pruned,
            "reporters_forgotten": done.reporters_forgotten,
            "tokens_sealed": done.tokens_sealed,
        },
    )
    return done
