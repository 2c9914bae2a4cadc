"""Rules for the one-line texts people type: titles, action items."""

from __future__ import annotations

from bot.domain.errors import InvalidInput


def clean_line(text: str, *, limit: int, missing: str, noun: str, field: str) -> str:
    """Spaces collapsed to one line of 1 to ``limit`` characters, or a message saying why not."""
    line = " ".join(text.split())
    if not line:
        raise InvalidInput(missing, field=field)
    if len(line) > limit:
        raise InvalidInput(
            f"Keep {noun} to {limit} characters; this one has {len(line)}.", field=field
        )
    return line
