"""/flow: the digest's content for this channel now, only to the person who asked."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import ids
from tests.support.harness import Harness
from tests.support.jobs import add_logs


async def test_flow_answers_this_weeks_summary_ephemerally_and_sends_the_chart_by_dm(
    harness: Harness,
) -> None:
    now = harness.clock()
    await add_logs(harness.deps, count=6, start=now - timedelta(days=6), end=now, minutes=90)
    await add_logs(harness.deps, count=2, start=now - timedelta(days=13), end=now - timedelta(7))
    response = await harness.driver.command(ids.CMD_FLOW, "", user="U1", channel="C1")
    assert response.status == 200
    assert response.json["response_type"] == "ephemeral"
    shown = json.dumps(response.json["blocks"], ensure_ascii=False)
    assert "Flow this week" in shown and "6 waste logs" in shown and "+4 logs" in shown
    await harness.deps.drain()
    [chart] = harness.fake.files
    assert chart.content.startswith(b"\x89PNG") and chart.channel_id != "C1"
    # Nothing in the channel: the chart's note goes to the DM with it.
    assert all(c.args["channel"] == "U1" for c in harness.fake.calls_to("chat.postMessage"))


async def test_flow_month_counts_the_last_thirty_days(harness: Harness) -> None:
    now = harness.clock()
    await add_logs(harness.deps, count=20, start=now - timedelta(days=29), end=now)
    response = await harness.driver.command(ids.CMD_FLOW, "month", user="U1", channel="C1")
    shown = json.dumps(response.json["blocks"])
    assert "Flow this 30 days" in shown and "20 waste logs" in shown


async def test_flow_in_a_channel_without_data_says_how_to_start_and_draws_nothing(
    harness: Harness,
) -> None:
    response = await harness.driver.command(ids.CMD_FLOW, "quarter", user="U1", channel="C9")
    assert "To start" in json.dumps(response.json["blocks"])
    await harness.deps.drain()
    assert harness.fake.files == []


async def test_flow_with_an_unknown_period_answers_the_help(harness: Harness) -> None:
    response = await harness.driver.command(ids.CMD_FLOW, "year", user="U1", channel="C1")
    text = json.dumps(response.json["blocks"])
    assert "I don't know `/flow year`" in text and "not available yet" not in text
