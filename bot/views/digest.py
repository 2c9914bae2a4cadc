"""The weekly digest and ``/flow``: one message of aggregates, whatever the amount of data.

Every list is capped (categories are eight; themes, verdicts, overdue items and steps a few
each), so the message stays far inside Slack's 50 blocks and 3000 characters a section however
many logs the period holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, DividerBlock, HeaderBlock

from bot import ids
from bot.domain.digest import Digest, ParetoRow, Period
from bot.domain.durations import format_duration
from bot.domain.hypotheses import BASELINE_WINDOW, Hypothesis, Metric, describe_hypothesis
from bot.domain.kaizen import ActionItem, Theme
from bot.domain.themes import ThemeStatus
from bot.domain.vsm import MapMetrics, ordered
from bot.domain.wastes import CATEGORIES
from bot.views.common import Message, clip, context_line, escape, section
from bot.views.kaizen import verdict_text

MAX_STEPS_SHOWN = 10
PERIOD_WORDS = {Period.WEEK: "week", Period.MONTH: "30 days", Period.QUARTER: "quarter"}
START_HINT = (
    "Nothing has been logged, mapped or proposed in this channel yet. To start: log a waste as "
    "it happens (`/waste waiting 2h for the CI runner`, `/wait 2d test environment`, or the "
    ":wastebasket: reaction on any message), map how work flows with `/vsm add`, and propose "
    "an improvement with `/kaizen add`. The next digest will show what you logged."
)


def slack_date(moment: datetime, token: str, fallback: str) -> str:
    """A date Slack shows in the reader's own time zone (``<!date^…>``)."""
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"


def _span(start: datetime, end: datetime) -> str:
    last = end - timedelta(seconds=1)
    return (
        f"{slack_date(start, '{date_short}', f'{start:%d %b}')} – "
        f"{slack_date(last, '{date_short}', f'{last:%d %b %Y}')}"
    )


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else ("±0" if value == 0 else str(value))


def _pareto_line(row: ParetoRow) -> str:
    info = CATEGORIES[row.category]
    change = f", {_signed(row.change)} vs before" if row.change is not None else ""
    name = f"*{info.label}*" if row.vital else info.label
    lost = f" · {format_duration(row.minutes)} lost" if row.minutes else ""
    return f"{info.emoji} {name} — {row.count} ({row.share:.0%}{change}){lost}"


def _waste_section(digest: Digest, period: Period) -> list[dict[str, Any]]:
    word = PERIOD_WORDS[period]
    total = digest.total_count
    if total == 0:
        before = f" ({digest.previous_count} the {word} before)" if digest.previous_count else ""
        return [section(f":wastebasket: *No waste logged this {word}*{before}.")]
    change = (
        f"{_signed(digest.count_change)} logs vs the {word} before"
        if digest.previous_count
        else f"none the {word} before"
    )
    head = (
        f":wastebasket: *{total} waste log{'s' if total != 1 else ''}*, "
        f"{format_duration(digest.total_minutes)} lost — {change}"
    )
    lines = [_pareto_line(row) for row in digest.pareto]
    if digest.data.uncategorised:
        lines.append(f":grey_question: {digest.data.uncategorised} still without a category")
    blocks = [section(head + "\n" + "\n".join(lines))]
    blocks.append(context_line("Bold: the vital few, making up 80% of the logs."))
    annoying = digest.data.annoying
    if annoying is not None:
        what = CATEGORIES[annoying.category].label if annoying.category else "Uncategorised"
        where = f" at _{escape(annoying.step_name)}_" if annoying.step_name else ""
        link = f" · <{annoying.link}|the message>" if annoying.link.startswith("https://") else ""
        text = clip(escape(" ".join(annoying.description.split())) or "(no description)", 300)
        blocks.append(
            section(
                f":rage: *Most annoying waste* — {format_duration(annoying.minutes)} lost "
                f"({what}{where}): {text}{link}"
            )
        )
    return blocks


