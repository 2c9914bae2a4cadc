"""Slack-native wording: counts, dates in the reader's zone, Undo where it belongs, hints."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from tests.support.harness import Harness


def texts(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def undo_buttons(message: dict[str, Any]) -> list[str]:
    return [
        b["accessory"]["value"]
        for b in message["blocks"]
        if (b.get("accessory") or {}).get("action_id") == ids.ACTION_WASTE_UNDO
    ]


async def test_one_log_is_counted_as_one_with_its_time_in_slack_date_syntax(
    harness: Harness,
) -> None:
    await harness.driver.command("/waste", "waiting 2h for the CI runner", user="U1", channel="C1")
    listed = await harness.driver.command("/waste", "list", user="U1", channel="C1")
    shown = texts(listed.json)
    assert "*Your last log here*" in shown and "last 1 logs" not in shown
    assert "<!date^" in shown and "{date_short_pretty} at {time}|" in shown


async def test_undo_is_offered_on_recent_logs_only(harness: Harness) -> None:
    await harness.driver.command("/waste", "waiting 2h old runner", user="U1", channel="C1")
    harness.clock.advance(days=3)
    await harness.driver.command("/waste", "waiting 1h new runner", user="U1", channel="C1")
    listed = await harness.driver.command("/waste", "list", user="U1", channel="C1")
    shown = texts(listed.json)
    assert "*Your last 2 logs here*" in shown
    assert len(undo_buttons(listed.json)) == 1
    assert "Undo is offered for the last 24 hours of logs." in shown


async def test_the_target_hint_names_each_metrics_unit(harness: Harness) -> None:
    await harness.driver.command(ids.CMD_KAIZEN, "add", user="U1", channel="C1")
    modal = harness.fake.find_view(callback_id=ids.VIEW_THEME, user="U1")
    assert modal is not None
    [target] = [b for b in modal["blocks"] if b.get("block_id") == ids.BLOCK_THEME_TARGET]
    hint = target["hint"]["text"]
    assert hint.startswith("Type it in the metric's unit: lead time 3d; flow efficiency 25%")
    assert "A time (" not in hint
