"""The digest's data for one channel and period, aggregated in SQL.

Counts and minutes by category (this period, the one before, and each week of the eight-week
trend) are one grouped query of conditional sums over the ``(workspace, channel, created_at)``
index; the worst log, the waits logged against steps (row by row, for their medians), the map's
steps and the size of the backlog come back in the same statement.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.digest import (
    TREND_WEEKS,
    AnnoyingWaste,
    CategoryTotal,
    DigestData,
    ThemeMove,
    TrendPoint,
    trend_starts,
)
from bot.domain.themes import ThemeStatus
from bot.domain.vsm import MapState, measure_waits
from bot.domain.vsm import Step as StepData
from bot.domain.wastes import WasteCategory
from storage import kaizen as kaizen_store
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


_ZERO: Any = literal_column("0")
_ONE: Any = literal_column("1")


def _sum_if(condition: Any, value: Any = _ONE) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=_ZERO)), _ZERO)


# One statement reads everything the digest needs of the logs and the map, as rows of one shape
# told apart by their first column (built once, with bound parameters, so each digest only
# binds values: building and cache-keying a statement of forty expressions costs more than
# running it):
#   c  per category: logs and minutes this period and the one before, then per trend week
#   t  the single log with the most time lost, with its category, text, link and step name
#   w  (step id, minutes) of every wait logged against a step
#   s  the current map's steps
#   k  how many themes and overdue open items the channel has (the digest of a channel without
#      a backlog asks nothing more about them)
_TEXTS = 4
_NUMBERS = 4 + 2 * TREND_WEEKS


def _row(kind: str, texts: Sequence[Any] = (), numbers: Sequence[Any] = ()) -> list[Any]:
    # Typed NULLs: PostgreSQL matches a union's column types branch by branch.
    texts = [*texts, *[cast(null(), Text)] * (_TEXTS - len(texts))]
    numbers = [*numbers, *[cast(null(), BigInteger)] * (_NUMBERS - len(numbers))]
    return [
        literal_column(f"'{kind}'").label("kind"),
        *(t.label(f"t{i}") for i, t in enumerate(texts)),
        *(n.label(f"n{i}") for i, n in enumerate(numbers)),
    ]


def _digest_statement() -> Any:
    """The digest's one statement; parameters ``ws``, ``ch``, ``start``, ``end``, ``before``
    (the previous period's start), ``since`` (the earliest of that and ``w0``), ``w0``…``w7``
    (the trend weeks' starts) and ``today``."""
    in_channel = (
        Observation.workspace_id == bindparam("ws"),
        Observation.channel_id == bindparam("ch"),
    )
    at = Observation.created_at
    start: Any = bindparam("start")
    end: Any = bindparam("end")
    window = (*in_channel, at >= start, at < end)
    minutes = func.coalesce(Observation.minutes, 0)
    before = (at < start) & (at >= bindparam("before"))
    sums: list[Any] = [
        _sum_if(at >= start),
        _sum_if(at >= start, minutes),
        _sum_if(before),
        _sum_if(before, minutes),
    ]
    weeks: list[Any] = [bindparam(f"w{i}") for i in range(TREND_WEEKS)]
    for low, high in itertools.pairwise([*weeks, end]):
        sums += [_sum_if((at >= low) & (at < high)), _sum_if((at >= low) & (at < high), minutes)]
    totals = (
        select(*_row("c", [Observation.category], sums))
        .where(*in_channel, at >= bindparam("since"), at < end)
        .group_by(Observation.category)
    )
    top = (
        select(
            *_row(
                "t",
                [Observation.category, Observation.description, Observation.link, Step.name],
                [Observation.minutes],
            )
        )
        .outerjoin(Step, Step.id == Observation.step_id)
        .where(*window, Observation.minutes > _ZERO)
        .order_by(Observation.minutes.desc(), at, Observation.id)
        .limit(1)
        .subquery()
    )
    waits = select(*_row("w", [], [Observation.step_id, Observation.minutes])).where(
        *window,
        Observation.is_wait.is_(True),
        Observation.step_id.is_not(None),
        Observation.minutes > _ZERO,
    )
    in_map = (
        Step.workspace_id == bindparam("ws"),
        Step.channel_id == bindparam("ch"),
        Step.state == MapState.CURRENT.value,
    )
    steps = select(
        *_row(
            "s",
            [cast(null(), Text), Step.name, Step.owner_role],
            [Step.id, Step.position, Step.process_minutes, Step.wait_minutes,
             Step.pct_complete_accurate],
        )
    ).where(*in_map)  # fmt: skip
    themes = select(func.count(Theme.id)).where(
        Theme.workspace_id == bindparam("ws"), Theme.channel_id == bindparam("ch")
    )
    overdue = select(func.count(ActionItem.id)).where(
        ActionItem.workspace_id == bindparam("ws"),
        ActionItem.channel_id == bindparam("ch"),
        ActionItem.status == "open",
        ActionItem.due_date < bindparam("today"),
    )
    counts = select(*_row("k", [], [themes.scalar_subquery(), overdue.scalar_subquery()]))
    return union_all(totals, select(top), waits, steps, counts)


_DIGEST = _digest_statement()


@dataclass(slots=True)
class _Read:
    """What the digest statement returned, sorted by kind."""

    categories: list[CategoryTotal] = field(default_factory=list)
    uncategorised: int = 0
    trend: list[list[int]] = field(default_factory=lambda: [[0, 0] for _ in range(TREND_WEEKS)])
    annoying: AnnoyingWaste | None = None
    waits: list[tuple[int, int]] = field(default_factory=list)
    steps: list[StepData] = field(default_factory=list)
    theme_count: int = 0
    overdue_count: int = 0

    def add(self, kind: str, texts: Sequence[Any], numbers: Sequence[Any]) -> None:
        if kind == "c":
            self._add_category(texts[0], [int(n) for n in numbers])
        elif kind == "t":
            category, description, link, step = texts
            self.annoying = AnnoyingWaste(
                category=WasteCategory(category) if category in _CATEGORIES else None,
                description=description or "",
                minutes=int(numbers[0] or 0),
                link=link or "",
                step_name=step,
            )
        elif kind == "w":
            self.waits.append((int(numbers[0]), int(numbers[1])))
        elif kind == "s":
            step_id, position, process, wait, pct = (int(n) for n in numbers[:5])
            self.steps.append(
                StepData(
                    name=texts[1],
                    position=position,
                    process_minutes=process,
                    wait_minutes=wait,
                    pct_complete_accurate=pct,
                    owner_role=texts[2],
                    id=step_id,
                )
            )
        else:
            self.theme_count, self.overdue_count = int(numbers[0]), int(numbers[1])

    def _add_category(self, category: str | None, numbers: list[int]) -> None:
        count, lost, count_before, lost_before, *trend = numbers
        for week, i in zip(self.trend, range(0, len(trend), 2), strict=True):
            week[0] += trend[i]
            week[1] += trend[i + 1]
        if category not in _CATEGORIES:
            self.uncategorised += count
        elif count or count_before:
            self.categories.append(
                CategoryTotal(WasteCategory(category), count, lost, count_before, lost_before)
            )


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
    """Everything the digest shows for [start, end); the period before is as long.

    One round trip for the logs and the map; the backlog's themes and overdue items only when
    the channel has any."""
    previous_start = start - (end - start)
    starts = trend_starts(end)
    params: dict[str, Any] = {
        "ws": scope.workspace_id,
        "ch": scope.channel_id,
        "start": start,
        "end": end,
        "before": previous_start,
        "since": min(previous_start, starts[0]),
        "today": today,
    }
    params |= {f"w{i}": s for i, s in enumerate(starts)}
    read = _Read()
    for kind, *values in (await session.execute(_DIGEST, params)).all():
        read.add(kind, values[:_TEXTS], values[_TEXTS:])
    # Order the categories as a grouped query returns them, whatever order the union took.
    read.categories.sort(key=lambda c: c.category.value)
    steps = sorted(read.steps, key=lambda s: (s.position, s.id or 0))
    on_map = {s.id for s in steps}
    kaizen = (
        await _kaizen_part(session, scope=scope, start=start, end=end) if read.theme_count else {}
    )
    overdue, overdue_count = (
        await kaizen_store.list_overdue_actions(
            session, scope=scope, today=today, limit=OVERDUE_SHOWN
        )
        if read.overdue_count
        else ([], 0)
    )
    return DigestData(
        channel_id=scope.channel_id,
        start=start,
        end=end,
        categories=read.categories,
        uncategorised=read.uncategorised,
        annoying=read.annoying,
        steps=steps,
        waits=measure_waits((s, m) for s, m in read.waits if s in on_map),
        overdue=overdue,
        overdue_count=overdue_count,
        trend=[
            TrendPoint(start=s.date(), count=c, minutes=m)
            for s, (c, m) in zip(starts, read.trend, strict=True)
        ],
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
