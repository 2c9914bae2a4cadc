from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import NotAllowed
from bot.domain.votes import base_emoji, check_vote_limit, is_same_emoji, over_vote_limit


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("+1", "+1"),
        (":+1:", "+1"),
        ("+1::skin-tone-2", "+1"),
        ("+1::skin-tone-3", "+1"),
        ("+1::skin-tone-6", "+1"),
        (":+1::skin-tone-4:", "+1"),
        ("thumbsup", "+1"),
        (":thumbsup::skin-tone-5:", "+1"),
        ("ThumbsUp", "+1"),
        ("thumbsdown", "-1"),
        ("wastebasket", "wastebasket"),
        (":wastebasket:", "wastebasket"),
        ("raised_hands::skin-tone-2", "raised_hands"),
        ("+1::skin-tone-7", "+1::skin-tone-7"),
        ("heart", "heart"),
    ],
)
def test_base_emoji_drops_skin_tone_and_aliases(name: str, base: str) -> None:
    assert base_emoji(name) == base


@pytest.mark.parametrize(
    ("reaction", "configured", "same"),
    [
        ("+1", "+1", True),
        ("+1::skin-tone-3", "+1", True),
        ("+1", ":thumbsup:", True),
        ("thumbsup", "+1", True),
        ("-1", "+1", False),
        ("heart", "+1", False),
        ("+1", "+1::skin-tone-2", True),
        ("star", ":star:", True),
        ("star2", "star", False),
    ],
)
def test_is_same_emoji_counts_every_skin_tone_as_one_emoji(
    reaction: str, configured: str, same: bool
) -> None:
    assert is_same_emoji(reaction, configured) is same


@given(st.sampled_from(["+1", "thumbsup", "heart", "white_check_mark"]), st.integers(2, 6))
def test_is_same_emoji_ignores_any_skin_tone(name: str, tone: int) -> None:
    assert is_same_emoji(f"{name}::skin-tone-{tone}", name)


@pytest.mark.parametrize(("open_votes", "limit"), [(0, None), (99, None), (0, 1), (2, 3)])
def test_check_vote_limit_allows_votes_under_the_limit(open_votes: int, limit: int | None) -> None:
    check_vote_limit(open_votes, limit)


def test_check_vote_limit_refuses_a_vote_over_the_limit() -> None:
    with pytest.raises(NotAllowed) as caught:
        check_vote_limit(3, 3)
    assert caught.value.message == (
        "You have used all 3 of your votes in this channel; remove one to vote again."
    )


def test_check_vote_limit_speaks_of_a_single_vote() -> None:
    with pytest.raises(NotAllowed, match="your one vote"):
        check_vote_limit(1, 1)


def test_check_vote_limit_refuses_when_voting_is_off() -> None:
    with pytest.raises(NotAllowed, match="turned off"):
        check_vote_limit(0, 0)


@given(st.integers(0, 50), st.integers(1, 50))
def test_check_vote_limit_allows_exactly_limit_votes(open_votes: int, limit: int) -> None:
    if open_votes < limit:
        check_vote_limit(open_votes, limit)
    else:
        with pytest.raises(NotAllowed):
            check_vote_limit(open_votes, limit)


@given(st.integers(min_value=0, max_value=20), st.one_of(st.none(), st.integers(0, 10)))
def test_over_vote_limit_is_what_check_vote_limit_refuses(
    open_votes: int, limit: int | None
) -> None:
    try:
        check_vote_limit(open_votes, limit)
        refused = False
    except NotAllowed:
        refused = True
    assert over_vote_limit(open_votes, limit) is refused
