"""The bot acting on its own: the Monday digest, a reminder, and K-1's verdict a month later.

Each step is what one scheduler tick does at that moment (the same use cases ``kaizen-bot run``
ticks every few minutes), so the demo shows the real posts without waiting a month.
"""

from __future__ import annotations

from bot import ids
from bot.demo.stage import DemoError, Stage
from bot.demo.story import CHANNEL
from bot.usecases.digests import run_due_digests
from bot.usecases.reminders import run_due_reminders
from bot.usecases.verdicts import run_due_verdicts

# Four weeks on, with environments spun up per branch, Testing still waits, but for less.
DECEMBER_WAITS = [
    (28, 10, "Tina", "4h fresh environment for the payments branch in Testing"),
    (30, 14, "Dan", "6h environment image rebuilt after the base image update in Testing"),
    (31, 11, "Tina", "1d shared data set locked by a long regression run in Testing"),
    (32, 15, "Dan", "2h environment queue at the end of the sprint in Testing"),
]


async def weekly(stage: Stage) -> None:
    stage.heading("Monday 09:00: the weekly digest arrives")
    stage.at(7, 9)
    stage.say(
        "Nobody types anything: at the channel's digest time (Monday 09:00) the bot posts last "
        "week's digest, with its chart."
    )
    result = await run_due_digests(stage.deps, stage.clock())
    if len(result.posted) != 1:
        raise DemoError(f"the weekly digest was not posted: {result}")
    await stage.flush()
    again = await run_due_digests(stage.deps, stage.clock())
    if again.posted:
        raise DemoError("the weekly digest was posted twice")
    stage.say("(A second tick a minute later finds the digest already posted and sends nothing.)")


async def follow_up(stage: Stage) -> None:
    stage.heading("Saturday 09:00: Dan's action item is due")
    stage.at(12, 9)
    reminded = await run_due_reminders(stage.deps, stage.clock())
    if not reminded.sent:
        raise DemoError(f"no reminder was sent: {reminded}")
    await stage.flush()
    dm = next(c for c in reversed(stage.fake.calls_to("chat.postMessage")) if c.ok)
    item = _done_value(dm.args.get("blocks"))
    stage.say("Dan presses Done in the reminder.")
    await stage.driver.block_action(
        ids.ACTION_ACTION_ITEM_DONE,
        item,
        user=stage.user("Dan"),
        channel=str(dm.response["channel"]),
        message_ts=str(dm.response["ts"]),
    )
    await stage.skip()
    stage.at(13, 9)
    if (await run_due_reminders(stage.deps, stage.clock())).items:
        raise DemoError("a done item was reminded")
    stage.say("Sunday: nothing is due for Dan any more, so no reminder.")

    stage.heading("December: Testing's waits, with environments on demand")
    for day, hour, who, text in DECEMBER_WAITS:
        stage.at(day, hour)
        await stage.command(who, ids.CMD_WAIT, text)
    await stage.skip()

    stage.heading("21 December: K-1's check date")
    stage.at(35, 9)
    stage.say(
        "On the check date the bot measures the wait at Testing over the four weeks before, "
        "as it did for the baseline, and answers in K-1's thread:"
    )
    judged = await run_due_verdicts(stage.deps, stage.clock())
    if not judged.judged:
        raise DemoError(f"K-1 was not judged: {judged}")
    await stage.flush()


def _done_value(blocks: object) -> str:
    for block in blocks if isinstance(blocks, list) else []:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == ids.ACTION_ACTION_ITEM_DONE:
            return str(accessory["value"])
    raise DemoError(f"the reminder in {CHANNEL} has no Done button")
