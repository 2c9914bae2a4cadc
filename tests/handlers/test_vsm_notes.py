"""What the posted map says beside its steps: bursts, hot spots, changes, dates, ties."""

from __future__ import annotations

from bot.domain.vsm import MapState
from tests.handlers.test_vsm import seed, show
from tests.support.harness import Harness
from tests.support.kaizen import add_stream, propose


async def test_themes_linked_to_a_step_are_its_kaizen_bursts(harness: Harness) -> None:
    steps = await add_stream(harness, [("Testing", 60, 1440), ("Change board", 60, 14400)])
    await propose(harness, "On-demand test environments", step=steps["Testing"])
    await propose(harness, "Automate change checks", step=steps["Change board"])
    await harness.driver.command("/kaizen", "start K-2", user="U1", channel="C1")
    await harness.deps.drain()
    _, upload = await show(harness)
    assert (
        "Kaizen bursts (themes planned at a step): K-1 at Testing (proposed); "
        "K-2 at Change board (in progress)"
    ) in upload.initial_comment


async def test_hot_spots_rank_by_time_lost_not_by_count(harness: Harness) -> None:
    await seed(harness, ["Testing", "Change board"])
    for _ in range(3):
        await harness.driver.command("/wait", "2h flaky env in Testing", user="U1", channel="C1")
    await harness.driver.command("/wait", "10d signature in Change board", user="U1", channel="C1")
    harness.clock.advance(hours=1)
    _, upload = await show(harness)
    assert "Waste hot spots, by time lost: Change board 10 d, Testing 6 h" in (
        upload.initial_comment
    )


async def test_the_future_map_names_what_changed_against_the_current(harness: Harness) -> None:
    await seed(harness, ["Build", "Board", "Deploy"])
    await seed(harness, ["Build", "Checks", "Deploy"], state=MapState.FUTURE)
    _, upload = await show(harness, "future")
    # seed gives every step the same times, so only names differ.
    assert "Against the current state, new: Checks; removed: Board" in upload.initial_comment
