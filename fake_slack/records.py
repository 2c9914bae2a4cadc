"""What the fake Slack keeps and answers with: its records, its errors, small pure helpers."""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .blockkit import MESSAGE_TEXT_MAX, BlockError, check_message_blocks

Json = dict[str, Any]

# Slack lets a response_url be used five times (within 30 minutes).
RESPONSE_URL_USES = 5
CREATED = 1_700_000_000


@dataclass(frozen=True)
class Call:
    """One request the fake received, with its arguments decoded and what it answered."""

    method: str
    args: dict[str, Any]
    headers: Mapping[str, str]
    status: int = 200
    response: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/Berlin"
    tz_offset: int = 0
    is_bot: bool = False
    email: str | None = None
    deleted: bool = False


@dataclass
class FakeChannel:
    id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    # None: membership unknown, anyone may be addressed in it.
    members: list[str] | None = None
    is_im: bool = False


@dataclass
class FakeFile:
    """A file uploaded through files.getUploadURLExternal and files.completeUploadExternal."""

    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes = b""
    uploaded: bool = False
    completed: bool = False
    channel_id: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class Fault:
    kind: Literal["error", "ratelimit", "server"]
    error: str = ""
    retry_after: int = 1
    status: int = 500


@dataclass
class Hold:
    """A call kept waiting by ``FakeSlack.hold_next``: ``arrived`` once it came in."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class ResponseUrl:
    name: str
    channel: str | None
    user: str | None
    message_ts: str | None
    uses: int = 0


class SlackError(Exception):
    def __init__(self, error: str, *, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.payload: Json = {"ok": False, "error": error, **extra}
        if messages:
            self.payload["response_metadata"] = {"messages": messages}


def error_payload(error: str) -> Json:
    return {"ok": False, "error": error}


def required_str(args: Json, key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise SlackError("invalid_arguments", messages=[f"[ERROR] missing required field: {key}"])
    return value


def check_message_content(args: Json) -> None:
    text, blocks = args.get("text"), args.get("blocks")
    if not text and not blocks and not args.get("attachments") and not args.get("markdown_text"):
        raise SlackError("no_text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        raise SlackError("msg_too_long")
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    errors = check_message_blocks(blocks)
    if errors:
        raise invalid_blocks(errors)


def invalid_blocks(errors: list[BlockError]) -> SlackError:
    return SlackError(
        "invalid_blocks",
        errors=[str(e) for e in errors],
        messages=[f"[ERROR] {e}" for e in errors],
    )


def with_block_ids(blocks: Any) -> Any:
    """A copy of ``blocks`` where each block has a block_id, as Slack assigns them."""
    copied = copy.deepcopy(blocks)
    if isinstance(copied, list):
        for index, block in enumerate(copied):
            if isinstance(block, dict) and "block_id" not in block:
                block["block_id"] = auto_block_id(block, index)
    return copied


def auto_block_id(block: Json, index: int) -> str:
    digest = binascii.crc32(json.dumps(block, sort_keys=True).encode()) ^ index
    return base64.b32encode(digest.to_bytes(4, "big")).decode().rstrip("=")[:5]


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true")
    return bool(value)


def ts_micros(ts: str) -> int:
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def in_range(ts: str, oldest: Any, latest: Any, *, inclusive: bool) -> bool:
    value = ts_micros(ts)
    if isinstance(oldest, str) and oldest:
        low = ts_micros(oldest)
        if value < low or (value == low and not inclusive):
            return False
    if isinstance(latest, str) and latest:
        high = ts_micros(latest)
        if value > high or (value == high and not inclusive):
            return False
    return True


def is_top_level(message: Json) -> bool:
    thread_ts = message.get("thread_ts")
    return thread_ts in (None, message["ts"]) or message.get("subtype") == "thread_broadcast"


def paged(items: list[Any], args: Json, *, default_limit: int) -> tuple[list[Any], Json]:
    try:
        limit = int(args.get("limit") or default_limit)
    except ValueError:
        limit = default_limit
    limit = limit if limit > 0 else default_limit
    offset = decode_cursor(args.get("cursor"))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, {"next_cursor": encode_cursor(offset + limit) if more else ""}


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"next:{offset}".encode()).decode()


def decode_cursor(cursor: Any) -> int:
    if not isinstance(cursor, str) or not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().removeprefix("next:"))
    except (ValueError, binascii.Error):
        raise SlackError("invalid_cursor") from None


def utc_offset(tz: str) -> int:
    try:
        offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset is not None else 0
