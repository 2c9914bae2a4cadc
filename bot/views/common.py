"""Messages every feature shares: apologies, errors, the invite hint, help."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.vsm import Step
from bot.domain.wastes import CATEGORIES, WasteCategory

Message = dict[str, Any]


def escape(text: str) -> str:
    """Text typed by a user, made safe to show inside mrkdwn (no stray links or mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str, **extra: Any) -> dict[str, Any]:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, 3000)), **extra).to_dict()


def metadata_json(metadata: dict[str, Any]) -> str:
    """A modal's ``private_metadata``: compact, as its limit is 3000 characters."""
    return json.dumps(metadata, separators=(",", ":"))


def category_options() -> list[Option]:
    """The eight wastes as select options, each with its one-line software meaning."""
    return [
        Option(value=c.value, text=CATEGORIES[c].label, description=CATEGORIES[c].meaning)
        for c in WasteCategory
    ]


def step_options(steps: Sequence[Step]) -> list[Option]:
    """A map's steps as select options (a static select holds at most 100)."""
    return [Option(value=str(s.id), text=s.name[:75]) for s in steps[:100] if s.id is not None]


def build_apology(error_id: str) -> str:
    return (
        f":warning: Sorry, something went wrong on our side and nothing was changed. "
        f"If it keeps happening, tell your Slack admin the error id `{error_id}`."
    )


def build_not_saved_modal(message: str) -> dict[str, Any]:
    """Pushed over a form whose write failed: the form stays open beneath, as it was typed."""
    text = (
        f"{message}\n\nClose this to go back to your form (what you typed is still there) "
        "and submit it again."
    )
    return View(
        type="modal", title="Not saved", close="Back to the form", blocks=[section(text)]
    ).to_dict()


def build_error(message: str) -> Message:
    """An ephemeral reply for input the user can fix."""
    return {"response_type": "ephemeral", "text": f":warning: {message}"}


def build_ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> Message:
    message: Message = {"response_type": "ephemeral", "text": text}
    if blocks:
        message["blocks"] = blocks
    return message


def build_not_in_channel(channel_id: str) -> Message:
    return build_ephemeral(
        "I'm not in this channel yet.",
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f":wave: I'm not a member of <#{channel_id}> yet, so I can't post here. "
                        "Type `/invite @kaizen-bot` in the channel, then try again. "
                        "Nothing you typed was lost: it is stored."
                    )
                )
            ).to_dict()
        ],
    )


def with_invite_hint(message: Message, channel_id: str) -> Message:
    """``message`` followed by how to invite the bot into ``channel_id``."""
    hint = build_not_in_channel(channel_id)
    return {
        "text": f"{message.get('text', '')} {hint['text']}".strip(),
        "blocks": [*message.get("blocks", []), *hint["blocks"]],
    }


def with_invite_note(message: Message, channel_id: str) -> Message:
    """A confirmation of something stored, noting the bot is not in ``channel_id`` and how to
    invite it (without "try again": nothing needs doing again)."""
    note = (
        f":wave: I'm not a member of <#{channel_id}>, so I can't post there (theme messages, "
        "maps, digests). Type `/invite @kaizen-bot` in the channel to add me."
    )
    return {
        "text": f"{message.get('text', '')} {note}".strip(),
        "blocks": [*message.get("blocks", []), context_line(note)],
    }


def context_line(text: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()
