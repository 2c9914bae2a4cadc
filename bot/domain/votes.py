"""Voting by emoji reaction: which reactions count as the vote emoji, and the dot-vote limit."""

from __future__ import annotations

import re

from bot.domain.errors import NotAllowed

# Slack names some emoji twice; reactions arrive under the first name of each pair.
_ALIASES = {
    "thumbsup": "+1",
    "thumbsdown": "-1",
    "thumbs_up": "+1",
    "thumbs_down": "-1",
}
_SKIN_TONE = re.compile(r"::skin-tone-[2-6]$")


def base_emoji(name: str) -> str:
    """``+1::skin-tone-3`` → ``+1``; ``:thumbsup:`` → ``+1``; any case → lower case."""
    bare = _SKIN_TONE.sub("", name.strip().strip(":").casefold())
    return _ALIASES.get(bare, bare)


def is_same_emoji(reaction: str, configured: str) -> bool:
    """Whether a reaction Slack reported is the channel's configured emoji, in any skin tone."""
    return base_emoji(reaction) == base_emoji(configured)


def over_vote_limit(open_votes: int, limit: int | None) -> bool:
    """Whether a person with ``open_votes`` votes on a channel's open themes may not cast
    another (the dot-vote limit; None is no limit, 0 turns voting off)."""
    return limit is not None and open_votes >= limit


def vote_limit_message(limit: int) -> str:
    """What a person is told when a vote over the limit was not counted."""
    if limit <= 0:
        return "Voting is turned off in this channel."
    if limit == 1:
        return "You have used your one vote in this channel; remove it to vote again."
    return f"You have used all {limit} of your votes in this channel; remove one to vote again."


def check_vote_limit(open_votes: int, limit: int | None) -> None:
    """NotAllowed, saying why, when a person with ``open_votes`` votes may not cast another."""
    if limit is not None and over_vote_limit(open_votes, limit):
        raise NotAllowed(vote_limit_message(limit))
