"""Block Kit for capturing waste and waits: the modals, confirmations, the category picker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.durations import format_duration
from bot.domain.observations import LoggedWaste
from bot.domain.vsm import Step
from bot.domain.wastes import CATEGORIES, MAX_DESCRIPTION, WasteCategory
from bot.views.common import (
    Message,
    build_ephemeral,
    category_options,
    clip,
    context_line,
    escape,
    metadata_json,
    slack_date,
    step_options,
)

MAX_LINK = 500
MAX_WORK_ITEM = 200


def category_label(category: str | None) -> str:
    if category is None:
        return ":grey_question: Uncategorised"
    info = CATEGORIES[WasteCategory(category)]
    return f"{info.emoji} {info.label}"


def _step_input(block_id: str, steps: Sequence[Step], *, hint: str) -> InputBlock | None:
    if not steps:
        return None
    return InputBlock(
        block_id=block_id,
        label="Step of the value stream",
        optional=True,
        hint=hint,
        element=StaticSelectElement(
            action_id=ids.ACTION_WASTE_INPUT,
            placeholder="Where in the stream?",
            options=step_options(steps),
        ),
    )


def _channel_input() -> InputBlock:
    return InputBlock(
        block_id=ids.BLOCK_WASTE_CHANNEL,
        label="Channel",
        element=ConversationSelectElement(
            action_id=ids.ACTION_WASTE_INPUT,
            placeholder="Which team's channel?",
            default_to_current_conversation=True,
            filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
        ),
    )


def build_waste_modal(
    *,
    metadata: dict[str, Any],
    steps: Sequence[Step],
    description: str = "",
    link: str = "",
    ask_channel: bool = False,
) -> dict[str, Any]:
    blocks: list[Any] = []
    if ask_channel:
        blocks.append(_channel_input())
    blocks.append(
        InputBlock(
            block_id=ids.BLOCK_WASTE_CATEGORY,
            label="Kind of waste",
            element=StaticSelectElement(
                action_id=ids.ACTION_WASTE_INPUT,
                placeholder="Pick one of the eight wastes",
                options=category_options(),
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=ids.BLOCK_WASTE_DESCRIPTION,
            label="What happened?",
            element=PlainTextInputElement(
                action_id=ids.ACTION_WASTE_INPUT,
                multiline=True,
                max_length=MAX_DESCRIPTION,
                initial_value=description[:MAX_DESCRIPTION] or None,
                placeholder="e.g. Waited two hours for a CI runner",
            ),
        )
    )
    step = _step_input(ids.BLOCK_WASTE_STEP, steps, hint="Links the waste to a step of /vsm.")
    if step is not None:
        blocks.append(step)
    blocks.append(
        InputBlock(
            block_id=ids.BLOCK_WASTE_MINUTES,
            label="Time lost",
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.ACTION_WASTE_INPUT, placeholder="e.g. 90m, 2h, 1d 4h"
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=ids.BLOCK_WASTE_LINK,
            label="Link",
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.ACTION_WASTE_INPUT,
                max_length=MAX_LINK,
                initial_value=link[:MAX_LINK] or None,
                placeholder="https://…",
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=ids.BLOCK_WASTE_ANONYMOUS,
            label="Privacy",
            optional=True,
            element=CheckboxesElement(
                action_id=ids.ACTION_WASTE_INPUT,
                options=[
                    Option(
                        value="anonymous",
                        text="Log anonymously",
                        description="Teammates won't see that it was you; you can still undo it.",
                    )
                ],
            ),
        )
    )
    return View(
        type="modal",
        callback_id=ids.VIEW_WASTE,
        title="Log a waste",
        submit="Log it",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


def build_wait_modal(
    *, metadata: dict[str, Any], steps: Sequence[Step], ask_channel: bool = False
) -> dict[str, Any]:
    blocks: list[Any] = []
    if ask_channel:
        blocks.append(_channel_input())
    step = _step_input(ids.BLOCK_WAIT_STEP, steps, hint="Feeds the measured wait of that step.")
    if step is not None:
        blocks.append(step)
    blocks += [
        InputBlock(
            block_id=ids.BLOCK_WAIT_MINUTES,
            label="How long did you wait?",
            element=PlainTextInputElement(
                action_id=ids.ACTION_WAIT_INPUT, placeholder="e.g. 2d, 4h, 1d 4h"
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_WAIT_REASON,
            label="What for?",
            element=PlainTextInputElement(
                action_id=ids.ACTION_WAIT_INPUT,
                multiline=True,
                max_length=MAX_DESCRIPTION,
                placeholder="e.g. the test environment to be free",
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_WAIT_WORK_ITEM,
            label="Work item",
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.ACTION_WAIT_INPUT,
                max_length=MAX_WORK_ITEM,
                placeholder="e.g. PET-142",
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_WAIT,
        title="Log a wait",
        submit="Log it",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


def describe(waste: LoggedWaste) -> str:
    """One line of mrkdwn: category, time lost, step, and the description."""
    parts = [f"*{category_label(waste.category)}*"]
    if waste.minutes:
        parts.append(f"{'waited' if waste.is_wait else 'lost'} {format_duration(waste.minutes)}")
    if waste.step_name:
        parts.append(f"at _{escape(waste.step_name)}_")
    head = " · ".join(parts)
    text = escape(waste.description)
    if len(text) > 600:
        text = text[:600] + "…"
    return f"{head}\n>{text}" if text else head


def _undo_button(waste: LoggedWaste) -> ButtonElement:
    return ButtonElement(action_id=ids.ACTION_WASTE_UNDO, text="Undo", value=str(waste.id))


def logged_section(text: str, waste_id: int) -> dict[str, Any]:
    """The confirmation's first block, written out as the dict slack_sdk's models make of it:
    every log sends one, and validating it through the models costs more than the rest of the
    reply. ``tests/views/test_waste.py`` checks it against the models."""
    return {
        "accessory": {
            "action_id": ids.ACTION_WASTE_UNDO,
            "text": {"emoji": True, "text": "Undo", "type": "plain_text"},
            "type": "button",
            "value": str(waste_id),
        },
        "text": {"text": clip(text, 3000), "type": "mrkdwn"},
        "type": "section",
    }


def build_waste_confirmation(
    waste: LoggedWaste,
    *,
    unread_time: str | None = None,
    unknown_step: str | None = None,
    steps: Sequence[Step] = (),
) -> Message:
    """The ephemeral "Logged" with Undo; it says what it could not read rather than guess.

    ``unread_time``: words that looked like a time but were not taken as the time lost.
    ``unknown_step``: a step name that matches no step of ``steps``, which are offered instead.
    """
    noun = "wait" if waste.is_wait else "waste"
    note = " anonymously" if waste.anonymous else ""
    blocks = [logged_section(f":white_check_mark: Logged{note}: {describe(waste)}", waste.id)]
    if waste.link:
        blocks.append(context_line(f"Linked to {waste.link}"))
    if unread_time:
        blocks.append(
            context_line(
                f":grey_question: No time lost recorded: I did not understand "
                f"“{escape(unread_time)}” as a time. Put the time right after the kind of "
                f"waste, as in `/waste waiting 2h for the CI runner` (or `two hours`, "
                f"`half a day`), then Undo this one."
            )
        )
    if unknown_step and steps:
        blocks += build_step_picker(waste, unknown_step, steps)
    if waste.category is None:
        blocks += build_category_picker(waste)["blocks"]
    return build_ephemeral(f"Logged your {noun}{note}.", blocks)


MAX_STEP_BUTTONS = 24


def build_step_picker(
    waste: LoggedWaste, unknown_step: str, steps: Sequence[Step]
) -> list[dict[str, Any]]:
    """Buttons for the map's steps after a step name that matched none, and "no step"."""
    shown = list(steps)[:MAX_STEP_BUTTONS]
    buttons = [
        ButtonElement(
            action_id=f"{ids.ACTION_WAIT_PICK_STEP}.{step.id}",
            text=step.name[:75],
            value=f"{waste.id}:{step.id}",
        )
        for step in shown
        if step.id is not None
    ]
    buttons.append(
        ButtonElement(
            action_id=f"{ids.ACTION_WAIT_PICK_STEP}.none",
            text="Log without a step",
            value=f"{waste.id}:",
        )
    )
    names = ", ".join(f"_{escape(step.name)}_" for step in shown)
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":mag: No step of this channel's map is called “{escape(unknown_step)}”, "
                f"so this is logged without a step for now. Which step was it? ({names})"
            )
        ).to_dict(),
        *(
            ActionsBlock(block_id=f"wait.steps.{n}", elements=buttons[n * 5 : n * 5 + 5]).to_dict()
            for n in range((len(buttons) + 4) // 5)
        ),
    ]


