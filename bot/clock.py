"""A clock that can be set and moved: the demo plays a week in seconds, tests pin time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SettableClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.current = moment
