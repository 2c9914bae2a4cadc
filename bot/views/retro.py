"""Block Kit for async retros: the start and note modals, the announcement, notes, summary.

Before the reveal nothing here is handed a note's text except the note modal, which shows a
person only their own notes; the announcement and the status take counts, never notes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    DateTimePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.durations import format_duration
from bot.domain.retro import (
    DEFAULT_TEMPLATE,
    DEFAULT_VOTES_PER_PERSON,
    MAX_NOTE,
    MAX_RETRO_TITLE,
    MAX_VOTES_PER_PERSON,
    TEMPLATE_COLUMNS,
    TEMPLATE_LABELS,
    TEMPLATE_PROMPTS,
    TOP_NOTES,
    Lookback,
    Note,
    Retro,
    RetroPhase,
    RetroTemplate,
    column_label,
)
from bot.domain.wastes import CATEGORIES, WasteCategory
from bot.views.common import (
    Message,
    build_ephemeral,
    category_options,
    clip,
    context_line,
    escape,
    metadata_json,
    section,
)

A = ids.ACTION_RETRO_INPUT
# A link typed into a form, only if it cannot break out of Slack's <url|text> markup.
_SAFE_LINK = re.compile(r"https?://[^\s<>|]+")
MAX_RANKED_SHOWN = 30
PHASE_LABELS = {
    RetroPhase.COLLECT: ":pencil2: Collecting notes",
    RetroPhase.VOTE: ":ballot_box_with_ballot: Voting",
    RetroPhase.SUMMARY: ":checkered_flag: Summary",
    RetroPhase.CLOSED: ":lock: Closed",
}
VERDICT_LABELS = {
    "met": ":white_check_mark: met",
    "not_met": ":x: not met",
    "not_enough_data": ":grey_question: not enough data",
}


def slack_date(moment: datetime) -> str:
    """A time every reader sees in their own zone (Slack's date formatting), UTC as fallback."""
    fallback = f"{moment:%a %d %b %Y %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def button_value(retro: Retro, note_id: int | None = None) -> str:
    """Buttons carry the channel and retro (and note): a copy from elsewhere acts on nothing."""
    value = f"{retro.channel_id}:{retro.id}"
    return f"{value}:{note_id}" if note_id is not None else value


def _notes_label(count: int) -> str:
    return "1 note" if count == 1 else f"{count} notes"


def _people_label(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


# -- modals -----------------------------------------------------------------------------------


def _template_options() -> list[Option]:
    return [Option(value=t.value, text=TEMPLATE_LABELS[t]) for t in RetroTemplate]


def build_start_modal(*, metadata: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The start form; the date-time pickers show each person their own time zone."""
    templates = _template_options()
    collect = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    anonymous = Option(value="anonymous", text="Anonymous notes (nobody sees who wrote what)")
    blocks = [
        InputBlock(
            block_id=ids.BLOCK_RETRO_TITLE,
            label="Title",
            element=PlainTextInputElement(
                action_id=A,
                max_length=MAX_RETRO_TITLE,
                initial_value=f"Retro {now:%d %b %Y}",
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_RETRO_TEMPLATE,
            label="Template",
            element=StaticSelectElement(
                action_id=A,
                options=templates,
                initial_option=next(o for o in templates if o.value == DEFAULT_TEMPLATE.value),
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_RETRO_COLLECT_UNTIL,
            label="Collect notes until",
            element=DateTimePickerElement(action_id=A, initial_date_time=int(collect.timestamp())),
        ),
        InputBlock(
            block_id=ids.BLOCK_RETRO_VOTE_UNTIL,
            label="Vote until",
            element=DateTimePickerElement(
                action_id=A, initial_date_time=int((collect + timedelta(days=1)).timestamp())
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_RETRO_VOTES,
            label="Votes per person",
            element=NumberInputElement(
                action_id=A,
                is_decimal_allowed=False,
                initial_value=DEFAULT_VOTES_PER_PERSON,
                min_value=1,
                max_value=MAX_VOTES_PER_PERSON,
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_RETRO_ANONYMOUS,
            label="Notes",
            optional=True,
            element=CheckboxesElement(
                action_id=A, options=[anonymous], initial_options=[anonymous]
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_RETRO_START,
        title="Start a retro",
        submit="Start",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


def _column_options(template: RetroTemplate) -> list[Option]:
    if template is RetroTemplate.DOWNTIME:
        return category_options()
    return [Option(value=c, text=c) for c in TEMPLATE_COLUMNS[template]]


def build_note_modal(
    *,
    metadata: dict[str, Any],
    retro: Retro,
    own: Sequence[Note],
    editing: Note | None = None,
) -> dict[str, Any]:
    """Add a note (or change ``editing``); the person's own notes below, each with Edit."""
    options = _column_options(retro.template)
    initial = None
    if editing is not None:
        initial = next((o for o in options if o.value == editing.column), None)
    what = "Kind of waste" if retro.template is RetroTemplate.DOWNTIME else "Column"
    blocks: list[Any] = [
        section(f"*{escape(retro.title)}*\n{TEMPLATE_PROMPTS[retro.template]}"),
        InputBlock(
            block_id=ids.BLOCK_RETRO_COLUMN,
            label=what,
            element=StaticSelectElement(action_id=A, options=options, initial_option=initial),
        ),
        InputBlock(
            block_id=ids.BLOCK_RETRO_TEXT,
            label="Your note",
            element=PlainTextInputElement(
                action_id=A,
                multiline=True,
                max_length=MAX_NOTE,
                initial_value=editing.text if editing else None,
            ),
        ),
    ]
    hidden = "Nobody sees who wrote it." if retro.anonymous else "Your name shows on it."
    blocks.append(
        context_line(f":lock: Notes stay hidden until {slack_date(retro.collect_until)}. {hidden}")
    )
    if own and editing is None:
        blocks += [DividerBlock(), section(f"*Your notes so far* ({len(own)})")]
        for note in own[:40]:
            label = column_label(retro.template, note.column)
            edit = ButtonElement(
                action_id=ids.ACTION_RETRO_EDIT_NOTE, text="Edit", value=str(note.id)
            )
            blocks.append(section(f"_{label}_ · {clip(escape(note.text), 300)}", accessory=edit))
    return View(
        type="modal",
        callback_id=ids.VIEW_RETRO_NOTE,
        title="Change your note" if editing else "Add a note",
        submit="Save" if editing else "Add",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


# -- the announcement -------------------------------------------------------------------------


def _change(count: int, before: int) -> str:
    if before == 0:
        return "new" if count else "gone"
    delta = count - before
    if delta == 0:
        return "no change"
    return f"{'+' if delta > 0 else '−'}{abs(delta)} vs before"


def _lookback_lines(lookback: Lookback) -> list[str]:
    since = "the last 14 days" if lookback.first else "since the last retro"
    lines = [f"*What the team logged {since}*"]
    if not lookback.totals:
        lines.append("_No waste logged in this period._")
    compare = any(t.previous_count for t in lookback.totals)
    for total in lookback.totals:
        info = CATEGORIES[total.category]
        lost = f", {format_duration(total.minutes)} lost" if total.minutes else ""
        change = f" ({_change(total.count, total.previous_count)})" if compare else ""
        lines.append(f"{info.emoji} {info.label}: *{total.count}*{lost}{change}")
    if lookback.totals and not compare:
        lines.append("_Nothing was logged in the period before, so there is no change to show._")
    if lookback.costliest:
        lines.append("\n*Cost the most time*")
        for waste in lookback.costliest:
            text = clip(escape(waste.description or "(no description)"), 120)
            if _SAFE_LINK.fullmatch(waste.link):
                text = f"<{waste.link}|{text}>"
            lines.append(f"• {format_duration(waste.minutes or 0)} — {text}")
    return lines


def _more_lines(lookback: Lookback) -> list[str]:
    lines: list[str] = []
    if lookback.waits:
        lines.append("*Measured waits vs the map*")
        for wait in lookback.waits:
            waits = "1 wait" if wait.count == 1 else f"{wait.count} waits"
            lines.append(
                f"• {escape(wait.step_name)}: measured {format_duration(wait.median_minutes)} "
                f"(median of {waits}), map estimate {format_duration(wait.estimate_minutes)}"
            )
    if lookback.verdicts:
        lines.append("*Hypothesis verdicts*")
        for verdict in lookback.verdicts:
            shown = VERDICT_LABELS.get(verdict.verdict, verdict.verdict)
            lines.append(f"• {verdict.theme_ref} {escape(verdict.title)}: {shown}")
    if lookback.open_actions:
        lines.append("*Still open from the last retro*")
        for action in lookback.open_actions:
            due = f", due {action.due_date:%d %b}" if action.due_date else ""
            lines.append(f"• {escape(action.text)} — <@{action.owner_id}>{due}")
    return lines


def _phase_line(retro: Retro, notes: int, people: int) -> str:
    count = f"{_notes_label(notes)} from {_people_label(people)}"
    if retro.phase is RetroPhase.COLLECT:
        return (
            f"*{PHASE_LABELS[retro.phase]}* until {slack_date(retro.collect_until)} · {count} "
            f"so far · voting until {slack_date(retro.vote_until)}"
        )
    if retro.phase is RetroPhase.VOTE:
        return (
            f"*{PHASE_LABELS[retro.phase]}* until {slack_date(retro.vote_until)} · {count} "
            "in the thread"
        )
    return f"*{PHASE_LABELS[retro.phase]}* · {count} · see the thread"


def build_announcement(
    retro: Retro, lookback: Lookback, *, notes: int, people: int, vote_emoji: str
) -> Message:
    """The retro's thread root: prompts, deadlines, the data, and counts (never notes)."""
    who = "anonymous" if retro.anonymous else "signed"
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text=clip(f":repeat: {retro.title}", 150)).to_dict(),
        section(
            f"*{TEMPLATE_LABELS[retro.template]}* run by <@{retro.facilitator_id}> · "
            f"{who} notes · {retro.votes_per_person} votes each\n"
            f"{TEMPLATE_PROMPTS[retro.template]}"
        ),
        section(_phase_line(retro, notes, people)),
        DividerBlock().to_dict(),
        section("\n".join(_lookback_lines(lookback))),
    ]
    if more := _more_lines(lookback):
        blocks.append(section("\n".join(more)))
    if retro.phase is RetroPhase.COLLECT:
        add = ButtonElement(
            action_id=ids.ACTION_RETRO_ADD_NOTE,
            text="Add a note",
            value=button_value(retro),
            style="primary",
        )
        blocks.append(ActionsBlock(elements=[add]).to_dict())
        blocks.append(context_line(":lock: Notes stay hidden from everyone until voting starts."))
    elif retro.phase is RetroPhase.VOTE:
        blocks.append(
            context_line(f"React with :{vote_emoji}: on the notes in the thread to vote.")
        )
    text = f"{escape(retro.title)}: {PHASE_LABELS[retro.phase]}, {_notes_label(notes)}"
    return {"text": clip(text, 3000), "blocks": blocks}


# -- the reveal and the summary ---------------------------------------------------------------


def _note_heading(retro: Retro, note: Note) -> str:
    label = column_label(retro.template, note.column)
    if retro.template is RetroTemplate.DOWNTIME:
        label = f"{CATEGORIES[WasteCategory(note.column)].emoji} {label}"
    return f"*{label}*"


def build_note_message(retro: Retro, note: Note, *, vote_emoji: str) -> Message:
    """One revealed note; its author only when the retro is not anonymous."""
    by = f"\n— <@{note.author_id}>" if note.author_id and not retro.anonymous else ""
    text = f"{_note_heading(retro, note)}\n{escape(note.text)}{by}"
    blocks = [section(text), context_line(f"React with :{vote_emoji}: to vote for this note.")]
    return {
        "text": clip(f"{column_label(retro.template, note.column)}: {note.text}", 3000),
        "blocks": blocks,
    }


def build_voting_open(retro: Retro, *, notes: int, vote_emoji: str) -> Message:
    text = (
        f":ballot_box_with_ballot: *Voting is open* until {slack_date(retro.vote_until)}: "
        f"{_notes_label(notes)} above. React with :{vote_emoji}: on the ones that matter most; "
        f"you have {retro.votes_per_person} votes."
    )
    return {"text": f"Voting is open on {_notes_label(notes)}", "blocks": [section(text)]}


def _ranked_line(rank: int, retro: Retro, note: Note) -> str:
    by = f" — <@{note.author_id}>" if note.author_id and not retro.anonymous else ""
    votes = "1 vote" if note.votes == 1 else f"{note.votes} votes"
    label = column_label(retro.template, note.column)
    return f"{rank}. *{votes}* · _{label}_ · {clip(escape(note.text), 200)}{by}"


def build_summary(retro: Retro, ranked: Sequence[Note], *, logged: int) -> Message:
    """The notes ranked by votes; the top ones offer a theme and an action item."""
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text=clip(f":checkered_flag: {retro.title}: the results", 150)).to_dict()
    ]
    if not ranked:
        blocks.append(section("Nobody added a note to this retro."))
    for rank, note in enumerate(ranked[:TOP_NOTES], start=1):
        blocks.append(section(_ranked_line(rank, retro, note)))
        theme = ButtonElement(
            action_id=ids.ACTION_RETRO_MAKE_THEME,
            text="Make a kaizen theme",
            value=button_value(retro, note.id),
            style="primary",
        )
        action = ButtonElement(
            action_id=ids.ACTION_RETRO_ADD_ACTION,
            text="Add action item",
            value=button_value(retro, note.id),
        )
        blocks.append(ActionsBlock(elements=[theme, action]).to_dict())
    rest = ranked[TOP_NOTES:MAX_RANKED_SHOWN]
    if rest:
        lines = [_ranked_line(r, retro, n) for r, n in enumerate(rest, start=TOP_NOTES + 1)]
        blocks.append(section("\n".join(lines)))
    if logged:
        blocks.append(context_line(f":wastebasket: {_notes_label(logged)} became waste logs."))
    top = f"; top: {clip(escape(ranked[0].text), 200)}" if ranked else ""
    return {"text": f"{escape(retro.title)}: the results{top}", "blocks": blocks}


