from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.durations import (
    _TIME_WORD,
    MAX_MINUTES,
    find_spoken_time,
    format_duration,
    parse_duration,
    split_leading_duration,
)
from bot.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90m", 90),
        ("2h", 120),
        ("1.5h", 90),
        ("3d", 3 * 24 * 60),
        ("1w", 7 * 24 * 60),
        ("2h30m", 150),
        ("1d 4h", 28 * 60),
        ("2h 30m", 150),
        ("2 hours", 120),
        ("3 days", 3 * 24 * 60),
        ("45 min", 45),
        ("1 week", 7 * 24 * 60),
        ("1 minute", 1),
        ("2 hrs", 120),
        ("2 wks", 14 * 24 * 60),
        ("0.5d", 720),
        (".5h", 30),
        ("2H", 120),
        ("  2h  ", 120),
        ("1D 4H", 28 * 60),
        ("2 hours and 30 minutes", 150),
        ("1d, 4h", 28 * 60),
        ("1w 2d 3h 4m", (9 * 24 + 3) * 60 + 4),
        ("30m 2h", 150),
        ("1d\u00a04h", 28 * 60),
        ("0.4m 1h", 60),
        ("1.25m", 1),
        ("1.5m", 2),
        ("2.5m", 3),
        ("365d", MAX_MINUTES),
        ("52w 1d", MAX_MINUTES),
        ("+2h", 120),
    ],
)
def test_parse_duration_reads_minutes(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Type how long"),
        ("   ", "Type how long"),
        ("90", "Add a unit: m, h, d or w"),
        ("1.5", "Add a unit: m, h, d or w"),
        ("2h 30", "Add a unit: m, h, d or w"),
        ("0h", "is zero"),
        ("0m", "is zero"),
        ("0.2m", "less than a minute"),
        ("-2h", "negative"),
        ("\u22122h", "negative"),
        ("1h -30m", "negative"),
        ("366d", "longer than 365 days"),
        ("400d", "longer than 365 days"),
        ("53w", "longer than 365 days"),
        ("9" * 60 + "w", "longer than 365 days"),
        ("abc", "not a duration"),
        ("2x", "not a duration"),
        ("2 months", "not a duration"),
        ("h", "not a duration"),
        ("2h.", "not a duration"),
        ("2h for CI", "not a duration"),
        ("1h 1h", "same unit twice"),
        ("1e3m", "not a duration"),
        ("٣h", "not a duration"),
    ],
)
def test_parse_duration_rejects_with_a_clear_message(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_duration(text)


def test_parse_duration_error_quotes_what_was_typed() -> None:
    with pytest.raises(InvalidInput, match="“2 fortnights”"):
        parse_duration("2 fortnights")


def test_parse_duration_error_shortens_a_long_quote() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration("x" * 500)
    assert len(caught.value.message) < 120


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 min"),
        (1, "1 min"),
        (45, "45 min"),
        (60, "1 h"),
        (120, "2 h"),
        (150, "2 h 30 min"),
        (24 * 60, "1 d"),
        (28 * 60, "1 d 4 h"),
        (28 * 60 + 29, "1 d 4 h"),
        (28 * 60 + 31, "1 d 5 h"),
        (2 * 24 * 60 - 10, "2 d"),
        (7 * 24 * 60, "7 d"),
        (33.5 * 24 * 60, "33 d 12 h"),
        (45.4, "45 min"),
        (-210, "−3 h 30 min"),
        (MAX_MINUTES, "365 d"),
    ],
)
def test_format_duration_shows_two_units_at_most(minutes: float, text: str) -> None:
    assert format_duration(minutes) == text


@pytest.mark.parametrize(
    ("minutes", "text"), [(28 * 60 + 29, "1 d 4 h 29 min"), (9 * 24 * 60 + 1, "9 d 1 min")]
)
def test_format_duration_exact_keeps_every_minute(minutes: int, text: str) -> None:
    assert format_duration(minutes, exact=True) == text


@given(st.integers(min_value=1, max_value=MAX_MINUTES))
def test_format_duration_exact_reads_back_to_the_same_minutes(minutes: int) -> None:
    assert parse_duration(format_duration(minutes, exact=True)) == minutes


