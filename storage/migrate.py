"""Apply the Alembic migrations; ``kaizen-bot run`` and ``demo`` call this at start.

Several processes may start at once on one PostgreSQL database: each takes the same advisory
lock first, so one migrates while the others wait and then find nothing left to do (without
it, two processes both create the schema and one fails on a unique violation). SQLite needs no
lock: its first writer holds the file until it commits.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"

MIGRATION_LOCK = 0x6B61697A656E  # "kaizen": one key for every kaizen-bot process on the server


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, url: str, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Held until this transaction ends, so it is released with the commit (or on a crash).
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, db.url, revision)
