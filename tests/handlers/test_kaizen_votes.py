"""Voting on themes with the vote emoji: one vote per person, the limit, concurrent voters."""

from __future__ import annotations

import asyncio
import json

from bot.app import build_app
from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.pacing import Pacer
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from storage.channels import update_channel_config
from storage.workspaces import Scope, get_or_add_workspace
from tests.support.harness import OTHER_TEAM, TEAM, Harness
from tests.support.kaizen import counts_by_theme, propose, shown, vote_count


async def configure(harness: Harness, config: ChannelConfig, channel: str = "C1") -> None:
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=harness.clock())
        await update_channel_config(s, scope=Scope(ws, channel), config=config, now=harness.clock())


async def test_a_vote_counts_once_per_person_and_shows_on_the_message(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.driver.reaction_added("+1::skin-tone-4", user="U2", channel="C1", ts=ts)
    await harness.driver.reaction_added("thumbsup", user="U3", channel="C1", ts=ts)
    await harness.deps.drain()
    assert await vote_count(harness) == 2
    assert "2 votes" in shown(harness, ts)
    await harness.driver.reaction_removed("+1", user="U2", channel="C1", ts=ts)
    await harness.deps.drain()
    assert await vote_count(harness) == 1
    assert "1 vote," in shown(harness, ts)


async def test_retried_and_duplicated_reaction_events_count_once(harness: Harness) -> None:
    ts = await propose(harness)
    for options in ({"event_id": "Ev1"}, {"event_id": "Ev1", "retry_num": 1}, {"event_id": "Ev2"}):
        await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts, **options)
    assert await vote_count(harness) == 1
    # A late retry of an old removal must not take back the vote given after it.
    await harness.driver.reaction_removed("+1", user="U2", channel="C1", ts=ts, event_id="Ev3")
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts, event_id="Ev4")
    await harness.driver.reaction_removed(
        "+1", user="U2", channel="C1", ts=ts, event_id="Ev3", retry_num=1
    )
    assert await vote_count(harness) == 1


async def test_a_removal_without_a_vote_changes_nothing(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.deps.drain()
    updates = len(harness.fake.calls_to("chat.update"))
    response = await harness.driver.reaction_removed("+1", user="U3", channel="C1", ts=ts)
    assert response.status == 200
    await harness.deps.drain()
    assert await vote_count(harness) == 1
    assert len(harness.fake.calls_to("chat.update")) == updates


async def test_other_emoji_messages_bots_and_workspaces_do_not_vote(harness: Harness) -> None:
    ts = await propose(harness)
    harness.fake.add_message("C1", "1700000999.000100", "Just chatting", "U5")
    await harness.driver.reaction_added("tada", user="U2", channel="C1", ts=ts)
    await harness.driver.reaction_added("+1", user="UBOT", channel="C1", ts=ts)
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts="1700000999.000100")
    await harness.driver.reaction_added("+1", user="U2", channel="C2", ts=ts)
    await harness.driver_for(OTHER_TEAM).reaction_added("+1", user="U2", channel="C1", ts=ts)
    assert await vote_count(harness) == 0


async def test_the_waste_emoji_on_a_theme_logs_waste_and_does_not_vote(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.reaction_added("wastebasket", user="U2", channel="C1", ts=ts)
    assert await vote_count(harness) == 0
    await harness.fake.wait_for("chat.postEphemeral", lambda c: "Which kind" in c.args["text"])


async def test_the_channels_own_vote_emoji_is_used(harness: Harness) -> None:
    await configure(harness, ChannelConfig(vote_emoji="star"))
    ts = await propose(harness)
    assert (await harness.fake.wait_for("reactions.add")).args["name"] == "star"
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.driver.reaction_added("star", user="U3", channel="C1", ts=ts)
    assert await vote_count(harness) == 1


async def test_a_vote_over_the_limit_is_not_counted_and_the_voter_is_told(
    harness: Harness,
) -> None:
    await configure(harness, ChannelConfig(vote_limit=2))
    tss = [await propose(harness, f"Idea {n}") for n in range(3)]
    for ts in tss:
        await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    assert await counts_by_theme(harness) == {1: 1, 2: 1, 3: 0}
    told = await harness.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == "U2")
    assert "all 2 of your votes" in told.args["text"] and "K-3" in told.args["text"]
    # Taking one back frees a vote for the third theme.
    await harness.driver.reaction_removed("+1", user="U2", channel="C1", ts=tss[0])
    await harness.driver.reaction_removed("+1", user="U2", channel="C1", ts=tss[2])
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=tss[2])
    assert await counts_by_theme(harness) == {1: 0, 2: 1, 3: 1}


