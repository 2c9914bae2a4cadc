"""The kaizen backlog as features see it: themes with their votes, history and action items.

``bot.domain.themes`` holds the rules of a theme's life cycle; this module holds the records
storage hands back and the checks on what people type for action items and settings.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.domain.errors import InvalidInput
from bot.domain.hypotheses import Hypothesis, Observation
from bot.domain.observations import LoggedWaste
from bot.domain.retro import RetroRecord
from bot.domain.text import clean_line
from bot.domain.themes import OPEN_STATUSES, ThemeStatus, format_theme_ref
from bot.domain.votes import base_emoji
from bot.domain.wastes import WasteCategory

MAX_ACTION_TEXT = 500
MAX_VOTE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class NewTheme:
    title: str
    problem: str
    category: WasteCategory | None = None
    step_id: int | None = None
    hypothesis: Hypothesis | None = None


@dataclass(frozen=True, slots=True)
class Theme:
    id: int
    number: int
    channel_id: str
    title: str
    problem: str
    category: WasteCategory | None
    step_id: int | None
    step_name: str | None
    status: ThemeStatus
    author_id: str
    message_channel: str | None
    message_ts: str | None
    version: int
    hypothesis: Hypothesis | None
    votes: int
    created_at: datetime

    @property
    def ref(self) -> str:
        return format_theme_ref(self.number)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class ThemeChange:
    """One move of a theme's status; ``from_status`` is None for its proposal."""

    actor_id: str
    from_status: ThemeStatus | None
    to_status: ThemeStatus
    at: datetime


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class NewActionItem:
    text: str
    owner_id: str
    due_date: date | None
    theme_id: int | None = None


@dataclass(frozen=True, slots=True)
class ActionItem:
    id: int
    channel_id: str
    theme_id: int | None
    theme_number: int | None
    text: str
    owner_id: str
    due_date: date | None
    status: ActionStatus
    created_by: str
    created_at: datetime
    done_at: datetime | None

    def is_overdue(self, today: date) -> bool:
        return (
            self.status is ActionStatus.OPEN and self.due_date is not None and self.due_date < today
        )


class VoteOutcome(StrEnum):
    COUNTED = "counted"
    ALREADY_COUNTED = "already_counted"
    OVER_LIMIT = "over_limit"
    CLOSED = "closed"
    """The theme is done or dropped: votes on it no longer rank anything."""


@dataclass(frozen=True, slots=True)
class Vote:
    theme_number: int
    channel_id: str
    user_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KaizenExport:
    """Everything ``/kaizen export`` and ``kaizen-bot export`` write, for one scope."""

    observations: list[LoggedWaste]
    themes: list[Theme]
    votes: list[Vote]
    actions: list[ActionItem]
    retros: list[RetroRecord] = field(default_factory=list)


def clean_action_text(text: str) -> str:
    return clean_line(
        text,
        limit=MAX_ACTION_TEXT,
        missing="Say what should be done.",
        noun="the action",
        field="text",
    )


def check_due_date(due: date | None, today: date) -> None:
    if due is not None and due < today:
        raise InvalidInput("Pick a due date from today on.", field="due")


_EMOJI = re.compile(r"[a-z0-9_+'\-]{1,100}")


def clean_emoji(text: str, *, field: str) -> str:
    """An emoji short name as typed (``:+1:``, ``thumbsup``), in the form reactions carry."""
    name = base_emoji(text)
    if not _EMOJI.fullmatch(name):
        raise InvalidInput("Type an emoji name like :+1: or :wastebasket:.", field=field)
    return name


def clean_vote_limit(text: str) -> int | None:
    """Empty for no limit, else a whole number of votes from 1 to ``MAX_VOTE_LIMIT``."""
    typed = text.strip()
    if not typed:
        return None
    if not typed.isdigit() or not 1 <= int(typed) <= MAX_VOTE_LIMIT:
        raise InvalidInput(
            f"Type a number of votes from 1 to {MAX_VOTE_LIMIT}, or leave it empty for no limit.",
            field="vote_limit",
        )
    return int(typed)


@functools.cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def clean_timezone(text: str) -> str:
    """An IANA time zone name as the tz database spells it (``Europe/Lisbon``)."""
    name = text.strip()
    try:
        if name not in _iana_names():
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "Type a time zone like Europe/Lisbon or America/New_York.", field="timezone"
        ) from None
    return name


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date at ``moment`` in ``timezone`` (UTC when the name is unknown)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).date()


def as_observation(waste: LoggedWaste) -> Observation | None:
    """A log as a hypothesis measures it; None while it waits for its category."""
    if waste.category is None:
        return None
    return Observation(
        category=WasteCategory(waste.category),
        minutes=waste.minutes,
        step_id=waste.step_id,
        created_at=waste.created_at,
        is_wait=waste.is_wait,
    )
