"""The composition root: ``build_app`` wires settings, storage and handlers into a Bolt app."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.listener.async_listener import AsyncCustomListener
from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
from slack_bolt.listener_matcher.async_listener_matcher import AsyncListenerMatcher
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.reply_budget import SlackSlow, start_reply_clock
from bot.usecases.clients import (
    ListenerClients,
    ReplyBudgetClient,
    SharedSession,
    build_client,
)
from bot.usecases.notify import ChannelMembership
from bot.views.common import build_apology, build_not_saved_modal
from storage.installations import DatabaseInstallationStore, DatabaseStateStore

logger = logging.getLogger(__name__)


NOT_INSTALLED = (
    ":wave: kaizen-bot is not installed in this workspace (or was removed). "
    "Ask a workspace admin to install it again; nothing was stored."
)

SLACK_SLOW = (
    ":hourglass: Slack is slow right now, so this did not go through. Try again in a moment."
)

_REVOKED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
"""auth.test errors that mean the app is really not installed (anything else is transient)."""


class SingleWorkspaceAuthorize(AsyncAuthorize):
    """Bolt's one ``auth.test`` for a single bot token, cached, telling a revoked token (the
    app is not installed) from Slack failing for a moment (try again; nothing is cached).

    Requests that arrive together before the first answer wait for one ``auth.test`` instead
    of each asking Slack. Bolt calls an ``AsyncAuthorize`` as it is; a plain function it would
    call through a wrapper that builds, at every request, each argument it could be given.
    """

    def __init__(self, token: str) -> None:
        self._token = token
        self._found: AuthorizeResult | None = None
        self._asking = asyncio.Lock()

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        if self._found is None:
            async with self._asking:
                if self._found is None and not await self._ask(context.client):
                    return None
        assert self._found is not None
        return AuthorizeResult(**{**self._found, "user_id": user_id})

    async def _ask(self, client: AsyncWebClient) -> bool:
        try:
            answer = await ReplyBudgetClient.like(client).auth_test(token=self._token)
        except SlackApiError as exc:
            if exc.response.get("error") in _REVOKED:
                logger.warning("auth.revoked", extra={"error": exc.response.get("error")})
                return False
            raise SlackSlow("auth.test") from exc
        self._found = AuthorizeResult.from_auth_test_response(
            bot_token=self._token, auth_test_response=answer
        )
        return True


class _VerifiedAtEdge(AsyncMiddleware):
    """Bolt runs nothing for an HTTP request the edge did not verify.

    The edge (``bot.server``) checks the signature before anything reads the body, then marks
    the request ``signature_verified``; Bolt checking the same signature again would only
    cost a second HMAC per request. Bolt's own check is off, and this takes its place in
    Bolt's chain (before authorisation): a request dispatched past the edge is refused
    unread, with one log line and no body. Socket Mode requests carry no signature; Slack's
    socket authenticated them.
    """

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        if req.mode == "socket_mode" or req.context.get("signature_verified") is True:
            return await next()
        logger.warning("request.unverified", extra={"reason": "not_through_the_edge"})
        return BoltResponse(status=401, body='{"error": "invalid request"}')


def build_oauth_flow(deps: Deps) -> AsyncOAuthFlow | None:
    """Multi-workspace installs when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set."""
    settings = deps.settings
    if not settings.oauth_enabled or settings.slack_client_secret is None:
        return None
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(ids.BOT_SCOPES),
        installation_store=DatabaseInstallationStore(deps.db, deps.clock, deps.tokens),
        installation_store_bot_only=True,
        state_store=DatabaseStateStore(deps.db, clock=deps.clock),
    )
    return AsyncOAuthFlow(client=build_client(deps, token=""), settings=oauth_settings)


def build_app(
    deps: Deps,
    *,
    authorize: Callable[..., Awaitable[AuthorizeResult | None]] | None = None,
    **bolt_options: Any,
) -> AsyncApp:
    settings = deps.settings
    signing_secret = settings.slack_signing_secret
    oauth_flow = build_oauth_flow(deps) if authorize is None else None
    bot_token = settings.slack_bot_token
    if authorize is None and oauth_flow is None and bot_token is not None:
        authorize = SingleWorkspaceAuthorize(bot_token.get_secret_value())
    app = AsyncApp(
        # The token comes from ``authorize`` (one bot token) or the installation store (OAuth).
        client=build_client(deps, token=""),
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        authorize=authorize,  # type: ignore[arg-type]  # None is Bolt's "not installed"
        oauth_flow=oauth_flow,
        user_facing_authorize_error_message=NOT_INSTALLED,
        # The reply to Slack waits for the listener: a user is told "stored" only after the
        # commit, and no write happens after Slack already heard 200 (see FACTS on lost writes).
        # Slow follow-ups (drawing a map, updating a theme message) go through Deps.spawn.
        process_before_response=True,
        # The edge verifies every HTTP request's signature, once (``_VerifiedAtEdge``).
        request_verification_enabled=False,
        before_authorize=_VerifiedAtEdge(),
        **bolt_options,
    )

    session = _sessions[app] = SharedSession()
    membership = ChannelMembership()

    app.use(_ProvideDeps(deps, session, membership))
    app.error(_handle_error)

    from handlers import register_all

    register_all(app)
    _match_on_body(app)
    return app


class _BodyMatcher(AsyncListenerMatcher):
    """One of Bolt's own listener matchers (a command name, an event type, a callback or action
    id), called with the request body alone: the one argument it takes.

    Bolt works out every argument a listener could ask for (some thirty, eight of them read
    out of the body) before each call of its own matchers. Dispatch tries the listeners in
    order until one matches, so a reaction, which the tenth listener serves, had that done ten
    times; this one call costs a twentieth of it.
    """

    def __init__(self, func: Callable[..., Awaitable[bool]]) -> None:
        self.func = func

    async def async_matches(self, req: AsyncBoltRequest, resp: BoltResponse) -> bool:
        return await self.func(body=req.body)


def _match_on_body(app: AsyncApp) -> None:
    """Bolt's matchers that take nothing but the body get it directly (``_BodyMatcher``)."""
    for listener in app._async_listeners:  # Bolt has no public accessor for its listeners
        if isinstance(listener, AsyncCustomListener):
            listener.matchers = [
                _BodyMatcher(matcher.func)  # type: ignore[arg-type]  # Bolt's async_fun
                if type(matcher) is AsyncBuiltinListenerMatcher and matcher.arg_names == ["body"]
                else matcher
                for matcher in listener.matchers
            ]


