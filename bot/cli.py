"""What every ``kaizen-bot`` subcommand shares: its shape, its one-line errors, the database.

A subcommand is a ``Subcommand``: a name, a one-line summary, a description, a function adding
its arguments and an async function running it. ``bot.__main__`` lists them in one table; a
failure an operator can fix is a ``CommandError`` whose message becomes the one line printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings, load_settings
from storage.db import Database, is_sqlite

if TYPE_CHECKING:
    from storage.schema import SchemaState


class CommandError(Exception):
    """A failure the operator can fix; the message is one line saying what is wrong and what
    to do, printed as ``kaizen-bot: <message>`` with exit status 2."""


@dataclass(frozen=True)
class Subcommand:
    name: str
    summary: str
    """One line, shown in ``kaizen-bot --help``."""
    description: str
    """A paragraph, shown in ``kaizen-bot NAME --help``."""
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def version() -> str:
    try:
        return metadata.version("kaizen-bot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def settings_for_command() -> Settings:
    """The settings, with logging configured from them."""
    settings = load_settings()
    from bot.logs import configure_logging

    configure_logging(settings.log_level_number)
    return settings


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite database file, None for PostgreSQL or an in-memory one."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        return None
    return Path(database).expanduser().resolve()


def describe_database(url: str) -> str:
    """The database for a log line or a message: never a password."""
    path = sqlite_file(url)
    if path is not None:
        return f"SQLite {path}"
    if is_sqlite(url):
        return "SQLite in memory"
    parsed = make_url(url)
    user = f"{parsed.username}@" if parsed.username else ""
    port = f":{parsed.port}" if parsed.port else ""
    return (
        f"PostgreSQL {parsed.drivername}://{user}{parsed.host or ''}{port}/{parsed.database or ''}"
    )


def check_writable_sqlite(url: str) -> None:
    """Refuse, naming the path, a SQLite file that cannot be created or written."""
    path = sqlite_file(url)
    if path is None:
        return
    problem = _write_problem(path)
    if problem is not None:
        raise CommandError(
            f"cannot write the SQLite database {path} (DATABASE_URL): {problem}; "
            "fix that or set DATABASE_URL to a writable file"
        )


def _write_problem(path: Path) -> str | None:
    if path.is_dir():
        return "that is a folder"
    if path.exists():
        return None if os.access(path, os.R_OK | os.W_OK) else "the file is not writable"
    folder = path.parent
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def database_for(settings: Settings, *, create: bool) -> Database:
    """The database at DATABASE_URL, after checking what can be checked without touching it.

    With ``create=False`` a missing SQLite file is an error rather than a new empty database
    (commands that only read must not leave a ``kaizen.db`` behind in the wrong folder).
    """
    url = settings.database_url
    path = sqlite_file(url)
    if create:
        check_writable_sqlite(url)
    elif path is not None and not path.is_file():
        raise CommandError(
            f"there is no database at {path} (DATABASE_URL): set DATABASE_URL to the database "
            "kaizen-bot run uses, or run kaizen-bot migrate to create one"
        )
    return Database(url)


@asynccontextmanager
async def database_errors(url: str) -> AsyncIterator[None]:
    """Turn a failure to reach or use the database into one line naming it."""
    try:
        yield
    except (OSError, SQLAlchemyError) as exc:
        raise CommandError(
            f"cannot use the database {describe_database(url)} (DATABASE_URL): {_reason(exc)}"
        ) from None


@asynccontextmanager
async def open_database(settings: Settings, *, create: bool) -> AsyncIterator[Database]:
    """``database_for`` and ``database_errors`` for a command's whole run; disposed at the end."""
    db = database_for(settings, create=create)
    try:
        async with database_errors(db.url):
            yield db
    finally:
        await db.dispose()


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]


async def require_known_schema(db: Database) -> SchemaState:
    """Refuse a database migrated by a newer version: this one cannot read or migrate it."""
    from storage.schema import get_schema_state

    state = await get_schema_state(db)
    if not state.known:
        raise CommandError(
            f"the database {describe_database(db.url)} is at revision "
            f"{', '.join(state.current)}, newer than this kaizen-bot {version()}: run the "
            "version that migrated it, or roll back as README's Upgrades section says"
        )
    return state


async def require_current_schema(db: Database) -> None:
    """Refuse to read or delete data in a database this version has not migrated."""
    state = await require_known_schema(db)
    where = describe_database(db.url)
    if not state.current:
        raise CommandError(
            f"the database {where} has no kaizen-bot tables (never migrated): set DATABASE_URL "
            "to the database kaizen-bot run uses, or run kaizen-bot migrate"
        )
    if not state.up_to_date:
        raise CommandError(
            f"the database {where} is at revision {', '.join(state.current)}, this version "
            f"needs {', '.join(state.heads)}: run kaizen-bot migrate"
        )
