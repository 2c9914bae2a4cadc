"""Quick logs never misread silently: an unknown step, a time not understood, the words kept."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot import ids
from storage.models import Observation
from tests.handlers.test_waste_modal import TEAM, add_step
from tests.support.harness import Harness


def texts(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def stored(harness: Harness) -> list[Observation]:
    async with harness.deps.db.transaction() as s:
        return list((await s.scalars(select(Observation))).all())


async def test_a_wait_at_an_unknown_step_says_so_and_offers_the_maps_steps(
    harness: Harness,
) -> None:
    testing = await add_step(harness, TEAM, "C1", "Testing")
    response = await harness.driver.command(
        "/wait", "2d waiting in Nowhere step", user="U1", channel="C1"
    )
    shown = texts(response.json)
    assert "No step of this channel's map is called “Nowhere step”" in shown
    offered = {b["text"]["text"]: b for b in buttons(response.json)}
    assert set(offered) == {"Testing", "Log without a step"}
    [row] = await stored(harness)
    assert row.step_id is None and row.description == "waiting in Nowhere step"

    pick = offered["Testing"]
    answer = await harness.driver.block_action(
        pick["action_id"], pick["value"], user="U1", channel="C1"
    )
    assert answer.status == 200
    call = await harness.fake.wait_for("response_url")
    assert "at _Testing_" in texts(call.args)
    [row] = await stored(harness)
    assert row.step_id == testing


async def test_a_step_button_from_someone_else_changes_nothing(harness: Harness) -> None:
    await add_step(harness, TEAM, "C1", "Testing")
    response = await harness.driver.command("/wait", "2d in Nowhere", user="U1", channel="C1")
    pick = buttons(response.json)[0]
    await harness.driver.block_action(pick["action_id"], pick["value"], user="U2", channel="C1")
    call = await harness.fake.wait_for("response_url")
    assert "That log is gone" in texts(call.args)
    [row] = await stored(harness)
    assert row.step_id is None


async def test_a_wait_at_a_known_step_is_placed_there_without_asking(harness: Harness) -> None:
    await add_step(harness, TEAM, "C1", "Testing")
    response = await harness.driver.command(
        "/wait", "2d test environment in testing", user="U1", channel="C1"
    )
    assert "at _Testing_" in texts(response.json)
    assert not [b for b in buttons(response.json) if ids.ACTION_WAIT_PICK_STEP in b["action_id"]]


async def test_a_spoken_time_is_read_as_the_time_lost(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "waiting two hours for CI", user="U1", channel="C1"
    )
    assert "lost 2 h" in texts(response.json)
    [row] = await stored(harness)
    assert (row.minutes, row.description) == (120, "waiting for CI")


async def test_a_time_not_understood_is_named_in_the_confirmation(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "waiting for CI since about two hours", user="U1", channel="C1"
    )
    shown = texts(response.json)
    assert "No time lost recorded" in shown and "“about two hours”" in shown
    [row] = await stored(harness)
    assert row.minutes is None


async def test_the_category_word_stays_in_the_description(harness: Harness) -> None:
    await harness.driver.command("/waste", "waiting 2h for the CI runner", user="U1", channel="C1")
    [row] = await stored(harness)
    assert row.description == "waiting for the CI runner"


async def test_waste_help_names_the_eight_kinds_their_words_and_other_ways(
    harness: Harness,
) -> None:
    response = await harness.driver.command("/waste", "help", user="U1", channel="C1")
    shown = texts(response.json)
    for label in (
        "Defects",
        "Overproduction",
        "Waiting",
        "Non-utilized talent",
        "Transportation",
        "Inventory",
        "Motion",
        "Extra processing",
    ):
        assert f"*{label}*" in shown, label
    for synonym in ("rework", "blocked", "handoff", "wip", "context switch", "gold plating"):
        assert synonym in shown, synonym
    assert ":wastebasket:" in shown and "Remove the reaction" in shown
    assert "*Log as waste*" in shown
