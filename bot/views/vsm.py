"""Block Kit for the value stream map: the step forms, confirmations and the metrics in text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.durations import format_duration, format_hours
from bot.domain.vsm import (
    MAX_STEP_NAME,
    MAX_STEPS,
    MapComparison,
    MapMetrics,
    MapState,
    MeasuredWait,
    Step,
    compute_metrics,
    ordered,
)
from bot.views.common import (
    Message,
    build_ephemeral,
    context_line,
    escape,
    metadata_json,
)

MAX_OWNER_ROLE = 80
START = "start"
"""The position option that puts a step first."""

STATE_LABELS = {MapState.CURRENT: "Current state", MapState.FUTURE: "Future state"}
FILENAMES = {
    MapState.CURRENT: "value-stream-current.png",
    MapState.FUTURE: "value-stream-future.png",
}
COMPARISON_FILENAME = "value-stream-compare.png"


def map_name(state: MapState) -> str:
    return f"{state.value}-state map"


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    shown = f"{value * 100:.1f}".removesuffix(".0")
    return f"{shown}%"


def _state_flag(state: MapState) -> str:
    return "" if state is MapState.CURRENT else " future"


# -- the step form -----------------------------------------------------------------------------


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    placeholder: str,
    optional: bool = False,
    max_length: int | None = None,
    hint: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=ids.ACTION_VSM_INPUT,
            initial_value=initial or None,
            placeholder=placeholder,
            max_length=max_length,
        ),
    )


def _position_input(steps: Sequence[Step], editing: Step | None) -> InputBlock | None:
    others = [s for s in ordered(steps) if s.id is not None and s.id != (editing and editing.id)]
    if not others:
        return None
    options = [Option(value=START, text="First, before every other step")]
    options += [Option(value=str(s.id), text=f"After {s.name}"[:75]) for s in others]
    if editing is None:
        initial = options[-1]
    else:
        before = [s for s in others if s.position < editing.position]
        initial = options[len(before)]
    return InputBlock(
        block_id=ids.BLOCK_VSM_AFTER,
        label="Where in the stream?",
        element=StaticSelectElement(
            action_id=ids.ACTION_VSM_INPUT, options=options, initial_option=initial
        ),
    )


def _state_input(state: MapState) -> InputBlock:
    options = [
        Option(
            value=MapState.CURRENT.value,
            text="Current state",
            description="How the work flows today",
        ),
        Option(
            value=MapState.FUTURE.value,
            text="Future state",
            description="How you want it to flow",
        ),
    ]
    return InputBlock(
        block_id=ids.BLOCK_VSM_STATE,
        label="Map",
        element=RadioButtonsElement(
            action_id=ids.ACTION_VSM_INPUT,
            options=options,
            initial_option=options[0] if state is MapState.CURRENT else options[1],
        ),
    )


def build_step_modal(
    *,
    metadata: dict[str, Any],
    state: MapState,
    steps: Sequence[Step],
    step: Step | None = None,
    name: str = "",
) -> dict[str, Any]:
    """The add form (``step`` None, ``name`` typed after the command) or a step's edit form."""
    blocks: list[Any] = []
    if step is not None:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Step {step.position} of {len(steps)} on the {map_name(state)}."
                )
            )
        )
    blocks.append(
        _text_input(
            ids.BLOCK_VSM_NAME,
            "Step name",
            initial=step.name if step else name,
            placeholder="e.g. Code review",
            max_length=MAX_STEP_NAME,
        )
    )
    position = _position_input(steps, step)
    if position is not None:
        blocks.append(position)
    blocks += [
        _text_input(
            ids.BLOCK_VSM_OWNER,
            "Owner role",
            initial=step.owner_role if step else "",
            placeholder="e.g. Tester",
            optional=True,
            max_length=MAX_OWNER_ROLE,
        ),
        _text_input(
            ids.BLOCK_VSM_PROCESS,
            "Process time (PT)",
            initial=format_duration(step.process_minutes) if step else "",
            placeholder="e.g. 2h, 1d 4h",
            hint="Hands-on time to do the step once, without waiting.",
        ),
        _text_input(
            ids.BLOCK_VSM_WAIT,
            "Wait before it (WT)",
            initial=format_duration(step.wait_minutes) if step and step.wait_minutes else "",
            placeholder="e.g. 3d; leave empty for no wait",
            optional=True,
            hint="How long work sits in the queue before this step starts.",
        ),
        _text_input(
            ids.BLOCK_VSM_CA,
            "%C&A",
            initial=str(step.pct_complete_accurate) if step else "",
            placeholder="100",
            optional=True,
            max_length=8,
            hint="Percent of work the next step can use as it arrives, 0 to 100.",
        ),
    ]
    if step is None:
        blocks.append(_state_input(state))
    return View(
        type="modal",
        callback_id=ids.VIEW_VSM_STEP,
        title="Edit step" if step else "Add a step",
        submit="Save" if step else "Add step",
        close="Cancel",
        private_metadata=metadata_json(metadata),
        blocks=blocks,
    ).to_dict()


