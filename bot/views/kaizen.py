"""Block Kit for the kaizen backlog: the theme message, the backlog, the modals, replies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.channels import ChannelConfig
from bot.domain.hypotheses import (
    METRIC_LABELS,
    METRIC_TARGET_EXAMPLES,
    VERDICT_LABELS,
    Hypothesis,
    Metric,
    Verdict,
    describe_hypothesis,
    format_metric_value,
)
from bot.domain.kaizen import (
    MAX_ACTION_TEXT,
    ActionItem,
    ActionStatus,
    NewTheme,
    Theme,
    ThemeChange,
)
from bot.domain.schedule import WeeklySchedule
from bot.domain.themes import (
    MAX_PROBLEM,
    MAX_TITLE,
    STATUS_LABELS,
    ThemeAction,
    ThemeStatus,
    allowed_actions,
    format_theme_ref,
)
from bot.domain.vsm import Step
from bot.domain.wastes import CATEGORIES
from bot.views.common import (
    Message,
    build_ephemeral,
    category_options,
    clip,
    context_line,
    escape,
    metadata_json,
    section,
    slack_date,
    step_options,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_ACTIONS_SHOWN = 10
MAX_BACKLOG_SHOWN = 20

STATUS_EMOJI = {
    ThemeStatus.PROPOSED: ":bulb:",
    ThemeStatus.SELECTED: ":dart:",
    ThemeStatus.IN_PROGRESS: ":hammer_and_wrench:",
    ThemeStatus.DONE: ":white_check_mark:",
    ThemeStatus.DROPPED: ":wastebasket:",
}
ACTION_LABELS = {
    ThemeAction.SELECT: "Select",
    ThemeAction.START: "Start",
    ThemeAction.DONE: "Done",
    ThemeAction.DROP: "Drop",
}


def votes_label(count: int) -> str:
    return f"{count} vote" if count == 1 else f"{count} votes"


def status_label(status: ThemeStatus) -> str:
    return f"{STATUS_EMOJI[status]} {STATUS_LABELS[status]}"


def _date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _addresses(theme: Theme) -> str:
    parts = []
    if theme.category is not None:
        info = CATEGORIES[theme.category]
        parts.append(f"{info.emoji} {info.label}")
    if theme.step_name:
        parts.append(f"at _{escape(theme.step_name)}_")
    return " ".join(parts)


def describe_theme_hypothesis(theme: Theme) -> str | None:
    hyp = theme.hypothesis
    if hyp is None:
        return None
    sentence = escape(describe_hypothesis(hyp, step_name=theme.step_name))
    # The sentence says from what to what by when; the line under it adds only where the
    # baseline came from.
    measured = "measured when it was set" if hyp.baseline is not None else "nothing to measure yet"
    text = f":test_tube: *Hypothesis:* {sentence}\n_Baseline {measured}._"
    if hyp.verdict is not None:
        text += f"\n{verdict_text(hyp)}"
    return text


VERDICT_EMOJI = {
    Verdict.MET: ":white_check_mark:",
    Verdict.NOT_MET: ":x:",
    Verdict.NOT_ENOUGH_DATA: ":grey_question:",
}


def verdict_text(hyp: Hypothesis) -> str:
    """``:white_check_mark: *Met*: baseline 4 d → target 2 d → measured 1.5 d``."""
    if hyp.verdict is None:
        return ""
    shown = [format_metric_value(hyp.metric, v) for v in (hyp.baseline, hyp.target, hyp.measured)]
    label = VERDICT_LABELS[hyp.verdict]
    return (
        f"{VERDICT_EMOJI[hyp.verdict]} *{label[0].upper()}{label[1:]}*: baseline {shown[0]} → "
        f"target {shown[1]} → measured {shown[2]}"
    )


def _action_line(item: ActionItem, today: date | None = None) -> str:
    due = f", due {_date(item.due_date)}" if item.due_date else ""
    late = " · :warning: *overdue*" if today is not None and item.is_overdue(today) else ""
    if item.status is ActionStatus.DONE:
        return f":white_check_mark: ~{escape(item.text)}~ — <@{item.owner_id}>"
    return f":white_large_square: {escape(item.text)} — <@{item.owner_id}>{due}{late}"


def action_item_block(item: ActionItem, today: date | None = None) -> dict[str, Any]:
    """One action item; an open one carries its Done button."""
    if item.status is ActionStatus.DONE:
        return section(_action_line(item, today))
    button = ButtonElement(action_id=ids.ACTION_ACTION_ITEM_DONE, text="Done", value=str(item.id))
    return section(_action_line(item, today), accessory=button)


def _theme_buttons(theme: Theme) -> dict[str, Any] | None:
    buttons: list[ButtonElement] = []
    for action in allowed_actions(theme.status):
        confirm = None
        if action is ThemeAction.DROP:
            confirm = ConfirmObject(
                title=f"Drop {theme.ref}?",
                text="It leaves the backlog; its votes stop counting.",
                confirm="Drop it",
                deny="Keep it",
            )
        buttons.append(
            ButtonElement(
                action_id=f"{ids.ACTION_THEME_STATUS}.{action.value}",
                text=ACTION_LABELS[action],
                value=f"{theme.number}:{action.value}",
                style="primary" if action in (ThemeAction.START, ThemeAction.DONE) else None,
                confirm=confirm,
            )
        )
    if theme.is_open:
        buttons.append(
            ButtonElement(
                action_id=ids.ACTION_THEME_ADD_ACTION_ITEM,
                text="Add action item",
                value=str(theme.number),
            )
        )
    return ActionsBlock(elements=buttons).to_dict() if buttons else None


def build_theme_message(theme: Theme, *, actions: Sequence[ActionItem], vote_emoji: str) -> Message:
    """The theme as posted in the channel; rebuilt from the database on every change."""
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text=clip(f"{theme.ref} · {theme.title}", 150)).to_dict()
    ]
    if theme.problem:
        blocks.append(section(escape(theme.problem)))
    facts = [f"*{status_label(theme.status)}*", f"proposed by <@{theme.author_id}>"]
    if addresses := _addresses(theme):
        facts.append(f"addresses {addresses}")
    blocks.append(context_line(" · ".join(facts)))
    if hypothesis := describe_theme_hypothesis(theme):
        blocks.append(section(hypothesis))
    vote_hint = f" · react with :{vote_emoji}: to vote" if theme.is_open else ""
    blocks.append(section(f":{vote_emoji}: *{votes_label(theme.votes)}*{vote_hint}"))
    if actions:
        blocks.append(section("*Action items*"))
        blocks += [action_item_block(a) for a in actions[:MAX_ACTIONS_SHOWN]]
        if len(actions) > MAX_ACTIONS_SHOWN:
            more = len(actions) - MAX_ACTIONS_SHOWN
            blocks.append(context_line(f"… and {more} more: `/kaizen show {theme.ref}`"))
    if buttons := _theme_buttons(theme):
        blocks.append(buttons)
    # The fallback text is what notifications show: a title's <!channel> must not ping anyone.
    title = escape(theme.title)
    text = f"{theme.ref} {title} — {votes_label(theme.votes)}, {STATUS_LABELS[theme.status]}"
    return {"text": clip(text, 3000), "blocks": blocks}


def build_backlog(themes: Sequence[Theme], *, vote_emoji: str) -> Message:
    if not themes:
        return build_ephemeral(
            "The backlog is empty. Propose the first improvement with `/kaizen add`."
        )
    lines = []
    for rank, theme in enumerate(themes[:MAX_BACKLOG_SHOWN], start=1):
        lines.append(
            f"{rank}. *{theme.ref}* {escape(theme.title)} — :{vote_emoji}: "
            f"{votes_label(theme.votes)} · {status_label(theme.status)}"
        )
    blocks = [
        HeaderBlock(text="Kaizen backlog, by votes").to_dict(),
        section("\n".join(lines)),
        context_line(
            f"React with :{vote_emoji}: on a theme's message to vote. "
            "`/kaizen show K-n` for one theme, `/kaizen add` to propose one."
        ),
    ]
    if len(themes) > MAX_BACKLOG_SHOWN:
        blocks.append(context_line(f"… and {len(themes) - MAX_BACKLOG_SHOWN} more."))
    return build_ephemeral(f"The backlog: {len(themes)} open themes, by votes.", blocks)


def _change_line(change: ThemeChange, tz_offset_seconds: int) -> str:
    del tz_offset_seconds  # Slack shows the date in each reader's own time zone.
    when = slack_date(change.at)
    if change.from_status is None:
        return f"{when} — <@{change.actor_id}> proposed it"
    return (
        f"{when} — <@{change.actor_id}> moved it from {STATUS_LABELS[change.from_status]} "
        f"to {STATUS_LABELS[change.to_status]}"
    )


def build_theme_detail(
    theme: Theme,
    *,
    actions: Sequence[ActionItem],
    changes: Sequence[ThemeChange],
    voters: Sequence[str],
    vote_emoji: str,
    tz_offset_seconds: int = 0,
) -> Message:
    message = build_theme_message(theme, actions=actions, vote_emoji=vote_emoji)
    blocks = [b for b in message["blocks"] if b["type"] != "actions"]
    if voters:
        shown = ", ".join(f"<@{v}>" for v in voters[:30])
        more = f" and {len(voters) - 30} more" if len(voters) > 30 else ""
        blocks.append(context_line(f"Voted by {shown}{more}"))
    history = "\n".join(_change_line(c, tz_offset_seconds) for c in changes[-15:])
    blocks += [DividerBlock().to_dict(), section(f"*History*\n{history}")]
    return build_ephemeral(message["text"], blocks[:50])


_MOVED_WORDS = {
    ThemeStatus.SELECTED: "selected",
    ThemeStatus.IN_PROGRESS: "started",
    ThemeStatus.DONE: "marked done",
    ThemeStatus.DROPPED: "dropped",
}


def build_status_in_thread(theme: Theme, *, actor: str) -> Message:
    """The reply in the theme's thread that tells the channel its backlog moved."""
    verb = _MOVED_WORDS.get(theme.status, f"moved to {STATUS_LABELS[theme.status]}")
    text = (
        f"{STATUS_EMOJI[theme.status]} <@{actor}> {verb} *{theme.ref}* {escape(theme.title)}: "
        f"it is now *{STATUS_LABELS[theme.status]}*."
    )
    return {"text": text, "blocks": [section(text)]}


