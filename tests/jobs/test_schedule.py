"""Weekly due instants in a channel's time zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.schedule import WeeklySchedule, parse_iso_week

LA_MONDAY_9 = WeeklySchedule(0, "09:00", "America/Los_Angeles")


def test_monday_9_in_los_angeles_is_17_utc_in_summer_time_and_17_after_the_change() -> None:
    # Clocks in Los Angeles go back from UTC-7 to UTC-8 on Sunday 1 November 2026.
    before = LA_MONDAY_9.latest_due(datetime(2026, 10, 27, 0, 0, tzinfo=UTC))
    after = LA_MONDAY_9.latest_due(datetime(2026, 11, 3, 0, 0, tzinfo=UTC))
    assert before == datetime(2026, 10, 26, 16, 0, tzinfo=UTC)  # PDT, UTC-7
    assert after == datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # PST, UTC-8


def test_next_due_crosses_the_spring_change_on_the_wall_clock() -> None:
    # Clocks in Los Angeles jump forward on Sunday 8 March 2026.
    now = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert LA_MONDAY_9.next_due(now) == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert LA_MONDAY_9.latest_due(now) == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def test_a_due_instant_is_not_reached_one_second_early() -> None:
    due = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    just_before = LA_MONDAY_9.latest_due(datetime(2026, 11, 2, 16, 59, 59, tzinfo=UTC))
    assert just_before < due
    assert LA_MONDAY_9.latest_due(due) == due


def test_a_skipped_wall_clock_time_still_has_exactly_one_instant_that_week() -> None:
    sunday_0230 = WeeklySchedule(6, "02:30", "America/Los_Angeles")
    due = sunday_0230.due_in_week(2026, 10)  # Sunday 8 March 2026, 02:30 does not exist
    assert due == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    assert sunday_0230.latest_due(datetime(2026, 3, 8, 12, 0, tzinfo=UTC)) == due


def test_a_repeated_wall_clock_time_is_its_first_occurrence() -> None:
    sunday_0130 = WeeklySchedule(6, "01:30", "America/Los_Angeles")
    due = sunday_0130.due_in_week(2026, 44)  # Sunday 1 November 2026, 01:30 happens twice
    assert due == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    later = datetime(2026, 11, 1, 9, 45, tzinfo=UTC)  # the second 01:30 has passed too
    assert sunday_0130.latest_due(later) == due


def test_the_period_key_is_the_iso_week_of_the_local_date() -> None:
    # Monday 00:30 in Auckland is still Sunday in UTC.
    auckland = WeeklySchedule(0, "00:30", "Pacific/Auckland")
    due = auckland.due_in_week(2026, 48)
    assert due.weekday() == 6
    assert auckland.period_key(due) == "2026-W48"


@pytest.mark.parametrize("text", ["2026-47", "2026-W7", "W47", "2026-W54", "next week"])
def test_a_malformed_week_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_iso_week(text)


def test_a_week_is_read() -> None:
    assert parse_iso_week("2026-W47") == (2026, 47)
