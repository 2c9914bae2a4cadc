"""The Pet Clinic team's retro on their waste week: notes, the reveal, votes, and a new theme.

Santhosh, the Scrum Master, runs it asynchronously in the channel; the phases move on at their
deadlines by the same job the scheduler runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import ids
from bot.demo.stage import DemoError, Stage
from bot.demo.story import CHANNEL
from fake_slack.driver import input_values, plain, static_select
from fake_slack.transcript import render_message, render_view
from jobs.retro_phases import advance_retro_phases

R = ids.ACTION_RETRO_INPUT
K = ids.ACTION_KAIZEN_INPUT
FACILITATOR = "Santhosh"

# (who, waste category, note): what each person remembers of the week.
NOTES = [
    ("Tina", "waiting", "The shared test environment was down or booked for 5 of 8 working days."),
    ("Dan", "waiting", "Test environment again: I lost two days waiting for a slot."),
    ("Adam", "waiting", "The hotfix waited 5 days for the CAB while customers could not log in."),
    ("Adam", "defects", "The rollback on Thursday: staging and production configs differ."),
    ("Selma", "transportation", "Security reviews by email get lost in forwards."),
    ("Brenda", "overproduction", "We still build the monthly export nobody opens."),
]
# Who votes for which note (by its place in NOTES); each has two votes.
VOTES = {
    "Tina": [0, 1],
    "Dan": [0, 2],
    "Adam": [2, 3],
    "Selma": [0, 4],
    "Brenda": [0, 5],
    "Paulo": [2, 0],
    "Chun": [1],
}


def _opened(stage: Stage) -> dict[str, Any]:
    view: dict[str, Any] = stage.fake.calls_to("views.open")[-1].args["view"]
    return view


async def _start(stage: Stage) -> str:
    stage.at(10, 9)
    await stage.command(FACILITATOR, ids.CMD_RETRO, "start", show=False)
    view = _opened(stage)
    collect = int((stage.monday + timedelta(days=10, hours=17)).timestamp())
    vote = int((stage.monday + timedelta(days=11, hours=12)).timestamp())
    values = input_values(
        (ids.BLOCK_RETRO_TITLE, R, plain("Retro: our waste week")),
        (ids.BLOCK_RETRO_TEMPLATE, R, static_select("downtime")),
        (
            ids.BLOCK_RETRO_COLLECT_UNTIL,
            R,
            {"type": "datetimepicker", "selected_date_time": collect},
        ),
        (ids.BLOCK_RETRO_VOTE_UNTIL, R, {"type": "datetimepicker", "selected_date_time": vote}),
        (ids.BLOCK_RETRO_VOTES, R, {"type": "number_input", "value": "2"}),
        (
            ids.BLOCK_RETRO_ANONYMOUS,
            R,
            {"type": "checkboxes", "selected_options": [{"value": "anonymous"}]},
        ),
    )
    stage.say(
        f"{FACILITATOR}: /retro start  →  “Retro: our waste week”, DOWNTIME waste walk, "
        "notes until 17:00, votes until Friday noon, 2 votes each, anonymous"
    )
    await stage.submit(
        FACILITATOR, ids.VIEW_RETRO_START, values, private_metadata=view["private_metadata"]
    )
    await stage.flush()
    posted = [
        c
        for c in stage.fake.calls_to("chat.postMessage")
        if "our waste week" in str(c.args.get("text"))
    ]
    if not posted:
        raise DemoError("the retro was not announced")
    return str(posted[-1].response["ts"])


async def _add_notes(stage: Stage, root: str) -> None:
    for index, (who, category, text) in enumerate(NOTES):
        stage.at(10, 10 + index)
        await stage.driver.block_action(
            ids.ACTION_RETRO_ADD_NOTE, user=stage.user(who), channel=CHANNEL, message_ts=root
        )
        view = _opened(stage)
        values = input_values(
            (ids.BLOCK_RETRO_COLUMN, R, static_select(category)),
            (ids.BLOCK_RETRO_TEXT, R, plain(text)),
        )
        stage.say(f"{who} presses “Add a note” and writes one ({category}).")
        await stage.submit(
            who, ids.VIEW_RETRO_NOTE, values, private_metadata=view["private_metadata"]
        )
        await (stage.flush() if index == 0 else stage.skip())
    stage.say("The announcement now counts the notes, and shows none of them:")
    message = stage.fake.message(CHANNEL, root) or {}
    stage.lines += [f"  │ {line}" for line in _phase_lines(message)]


def _phase_lines(message: dict[str, Any]) -> list[str]:
    return [
        line
        for line in render_message(message.get("text"), message.get("blocks"))
        if "so far" in line
    ]


def _button_value(blocks: list[dict[str, Any]], action_id: str) -> str:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise DemoError(f"no {action_id} button")


async def _nudge(stage: Stage) -> None:
    stage.at(10, 16)
    status = await stage.command(FACILITATOR, ids.CMD_RETRO, "status")
    value = _button_value(status.get("blocks", []), ids.ACTION_RETRO_NUDGE)
    await stage.driver.block_action(
        ids.ACTION_RETRO_NUDGE,
        value,
        user=stage.user(FACILITATOR),
        channel=CHANNEL,
        is_ephemeral=True,
    )
    stage.say(f"{FACILITATOR} presses “Nudge the others”:")
    await stage.flush()


async def _vote(stage: Stage, root: str) -> None:
    stage.at(10, 17)
    stage.say("17:00: collecting ends and the notes are revealed in the thread.")
    await advance_retro_phases(stage.deps, stage.clock())
    await stage.flush()
    notes = [
        m for m in stage.fake.messages(CHANNEL) if m.get("thread_ts") == root and m["ts"] != root
    ]
    by_text = {n: m["ts"] for m in notes for _, _, n in NOTES if m.get("text", "").endswith(n)}
    stage.at(11, 9)
    for who, picks in VOTES.items():
        for pick in picks:
            await stage.driver.reaction_added(
                "+1", user=stage.user(who), channel=CHANNEL, ts=by_text[NOTES[pick][2]]
            )
        stage.say(f"  {who} votes with :+1: on " + ", ".join(f"note {p + 1}" for p in picks))
    await stage.skip()
    stage.say("Dan tries a third vote:")
    await stage.driver.reaction_added(
        "+1", user=stage.user("Dan"), channel=CHANNEL, ts=by_text[NOTES[5][2]]
    )
    await stage.flush()


async def _theme_from_top_note(stage: Stage, root: str) -> None:
    stage.at(11, 12)
    stage.say("Friday noon: voting ends and the summary goes up.")
    await advance_retro_phases(stage.deps, stage.clock())
    await stage.flush()
    summary = [m for m in stage.fake.messages(CHANNEL) if m.get("thread_ts") == root][-1]
    stage.at(11, 13)
    await stage.driver.block_action(
        ids.ACTION_RETRO_MAKE_THEME,
        user=stage.user("Paulo"),
        channel=CHANNEL,
        message_ts=summary["ts"],
    )
    view = _opened(stage)
    stage.say(
        "Paulo presses “Make a kaizen theme” on the top note; the theme form opens filled in:"
    )
    stage.lines += [f"  │ {line}" for line in render_view(view)]
    problem = _initial(view, ids.BLOCK_THEME_PROBLEM)
    stage.say("He shortens the title and proposes it.")
    values = input_values(
        (ids.BLOCK_THEME_TITLE, K, plain("A test environment per branch, on demand")),
        (ids.BLOCK_THEME_PROBLEM, K, plain(problem)),
        (ids.BLOCK_THEME_CATEGORY, K, static_select("waiting")),
    )
    await stage.submit("Paulo", ids.VIEW_THEME, values, private_metadata=view["private_metadata"])
    await stage.flush()


def _initial(view: dict[str, Any], block_id: str) -> str:
    for block in view.get("blocks", []):
        if block.get("block_id") == block_id:
            return str(block["element"].get("initial_value") or "")
    raise DemoError(f"the theme form has no {block_id}")


async def play(stage: Stage) -> None:
    stage.heading("An async retro on the waste week: notes, votes, a new theme")
    stage.say("Thursday of the next week. Santhosh runs the team's retro in the channel.")
    root = await _start(stage)
    await _add_notes(stage, root)
    await _nudge(stage)
    await _vote(stage, root)
    await _theme_from_top_note(stage, root)