def build_status_changed(theme: Theme) -> Message:
    return build_ephemeral(f"{theme.ref} is now {STATUS_LABELS[theme.status]}.")


def build_action_added(item: ActionItem) -> Message:
    on = f" on {format_theme_ref(item.theme_number)}" if item.theme_number else ""
    due = f", due {_date(item.due_date)}" if item.due_date else ""
    return build_ephemeral(
        f":ballot_box_with_check: Action item added{on} for <@{item.owner_id}>{due}: "
        f"{escape(item.text)}"
    )


def build_action_done(item: ActionItem, *, changed: bool) -> Message:
    if not changed:
        return build_ephemeral(f"That action item was done already: {escape(item.text)}")
    return build_ephemeral(f":white_check_mark: Done: {escape(item.text)}")


# -- modals -----------------------------------------------------------------------------------


def _metric_options() -> list[Option]:
    return [Option(value=m.value, text=METRIC_LABELS[m]) for m in Metric]


def build_theme_modal(
    *,
    metadata: dict[str, Any],
    steps: Sequence[Step],
    ask_channel: bool = False,
    draft: NewTheme | None = None,
) -> dict[str, Any]:
    """The theme form; ``draft`` pre-fills title, problem and waste (a retro note's, say)."""
    a = ids.ACTION_KAIZEN_INPUT
    categories = category_options()
    initial_category = None
    if draft is not None and draft.category is not None:
        initial_category = next(o for o in categories if o.value == draft.category.value)
    blocks: list[Any] = []
    if ask_channel:
        blocks.append(
            InputBlock(
                block_id=ids.BLOCK_THEME_CHANNEL,
                label="Channel",
                hint="The team's channel: the theme is posted there for votes.",
                element=ConversationSelectElement(
                    action_id=a,
                    placeholder="Which team's channel?",
                    default_to_current_conversation=True,
                    filter=ConversationFilter(
                        include=["public", "private"], exclude_bot_users=True
                    ),
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=ids.BLOCK_THEME_TITLE,
            label="Title",
            element=PlainTextInputElement(
                action_id=a,
                max_length=MAX_TITLE,
                placeholder="e.g. On-demand test environments",
                initial_value=draft.title if draft else None,
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_THEME_PROBLEM,
            label="Problem",
            optional=True,
            element=PlainTextInputElement(
                action_id=a,
                multiline=True,
                max_length=MAX_PROBLEM,
                placeholder="What hurts today, and who feels it?",
                initial_value=draft.problem if draft and draft.problem else None,
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_THEME_CATEGORY,
            label="Waste it addresses",
            optional=True,
            element=StaticSelectElement(
                action_id=a,
                placeholder="One of the eight wastes",
                options=categories,
                initial_option=initial_category,
            ),
        ),
    ]
    if steps:
        blocks.append(
            InputBlock(
                block_id=ids.BLOCK_THEME_STEP,
                label="Step it addresses",
                optional=True,
                hint="A step of this channel's value stream map (/vsm).",
                element=StaticSelectElement(
                    action_id=a, placeholder="Where in the stream?", options=step_options(steps)
                ),
            )
        )
    blocks += [
        section(
            "*Hypothesis* (optional): _If we ‹change›, ‹metric› will go from ‹baseline› to "
            "‹target› by ‹check date›._ The baseline is measured from this channel's map and "
            "logs when you propose it."
        ),
        InputBlock(
            block_id=ids.BLOCK_THEME_CHANGE,
            label="If we…",
            optional=True,
            element=PlainTextInputElement(
                action_id=a, max_length=500, placeholder="e.g. spin up test environments on demand"
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_THEME_METRIC,
            label="Metric",
            optional=True,
            hint="A wait at a step or a waste count uses the waste and step picked above.",
            element=StaticSelectElement(
                action_id=a, placeholder="What will move?", options=_metric_options()
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_THEME_TARGET,
            label="Target",
            optional=True,
            hint="Type it in the metric's unit: "
            + "; ".join(f"{METRIC_LABELS[m].lower()} {METRIC_TARGET_EXAMPLES[m]}" for m in Metric)
            + ".",
            element=PlainTextInputElement(action_id=a, placeholder="e.g. 1d, 25%, 5"),
        ),
        InputBlock(
            block_id=ids.BLOCK_THEME_CHECK_DATE,
            label="Check date",
            optional=True,
            element=DatePickerElement(action_id=a, placeholder="When to measure again"),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_THEME,
        title="Propose a theme",
        submit="Propose",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


def _theme_option(theme: Theme) -> Option:
    return Option(value=str(theme.number), text=clip(f"{theme.ref} {theme.title}", 75))


def build_action_modal(
    *,
    metadata: dict[str, Any],
    themes: Sequence[Theme],
    theme_number: int | None = None,
    owner_id: str | None = None,
    callback_id: str = ids.VIEW_ACTION_ITEM,
    text: str | None = None,
) -> dict[str, Any]:
    """The action item form; a retro's summary opens it with its own ``callback_id``."""
    a = ids.ACTION_KAIZEN_INPUT
    blocks: list[Any] = [
        InputBlock(
            block_id=ids.BLOCK_ACTION_ITEM_TEXT,
            label="What should be done?",
            element=PlainTextInputElement(
                action_id=a,
                max_length=MAX_ACTION_TEXT,
                placeholder="e.g. Ask IT for a quote on ephemeral environments",
                initial_value=text,
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_ACTION_ITEM_OWNER,
            label="Owner",
            element=UserSelectElement(action_id=a, placeholder="Who?", initial_user=owner_id),
        ),
        InputBlock(
            block_id=ids.BLOCK_ACTION_ITEM_DUE,
            label="Due",
            optional=True,
            element=DatePickerElement(action_id=a, placeholder="By when?"),
        ),
    ]
    options = [_theme_option(t) for t in themes[:100]]
    if options:
        initial = next((o for o in options if o.value == str(theme_number)), None)
        blocks.append(
            InputBlock(
                block_id=ids.BLOCK_ACTION_ITEM_THEME,
                label="Theme",
                optional=True,
                element=StaticSelectElement(
                    action_id=a,
                    placeholder="Which improvement is it for?",
                    options=options,
                    initial_option=initial,
                ),
            )
        )
    return View(
        type="modal",
        callback_id=callback_id,
        title="Add an action item",
        submit="Add",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


def build_settings_modal(*, metadata: dict[str, Any], config: ChannelConfig) -> dict[str, Any]:
    a = ids.ACTION_KAIZEN_INPUT
    days = [Option(value=str(i), text=name) for i, name in enumerate(WEEKDAYS)]
    blocks: list[Any] = [
        InputBlock(
            block_id=ids.BLOCK_CHANNEL_SETTINGS_DIGEST_DAY,
            label="Weekly digest on",
            element=StaticSelectElement(
                action_id=a, options=days, initial_option=days[config.digest_weekday % 7]
            ),
        ),
        InputBlock(
            block_id=ids.BLOCK_CHANNEL_SETTINGS_DIGEST_TIME,
            label="At",
            element=TimePickerElement(action_id=a, initial_time=config.digest_time),
        ),
        InputBlock(
            block_id=ids.BLOCK_CHANNEL_SETTINGS_TIMEZONE,
            label="Time zone",
            hint="The channel's time zone for the digest and due dates, e.g. Europe/Lisbon.",
            element=PlainTextInputElement(action_id=a, initial_value=config.timezone),
        ),
        InputBlock(
            block_id=ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI,
            label="Vote emoji",
            element=PlainTextInputElement(action_id=a, initial_value=f":{config.vote_emoji}:"),
        ),
        InputBlock(
            block_id=ids.BLOCK_CHANNEL_SETTINGS_WASTE_EMOJI,
            label="Waste emoji",
            element=PlainTextInputElement(action_id=a, initial_value=f":{config.waste_emoji}:"),
        ),
        InputBlock(
            block_id=ids.BLOCK_CHANNEL_SETTINGS_VOTE_LIMIT,
            label="Votes per person",
            optional=True,
            hint="Dot voting: how many open themes each person may vote for. Empty: no limit.",
            element=PlainTextInputElement(
                action_id=a,
                initial_value=str(config.vote_limit) if config.vote_limit else None,
                placeholder="e.g. 3",
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.VIEW_CHANNEL_SETTINGS,
        title="Channel settings",
        submit="Save",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


def next_digest_text(config: ChannelConfig, now: datetime) -> str:
    """When the next digest goes out, in the reader's own time zone (Slack formats the date)."""
    if not config.digest_enabled:
        return "The weekly digest is off for this channel."
    schedule = WeeklySchedule(config.digest_weekday % 7, config.digest_time, config.timezone)
    due = schedule.next_due(now)
    fallback = f"{due:%A %d %B %H:%M} UTC"
    stamp = int(due.timestamp())
    return f"The next digest goes out <!date^{stamp}^{{date_long_pretty}} at {{time}}|{fallback}>."


def build_settings_saved(config: ChannelConfig, *, now: datetime) -> Message:
    limit = f"{config.vote_limit} per person" if config.vote_limit else "no limit"
    return build_ephemeral(
        f":gear: Saved. Digest on {WEEKDAYS[config.digest_weekday % 7]}s at "
        f"{config.digest_time} ({config.timezone}); vote with :{config.vote_emoji}: "
        f"({limit}); log waste with :{config.waste_emoji}:. {next_digest_text(config, now)}"
    )


def build_subscription(*, subscribed: bool, changed: bool) -> Message:
    if subscribed:
        note = "" if changed else " (you were already)"
        return build_ephemeral(
            f":mailbox_with_mail: You're subscribed{note}: this channel's weekly digest will "
            "come to you by DM too, with an Unsubscribe button; `/kaizen unsubscribe` stops it too."
        )
    if not changed:
        return build_ephemeral("You weren't subscribed to this channel's digest.")
    return build_ephemeral(":mailbox_with_no_mail: Unsubscribed: no more digests by DM.")


def build_export_started(fmt: str = "csv") -> Message:
    return build_ephemeral(
        f":outbox_tray: Exporting this channel's data as {fmt.upper()}: I'll send you the file "
        "in a direct message, not to the channel."
    )


def export_filename(channel_id: str, now: datetime, fmt: str = "csv") -> str:
    return f"kaizen-{channel_id}-{now:%Y-%m-%d}.{fmt}"


def build_theme_not_posted(theme_ref: str, channel_id: str, number: int) -> Message:
    """A stored theme Slack did not take for the channel: say so, and offer to post it again."""
    text = (
        f":warning: {theme_ref} is stored, but Slack did not take its message for <#{channel_id}>, "
        "so nobody can vote on it yet. I'll try again in a few minutes, or post it now."
    )
    button = ButtonElement(
        action_id=ids.ACTION_THEME_REPOST,
        text="Post it again",
        value=f"{channel_id}:{number}",
        style="primary",
    )
    return {"text": text, "blocks": [section(text), ActionsBlock(elements=[button]).to_dict()]}


def build_theme_reposted(theme_ref: str, channel_id: str) -> Message:
    return build_ephemeral(
        f":white_check_mark: {theme_ref} is posted in <#{channel_id}> for votes."
    )
