"""The operator's subcommands that look after the data: migrate, backup, export, purge."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from pathlib import Path

from bot.cli import (
    CommandError,
    Subcommand,
    describe_database,
    open_database,
    require_current_schema,
    require_known_schema,
    settings_for_command,
    sqlite_file,
)
from storage.db import Database

logger = logging.getLogger(__name__)

# Slack's channel ids: C (public), G (private or older group), D (direct message).
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
TEAM_ID = re.compile(r"^T[A-Z0-9]+$")


# -- migrate ------------------------------------------------------------------------------------


async def migrate(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade
    from storage.schema import get_schema_state

    settings = settings_for_command()
    async with open_database(settings, create=True) as db:
        await require_known_schema(db)
        if args.down_to is None:
            await upgrade(db)
        else:
            await _downgrade(db, args.down_to)
        state = await get_schema_state(db)
    logger.info(
        "migrations.applied",
        extra={
            "database": describe_database(settings.database_url),
            "revision": ",".join(state.current) or "none",
        },
    )
    return 0


async def _downgrade(db: Database, revision: str) -> None:
    from alembic.util.exc import CommandError as AlembicError

    from storage.schema import downgrade

    try:
        await downgrade(db, revision)
    except AlembicError as exc:
        raise CommandError(
            f"cannot migrate down to {revision}: {str(exc).splitlines()[0]}"
        ) from None


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--down-to",
        metavar="REVISION",
        default=None,
        help="undo the migrations after REVISION, to roll back to the version that shipped it "
        "(base undoes them all)",
    )


MIGRATE = Subcommand(
    name="migrate",
    summary="apply the database migrations and exit",
    description=(
        "Bring the database at DATABASE_URL up to this version's schema and exit. kaizen-bot "
        "run does the same at start; run this once before starting several processes. "
        "With --down-to, go back to an earlier revision before running an older version."
    ),
    run=migrate,
    arguments=_migrate_arguments,
)


# -- backup -------------------------------------------------------------------------------------


async def backup(args: argparse.Namespace) -> int:
    from storage.backup import BackupError, backup_sqlite

    settings = settings_for_command()
    source = sqlite_file(settings.database_url)
    if source is None:
        raise CommandError(
            f"the database is {describe_database(settings.database_url)}: back it up with "
            "pg_dump, e.g. pg_dump --format=custom --file=kaizen.dump DATABASE (README: Backups)"
        )
    destination: Path = args.path.expanduser().resolve()
    _check_new_file(destination, "PATH")
    if not source.is_file():
        raise CommandError(f"there is no database at {source} (DATABASE_URL) to back up")
    try:
        size = await asyncio.to_thread(backup_sqlite, source, destination)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    print(f"kaizen-bot: backed up {source} to {destination} ({size} bytes)", file=sys.stderr)
    return 0


def _backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, metavar="PATH", help="the new file for the copy")


BACKUP = Subcommand(
    name="backup",
    summary="copy the SQLite database to PATH, safely while the app runs",
    description=(
        "Write a consistent copy of the SQLite database at DATABASE_URL to PATH, using SQLite's "
        "online backup, so it is safe while kaizen-bot run keeps writing. To restore, stop the "
        "app and put the copy in the database's place. For PostgreSQL use pg_dump."
    ),
    run=backup,
    arguments=_backup_arguments,
)


def _check_new_file(path: Path, name: str) -> None:
    if path.is_dir():
        raise CommandError(f"{name} {path} is a folder: give a file name inside it")
    if path.exists():
        raise CommandError(f"{name} {path} already exists: remove it or choose another name")
    if not path.parent.is_dir():
        raise CommandError(f"{name} {path}: the folder {path.parent} does not exist")


# -- export -------------------------------------------------------------------------------------


async def export(args: argparse.Namespace) -> int:
    from bot.domain.export import build_export_csv
    from storage.kaizen import get_export

    _check_ids(args.team, args.channel)
    out: Path | None = args.out.expanduser().resolve() if args.out else None
    if out is not None:
        _check_output_file(out)
    settings = settings_for_command()
    async with open_database(settings, create=False) as db:
        workspace_id = await _workspace(db, args.team, args.enterprise, args.channel)
        async with db.transaction() as session:
            data = await get_export(session, workspace_id=workspace_id, channel_id=args.channel)
    content = build_export_csv(data)
    if out is None:
        sys.stdout.write(content)
        return 0
    try:
        await asyncio.to_thread(out.write_text, content, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"kaizen-bot: wrote {out}", file=sys.stderr)
    return 0


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    _scope_arguments(parser)
    parser.add_argument("--out", type=Path, default=None, help="the CSV file (default: stdout)")


EXPORT = Subcommand(
    name="export",
    summary="write a CSV of a workspace's or a channel's data",
    description=(
        "Write the same CSV as /kaizen export (wastes, waits, themes, votes, action items) for "
        "a whole workspace or one channel, to a file or to standard output."
    ),
    run=export,
    arguments=_export_arguments,
)


def _check_output_file(path: Path) -> None:
    if path.is_dir():
        raise CommandError(f"--out {path} is a folder: give a file name such as {path}/kaizen.csv")
    if not path.parent.is_dir():
        raise CommandError(f"--out {path}: the folder {path.parent} does not exist")


# -- purge --------------------------------------------------------------------------------------


async def purge(args: argparse.Namespace) -> int:
    from storage.purge import PurgeTarget, count_purgeable
    from storage.purge import purge as purge_rows

    _check_ids(args.team, args.channel)
    settings = settings_for_command()
    what = (
        f"channel {args.channel} of workspace {args.team}"
        if args.channel
        else (f"workspace {args.team}")
    )
    async with open_database(settings, create=False) as db:
        workspace_id = await _workspace(db, args.team, args.enterprise, args.channel)
        target = PurgeTarget(workspace_id=workspace_id, channel_id=args.channel)
        async with db.transaction() as session:
            counts = await count_purgeable(session, target=target)
        print(f"kaizen-bot: {what} has {_summary(counts)}.", file=sys.stderr)
        if not args.yes and not await asyncio.to_thread(_confirm, what):
            print("kaizen-bot: nothing deleted.", file=sys.stderr)
            return 1
        async with db.transaction() as session:
            deleted = await purge_rows(session, target=target)
    logger.info(
        "purge.done",
        extra={"team": args.team, "channel": args.channel, "rows": sum(deleted.values())},
    )
    print(f"kaizen-bot: deleted {_summary(deleted)} of {what}.", file=sys.stderr)
    return 0


def _confirm(what: str) -> bool:
    try:
        answer = input(f"Delete all of it for good? Type 'yes' to delete {what}: ")
    except EOFError:
        return False
    return answer.strip().lower() == "yes"


def _summary(counts: dict[str, int]) -> str:
    if not counts:
        return "no rows"
    return ", ".join(f"{number} {table}" for table, number in counts.items())


def _purge_arguments(parser: argparse.ArgumentParser) -> None:
    _scope_arguments(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


PURGE = Subcommand(
    name="purge",
    summary="delete a workspace's or a channel's data for good",
    description=(
        "Delete everything kaizen-bot stored for a workspace (its token too) or for one of its "
        "channels: wastes, waits, maps, themes, votes, action items, retros, settings. Other "
        "workspaces and channels are untouched. Asks first unless --yes is given. Uninstall the "
        "app from the workspace first, or new activity is stored again."
    ),
    run=purge,
    arguments=_purge_arguments,
)


# -- shared -------------------------------------------------------------------------------------


def _scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--team", required=True, help="the Slack team id (T…)")
    parser.add_argument("--enterprise", default=None, help="the Enterprise Grid id (E…), if any")
    parser.add_argument("--channel", default=None, help="only this channel, by id (C…)")


def _check_ids(team: str, channel: str | None) -> None:
    if not TEAM_ID.match(team):
        raise CommandError(
            f"--team {team!r} is not a Slack team id: give the id (T…), shown in the workspace's "
            "URL on app.slack.com or by kaizen-bot run at start"
        )
    if channel is not None and not CHANNEL_ID.match(channel):
        raise CommandError(
            f"--channel {channel!r} is not a channel id: give the id (C…), found in Slack under "
            "the channel's name → About, at the bottom"
        )


async def _workspace(db: Database, team: str, enterprise: str | None, channel: str | None) -> int:
    from storage.inventory import list_channels_with_data
    from storage.workspaces import find_workspace

    await require_current_schema(db)
    async with db.transaction() as session:
        workspace_id = await find_workspace(session, team_id=team, enterprise_id=enterprise)
        if workspace_id is None:
            raise CommandError(f"no data for team {team} in {describe_database(db.url)}")
        if channel is not None and channel not in await list_channels_with_data(
            session, workspace_id=workspace_id
        ):
            raise CommandError(f"no data for channel {channel} of team {team}")
    return workspace_id
