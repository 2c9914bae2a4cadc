"""The Pet Clinic team turns the week's waste into a kaizen backlog, votes, and starts work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import ids
from bot.demo.stage import DemoError, Stage
from bot.demo.story import CHANNEL
from fake_slack.driver import datepicker, input_values, plain, static_select, users_select
from fake_slack.transcript import render_message, render_view

A = ids.ACTION_KAIZEN_INPUT

# (who proposes, title, problem, waste, step)
THEMES = [
    (
        "Tina",
        "On-demand test environments",
        "Testing waits days for the one shared environment: booked, broken, or being patched.",
        "waiting",
        "Testing",
    ),
    (
        "Adam",
        "Replace the weekly CAB with automated change checks",
        "Every change waits for Thursday's board; hotfixes wait five days for a signature.",
        "waiting",
        "Change approval board",
    ),
    (
        "Chun",
        "Testers in refinement",
        "Edge cases surface in Testing because testers never see a story before it is built.",
        "non_utilized_talent",
        "Refinement",
    ),
]
# Who votes for which theme (by its place in THEMES).
VOTES = {
    "Dan": [0, 1],
    "Tina": [0, 2],
    "Adam": [1],
    "Selma": [1],
    "Paulo": [0, 2],
    "Santhosh": [0],
    "Brenda": [1],
}


def _step_options(view: dict[str, Any]) -> dict[str, str]:
    """Step name → option value, from the step picker of the theme modal (if the map exists)."""
    for block in view.get("blocks", []):
        if block.get("block_id") == ids.BLOCK_THEME_STEP:
            return {o["text"]["text"]: o["value"] for o in block["element"]["options"]}
    return {}


async def _propose(stage: Stage, index: int) -> str:
    who, title, problem, waste, step_name = THEMES[index]
    await stage.command(who, ids.CMD_KAIZEN, "add", show=False)
    view = stage.fake.calls_to("views.open")[-1].args["view"]
    step = _step_options(view).get(step_name)
    fields = [
        (ids.BLOCK_THEME_TITLE, A, plain(title)),
        (ids.BLOCK_THEME_PROBLEM, A, plain(problem)),
        (ids.BLOCK_THEME_CATEGORY, A, static_select(waste)),
    ]
    if step is not None:
        fields.append((ids.BLOCK_THEME_STEP, A, static_select(step)))
    if index == 0 and step is not None:
        check = (stage.clock() + timedelta(weeks=4)).date().isoformat()
        fields += [
            (ids.BLOCK_THEME_CHANGE, A, plain("spin up a test environment per branch on demand")),
            (ids.BLOCK_THEME_METRIC, A, static_select("step_wait")),
            (ids.BLOCK_THEME_TARGET, A, plain("1d")),
            (ids.BLOCK_THEME_CHECK_DATE, A, datepicker(check)),
        ]
    stage.say(f"{who}: /kaizen add  →  “{title}”")
    await stage.submit(
        who, ids.VIEW_THEME, input_values(*fields), private_metadata=view["private_metadata"]
    )
    await stage.deps.drain()
    posted = [
        c for c in stage.fake.calls_to("chat.postMessage") if title in str(c.args.get("text"))
    ]
    if not posted:
        raise DemoError(f"the theme “{title}” was not posted")
    return str(posted[-1].response["ts"])


async def _add_action(stage: Stage, who: str, ts: str, text: str, owner: str, days: int) -> None:
    await stage.driver.block_action(
        ids.ACTION_THEME_ADD_ACTION_ITEM, user=stage.user(who), channel=CHANNEL, message_ts=ts
    )
    view = stage.fake.calls_to("views.open")[-1].args["view"]
    due = (stage.clock() + timedelta(days=days)).date().isoformat()
    values = input_values(
        (ids.BLOCK_ACTION_ITEM_TEXT, A, plain(text)),
        (ids.BLOCK_ACTION_ITEM_OWNER, A, users_select(stage.user(owner))),
        (ids.BLOCK_ACTION_ITEM_DUE, A, datepicker(due)),
        (ids.BLOCK_ACTION_ITEM_THEME, A, static_select("1")),
    )
    stage.say(f"{who} presses “Add action item” on K-1: {text} ({owner}, due {due})")
    await stage.submit(who, ids.VIEW_ACTION_ITEM, values, private_metadata=view["private_metadata"])


async def play(stage: Stage) -> None:
    stage.heading("From waste to a kaizen backlog: propose, vote, experiment")
    stage.at(7, 10)
    stage.say("Monday after the review. Three improvement themes come out of the week's waste.")
    tss = []
    for index in range(len(THEMES)):
        tss.append(await _propose(stage, index))
        await (stage.flush() if index == 0 else stage.skip())
    stage.say("The team votes with :+1: on the theme messages:")
    stage.at(7, 14)
    for who, picks in VOTES.items():
        for pick in picks:
            await stage.driver.reaction_added(
                "+1", user=stage.user(who), channel=CHANNEL, ts=tss[pick]
            )
        stage.say(f"  {who} votes for " + ", ".join(f"K-{p + 1}" for p in picks))
    await stage.skip()
    await stage.command("Paulo", ids.CMD_KAIZEN, "list")

    stage.at(8, 9)
    await stage.command("Santhosh", ids.CMD_KAIZEN, "start K-1")
    await stage.flush()
    stage.at(8, 10)
    await _add_action(
        stage, "Adam", tss[0], "Price ephemeral environments on the cloud account", "Adam", 7
    )
    await _add_action(
        stage, "Tina", tss[0], "Script the test data seed for a fresh database", "Dan", 4
    )
    await stage.skip()
    message = stage.fake.message(CHANNEL, tss[0]) or {}
    stage.say("K-1's message in #petclinic-team now reads:")
    rendered = render_message(message.get("text"), message.get("blocks"))
    stage.lines += [f"  │ {line}" for line in rendered]

    stage.at(9, 8)
    stage.say("Dan opens kaizen-bot's Home tab:")
    await stage.driver.app_home_opened(stage.user("Dan"))
    await stage.skip()
    home = stage.fake.home(stage.user("Dan"))
    if home is not None:
        stage.lines += [f"  │ {line}" for line in render_view(home)]

    stage.at(9, 17)
    await stage.command("Paulo", ids.CMD_KAIZEN, "export")
    await stage.flush()
