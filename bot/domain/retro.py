"""Async retro rules: the templates and their columns, and the order and timing of phases."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.wastes import WasteCategory


class RetroTemplate(StrEnum):
    DOWNTIME = "downtime"
    START_STOP_CONTINUE = "start_stop_continue"
    MAD_SAD_GLAD = "mad_sad_glad"
    FOUR_LS = "four_ls"


DEFAULT_TEMPLATE = RetroTemplate.DOWNTIME

TEMPLATE_LABELS: Mapping[RetroTemplate, str] = MappingProxyType(
    {
        RetroTemplate.DOWNTIME: "DOWNTIME waste walk",
        RetroTemplate.START_STOP_CONTINUE: "Start / Stop / Continue",
        RetroTemplate.MAD_SAD_GLAD: "Mad / Sad / Glad",
        RetroTemplate.FOUR_LS: "4Ls: Liked, Learned, Lacked, Longed for",
    }
)

TEMPLATE_COLUMNS: Mapping[RetroTemplate, tuple[str, ...]] = MappingProxyType(
    {
        # A DOWNTIME note's column is its waste category, so it can become a waste log.
        RetroTemplate.DOWNTIME: tuple(category.value for category in WasteCategory),
        RetroTemplate.START_STOP_CONTINUE: ("Start", "Stop", "Continue"),
        RetroTemplate.MAD_SAD_GLAD: ("Mad", "Sad", "Glad"),
        RetroTemplate.FOUR_LS: ("Liked", "Learned", "Lacked", "Longed for"),
    }
)


class RetroPhase(StrEnum):
    COLLECT = "collect"
    VOTE = "vote"
    SUMMARY = "summary"
    CLOSED = "closed"


_NEXT: Mapping[RetroPhase, RetroPhase] = MappingProxyType(
    {
        RetroPhase.COLLECT: RetroPhase.VOTE,
        RetroPhase.VOTE: RetroPhase.SUMMARY,
        RetroPhase.SUMMARY: RetroPhase.CLOSED,
    }
)


def next_phase(phase: RetroPhase) -> RetroPhase:
    """The phase after ``phase``; NotAllowed once the retro is closed."""
    following = _NEXT.get(phase)
    if following is None:
        raise NotAllowed("This retro is already closed.")
    return following


def phase_due(
    phase: RetroPhase,
    collect_until: datetime | None,
    vote_until: datetime | None,
    now: datetime,
) -> bool:
    """Whether the scheduler should move ``phase`` on at ``now``.

    Only collect and vote have deadlines; the summary stays up until someone closes it.
    """
    if phase is RetroPhase.COLLECT:
        return collect_until is not None and now >= collect_until
    if phase is RetroPhase.VOTE:
        return vote_until is not None and now >= vote_until
    return False


def validate_schedule(collect_until: datetime, vote_until: datetime, now: datetime) -> None:
    """InvalidInput, naming the modal field, unless collect ends after now and vote after it."""
    if collect_until <= now:
        raise InvalidInput("Collect notes until a time in the future.", field="collect_until")
    if vote_until <= collect_until:
        raise InvalidInput("Voting has to end after collecting does.", field="vote_until")
