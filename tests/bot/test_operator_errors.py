"""Each way an operator can get a command wrong ends in one line that says what to do.

Every test runs ``kaizen-bot`` as a separate process, as an operator would, and checks the exit
status, that the message is one line with no traceback, and that nothing was left behind.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path

from tests.support.cli import error_line, free_port, kaizen_bot, only_line, operator_env
from tests.support.databases import copy_sqlite


def test_export_of_a_never_migrated_database_says_so_and_leaves_no_file(tmp_path: Path) -> None:
    line = only_line(kaizen_bot("export", "--team", "T1", cwd=tmp_path))
    assert f"no database at {tmp_path.resolve()}/kaizen.db" in line
    assert "kaizen-bot migrate" in line
    assert list(tmp_path.iterdir()) == []


def test_export_of_a_database_without_tables_says_it_was_never_migrated(tmp_path: Path) -> None:
    (tmp_path / "other.db").touch()
    env = operator_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/other.db")
    line = only_line(kaizen_bot("export", "--team", "T1", cwd=tmp_path, env=env))
    assert "has no kaizen-bot tables (never migrated)" in line


def test_export_into_a_missing_folder_or_a_folder_says_so(
    sqlite_template: Path, tmp_path: Path
) -> None:
    env = operator_env(DATABASE_URL=copy_sqlite(sqlite_template, tmp_path))
    missing = only_line(
        kaizen_bot("export", "--team", "T1", "--out", "/nodir/x.csv", cwd=tmp_path, env=env)
    )
    assert "--out /nodir/x.csv: the folder /nodir does not exist" in missing
    folder = only_line(
        kaizen_bot("export", "--team", "T1", "--out", str(tmp_path), cwd=tmp_path, env=env)
    )
    assert f"--out {tmp_path} is a folder" in folder


def test_export_of_a_channel_without_data_or_by_name_says_so(
    sqlite_template: Path, tmp_path: Path
) -> None:
    from tests.bot.test_export_cli import seed

    url = copy_sqlite(sqlite_template, tmp_path)
    asyncio.run(seed(url))
    env = operator_env(DATABASE_URL=url)
    unknown = kaizen_bot("export", "--team", "TPET", "--channel", "CNOPE", cwd=tmp_path, env=env)
    assert "no data for channel CNOPE of team TPET" in only_line(unknown)
    assert unknown.stdout == ""
    by_name = kaizen_bot("export", "--team", "TPET", "--channel", "#petclinic-team", cwd=tmp_path)
    assert "'#petclinic-team' is not a channel id" in only_line(by_name)
    assert list(tmp_path.glob("kaizen.db")) == []


def test_migrate_or_run_with_postgresql_unreachable_names_the_server_without_password(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = operator_env(
        DATABASE_URL=f"postgresql+asyncpg://kaizen:s3cret@127.0.0.1:{port}/kaizen",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
    )
    server = f"PostgreSQL postgresql+asyncpg://kaizen@127.0.0.1:{port}/kaizen"
    for command in ("migrate", "run"):
        result = kaizen_bot(command, cwd=tmp_path, env=env)
        assert f"cannot use the database {server} (DATABASE_URL)" in error_line(result)
        assert "s3cret" not in result.stderr


def test_an_unwritable_sqlite_path_is_named(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    for path, reason in (
        (tmp_path / "nodir" / "kaizen.db", f"the folder {tmp_path}/nodir does not exist"),
        (tmp_path / "a-file" / "kaizen.db", f"{tmp_path}/a-file is not a folder"),
        (tmp_path, "that is a folder"),
    ):
        env = operator_env(DATABASE_URL=f"sqlite+aiosqlite:///{path}")
        for command in ("migrate", "run"):
            extra = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
            result = kaizen_bot(command, cwd=tmp_path, env={**env, **extra})
            line = error_line(result)
            assert f"cannot write the SQLite database {path} (DATABASE_URL): {reason}" in line
    assert not (tmp_path / "nodir").exists()


def test_run_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = operator_env(
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="s",
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/kaizen.db",
            PORT=str(port),
        )
        line = error_line(kaizen_bot("run", cwd=tmp_path, env=env))
    assert f"port {port} is already in use (PORT)" in line


def test_help_describes_every_command_without_markup(tmp_path: Path) -> None:
    from bot.__main__ import COMMANDS

    overview = kaizen_bot("--help", cwd=tmp_path)
    assert overview.returncode == 0
    assert "`" not in overview.stdout
    for command in COMMANDS:
        assert command.name in overview.stdout
        page = kaizen_bot(command.name, "--help", cwd=tmp_path)
        assert page.returncode == 0
        assert "`" not in page.stdout
        assert command.description.split()[0] in page.stdout, command.name


def test_version_is_printed(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = kaizen_bot("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"kaizen-bot {version('kaizen-bot')}"


def test_pyproject_license_is_an_spdx_string() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"


def _revision(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [rev for (rev,) in conn.execute("SELECT version_num FROM alembic_version")]


def test_migrate_down_to_an_earlier_revision_and_back_up(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    (head,) = script.get_heads()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    env = operator_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/kaizen.db")
    assert kaizen_bot("migrate", cwd=tmp_path, env=env).returncode == 0
    down = kaizen_bot("migrate", "--down-to", previous, cwd=tmp_path, env=env)
    assert down.returncode == 0, down.stderr
    assert _revision(tmp_path / "kaizen.db") == [previous]
    behind = kaizen_bot("export", "--team", "T1", cwd=tmp_path, env=env)
    assert f"is at revision {previous}, this version needs {head}: run kaizen-bot migrate" in (
        only_line(behind)
    )
    assert kaizen_bot("migrate", cwd=tmp_path, env=env).returncode == 0
    assert _revision(tmp_path / "kaizen.db") == [head]
    nowhere = kaizen_bot("migrate", "--down-to", "0000nope", cwd=tmp_path, env=env)
    assert "cannot migrate down to 0000nope" in error_line(nowhere)


def test_a_database_migrated_by_a_newer_version_is_refused_in_one_line(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = copy_sqlite(sqlite_template, tmp_path)
    path = Path(url.removeprefix("sqlite+aiosqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff0000newer'")
    env = operator_env(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    for args in (("migrate",), ("run",), ("run", "--no-migrate"), ("export", "--team", "T1")):
        line = error_line(kaizen_bot(*args, cwd=tmp_path, env=env))
        assert "is at revision ffff0000newer, newer than this kaizen-bot" in line, args
    assert _revision(path) == ["ffff0000newer"]


def test_run_without_migrating_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    env = operator_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/kaizen.db",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
    )
    line = error_line(kaizen_bot("run", "--no-migrate", cwd=tmp_path, env=env))
    assert f"no database at {tmp_path}/kaizen.db" in line
    assert not (tmp_path / "kaizen.db").exists()