def _map_lines(digest: Digest, metrics: MapMetrics) -> str:
    ratio = f"{metrics.flow_efficiency:.1%}" if metrics.flow_efficiency is not None else "–"
    rolled = f"{metrics.rolled_ca:.0%}" if metrics.rolled_ca is not None else "–"
    text = (
        f":world_map: *Value stream* — lead time {format_duration(metrics.lead_time)}, process "
        f"time {format_duration(metrics.total_process_time)}, flow efficiency {ratio}, "
        f"rolled %C&A {rolled}"
    )
    measured = digest.measured_lead_time
    if measured is not None:
        text += (
            f"\n*Measured lead time {format_duration(measured.minutes)}*, from the waits logged at "
            f"{measured.measured_steps} of {measured.step_count} steps (the map's estimate "
            "elsewhere)"
        )
    waits = digest.data.waits
    lines = []
    for step in ordered(digest.data.steps)[:MAX_STEPS_SHOWN]:
        found = waits.get(step.id) if step.id is not None else None
        if found is None:
            continue
        p85 = found.p85_shown
        spread = f", p85 {format_duration(p85)}" if p85 is not None else ""
        lines.append(
            f"• {escape(step.name)}: median {format_duration(found.median)}{spread} "
            f"({found.count} logged) — map says {format_duration(step.wait_minutes)}"
        )
    if lines:
        text += "\nMeasured waits by step:\n" + "\n".join(lines)
    return text


def _theme_line(theme: Theme) -> str:
    votes = f"{theme.votes} vote{'s' if theme.votes != 1 else ''}"
    return f"• *{theme.ref}* {escape(theme.title)} — {votes}"


def _kaizen_section(digest: Digest) -> list[dict[str, Any]]:
    data = digest.data
    parts = []
    if data.top_themes:
        parts.append(
            ":bulb: *Top voted themes*\n" + "\n".join(_theme_line(t) for t in data.top_themes)
        )
    started = [m.theme for m in data.moves if m.to_status == ThemeStatus.IN_PROGRESS.value]
    done = [m.theme for m in data.moves if m.to_status == ThemeStatus.DONE.value]
    if started or done:
        moved = []
        if started:
            moved.append("Started: " + ", ".join(f"*{t.ref}* {escape(t.title)}" for t in started))
        if done:
            moved.append("Done: " + ", ".join(f"*{t.ref}* {escape(t.title)}" for t in done))
        parts.append(":arrows_counterclockwise: " + "\n".join(moved))
    if data.verdicts:
        lines = [
            f"• *{t.ref}* {escape(t.title)}: {verdict_text(t.hypothesis)}"
            for t in data.verdicts
            if t.hypothesis is not None
        ]
        parts.append(":test_tube: *Hypotheses judged*\n" + "\n".join(lines))
    if data.overdue_count:
        parts.append(_overdue(data.overdue, data.overdue_count))
    return [section(clip(part, 3000)) for part in parts]


def _overdue(items: Sequence[ActionItem], count: int) -> str:
    lines = [
        f"• {escape(clip(i.text, 150))} — <@{i.owner_id}>"
        + (f", due {i.due_date:%d %b}" if i.due_date else "")
        for i in items
    ]
    more = f"\n…and {count - len(items)} more" if count > len(items) else ""
    return f":alarm_clock: *{count} overdue action item{'s' if count != 1 else ''}*\n" + (
        "\n".join(lines) + more
    )


def build_digest_message(
    digest: Digest,
    *,
    channel_id: str,
    period: Period = Period.WEEK,
    weekly: bool = True,
    unsubscribe: bool = False,
) -> Message:
    """The digest (``weekly``) or the ``/flow`` summary of ``digest``'s period."""
    data = digest.data
    title = "Weekly flow digest" if weekly else f"Flow this {PERIOD_WORDS[period]}"
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text=f":bar_chart: {title}").to_dict(),
        context_line(f"<#{channel_id}> · {_span(data.start, data.end)}"),
    ]
    if digest.is_empty:
        blocks.append(section(START_HINT))
    else:
        blocks += _waste_section(digest, period)
        if digest.metrics is not None:
            blocks.append(section(_map_lines(digest, digest.metrics)))
        else:
            blocks.append(
                context_line("No value stream map yet: `/vsm add` maps how work flows here.")
            )
        kaizen = _kaizen_section(digest)
        if kaizen:
            blocks.append(DividerBlock().to_dict())
            blocks += kaizen
    if unsubscribe:
        button = ButtonElement(
            action_id=ids.ACTION_DIGEST_UNSUBSCRIBE, text="Unsubscribe", value=channel_id
        )
        blocks.append(ActionsBlock(elements=[button]).to_dict())
    summary = (
        f"{title} for <#{channel_id}>: {digest.total_count} waste logs, "
        f"{format_duration(digest.total_minutes)} lost"
    )
    return {"text": summary, "blocks": blocks}


