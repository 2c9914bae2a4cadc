"""The digest chart's heading names the days its data covers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.views.digest import digest_window


def day(year: int, month: int, d: int, hour: int = 0) -> datetime:
    return datetime(year, month, d, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (
            day(2026, 11, 16, 9),
            day(2026, 11, 23, 9),
            "16–23 Nov 2026",
        ),
        (day(2026, 11, 16), day(2026, 11, 23), "16–22 Nov 2026"),
        (
            day(2026, 10, 28),
            day(2026, 11, 4),
            "28 Oct – 3 Nov 2026",
        ),
        (
            day(2026, 12, 28),
            day(2027, 1, 4),
            "28 Dec 2026 – 3 Jan 2027",
        ),
    ],
)
def test_digest_window_names_the_first_and_last_day(
    start: datetime, end: datetime, shown: str
) -> None:
    assert digest_window(start, end) == shown