def build_notice(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (it replaces a form that could not be carried out)."""
    return View(
        type="modal",
        title=title,
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def build_remove_modal(*, metadata: dict[str, Any], state: MapState, step: Step) -> dict[str, Any]:
    text = (
        f"Remove *{escape(step.name)}* (step {step.position}) from the {map_name(state)}?\n"
        f"{_step_numbers(step)}"
    )
    return View(
        type="modal",
        callback_id=ids.VIEW_VSM_REMOVE,
        title="Remove a step",
        submit="Remove",
        close="Keep it",
        private_metadata=metadata_json(metadata),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text)),
            SectionBlock(
                text=MarkdownTextObject(
                    text="Waits and wastes logged against it stay logged, without the step."
                )
            ),
        ],
    ).to_dict()


# -- confirmations and answers -----------------------------------------------------------------


def _step_numbers(step: Step) -> str:
    parts = [f"PT {format_duration(step.process_minutes)}"]
    parts.append(f"wait {format_duration(step.wait_minutes)}")
    parts.append(f"%C&A {step.pct_complete_accurate}")
    if step.owner_role:
        parts.append(escape(step.owner_role))
    return " · ".join(parts)


def _chain(steps: Sequence[Step], highlight: int | None = None) -> str:
    names = [f"*{escape(s.name)}*" if s.id == highlight else escape(s.name) for s in ordered(steps)]
    return " → ".join(names)


def build_step_saved(step: Step, steps: Sequence[Step], state: MapState, *, added: bool) -> Message:
    verb = "Added" if added else "Saved"
    text = (
        f":white_check_mark: {verb} *{escape(step.name)}* on the {map_name(state)}, "
        f"step {step.position} of {len(steps)}: {_step_numbers(step)}"
    )
    show = "/vsm future" if state is MapState.FUTURE else "/vsm"
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        context_line(f"{_chain(steps, step.id)}\n`{show}` draws the map."),
    ]
    return build_ephemeral(f"{verb} {escape(step.name)} on the {map_name(state)}.", blocks)


def build_step_moved(step: Step, steps: Sequence[Step], state: MapState) -> Message:
    text = (
        f":arrow_right: Moved *{escape(step.name)}* to step {step.position} of {len(steps)} "
        f"on the {map_name(state)}."
    )
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        context_line(_chain(steps, step.id)),
    ]
    return build_ephemeral(f"Moved {escape(step.name)}.", blocks)


def build_step_removed(step: Step, steps: Sequence[Step], state: MapState) -> Message:
    text = f":wastebasket: Removed *{escape(step.name)}* from the {map_name(state)}."
    blocks = [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
    if steps:
        blocks.append(context_line(_chain(steps)))
    return build_ephemeral(f"Removed {escape(step.name)}.", blocks)


def build_empty_map(state: MapState) -> Message:
    flag = _state_flag(state)
    text = (
        f"The {map_name(state)} of this channel has no steps yet. "
        f"Add the first with `/vsm add{flag}`: its name, who does it, how long it takes (PT) "
        "and how long work waits before it (WT)."
    )
    if state is MapState.FUTURE:
        text += " Sketch the flow you want; `/vsm compare` then sets it against today's."
    return build_ephemeral(text)


def build_no_comparison(current: int, future: int) -> Message:
    if not current:
        return build_ephemeral(
            "There is nothing to compare yet: map how work flows today with `/vsm add`, "
            "then the flow you want with `/vsm add future`."
        )
    return build_ephemeral(
        f"The current-state map has {current} step{'s' if current != 1 else ''} but there is "
        "no future-state map yet. Add its steps with `/vsm add future`, then run "
        "`/vsm compare` again."
    )


def build_drawing(state: MapState | None) -> Message:
    what = "the comparison" if state is None else f"the {map_name(state)}"
    return build_ephemeral(f":hourglass_flowing_sand: Drawing {what}…")


def build_step_not_found(name: str, steps: Sequence[Step], state: MapState) -> Message:
    flag = _state_flag(state)
    if not name:
        problem = "Which step? Name it after the command."
    else:
        problem = f"There is no step called “{escape(name)}” on the {map_name(state)}."
    if steps:
        listed = ", ".join(f"`{escape(s.name)}`" for s in ordered(steps))
        return build_ephemeral(f":warning: {problem} Its steps: {listed}.")
    return build_ephemeral(
        f":warning: {problem} It has no steps yet: add one with `/vsm add{flag}`."
    )


def build_map_not_posted(channel_id: str) -> Message:
    return build_ephemeral(
        "I'm not in this channel yet, so I can't post the map here.",
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f":wave: I'm not a member of <#{channel_id}> yet, so I can't post the "
                        "map there. Type `/invite @kaizen-bot` in the channel, then run `/vsm` "
                        "again. Your steps are stored."
                    )
                )
            ).to_dict()
        ],
    )


def build_upload_failed(error: str, command: str, *, certain: bool = True) -> Message:
    """The map image did not (or may not) reach the channel: say so and how to get it."""
    if certain:
        what = f"Slack did not take the map image (`{error}`), so nothing was posted."
    else:
        what = f"Slack failed while posting the map image (`{error}`); it may not be there."
    return build_ephemeral(f":warning: {what} Run `{command}` again in a minute to get it.")


# -- the metrics in text (the comment posted with each image) -----------------------------------


def _metric_lines(metrics: MapMetrics) -> list[str]:
    lines = [
        f"Lead time *{format_hours(metrics.lead_time)}* · process time "
        f"*{format_hours(metrics.total_process_time)}* · flow efficiency "
        f"*{_percent(metrics.flow_efficiency)}* · rolled %C&A *{_percent(metrics.rolled_ca)}*"
    ]
    if metrics.constraint is not None:
        lines.append(
            f"Constraint: *{escape(metrics.constraint.name)}*, where work waits "
            f"{format_hours(metrics.constraint.wait_minutes)}"
        )
    else:
        lines.append("Constraint: none, no step has a wait")
    return lines


def map_summary(
    steps: Sequence[Step],
    *,
    title: str,
    state: MapState,
    measured: Mapping[int, MeasuredWait],
    waste_counts: Mapping[int, int],
    window_days: int,
) -> str:
    """The map's metrics as text: what the image shows, readable without it."""
    chain = ordered(steps)
    metrics = compute_metrics(chain)
    count = len(chain)
    lines = [f"*{escape(title)} — {STATE_LABELS[state].lower()}*, {count} steps"]
    lines += _metric_lines(metrics)
    seen = [(s, measured[s.id]) for s in chain if s.id is not None and s.id in measured]
    if seen:
        lines.append(f"Measured waits, last {window_days} days (logged with `/wait … in ‹step›`):")
        for step, wait in seen:
            noun = "wait" if wait.count == 1 else "waits"
            lines.append(
                f"• {escape(step.name)}: median {format_hours(wait.median)}, "
                f"p85 {format_hours(wait.p85)} over {wait.count} {noun}; "
                f"estimated {format_hours(step.wait_minutes)}"
            )
    elif state is MapState.CURRENT:
        lines.append(
            f"No waits logged against a step in the last {window_days} days: "
            "`/wait 2d test environment in ‹step›` measures them."
        )
    burst = [(s, waste_counts.get(s.id, 0)) for s in chain if s.id is not None]
    top = max((n for _, n in burst), default=0)
    if top > 0:
        names = ", ".join(escape(s.name) for s, n in burst if n == top)
        lines.append(f"Kaizen burst: {names}, with {top} logs, the most waste of any step")
    if count >= MAX_STEPS:
        lines.append(f"_This map has {MAX_STEPS} steps, the most it can hold._")
    return "\n".join(lines)


def _delta(current: float | None, future: float | None, *, kind: str) -> str:
    if current is None or future is None:
        return "–"
    change = future - current
    if kind == "duration":
        sign = "−" if change < 0 else "+"
        return "no change" if change == 0 else f"{sign}{format_hours(abs(change))}"
    points = change * 100
    if round(points, 1) == 0:
        return "no change"
    return f"{'+' if points > 0 else '−'}{abs(points):.1f} points"


def comparison_summary(comparison: MapComparison, *, title: str) -> str:
    cur, fut = comparison.current, comparison.future

    def duration(value: float | None) -> str:
        return "–" if value is None else format_hours(value)

    rows = [
        ("Lead time", duration(cur.lead_time), duration(fut.lead_time), comparison.lead_time),
        (
            "Process time",
            duration(cur.total_process_time),
            duration(fut.total_process_time),
            comparison.process_time,
        ),
        (
            "Flow efficiency",
            _percent(cur.flow_efficiency),
            _percent(fut.flow_efficiency),
            comparison.flow_efficiency,
        ),
        (
            "Rolled %C&A",
            _percent(cur.rolled_ca),
            _percent(fut.rolled_ca),
            comparison.rolled_ca,
        ),
    ]
    lines = [f"*{escape(title)} — current vs future state*"]
    for label, now, then, delta in rows:
        kind = "duration" if label in ("Lead time", "Process time") else "ratio"
        change = _delta(delta.current, delta.future, kind=kind)
        lines.append(f"• {label}: {now} → *{then}* ({change})")
    return "\n".join(lines)
