"""The App Home tab: a person's action items, recent logs, and their channels' top themes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.hypotheses import VERDICT_LABELS
from bot.domain.kaizen import ActionItem, Theme
from bot.domain.observations import LoggedWaste
from bot.views.common import context_line, escape, section
from bot.views.kaizen import VERDICT_EMOJI, action_item_block, status_label, votes_label
from bot.views.waste import describe

MAX_BLOCKS = 100
THEMES_PER_CHANNEL = 3


def _verdict(theme: Theme) -> str:
    """The hypothesis' verdict, once it was checked: `` · hypothesis :white_check_mark: met``."""
    hyp = theme.hypothesis
    if hyp is None or hyp.verdict is None:
        return ""
    return f" · hypothesis {VERDICT_EMOJI[hyp.verdict]} {VERDICT_LABELS[hyp.verdict]}"


def build_home(
    *,
    actions: Sequence[ActionItem],
    logs: Sequence[LoggedWaste],
    channel_themes: Sequence[tuple[str, Sequence[Theme]]],
    today: date,
) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text="Your kaizen").to_dict(),
        ActionsBlock(
            elements=[
                ButtonElement(
                    action_id=ids.ACTION_WASTE_OPEN_MODAL, text="Log a waste", style="primary"
                ),
                ButtonElement(action_id=ids.ACTION_HOME_ADD_THEME, text="Propose a theme"),
            ]
        ).to_dict(),
        DividerBlock().to_dict(),
        section("*Your open action items*"),
    ]
    if actions:
        overdue = sum(1 for a in actions if a.is_overdue(today))
        if overdue:
            blocks.append(context_line(f":warning: {overdue} overdue"))
        blocks += [action_item_block(a, today) for a in actions[:20]]
    else:
        blocks.append(context_line("Nothing open. Action items assigned to you show up here."))
    blocks += [DividerBlock().to_dict(), section("*Top themes in your channels*")]
    if channel_themes:
        for channel_id, themes in channel_themes[:10]:
            lines = [
                f"*{t.ref}* {escape(t.title)} — {votes_label(t.votes)} · {status_label(t.status)}"
                + _verdict(t)
                for t in themes[:THEMES_PER_CHANNEL]
            ]
            blocks.append(section(f"<#{channel_id}>\n" + "\n".join(lines)))
    else:
        blocks.append(
            context_line("No open themes in your channels yet. Propose one: `/kaizen add`.")
        )
    blocks += [DividerBlock().to_dict(), section("*Your recent logs*")]
    if logs:
        blocks += [section(f"{describe(w)}\n_in <#{w.channel_id}>_") for w in logs[:10]]
    else:
        blocks.append(context_line("You haven't logged any waste yet. Try `/waste` in a channel."))
    return View(type="home", blocks=blocks[:MAX_BLOCKS]).to_dict()
