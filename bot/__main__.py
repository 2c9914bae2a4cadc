"""The kaizen-bot command: serve Slack, and look after the database it keeps.

Each subcommand is a ``Subcommand`` in ``COMMANDS``; adding one is a function and a table row.
A failure the operator can fix ends in one line on standard error and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import logging
import platform
import signal
import sys
from collections.abc import Awaitable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.cli import (
    CommandError,
    Subcommand,
    database_errors,
    database_for,
    describe_database,
    settings_for_command,
    version,
)
from bot.maintenance import BACKUP, EXPORT, MIGRATE, PURGE
from bot.settings import ConfigError, Settings
from jobs.cli import DIGEST, JOBS

if TYPE_CHECKING:
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_slack_response import AsyncSlackResponse

    from bot.deps import Deps

logger = logging.getLogger("bot")

T = TypeVar("T")

# Slack's answers to a token that will never work, as opposed to a network failure.
REFUSED_TOKEN = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}

BOT_TOKEN_HINT = (
    "copy the Bot User OAuth Token (xoxb-…) again from the app's OAuth & Permissions page, "
    "or reinstall the app"
)
APP_TOKEN_HINT = (
    "create an app-level token with connections:write under Basic Information → App-Level Tokens"
)
SOCKET_MODE_RETRY_SECONDS = 10


# -- run ----------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    settings = settings_for_command()
    settings.require_for_run()
    return await _run(settings, migrate=not args.no_migrate)


async def _run(settings: Settings, *, migrate: bool = True) -> int:
    """Start, serve until SIGTERM or SIGINT, then stop; each start-up step logs one line."""
    from bot.app import build_app
    from bot.deps import Deps
    from bot.server import build_web_app

    logger.info("start.version", extra={"version": version(), "python": platform.python_version()})
    async with AsyncExitStack() as stack:
        deps = Deps(settings=settings, db=database_for(settings, create=migrate))
        stack.push_async_callback(deps.close)
        await _prepare_database(deps, migrate=migrate)
        await stack.enter_async_context(deps.db.checkpointing())
        app = build_app(deps)
        web_app = build_web_app(app, deps, slack_routes=not settings.socket_mode)
        await _listen(stack, web_app, settings)
        stop = _stop_on_signals()
        if not await _until(_check_slack(deps, app), stop):
            return 0
        # Scheduled jobs start here, once Slack and the database are known to answer, and stop
        # before the database closes.
        from jobs.scheduler import start_scheduler

        scheduler = start_scheduler(deps)
        stack.callback(scheduler.shutdown, wait=False)
        # What start-up made (modules, the app, its listeners) lives as long as the process:
        # moved out of the collector's reach, a full collection no longer walks it, which
        # under load took tens of milliseconds of every request's time.
        gc.freeze()
        logger.info(
            "start.scheduler",
            extra={"scheduler": "on", "jobs": ",".join(job.id for job in scheduler.get_jobs())},
        )
        if settings.slack_app_token is not None:
            await _serve_socket_mode(app, settings.slack_app_token.get_secret_value(), stop)
        else:
            logger.info("start.ready")
            await stop.wait()
        logger.info("stop.requested")
    logger.info("stop.done")
    return 0


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not migrate at start; refuse to start unless kaizen-bot migrate already ran",
    )


RUN = Subcommand(
    name="run",
    summary="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)",
    description=(
        "Migrate the database, check the bot token with Slack, then serve: HTTP requests at "
        "POST /slack/events on PORT, or Socket Mode when SLACK_APP_TOKEN is set. GET /healthz "
        "answers on PORT in both modes. Stops cleanly on SIGTERM or Ctrl-C."
    ),
    run=run,
    arguments=_run_arguments,
)


async def _prepare_database(deps: Deps, *, migrate: bool) -> None:
    from bot.cli import require_current_schema, require_known_schema
    from storage.migrate import upgrade
    from storage.schema import get_schema_state

    db = deps.db
    async with database_errors(db.url):
        if migrate:
            await require_known_schema(db)
            await upgrade(db)
        else:
            await require_current_schema(db)
        state = await get_schema_state(db)
    logger.info(
        "start.database",
        extra={"database": describe_database(db.url), "revision": ",".join(state.current)},
    )


async def _listen(stack: AsyncExitStack, web_app: web.Application, settings: Settings) -> None:
    from aiohttp import web

    port = settings.port
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    try:
        await web.TCPSite(runner, "0.0.0.0", port).start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {port} is already in use (PORT): stop what is listening there "
                "or set PORT to a free port"
            ) from None
        raise CommandError(f"cannot listen on port {port} (PORT): {exc.strerror or exc}") from None
    if settings.socket_mode:
        logger.info("start.mode", extra={"mode": "socket", "healthz_port": port})
    else:
        logger.info("start.mode", extra={"mode": "http", "port": port})


async def _check_slack(deps: Deps, app: AsyncApp) -> None:
    """Name the workspace(s) served; a bot token Slack refuses stops the start."""
    from slack_sdk.web.async_client import AsyncWebClient

    settings = deps.settings
    if settings.oauth_enabled:
        from storage.inventory import count_installations

        async with database_errors(deps.db.url), deps.db.transaction() as session:
            installed = await count_installations(session)
        logger.info(
            "start.workspaces",
            extra={"oauth": "on", "installed": installed, "install_path": "/slack/install"},
        )
        return
    assert settings.slack_bot_token is not None  # require_for_run checked it
    # No retries: a refused token is final, and an outage must not hold up the start.
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[],
    )
    auth = await _ask_slack(client.auth_test(), "SLACK_BOT_TOKEN", BOT_TOKEN_HINT)
    if auth is not None:
        logger.info(
            "start.workspace",
            extra={
                "team": auth.get("team_id"),
                "team_name": auth.get("team"),
                "bot": auth.get("user"),
            },
        )


async def _ask_slack(
    call: Awaitable[AsyncSlackResponse], token_name: str, hint: str
) -> AsyncSlackResponse | None:
    """Slack's answer, or None (and a warning) when Slack cannot be reached or fails.

    A token Slack refuses will never work: that stops the start, in one line.
    """
    from aiohttp import ClientError
    from slack_sdk.errors import SlackApiError

    try:
        return await call
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error in REFUSED_TOKEN:
            raise CommandError(f"Slack refused {token_name} ({error}): {hint}") from None
        reason = error
    except (OSError, TimeoutError, ClientError) as exc:
        reason = str(exc) or type(exc).__name__
    logger.warning("start.slack_unreachable", extra={"error": reason, "token": token_name})
    return None


async def _serve_socket_mode(app: AsyncApp, app_token: str, stop: asyncio.Event) -> None:
    """Connect out to Slack; a stop while Slack cannot be reached ends the attempt at once."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    if not await _until(_wait_for_socket_mode(app, app_token), stop):
        return
    handler = AsyncSocketModeHandler(app, app_token)
    try:
        if await _until(handler.connect_async(), stop):  # type: ignore[no-untyped-call]
            logger.info("start.ready", extra={"socket_mode": "connected"})
            await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def _wait_for_socket_mode(app: AsyncApp, app_token: str) -> None:
    """Until Slack hands out a Socket Mode URL; a refused app token stops the start.

    The SDK's own connect loop retries too, but logs a traceback each time; this says it in
    one line while Slack cannot be reached.
    """
    while True:
        opened = app.client.apps_connections_open(app_token=app_token)
        if await _ask_slack(opened, "SLACK_APP_TOKEN", APP_TOKEN_HINT) is not None:
            return
        await asyncio.sleep(SOCKET_MODE_RETRY_SECONDS)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _until(work: Awaitable[T], stop: asyncio.Event) -> bool:
    """Await ``work`` unless ``stop`` is set first (then cancel it); True if it finished."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()
    return True


# -- demo ---------------------------------------------------------------------------------------


async def demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return await run_demo(args.out)


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="folder for the images and files (default: ./demo-output)",
    )


DEMO = Subcommand(
    name="demo",
    summary="offline demo against a local stand-in for Slack",
    description=(
        "Play the Pet Clinic team's story through the real app against a local stand-in for "
        "Slack: no Slack account, token or network needed. Prints what the bot posted and "
        "writes its images and files to --out."
    ),
    run=demo,
    arguments=_demo_arguments,
)


# -- the command --------------------------------------------------------------------------------

COMMANDS: tuple[Subcommand, ...] = (RUN, MIGRATE, BACKUP, EXPORT, PURGE, DEMO, DIGEST, JOBS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kaizen-bot",
        description="kaizen-bot: value stream mapping, waste logging and kaizen in Slack.",
        epilog="Settings come from the environment or a .env file: see .env.example.",
    )
    parser.add_argument("--version", action="version", version=f"kaizen-bot {version()}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        child = sub.add_parser(command.name, help=command.summary, description=command.description)
        command.arguments(child)
        child.set_defaults(subcommand=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Subcommand = args.subcommand
    try:
        return asyncio.run(command.run(args))
    except (ConfigError, CommandError) as exc:
        print(f"kaizen-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
