"""The waste emoji: one log per message and reporter, a category prompt, retract on removal."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.domain.channels import ChannelConfig
from storage.channels import update_channel_config
from storage.models import Observation
from storage.workspaces import Scope, get_or_add_workspace
from tests.support.harness import OTHER_TEAM, TEAM, Harness

TS = "1700000000.000100"


async def rows(harness: Harness) -> list[Observation]:
    async with harness.deps.db.transaction() as s:
        return list((await s.scalars(select(Observation))).all())


async def test_the_waste_emoji_logs_the_message_and_asks_the_category(harness: Harness) -> None:
    harness.fake.add_message("C1", TS, "Who owns the staging DB? Third day asking", "U2")
    response = await harness.driver.reaction_added("wastebasket", user="U1", channel="C1", ts=TS)
    assert response.status == 200
    [row] = await rows(harness)
    assert (row.source, row.category, row.message_ts) == ("reaction", None, TS)
    assert row.description == "Who owns the staging DB? Third day asking"
    assert "/archives/C1/p1700000000000100" in row.link
    prompt = await harness.fake.wait_for("chat.postEphemeral")
    assert prompt.args["user"] == "U1"
    assert "Which kind of waste" in json.dumps(prompt.args)


async def test_retried_and_repeated_reactions_store_one_log(harness: Harness) -> None:
    await harness.driver.reaction_added(
        "wastebasket", user="U1", channel="C1", ts=TS, event_id="Ev1"
    )
    await harness.driver.reaction_added(
        "wastebasket", user="U1", channel="C1", ts=TS, event_id="Ev1", retry_num=1
    )
    await harness.driver.reaction_added(
        "wastebasket", user="U1", channel="C1", ts=TS, event_id="Ev2"
    )
    await harness.driver.reaction_added("wastebasket", user="U2", channel="C1", ts=TS)
    assert sorted(r.reporter_id or "" for r in await rows(harness)) == ["U1", "U2"]


async def test_removing_the_reaction_retracts_only_that_reporters_log(harness: Harness) -> None:
    await harness.driver.reaction_added("wastebasket", user="U1", channel="C1", ts=TS)
    await harness.driver.reaction_added("wastebasket", user="U2", channel="C1", ts=TS)
    await harness.driver.reaction_removed("wastebasket", user="U1", channel="C1", ts=TS)
    assert [r.reporter_id for r in await rows(harness)] == ["U2"]


async def test_other_emoji_and_the_bots_own_reactions_do_nothing(harness: Harness) -> None:
    await harness.driver.reaction_added("tada", user="U1", channel="C1", ts=TS)
    await harness.driver.reaction_added("wastebasket", user="UBOT", channel="C1", ts=TS)
    assert await rows(harness) == []


async def test_the_channels_own_waste_emoji_is_used(harness: Harness) -> None:
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=harness.clock())
        await update_channel_config(
            s,
            scope=Scope(ws, "C1"),
            config=ChannelConfig(waste_emoji="recycle"),
            now=harness.clock(),
        )
    await harness.driver.reaction_added("wastebasket", user="U1", channel="C1", ts=TS)
    assert await rows(harness) == []
    await harness.driver.reaction_added("recycle", user="U1", channel="C1", ts=TS)
    assert len(await rows(harness)) == 1


async def test_a_removal_in_another_workspace_retracts_nothing_here(harness: Harness) -> None:
    await harness.driver.reaction_added("wastebasket", user="U1", channel="C1", ts=TS)
    await harness.driver_for(OTHER_TEAM).reaction_removed(
        "wastebasket", user="U1", channel="C1", ts=TS
    )
    assert len(await rows(harness)) == 1


async def test_a_rate_limited_lookup_does_not_hold_up_the_reply(deadline_harness: Harness) -> None:
    deadline_harness.fake.add_message("C1", TS, "Who owns the staging DB?", "U2")
    deadline_harness.fake.rate_limit_next("chat.getPermalink", retry_after=5)
    response = await deadline_harness.driver.reaction_added(
        "wastebasket", user="U1", channel="C1", ts=TS
    )
    assert response.status == 200
    # The 5 s Retry-After does not fit before the reply: it was not waited out and tried again.
    assert [c.status for c in deadline_harness.fake.calls_to("chat.getPermalink")] == [429]
    [row] = await rows(deadline_harness)
    assert (row.source, row.link) == ("reaction", "")
    await deadline_harness.fake.wait_for("chat.postEphemeral")
