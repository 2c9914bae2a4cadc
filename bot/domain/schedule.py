"""When a weekly post comes due: a weekday and a wall-clock time in a time zone, as UTC instants.

Each week has exactly one due instant per schedule, named by the ISO week of its local date
(``2026-W48``). A wall-clock time that does not exist on a daylight-saving day (02:30 when the
clocks jump from 02:00 to 03:00) is read with the offset before the change, and one that repeats
(01:30 when the clocks go back) is its first occurrence: either way one instant, posted once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import InvalidInput

WEEK = timedelta(days=7)
_ISO_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")


def zone(name: str) -> ZoneInfo:
    """The named IANA zone; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _wall_time(text: str) -> time:
    hours, _, minutes = text.partition(":")
    try:
        return time(int(hours), int(minutes or 0))
    except ValueError:
        return time(9, 0)


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    weekday: int
    """0 is Monday."""
    at: str
    """``HH:MM`` wall-clock time."""
    timezone: str

    def instant_on(self, day: date) -> datetime:
        """The UTC instant of the wall-clock time on local date ``day``."""
        local = datetime.combine(day, _wall_time(self.at), tzinfo=zone(self.timezone))
        # fold=0: a repeated time is its first occurrence, a skipped one uses the old offset.
        return local.astimezone(UTC)

    def due_in_week(self, iso_year: int, iso_week: int) -> datetime:
        return self.instant_on(date.fromisocalendar(iso_year, iso_week, self.weekday + 1))

    def latest_due(self, now: datetime) -> datetime:
        """The last due instant at or before ``now``."""
        local_today = now.astimezone(zone(self.timezone)).date()
        day = local_today - timedelta(days=(local_today.weekday() - self.weekday) % 7)
        due = self.instant_on(day)
        if due > now:
            due = self.instant_on(day - WEEK)
        return due

    def next_due(self, now: datetime) -> datetime:
        """The first due instant after ``now``."""
        latest = self.latest_due(now)
        local_day = latest.astimezone(zone(self.timezone)).date()
        return self.instant_on(local_day + WEEK)

    def previous_due(self, due: datetime) -> datetime:
        """The due instant a week before ``due`` (a week of wall-clock time, not 168 h)."""
        local_day = due.astimezone(zone(self.timezone)).date()
        return self.instant_on(local_day - WEEK)

    def period_key(self, due: datetime) -> str:
        return iso_week_name(due.astimezone(zone(self.timezone)).date())


def iso_week_name(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(text: str) -> tuple[int, int]:
    """``2026-W47`` → (2026, 47); InvalidInput for anything else or a week that does not exist."""
    found = _ISO_WEEK.fullmatch(text.strip())
    if found is None:
        raise InvalidInput(f"“{text}” is not a week: write it like 2026-W47.")
    year, week = int(found.group(1)), int(found.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InvalidInput(f"{year} has no week {week}.") from None
    return year, week


def local_clock(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(zone(timezone))
