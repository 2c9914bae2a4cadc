"""A channel's settings as the features read them, with the product's defaults."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WASTE_EMOJI = "wastebasket"
DEFAULT_VOTE_EMOJI = "+1"


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    timezone: str = "UTC"
    digest_weekday: int = 0
    """0 is Monday, as in ``datetime.weekday()``."""
    digest_time: str = "09:00"
    digest_enabled: bool = True
    vote_emoji: str = DEFAULT_VOTE_EMOJI
    waste_emoji: str = DEFAULT_WASTE_EMOJI
    vote_limit: int | None = None
