"""The digest's data for one channel and period, aggregated in SQL.

Counts and minutes by category (this period and the one before) are one grouped query, the
eight-week trend one query of conditional sums, both over the ``(workspace, channel,
created_at)`` index; only the waits logged against steps come back row by row, for their
medians.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.digest import (
    AnnoyingWaste,
    CategoryTotal,
    DigestData,
    ThemeMove,
    TrendPoint,
    trend_starts,
)
from bot.domain.themes import ThemeStatus
from bot.domain.vsm import measure_waits
from bot.domain.wastes import WasteCategory
from storage import kaizen as kaizen_store
from storage import vsm as vsm_store
from storage.models import (
    ActionItem,
    ChannelSettings,
    Observation,
    Step,
    Subscription,
    Theme,
)
from storage.workspaces import Scope

TOP_THEMES = 5
OVERDUE_SHOWN = 5
_CATEGORIES = {c.value for c in WasteCategory}
_MOVES = (ThemeStatus.IN_PROGRESS.value, ThemeStatus.DONE.value)


def _sum_if(condition: Any, value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _in_channel(scope: Scope) -> tuple[Any, ...]:
    return (
        Observation.workspace_id == scope.workspace_id,
        Observation.channel_id == scope.channel_id,
    )


@dataclass(frozen=True, slots=True)
class WasteTotals:
    categories: list[CategoryTotal]
    uncategorised: int
    trend: list[TrendPoint]
    also: tuple[Any, ...] | None
    """The values of the ``also`` columns, or None when the channel logged nothing then."""


async def get_waste_totals(
    session: AsyncSession,
    *,
    scope: Scope,
    start: datetime,
    end: datetime,
    previous_start: datetime,
    also: Sequence[Any] = (),
) -> WasteTotals:
    """One pass over the channel's logs: per category the logs and minutes in [start, end) and
    in [previous_start, start), the logs still without a category, and the eight-week trend.

    ``also`` are constant columns (scalar subqueries) read in the same round trip."""
    starts = trend_starts(end)
    minutes = func.coalesce(Observation.minutes, 0)
    current = Observation.created_at >= start
    before = Observation.created_at < start
    columns: list[Any] = [
        _sum_if(current),
        _sum_if(current, minutes),
        _sum_if(before & (Observation.created_at >= previous_start)),
        _sum_if(before & (Observation.created_at >= previous_start), minutes),
    ]
    for low, high in itertools.pairwise([*starts, end]):
        inside = (Observation.created_at >= low) & (Observation.created_at < high)
        columns += [_sum_if(inside), _sum_if(inside, minutes)]
    rows = await session.execute(
        select(Observation.category, *also, *columns)
        .where(
            *_in_channel(scope),
            Observation.created_at >= min(previous_start, starts[0]),
            Observation.created_at < end,
        )
        .group_by(Observation.category)
    )
    totals: list[CategoryTotal] = []
    uncategorised = 0
    weekly = [[0, 0] for _ in starts]
    found = rows.all()
    extra = tuple(found[0][1 : 1 + len(also)]) if found else None
    for category, *values in found:
        count, lost, count_before, lost_before, *trend = values[len(also) :]
        for week, i in zip(weekly, range(0, len(trend), 2), strict=True):
            week[0] += int(trend[i])
            week[1] += int(trend[i + 1])
        if category not in _CATEGORIES:
            uncategorised += int(count)
        elif count or count_before:
            totals.append(
                CategoryTotal(
                    WasteCategory(category),
                    int(count),
                    int(lost),
                    int(count_before),
                    int(lost_before),
                )
            )
    trend_points = [
        TrendPoint(start=s.date(), count=c, minutes=m)
        for s, (c, m) in zip(starts, weekly, strict=True)
    ]
    return WasteTotals(totals, uncategorised, trend_points, extra)


async def get_waits_and_annoying(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime, waits: bool
) -> tuple[list[tuple[int, int]], AnnoyingWaste | None]:
    """In one round trip: (step id, minutes) of every wait logged against a step in the window
    (when ``waits``), and the single log with the most time lost."""
    window = (
        *_in_channel(scope),
        Observation.created_at >= start,
        Observation.created_at < end,
    )
    top = (
        select(
            literal("top").label("kind"),
            Observation.step_id,
            Observation.minutes,
            Observation.category,
            Observation.description,
            Observation.link,
            Step.name,
        )
        .outerjoin(Step, Step.id == Observation.step_id)
        .where(*window, Observation.minutes > 0)
        .order_by(Observation.minutes.desc(), Observation.created_at, Observation.id)
        .limit(1)
        .subquery()
    )
    stmt: Any = select(top)
    if waits:
        logged = select(
            literal("wait"),
            Observation.step_id,
            Observation.minutes,
            null(),
            null(),
            null(),
            null(),
        ).where(
            *window,
            Observation.is_wait.is_(True),
            Observation.step_id.is_not(None),
            Observation.minutes > 0,
        )
        stmt = union_all(select(top), logged)
    found: list[tuple[int, int]] = []
    annoying = None
    for kind, step_id, minutes, category, description, link, step in (
        await session.execute(stmt)
    ).all():
        if kind == "wait":
            found.append((int(step_id), int(minutes)))
            continue
        annoying = AnnoyingWaste(
            category=WasteCategory(category) if category in _CATEGORIES else None,
            description=description or "",
            minutes=int(minutes or 0),
            link=link or "",
            step_name=step,
        )
    return found, annoying


def _contents(scope: Scope, today: date) -> list[Any]:
    """How many map steps, themes and overdue open items the channel has, as scalar subqueries:
    the digest of a channel without a map or a backlog asks nothing more about them."""
    steps = select(func.count(Step.id)).where(
        Step.workspace_id == scope.workspace_id,
        Step.channel_id == scope.channel_id,
        Step.state == "current",
    )
    themes = select(func.count(Theme.id)).where(
        Theme.workspace_id == scope.workspace_id, Theme.channel_id == scope.channel_id
    )
    overdue = select(func.count(ActionItem.id)).where(
        ActionItem.workspace_id == scope.workspace_id,
        ActionItem.channel_id == scope.channel_id,
        ActionItem.status == "open",
        ActionItem.due_date < today,
    )
    return [steps.scalar_subquery(), themes.scalar_subquery(), overdue.scalar_subquery()]


async def _kaizen_part(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime
) -> dict[str, Any]:
    moves = await kaizen_store.list_theme_moves(
        session, scope=scope, start=start, end=end, statuses=_MOVES
    )
    moved = (
        await kaizen_store.list_themes_by_ids(
            session, workspace_id=scope.workspace_id, theme_ids=sorted({t for t, _ in moves})
        )
        if moves
        else {}
    )
    return {
        "top_themes": await kaizen_store.list_themes(session, scope=scope, limit=TOP_THEMES),
        "moves": [ThemeMove(moved[t], status) for t, status in moves if t in moved],
        "verdicts": await kaizen_store.list_judged_themes(
            session,
            scope=scope,
            first_day=start.date(),
            last_day=(end - timedelta(microseconds=1)).date(),
        ),
        "open_theme_count": await kaizen_store.count_open_themes(session, scope=scope),
    }


async def get_digest_data(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime, today: date
) -> DigestData:
    """Everything the digest shows for [start, end); the period before is as long."""
    previous_start = start - (end - start)
    contents = _contents(scope, today)
    totals = await get_waste_totals(
        session,
        scope=scope,
        start=start,
        end=end,
        previous_start=previous_start,
        also=contents,
    )
    categories, uncategorised, trend = totals.categories, totals.uncategorised, totals.trend
    counts = totals.also or (await session.execute(select(*contents))).one()
    step_count, theme_count, overdue_count = (int(n or 0) for n in counts)
    steps = await vsm_store.list_steps(session, scope=scope) if step_count else []
    logged = uncategorised or any(c.minutes for c in categories)
    waits, annoying = (
        await get_waits_and_annoying(session, scope=scope, start=start, end=end, waits=bool(steps))
        if logged
        else ([], None)
    )
    kaizen = await _kaizen_part(session, scope=scope, start=start, end=end) if theme_count else {}
    overdue, overdue_count = (
        await kaizen_store.list_overdue_actions(
            session, scope=scope, today=today, limit=OVERDUE_SHOWN
        )
        if overdue_count
        else ([], 0)
    )
    return DigestData(
        channel_id=scope.channel_id,
        start=start,
        end=end,
        categories=categories,
        uncategorised=uncategorised,
        annoying=annoying,
        steps=steps,
        waits=measure_waits(waits),
        overdue=overdue,
        overdue_count=overdue_count,
        trend=trend,
        **kaizen,
    )


async def list_known_channels(
    session: AsyncSession, *, logged_since: datetime | None = None
) -> list[Scope]:
    """Every channel with settings, a map, a theme, a subscriber or a log (since
    ``logged_since``, when given: the index on the log time keeps this cheap), in any
    workspace."""
    logs = select(Observation.workspace_id, Observation.channel_id)
    if logged_since is not None:
        logs = logs.where(Observation.created_at >= logged_since)
    sources: list[Any] = [
        select(ChannelSettings.workspace_id, ChannelSettings.channel_id),
        select(Step.workspace_id, Step.channel_id),
        select(Theme.workspace_id, Theme.channel_id),
        select(Subscription.workspace_id, Subscription.channel_id),
        logs.distinct(),
    ]
    union = sources[0].union(*sources[1:]).subquery()
    rows = await session.execute(select(union).order_by(*union.c))
    return [Scope(int(w), str(c)) for w, c in rows.all()]


async def list_channel_schedules(session: AsyncSession) -> dict[tuple[int, str], ChannelSettings]:
    """The channels whose settings were saved, by (workspace id, channel)."""
    rows = await session.scalars(select(ChannelSettings))
    return {(r.workspace_id, r.channel_id): r for r in rows}


async def list_subscribers(session: AsyncSession, *, scope: Scope) -> list[str]:
    rows = await session.scalars(
        select(Subscription.user_id)
        .where(
            Subscription.workspace_id == scope.workspace_id,
            Subscription.channel_id == scope.channel_id,
        )
        .order_by(Subscription.created_at, Subscription.id)
    )
    return list(rows)


async def find_channel_workspace(session: AsyncSession, *, channel_id: str) -> int | None:
    """The workspace that has data for a channel id (ids are unique across Slack)."""
    known = await list_known_channels_for(session, channel_id=channel_id)
    return known[0] if known else None


async def list_known_channels_for(session: AsyncSession, *, channel_id: str) -> list[int]:
    found: set[int] = set()
    for model in (ChannelSettings, Step, Theme, Subscription, Observation):
        column: Any = model.channel_id
        workspace: Any = model.workspace_id
        rows = await session.scalars(select(workspace).where(column == channel_id).limit(1))
        found.update(int(w) for w in rows)
    return sorted(found)
