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


def _scan(text: str, pos: int, *, original: str) -> _Scan | None:
    """Read duration parts from ``pos`` for as long as they continue; None if there are none."""
    total = Decimal(0)
    end = pos
    negative = False
    seen: set[int] = set()
    at = pos
    while True:
        match = _PART.match(text, at)
        if match is None:
            break
        unit = _UNIT_MINUTES.get(match["unit"].lower())
        if unit is None:
            break
        if match["sign"] is not None and match["sign"] != "+":
            negative = True
        if unit in seen:
            raise InvalidInput(
                f"{_quote(original)} names the same unit twice: use each of m, h, d and w once, "
                f"as in {EXAMPLES}."
            )
        seen.add(unit)
        total += Decimal(match["number"]) * unit
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


def format_duration(minutes: int) -> str:
    """Compact form that ``parse_duration`` reads back: ``45m``, ``2h 30m``, ``10d``, ``2w``.

    Weeks only for whole weeks: people say "10 days", not "a week and three days".
    """
    if minutes < 0:
        raise ValueError(f"negative duration: {minutes}")
    if minutes == 0:
        return "0m"
    if minutes % MINUTES_PER_WEEK == 0:
        return f"{minutes // MINUTES_PER_WEEK}w"
    parts: list[str] = []
    remaining = minutes
    for size, unit in (
        (MINUTES_PER_DAY, "d"),
        (MINUTES_PER_HOUR, "h"),
        (1, "m"),
    ):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)


def _one_decimal(value: float) -> str:
    shown = f"{value:.1f}"
    return shown.removesuffix(".0")


def format_hours(minutes: float) -> str:
    """A short reading of a measured time for summaries: ``45 min``, ``3.5 h``, ``2.1 d``.

    Minutes below two hours, hours below two days, days beyond: the unit that keeps the
    number small without hiding the difference between, say, 3 h and 5 h.
    """
    size = abs(minutes)
    if round(size) < 2 * MINUTES_PER_HOUR:
        return f"{round(minutes)} min"
    if round(size / MINUTES_PER_HOUR, 1) < 48:
        return f"{_one_decimal(minutes / MINUTES_PER_HOUR)} h"
    return f"{_one_decimal(minutes / MINUTES_PER_DAY)} d"
