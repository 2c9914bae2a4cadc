"""The ``kaizen-bot`` command: run, demo, migrate, export, digest, jobs."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import ConfigError, Settings, load_settings

logger = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kaizen-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)")
    demo = sub.add_parser("demo", help="offline demo against a local stand-in for Slack")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="folder for the images and files (default: ./demo-output)",
    )
    sub.add_parser("migrate", help="apply the database migrations and exit")
    export = sub.add_parser("export", help="write a CSV of a workspace's or a channel's data")
    export.add_argument("--team", required=True, help="the Slack team id (T…)")
    export.add_argument("--enterprise", default=None, help="the Enterprise Grid id (E…), if any")
    export.add_argument("--channel", default=None, help="only this channel (C…)")
    export.add_argument("--out", type=Path, default=None, help="the CSV file (default: stdout)")
    from jobs import cli as jobs_cli

    jobs_cli.add_commands(sub)
    args = parser.parse_args(argv)

    try:
        if args.command == "demo":
            from bot.demo import run_demo

            return asyncio.run(run_demo(args.out))
        settings = load_settings()
        from bot.logs import configure_logging

        configure_logging(settings.log_level_number)
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command in jobs_cli.COMMANDS:
            return asyncio.run(jobs_cli.run_command(args, settings))
        if args.command == "export":
            return asyncio.run(
                _export(settings, args.team, args.enterprise, args.channel, args.out)
            )
        settings.require_for_run()
        return asyncio.run(_run(settings))
    except ConfigError as exc:
        print(f"kaizen-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _migrate(settings: Settings) -> int:
    from storage.db import Database
    from storage.migrate import upgrade

    db = Database(settings.database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    logger.info("migrations.applied")
    return 0


async def _export(
    settings: Settings, team: str, enterprise: str | None, channel: str | None, out: Path | None
) -> int:
    from bot.domain.export import build_export_csv
    from storage.db import Database
    from storage.kaizen import get_export
    from storage.workspaces import find_workspace

    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            workspace_id = await find_workspace(session, team_id=team, enterprise_id=enterprise)
            if workspace_id is None:
                print(f"kaizen-bot: no data for team {team} in this database", file=sys.stderr)
                return 2
            export = await get_export(session, workspace_id=workspace_id, channel_id=channel)
    finally:
        await db.dispose()
    content = build_export_csv(export)
    if out is None:
        sys.stdout.write(content)
    else:
        await asyncio.to_thread(out.write_text, content, encoding="utf-8")
        print(f"kaizen-bot: wrote {out}", file=sys.stderr)
    return 0


async def _run(settings: Settings) -> int:
    from bot.app import build_app
    from bot.deps import Deps
    from bot.server import build_web_app, start_site
    from storage.db import Database
    from storage.migrate import upgrade

    deps = Deps(settings=settings, db=Database(settings.database_url))
    try:
        await upgrade(deps.db)
    except Exception as exc:  # an unreachable or broken database: one line, not a trace
        print(f"kaizen-bot: cannot migrate the database at DATABASE_URL ({exc})", file=sys.stderr)
        await deps.close()
        return 2
    app = build_app(deps)
    from jobs.scheduler import start_scheduler

    scheduler = start_scheduler(deps)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    socket_mode = settings.slack_app_token is not None
    web_app = build_web_app(app, deps, slack_routes=not socket_mode)
    runner = await start_site(web_app, host="0.0.0.0", port=settings.port)
    logger.info("server.listening", extra={"port": settings.port, "socket_mode": socket_mode})
    try:
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]
            logger.info("server.socket_mode_connected")
            await stop.wait()
            await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await runner.cleanup()
        await deps.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
