"""A logged waste or wait, as listings, exports and digests see it.

``reporter_id`` is None for an anonymous log: no surface can show who wrote it. Its reporter
key (which lets its author undo it or find it among their logs) is kept for
``ANONYMOUS_UNDO_WINDOW`` only; after that the log is nobody's, and nothing in the database
ties it to a person, even for someone holding a copy of the database and its secrets.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

ANONYMOUS_UNDO_WINDOW = timedelta(hours=1)


def reporter_key(workspace_secret: str, user_id: str) -> str:
    """A keyed hash of a reporter: lets authors find and undo their logs, shows no one who."""
    return hmac.new(workspace_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


class Source(StrEnum):
    COMMAND = "command"
    MODAL = "modal"
    SHORTCUT = "shortcut"
    REACTION = "reaction"
    RETRO = "retro"


@dataclass(frozen=True, slots=True)
class LoggedWaste:
    id: int
    channel_id: str
    category: str | None
    """A ``WasteCategory`` value; None while a reaction log waits for its category."""
    description: str
    minutes: int | None
    is_wait: bool
    step_id: int | None
    step_name: str | None
    work_item: str
    link: str
    source: Source
    anonymous: bool
    reporter_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewWaste:
    """What a capture path hands to storage."""

    category: str | None
    description: str
    minutes: int | None = None
    is_wait: bool = False
    step_id: int | None = None
    work_item: str = ""
    link: str = ""
    source: Source = Source.COMMAND
    anonymous: bool = False
    message_ts: str | None = None
