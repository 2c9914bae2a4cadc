"""Durations as people type them in Slack (``90m``, ``2h``, ``1d 4h``), stored in whole minutes.

A day is 24 hours and a week 7 days: these are elapsed times (a queue, a wait), not working
hours. Every problem raises ``InvalidInput`` with a message that quotes what was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.errors import InvalidInput

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 24 * MINUTES_PER_HOUR
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
MAX_MINUTES = 365 * MINUTES_PER_DAY

EXAMPLES = "90m, 2h or 1d 4h"

_UNIT_NAMES: dict[int, tuple[str, ...]] = {
    1: ("m", "min", "mins", "minute", "minutes"),
    MINUTES_PER_HOUR: ("h", "hr", "hrs", "hour", "hours"),
    MINUTES_PER_DAY: ("d", "day", "days"),
    MINUTES_PER_WEEK: ("w", "wk", "wks", "week", "weeks"),
}
_UNIT_MINUTES = {name: size for size, names in _UNIT_NAMES.items() for name in names}

# Digits are spelled [0-9] because \d also matches other scripts' digits. Under IGNORECASE,
# [a-z] also matches a few look-alikes ("ſ", the Kelvin sign); the unit table rejects those.
_FLAGS = re.IGNORECASE
_PART = re.compile(
    r"(?P<sign>[-+\u2212])?(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?P<unit>[a-z]+)",
    _FLAGS,
)
# Spoken numbers: "two hours", "half a day", "an hour and a half", "two and a half days".
_NUMBER_WORDS: dict[str, Decimal] = {
    word: Decimal(value)
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ]
    )
} | {
    "a": Decimal(1),
    "an": Decimal(1),
    "a couple of": Decimal(2),
    "couple of": Decimal(2),
    "a few": Decimal(3),
    "fifteen": Decimal(15),
    "twenty": Decimal(20),
    "thirty": Decimal(30),
    "forty": Decimal(40),
    "forty five": Decimal(45),
    "forty-five": Decimal(45),
    "fifty": Decimal(50),
    "sixty": Decimal(60),
    "ninety": Decimal(90),
    "half a": Decimal("0.5"),
    "half an": Decimal("0.5"),
}
_WORD_ALTERNATIVES = "|".join(
    re.escape(word).replace(r"\ ", r"\s+") for word in sorted(_NUMBER_WORDS, key=len, reverse=True)
)
_SPOKEN_PART = re.compile(
    rf"(?P<word>{_WORD_ALTERNATIVES})(?P<and_half>\s+and\s+a\s+half)?\s+(?P<unit>[a-z]+)\b"
    r"(?P<half_after>\s+and\s+a\s+half\b)?",
    _FLAGS,
)
# Any word that names a unit of time, to tell someone their time was not read.
_UNIT_WORDS = r"\b(?:minutes?|mins?|hours?|hrs?|days?|weeks?|wks?)\b"
_UNIT_WORD = re.compile(_UNIT_WORDS, _FLAGS)
_TIME_WORD = re.compile(r"(?:\S+\s+){0,2}(?:[0-9]+\s*)?" + _UNIT_WORDS, _FLAGS)
# Between parts: spaces, or a comma or "and" as in "2 hours and 30 minutes".
_SEPARATOR = re.compile(r"\s*(?:,\s*|and\s+)?", _FLAGS)
_BARE_NUMBER = re.compile(r"[-+\u2212]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", _FLAGS)
# Punctuation people put between a duration and what follows it: "2h - CI runner".
_LEADING_PUNCTUATION = ",;:-–—"


@dataclass(frozen=True, slots=True)
class _Scan:
    minutes: Decimal
    end: int
    negative: bool


def _quote(text: str) -> str:
    shown = " ".join(text.split())
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return f"“{shown}”"


def _read_part(
    text: str, at: int, *, spoken: bool | None
) -> tuple[Decimal | None, re.Match[str] | None]:
    """The amount and match of one part at ``at``: digits, or words once words began."""
    if spoken is not True:
        match = _PART.match(text, at)
        if match is not None:
            return Decimal(match["number"]), match
    if spoken is not False:
        match = _SPOKEN_PART.match(text, at)
        if match is not None:
            amount = _NUMBER_WORDS[" ".join(match["word"].lower().split())]
            if match["and_half"] or match["half_after"]:
                amount += Decimal("0.5")
            return amount, match
    return None, None


def find_spoken_time(text: str) -> str | None:
    """Words in ``text`` that name a time (``for two hours``), to say they were not read."""
    # Most logs name no unit: a search for the unit alone says so in a tenth of the time the
    # whole pattern takes to fail, trying the words before it at every position.
    if _UNIT_WORD.search(text) is None:
        return None
    match = _TIME_WORD.search(text)
    return " ".join(match.group(0).split()) if match else None


def _scan(text: str, pos: int, *, original: str) -> _Scan | None:
    """Read duration parts from ``pos`` for as long as they continue; None if there are none."""
    total = Decimal(0)
    end = pos
    negative = False
    seen: set[int] = set()
    at = pos
    spoken: bool | None = None
    while True:
        amount, match = _read_part(text, at, spoken=spoken)
        if match is None or amount is None:
            break
        unit = _UNIT_MINUTES.get(match["unit"].lower())
        if unit is None:
            break
        spoken = "word" in match.groupdict()
        if match.groupdict().get("sign") not in (None, "+"):
            negative = True
        if unit in seen:
            raise InvalidInput(
                f"{_quote(original)} names the same unit twice: use each of m, h, d and w once, "
                f"as in {EXAMPLES}."
            )
        seen.add(unit)
        total += amount * unit
        end = match.end()
        separator = _SEPARATOR.match(text, end)
        at = separator.end() if separator else end
    if not seen:
        return None
    return _Scan(minutes=total, end=end, negative=negative)


def _checked_minutes(scan: _Scan, original: str) -> int:
    if scan.negative:
        raise InvalidInput(
            f"{_quote(original)} is negative: type how long it took, like {EXAMPLES}."
        )
    # Checked before rounding: quantize() fails on numbers wider than the decimal context.
    if scan.minutes >= MAX_MINUTES + Decimal("0.5"):
        raise InvalidInput(
            f"{_quote(original)} is longer than 365 days, the longest duration I take."
        )
    minutes = int(scan.minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if minutes <= 0:
        if scan.minutes == 0:
            raise InvalidInput(f"{_quote(original)} is zero: a duration is at least 1 minute.")
        raise InvalidInput(
            f"{_quote(original)} is less than a minute: a duration is at least 1 minute."
        )
    return minutes


def parse_duration(text: str) -> int:
    """Minutes in ``text`` such as ``90m``, ``1.5h``, ``2h30m``, ``1d 4h`` or ``3 days``."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"Type how long, like {EXAMPLES}.")
    scan = _scan(stripped, 0, original=stripped)
    if scan is None or scan.end != len(stripped):
        if _BARE_NUMBER.fullmatch(stripped) or (
            scan is not None and _BARE_NUMBER.fullmatch(stripped[scan.end :].strip(" ,"))
        ):
            raise InvalidInput(
                f"{_quote(stripped)} has no unit. Add a unit: m, h, d or w, as in {EXAMPLES}."
            )
        raise InvalidInput(f"{_quote(stripped)} is not a duration I can read. Try {EXAMPLES}.")
    return _checked_minutes(scan, stripped)


