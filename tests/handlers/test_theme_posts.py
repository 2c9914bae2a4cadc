"""A stored theme whose channel post fails is never dropped: its author hears so and can post
it again, the scheduler's retry posts it later, and a post that outlived the client's timeout
is adopted, never doubled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot import ids
from bot.usecases.theme_posts import (
    RETRY_AFTER,
    NotPosted,
    publish_theme,
    retry_unposted_theme_messages,
)
from storage import kaizen as store
from storage.models import Theme
from storage.workspaces import Scope, get_or_add_workspace
from tests.support.harness import BOT_TOKEN, TEAM, Harness
from tests.support.kaizen import submit_theme, theme_values


async def stored_themes(harness: Harness) -> list[Theme]:
    async with harness.deps.db.transaction() as s:
        return list((await s.scalars(select(Theme).order_by(Theme.number))).all())


def theme_posts(harness: Harness, channel: str = "C1") -> list[dict[str, object]]:
    return [m for m in harness.fake.messages(channel) if "K-1" in str(m.get("text"))]


async def propose_while_posting_fails(harness: Harness) -> None:
    response = await submit_theme(harness, theme_values("Faster reviews"))
    assert response.status == 200 and not response.text
    await harness.deps.drain()


def told_not_posted(harness: Harness) -> str:
    told = [
        c
        for c in harness.fake.calls
        if c.method in ("response_url", "chat.postMessage", "chat.postEphemeral")
        and "Post it again" in str(c.args)
    ]
    assert told, harness.fake.transcript()
    return str(told[-1].args)


@pytest.mark.parametrize(
    "fail",
    [
        lambda fake: fake.server_error_next("chat.postMessage", status=500, times=3),
        lambda fake: fake.rate_limit_next("chat.postMessage", retry_after=0, times=3),
        lambda fake: fake.fail_next("chat.postMessage", error="msg_too_long"),
    ],
    ids=["500", "429 three times", "msg_too_long"],
)
async def test_a_theme_slack_did_not_post_is_stored_and_its_author_can_post_it_again(
    harness: Harness, fail: object
) -> None:
    fail(harness.fake)  # type: ignore[operator]
    await propose_while_posting_fails(harness)
    [row] = await stored_themes(harness)
    assert row.message_ts is None
    assert theme_posts(harness) == []
    said = told_not_posted(harness)
    assert "K-1 is stored" in said and "did not take" in said

    harness.fake.reset()  # Slack answers again
    await harness.driver.block_action(
        ids.ACTION_THEME_REPOST, "C1:1", user="U1", channel="C1", is_ephemeral=True
    )
    await harness.deps.drain()
    [posted] = theme_posts(harness)
    [row] = await stored_themes(harness)
    assert row.message_ts == posted["ts"]
    assert "K-1 is posted" in harness.fake.transcript()


async def test_the_scheduled_retry_posts_a_theme_whose_post_failed(harness: Harness) -> None:
    harness.fake.server_error_next("chat.postMessage", status=500)
    await propose_while_posting_fails(harness)
    assert theme_posts(harness) == []
    # Too young: the request that stored it may still be posting it.
    assert await retry_unposted_theme_messages(harness.deps, harness.clock()) == 0

    later = harness.clock() + timedelta(minutes=3)
    assert await retry_unposted_theme_messages(harness.deps, later) == 1
    [posted] = theme_posts(harness)
    [row] = await stored_themes(harness)
    assert row.message_ts == posted["ts"]
    added = await harness.fake.wait_for("reactions.add")
    assert added.args["timestamp"] == posted["ts"]
    assert await retry_unposted_theme_messages(harness.deps, later) == 0


async def test_the_scheduled_retry_leaves_a_theme_alone_while_the_bot_is_not_in_the_channel(
    harness: Harness,
) -> None:
    harness.fake.add_channel("C7", "private-team", is_private=True, is_member=False)
    response = await submit_theme(harness, theme_values("Faster reviews"), channel="C7")
    assert response.status == 200
    await harness.deps.drain()
    later = harness.clock() + timedelta(minutes=3)
    assert await retry_unposted_theme_messages(harness.deps, later) == 0
    harness.fake.set_member("C7")
    # A refused try waits a little before the next one.
    assert await retry_unposted_theme_messages(harness.deps, later) == 0
    harness.clock.advance(seconds=RETRY_AFTER.total_seconds())
    assert await retry_unposted_theme_messages(harness.deps, later + RETRY_AFTER) == 1
    assert len(theme_posts(harness, "C7")) == 1


async def test_two_processes_retrying_at_once_post_a_theme_once(harness: Harness) -> None:
    harness.fake.server_error_next("chat.postMessage", status=500)
    await propose_while_posting_fails(harness)
    later = harness.clock() + timedelta(minutes=3)
    results = await asyncio.gather(
        *(retry_unposted_theme_messages(harness.deps, later) for _ in range(3))
    )
    assert sorted(results) == [0, 0, 1]
    assert len(theme_posts(harness)) == 1


async def test_a_post_that_outlives_the_client_timeout_is_adopted_not_posted_twice(
    harness: Harness,
) -> None:
    now = harness.clock()
    async with harness.deps.db.transaction() as s:
        workspace = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=now)
        from bot.domain.kaizen import NewTheme

        theme = await store.add_theme(
            s,
            scope=Scope(workspace, "C1"),
            theme=NewTheme(title="Faster reviews", problem="", category=None, step_id=None),
            author_id="U1",
            now=now,
        )
    impatient = AsyncWebClient(token=BOT_TOKEN, base_url=harness.fake.api_url, timeout=0.5)
    hold = harness.fake.hold_next("chat.postMessage")
    with pytest.raises(NotPosted) as failed:
        await publish_theme(impatient, harness.deps, workspace, theme, "+1")
    assert failed.value.reason == "timeout"
    hold.release()
    await harness.fake.wait_for("chat.postMessage")
    assert len(theme_posts(harness)) == 1  # Slack did post it, after the client gave up

    later = now + timedelta(minutes=3)
    assert await retry_unposted_theme_messages(harness.deps, later) == 1
    [posted] = theme_posts(harness)
    [row] = await stored_themes(harness)
    assert row.message_ts == posted["ts"]
    assert len(harness.fake.calls_to("chat.postMessage")) == 1
