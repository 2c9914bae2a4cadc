"""The app leaving a workspace: ``app_uninstalled``, and ``tokens_revoked`` for its bot token.

Either way the workspace's bot token is deleted and the workspace is marked uninstalled, so no
scheduled work posts there (``client_for_workspace`` answers None) until it installs again or
sends a verified request. Its data stays (see README, "Uninstalling"); other workspaces are
untouched.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import ids
from bot.deps import Deps
from bot.usecases.work import Origin
from storage.workspaces import uninstall_workspace

logger = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_APP_UNINSTALLED)(app_uninstalled)
    app.event(ids.EVENT_TOKENS_REVOKED)(tokens_revoked)


async def app_uninstalled(context: Any, deps: Deps) -> None:
    await _uninstall(deps, Origin.of(context), reason=ids.EVENT_APP_UNINSTALLED)


async def tokens_revoked(event: dict[str, Any], context: Any, deps: Deps) -> None:
    tokens = event.get("tokens")
    bots = tokens.get("bot") if isinstance(tokens, dict) else None
    # Only user tokens revoked: kaizen-bot holds none, so nothing changes.
    if bots:
        await _uninstall(deps, Origin.of(context), reason=ids.EVENT_TOKENS_REVOKED)


async def _uninstall(deps: Deps, origin: Origin, *, reason: str) -> None:
    if not origin.team_id:
        return
    async with deps.db.transaction() as session:
        found = await uninstall_workspace(
            session, team_id=origin.team_id, enterprise_id=origin.enterprise_id, now=deps.now()
        )
    logger.info(
        "workspace.uninstalled", extra={"team": origin.team_id, "reason": reason, "known": found}
    )
