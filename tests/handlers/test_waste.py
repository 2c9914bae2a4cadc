"""/waste, the "Log as waste" shortcut, Undo and categories, through the production app."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import func, select

from bot import ids
from storage.models import Observation
from tests.support.harness import OTHER_TEAM, Harness


async def count_rows(harness: Harness) -> int:
    async with harness.deps.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(Observation)) or 0)


def texts(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def undo_value(message: dict[str, Any]) -> str:
    for block in message["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == ids.ACTION_WASTE_UNDO:
            return str(accessory["value"])
    raise AssertionError("no Undo button")


async def test_quick_log_confirms_what_was_stored_with_undo(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "waiting 2h for the CI runner", user="U1", channel="C1"
    )
    assert response.status == 200
    assert response.json["response_type"] == "ephemeral"
    shown = texts(response.json)
    assert "Waiting" in shown and "lost 2h" in shown and "for the CI runner" in shown
    assert undo_value(response.json).isdigit()
    listed = await harness.driver.command("/waste", "list", user="U1", channel="C1")
    assert "for the CI runner" in texts(listed.json)


async def test_quick_log_without_a_category_asks_for_one_with_buttons(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "2h flaky tests again", user="U1", channel="C1"
    )
    buttons = [e for b in response.json["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 8
    assert "Which kind of waste" in texts(response.json)
    picked = buttons[0]
    answer = await harness.driver.block_action(
        picked["action_id"], picked["value"], user="U1", channel="C1"
    )
    assert answer.status == 200
    call = await harness.fake.wait_for("response_url")
    assert "Defects" in texts(call.args)
    listed = await harness.driver.command("/waste", "list", user="U1", channel="C1")
    assert "Defects" in texts(listed.json)


async def test_undo_removes_the_log_for_its_reporter_only(harness: Harness) -> None:
    logged = await harness.driver.command(
        "/waste", "motion 1h hunting for the runbook", user="U1", channel="C1"
    )
    value = undo_value(logged.json)
    await harness.driver.block_action(ids.ACTION_WASTE_UNDO, value, user="U2", channel="C1")
    refusal = await harness.fake.wait_for("response_url")
    assert "nothing of yours to undo" in texts(refusal.args)
    assert await count_rows(harness) == 1
    await harness.driver.block_action(ids.ACTION_WASTE_UNDO, value, user="U1", channel="C1")
    await harness.fake.wait_for("response_url", lambda c: "Undone" in texts(c.args))
    assert await count_rows(harness) == 0


async def test_a_bad_quick_log_gets_a_clear_message_and_stores_nothing(harness: Harness) -> None:
    for text in ("waiting 0h for nothing", "defects 400d forever", "waiting 2h", "x" * 3001):
        response = await harness.driver.command("/waste", text, user="U1", channel="C1")
        assert response.status == 200
        assert response.json["text"].startswith(":warning:"), text
    assert await count_rows(harness) == 0


async def test_unicode_emoji_and_sql_looking_text_are_stored_as_typed(harness: Harness) -> None:
    text = "defects Prüfung fehlgeschlagen 🚨 '); DROP TABLE observations;-- テスト"
    response = await harness.driver.command("/waste", text, user="U1", channel="C1")
    assert "DROP TABLE observations;-- テスト" in response.json["blocks"][0]["text"]["text"]
    listed = await harness.driver.command("/waste", "list", user="U1", channel="C1")
    assert "Prüfung fehlgeschlagen 🚨" in texts(listed.json)


async def test_a_retried_command_stores_one_row(harness: Harness) -> None:
    first = await harness.driver.command(
        "/waste", "waiting 1h for review", user="U1", channel="C1", trigger_id="tr-same"
    )
    again = await harness.driver.command(
        "/waste",
        "waiting 1h for review",
        user="U1",
        channel="C1",
        trigger_id="tr-same",
        retry_num=1,
    )
    assert (first.status, again.status) == (200, 200)
    assert "already" in again.json["text"]
    assert await count_rows(harness) == 1


async def test_fifty_concurrent_commands_are_each_confirmed_and_stored_once(
    harness: Harness,
) -> None:
    # How fast they are acked is bench/bench_capture.py's figure, not a pass/fail timing here.
    responses = await asyncio.gather(
        *(
            harness.driver.command(
                "/waste", f"waiting {i + 1}m for build {i}", user=f"U{i}", channel="C1"
            )
            for i in range(50)
        )
    )
    assert [r.status for r in responses] == [200] * 50
    assert all("Logged" in texts(r.json) for r in responses)
    assert await count_rows(harness) == 50


async def test_waste_list_shows_only_this_reporters_logs_in_this_workspace(
    harness: Harness,
) -> None:
    await harness.driver.command("/waste", "defects mine", user="U1", channel="C1")
    await harness.driver.command("/waste", "defects theirs", user="U2", channel="C1")
    other = harness.driver_for(OTHER_TEAM)
    await other.command("/waste", "defects other workspace", user="U1", channel="C1")
    listed = texts((await harness.driver.command("/waste", "list", user="U1", channel="C1")).json)
    assert "mine" in listed
    assert "theirs" not in listed and "other workspace" not in listed


async def test_undo_from_another_workspace_acts_on_nothing(harness: Harness) -> None:
    logged = await harness.driver.command("/waste", "defects mine", user="U1", channel="C1")
    other = harness.driver_for(OTHER_TEAM)
    await other.block_action(
        ids.ACTION_WASTE_UNDO, undo_value(logged.json), user="U1", channel="C1"
    )
    await harness.fake.wait_for("response_url")
    assert await count_rows(harness) == 1


async def test_waste_without_text_opens_the_modal_with_the_eight_categories(
    harness: Harness,
) -> None:
    response = await harness.driver.command("/waste", "", user="U1", channel="C1")
    assert response.status == 200
    call = await harness.fake.wait_for("views.open")
    view = call.args["view"]
    assert view["callback_id"] == ids.VIEW_WASTE
    category = next(b for b in view["blocks"] if b["block_id"] == ids.BLOCK_WASTE_CATEGORY)
    options = category["element"]["options"]
    assert [o["value"] for o in options][:3] == ["defects", "overproduction", "waiting"]
    assert all(o.get("description") for o in options)


async def test_a_command_mentioning_payload_is_still_a_command(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "defects fix the payload check", user="U1", channel="C1"
    )
    assert response.status == 200
    assert "fix the payload check" in texts(response.json)
    assert await count_rows(harness) == 1
