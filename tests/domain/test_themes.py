from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.themes import (
    MAX_PROBLEM,
    MAX_TITLE,
    OPEN_STATUSES,
    ThemeAction,
    ThemeStatus,
    allowed_actions,
    clean_problem,
    clean_title,
    format_theme_ref,
    next_status,
    parse_theme_ref,
)

S = ThemeStatus
A = ThemeAction


def test_open_statuses_are_the_unfinished_ones() -> None:
    assert {S.PROPOSED, S.SELECTED, S.IN_PROGRESS} == OPEN_STATUSES


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        (S.PROPOSED, A.SELECT, S.SELECTED),
        (S.PROPOSED, A.START, S.IN_PROGRESS),
        (S.SELECTED, A.START, S.IN_PROGRESS),
        (S.SELECTED, A.DONE, S.DONE),
        (S.IN_PROGRESS, A.DONE, S.DONE),
        (S.PROPOSED, A.DROP, S.DROPPED),
        (S.SELECTED, A.DROP, S.DROPPED),
        (S.IN_PROGRESS, A.DROP, S.DROPPED),
    ],
)
def test_next_status_follows_the_life_cycle(
    current: ThemeStatus, action: ThemeAction, expected: ThemeStatus
) -> None:
    assert next_status(current, action, 3) is expected


@pytest.mark.parametrize(
    ("current", "action", "message"),
    [
        (S.SELECTED, A.SELECT, "K-3 is already selected."),
        (S.IN_PROGRESS, A.SELECT, "K-3 is already in progress."),
        (S.IN_PROGRESS, A.START, "K-3 is already in progress."),
        (S.PROPOSED, A.DONE, "Start K-3 before marking it done."),
        (S.DONE, A.SELECT, "K-3 is already done."),
        (S.DONE, A.START, "K-3 is already done."),
        (S.DONE, A.DONE, "K-3 is already done."),
        (S.DONE, A.DROP, "K-3 is already done."),
        (S.DROPPED, A.DROP, "K-3 is already dropped."),
        (S.DROPPED, A.START, "K-3 was dropped; add it again as a new theme to pick it back up."),
        (S.DROPPED, A.SELECT, "K-3 was dropped; add it again as a new theme to pick it back up."),
        (S.DROPPED, A.DONE, "K-3 was dropped; add it again as a new theme to pick it back up."),
    ],
)
def test_next_status_explains_a_move_that_is_not_allowed(
    current: ThemeStatus, action: ThemeAction, message: str
) -> None:
    with pytest.raises(NotAllowed) as caught:
        next_status(current, action, 3)
    assert caught.value.message == message


@given(st.sampled_from(list(ThemeStatus)), st.sampled_from(list(ThemeAction)))
def test_next_status_agrees_with_allowed_actions(current: ThemeStatus, action: ThemeAction) -> None:
    if action in allowed_actions(current):
        assert next_status(current, action, 1) is not current
    else:
        with pytest.raises(NotAllowed):
            next_status(current, action, 1)


def test_allowed_actions_leave_closed_themes_alone() -> None:
    assert allowed_actions(S.DONE) == []
    assert allowed_actions(S.DROPPED) == []
    assert allowed_actions(S.PROPOSED) == [A.SELECT, A.START, A.DROP]
    assert allowed_actions(S.IN_PROGRESS) == [A.DONE, A.DROP]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("K-12", 12),
        ("k-12", 12),
        ("k12", 12),
        ("K 12", 12),
        ("K–12", 12),
        ("#12", 12),
        ("12", 12),
        (" K-7 ", 7),
        ("K-007", 7),
        ("K-999999999", 999_999_999),
    ],
)
def test_parse_theme_ref_reads_common_forms(text: str, number: int) -> None:
    assert parse_theme_ref(text) == number


@pytest.mark.parametrize(
    "text", ["", "K-", "K-0", "0", "K-1.5", "-3", "KK-3", "theme 3", "K-12 extra", "K-1234567890"]
)
def test_parse_theme_ref_rejects_other_text(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"Theme numbers look like K-12\.") as caught:
        parse_theme_ref(text)
    assert caught.value.field == "theme"


@given(st.integers(min_value=1, max_value=999_999_999))
def test_parse_theme_ref_reads_back_format_theme_ref(number: int) -> None:
    assert parse_theme_ref(format_theme_ref(number)) == number


def test_format_theme_ref_prefixes_k() -> None:
    assert format_theme_ref(12) == "K-12"


def test_clean_title_collapses_whitespace() -> None:
    assert clean_title("  Faster   test\nenvironments ") == "Faster test environments"


def test_clean_title_accepts_the_longest_title() -> None:
    assert clean_title("t" * MAX_TITLE) == "t" * MAX_TITLE


@pytest.mark.parametrize(("text", "says"), [("", "Give the theme a title"), ("x" * 151, "150")])
def test_clean_title_rejects_empty_or_long_titles(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as caught:
        clean_title(text)
    assert caught.value.field == "title"


def test_clean_problem_may_be_empty() -> None:
    assert clean_problem("   ") == ""


def test_clean_problem_keeps_its_lines() -> None:
    assert clean_problem(" first\n\nsecond ") == "first\n\nsecond"


def test_clean_problem_rejects_long_text() -> None:
    assert clean_problem("p" * MAX_PROBLEM) == "p" * MAX_PROBLEM
    with pytest.raises(InvalidInput, match="3000") as caught:
        clean_problem("p" * (MAX_PROBLEM + 1))
    assert caught.value.field == "problem"


T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
