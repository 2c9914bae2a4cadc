"""Web API clients: the app's own, and one per workspace for work that no request started.

A handler uses the client Bolt hands it (already authorised for the request's workspace); a
scheduled job asks ``client_for_workspace`` for the token that workspace installed with.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientConnectorError, ClientSession, ClientTimeout
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.deps import Deps
from bot.reply_budget import SlackSlow, remaining
from bot.usecases.notify import NOT_A_MEMBER, ChannelMembership
from storage.installations import get_bot_token
from storage.workspaces import get_workspace_origin, is_uninstalled

NOT_REPEATABLE = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal"}
)
"""Methods whose second attempt posts a second message when the first one did arrive."""


def _method(request: HttpRequest) -> str:
    return urlsplit(request.url).path.rsplit("/", 1)[-1]


class _RateLimitWithinReply(AsyncRateLimitErrorRetryHandler):
    """Wait out ``Retry-After`` only when the wait still fits before the reply is due."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        left = remaining()
        return left is None or _retry_after(response) + _JITTER < left

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("no response to a rate-limited call")
        state.next_attempt_requested = True
        # A little jitter so that many waiting calls do not all come back at once.
        await asyncio.sleep(_retry_after(response) + random.uniform(0, _JITTER))
        state.increment_current_attempt()


_JITTER = 0.2


def _retry_after(response: HttpResponse) -> int:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values and str(values[0]).isdigit():
            return int(values[0])
    return 1


class _ServerErrorIfRepeatable(AsyncServerErrorRetryHandler):
    """A 5xx may come after Slack posted the message ("fatal_error"): never post twice."""

    async def _can_retry_async(self, *, request: HttpRequest, **kwargs: Any) -> bool:
        if _method(request) in NOT_REPEATABLE:
            return False
        return await super()._can_retry_async(request=request, **kwargs)


class _ConnectionErrorIfUnsent(AsyncConnectionErrorRetryHandler):
    """A dropped connection may come after Slack took the request; only a refused connect is
    surely unsent, so only that is retried for a method that posts."""

    async def _can_retry_async(
        self, *, request: HttpRequest, error: Exception | None = None, **kwargs: Any
    ) -> bool:
        if _method(request) in NOT_REPEATABLE and not isinstance(error, ClientConnectorError):
            return False
        return await super()._can_retry_async(request=request, error=error, **kwargs)


def retry_handlers() -> list[AsyncRetryHandler]:
    """429 (waits for Retry-After), 5xx and dropped connections are retried, a few times,
    unless the retry could post a message twice or miss the reply's deadline."""
    return [
        _RateLimitWithinReply(max_retry_count=2),
        _ServerErrorIfRepeatable(
            max_retry_count=2, interval_calculator=BackoffRetryIntervalCalculator(0.2)
        ),
        _ConnectionErrorIfUnsent(max_retry_count=2),
    ]


CLIENT_TIMEOUT = 10


def build_client(
    deps: Deps, token: str | None = None, *, team_id: str | None = None
) -> AsyncWebClient:
    if token is None and deps.settings.slack_bot_token is not None:
        token = deps.settings.slack_bot_token.get_secret_value()
    return AsyncWebClient(
        token=token or None,
        base_url=deps.settings.slack_api_url,
        retry_handlers=retry_handlers(),
        timeout=CLIENT_TIMEOUT,
        team_id=team_id,
    )


