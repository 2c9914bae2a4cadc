"""Commands whose feature is not built yet: they answer their help and say so plainly."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.views.common import clip, escape
from bot.views.help import build_help
from handlers.payloads import Command

HELP_WORDS = {"help", "?", "-h", "--help"}
MAX_WORD_SHOWN = 40
"""An unknown word is echoed back this long at most (a pasted page is not)."""


def unknown_subcommand(cmd: Command) -> str | None:
    """The problem line for an unknown subcommand, or None when help was asked for."""
    if cmd.subcommand in HELP_WORDS:
        return None
    word = clip(cmd.subcommand, MAX_WORD_SHOWN).replace("`", "'")
    return f"I don't know `{cmd.command} {escape(word)}`."


def register_placeholder(app: AsyncApp, command: str) -> None:
    async def answer_help(ack: AsyncAck, body: dict[str, Any]) -> None:
        cmd = Command.model_validate(body)
        problem = unknown_subcommand(cmd) if cmd.subcommand else None
        await ack(**build_help(command, problem=problem, not_built=True))

    app.command(command)(answer_help)