def build_category_picker(waste: LoggedWaste) -> Message:
    buttons = [
        ButtonElement(
            action_id=f"{ids.ACTION_WASTE_PICK_CATEGORY}.{c.value}",
            text=f"{CATEGORIES[c].label}",
            value=f"{waste.id}:{c.value}",
        )
        for c in WasteCategory
    ]
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=":mag: *Which kind of waste was it?*")).to_dict(),
        ActionsBlock(block_id="waste.categories.1", elements=buttons[:4]).to_dict(),
        ActionsBlock(block_id="waste.categories.2", elements=buttons[4:]).to_dict(),
    ]
    return build_ephemeral("Which kind of waste was it?", blocks)


def build_reaction_prompt(waste: LoggedWaste, *, permalink: str | None) -> Message:
    where = f"<{permalink}|this message>" if permalink else "this message"
    blocks = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":wastebasket: Logged a waste on {where}. Which kind of waste was it?"
            ),
            accessory=_undo_button(waste),
        ).to_dict(),
        *build_category_picker(waste)["blocks"][1:],
        context_line("Remove your reaction to take the log back."),
    ]
    return build_ephemeral("Logged a waste. Which kind was it?", blocks)


def build_undone(waste: LoggedWaste) -> Message:
    return {
        "replace_original": True,
        "text": f":wastebasket: Undone: the {'wait' if waste.is_wait else 'waste'} is gone.",
    }


UNDO_WINDOW = timedelta(hours=24)
"""Undo is for a log just made by mistake; older logs are part of the team's record."""


def build_waste_list(wastes: Sequence[LoggedWaste], *, now: datetime) -> Message:
    if not wastes:
        return build_ephemeral(
            "You haven't logged any waste in this channel yet. Try `/waste waiting 2h for the CI "
            "runner`, or just `/waste`."
        )
    shown = wastes[:20]
    title = "Your last log here" if len(shown) == 1 else f"Your last {len(shown)} logs here"
    blocks: list[dict[str, Any]] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{title}*")).to_dict()
    ]
    for waste in shown:
        mark = " · :bust_in_silhouette: anonymous" if waste.anonymous else ""
        recent = now - _aware(waste.created_at) <= UNDO_WINDOW
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{describe(waste)}\n_{slack_date(waste.created_at)}{mark}_"
                ),
                accessory=_undo_button(waste) if recent else None,
            ).to_dict()
        )
    if any(now - _aware(w.created_at) > UNDO_WINDOW for w in shown):
        blocks.append(context_line("Undo is offered for the last 24 hours of logs."))
    return build_ephemeral(f"{title} in this channel.", blocks)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
