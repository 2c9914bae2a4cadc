"""The weekly digest: due at the channel's time, posted once, caught up within the grace window."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

from bot import ids
from bot.deps import Deps
from bot.usecases.claims import CLAIM_LEASE, RETRY_FAILED_AFTER, claim
from bot.usecases.digests import GRACE, JOB_DIGEST, find_due_digests, run_due_digests
from fake_slack import FakeSlack
from storage import jobs as runs
from storage.db import Database
from tests.support import harness as harness_support
from tests.support.clock import FrozenClock
from tests.support.harness import Harness
from tests.support.jobs import add_action, add_logs, save_schedule

MONDAY_9_UTC = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def digests_posted(harness: Harness, channel: str = "C1") -> list[dict[str, object]]:
    return [
        c.args
        for c in harness.fake.calls_to("chat.postMessage")
        if c.ok
        and c.args.get("channel") == channel
        and "Weekly flow digest" in str(c.args.get("text"))
    ]


async def seed_week(harness: Harness) -> None:
    end = MONDAY_9_UTC
    await add_logs(harness.deps, count=12, start=end - timedelta(days=7), end=end)
    await add_logs(
        harness.deps,
        count=4,
        start=end - timedelta(days=7),
        end=end,
        category="waiting",
        minutes=600,
    )
    await add_logs(harness.deps, count=3, start=end - timedelta(days=14), end=end - timedelta(7))


async def test_the_digest_posts_at_its_time_not_a_minute_before_and_only_once(
    harness: Harness,
) -> None:
    await seed_week(harness)
    harness.clock.set(MONDAY_9_UTC - timedelta(minutes=1))
    early = await run_due_digests(harness.deps, harness.clock())
    assert early.posted == [] and digests_posted(harness) == []

    harness.clock.set(MONDAY_9_UTC)
    first = await run_due_digests(harness.deps, harness.clock())
    again = await run_due_digests(harness.deps, harness.clock() + timedelta(minutes=1))

    assert len(first.posted) == 1 and again.posted == []
    [posted] = digests_posted(harness)
    shown = json.dumps(posted["blocks"])
    assert "16 waste logs" in shown and "+13 logs vs the week before" in shown
    assert "Most annoying waste" in shown and "10 h lost" in shown
    [chart] = harness.fake.files
    assert chart.content.startswith(b"\x89PNG") and chart.channel_id == "C1"


async def test_a_los_angeles_monday_9_digest_fires_at_the_utc_instant_of_each_side_of_dst(
    harness: Harness,
) -> None:
    await seed_week(harness)
    await save_schedule(harness.deps, tz="America/Los_Angeles")
    # Monday 26 October 2026 is still summer time (UTC-7): 16:00 UTC.
    harness.clock.set(datetime(2026, 10, 26, 15, 59, tzinfo=UTC))
    assert (await run_due_digests(harness.deps, harness.clock())).posted == []
    harness.clock.set(datetime(2026, 10, 26, 16, 0, tzinfo=UTC))
    assert len((await run_due_digests(harness.deps, harness.clock())).posted) == 1
    # After the change on 1 November (UTC-8): Monday 2 November at 17:00 UTC, not 16:00.
    harness.clock.set(datetime(2026, 11, 2, 16, 0, tzinfo=UTC))
    assert (await run_due_digests(harness.deps, harness.clock())).posted == []
    harness.clock.set(datetime(2026, 11, 2, 17, 0, tzinfo=UTC))
    assert len((await run_due_digests(harness.deps, harness.clock())).posted) == 1
    assert len(digests_posted(harness)) == 2


async def test_a_changed_schedule_is_followed_without_a_restart(harness: Harness) -> None:
    await seed_week(harness)
    harness.clock.set(datetime(2026, 11, 18, 13, 0, tzinfo=UTC))  # Wednesday
    await save_schedule(harness.deps, weekday=2, at="14:00")
    assert (await run_due_digests(harness.deps, harness.clock())).posted == []
    await save_schedule(harness.deps, weekday=2, at="12:30")
    assert len((await run_due_digests(harness.deps, harness.clock())).posted) == 1


async def test_a_digest_due_while_the_bot_was_down_posts_once_at_start(harness: Harness) -> None:
    await seed_week(harness)
    harness.clock.set(MONDAY_9_UTC + GRACE - timedelta(minutes=1))
    first = await run_due_digests(harness.deps, harness.clock())
    second = await run_due_digests(harness.deps, harness.clock())
    assert len(first.posted) == 1 and second.posted == []
    assert len(digests_posted(harness)) == 1


async def test_a_digest_older_than_the_grace_window_is_recorded_missed_not_posted(
    harness: Harness,
) -> None:
    await seed_week(harness)
    harness.clock.set(MONDAY_9_UTC + GRACE + timedelta(minutes=1))
    result = await run_due_digests(harness.deps, harness.clock())
    assert result.posted == [] and len(result.missed) == 1
    assert digests_posted(harness) == []
    async with harness.deps.db.transaction() as s:
        assert await runs.count_runs(s, job="digest", status=runs.MISSED) == 1
    # Later ticks neither post it nor record it twice.
    later = await run_due_digests(harness.deps, harness.clock() + timedelta(hours=1))
    assert later.posted == [] and later.missed == []


async def test_a_channel_the_bot_left_is_recorded_and_posted_when_it_is_back(
    harness: Harness,
) -> None:
    await seed_week(harness)
    harness.fake.fail_next("chat.postMessage", "not_in_channel")
    harness.clock.set(MONDAY_9_UTC)
    failed = await run_due_digests(harness.deps, harness.clock())
    assert len(failed.failed) == 1 and digests_posted(harness) == []
    async with harness.deps.db.transaction() as s:
        run = await runs.get_run(s, job="digest", key=failed.failed[0])
    assert run is not None and run.status == runs.FAILED and "not_in_channel" in run.detail
    # The claim is released: a tick after the retry delay posts it, once.
    harness.clock.advance(minutes=5)
    assert (await run_due_digests(harness.deps, harness.clock())).posted == []
    harness.clock.advance(minutes=15)
    assert len((await run_due_digests(harness.deps, harness.clock())).posted) == 1
    assert len(digests_posted(harness)) == 1


async def test_a_rate_limited_post_is_retried_and_a_server_error_waits_for_a_later_tick(
    harness: Harness,
) -> None:
    await seed_week(harness)
    # A 429 means nothing was posted, so the client waits and sends it again. (A 5xx is not
    # retried for a post, which may have arrived: the run fails and a later tick posts it.)
    harness.fake.rate_limit_next("chat.postMessage", retry_after=0)
    harness.clock.set(MONDAY_9_UTC)
    assert len((await run_due_digests(harness.deps, harness.clock())).posted) == 1

    # A 500 may come after Slack posted: the client does not repeat it, the claim is released.
    await save_schedule(harness.deps, channel="C2")
    harness.fake.server_error_next("chat.postMessage")
    failed = await run_due_digests(harness.deps, harness.clock())
    assert len(failed.failed) == 1 and digests_posted(harness, "C2") == []
    harness.clock.advance(minutes=15)
    assert len((await run_due_digests(harness.deps, harness.clock())).posted) == 1
    assert len(digests_posted(harness)) == 1 and len(digests_posted(harness, "C2")) == 1


async def test_a_post_that_failed_is_released_and_the_next_run_posts_it_once(
    harness: Harness,
) -> None:
    # A 5xx may hide a message that did arrive, so the client does not send it again at once.
    await seed_week(harness)
    harness.fake.server_error_next("chat.postMessage")
    harness.clock.set(MONDAY_9_UTC)
    first = await run_due_digests(harness.deps, harness.clock())
    assert first.failed and not first.posted and digests_posted(harness) == []
    harness.clock.set(MONDAY_9_UTC + timedelta(minutes=1))
    too_soon = await run_due_digests(harness.deps, harness.clock())
    assert not too_soon.posted and digests_posted(harness) == []
    harness.clock.set(MONDAY_9_UTC + RETRY_FAILED_AFTER + timedelta(minutes=1))
    second = await run_due_digests(harness.deps, harness.clock())
    assert len(second.posted) == 1 and len(digests_posted(harness)) == 1
    third = await run_due_digests(harness.deps, harness.clock())
    assert not third.posted and len(digests_posted(harness)) == 1


async def test_a_claim_left_running_by_a_stopped_process_is_taken_over_after_its_lease_once(
    harness: Harness,
) -> None:
    await seed_week(harness)
    harness.clock.set(MONDAY_9_UTC)
    # A process claimed the digest and stopped before posting it or recording how it went.
    [due], _ = await find_due_digests(harness.deps, harness.clock())
    assert await claim(harness.deps, JOB_DIGEST, due.key)

    harness.clock.set(MONDAY_9_UTC + CLAIM_LEASE - timedelta(minutes=1))
    within = await run_due_digests(harness.deps, harness.clock())
    assert within.posted == [] and digests_posted(harness) == []

    harness.clock.set(MONDAY_9_UTC + CLAIM_LEASE + timedelta(minutes=1))
    at_once = await asyncio.gather(
        *(run_due_digests(harness.deps, harness.clock()) for _ in range(3))
    )
    assert sum(len(r.posted) for r in at_once) == 1 and len(digests_posted(harness)) == 1
    later = await run_due_digests(harness.deps, harness.clock() + CLAIM_LEASE * 2)
    assert later.posted == [] and len(digests_posted(harness)) == 1


async def test_a_channel_without_data_gets_a_short_digest_saying_how_to_start(
    harness: Harness,
) -> None:
    await save_schedule(harness.deps, channel="C2")
    harness.clock.set(MONDAY_9_UTC)
    await run_due_digests(harness.deps, harness.clock())
    [posted] = digests_posted(harness, "C2")
    shown = json.dumps(posted["blocks"])
    assert "To start" in shown and "/waste" in shown and "/vsm add" in shown
    assert len(posted["blocks"]) <= 4  # type: ignore[arg-type]


async def test_subscribers_get_it_by_dm_and_can_unsubscribe_there(harness: Harness) -> None:
    await seed_week(harness)
    await harness.driver.command(ids.CMD_KAIZEN, "subscribe", user="U7", channel="C1")
    harness.clock.set(MONDAY_9_UTC)
    await run_due_digests(harness.deps, harness.clock())
    await run_due_digests(harness.deps, harness.clock())
    dms = [
        c
        for c in harness.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == "U7" and "Weekly flow digest" in str(c.args.get("text"))
    ]
    assert len(dms) == 1
    dm_channel, ts = str(dms[0].response["channel"]), str(dms[0].response["ts"])
    clicked = await harness.driver.block_action(
        ids.ACTION_DIGEST_UNSUBSCRIBE, user="U7", channel=dm_channel, message_ts=ts
    )
    assert clicked.status == 200
    await harness.deps.drain()
    said = await harness.fake.wait_for(
        "chat.postMessage", lambda c: "Unsubscribed" in str(c.args.get("text"))
    )
    assert said.args["channel"] in ("U7", dm_channel)
    harness.clock.set(MONDAY_9_UTC + timedelta(days=7))
    await run_due_digests(harness.deps, harness.clock())
    later = [c for c in harness.fake.calls_to("chat.postMessage") if c.args.get("channel") == "U7"]
    assert not any("Weekly flow digest" in str(c.args.get("text")) for c in later[1:])


async def _two_instances(database_url: str, runs_at: datetime) -> tuple[int, list[int]]:
    """Two processes' worth of Deps on one database, ticking at the same instant."""
    async with FakeSlack() as fake:
        clock = FrozenClock(runs_at)
        settings = harness_support.test_settings(fake.api_url, database_url)
        one = Deps(settings=settings, db=Database(database_url), clock=clock)
        two = Deps(settings=settings, db=Database(database_url), clock=clock)
        try:
            await add_logs(one, count=5, start=runs_at - timedelta(days=7), end=runs_at)
            for _ in range(3):
                results = await asyncio.gather(
                    run_due_digests(one, runs_at), run_due_digests(two, runs_at)
                )
            posted = [
                c for c in fake.calls_to("chat.postMessage") if "Weekly flow digest" in str(c.args)
            ]
            return len(posted), [len(r.posted) for r in results]
        finally:
            for deps in (one, two):
                deps.cpu.shutdown(wait=True)
                await deps.db.dispose()