_UNITS = st.sampled_from(["m", "h", "d", "w", "min", "hours", "days", "weeks", " h", "x"])
_NUMBERS = st.one_of(
    st.integers(min_value=-10, max_value=10**7).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
)


@given(st.lists(st.tuples(_NUMBERS, _UNITS), min_size=1, max_size=5))
def test_parse_duration_never_returns_out_of_range(parts: list[tuple[str, str]]) -> None:
    text = " ".join(number + unit for number, unit in parts)
    try:
        minutes = parse_duration(text)
    except InvalidInput:
        return
    assert 1 <= minutes <= MAX_MINUTES


@given(st.text(max_size=40))
def test_parse_duration_raises_only_invalid_input_for_any_text(text: str) -> None:
    try:
        minutes = parse_duration(text)
    except InvalidInput:
        return
    assert 1 <= minutes <= MAX_MINUTES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h 30m for the CI runner", (150, "for the CI runner")),
        ("1d 4h test env", (28 * 60, "test env")),
        ("2 hours waiting on review", (120, "waiting on review")),
        ("90m", (90, "")),
        ("2h - CI runner", (120, "CI runner")),
        ("2h: CI runner", (120, "CI runner")),
        ("  3d  stale branch ", (3 * 24 * 60, "stale branch")),
        ("2h and then some", (120, "and then some")),
        ("for the CI runner", (None, "for the CI runner")),
        ("3 deploys failed", (None, "3 deploys failed")),
        ("90 minutes", (90, "")),
        ("90 of them", (None, "90 of them")),
        ("2 wait", (None, "2 wait")),
        ("", (None, "")),
        ("2h30m\nsecond line", (150, "second line")),
        ("two hours for CI", (120, "for CI")),
        ("half a day for the test env", (720, "for the test env")),
        ("an hour and a half", (90, "")),
        ("two and a half days in review", (60 * 60, "in review")),
        ("a couple of hours", (120, "")),
        ("a few tests failed", (None, "a few tests failed")),
        ("another day", (None, "another day")),
        ("2h a day", (120, "a day")),
    ],
)
def test_split_leading_duration_takes_only_the_start(
    text: str, expected: tuple[int | None, str]
) -> None:
    assert split_leading_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0h for nothing", "zero"),
        ("400d of waiting", "longer than 365 days"),
        ("-2h oops", "negative"),
        ("1h 1h twice", "same unit twice"),
    ],
)
def test_split_leading_duration_rejects_an_invalid_leading_duration(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        split_leading_duration(text)


@given(st.integers(min_value=1, max_value=MAX_MINUTES), st.text(max_size=30))
def test_split_leading_duration_reads_a_formatted_duration(minutes: int, rest: str) -> None:
    # A leading "·" keeps the rest from continuing the duration ("1h" + "5m ...").
    words = "· " + " ".join(rest.split()) if rest.strip() else ""
    found, remainder = split_leading_duration(f"{format_duration(minutes, exact=True)} {words}")
    assert found == minutes
    assert remainder == words.strip()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("blocked for two hours on review", "for two hours"),
        ("Waited 90 MINUTES", "Waited 90 MINUTES"),
        ("hours lost again", "hours"),
        ("the weekly sync ran over", None),
        ("an admin had to approve the hourglass icon", None),
        ("waiting for the CI runner", None),
        ("", None),
    ],
)
def test_find_spoken_time_names_the_words_of_a_time(text: str, said: str | None) -> None:
    assert find_spoken_time(text) == said


_WORDS = st.sampled_from(
    ["for", "two", "90", "2", "hours", "Hour", "min", "mins", "admin", "weekly", "wks", "x"]
)


@given(st.lists(_WORDS, max_size=8).map(" ".join) | st.text(max_size=40))
def test_find_spoken_time_finds_what_the_whole_pattern_finds(text: str) -> None:
    match = _TIME_WORD.search(text)
    assert find_spoken_time(text) == (" ".join(match.group(0).split()) if match else None)
