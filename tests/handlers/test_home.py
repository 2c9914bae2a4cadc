"""App Home: a person's action items (overdue first), their logs, their channels' top themes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import event

from bot import ids
from fake_slack.driver import datepicker, input_values, plain, users_select
from tests.support.harness import Harness
from tests.support.kaizen import A, propose


async def add_action(harness: Harness, text: str, due: str | None, owner: str = "U1") -> None:
    await harness.driver.command(ids.CMD_KAIZEN, "action", user="U9", channel="C1")
    response = await harness.driver.view_submission(
        ids.VIEW_ACTION_ITEM,
        input_values(
            (ids.BLOCK_ACTION_ITEM_TEXT, A, plain(text)),
            (ids.BLOCK_ACTION_ITEM_OWNER, A, users_select(owner)),
            (ids.BLOCK_ACTION_ITEM_DUE, A, datepicker(due)),
        ),
        user="U9",
    )
    assert response.status == 200 and not response.text


async def open_home(harness: Harness, user: str) -> str:
    await harness.driver.app_home_opened(user)
    await harness.deps.drain()
    home = harness.fake.home(user)
    assert home is not None
    return json.dumps(home)


async def test_home_shows_my_actions_overdue_first_my_logs_and_my_channels_themes(
    harness: Harness,
) -> None:
    harness.fake.add_channel("C1", "team", members=["U1", "U2"])
    harness.fake.add_channel("C2", "elsewhere", members=["U2"])
    await propose(harness, "Testers in refinement", channel="C1")
    await propose(harness, "Secret plan", channel="C2")
    await add_action(harness, "Book the room", "2026-11-30")
    await add_action(harness, "Someone else's", "2026-11-20", owner="U2")
    harness.clock.advance(days=5)  # 21 Nov: "Draft the proposal" (due 20 Nov) is overdue
    await add_action(harness, "No date", None)
    harness.clock.advance(days=-5)
    await add_action(harness, "Draft the proposal", "2026-11-20")
    await harness.driver.command(
        ids.CMD_WASTE, "waiting 2h for the runner", user="U1", channel="C1"
    )
    harness.clock.advance(days=5)

    home = await open_home(harness, "U1")
    assert home.index("Draft the proposal") < home.index("Book the room") < home.index("No date")
    assert "1 overdue" in home and "Someone else" not in home
    assert "Testers in refinement" in home and "Secret plan" not in home
    assert "for the runner" in home
    assert ids.ACTION_WASTE_OPEN_MODAL in home and ids.ACTION_HOME_ADD_THEME in home


async def test_home_refreshes_after_a_vote(harness: Harness) -> None:
    harness.fake.add_channel("C1", "team", members=["U1", "U2"])
    ts = await propose(harness, "Testers in refinement")
    await open_home(harness, "U2")
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.deps.drain()
    home = harness.fake.home("U2")
    assert home is not None and "Testers in refinement — 1 vote" in json.dumps(
        home, ensure_ascii=False
    )


async def test_log_waste_from_home_opens_the_modal_with_a_channel_picker(
    harness: Harness,
) -> None:
    await open_home(harness, "U1")
    view = harness.fake.home("U1")
    assert view is not None
    await harness.driver.block_action(ids.ACTION_WASTE_OPEN_MODAL, user="U1", view=view)
    modal = harness.fake.find_view(callback_id=ids.VIEW_WASTE, user="U1")
    assert modal is not None and ids.BLOCK_WASTE_CHANNEL in json.dumps(modal["blocks"])


async def test_an_empty_home_says_what_will_show_up(harness: Harness) -> None:
    home = await open_home(harness, "U7")
    assert "Nothing open" in home and "No open themes" in home and "haven't logged" in home


async def test_home_costs_one_channel_listing_whatever_the_number_of_channels(
    harness: Harness,
) -> None:
    channels = [f"C{n}" for n in range(1, 7)]
    for n, channel in enumerate(channels):
        mine = n % 2 == 0
        harness.fake.add_channel(channel, f"team-{n}", members=["U1", "U2"] if mine else ["U2"])
        await propose(harness, f"Theme of team {n}", channel=channel)
    harness.fake.reset()
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = harness.deps.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        home = await open_home(harness, "U1")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [c.method for c in harness.fake.calls] == ["users.conversations", "views.publish"]
    assert [n for n in range(6) if f"Theme of team {n}" in home] == [0, 2, 4]
    # The workspace, the actions, the logs, the channels, their themes: none per channel.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 5


def publishes(harness: Harness, user: str) -> int:
    return len([c for c in harness.fake.calls_to("views.publish") if c.args["user_id"] == user])


async def test_a_vote_republishes_the_voters_home_only_when_it_changes_what_it_shows(
    harness: Harness,
) -> None:
    harness.fake.add_channel("C1", "team", members=["U1", "U2", "U3", "U4"])
    tss = [await propose(harness, f"Theme {n}") for n in range(1, 5)]
    for voter in ("U3", "U4"):  # Themes 1–3 lead with two votes each: Home shows those three.
        for ts in tss[:3]:
            await harness.driver.reaction_added("+1", user=voter, channel="C1", ts=ts)
    await open_home(harness, "U2")
    before = publishes(harness, "U2")
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=tss[3])
    await harness.deps.drain()
    assert publishes(harness, "U2") == before  # Theme 4, with 1 vote, is not on the Home
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=tss[0])
    await harness.deps.drain()
    assert publishes(harness, "U2") == before + 1
    assert "Theme 1 — 3 votes" in json.dumps(harness.fake.home("U2"), ensure_ascii=False)


async def test_the_home_is_current_when_opened_after_others_voted(harness: Harness) -> None:
    harness.fake.add_channel("C1", "team", members=["U1", "U2", "U3"])
    ts = await propose(harness, "Testers in refinement")
    await open_home(harness, "U2")
    await harness.driver.reaction_added("+1", user="U3", channel="C1", ts=ts)
    await harness.driver.reaction_added("+1", user="U1", channel="C1", ts=ts)
    await harness.driver.reaction_removed("+1", user="U1", channel="C1", ts=ts)
    await open_home(harness, "U2")
    home = json.dumps(harness.fake.home("U2"), ensure_ascii=False)
    assert "Testers in refinement — 1 vote ·" in home


async def test_home_publishes_for_one_person_are_coalesced_and_end_current(
    harness: Harness,
) -> None:
    harness.fake.add_channel("C1", "team", members=["U1", "U2"])
    tss = [await propose(harness, f"Theme {n}") for n in range(1, 4)]
    await open_home(harness, "U2")
    before = publishes(harness, "U2")
    hold = harness.fake.hold_next("views.publish")
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=tss[0])
    await asyncio.wait_for(hold.arrived.wait(), 5)  # the first publish is on its way, slowly
    for ts in tss[1:]:
        await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.driver.app_home_opened("U2")
    hold.release()
    await harness.deps.drain()
    # Two votes and an opening while the first publish was held: one more publish, current.
    assert publishes(harness, "U2") == before + 2
    home = json.dumps(harness.fake.home("U2"), ensure_ascii=False)
    assert all(f"Theme {n} — 1 vote" in home for n in range(1, 4))


async def test_a_vote_leaves_a_home_not_opened_lately_to_be_built_when_opened(
    harness: Harness,
) -> None:
    harness.fake.add_channel("C1", "team", members=["U1", "U2"])
    ts = await propose(harness, "Testers in refinement")
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.deps.drain()
    assert publishes(harness, "U2") == 0
    await open_home(harness, "U2")
    home = json.dumps(harness.fake.home("U2"), ensure_ascii=False)
    assert "Testers in refinement — 1 vote ·" in home
