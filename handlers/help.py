"""Slash commands' common opening (parse, who asks, help), and the commands not built yet."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.usecases.work import Origin
from bot.views.common import clip, escape
from bot.views.help import build_help
from handlers.payloads import Command

CommandListener = Callable[[AsyncAck, Command, AsyncWebClient, Origin, Deps], Awaitable[None]]

HELP_WORDS = {"help", "?", "-h", "--help"}
MAX_WORD_SHOWN = 40
"""An unknown word is echoed back this long at most (a pasted page is not)."""


def unknown_subcommand(cmd: Command) -> str | None:
    """The problem line for an unknown subcommand, or None when help was asked for."""
    if cmd.subcommand in HELP_WORDS:
        return None
    word = clip(cmd.subcommand, MAX_WORD_SHOWN).replace("`", "'")
    return f"I don't know `{cmd.command} {escape(word)}`."


def register_command(app: AsyncApp, name: str, listener: CommandListener) -> None:
    """Listen for ``name``: ``listener`` gets the parsed command and who asks; help words are
    answered with the command's help before it is called."""

    async def answer(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
    ) -> None:
        cmd = Command.model_validate(body)
        if cmd.subcommand in HELP_WORDS:
            await ack(**build_help(name))
            return
        await listener(ack, cmd, client, Origin.of(context), deps)

    answer.__name__ = listener.__name__
    app.command(name)(answer)