# -- replies ----------------------------------------------------------------------------------


def build_note_stored(retro: Retro, *, own: int, edited: bool) -> Message:
    done = "Your note is changed" if edited else "Your note is in"
    return build_ephemeral(
        f":lock: {done} ({_notes_label(own)} of yours in *{escape(retro.title)}*). Nobody sees "
        f"it until voting starts {slack_date(retro.collect_until)}."
    )


def build_status(
    retro: Retro,
    *,
    viewer: str,
    notes: int,
    people: int,
    author_ids: Sequence[str],
    own: int,
    ranked: Sequence[Note] = (),
) -> Message:
    """Where the retro is; the facilitator also sees who took part (when not anonymous)."""
    lines = [f"*{escape(retro.title)}* · {_phase_line(retro, notes, people)}"]
    facilitating = viewer == retro.facilitator_id
    if facilitating and not retro.anonymous and author_ids:
        lines.append("Took part: " + ", ".join(f"<@{a}>" for a in author_ids))
    if retro.phase is RetroPhase.COLLECT:
        lines.append(f"You have added {_notes_label(own)}.")
    if retro.phase is RetroPhase.SUMMARY and ranked:
        lines += [_ranked_line(r, retro, n) for r, n in enumerate(ranked[:10], start=1)]
    if not facilitating:
        lines.append(f"<@{retro.facilitator_id}> facilitates it.")
    blocks = [section("\n".join(lines))]
    if facilitating and retro.phase is RetroPhase.COLLECT and not retro.nudged:
        nudge = ButtonElement(
            action_id=ids.ACTION_RETRO_NUDGE, text="Nudge the others", value=button_value(retro)
        )
        blocks.append(ActionsBlock(elements=[nudge]).to_dict())
    return build_ephemeral(f"{escape(retro.title)}: {PHASE_LABELS[retro.phase]}", blocks)