async def test_two_app_instances_on_one_database_post_the_digest_once(any_db: Database) -> None:
    posted, _ = await _two_instances(any_db.url, MONDAY_9_UTC)
    assert posted == 1


async def test_ten_thousand_logs_in_the_week_stay_within_slack_block_limits(
    harness: Harness,
) -> None:
    from bot.domain.wastes import WasteCategory
    from tests.support.kaizen import add_stream, add_waits

    steps = await add_stream(
        harness, [(f"Step number {i} with a long name", 60, 600) for i in range(30)]
    )
    harness.clock.set(MONDAY_9_UTC - timedelta(days=3))
    for step_id in list(steps.values()):
        await add_waits(harness, step_id, [120, 240, 480])
    for n in range(12):
        await add_action(harness.deps, owner=f"U{n}", due=date(2026, 11, 1), text="x" * 500)
    await add_logs(
        harness.deps,
        count=10_000,
        start=MONDAY_9_UTC - timedelta(days=7),
        end=MONDAY_9_UTC,
        categories=[c.value for c in WasteCategory],
        minutes=45,
    )
    harness.clock.set(MONDAY_9_UTC)
    result = await run_due_digests(harness.deps, harness.clock())
    assert len(result.posted) == 1
    [posted] = digests_posted(harness)
    blocks = posted["blocks"]
    assert isinstance(blocks, list) and len(blocks) <= 50
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= 3000
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "10090 waste logs" in shown  # and the 90 waits logged against the steps
    assert "Measured lead time" in shown
    assert "12 overdue action items" in shown and "…and 7 more" in shown


async def test_a_workspace_without_a_token_is_skipped(harness: Harness) -> None:
    await seed_week(harness)
    harness.deps.settings = harness.deps.settings.model_copy(update={"slack_bot_token": None})
    harness.clock.set(MONDAY_9_UTC)
    result = await run_due_digests(harness.deps, harness.clock())
    assert result.posted == [] and len(result.skipped) == 1
    assert harness.fake.calls_to("chat.postMessage") == []


async def test_a_channel_silent_for_nine_weeks_gets_no_digest(harness: Harness) -> None:
    long_ago = MONDAY_9_UTC - timedelta(weeks=10)
    await add_logs(harness.deps, channel="C3", count=3, start=long_ago, end=long_ago + timedelta(1))
    harness.clock.set(MONDAY_9_UTC)
    assert (await run_due_digests(harness.deps, harness.clock())).posted == []
