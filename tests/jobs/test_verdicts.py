"""Hypothesis verdicts: measured on the check date over the baseline's kind of window."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bot import ids
from bot.domain.export import build_export_csv
from bot.usecases.verdicts import run_due_verdicts
from storage.kaizen import get_export
from tests.support.harness import Harness
from tests.support.jobs import add_hypothesis_theme, add_logs, save_schedule, workspace_id
from tests.support.kaizen import add_stream, add_waits

CHECK = date(2026, 12, 14)
CHECK_START = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)
WINDOW_START = CHECK_START - timedelta(weeks=4)


async def judge_on_check_date(harness: Harness) -> str:
    """Run the verdicts the day before (nothing) and on the day; the text posted in the thread."""
    harness.fake.add_message("C1", "1700000000.000100", "K-1 Faster test environments", "B1")
    harness.clock.set(CHECK_START - timedelta(minutes=1))
    assert (await run_due_verdicts(harness.deps, harness.clock())).judged == []
    harness.clock.set(CHECK_START + timedelta(hours=9))
    result = await run_due_verdicts(harness.deps, harness.clock())
    assert len(result.judged) == 1
    assert (await run_due_verdicts(harness.deps, harness.clock())).judged == []
    [posted] = [c for c in harness.fake.calls_to("chat.postMessage") if c.ok]
    assert posted.args["thread_ts"] == "1700000000.000100" and posted.args["channel"] == "C1"
    return json.dumps(posted.args["blocks"], ensure_ascii=False)


async def test_a_waste_count_is_counted_over_the_four_weeks_before_the_check_date(
    harness: Harness,
) -> None:
    await add_hypothesis_theme(
        harness.deps,
        metric="waste_count",
        baseline=10,
        target=6,
        check=CHECK,
        category="defects",
        message_ts="1700000000.000100",
    )
    await add_logs(harness.deps, count=5, start=WINDOW_START, end=CHECK_START)
    await add_logs(harness.deps, count=4, start=WINDOW_START, end=CHECK_START, category="motion")
    await add_logs(harness.deps, count=3, start=CHECK_START, end=CHECK_START + timedelta(hours=8))
    await add_logs(harness.deps, count=3, start=WINDOW_START - timedelta(days=3), end=WINDOW_START)
    shown = await judge_on_check_date(harness)
    assert "*Met*: baseline 10 → target 6 → measured 5" in shown


async def test_time_lost_not_reaching_its_target_is_not_met(harness: Harness) -> None:
    await add_hypothesis_theme(
        harness.deps,
        metric="minutes_lost",
        baseline=600,
        target=180,
        check=CHECK,
        message_ts="1700000000.000100",
    )
    await add_logs(harness.deps, count=4, start=WINDOW_START, end=CHECK_START, minutes=60)
    shown = await judge_on_check_date(harness)
    assert "*Not met*: baseline 10 h → target 3 h → measured 4 h" in shown


async def test_a_step_wait_is_the_median_wait_logged_at_the_step(harness: Harness) -> None:
    steps = await add_stream(harness, [("Build", 60, 300), ("Testing", 120, 2880)])
    harness.clock.set(CHECK_START)
    await add_waits(harness, steps["Testing"], [60, 180, 600], days_ago=5)
    await add_hypothesis_theme(
        harness.deps,
        metric="step_wait",
        baseline=2880,
        target=240,
        check=CHECK,
        step_id=steps["Testing"],
        message_ts="1700000000.000100",
    )
    shown = await judge_on_check_date(harness)
    assert "*Met*: baseline 2 d → target 4 h → measured 3 h" in shown


async def test_lead_time_and_flow_efficiency_are_read_from_the_map(harness: Harness) -> None:
    await add_stream(harness, [("Build", 60, 300), ("Testing", 120, 1440)])  # LT 1920 min
    await add_hypothesis_theme(
        harness.deps,
        metric="flow_efficiency",
        baseline=0.05,
        target=0.2,
        check=CHECK,
        message_ts="1700000000.000100",
    )
    shown = await judge_on_check_date(harness)
    assert "*Not met*: baseline 5.0 % → target 20.0 % → measured 9.4 %" in shown


async def test_lead_time_at_its_target_is_met(harness: Harness) -> None:
    await add_stream(harness, [("Build", 60, 300), ("Testing", 120, 1440)])
    await add_hypothesis_theme(
        harness.deps,
        metric="lead_time",
        baseline=4320,
        target=1920,
        check=CHECK,
        message_ts="1700000000.000100",
    )
    shown = await judge_on_check_date(harness)
    assert "*Met*: baseline 3 d → target 32 h → measured 32 h" in shown


async def test_nothing_to_measure_is_not_enough_data_and_is_recorded_on_the_theme(
    harness: Harness,
) -> None:
    steps = await add_stream(harness, [("Testing", 120, 1440)])
    await add_hypothesis_theme(
        harness.deps,
        metric="step_wait",
        baseline=1440,
        target=240,
        check=CHECK,
        step_id=steps["Testing"],
        message_ts="1700000000.000100",
    )
    shown = await judge_on_check_date(harness)
    assert "*Not enough data*: baseline 24 h → target 4 h → measured –" in shown
    response = await harness.driver.command(ids.CMD_KAIZEN, "show K-1", user="U1", channel="C1")
    assert "Not enough data" in json.dumps(response.json, ensure_ascii=False)
    harness.fake.add_channel("C1", "team", members=["U1"])
    await harness.driver.app_home_opened("U1")
    await harness.deps.drain()
    home = harness.fake.home("U1")
    assert home is not None and "hypothesis :grey_question: not enough data" in json.dumps(home)
    async with harness.deps.db.transaction() as s:
        export = await get_export(s, workspace_id=await workspace_id(harness.deps))
    row = next(
        r for r in csv.DictReader(io.StringIO(build_export_csv(export))) if r["record"] == "theme"
    )
    assert (row["hypothesis_verdict"], row["hypothesis_measured"]) == ("not_enough_data", "")


@pytest.mark.parametrize("tz", ["Pacific/Auckland", "America/Los_Angeles"])
async def test_the_check_date_is_the_channels_date(harness: Harness, tz: str) -> None:
    await save_schedule(harness.deps, tz=tz)
    await add_hypothesis_theme(
        harness.deps, metric="waste_count", baseline=3, target=1, check=CHECK
    )
    local_midnight = datetime(2026, 12, 14, tzinfo=UTC).replace(tzinfo=None)
    from zoneinfo import ZoneInfo

    starts = local_midnight.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    assert (await run_due_verdicts(harness.deps, starts - timedelta(minutes=1))).judged == []
    assert (await run_due_verdicts(harness.deps, starts)).judged == ["K-1: met"]
    # No theme message: the verdict goes to the channel itself.
    [posted] = [c for c in harness.fake.calls_to("chat.postMessage") if c.ok]
    assert posted.args["channel"] == "C1" and "thread_ts" not in posted.args