def build_nudge(retro: Retro) -> Message:
    text = (
        f":wave: <@{retro.facilitator_id}> is running *{escape(retro.title)}* in "
        f"<#{retro.channel_id}> and would like your note before {slack_date(retro.collect_until)}."
    )
    add = ButtonElement(
        action_id=ids.ACTION_RETRO_ADD_NOTE, text="Add a note", value=button_value(retro)
    )
    return {
        "text": f"Add your note to {escape(retro.title)}",
        "blocks": [section(text), ActionsBlock(elements=[add]).to_dict()],
    }


def build_nudged(count: int, *, again: bool) -> Message:
    if again:
        return build_ephemeral("The others were nudged once already; a retro nudges only once.")
    if count == 0:
        return build_ephemeral("Everyone in the channel has added a note: nobody to nudge.")
    return build_ephemeral(
        f":wave: Nudged {_people_label(count)} by DM. Nobody was told who wrote what."
    )


def build_stalled(retro: Retro, phase: RetroPhase) -> Message:
    step = "reveal the notes for voting" if phase is RetroPhase.VOTE else "post the summary"
    return {
        "text": (
            f":warning: I can't {step} of *{escape(retro.title)}*: "
            f"I'm no longer in <#{retro.channel_id}>. "
            "Nothing is lost and no note was shown. Invite me back with `/invite @kaizen-bot`, "
            "and it moves on at the next check (or run `/retro close`)."
        )
    }


def build_phase_moved(retro: Retro, phase: RetroPhase) -> Message:
    if phase is RetroPhase.VOTE:
        return build_ephemeral(
            f"Voting on *{escape(retro.title)}* is open: the notes are in the thread."
        )
    return build_ephemeral(f"*{escape(retro.title)}* is closed: the results are in the thread.")
