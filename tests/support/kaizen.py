"""Shared steps for the kaizen tests: propose a theme through the modal, seed a map and waits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot import ids
from fake_slack.driver import datepicker, input_values, plain, static_select
from storage.models import Observation, Step, Theme, Vote
from storage.workspaces import get_or_add_workspace
from tests.support.harness import TEAM, Harness

A = ids.ACTION_KAIZEN_INPUT


def theme_values(
    title: str = "On-demand test environments",
    *,
    problem: str = "Testing waits days for a shared environment.",
    category: str | None = None,
    step: int | None = None,
    change: str = "",
    metric: str | None = None,
    target: str = "",
    check_date: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    fields: list[tuple[str, str, dict[str, Any]]] = [
        (ids.BLOCK_THEME_TITLE, A, plain(title or None)),
        (ids.BLOCK_THEME_PROBLEM, A, plain(problem or None)),
        (ids.BLOCK_THEME_CATEGORY, A, static_select(category)),
        (ids.BLOCK_THEME_CHANGE, A, plain(change or None)),
        (ids.BLOCK_THEME_METRIC, A, static_select(metric)),
        (ids.BLOCK_THEME_TARGET, A, plain(target or None)),
        (ids.BLOCK_THEME_CHECK_DATE, A, datepicker(check_date)),
    ]
    if step is not None:
        fields.append((ids.BLOCK_THEME_STEP, A, static_select(str(step))))
    if channel is not None:
        fields.append(
            (
                ids.BLOCK_THEME_CHANNEL,
                A,
                {"type": "conversations_select", "selected_conversation": channel},
            )
        )
    return input_values(*fields)


async def submit_theme(
    harness: Harness, values: dict[str, Any], *, user: str = "U1", channel: str = "C1"
) -> Any:
    await harness.driver.command(ids.CMD_KAIZEN, "add", user=user, channel=channel)
    return await harness.driver.view_submission(ids.VIEW_THEME, values, user=user)


async def propose(
    harness: Harness,
    title: str = "On-demand test environments",
    *,
    user: str = "U1",
    channel: str = "C1",
    **fields: Any,
) -> str:
    """Propose a theme through /kaizen add; the ts of the message the bot posted for it."""
    response = await submit_theme(
        harness, theme_values(title, **fields), user=user, channel=channel
    )
    assert response.status == 200 and not response.text, response.text
    await harness.deps.drain()
    posted = [
        c
        for c in harness.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and title in str(c.args.get("text"))
    ]
    return str(posted[-1].response["ts"])


def shown(harness: Harness, ts: str, channel: str = "C1") -> str:
    message = harness.fake.message(channel, ts)
    assert message is not None
    return str(message["text"])


async def vote_count(harness: Harness) -> int:
    async with harness.deps.db.transaction() as s:
        return int(await s.scalar(select(func.count(Vote.id))) or 0)


async def counts_by_theme(harness: Harness) -> dict[int, int]:
    """The votes of each theme, by its number."""
    async with harness.deps.db.transaction() as s:
        rows = await s.execute(
            select(Theme.number, func.count(Vote.id))
            .outerjoin(Vote, Vote.theme_id == Theme.id)
            .group_by(Theme.number)
        )
        return {int(number): int(count) for number, count in rows.all()}


async def add_stream(
    harness: Harness, steps: list[tuple[str, int, int]], channel: str = "C1"
) -> dict[str, int]:
    """Seed a current map: (name, process minutes, wait minutes); the step ids by name."""
    now = harness.clock()
    ids_by_name = {}
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=now)
        for position, (name, process, wait) in enumerate(steps, start=1):
            row = Step(
                workspace_id=ws,
                channel_id=channel,
                state="current",
                name=name,
                name_key=name.casefold(),
                position=position,
                process_minutes=process,
                wait_minutes=wait,
                pct_complete_accurate=100,
                owner_role="",
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            await s.flush()
            ids_by_name[name] = row.id
    return ids_by_name


async def add_waits(
    harness: Harness, step_id: int, minutes: list[int], *, channel: str = "C1", days_ago: int = 3
) -> None:
    now: datetime = harness.clock()
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=now)
        for m in minutes:
            s.add(
                Observation(
                    workspace_id=ws,
                    channel_id=channel,
                    category="waiting",
                    description="waited",
                    minutes=m,
                    is_wait=True,
                    step_id=step_id,
                    source="command",
                    reporter_id="U9",
                    reporter_key="k",
                    created_at=now - timedelta(days=days_ago),
                )
            )