def digest_window(start: datetime, end: datetime) -> str:
    """The days a digest covers, for its chart: ``16–22 Nov 2026``, ``28 Oct – 3 Nov 2026``."""
    last = end - timedelta(microseconds=1)
    if (start.year, start.month) == (last.year, last.month):
        return f"{start.day}–{last.day} {last:%b %Y}"
    if start.year == last.year:
        return f"{start.day} {start:%b} – {last.day} {last:%b %Y}"
    return f"{start.day} {start:%b %Y} – {last.day} {last:%b %Y}"


def digest_chart_title(channel_name: str | None, period: Period) -> str:
    where = f"#{channel_name}" if channel_name else "This channel"
    return f"{where}: waste this {PERIOD_WORDS[period]}"


def build_unsubscribed(channel_id: str, *, changed: bool) -> Message:
    if not changed:
        return {"text": f"You weren't subscribed to <#{channel_id}>'s digest."}
    return {
        "text": f":mailbox_with_no_mail: Unsubscribed from <#{channel_id}>'s weekly digest. "
        "`/kaizen subscribe` in the channel brings it back."
    }


def build_reminder(items: Sequence[ActionItem], *, today_label: str) -> Message:
    """A daily DM to an owner: the action items due today or overdue, each with Done."""
    blocks: list[dict[str, Any]] = [
        section(
            f":alarm_clock: *{len(items)} action item{'s' if len(items) != 1 else ''} "
            f"due* ({today_label}):"
        )
    ]
    for item in items[:40]:
        due = f"due {item.due_date:%a %d %b}" if item.due_date else ""
        theme = f" · K-{item.theme_number}" if item.theme_number else ""
        button = ButtonElement(
            action_id=ids.ACTION_ACTION_ITEM_DONE, text="Done", value=str(item.id)
        )
        blocks.append(
            section(
                f"{escape(clip(item.text, 500))}\n_{due} · in <#{item.channel_id}>{theme}_",
                accessory=button,
            )
        )
    if len(items) > 40:
        blocks.append(context_line(f"…and {len(items) - 40} more: see the app's Home tab."))
    text = f"Reminder: {len(items)} action item{'s' if len(items) != 1 else ''} due"
    return {"text": text, "blocks": blocks}


def build_verdict_message(theme: Theme) -> Message:
    """Posted in the theme's thread on its check date."""
    hyp = theme.hypothesis
    assert hyp is not None and hyp.verdict is not None
    text = f"{theme.ref} hypothesis checked: {verdict_text(hyp)}"
    sentence = escape(describe_hypothesis(hyp, step_name=theme.step_name))
    return {
        "text": text,
        "blocks": [
            section(f":test_tube: *{theme.ref} — the hypothesis was checked today*\n>{sentence}"),
            section(verdict_text(hyp)),
            context_line(f"Measured {_measured_how(hyp)}."),
        ],
    }


def _measured_how(hyp: Hypothesis) -> str:
    weeks = BASELINE_WINDOW.days // 7
    if hyp.metric in (Metric.LEAD_TIME, Metric.FLOW_EFFICIENCY):
        return "from the value stream map as it stands today, as the baseline was"
    what = "the median wait logged at the step" if hyp.metric is Metric.STEP_WAIT else "the logs"
    return f"from {what} in the {weeks} weeks before the check date, as the baseline was"


def message_as_text(message: Message) -> str:
    """A message's blocks as plain lines, for printing in a terminal."""
    lines: list[str] = []
    for block in message.get("blocks", []):
        if block.get("type") in ("header", "section"):
            lines.append(str(block["text"]["text"]))
        elif block.get("type") == "context":
            lines.extend(str(e.get("text", "")) for e in block.get("elements", []))
        elif block.get("type") == "divider":
            lines.append("—" * 40)
    return "\n".join(lines)
