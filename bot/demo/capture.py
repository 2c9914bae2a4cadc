"""A week of the Pet Clinic team logging waste and waits, through every capture path."""

from __future__ import annotations

from bot import ids
from bot.demo.stage import Stage
from bot.demo.story import CHANNEL, REACTED, WEEK
from fake_slack.driver import checkboxes, input_values, plain, static_select

SELMA = "Security only sees changes at the CAB; we could pair with devs in refinement."
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


async def play(stage: Stage) -> None:
    stage.heading("A week of waste, logged where the team talks")
    shown_day = -1
    for day, hour, who, how, text in WEEK:
        stage.at(day, hour)
        if day != shown_day:
            stage.say(f"— {DAYS[day]} —")
            shown_day = day
        command = ids.CMD_WAIT if how == "wait" else ids.CMD_WASTE
        # Monday's replies in full; after that, what people typed is enough to follow along.
        full = day == 0
        await stage.command(who, command, text, show=full)
        if not full:
            stage.say(f"{who}: {command} {text}   ✓ logged")

    for day, hour, author, text, reactor in REACTED:
        stage.at(day, hour)
        ts = stage.fake.next_ts()
        stage.fake.add_message(CHANNEL, ts, text, stage.user(author))
        stage.say(f"{author} posts: “{text}”  —  {reactor} reacts with :wastebasket:")
        await stage.driver.reaction_added(
            "wastebasket", user=stage.user(reactor), channel=CHANNEL, ts=ts
        )
        await stage.flush()
    stage.say("Dan picks the category on his prompt:")
    prompt = next(
        c for c in stage.fake.calls_to("chat.postEphemeral") if c.args["user"] == stage.user("Dan")
    )
    action_id = f"{ids.ACTION_WASTE_PICK_CATEGORY}.transportation"
    button = next(
        e
        for block in prompt.args["blocks"]
        for e in block.get("elements", [])
        if e.get("action_id") == action_id
    )
    await stage.driver.block_action(
        action_id, button["value"], user=stage.user("Dan"), channel=CHANNEL
    )
    await stage.flush()

    stage.at(4, 16)
    stage.say("Selma logs one anonymously with the form (/waste with no text):")
    await stage.command("Selma", ids.CMD_WASTE, show=False)
    view = stage.fake.calls_to("views.open")[-1].args["view"]
    a = ids.ACTION_WASTE_INPUT
    values = input_values(
        (ids.BLOCK_WASTE_CATEGORY, a, static_select("non_utilized_talent")),
        (ids.BLOCK_WASTE_DESCRIPTION, a, plain(SELMA)),
        (ids.BLOCK_WASTE_MINUTES, a, plain("4h")),
        (ids.BLOCK_WASTE_ANONYMOUS, a, checkboxes(["anonymous"])),
    )
    await stage.submit("Selma", ids.VIEW_WASTE, values, private_metadata=view["private_metadata"])
    await stage.flush()
    await stage.command("Dan", ids.CMD_WASTE, "list")
    stage.say(f"The team logged {len(WEEK) + len(REACTED) + 1} wastes and waits this week.")
