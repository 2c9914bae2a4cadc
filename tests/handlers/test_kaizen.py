"""/kaizen through the production app and the fake Slack: themes, hypotheses, moves, actions."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime

from sqlalchemy import select

from bot import ids
from bot.domain.channels import ChannelConfig
from fake_slack.driver import (
    datepicker,
    input_values,
    plain,
    static_select,
    timepicker,
    users_select,
)
from storage.channels import get_channel_config, update_channel_config
from storage.models import ActionItem, Subscription, Theme, ThemeEvent
from storage.workspaces import Scope, get_or_add_workspace
from tests.support.harness import OTHER_TEAM, TEAM, Harness
from tests.support.kaizen import (
    A,
    add_stream,
    add_waits,
    propose,
    shown,
    submit_theme,
    theme_values,
)


async def themes(harness: Harness) -> list[Theme]:
    async with harness.deps.db.transaction() as s:
        return list((await s.scalars(select(Theme).order_by(Theme.number))).all())


async def events(harness: Harness) -> list[ThemeEvent]:
    async with harness.deps.db.transaction() as s:
        return list((await s.scalars(select(ThemeEvent).order_by(ThemeEvent.id))).all())


async def configure(harness: Harness, config: ChannelConfig, channel: str = "C1") -> None:
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=harness.clock())
        await update_channel_config(s, scope=Scope(ws, channel), config=config, now=harness.clock())


def ephemeral(response: object) -> str:
    return json.dumps(getattr(response, "json", None))


# -- proposing --------------------------------------------------------------------------------


async def test_a_proposed_theme_is_posted_with_the_vote_emoji_on_it(harness: Harness) -> None:
    ts = await propose(harness, category="waiting")
    text = shown(harness, ts)
    assert text.startswith("K-1 On-demand test environments — 0 votes, proposed")
    blocks = json.dumps(harness.fake.message("C1", ts))
    assert "Testing waits days" in blocks and "<@U1>" in blocks and "Waiting" in blocks
    added = await harness.fake.wait_for("reactions.add")
    assert (added.args["name"], added.args["timestamp"]) == ("+1", ts)
    [row] = await themes(harness)
    assert (row.number, row.status, row.message_ts) == (1, "proposed", ts)
    assert [(e.from_status, e.to_status, e.actor_id) for e in await events(harness)] == [
        (None, "proposed", "U1")
    ]


async def test_theme_numbers_run_per_workspace_across_channels(harness: Harness) -> None:
    await propose(harness, "First", channel="C1")
    await propose(harness, "Second", channel="C2")
    assert [(t.number, t.channel_id) for t in await themes(harness)] == [(1, "C1"), (2, "C2")]


async def test_empty_and_over_long_titles_are_field_errors(harness: Harness) -> None:
    empty = await submit_theme(harness, theme_values("   "))
    assert empty.json["errors"] == {ids.BLOCK_THEME_TITLE: "Give the theme a title."}
    long = await submit_theme(harness, theme_values("x" * 151))
    assert "150 characters" in long.json["errors"][ids.BLOCK_THEME_TITLE]
    assert await themes(harness) == []


async def test_the_hypothesis_baseline_is_measured_and_shown_beside_the_target(
    harness: Harness,
) -> None:
    steps = await add_stream(harness, [("Development", 1440, 600), ("Testing", 2880, 7200)])
    await add_waits(harness, steps["Testing"], [1440, 2880, 4320])
    await add_waits(harness, steps["Testing"], [99999], days_ago=40)  # outside the 4 weeks
    ts = await propose(
        harness,
        step=steps["Testing"],
        category="waiting",
        change="spin up test environments on demand",
        metric="step_wait",
        target="1d",
        check_date="2026-12-14",
    )
    [row] = await themes(harness)
    assert (row.hyp_metric, row.hyp_baseline, row.hyp_target) == ("step_wait", 2880.0, 1440.0)
    assert row.hyp_step_id == steps["Testing"]
    blocks = json.dumps(harness.fake.message("C1", ts))
    assert (
        "If we spin up test environments on demand to remove waiting, "
        "the wait at Testing will go from 2 d to 1 d by 14 Dec 2026."
    ) in blocks
    # The hypothesis is stated once: the sentence, then only where its baseline came from.
    assert blocks.count("2 d") == 1 and "Baseline measured when it was set" in blocks


async def test_lead_time_baseline_comes_from_the_current_map(harness: Harness) -> None:
    await add_stream(harness, [("Development", 1440, 600), ("Testing", 2880, 7200)])
    await propose(harness, metric="lead_time", target="5d", check_date="2026-12-14")
    [row] = await themes(harness)
    assert row.hyp_baseline == 1440 + 600 + 2880 + 7200


async def test_hypothesis_mistakes_are_field_errors_and_store_nothing(harness: Harness) -> None:
    steps = await add_stream(harness, [("Testing", 60, 60)])
    await add_waits(harness, steps["Testing"], [1440])
    past = await submit_theme(
        harness,
        theme_values(
            step=steps["Testing"], metric="step_wait", target="4h", check_date="2026-11-10"
        ),
    )
    assert past.json["errors"] == {ids.BLOCK_THEME_CHECK_DATE: "Pick a check date after today."}
    same = await submit_theme(
        harness,
        theme_values(
            step=steps["Testing"], metric="step_wait", target="1d", check_date="2026-12-14"
        ),
    )
    assert "The target is the baseline, 1 d" in same.json["errors"][ids.BLOCK_THEME_TARGET]
    no_step = await submit_theme(
        harness, theme_values(metric="step_wait", target="4h", check_date="2026-12-14")
    )
    assert no_step.json["errors"] == {
        ids.BLOCK_THEME_STEP: "Pick the step whose wait should go down."
    }
    no_metric = await submit_theme(harness, theme_values(target="4h"))
    assert ids.BLOCK_THEME_METRIC in no_metric.json["errors"]
    assert await themes(harness) == []


async def test_a_resubmitted_modal_stores_one_theme(harness: Harness) -> None:
    await submit_theme(harness, theme_values())
    await harness.driver.view_submission(ids.VIEW_THEME, theme_values(), user="U1")
    await harness.deps.drain()
    assert len(await themes(harness)) == 1


async def test_a_theme_from_app_home_asks_for_the_channel(harness: Harness) -> None:
    await harness.driver.app_home_opened("U1")
    home = await harness.fake.wait_for("views.publish")
    view = home.response["view"]
    await harness.driver.block_action(ids.ACTION_HOME_ADD_THEME, user="U1", view=view)
    modal = harness.fake.find_view(callback_id=ids.VIEW_THEME, user="U1")
    assert modal is not None
    assert ids.BLOCK_THEME_CHANNEL in json.dumps(modal["blocks"])
    missing = await harness.driver.view_submission(ids.VIEW_THEME, theme_values(), user="U1")
    assert ids.BLOCK_THEME_CHANNEL in missing.json["errors"]
    await harness.driver.view_submission(ids.VIEW_THEME, theme_values(channel="C7"), user="U1")
    await harness.deps.drain()
    assert [t.channel_id for t in await themes(harness)] == ["C7"]


async def test_a_channel_the_bot_is_not_in_gets_the_invite_hint(harness: Harness) -> None:
    harness.fake.add_channel("GPRIV", "private", is_private=True, is_member=False)
    await submit_theme(harness, theme_values(), channel="GPRIV")
    await harness.deps.drain()
    hint = await harness.fake.wait_for("response_url")
    assert "K-1 is stored" in hint.args["text"] and "/invite" in json.dumps(hint.args)
    assert len(await themes(harness)) == 1


# -- the backlog and one theme ----------------------------------------------------------------


async def test_the_backlog_is_ranked_by_votes_then_age(harness: Harness) -> None:
    first = await propose(harness, "Old idea")
    second = await propose(harness, "Popular idea")
    await propose(harness, "Also old-ish")
    for user in ("U2", "U3"):
        await harness.driver.reaction_added("+1", user=user, channel="C1", ts=second)
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=first)
    for text in ("", "list"):
        response = await harness.driver.command(ids.CMD_KAIZEN, text, user="U1", channel="C1")
        body = json.dumps(response.json)
        order = [body.index(t) for t in ("Popular idea", "Old idea", "Also old-ish")]
        assert order == sorted(order)
        assert "2 votes" in body


async def test_show_gives_votes_actions_and_history(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.driver.command(ids.CMD_KAIZEN, "start K-1", user="U3", channel="C1")
    response = await harness.driver.command(ids.CMD_KAIZEN, "show k1", user="U1", channel="C1")
    body = json.dumps(response.json)
    assert "1 vote" in body and "Voted by <@U2>" in body
    assert "<@U1> proposed it" in body and "<@U3> moved it from proposed to in progress" in body
    # Each reader sees the time in their own zone: Slack's date syntax, with a UTC fallback.
    assert "<!date^" in body and "^{date_short_pretty} at {time}|" in body and "UTC>" in body


async def test_unknown_numbers_and_other_channels_numbers_find_nothing(harness: Harness) -> None:
    await propose(harness, channel="C2")
    for text in ("show K-9", "show K-1", "start K-1"):
        response = await harness.driver.command(ids.CMD_KAIZEN, text, user="U1", channel="C1")
        assert "There is no K-" in response.json["text"], text
    other = await harness.driver_for(OTHER_TEAM).command(
        ids.CMD_KAIZEN, "done K-1", user="U1", channel="C2"
    )
    assert "There is no K-1" in other.json["text"]
    bad = await harness.driver.command(ids.CMD_KAIZEN, "show twelve", user="U1", channel="C1")
    assert "K-12" in bad.json["text"]
    assert [t.status for t in await themes(harness)] == ["proposed"]


async def test_an_unknown_subcommand_answers_the_help(harness: Harness) -> None:
    response = await harness.driver.command(ids.CMD_KAIZEN, "frobnicate", user="U1", channel="C1")
    assert "I don't know `/kaizen frobnicate`" in response.json["text"]


# -- moving a theme ---------------------------------------------------------------------------


async def test_moves_update_the_message_in_place_and_record_who(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.block_action(
        f"{ids.ACTION_THEME_STATUS}.start", user="U2", channel="C1", message_ts=ts
    )
    await harness.deps.drain()
    assert shown(harness, ts).endswith("in progress")
    done = await harness.driver.command(ids.CMD_KAIZEN, "done K-1", user="U3", channel="C1")
    assert done.json["text"] == "K-1 is now done."
    await harness.deps.drain()
    assert shown(harness, ts).endswith("done")
    assert [(e.to_status, e.actor_id) for e in await events(harness)] == [
        ("proposed", "U1"),
        ("in_progress", "U2"),
        ("done", "U3"),
    ]
    back = await harness.driver.command(ids.CMD_KAIZEN, "select K-1", user="U3", channel="C1")
    assert back.json["text"] == ":warning: K-1 is already done."


async def test_each_move_is_told_in_the_themes_thread(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.command(ids.CMD_KAIZEN, "start K-1", user="U2", channel="C1")
    await harness.driver.command(ids.CMD_KAIZEN, "done K-1", user="U3", channel="C1")
    await harness.deps.drain()
    replies = [m for m in harness.fake.messages("C1") if m.get("thread_ts") == ts != m["ts"]]
    assert [m["text"] for m in replies] == [
        ":hammer_and_wrench: <@U2> started *K-1* On-demand test environments: it is now "
        "*in progress*.",
        ":white_check_mark: <@U3> marked done *K-1* On-demand test environments: it is now *done*.",
    ]
    # Done is broadcast to the channel too: the backlog moved for everyone to see.
    assert [m.get("subtype") for m in replies] == [None, "thread_broadcast"]


async def test_two_people_pressing_done_at_once_move_it_once(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver.command(ids.CMD_KAIZEN, "start K-1", user="U1", channel="C1")
    await harness.deps.drain()
    await asyncio.gather(
        *(
            harness.driver.block_action(
                f"{ids.ACTION_THEME_STATUS}.done", user=user, channel="C1", message_ts=ts
            )
            for user in ("U2", "U3")
        )
    )
    await harness.deps.drain()
    assert [e.to_status for e in await events(harness)].count("done") == 1
    [row] = await themes(harness)
    assert (row.status, row.version) == ("done", 3)
    told = await harness.fake.wait_for("response_url")
    assert "already done" in told.args["text"]


async def test_a_button_from_another_workspace_acts_on_nothing(harness: Harness) -> None:
    ts = await propose(harness)
    await harness.driver_for(OTHER_TEAM).block_action(
        f"{ids.ACTION_THEME_STATUS}.start", "1:start", user="U2", channel="C1", message_ts=ts
    )
    await harness.driver.block_action(
        f"{ids.ACTION_THEME_STATUS}.start", "1:start", user="U2", channel="C2", message_ts=ts
    )
    assert [t.status for t in await themes(harness)] == ["proposed"]


# -- action items -----------------------------------------------------------------------------


def action_values(
    text: str = "Ask IT for a quote",
    owner: str = "U2",
    due: str | None = "2026-11-20",
    theme: str | None = None,
) -> dict[str, object]:
    fields = [
        (ids.BLOCK_ACTION_ITEM_TEXT, A, plain(text or None)),
        (ids.BLOCK_ACTION_ITEM_OWNER, A, users_select(owner)),
        (ids.BLOCK_ACTION_ITEM_DUE, A, datepicker(due)),
    ]
    if theme is not None:
        fields.append((ids.BLOCK_ACTION_ITEM_THEME, A, static_select(theme)))
    return input_values(*fields)


async def actions(harness: Harness) -> list[ActionItem]:
    async with harness.deps.db.transaction() as s:
        return list((await s.scalars(select(ActionItem).order_by(ActionItem.id))).all())


async def test_an_action_item_from_the_theme_button_shows_on_the_theme_and_in_home(
    harness: Harness,
) -> None:
    ts = await propose(harness)
    await harness.driver.block_action(
        ids.ACTION_THEME_ADD_ACTION_ITEM, user="U1", channel="C1", message_ts=ts
    )
    modal = harness.fake.find_view(callback_id=ids.VIEW_ACTION_ITEM, user="U1")
    assert modal is not None and "K-1 On-demand" in json.dumps(modal["blocks"])
    response = await harness.driver.view_submission(
        ids.VIEW_ACTION_ITEM, action_values(theme="1"), user="U1"
    )
    assert response.status == 200 and not response.text
    await harness.deps.drain()
    [item] = await actions(harness)
    assert (item.owner_id, item.text, item.status) == ("U2", "Ask IT for a quote", "open")
    card = json.dumps(harness.fake.message("C1", ts))
    # An open item shows an empty box beside its Done button, never a ticked one.
    assert ":white_large_square: Ask IT for a quote" in card
    assert ":ballot_box_with_check:" not in card
    home = harness.fake.home("U2")
    assert home is not None and "Ask IT for a quote" in json.dumps(home)

    await harness.driver.block_action(
        ids.ACTION_ACTION_ITEM_DONE, str(item.id), user="U2", view=home
    )
    await harness.deps.drain()
    [item] = await actions(harness)
    assert item.status == "done"
    assert "~Ask IT for a quote~" in json.dumps(harness.fake.message("C1", ts))
    assert "Ask IT for a quote" not in json.dumps(harness.fake.home("U2"))


async def test_action_item_mistakes_are_field_errors(harness: Harness) -> None:
    await propose(harness, channel="C2")
    await harness.driver.command(ids.CMD_KAIZEN, "action", user="U1", channel="C1")
    past = await harness.driver.view_submission(
        ids.VIEW_ACTION_ITEM, action_values(due="2026-11-01"), user="U1"
    )
    assert past.json["errors"] == {ids.BLOCK_ACTION_ITEM_DUE: "Pick a due date from today on."}
    empty = await harness.driver.view_submission(
        ids.VIEW_ACTION_ITEM, action_values(text="  "), user="U1"
    )
    assert ids.BLOCK_ACTION_ITEM_TEXT in empty.json["errors"]
    other_channel = await harness.driver.view_submission(
        ids.VIEW_ACTION_ITEM, action_values(theme="1"), user="U1"
    )
    assert other_channel.json["errors"] == {
        ids.BLOCK_ACTION_ITEM_THEME: "That theme is not in this channel."
    }
    assert await actions(harness) == []


async def test_a_done_button_from_another_workspace_does_nothing(harness: Harness) -> None:
    await harness.driver.command(ids.CMD_KAIZEN, "action", user="U1", channel="C1")
    await harness.driver.view_submission(ids.VIEW_ACTION_ITEM, action_values(), user="U1")
    [item] = await actions(harness)
    await harness.driver_for(OTHER_TEAM).block_action(
        ids.ACTION_ACTION_ITEM_DONE, str(item.id), user="U2", channel="C1"
    )
    await harness.driver.block_action(
        ids.ACTION_ACTION_ITEM_DONE, str(item.id), user="U2", channel="C9"
    )
    assert [a.status for a in await actions(harness)] == ["open"]


# -- settings, subscriptions, export ----------------------------------------------------------


def settings_values(
    *,
    vote: str = ":star:",
    waste: str = ":wastebasket:",
    limit: str = "3",
    tz: str = "Europe/Lisbon",
) -> dict[str, object]:
    return input_values(
        (ids.BLOCK_CHANNEL_SETTINGS_DIGEST_DAY, A, static_select("4")),
        (ids.BLOCK_CHANNEL_SETTINGS_DIGEST_TIME, A, timepicker("16:30")),
        (ids.BLOCK_CHANNEL_SETTINGS_TIMEZONE, A, plain(tz)),
        (ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI, A, plain(vote)),
        (ids.BLOCK_CHANNEL_SETTINGS_WASTE_EMOJI, A, plain(waste)),
        (ids.BLOCK_CHANNEL_SETTINGS_VOTE_LIMIT, A, plain(limit or None)),
    )


async def test_settings_are_saved_and_checked(harness: Harness) -> None:
    await harness.driver.command(ids.CMD_KAIZEN, "settings", user="U1", channel="C1")
    modal = harness.fake.find_view(callback_id=ids.VIEW_CHANNEL_SETTINGS, user="U1")
    assert modal is not None and ":+1:" in json.dumps(modal["blocks"])
    bad = await harness.driver.view_submission(
        ids.VIEW_CHANNEL_SETTINGS,
        settings_values(tz="Mars/Olympus", vote=":wastebasket:", limit="0"),
        user="U1",
    )
    assert set(bad.json["errors"]) == {
        ids.BLOCK_CHANNEL_SETTINGS_TIMEZONE,
        ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI,
        ids.BLOCK_CHANNEL_SETTINGS_VOTE_LIMIT,
    }
    ok = await harness.driver.view_submission(
        ids.VIEW_CHANNEL_SETTINGS, settings_values(), user="U1"
    )
    assert ok.status == 200 and not ok.text
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=harness.clock())
        config = await get_channel_config(s, scope=Scope(ws, "C1"))
    assert config == ChannelConfig(
        timezone="Europe/Lisbon",
        digest_weekday=4,
        digest_time="16:30",
        vote_emoji="star",
        waste_emoji="wastebasket",
        vote_limit=3,
    )
    await harness.deps.drain()
    saved = await harness.fake.wait_for("chat.postEphemeral")
    assert "Fridays at 16:30" in saved.args["text"]
    # Friday 20 November 2026, 16:30 in Lisbon (UTC+0 in winter), shown in the reader's zone.
    friday = int(datetime(2026, 11, 20, 16, 30, tzinfo=UTC).timestamp())
    assert f"The next digest goes out <!date^{friday}^" in saved.args["text"]


async def test_subscribe_and_unsubscribe(harness: Harness) -> None:
    first = await harness.driver.command(ids.CMD_KAIZEN, "subscribe", user="U1", channel="C1")
    again = await harness.driver.command(ids.CMD_KAIZEN, "subscribe", user="U1", channel="C1")
    assert "subscribed" in first.json["text"] and "already" in again.json["text"]
    async with harness.deps.db.transaction() as s:
        assert [r.user_id for r in await s.scalars(select(Subscription))] == ["U1"]
    gone = await harness.driver.command(ids.CMD_KAIZEN, "unsubscribe", user="U1", channel="C1")
    assert "Unsubscribed" in gone.json["text"]
    async with harness.deps.db.transaction() as s:
        assert list(await s.scalars(select(Subscription))) == []


async def _export_data(harness: Harness) -> None:
    harness.fake.add_user("U1", "Paulo")
    harness.fake.add_user("U3", "Tina")
    ts = await propose(harness)
    await harness.driver.reaction_added("+1", user="U2", channel="C1", ts=ts)
    await harness.driver.command(
        ids.CMD_WASTE, "waiting 2h for the runner", user="U3", channel="C1"
    )
    await harness.driver.command(ids.CMD_WASTE, "defects 1h bug", user="U4", channel="C2")
    await harness.driver.command(ids.CMD_KAIZEN, "action", user="U1", channel="C1")
    await harness.driver.view_submission(ids.VIEW_ACTION_ITEM, action_values(theme="1"), user="U1")


async def test_export_sends_the_channels_csv_to_the_requester_only(harness: Harness) -> None:
    await _export_data(harness)
    response = await harness.driver.command(ids.CMD_KAIZEN, "export", user="U1", channel="C1")
    assert "direct message, not to the channel" in response.json["text"]
    await harness.deps.drain()
    [upload] = harness.fake.files
    # The file goes to the requester's DM with the app, never to the channel.
    assert upload.channel_id == "D1" and upload.filename.endswith(".csv")
    assert harness.fake.message("C1", upload.id) is None
    rows = list(csv.DictReader(io.StringIO(upload.content.decode())))
    assert [r["record"] for r in rows] == ["waste", "theme", "vote", "action"]
    waste, theme, vote, action = rows
    # One meaning per column, a name beside each id, title and problem apart, units named.
    assert (waste["reporter_id"], waste["reporter_name"]) == ("U3", "Tina")
    assert (waste["time_lost_minutes"], waste["time_lost"]) == ("120", "2 h")
    assert waste["description"] == "waiting for the runner" and waste["proposer_id"] == ""
    assert (theme["proposer_id"], theme["proposer_name"], theme["id"]) == ("U1", "Paulo", "K-1")
    assert theme["title"] == "On-demand test environments" and theme["problem"]
    assert theme["votes"] == "1" and theme["reporter_id"] == ""
    assert vote["voter_id"] == "U2" and vote["theme"] == "K-1"
    assert action["owner_id"] == "U2" and action["theme"] == "K-1"


async def test_export_json_is_one_list_per_kind(harness: Harness) -> None:
    await _export_data(harness)
    await harness.driver.command(ids.CMD_KAIZEN, "export json", user="U1", channel="C1")
    await harness.deps.drain()
    [upload] = harness.fake.files
    assert upload.channel_id == "D1" and upload.filename.endswith(".json")
    body = json.loads(upload.content.decode())
    assert [len(body[k]) for k in ("wastes", "themes", "votes", "actions")] == [1, 1, 1, 1]
    assert body["wastes"][0]["kind"] == "waste"
    assert body["wastes"][0]["time_lost_minutes"] == 120
    assert body["themes"][0]["proposer_name"] == "Paulo"
