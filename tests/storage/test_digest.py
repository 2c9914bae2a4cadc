"""The digest's data, aggregated in SQL, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from bot.domain.wastes import WasteCategory
from storage.db import Database
from storage.digest import get_digest_data, list_known_channels
from storage.models import ActionItem, Observation, Step
from storage.workspaces import Scope, get_or_add_workspace

END = datetime(2026, 11, 16, 9, tzinfo=UTC)
START = END - timedelta(days=7)


def log(ws: int, at: datetime, category: str | None, minutes: int | None, **extra: object) -> dict:
    return {
        "workspace_id": ws,
        "channel_id": "C1",
        "category": category,
        "description": extra.pop("description", "x"),
        "minutes": minutes,
        "is_wait": extra.pop("is_wait", False),
        "step_id": extra.pop("step_id", None),
        "work_item": "",
        "link": "",
        "source": "command",
        "anonymous": False,
        "reporter_key": "k",
        "created_at": at,
        **extra,
    }


async def test_digest_data_counts_periods_trend_waits_and_the_worst_log(any_db: Database) -> None:
    async with any_db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=END)
        other = await get_or_add_workspace(s, team_id="T2", enterprise_id=None, now=END)
        step = Step(
            workspace_id=ws, channel_id="C1", state="current", name="Testing",
            name_key="testing", position=1, process_minutes=60, wait_minutes=600,
            created_at=END, updated_at=END,
        )  # fmt: skip
        s.add(step)
        await s.flush()
        rows = [
            log(ws, START + timedelta(hours=1), "defects", 30),
            log(ws, START + timedelta(hours=2), "defects", None),
            log(ws, START + timedelta(hours=3), "waiting", 120, is_wait=True, step_id=step.id),
            log(ws, START + timedelta(hours=4), "waiting", 480, is_wait=True, step_id=step.id),
            log(ws, START + timedelta(hours=5), None, None),
            log(ws, START - timedelta(days=1), "defects", 10),
            log(ws, START - timedelta(days=20), "motion", 5),
            log(ws, END, "defects", 999, description="after the period"),
            log(other, START + timedelta(hours=1), "defects", 5000),
        ]
        await s.execute(insert(Observation), rows)
        s.add(
            ActionItem(
                workspace_id=ws, channel_id="C1", text="late", owner_id="U1",
                due_date=date(2026, 11, 10), status="open", created_by="U1", created_at=END,
            )
        )  # fmt: skip
    async with any_db.transaction() as s:
        data = await get_digest_data(
            s, scope=Scope(ws, "C1"), start=START, end=END, today=END.date()
        )
        known = await list_known_channels(s)
    totals = {c.category: (c.count, c.minutes, c.previous_count) for c in data.categories}
    assert totals == {
        WasteCategory.DEFECTS: (2, 30, 1),
        WasteCategory.WAITING: (2, 600, 0),
    }
    assert data.uncategorised == 1
    assert data.annoying is not None and data.annoying.minutes == 480
    assert data.annoying.step_name == "Testing"
    assert data.waits[step.id].count == 2 and data.waits[step.id].median == 300
    assert [p.count for p in data.trend] == [0, 0, 0, 0, 1, 0, 1, 5]
    assert data.trend[-1].minutes == 630
    assert data.overdue_count == 1 and data.overdue[0].text == "late"
    assert Scope(ws, "C1") in known and Scope(other, "C1") in known