def unit_minutes(unit: str) -> int | None:
    """Minutes in one ``unit`` as typed (``h``, ``mins``, ``Days``); None for no unit."""
    return _UNIT_MINUTES.get(unit.lower())


def split_leading_duration(text: str) -> tuple[int | None, str]:
    """Split ``"2h 30m for the CI runner"`` into ``(150, "for the CI runner")``.

    Text that does not start with a duration comes back unchanged with ``None``. A leading
    duration that is there but out of range (``0h``, ``400d``) raises rather than being read
    as part of the description, so the user learns their number was not taken.
    """
    start = len(text) - len(text.lstrip())
    scan = _scan(text, start, original=text)
    if scan is None:
        return None, text
    original = text[start : scan.end]
    minutes = _checked_minutes(scan, original)
    rest = text[scan.end :].lstrip().lstrip(_LEADING_PUNCTUATION).strip()
    return minutes, rest


def format_duration(minutes: float, *, exact: bool = False) -> str:
    """The one way a duration is shown, in text, images and exports: ``45 min``, ``1 h 30 min``,
    ``2 d``, ``2 d 4 h``; ``parse_duration`` reads every one of them back.

    Two units at most, the smaller rounded, unless ``exact`` (a form's initial value), which
    keeps every unit down to the minute. Days are 24 h; no weeks, so sizes compare at a glance.
    """
    total = round(minutes)
    if total < 0:
        return "−" + format_duration(-total, exact=exact)
    if total == 0:
        return "0 min"
    days, rest = divmod(total, MINUTES_PER_DAY)
    hours, mins = divmod(rest, MINUTES_PER_HOUR)
    if not exact and days:
        hours = round(rest / MINUTES_PER_HOUR)
        mins = 0
        if hours == 24:
            days, hours = days + 1, 0
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return " ".join(parts)