class _ProvideDeps(AsyncMiddleware):
    """Every listener's ``deps``, and a client that keeps to the reply budget.

    A middleware class, not a function: Bolt calls it without working out its arguments first.
    """

    def __init__(self, deps: Deps, session: SharedSession, membership: ChannelMembership) -> None:
        self.deps, self.membership = deps, membership
        self.clients = ListenerClients(session, membership)

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        context = req.context
        context["deps"] = self.deps
        # In Socket Mode no HTTP edge started the clock; here it is the request's first step.
        start_reply_clock(self.deps.reply_budget, restart=req.mode == "socket_mode")
        context["client"] = self.clients.like(context["client"])
        _note_membership(req.body, context, self.membership)
        return await next()


_sessions: weakref.WeakKeyDictionary[AsyncApp, SharedSession] = weakref.WeakKeyDictionary()

_MEMBERSHIP_EVENTS = frozenset(
    {"member_joined_channel", "member_left_channel", "channel_left", "group_left"}
)


def _note_membership(body: dict[str, Any], context: Any, membership: ChannelMembership) -> None:
    """The bot joined or left a channel: what the app knew of it there is stale."""
    event = body.get("event")
    if not isinstance(event, dict) or event.get("type") not in _MEMBERSHIP_EVENTS:
        return
    channel, team = event.get("channel"), context.get("team_id")
    about_bot = event.get("type") in ("channel_left", "group_left") or (
        event.get("user") == context.get("bot_user_id")
    )
    if about_bot and isinstance(channel, str) and team:
        membership.forget(str(team), channel)


