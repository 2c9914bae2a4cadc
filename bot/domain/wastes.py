"""The eight lean wastes (DOWNTIME) and the quick-log grammar of ``/waste`` and ``/wait``.

``/waste [category] [duration] description`` and ``/wait duration reason [in step]`` are read
here, so that the handler only has to act on the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.domain.durations import (
    MAX_MINUTES,
    find_spoken_time,
    split_leading_duration,
    unit_minutes,
)
from bot.domain.errors import InvalidInput
from bot.domain.text import is_blank, without_controls
from bot.domain.vsm import MAX_STEP_NAME

MAX_DESCRIPTION = 3000

WASTE_EXAMPLE = "/waste waiting 2h for the CI runner"
WAIT_EXAMPLE = "/wait 2d test environment in Testing"


class WasteCategory(StrEnum):
    """In DOWNTIME order, which is also the order categories are offered in."""

    DEFECTS = "defects"
    OVERPRODUCTION = "overproduction"
    WAITING = "waiting"
    NON_UTILIZED_TALENT = "non_utilized_talent"
    TRANSPORTATION = "transportation"
    INVENTORY = "inventory"
    MOTION = "motion"
    EXTRA_PROCESSING = "extra_processing"


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    key: WasteCategory
    label: str
    emoji: str
    """A Slack emoji short name with its colons, ready to put in mrkdwn."""
    meaning: str
    """What the waste looks like in software; short enough for a select option (75)."""


CATEGORIES: Mapping[WasteCategory, CategoryInfo] = MappingProxyType(
    {
        info.key: info
        for info in (
            CategoryInfo(
                WasteCategory.DEFECTS,
                "Defects",
                ":bug:",
                "Bugs, rework, failed deploys, work sent back",
            ),
            CategoryInfo(
                WasteCategory.OVERPRODUCTION,
                "Overproduction",
                ":factory:",
                "Features nobody asked for, work ahead of demand",
            ),
            CategoryInfo(
                WasteCategory.WAITING,
                "Waiting",
                ":hourglass_flowing_sand:",
                "Queues, approvals, blocked work, waiting for environments or reviews",
            ),
            CategoryInfo(
                WasteCategory.NON_UTILIZED_TALENT,
                "Non-utilized talent",
                ":bulb:",
                "People not empowered to choose work or decide; skills unused",
            ),
            CategoryInfo(
                WasteCategory.TRANSPORTATION,
                "Transportation",
                ":truck:",
                "Hand-offs, silos, gates, needless email and reporting",
            ),
            CategoryInfo(
                WasteCategory.INVENTORY,
                "Inventory",
                ":card_file_box:",
                "Too much WIP, unused tools and licences, stale backlog",
            ),
            CategoryInfo(
                WasteCategory.MOTION,
                "Motion",
                ":runner:",
                "Task switching, hunting for information, needless process steps",
            ),
            CategoryInfo(
                WasteCategory.EXTRA_PROCESSING,
                "Extra processing",
                ":gear:",
                "Gold-plating, reinventing the wheel, redundant approvals",
            ),
        )
    }
)

_SYNONYMS: dict[WasteCategory, tuple[str, ...]] = {
    WasteCategory.DEFECTS: (
        "defect",
        "bug",
        "bugs",
        "rework",
        "failed deploy",
        "failed deploys",
        "failed deployment",
        "incident",
        "incidents",
        "regression",
        "regressions",
        "hotfix",
        "rollback",
        "outage",
        "flaky test",
        "flaky tests",
        "sent back",
    ),
    WasteCategory.OVERPRODUCTION: (
        "unneeded feature",
        "unneeded features",
        "unused feature",
        "unused features",
        "yagni",
        "scope creep",
        "nobody asked",
    ),
    WasteCategory.WAITING: (
        "wait",
        "waited",
        "blocked",
        "blocker",
        "queue",
        "queued",
        "delay",
        "delayed",
        "approval",
        "approvals",
        "bottleneck",
    ),
    WasteCategory.NON_UTILIZED_TALENT: (
        "talent",
        "unused talent",
        "unused skills",
        "skills unused",
        "disempowered",
        "not empowered",
        "micromanagement",
        "micromanaged",
        "underutilized talent",
        "underutilised talent",
    ),
    WasteCategory.TRANSPORTATION: (
        "transport",
        "handoff",
        "handoffs",
        "hand off",
        "hand offs",
        "handover",
        "handovers",
        "hand over",
        "silo",
        "silos",
        "gate",
        "gates",
    ),
    WasteCategory.INVENTORY: (
        "wip",
        "work in progress",
        "backlog",
        "stale",
        "stale backlog",
        "unused licence",
        "unused licences",
        "unused license",
        "unused licenses",
    ),
    WasteCategory.MOTION: (
        "context switch",
        "context switches",
        "context switching",
        "task switching",
        "switching",
        "searching",
        "multitasking",
        "interruption",
        "interruptions",
        "interrupted",
    ),
    WasteCategory.EXTRA_PROCESSING: (
        "gold plating",
        "goldplating",
        "overengineering",
        "overengineered",
        "over engineering",
        "over engineered",
        "redundant",
        "reinventing the wheel",
        "extra process",
    ),
}

_PUNCTUATION = ".,;:!?"


def category_synonyms(category: WasteCategory, *, limit: int = 6) -> tuple[str, ...]:
    """The first few words that quick-log reads as ``category``, for help texts."""
    return _SYNONYMS[category][:limit]


def _normalise(text: str) -> str:
    """Casefold and fold ``-`` and ``_`` into spaces so ``Hand-off`` finds ``hand off``."""
    folded = text.casefold().replace("-", " ").replace("_", " ").replace("–", " ")
    return " ".join(folded.split()).strip(_PUNCTUATION + " ")


# Other spellings of a key or label: dropped from a quick log like the key itself.
_SPELLINGS: dict[str, WasteCategory] = {
    "non utilised talent": WasteCategory.NON_UTILIZED_TALENT,
    "nonutilized talent": WasteCategory.NON_UTILIZED_TALENT,
    "over production": WasteCategory.OVERPRODUCTION,
    "extraprocessing": WasteCategory.EXTRA_PROCESSING,
}

_CANONICAL: dict[str, WasteCategory] = {
    **_SPELLINGS,
    **{_normalise(name): key for key, info in CATEGORIES.items() for name in (key, info.label)},
}
_LOOKUP: dict[str, WasteCategory] = {
    **{_normalise(word): key for key, words in _SYNONYMS.items() for word in words},
    **_CANONICAL,
}
_LONGEST_NAME = max(len(name.split()) for name in _LOOKUP)
_NAME_STARTS = frozenset(
    " ".join(words[:count])
    for words in (name.split() for name in _LOOKUP)
    for count in range(1, len(words) + 1)
)
"""Every name and its first words (``hand``, ``hand off``): where a quick log's first words
are none of these, no more of its words make a name."""
_WORD = re.compile(r"\S+")


def parse_category(text: str) -> WasteCategory | None:
    """The category named by ``text`` (key, label or synonym, any case), or None."""
    return _LOOKUP.get(_normalise(text))


def _normalise_lines(text: str) -> str:
    """Collapse runs of spaces in each line and drop blank lines at either end."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(lines).strip("\n")


