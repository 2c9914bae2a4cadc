"""HTTP mode: Slack's requests at ``POST /slack/events``, a health check, OAuth when enabled."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import close_app
from bot.deps import Deps
from bot.inbound import MalformedRequest, check_signature, read_envelope
from bot.reply_budget import start_reply_clock
from bot.usecases.writer import drain_writers

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

MAX_BODY = 1024 * 1024


def build_web_app(app: AsyncApp, deps: Deps, *, slack_routes: bool = True) -> web.Application:
    """The HTTP server; in Socket Mode (``slack_routes=False``) it serves only the health check."""
    web_app = web.Application(client_max_size=MAX_BODY)

    secret = deps.settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret else None

    async def slack_events(request: web.Request) -> web.Response:
        return await dispatch_slack_request(app, request, signing_secret, deps.reply_budget)

    async def healthz(_request: web.Request) -> web.Response:
        if not await deps.db.ping():
            logger.warning("health.database_unreachable")
            body = {"status": "unavailable", "database": "unreachable"}
            return web.json_response(body, status=503)
        # Reachable is not enough: a read-only or full database answers reads and fails
        # every write. No write per probe hit (see Database.write_problem).
        if (problem := await deps.db.write_problem()) is not None:
            logger.warning("health.database_read_only", extra={"reason": problem})
            body = {"status": "unavailable", "database": "cannot write"}
            return web.json_response(body, status=503)
        return web.json_response({"status": "ok", "database": "writable"})

    async def close(_web_app: web.Application) -> None:
        # Logs handed to the writer are stored; follow-ups (confirmations after the reply)
        # still use the app's HTTP session.
        await drain_writers(deps.db)
        await deps.drain()
        await close_app(app)

    web_app.on_cleanup.append(close)
    web_app.router.add_get(HEALTH_PATH, healthz)
    if not slack_routes:
        return web_app
    web_app.router.add_post(EVENTS_PATH, slack_events)

    oauth_flow = app.oauth_flow
    if oauth_flow is not None:

        async def oauth(request: web.Request) -> web.Response:
            bolt_request = await to_bolt_request(request)
            if request.path == oauth_flow.install_path:
                bolt_response = await oauth_flow.handle_installation(bolt_request)
            else:
                bolt_response = await oauth_flow.handle_callback(bolt_request)
            return await to_aiohttp_response(bolt_response)

        web_app.router.add_get(oauth_flow.install_path, oauth)
        web_app.router.add_get(oauth_flow.redirect_uri_path, oauth)
    return web_app


async def dispatch_slack_request(
    app: AsyncApp, request: web.Request, signing_secret: str | None, reply_budget: float
) -> web.Response:
    """Verify, then check the shape, then hand to Bolt: nothing unverified is read or logged."""
    start_reply_clock(reply_budget)
    raw = await request.read()
    refused = check_signature(
        secret=signing_secret, headers=request.headers, body=raw, now=time.time()
    )
    if refused is not None:
        # One line: never the body, the signature or the timestamp an attacker chose.
        logger.warning("request.unverified", extra={"reason": refused, "size": len(raw)})
        return web.json_response({"error": "invalid request"}, status=401)
    try:
        envelope = read_envelope(raw, request.content_type)
    except MalformedRequest as exc:
        logger.warning("request.malformed", extra={"reason": exc.reason, "size": len(raw)})
        return web.json_response({"error": "malformed request"}, status=400)
    bolt_request = parsed_request(envelope.text, envelope.body, request)
    bolt_request.context["signature_verified"] = True
    return await to_aiohttp_response(await app.async_dispatch(bolt_request))


def parsed_request(text: str, body: dict[str, Any], request: web.Request) -> AsyncBoltRequest:
    """The Bolt request of a body the edge has parsed already, not parsed a second time.

    Bolt takes a dict body only in Socket Mode, so the request is made as one and then told it
    came over HTTP, with its raw text (Bolt checks the signature of it again). The edge's
    parse also reads a form body whose *text* merely contains "payload" as the form it is:
    Bolt would take ``/waste fix the payload check`` for an interactivity payload and answer
    "unhandled".
    """
    bolt_request = AsyncBoltRequest(
        body=body,
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
        mode="socket_mode",
    )
    bolt_request.raw_body, bolt_request.mode = text, "http"
    return bolt_request


async def start_site(web_app: web.Application, *, host: str, port: int) -> web.AppRunner:
    """Start serving; the caller owns the runner (``await runner.cleanup()`` to stop)."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return int(server.sockets[0].getsockname()[1])
    raise RuntimeError("the server is not listening")
