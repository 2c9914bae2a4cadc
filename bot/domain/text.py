"""Rules for the one-line texts people type: titles, action items."""

from __future__ import annotations

import re

from bot.domain.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab and newlines: NUL cannot even be stored in PostgreSQL."""

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
"""Characters that take no room on screen (zero-width spaces and joiners, direction marks)."""


def without_controls(text: str) -> str:
    """``text`` without control characters (tabs and newlines stay)."""
    return _CONTROL.sub("", text)


def is_blank(text: str) -> bool:
    """Nothing a reader would see: only spaces, invisible or control characters."""
    return not _INVISIBLE.sub("", without_controls(text)).strip()


def clean_line(text: str, *, limit: int, missing: str, noun: str, field: str) -> str:
    """Spaces collapsed to one line of 1 to ``limit`` characters, or a message saying why not."""
    line = " ".join(without_controls(text).split())
    if is_blank(line):
        raise InvalidInput(missing, field=field)
    if len(line) > limit:
        raise InvalidInput(
            f"Keep {noun} to {limit} characters; this one has {len(line)}.", field=field
        )
    return line
