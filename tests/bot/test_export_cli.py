"""``kaizen-bot export``: the same CSV as /kaizen export, for a workspace or one channel."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.domain.kaizen import NewTheme
from storage import kaizen as store
from storage.db import Database
from storage.workspaces import Scope, get_or_add_workspace
from tests.support import databases

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


async def seed(url: str) -> None:
    db = Database(url)
    async with db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id="TPET", enterprise_id=None, now=NOW)
        for channel, title in (("C1", "Testers in refinement"), ("C2", "Automated change checks")):
            await store.add_theme(
                s, scope=Scope(ws, channel), theme=NewTheme(title, ""), author_id="U1", now=NOW
            )
    await db.dispose()


def test_export_writes_a_channels_csv(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = databases.copy_sqlite(sqlite_template, tmp_path)
    asyncio.run(seed(url))
    monkeypatch.setenv("DATABASE_URL", url)
    out = tmp_path / "export.csv"
    assert main(["export", "--team", "TPET", "--channel", "C2", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["record"], r["id"], r["title"]) for r in rows] == [
        ("theme", "K-2", "Automated change checks")
    ]


def test_export_writes_json_when_asked(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = databases.copy_sqlite(sqlite_template, tmp_path)
    asyncio.run(seed(url))
    monkeypatch.setenv("DATABASE_URL", url)
    out = tmp_path / "export.json"
    args = ["export", "--team", "TPET", "--channel", "C2", "--format", "json", "--out", str(out)]
    assert main(args) == 0
    body = json.loads(out.read_text())
    assert [(t["id"], t["title"]) for t in body["themes"]] == [("K-2", "Automated change checks")]


def test_export_of_an_unknown_team_says_so(
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", databases.copy_sqlite(sqlite_template, tmp_path))
    assert main(["export", "--team", "TNOPE"]) == 2
    assert "no data for team TNOPE" in capsys.readouterr().err
