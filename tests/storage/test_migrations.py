"""The Alembic migrations and the models describe the same schema, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from bot.domain.kaizen import NewTheme
from storage.db import Database
from storage.kaizen import NewVote, add_theme, add_votes
from storage.migrate import upgrade
from storage.models import Base
from storage.schema import downgrade
from storage.workspaces import Scope, get_or_add_workspace

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_models(any_db: Database) -> None:
    async with any_db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], f"models and migrations disagree; add a revision: {diff}"


async def test_migrations_create_every_table(any_db: Database) -> None:
    async with any_db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_sqlite_runs_in_wal_with_foreign_keys(db: Database) -> None:
    async with db.engine.connect() as conn:
        journal = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
        foreign_keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
    assert (journal, foreign_keys) == ("wal", 1)


async def test_the_reporter_secret_migration_gives_existing_workspaces_their_own_key(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    try:
        await upgrade(db, "a42807e58596")
        async with db.engine.begin() as conn:
            for team in ("T1", "T2"):
                await conn.execute(
                    text(
                        "INSERT INTO workspaces (enterprise_id, team_id, name, next_theme_number,"
                        " created_at) VALUES ('', :team, '', 1, '2026-11-01 00:00:00')"
                    ),
                    {"team": team},
                )
        await upgrade(db)
        async with db.engine.connect() as conn:
            secrets = (await conn.execute(text("SELECT reporter_secret FROM workspaces"))).all()
    finally:
        await db.dispose()
    keys = [row[0] for row in secrets]
    assert len(set(keys)) == 2
    assert all(len(key) == 64 for key in keys)


async def test_the_vote_count_migration_counts_the_votes_already_there(any_db: Database) -> None:
    """Down to the revision before themes kept their count, votes stored meanwhile (no trigger
    counts them), then up again: each theme counts every vote it has."""
    async with any_db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        themes = [
            (await add_theme(s, scope=Scope(ws, "C1"), theme=NewTheme(title=t, problem=""),
                             author_id="U1", now=NOW)).id
            for t in ("first", "second")
        ]  # fmt: skip
        await add_votes(s, [NewVote(ws, themes[0], "U1", NOW)])
    await downgrade(any_db, "7d3e1f5a9b20")
    async with any_db.engine.begin() as conn:
        for theme, user in ((themes[0], "U2"), (themes[1], "U1")):
            await conn.execute(
                text(
                    "INSERT INTO votes (workspace_id, theme_id, user_id, created_at)"
                    " VALUES (:ws, :theme, :user, CURRENT_TIMESTAMP)"
                ),
                {"ws": ws, "theme": theme, "user": user},
            )
    await upgrade(any_db)
    async with any_db.engine.connect() as conn:
        counts = (await conn.execute(text("SELECT votes FROM themes ORDER BY number"))).all()
    assert [n for (n,) in counts] == [2, 1]
