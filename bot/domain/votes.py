"""Voting by emoji reaction: which reactions count as the vote emoji, and the dot-vote limit."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

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


def voters(
    reactions: Iterable[tuple[str, Iterable[str]]],
    *,
    emoji: str,
    exclude: Collection[str] = (),
) -> frozenset[str]:
    """The users who voted, from ``(reaction name, user ids)`` pairs as ``reactions.get`` gives.

    A user reacting in two skin tones is one vote; users in ``exclude`` (the bot) are none.
    """
    return frozenset(
        user
        for name, users in reactions
        if is_same_emoji(name, emoji)
        for user in users
        if user not in exclude
    )


def check_vote_limit(open_votes: int, limit: int | None) -> None:
    """NotAllowed when a person with ``open_votes`` votes may not cast another."""
    if limit is None or open_votes < limit:
        return
    if limit <= 0:
        raise NotAllowed("Voting is turned off in this channel.")
    if limit == 1:
        raise NotAllowed("You have used your one vote in this channel; remove it to vote again.")
    raise NotAllowed(
        f"You have used all {limit} of your votes in this channel; remove one to vote again."
    )