def clean_description(text: str) -> str:
    """Strip ``text`` and check it is a description worth storing."""
    description = without_controls(text).strip()
    if is_blank(description):
        raise InvalidInput(
            f"Say what happened, for example `{WASTE_EXAMPLE}`.", field="description"
        )
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"Keep the description to {MAX_DESCRIPTION} characters; "
            f"this one has {len(description)}.",
            field="description",
        )
    return description


@dataclass(frozen=True, slots=True)
class QuickWaste:
    category: WasteCategory | None
    """None when the text does not start with a category: the user is asked to pick one."""
    minutes: int | None
    description: str
    unread_time: str | None = None
    """Words that look like a time but were not read as the time lost (it comes first)."""


@dataclass(frozen=True, slots=True)
class _Leading:
    category: WasteCategory
    spoken: str
    """The words as typed, e.g. ``Blocked:``."""
    is_keyword: bool
    """True for the category's key or label, False for a synonym."""
    rest: str


_SEPARATING_DASH = re.compile(r"^[-–—]+(?![0-9.])")


def _leading_category(line: str) -> _Leading | None:
    """The category named by the first words of ``line``; the longest name wins.

    Read a word at a time, and only while the words so far begin some name: a quick log's
    first word is seldom more than that, and its other words are not looked up.
    """
    found: tuple[int, WasteCategory, str] | None = None
    for count, word in enumerate(_WORD.finditer(line), start=1):
        end = word.end()
        name = _normalise(line[:end])
        if name and name not in _NAME_STARTS:
            break  # names hold no punctuation: no further word can make this one a name
        category = _LOOKUP.get(name)
        if category is not None:
            found = (end, category, name)
        if count == _LONGEST_NAME:
            break
    if found is None:
        return None
    end, category, name = found
    rest = line[end:].lstrip().lstrip(_PUNCTUATION)
    # "waiting - 2h" loses the dash; "waiting -5h" keeps its minus, to be refused.
    rest = _SEPARATING_DASH.sub("", rest).strip()
    return _Leading(category, line[:end], name in _CANONICAL, rest)