def shared_session(app: AsyncApp) -> SharedSession | None:
    """The HTTP session holder of an app built by ``build_app`` (None once it is closed)."""
    return _sessions.get(app)


async def close_app(app: AsyncApp) -> None:
    """Close the HTTP session the app's listeners shared; after its follow-ups are done."""
    session = _sessions.pop(app, None)
    if session is not None:
        await session.close()


async def _handle_error(
    error: Exception, request: AsyncBoltRequest, body: dict[str, Any], client: AsyncWebClient
) -> BoltResponse:
    """Log an unexpected error under a short id and tell the user that id, never a trace.

    Nothing is sent anywhere for a request whose signature was not verified: its
    ``response_url``, channel and user are whatever the sender chose.
    """
    ctx = request.context
    if request.mode != "socket_mode" and not ctx.get("signature_verified"):
        logger.warning("request.unverified", extra={"reason": type(error).__name__})
        return BoltResponse(status=401, body='{"error": "invalid request"}')
    if isinstance(error, ValidationError):
        # Slack's payloads always carry what the models declare; this one did not.
        logger.warning(
            "request.malformed",
            extra={"reason": "invalid_fields", "errors": error.error_count(), "team": ctx.team_id},
        )
        return BoltResponse(status=400, body='{"error": "malformed request"}')
    if isinstance(error, SlackSlow):
        logger.warning(
            "slack.slow",
            extra={"method": error.method, "team": ctx.team_id, "user": ctx.user_id},
        )
        return _answer(body, request, client, SLACK_SLOW)
    error_id = secrets.token_hex(4)
    logger.error(
        "listener.failed",
        exc_info=error,
        extra={
            "error_id": error_id,
            "team": ctx.team_id,
            "channel": ctx.channel_id,
            "user": ctx.user_id,
            "kind": body.get("type") or ("command" if "command" in body else "unknown"),
        },
    )
    return _answer(body, request, client, build_apology(error_id))


def _answer(
    body: dict[str, Any], request: AsyncBoltRequest, client: AsyncWebClient, text: str
) -> BoltResponse:
    """A command hears ``text`` in the reply; anything else after it, so that Slack's waiting
    for the reply is not spent on one more call."""
    ctx = request.context
    if "command" in body:
        payload = {"response_type": "ephemeral", "text": text}
        return BoltResponse(
            status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
        )
    if body.get("type") == "view_submission":
        # An empty 200 would close the form as if it had been saved; push a notice on top.
        notice = build_not_saved_modal(text)
        pushed: dict[str, Any] = {"response_action": "push", "view": notice}
        return BoltResponse(
            status=200, body=json.dumps(pushed), headers={"content-type": "application/json"}
        )
    deps = ctx.get("deps")
    if isinstance(deps, Deps):
        deps.spawn(_tell_user(client, body, ctx.channel_id, ctx.user_id, text), name="error.tell")
    # A 200 keeps Slack from retrying an event the app has already logged as failed.
    return BoltResponse(status=200, body="")


async def _tell_user(
    client: AsyncWebClient, body: dict[str, Any], channel: str | None, user: str | None, text: str
) -> None:
    response_url = body.get("response_url")
    try:
        if response_url:
            from slack_sdk.webhook.async_client import AsyncWebhookClient

            await AsyncWebhookClient(response_url).send(text=text, response_type="ephemeral")
        elif channel and user and body.get("type") != "event_callback":
            await client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user and body.get("type") in ("view_submission", "shortcut", "message_action"):
            await client.chat_postMessage(channel=user, text=text)
    except SlackApiError:
        logger.warning("listener.apology_failed", extra={"user": user, "channel": channel})