class SharedSession:
    """The one HTTP session (connection pool) a process's listeners call Slack through.

    Without one, slack_sdk opens and closes an aiohttp session per Web API call. Made on first
    use, inside the event loop that serves requests; ``close`` at shutdown, after the
    follow-ups under way have finished.
    """

    def __init__(self) -> None:
        self._session: ClientSession | None = None

    def get(self) -> ClientSession:
        if self._session is None or self._session.closed:
            # slack_sdk gives its own sessions this timeout; a session handed to it keeps its own.
            self._session = ClientSession(timeout=ClientTimeout(total=CLIENT_TIMEOUT))
        return self._session

    @property
    def opened(self) -> ClientSession | None:
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class ReplyBudgetClient(AsyncWebClient):
    """The client a listener is handed: a call made before the reply gives up when the reply
    is due (``SlackSlow``) instead of keeping the user past Slack's three seconds.

    It also carries the app's ``ChannelMembership``, and drops what it knew of a channel when
    Slack answers that the bot is not in it.
    """

    membership: ChannelMembership | None = None

    @classmethod
    def like(
        cls,
        client: AsyncWebClient,
        *,
        session: ClientSession | None = None,
        membership: ChannelMembership | None = None,
    ) -> ReplyBudgetClient:
        made = cls(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            session=session or client.session,
            trust_env_in_session=client.trust_env_in_session,
            headers=dict(client.headers),
            team_id=client.default_params.get("team_id"),
            logger=client.logger,
            retry_handlers=list(client.retry_handlers),
        )
        made.membership = membership or getattr(client, "membership", None)
        return made

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            return await self._within_budget(api_method, **kwargs)
        except SlackApiError as exc:
            self._forget_membership(exc, kwargs)
            raise

    def _forget_membership(self, exc: SlackApiError, kwargs: dict[str, Any]) -> None:
        if self.membership is None or exc.response.get("error") not in NOT_A_MEMBER:
            return
        team = self.default_params.get("team_id")
        params = kwargs.get("params") or kwargs.get("json") or kwargs.get("data") or {}
        channel = params.get("channel") if isinstance(params, dict) else None
        if team and isinstance(channel, str):
            self.membership.forget(str(team), channel)

    async def _within_budget(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        left = remaining()
        if left is None:
            return await super().api_call(api_method, **kwargs)
        try:
            async with asyncio.timeout(left):
                return await super().api_call(api_method, **kwargs)
        except SlackSlow:
            raise
        except TimeoutError:
            raise SlackSlow(api_method) from None
        except SlackApiError as exc:
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                raise SlackSlow(api_method) from exc
            raise


class ListenerClients:
    """The ``ReplyBudgetClient`` each listener is handed, one per bot token and workspace.

    Bolt makes a client per request (it sets the token it authorised on it); a listener's is
    made from that one. Every one of them differs from the others only in its token and its
    workspace, and none is changed after it is made, so requests of one workspace share one
    instead of each building its own (user agent, proxy settings, retry handlers). At most
    ``most`` are kept, the least used dropped first; a new HTTP session (after
    ``SharedSession`` closed) starts afresh.
    """

    def __init__(self, session: SharedSession, membership: ChannelMembership, *, most: int = 1000):
        self._session, self._membership, self._most = session, membership, most
        self._made: OrderedDict[tuple[str | None, str | None], ReplyBudgetClient] = OrderedDict()
        self._made_with: ClientSession | None = None

    def like(self, client: AsyncWebClient) -> ReplyBudgetClient:
        session = self._session.get()
        if session is not self._made_with:
            self._made.clear()
            self._made_with = session
        key = (client.token, client.default_params.get("team_id"))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = ReplyBudgetClient.like(
                client, session=session, membership=self._membership
            )
            if len(self._made) > self._most:
                self._made.popitem(last=False)
        else:
            self._made.move_to_end(key)
        return made


async def client_for_workspace(deps: Deps, workspace_id: int) -> AsyncWebClient | None:
    """A client with the workspace's bot token: the OAuth install's, else SLACK_BOT_TOKEN.

    None when the workspace uninstalled the app or revoked its token (with either kind of
    token): nothing may be posted there, so scheduled work skips it.
    """
    async with deps.db.transaction() as session:
        if await is_uninstalled(session, workspace_id=workspace_id):
            return None
        origin = await get_workspace_origin(session, workspace_id=workspace_id)
        token = None
        if deps.settings.oauth_enabled:
            token = await get_bot_token(session, workspace_id=workspace_id, sealer=deps.tokens)
    # Named on every call, as Bolt's clients do, and so in the log lines of what it sends.
    team = origin[0] if origin else None
    if deps.settings.oauth_enabled:
        return build_client(deps, token=token, team_id=team) if token else None
    if deps.settings.slack_bot_token is None:
        return None
    return build_client(deps, team_id=team)
