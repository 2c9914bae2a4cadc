"""Messages every feature shares: apologies, errors, the invite hint, help."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

Message = dict[str, Any]


def build_apology(error_id: str) -> str:
    return (
        f":warning: Sorry, something went wrong on our side and nothing was changed. "
        f"If it keeps happening, tell your Slack admin the error id `{error_id}`."
    )


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


def context_line(text: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()
