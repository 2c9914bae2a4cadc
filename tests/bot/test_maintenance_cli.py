"""``kaizen-bot backup`` and ``kaizen-bot purge`` run as an operator runs them."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event

from storage.db import Database
from storage.workspaces import get_or_add_workspace
from tests.storage.test_purge import NOW, Seeded, assert_gone, assert_kept, seed
from tests.support.cli import kaizen_bot, only_line, operator_env
from tests.support.databases import copy_sqlite


def seeded(url: str, teams: tuple[str, ...], channels: tuple[str, ...]) -> Seeded:
    async def run() -> Seeded:
        db = Database(url)
        try:
            return await seed(db, teams, channels)
        finally:
            await db.dispose()

    return asyncio.run(run())


def check(url: str, gone: list[dict[str, list[int]]], kept: list[dict[str, list[int]]]) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            for rows in gone:
                await assert_gone(db, rows)
            for rows in kept:
                await assert_kept(db, rows)
        finally:
            await db.dispose()

    asyncio.run(run())


def teams_in(path: Path) -> list[str]:
    with sqlite3.connect(path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [team for (team,) in copy.execute("SELECT team_id FROM workspaces ORDER BY id")]


async def test_backup_taken_while_the_app_writes_has_every_committed_row(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = copy_sqlite(sqlite_template, tmp_path)
    db = Database(url)

    @event.listens_for(db.engine.sync_engine, "connect")
    def keep_writes_in_the_wal(dbapi_connection: Any, _record: Any) -> None:
        # Committed rows stay in kaizen.db-wal, as the newest ones do in a running app: a copy
        # of the database file alone would miss them.
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    committed: list[str] = []
    stop = asyncio.Event()
    warmed_up = asyncio.Event()

    async def write() -> None:
        while not stop.is_set():
            team = f"T{len(committed):05d}"
            async with db.transaction() as s:
                await get_or_add_workspace(s, team_id=team, enterprise_id=None, now=NOW)
            committed.append(team)
            if len(committed) >= 20:
                warmed_up.set()
            await asyncio.sleep(0)

    writer = asyncio.create_task(write())
    try:
        await asyncio.wait_for(warmed_up.wait(), 30)
        before = list(committed)
        backup = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "backup",
            str(tmp_path / "copy.db"),
            cwd=tmp_path,
            env=operator_env(DATABASE_URL=url),
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(backup.communicate(), 60)
    finally:
        stop.set()
        await writer
        await db.dispose()
    assert backup.returncode == 0, err.decode()
    assert f"backed up {url.removeprefix('sqlite+aiosqlite:///')} to {tmp_path}/copy.db" in (
        err.decode()
    )
    assert len(committed) > len(before), "nothing was written while the copy was taken"
    copied = await asyncio.to_thread(teams_in, tmp_path / "copy.db")
    # One consistent moment: every row committed before the backup, then a gap-free prefix.
    assert copied[: len(before)] == before
    assert copied == committed[: len(copied)]
    left = await asyncio.to_thread(lambda: [p.name for p in tmp_path.iterdir() if "copy" in p.name])
    assert left == ["copy.db"]


def test_backup_of_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    env = operator_env(DATABASE_URL="postgresql+asyncpg://kaizen:pw@db.internal/kaizen")
    line = only_line(kaizen_bot("backup", str(tmp_path / "x.db"), cwd=tmp_path, env=env))
    assert "PostgreSQL postgresql+asyncpg://kaizen@db.internal/kaizen: back it up with pg_dump" in (
        line
    )
    assert "pw" not in line.replace("pg_dump", "")
    assert list(tmp_path.iterdir()) == []


def test_backup_refuses_to_overwrite_or_to_write_into_a_missing_folder(
    sqlite_template: Path, tmp_path: Path
) -> None:
    env = operator_env(DATABASE_URL=copy_sqlite(sqlite_template, tmp_path))
    (tmp_path / "old.db").write_text("keep me")
    exists = only_line(kaizen_bot("backup", "old.db", cwd=tmp_path, env=env))
    assert f"PATH {tmp_path}/old.db already exists" in exists
    assert (tmp_path / "old.db").read_text() == "keep me"
    missing = only_line(kaizen_bot("backup", "/nodir/x.db", cwd=tmp_path, env=env))
    assert "the folder /nodir does not exist" in missing


def test_purge_of_a_channel_asks_first_and_leaves_everything_else(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = copy_sqlite(sqlite_template, tmp_path)
    rows = seeded(url, ("T1", "T2"), ("C1", "C2")).rows
    env = operator_env(DATABASE_URL=url)
    args = ("purge", "--team", "T1", "--channel", "C1")

    declined = kaizen_bot(*args, cwd=tmp_path, env=env, stdin="no\n")
    assert declined.returncode == 1
    assert "channel C1 of workspace T1 has 1 " in declined.stderr
    assert "nothing deleted" in declined.stderr
    check(url, gone=[], kept=[rows["T1", "C1"]])

    confirmed = kaizen_bot(*args, cwd=tmp_path, env=env, stdin="yes\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "Traceback" not in confirmed.stderr
    assert "kaizen-bot: deleted 1 " in confirmed.stderr

    others = (("T1", "C2"), ("T1", None), ("T2", "C1"), ("T2", "C2"), ("T2", None))
    check(url, gone=[rows["T1", "C1"]], kept=[rows[owner] for owner in others])


def test_purge_of_a_workspace_with_yes_leaves_other_workspaces(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = copy_sqlite(sqlite_template, tmp_path)
    rows = seeded(url, ("T1", "T2"), ("C1",)).rows
    env = operator_env(DATABASE_URL=url)
    result = kaizen_bot("purge", "--team", "T1", "--yes", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "deleted" in result.stderr and "1 workspaces of workspace T1" in result.stderr

    check(
        url,
        gone=[rows["T1", "C1"], rows["T1", None]],
        kept=[rows["T2", "C1"], rows["T2", None]],
    )
    again = kaizen_bot("purge", "--team", "T1", "--yes", cwd=tmp_path, env=env)
    assert "no data for team T1" in only_line(again)
