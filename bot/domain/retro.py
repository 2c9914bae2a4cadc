"""Async retro rules: the templates and their columns, and the order and timing of phases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.observations import LoggedWaste
from bot.domain.text import clean_line
from bot.domain.wastes import CATEGORIES, WasteCategory

MAX_NOTE = 1000
MAX_RETRO_TITLE = 150
MAX_VOTES_PER_PERSON = 20
DEFAULT_VOTES_PER_PERSON = 3
FIRST_WINDOW = timedelta(days=14)
"""What the first retro of a channel looks back over (later ones: since the previous one)."""
TOP_NOTES = 3


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


TEMPLATE_PROMPTS: Mapping[RetroTemplate, str] = MappingProxyType(
    {
        RetroTemplate.DOWNTIME: "Walk the eight wastes: where did time, effort or talent go "
        "to waste since the last retro? Each note names its kind of waste.",
        RetroTemplate.START_STOP_CONTINUE: "What should we *start* doing, *stop* doing, "
        "and *continue* doing?",
        RetroTemplate.MAD_SAD_GLAD: "What made you *mad*, what made you *sad*, what made you "
        "*glad*?",
        RetroTemplate.FOUR_LS: "What did you *like*, what did you *learn*, what was *lacking*, "
        "what did you *long for*?",
    }
)


def column_label(template: RetroTemplate, column: str) -> str:
    """How a note's column reads: a waste's label for the waste walk, else the column itself."""
    if template is RetroTemplate.DOWNTIME:
        try:
            return CATEGORIES[WasteCategory(column)].label
        except ValueError:
            return column
    return column


def clean_note(text: str, template: RetroTemplate, column: str | None) -> tuple[str, str]:
    """The column and the note's text as stored, or InvalidInput naming the field."""
    if column not in TEMPLATE_COLUMNS[template]:
        what = "kind of waste" if template is RetroTemplate.DOWNTIME else "column"
        raise InvalidInput(f"Pick the {what} this note belongs to.", field="column")
    body = "\n".join(line.rstrip() for line in text.strip().splitlines()).strip()
    if not body:
        raise InvalidInput("Write the note: it can't be empty.", field="text")
    if len(body) > MAX_NOTE:
        raise InvalidInput(
            f"Keep a note to {MAX_NOTE} characters; this one has {len(body)}.", field="text"
        )
    return column, body


def clean_retro_title(text: str) -> str:
    return clean_line(
        text,
        limit=MAX_RETRO_TITLE,
        missing="Give the retro a title.",
        noun="the title",
        field="title",
    )


def clean_votes_per_person(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_VOTES_PER_PERSON:
        raise InvalidInput(
            f"Votes per person is a whole number from 1 to {MAX_VOTES_PER_PERSON}.",
            field="votes",
        )
    return int(value)


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


OPEN_PHASES = frozenset({RetroPhase.COLLECT, RetroPhase.VOTE})
"""A channel has at most one retro in these phases; a summary no longer holds the channel."""


@dataclass(frozen=True, slots=True)
class Retro:
    id: int
    channel_id: str
    title: str
    template: RetroTemplate
    phase: RetroPhase
    facilitator_id: str
    anonymous: bool
    votes_per_person: int
    collect_until: datetime
    vote_until: datetime
    message_ts: str | None
    created_at: datetime
    nudged: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """A retro note. ``author_id`` is None when the retro is anonymous: no surface can say who."""

    id: int
    retro_id: int
    column: str
    text: str
    author_id: str | None
    message_ts: str | None
    created_at: datetime
    votes: int = 0


class VoteResult(StrEnum):
    COUNTED = "counted"
    ALREADY_COUNTED = "already_counted"
    OVER_LIMIT = "over_limit"
    NOT_VOTING = "not_voting"
    """The retro is not in its vote phase: a reaction counts for nothing."""


def rank_notes(notes: Sequence[Note]) -> list[Note]:
    """Most votes first; among equals, the note written first."""
    return sorted(notes, key=lambda n: (-n.votes, n.created_at, n.id))


def check_facilitator(retro: Retro, user_id: str) -> None:
    if user_id != retro.facilitator_id:
        raise NotAllowed(
            f"Only the facilitator, <@{retro.facilitator_id}>, can move this retro on early. "
            "It moves on by itself at its deadline."
        )


def check_collecting(retro: Retro) -> None:
    if retro.phase is not RetroPhase.COLLECT:
        raise NotAllowed(
            "Collecting notes for this retro has ended, so notes can't be added or changed. "
            "Vote on the notes in its thread."
        )


def over_limit_message(limit: int) -> str:
    votes = "your one vote" if limit == 1 else f"all {limit} of your votes"
    return (
        f"You have used {votes} in this retro, so that vote was not counted. "
        "Remove one of your votes to vote for this note."
    )


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    category: WasteCategory
    count: int
    minutes: int
    previous_count: int


@dataclass(frozen=True, slots=True)
class WaitCheck:
    """A step's measured wait beside the map's estimate."""

    step_name: str
    estimate_minutes: int
    median_minutes: float
    count: int


@dataclass(frozen=True, slots=True)
class ActionLine:
    text: str
    owner_id: str
    due_date: date | None


@dataclass(frozen=True, slots=True)
class VerdictLine:
    theme_ref: str
    title: str
    verdict: str


@dataclass(frozen=True, slots=True)
class Lookback:
    """What the team logged between the previous retro (or 14 days back) and this one."""

    start: datetime
    end: datetime
    first: bool
    totals: tuple[CategoryTotal, ...]
    costliest: tuple[LoggedWaste, ...]
    waits: tuple[WaitCheck, ...]
    verdicts: tuple[VerdictLine, ...]
    open_actions: tuple[ActionLine, ...]


def lookback_window(
    now: datetime, previous_start: datetime | None
) -> tuple[datetime, datetime, datetime]:
    """(period before, start, end): since the previous retro began, or the last 14 days."""
    start = previous_start if previous_start is not None else now - FIRST_WINDOW
    return start - (now - start), start, now


def waste_totals(
    current: Sequence[LoggedWaste], previous: Sequence[LoggedWaste]
) -> tuple[CategoryTotal, ...]:
    """Per category: logs and minutes lost in the period, and logs the period before."""
    totals = []
    for category in WasteCategory:
        now_logs = [w for w in current if w.category == category.value]
        before = sum(1 for w in previous if w.category == category.value)
        if now_logs or before:
            minutes = sum(w.minutes or 0 for w in now_logs)
            totals.append(CategoryTotal(category, len(now_logs), minutes, before))
    return tuple(sorted(totals, key=lambda t: (-t.minutes, -t.count, t.category.value)))


def costliest(logs: Sequence[LoggedWaste], count: int = 3) -> tuple[LoggedWaste, ...]:
    """The logs that cost the most time, most first."""
    timed = [w for w in logs if w.minutes]
    return tuple(sorted(timed, key=lambda w: (-(w.minutes or 0), w.created_at, w.id))[:count])


@dataclass(frozen=True, slots=True)
class RetroRecord:
    """A retro as the export writes it, with its notes once they are revealed."""

    retro: Retro
    notes: tuple[Note, ...]
