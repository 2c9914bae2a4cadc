"""Usage help for every slash command, shown for ``help`` and for an unknown subcommand."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import HeaderBlock, MarkdownTextObject, SectionBlock

from bot import ids
from bot.domain.wastes import CATEGORIES, category_synonyms
from bot.views.common import build_ephemeral

Usage = tuple[str, str]

HELP: dict[str, tuple[str, list[Usage]]] = {
    ids.CMD_WASTE: (
        "Log a waste you just ran into: it takes seconds and feeds the team's weekly digest.",
        [
            ("/waste", "open the form (category, what happened, step, time lost, link)"),
            ("/waste waiting 2h for the CI runner", "quick log: category, time lost, what"),
            ("/waste list", "your recent logs in this channel"),
            ("/waste help", "this help"),
        ],
    ),
    ids.CMD_WAIT: (
        "Log time spent waiting; it feeds the measured wait per step of the value stream map.",
        [
            ("/wait", "open the form (step, how long, reason, work item)"),
            ("/wait 2d test environment in Testing", "quick log: how long, why, [in step]"),
            ("/wait help", "this help"),
        ],
    ),
    ids.CMD_VSM: (
        "The channel's value stream map: steps, waits, and where the time goes.",
        [
            ("/vsm", "draw the current-state map in the channel, with its metrics"),
            ("/vsm add [future] [‹name›]", "add a step to the current (or future) map"),
            ("/vsm edit [future] ‹step›", "change a step: times, %C&A, owner, place"),
            ("/vsm move [future] ‹step› after|before ‹step›", "reorder; also `… first`, `… last`"),
            ("/vsm remove [future] ‹step›", "remove a step (asks first)"),
            ("/vsm future", "draw the future-state map"),
            ("/vsm compare", "current vs future: lead time, process time, flow efficiency"),
            ("/vsm help", "this help"),
        ],
    ),
    ids.CMD_KAIZEN: (
        "The improvement backlog: themes voted on with reactions, experiments, action items.",
        [
            ("/kaizen", "the backlog, ranked by votes"),
            ("/kaizen add", "propose an improvement theme (with an optional hypothesis)"),
            ("/kaizen show K-12", "one theme with its votes, actions and history"),
            ("/kaizen select|start|done|drop K-12", "move a theme along"),
            ("/kaizen action", "add an action item"),
            ("/kaizen settings", "this channel's digest time, emoji and vote limit"),
            ("/kaizen subscribe|unsubscribe", "the weekly digest by DM"),
            ("/kaizen export [json]", "this channel's data as a CSV (or JSON) file, sent to you"),
        ],
    ),
    ids.CMD_RETRO: (
        "Async retrospectives in a channel thread, grounded in the waste logged since the last.",
        [
            ("/retro start", "start a retro"),
            ("/retro status", "where the current retro is"),
            ("/retro close", "move the current retro to its next phase now"),
        ],
    ),
    ids.CMD_FLOW: (
        "The flow summary for this channel now, the same as the weekly digest.",
        [
            ("/flow", "this week"),
            ("/flow month", "the last month"),
            ("/flow quarter", "the quarter"),
        ],
    ),
}


def _waste_guide() -> list[dict[str, Any]]:
    """The eight kinds of waste with the words quick-log reads, and the other ways to log."""
    kinds = "\n".join(
        f"{info.emoji} *{info.label}* (`{key.value}`): " + ", ".join(category_synonyms(key))
        for key, info in CATEGORIES.items()
    )
    ways = (
        "*Other ways to log*\n"
        "• React with :wastebasket: (the channel's waste emoji, see `/kaizen settings`) on any "
        "message: it is logged as a waste linked to that message, and I ask you which kind. "
        "Remove the reaction to take it back.\n"
        "• The message shortcut *Log as waste* (the ⋮ menu of a message, then *Log as waste*) "
        "opens the form filled in with the message and its link."
    )
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text="*The eight kinds of waste* and the words that name them in a quick log:\n"
                + kinds
            )
        ).to_dict(),
        SectionBlock(text=MarkdownTextObject(text=ways)).to_dict(),
    ]


def build_help(command: str, *, problem: str | None = None) -> dict[str, Any]:
    intro, usages = HELP[command]
    blocks: list[dict[str, Any]] = []
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":warning: {problem}")).to_dict())
    blocks.append(HeaderBlock(text=f"{command} help").to_dict())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=intro)).to_dict())
    lines = "\n".join(f"`{usage}` — {what}" for usage, what in usages)
    blocks.append(SectionBlock(text=MarkdownTextObject(text=lines)).to_dict())
    if command == ids.CMD_WASTE:
        blocks += _waste_guide()
    fallback = f"{command}: {intro}"
    if problem:
        fallback = f"{problem} {fallback}"
    return build_ephemeral(fallback, blocks)
