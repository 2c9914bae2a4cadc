"""The flow summary of a period: what the weekly digest and ``/flow`` show, computed purely.

Storage hands over the period's aggregates (``DigestData``); this module ranks the wastes into a
Pareto with the change against the period before, picks the most annoying waste, and measures
the lead time from the waits logged against the map's steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain.kaizen import ActionItem, Theme
from bot.domain.vsm import MapMetrics, MeasuredWait, Step, compute_metrics, ordered
from bot.domain.wastes import CATEGORIES, WasteCategory

VITAL_FEW = 0.8
TREND_WEEKS = 8


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


PERIOD_LENGTHS: Mapping[Period, timedelta] = {
    Period.WEEK: timedelta(days=7),
    Period.MONTH: timedelta(days=30),
    Period.QUARTER: timedelta(days=91),
}


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    category: WasteCategory
    count: int
    minutes: int
    previous_count: int = 0
    previous_minutes: int = 0


@dataclass(frozen=True, slots=True)
class AnnoyingWaste:
    """The single log with the most time lost in the period."""

    category: WasteCategory | None
    description: str
    minutes: int
    link: str
    step_name: str | None = None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: date
    count: int
    minutes: int


@dataclass(frozen=True, slots=True)
class ThemeMove:
    theme: Theme
    to_status: str


@dataclass(frozen=True, slots=True)
class DigestData:
    channel_id: str
    start: datetime
    end: datetime
    categories: Sequence[CategoryTotal]
    uncategorised: int = 0
    annoying: AnnoyingWaste | None = None
    steps: Sequence[Step] = ()
    waits: Mapping[int, MeasuredWait] = field(default_factory=dict)
    top_themes: Sequence[Theme] = ()
    moves: Sequence[ThemeMove] = ()
    verdicts: Sequence[Theme] = ()
    overdue: Sequence[ActionItem] = ()
    overdue_count: int = 0
    trend: Sequence[TrendPoint] = ()
    open_theme_count: int = 0


@dataclass(frozen=True, slots=True)
class ParetoRow:
    category: WasteCategory
    label: str
    count: int
    minutes: int
    share: float
    cumulative: float
    vital: bool
    change: int | None
    """Against the period before; None when the category was not logged then."""


@dataclass(frozen=True, slots=True)
class MeasuredLeadTime:
    minutes: int
    measured_steps: int
    step_count: int


@dataclass(frozen=True, slots=True)
class Digest:
    data: DigestData
    total_count: int
    total_minutes: int
    previous_count: int
    previous_minutes: int
    pareto: Sequence[ParetoRow]
    metrics: MapMetrics | None
    measured_lead_time: MeasuredLeadTime | None

    @property
    def is_empty(self) -> bool:
        """Nothing logged, mapped or proposed yet: the digest only says how to start."""
        d = self.data
        return not (
            self.total_count
            or self.previous_count
            or d.uncategorised
            or d.steps
            or d.top_themes
            or d.moves
            or d.verdicts
            or d.overdue_count
        )

    @property
    def count_change(self) -> int:
        return self.total_count - self.previous_count


def pareto(categories: Sequence[CategoryTotal]) -> list[ParetoRow]:
    """Categories logged in the period, most logs first, with share, cumulative share and change.

    The vital few are every category up to and including the one whose cumulative share reaches
    80 %. Ties keep the DOWNTIME order.
    """
    order = list(WasteCategory)
    rows = sorted(
        (c for c in categories if c.count > 0), key=lambda c: (-c.count, order.index(c.category))
    )
    total = sum(c.count for c in rows)
    result: list[ParetoRow] = []
    running = 0
    reached = False
    for c in rows:
        running += c.count
        cumulative = running / total
        result.append(
            ParetoRow(
                category=c.category,
                label=CATEGORIES[c.category].label,
                count=c.count,
                minutes=c.minutes,
                share=c.count / total,
                cumulative=cumulative,
                vital=not reached,
                change=c.count - c.previous_count if c.previous_count else None,
            )
        )
        reached = reached or cumulative >= VITAL_FEW - 1e-9
    return result


def measured_lead_time(
    steps: Sequence[Step], waits: Mapping[int, MeasuredWait]
) -> MeasuredLeadTime | None:
    """Lead time with each step's median logged wait in place of its estimate, where measured.

    None when no wait was logged against any step: there is nothing measured to show.
    """
    measured = [s for s in steps if s.id is not None and s.id in waits]
    if not measured:
        return None
    total = 0.0
    for s in ordered(steps):
        wait = waits[s.id].median if s.id is not None and s.id in waits else s.wait_minutes
        total += s.process_minutes + wait
    return MeasuredLeadTime(
        minutes=round(total), measured_steps=len(measured), step_count=len(steps)
    )


def build_digest(data: DigestData) -> Digest:
    return Digest(
        data=data,
        total_count=sum(c.count for c in data.categories) + data.uncategorised,
        total_minutes=sum(c.minutes for c in data.categories),
        previous_count=sum(c.previous_count for c in data.categories),
        previous_minutes=sum(c.previous_minutes for c in data.categories),
        pareto=pareto(data.categories),
        metrics=compute_metrics(data.steps) if data.steps else None,
        measured_lead_time=measured_lead_time(data.steps, data.waits),
    )


def trend_starts(end: datetime, weeks: int = TREND_WEEKS) -> list[datetime]:
    """The starts of the ``weeks`` seven-day buckets ending at ``end``, oldest first."""
    return [end - timedelta(days=7 * (weeks - i)) for i in range(weeks)]
