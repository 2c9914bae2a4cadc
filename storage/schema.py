"""Which migration a database is at, compared with the migrations this version ships; and
going back to an earlier one, for rolling back an upgrade."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection

from storage.db import Database
from storage.migrate import alembic_config


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: tuple[str, ...]
    """The revisions the database is at; empty when it was never migrated."""
    heads: tuple[str, ...]
    """The newest revisions this version knows."""
    known: bool
    """False when the database is at a revision this version does not ship (a newer one)."""

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)


def _read(connection: Connection, url: str) -> SchemaState:
    script = ScriptDirectory.from_config(alembic_config(url))
    current = tuple(MigrationContext.configure(connection).get_current_heads())
    return SchemaState(
        current=current,
        heads=tuple(script.get_heads()),
        known=all(_ships(script, rev) for rev in current),
    )


def _ships(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


async def get_schema_state(db: Database) -> SchemaState:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_read, db.url)


def _downgrade(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def downgrade(db: Database, revision: str) -> None:
    """Undo the migrations after ``revision`` (to run the version that shipped it again)."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_downgrade, db.url, revision)
