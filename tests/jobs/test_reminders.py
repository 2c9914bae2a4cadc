"""Daily reminders: once per item per day, in the owner's own time zone, with a Done button."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot import ids
from bot.usecases.reminders import run_due_reminders
from storage.models import ActionItem
from tests.support.harness import Harness
from tests.support.jobs import add_action

# Monday 16 November 2026; Los Angeles is UTC-8, Tokyo UTC+9.
LA_8AM = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)
LA_9AM = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)


def reminders_to(harness: Harness, user: str) -> list[dict[str, object]]:
    return [
        c.args
        for c in harness.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == user and "Reminder" in str(c.args.get("text"))
    ]


async def test_an_owner_is_reminded_once_a_day_from_nine_their_time(harness: Harness) -> None:
    harness.fake.add_user("U5", tz="America/Los_Angeles")
    harness.clock.set(LA_8AM)
    await add_action(harness.deps, owner="U5", due=date(2026, 11, 16), text="Book the test env")
    await add_action(harness.deps, owner="U5", due=date(2026, 11, 10), text="Write the runbook")
    await add_action(harness.deps, owner="U5", due=date(2026, 11, 17), text="Not due yet")
    await add_action(harness.deps, owner="U5", due=date(2026, 11, 1), text="Finished", done=True)

    assert (await run_due_reminders(harness.deps, LA_8AM)).sent == []
    first = await run_due_reminders(harness.deps, LA_9AM)
    again = await run_due_reminders(harness.deps, LA_9AM.replace(hour=23))
    assert len(first.items) == 2 and again.sent == []
    [dm] = reminders_to(harness, "U5")
    shown = json.dumps(dm["blocks"])
    assert "Book the test env" in shown and "Write the runbook" in shown
    assert "Not due yet" not in shown and "Finished" not in shown
    assert shown.count(ids.ACTION_ACTION_ITEM_DONE) == 2

    # The next day in Los Angeles, overdue and due items are reminded again, once.
    next_day = datetime(2026, 11, 17, 17, 0, tzinfo=UTC)
    assert len((await run_due_reminders(harness.deps, next_day)).items) == 3
    assert (await run_due_reminders(harness.deps, next_day)).items == []


async def test_the_owners_date_decides_what_is_due_not_utcs(harness: Harness) -> None:
    harness.fake.add_user("U6", tz="Asia/Tokyo")
    # 16 Nov 01:00 UTC is already 10:00 on 16 Nov in Tokyo (and still 15 Nov in UTC).
    moment = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    harness.clock.set(moment)
    await add_action(harness.deps, owner="U6", due=date(2026, 11, 16))
    result = await run_due_reminders(harness.deps, moment)
    assert len(result.items) == 1 and result.sent == ["1:U6:2026-11-16"]


async def test_an_owner_who_left_the_workspace_is_skipped(harness: Harness) -> None:
    harness.fake.add_user("U7", tz="UTC", deleted=True)
    harness.clock.set(LA_9AM)
    await add_action(harness.deps, owner="U7", due=date(2026, 11, 16))
    await add_action(harness.deps, owner="U404", due=date(2026, 11, 16))
    result = await run_due_reminders(harness.deps, LA_9AM)
    assert result.sent == [] and sorted(result.skipped_owners) == ["U404", "U7"]


async def test_a_failed_dm_is_tried_again_later_that_day(harness: Harness) -> None:
    harness.fake.add_user("U5", tz="UTC")
    harness.clock.set(LA_9AM)
    await add_action(harness.deps, owner="U5", due=date(2026, 11, 16))
    harness.fake.fail_next("chat.postMessage", "channel_not_found")
    assert (await run_due_reminders(harness.deps, LA_9AM)).failed == ["1:U5"]
    harness.clock.set(LA_9AM.replace(hour=18))
    assert len((await run_due_reminders(harness.deps, harness.clock())).items) == 1
    assert len(reminders_to(harness, "U5")) == 1


async def test_done_in_the_reminder_completes_the_item(harness: Harness) -> None:
    harness.fake.add_user("U5", tz="UTC")
    harness.clock.set(LA_9AM)
    item = await add_action(harness.deps, owner="U5", due=date(2026, 11, 16))
    await run_due_reminders(harness.deps, LA_9AM)
    dm = next(c for c in harness.fake.calls_to("chat.postMessage") if c.ok)
    clicked = await harness.driver.block_action(
        ids.ACTION_ACTION_ITEM_DONE,
        str(item),
        user="U5",
        channel=str(dm.response["channel"]),
        message_ts=str(dm.response["ts"]),
    )
    assert clicked.status == 200
    await harness.deps.drain()
    async with harness.deps.db.transaction() as s:
        assert await s.scalar(select(ActionItem.status).where(ActionItem.id == item)) == "done"
    harness.clock.set(datetime(2026, 11, 17, 10, 0, tzinfo=UTC))
    assert (await run_due_reminders(harness.deps, harness.clock())).items == []
