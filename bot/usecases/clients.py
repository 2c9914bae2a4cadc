"""Web API clients: the app's own, and one per workspace for work that no request started.

A handler uses the client Bolt hands it (already authorised for the request's workspace); a
scheduled job asks ``client_for_workspace`` for the token that workspace installed with.
"""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from storage.installations import get_bot_token
from storage.workspaces import is_uninstalled


def retry_handlers() -> list[AsyncRetryHandler]:
    """429 (waits for Retry-After), 5xx and dropped connections are retried, a few times."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
    ]


def build_client(deps: Deps, token: str | None = None) -> AsyncWebClient:
    if token is None and deps.settings.slack_bot_token is not None:
        token = deps.settings.slack_bot_token.get_secret_value()
    return AsyncWebClient(
        token=token or None,
        base_url=deps.settings.slack_api_url,
        retry_handlers=retry_handlers(),
        timeout=10,
    )


async def client_for_workspace(deps: Deps, workspace_id: int) -> AsyncWebClient | None:
    """A client with the workspace's bot token: the OAuth install's, else SLACK_BOT_TOKEN.

    None when the workspace uninstalled the app or revoked its token (with either kind of
    token): nothing may be posted there, so scheduled work skips it.
    """
    async with deps.db.transaction() as session:
        if await is_uninstalled(session, workspace_id=workspace_id):
            return None
        token = None
        if deps.settings.oauth_enabled:
            token = await get_bot_token(session, workspace_id=workspace_id, sealer=deps.tokens)
    if deps.settings.oauth_enabled:
        return build_client(deps, token=token) if token else None
    if deps.settings.slack_bot_token is None:
        return None
    return build_client(deps)
