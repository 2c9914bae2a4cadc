"""Seeding for the scheduled-work tests: logs in bulk, settings, themes with hypotheses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.deps import Deps
from storage.models import ActionItem, ChannelSettings, Observation, Theme
from storage.workspaces import get_or_add_workspace
from tests.support.harness import TEAM


async def workspace_id(deps: Deps, team: str = TEAM) -> int:
    async with deps.db.transaction() as s:
        return await get_or_add_workspace(s, team_id=team, enterprise_id=None, now=deps.now())


async def add_logs(
    deps: Deps,
    *,
    channel: str = "C1",
    count: int,
    start: datetime,
    end: datetime,
    category: str | None = "defects",
    minutes: int | None = 30,
    step_id: int | None = None,
    is_wait: bool = False,
    categories: list[str] | None = None,
) -> None:
    """``count`` logs spread evenly over [start, end), in one executemany."""
    ws = await workspace_id(deps)
    span = (end - start) / count
    rows: list[dict[str, Any]] = []
    for i in range(count):
        rows.append(
            {
                "workspace_id": ws,
                "channel_id": channel,
                "category": categories[i % len(categories)] if categories else category,
                "description": f"log {i}",
                "minutes": minutes,
                "is_wait": is_wait,
                "step_id": step_id,
                "work_item": "",
                "link": "",
                "source": "command",
                "anonymous": False,
                "reporter_id": "U9",
                "reporter_key": "k",
                "created_at": start + span * i,
            }
        )
    async with deps.db.transaction() as s:
        await s.execute(insert(Observation), rows)


async def save_schedule(
    deps: Deps, *, channel: str = "C1", weekday: int = 0, at: str = "09:00", tz: str = "UTC"
) -> None:
    ws = await workspace_id(deps)
    async with deps.db.transaction() as s:
        row = await s.get(ChannelSettings, await _settings_id(s, ws, channel))
        if row is None:
            row = ChannelSettings(workspace_id=ws, channel_id=channel)
            s.add(row)
        row.digest_weekday, row.digest_time, row.timezone = weekday, at, tz
        row.digest_enabled = True
        row.vote_emoji, row.waste_emoji = "+1", "wastebasket"
        row.updated_at = deps.now()


async def _settings_id(s: Any, ws: int, channel: str) -> int:
    from sqlalchemy import select

    found = await s.scalar(
        select(ChannelSettings.id).where(
            ChannelSettings.workspace_id == ws, ChannelSettings.channel_id == channel
        )
    )
    return int(found or 0)


async def add_action(
    deps: Deps, *, owner: str, due: date | None, text: str = "Book the test env", done: bool = False
) -> int:
    ws = await workspace_id(deps)
    async with deps.db.transaction() as s:
        row = ActionItem(
            workspace_id=ws,
            channel_id="C1",
            text=text,
            owner_id=owner,
            due_date=due,
            status="done" if done else "open",
            created_by=owner,
            created_at=deps.now() - timedelta(days=10),
        )
        s.add(row)
        await s.flush()
        return int(row.id)


async def add_hypothesis_theme(
    deps: Deps,
    *,
    metric: str,
    baseline: float | None,
    target: float,
    check: date,
    step_id: int | None = None,
    category: str | None = None,
    message_ts: str | None = None,
) -> int:
    ws = await workspace_id(deps)
    now = deps.now()
    async with deps.db.transaction() as s:
        row = Theme(
            workspace_id=ws,
            channel_id="C1",
            number=1,
            title="Faster test environments",
            problem="",
            status="in_progress",
            author_id="U1",
            message_channel="C1" if message_ts else None,
            message_ts=message_ts,
            hyp_metric=metric,
            hyp_change="spin up environments on demand",
            hyp_baseline=baseline,
            hyp_target=target,
            hyp_check_date=check,
            hyp_step_id=step_id,
            hyp_category=category,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        await s.flush()
        return int(row.id)
