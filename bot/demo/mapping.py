"""The Pet Clinic team maps its value stream in Slack: today's flow, the flow it wants, both drawn.

Santhosh types in the current stream from the VSM exercise, step by step through the /vsm add
form; Paulo sketches the future state. At the end of the week ``review`` draws the map again,
now with the waits the team measured and the steps where most waste was logged.
"""

from __future__ import annotations

from bot import ids
from bot.demo.stage import Stage
from bot.demo.story import CURRENT_STREAM, FUTURE_STREAM
from fake_slack.driver import input_values, plain, radio_buttons

Stream = list[tuple[str, str, str, str, str]]


async def _add_steps(stage: Stage, who: str, stream: Stream, *, future: bool) -> None:
    a = ids.ACTION_VSM_INPUT
    state = "future" if future else "current"
    for number, (name, owner, process, wait, ca) in enumerate(stream, start=1):
        await stage.command(who, ids.CMD_VSM, "add future" if future else "add", show=False)
        view = stage.fake.calls_to("views.open")[-1].args["view"]
        values = input_values(
            (ids.BLOCK_VSM_NAME, a, plain(name)),
            (ids.BLOCK_VSM_OWNER, a, plain(owner)),
            (ids.BLOCK_VSM_PROCESS, a, plain(process)),
            (ids.BLOCK_VSM_WAIT, a, plain(wait)),
            (ids.BLOCK_VSM_CA, a, plain(ca)),
            (ids.BLOCK_VSM_STATE, a, radio_buttons(state)),
        )
        await stage.submit(
            who, ids.VIEW_VSM_STEP, values, private_metadata=view["private_metadata"]
        )
        if number < len(stream):
            # Only the last confirmation is printed: it lists the whole stream in order.
            await stage.skip()
    await stage.flush()


async def play(stage: Stage) -> None:
    stage.heading("Mapping the value stream")
    stage.at(0, 8)
    stage.say(
        f"Santhosh types in the {len(CURRENT_STREAM)} steps from the VSM exercise with "
        "/vsm add (one form per step: name, owner, process time, wait before it, %C&A):"
    )
    await _add_steps(stage, "Santhosh", CURRENT_STREAM, future=False)
    await stage.command("Santhosh", ids.CMD_VSM)
    await stage.flush()

    stage.at(0, 8, 30)
    stage.say(f"Paulo sketches the future state they designed ({len(FUTURE_STREAM)} steps):")
    await _add_steps(stage, "Paulo", FUTURE_STREAM, future=True)
    await stage.command("Paulo", ids.CMD_VSM, "future")
    await stage.flush()
    await stage.command("Paulo", ids.CMD_VSM, "compare")
    await stage.flush()


async def review(stage: Stage) -> None:
    stage.heading("Friday: the map with what the week measured")
    stage.at(4, 17)
    stage.say("Santhosh draws the map again: the waits logged this week sit beside the estimates.")
    await stage.command("Santhosh", ids.CMD_VSM, "show")
    await stage.flush()