def parse_quick_waste(text: str) -> QuickWaste:
    """Read ``[category] [duration] description``, as in ``waiting 2h for the CI runner``.

    The category word stays in the description, as the person wrote it (``waiting for the CI
    runner``); a duration right after it is taken out, it is the time lost. Only the first
    line is read for the category and duration; the other lines are description as they are.
    """
    first, newline, others = _normalise_lines(text).partition("\n")
    leading, minutes, first = _common_start(first) or _start(first)
    category: WasteCategory | None = None
    kept = ""
    if leading is not None:
        category, kept = leading.category, leading.spoken
        if leading.is_keyword:
            # "/waste waiting 2h" names a kind of waste but not what happened.
            clean_description(first + newline + others)
    description = " ".join(part for part in (kept, first) if part) + newline + others
    description = clean_description(description)
    return QuickWaste(
        category=category,
        minutes=minutes,
        description=description,
        unread_time=None if minutes is not None else find_spoken_time(description),
    )


_Start = tuple[_Leading | None, int | None, str]
"""A first line's category, duration in minutes and the words after them."""


def _start(line: str) -> _Start:
    """The category and the duration that ``line`` (one line, its spaces single) starts with,
    each None when it does not, and the rest of the line."""
    leading = _leading_category(line)
    minutes, rest = split_leading_duration(leading.rest if leading else line)
    return leading, minutes, rest


_COMMON_START = re.compile(r"([A-Za-z]+) ([0-9]{1,3})([A-Za-z]+) (?![Aa][Nn][Dd] )(?=[A-Za-z])")
"""Most quick logs: one word, a whole number and a unit, then words (``waiting 45m for the
build``). The word after the unit begins with a letter, and is not "and", so that no more
duration follows."""


def _common_start(line: str) -> _Start | None:
    """``_start`` for a line of the common shape, read with one match and two lookups (the
    general reading tries each word and each part of a duration in turn); None for any other
    line, and for an amount ``_start`` refuses (zero, over a year). Both give the same:
    ``tests/domain/test_wastes.py`` checks it."""
    match = _COMMON_START.match(line)
    if match is None:
        return None
    word, number, unit = match.groups()
    name = word.lower()
    category = _LOOKUP.get(name)
    size = unit_minutes(unit)
    if category is None or size is None:
        return None
    minutes = int(number) * size
    if not 0 < minutes <= MAX_MINUTES:
        return None
    leading = _Leading(category, word, name in _CANONICAL, line[match.end(1) + 1 :])
    return leading, minutes, line[match.end() :]


# "… in Testing": the greedy prefix makes this the last "in" of the line.
_STEP_SUFFIX = re.compile(r"(?P<before>.*\s)?in\s+(?P<hint>.*?)[.!]*", re.IGNORECASE)


def _split_step_hint(reason: str) -> tuple[str, str | None]:
    """Split ``reason`` into what comes before its last ``in`` and the words after it."""
    head, newline, last_line = reason.rpartition("\n")
    match = _STEP_SUFFIX.fullmatch(last_line)
    if match is None:
        return reason, None
    hint = match["hint"].strip()
    if not hint or len(hint) > MAX_STEP_NAME:
        return reason, None
    return (head + newline + (match["before"] or "")).rstrip(), hint


@dataclass(frozen=True, slots=True)
class QuickWait:
    minutes: int
    reason: str
    """Everything after the duration, including any ``in ‹step›``."""
    step_hint: str | None
    """The words after the last ``in``: a step name, if the map has a step called that."""

    @property
    def reason_without_step(self) -> str:
        """The reason with its ``in ‹step›`` suffix removed, once the hint named a step."""
        without, hint = _split_step_hint(self.reason)
        # "/wait 2d in Testing" has nothing else to say: keep the words rather than store "".
        return without if hint is not None and without else self.reason


def parse_quick_wait(text: str) -> QuickWait:
    """Read ``duration reason [in step]``, as in ``2d test environment in Testing``."""
    normalised = _normalise_lines(text)
    minutes, reason = split_leading_duration(normalised)
    if minutes is None:
        raise InvalidInput(
            f"Start with how long you waited, for example `{WAIT_EXAMPLE}`.", field="duration"
        )
    if not reason:
        raise InvalidInput(
            f"Say what you waited for, for example `{WAIT_EXAMPLE}`.", field="reason"
        )
    reason = clean_description(reason)
    _, hint = _split_step_hint(reason)
    return QuickWait(minutes=minutes, reason=reason, step_hint=hint)