async def test_votes_on_a_closed_theme_do_not_count(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.command("/kaizen", "drop K-1", user="U1", channel="C1")
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    assert await vote_count(harness) == 0
    told = await harness.fake.wait_for("chat.postEphemeral", lambda c: c.args["user"] == "U2")
    assert "no longer count" in told.args["text"]


async def test_twenty_people_voting_and_unvoting_at_once_leave_exact_counts(
    harness: Harness,
) -> None:
    tss = [await propose(harness, f"Theme {n}") for n in range(3)]
    users = [f"U{n:02d}" for n in range(20)]
    # Everyone votes for all three; then the first 10 take back theme 1, the first 5 theme 2.
    expected = {1: 10, 2: 15, 3: 20}

    async def person(index: int, user: str) -> None:
        for ts in tss:
            await harness.driver.reaction_added("+1", user=user, channel="C1", ts=ts)
        if index < 10:
            await harness.driver.reaction_removed("+1", user=user, channel="C1", ts=tss[0])
        if index < 5:
            await harness.driver.reaction_removed("+1", user=user, channel="C1", ts=tss[1])

    await asyncio.gather(*(person(i, u) for i, u in enumerate(users)))
    await harness.deps.drain()
    assert await counts_by_theme(harness) == expected
    for number, ts in enumerate(tss, start=1):
        assert f"— {expected[number]} votes," in shown(harness, ts), number
    backlog = await harness.driver.command("/kaizen", "list", user="U00", channel="C1")
    body = json.dumps(backlog.json)
    assert body.index("Theme 2") < body.index("Theme 1") and body.index("Theme 1") < body.index(
        "Theme 0"
    )


async def test_votes_during_a_slow_update_end_on_the_final_count_in_few_updates(
    harness: Harness,
) -> None:
    ts = await propose(harness)
    hold = harness.fake.hold_next("chat.update")
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await asyncio.wait_for(hold.arrived.wait(), 5)  # "1 vote" is on its way, slowly
    for voter in ("U3", "U4", "U5", "U6"):
        await harness.driver.reaction_added("+1", user=voter, channel="C1", ts=ts)
    hold.release()
    await harness.deps.drain()
    assert "— 5 votes," in shown(harness, ts)
    updates = [c.args["text"].split("— ")[1][:7] for c in harness.fake.calls_to("chat.update")]
    # The four votes that came during the slow update cost one or two more updates, not four.
    assert updates[0] == "1 vote,"
    assert set(updates[1:]) == {"5 votes"}
    assert len(updates) <= 3


async def test_racing_updates_from_two_processes_end_on_the_final_count(harness: Harness) -> None:
    ts = await propose(harness)
    # A second process of the app, sharing the database, as behind a load balancer.
    second = Deps(settings=harness.deps.settings, db=harness.deps.db, clock=harness.clock)
    runner = await start_site(build_web_app(build_app(second), second), host="127.0.0.1", port=0)
    try:
        other = harness.driver_for(TEAM)
        other.events_url = f"http://127.0.0.1:{bound_port(runner)}{EVENTS_PATH}"
        hold = harness.fake.hold_next("chat.update")
        await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
        await asyncio.wait_for(hold.arrived.wait(), 5)  # process 1 sends "1 vote", slowly
        await other.reaction_added("+1", user="U3", channel="C1", ts=ts)
        await harness.fake.wait_for("chat.update", lambda c: "2 votes" in c.args["text"])
        hold.release()  # the stale "1 vote" lands last ...
        await harness.deps.drain()
        await second.drain()
    finally:
        await runner.cleanup()
    assert "— 2 votes," in shown(harness, ts)  # ... and is put right again
    assert [c.args["text"].split("— ")[1][:7] for c in harness.fake.calls_to("chat.update")] == [
        "2 votes",
        "1 vote,",
        "2 votes",
    ]


async def test_a_burst_of_votes_and_unvotes_ends_on_the_true_count_in_two_updates(
    harness: Harness,
) -> None:
    ts = await propose(harness)
    hold = harness.fake.hold_next("chat.update")
    await harness.driver.reaction_added("+1", user="U00", channel="C1", ts=ts)
    await asyncio.wait_for(hold.arrived.wait(), 5)  # "1 vote" is on its way, slowly
    voters = [f"U{n:02d}" for n in range(1, 31)]

    async def person(index: int, user: str) -> None:
        await harness.driver.reaction_added("+1", user=user, channel="C1", ts=ts)
        if index % 3 == 0:
            await harness.driver.reaction_removed("+1", user=user, channel="C1", ts=ts)

    # 30 votes and 10 removals at once, all while the first update is held.
    await asyncio.gather(*(person(i, u) for i, u in enumerate(voters)))
    hold.release()
    await harness.deps.drain()
    assert await vote_count(harness) == 21
    assert "— 21 votes," in shown(harness, ts)
    updates = [c.args["text"].split("— ")[1][:8] for c in harness.fake.calls_to("chat.update")]
    assert updates == ["1 vote, ", "21 votes"]


async def test_a_retried_vote_shows_once_on_the_message_and_the_home(harness: Harness) -> None:
    harness.fake.add_channel("C1", "team", members=["U1", "U2"])
    ts = await propose(harness)
    for retry in (None, 1, 2):
        await harness.driver.reaction_added(
            "+1", user="U2", channel="C1", ts=ts, event_id="EvRetried", retry_num=retry
        )
    await harness.deps.drain()
    assert await vote_count(harness) == 1
    assert "— 1 vote," in shown(harness, ts)
    await harness.driver.app_home_opened("U2")
    await harness.deps.drain()
    assert "— 1 vote" in json.dumps(harness.fake.home("U2"), ensure_ascii=False)


async def test_votes_on_many_themes_at_once_update_their_messages_at_the_workspaces_pace(
    harness: Harness,
) -> None:
    """A channel voting on every theme at once: Slack would refuse most of one ``chat.update``
    per theme and second. The messages take turns, a burst at once and then at the pace, and
    each ends on its count."""
    themes = [await propose(harness, f"Theme {n}") for n in range(8)]
    harness.deps.message_updates = Pacer(per_minute=600, burst=3)  # 3 at once, then 1 per 0.1 s
    before = len(harness.fake.calls_to("chat.update"))
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.gather(
        *(harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts) for ts in themes)
    )
    await harness.deps.drain()
    assert loop.time() - start >= 0.5 - 0.01  # five turns after the burst
    assert all("— 1 vote," in shown(harness, ts) for ts in themes)
    assert len(harness.fake.calls_to("chat.update")) - before == len(themes)
