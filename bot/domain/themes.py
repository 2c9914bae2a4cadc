"""Kaizen themes: their life cycle, their K-12 numbers, their text, and the backlog order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.text import clean_line, is_blank, without_controls

T = TypeVar("T")

MAX_TITLE = 150
MAX_PROBLEM = 3000


class ThemeStatus(StrEnum):
    PROPOSED = "proposed"
    SELECTED = "selected"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


OPEN_STATUSES: frozenset[ThemeStatus] = frozenset(
    {ThemeStatus.PROPOSED, ThemeStatus.SELECTED, ThemeStatus.IN_PROGRESS}
)

STATUS_LABELS: Mapping[ThemeStatus, str] = MappingProxyType(
    {
        ThemeStatus.PROPOSED: "proposed",
        ThemeStatus.SELECTED: "selected",
        ThemeStatus.IN_PROGRESS: "in progress",
        ThemeStatus.DONE: "done",
        ThemeStatus.DROPPED: "dropped",
    }
)


class ThemeAction(StrEnum):
    SELECT = "select"
    START = "start"
    DONE = "done"
    DROP = "drop"


_TRANSITIONS: Mapping[ThemeAction, tuple[frozenset[ThemeStatus], ThemeStatus]] = MappingProxyType(
    {
        ThemeAction.SELECT: (frozenset({ThemeStatus.PROPOSED}), ThemeStatus.SELECTED),
        ThemeAction.START: (
            frozenset({ThemeStatus.PROPOSED, ThemeStatus.SELECTED}),
            ThemeStatus.IN_PROGRESS,
        ),
        ThemeAction.DONE: (
            frozenset({ThemeStatus.SELECTED, ThemeStatus.IN_PROGRESS}),
            ThemeStatus.DONE,
        ),
        ThemeAction.DROP: (OPEN_STATUSES, ThemeStatus.DROPPED),
    }
)


def allowed_actions(current: ThemeStatus) -> list[ThemeAction]:
    """The actions that can move a theme on from ``current``, in menu order."""
    return [action for action, (sources, _) in _TRANSITIONS.items() if current in sources]


def next_status(current: ThemeStatus, action: ThemeAction, number: int) -> ThemeStatus:
    """The status ``action`` moves theme ``number`` to, or NotAllowed saying why not."""
    sources, target = _TRANSITIONS[action]
    if current in sources:
        return target
    ref = format_theme_ref(number)
    if current is ThemeStatus.DROPPED:
        if action is ThemeAction.DROP:
            raise NotAllowed(f"{ref} is already dropped.")
        raise NotAllowed(f"{ref} was dropped; add it again as a new theme to pick it back up.")
    if current is ThemeStatus.DONE:
        raise NotAllowed(f"{ref} is already done.")
    if action is ThemeAction.DONE:  # only a proposed theme gets here
        raise NotAllowed(f"Start {ref} before marking it done.")
    # select or start on a theme that is already that far along
    raise NotAllowed(f"{ref} is already {STATUS_LABELS[current]}.")


_THEME_REF = re.compile(r"(?:k\s*[-–—]?\s*|#)?(?P<number>[0-9]{1,9})", re.IGNORECASE)


def parse_theme_ref(text: str) -> int:
    """The number in ``K-12``, ``k12``, ``#12`` or ``12``."""
    match = _THEME_REF.fullmatch(text.strip())
    if match is None or int(match["number"]) == 0:
        raise InvalidInput("Theme numbers look like K-12.", field="theme")
    return int(match["number"])


def format_theme_ref(number: int) -> str:
    return f"K-{number}"


def clean_title(text: str) -> str:
    """One line of 1 to 150 characters, spaces collapsed."""
    return clean_line(
        text, limit=MAX_TITLE, missing="Give the theme a title.", noun="the title", field="title"
    )


def clean_problem(text: str) -> str:
    """Optional free text (it may be empty) of up to 3000 characters."""
    problem = without_controls(text).strip()
    if is_blank(problem):
        return ""
    if len(problem) > MAX_PROBLEM:
        raise InvalidInput(
            f"Keep the problem to {MAX_PROBLEM} characters; this one has {len(problem)}.",
            field="problem",
        )
    return problem
