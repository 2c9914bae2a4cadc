"""Votes that arrive together are counted in one transaction, each as if it came alone:
on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain.channels import ChannelConfig
from storage.channels import update_channel_config
from storage.db import Database
from storage.models import Observation
from storage.workspaces import Scope, get_or_add_workspace
from tests.support.clock import FrozenClock
from tests.support.harness import OTHER_TEAM, TEAM, Harness, running_app
from tests.support.kaizen import counts_by_theme, propose, shown


@pytest.fixture
async def any_harness(any_db: Database, clock: FrozenClock) -> AsyncIterator[Harness]:
    async with running_app(any_db, clock) as running:
        yield running


async def test_votes_sent_at_once_each_count_as_if_alone(any_harness: Harness) -> None:
    harness = any_harness
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=harness.clock())
        limited = ChannelConfig(vote_limit=1)
        await update_channel_config(s, scope=Scope(ws, "C2"), config=limited, now=harness.clock())
    popular = await propose(harness, "Popular")
    closed = await propose(harness, "Closed")
    await harness.driver.command("/kaizen", "drop K-2", user="U1", channel="C1")
    first, second = [await propose(harness, t, channel="C2") for t in ("First", "Second")]
    driver, other = harness.driver, harness.driver_for(OTHER_TEAM)

    def add(ts: str, user: str, channel: str = "C1", **options: Any) -> Any:
        return driver.reaction_added("+1", user=user, channel=channel, ts=ts, **options)

    sent = [
        *(add(popular, f"U{n:02d}") for n in range(12)),
        # One delivery three times, one person twice: one vote each.
        *(add(popular, "UR", event_id="EvSame", retry_num=r) for r in (None, 1, 2)),
        add(popular, "U00", event_id="EvAgain"),
        add(closed, "U03"),
        driver.reaction_added("wastebasket", user="U04", channel="C1", ts=popular),
        # Within the limit of one vote: only one of the two counts.
        add(first, "UL", channel="C2"),
        add(second, "UL", channel="C2"),
        # Another workspace's message with the same ts is no theme of ours.
        other.reaction_added("+1", user="U05", channel="C1", ts=popular),
    ]
    responses = await asyncio.gather(*sent)
    assert all(r.status == 200 for r in responses)
    await harness.deps.drain()

    counts = await counts_by_theme(harness)  # K-1 popular, K-2 closed, K-3 and K-4 limited
    assert counts[1] == 13
    assert counts[2] == 0
    assert counts[3] + counts[4] == 1
    assert "— 13 votes," in shown(harness, popular)
    told = {c.args["user"]: c.args["text"] for c in harness.fake.calls_to("chat.postEphemeral")}
    assert "no longer count" in told["U03"]
    assert "Your vote on K-" in told["UL"]
    assert "Which kind" in told["U04"]
    async with harness.deps.db.transaction() as s:
        assert await s.scalar(select(func.count(Observation.id))) == 1


async def test_a_vote_ranked_for_a_home_in_a_batch_shows_the_final_count(
    any_harness: Harness,
) -> None:
    harness = any_harness
    harness.fake.add_channel("C1", "team", members=["U1", "U2"])
    ts = await propose(harness, "Ranked")
    await harness.driver.app_home_opened("U2")
    await harness.deps.drain()
    voters = ["U2", *(f"U{n}" for n in range(3, 9))]
    await asyncio.gather(
        *(harness.driver.reaction_added("+1", user=u, channel="C1", ts=ts) for u in voters)
    )
    await harness.deps.drain()
    assert (await counts_by_theme(harness))[1] == 7
    assert "— 7 votes" in json.dumps(harness.fake.home("U2"), ensure_ascii=False)
    # Taken back, it is gone from the count as well.
    await harness.driver.reaction_removed("+1", user="U2", channel="C1", ts=ts)
    await harness.deps.drain()
    assert (await counts_by_theme(harness))[1] == 6
    assert "— 6 votes," in shown(harness, ts)


async def test_votes_together_in_a_workspace_seen_before_are_counted_without_a_failed_batch(
    any_harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The driver reads and writes such a batch alone (on PostgreSQL with one write statement
    and no transaction); a batch it could not store would be logged and stored vote by vote
    instead."""
    harness = any_harness
    tickets = [await propose(harness, f"Theme {n}") for n in range(3)]
    await harness.driver.command("/kaizen", "drop K-3", user="U1", channel="C1")
    caplog.set_level(logging.WARNING, logger="bot.usecases.writer")
    sent = [
        harness.driver.reaction_added("+1", user=f"U{n:02d}", channel="C1", ts=tickets[n % 3])
        for n in range(30)
    ]
    sent += [
        harness.driver.reaction_added("+1", user="UR", channel="C1", ts=tickets[0], **retry)
        for retry in ({"event_id": "EvOnce"}, {"event_id": "EvOnce", "retry_num": 1})
    ]
    sent.append(harness.driver.reaction_added("+1", user="U00", channel="C1", ts="1.000001"))
    responses = await asyncio.gather(*sent)
    assert all(r.status == 200 for r in responses)
    await harness.deps.drain()
    assert "vote_batch_failed" not in caplog.text
    counts = await counts_by_theme(harness)
    assert (counts[1], counts[2], counts.get(3, 0)) == (11, 10, 0)
    assert "— 11 votes," in shown(harness, tickets[0])
    told = [c.args["text"] for c in harness.fake.calls_to("chat.postEphemeral")]
    assert sum("no longer count" in text for text in told) == 10


async def test_a_vote_taken_back_stays_out_when_slack_resends_it(any_harness: Harness) -> None:
    """The delivery is claimed in the batch that counts the vote: a retry of the reaction
    after it was removed counts nothing again, nor does one on a closed theme."""
    harness = any_harness
    ts = await propose(harness, "Retried")
    closed = await propose(harness, "Closed")
    await harness.driver.command("/kaizen", "drop K-2", user="U1", channel="C1")
    first = [
        harness.driver.reaction_added("+1", user="UR", channel="C1", ts=ts, event_id="EvVote"),
        harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts),
        harness.driver.reaction_added("+1", user="U3", channel="C1", ts=closed, event_id="EvC"),
    ]
    assert all(r.status == 200 for r in await asyncio.gather(*first))
    await harness.deps.drain()
    await harness.driver.reaction_removed("+1", user="UR", channel="C1", ts=ts)
    await harness.deps.drain()
    resent = [
        harness.driver.reaction_added(
            "+1", user="UR", channel="C1", ts=ts, event_id="EvVote", retry_num=1
        ),
        harness.driver.reaction_added(
            "+1", user="U3", channel="C1", ts=closed, event_id="EvC", retry_num=1
        ),
        harness.driver.reaction_added("+1", user="U4", channel="C1", ts=ts),
    ]
    assert all(r.status == 200 for r in await asyncio.gather(*resent))
    await harness.deps.drain()
    assert (await counts_by_theme(harness))[1] == 2
    assert "— 2 votes," in shown(harness, ts)
    told = [c.args for c in harness.fake.calls_to("chat.postEphemeral")]
    assert sum("no longer count" in args["text"] for args in told if args["user"] == "U3") == 1
