"""Small bad input: each gets a clear answer where it was typed, and nothing odd is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from storage.models import Observation
from tests.support.harness import Harness
from tests.support.inbound import row_counts
from tests.support.kaizen import submit_theme, theme_values


def mrkdwn_texts(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from mrkdwn_texts(value)


async def stored_descriptions(harness: Harness) -> list[str]:
    async with harness.deps.db.transaction() as s:
        return list((await s.scalars(select(Observation.description))).all())


@pytest.mark.parametrize(
    ("command", "text", "said"),
    [
        ("/waste", "waiting -5h for the CI runner", "negative"),
        ("/waste", "waiting 2h \u200b\u200b\u200d", "Say what happened"),
        ("/waste", "waiting 2h \x00", "Say what happened"),
        ("/waste", "\ufeff\u2060", "Say what happened"),
        ("/wait", "-2d test environment", "negative"),
        ("/wait", "2d \u200b", "Say what"),
    ],
    ids=["negative waste", "zero-width", "nul", "invisible only", "negative wait", "zw wait"],
)
async def test_bad_quick_logs_are_refused_with_a_message_and_store_nothing(
    harness: Harness, command: str, text: str, said: str
) -> None:
    before = await row_counts(harness.deps.db)
    response = await harness.driver.command(command, text, user="U1", channel="C1")
    assert response.status == 200
    assert said in response.json["text"]
    after = await row_counts(harness.deps.db)
    assert after["observations"] == before["observations"]


async def test_a_nul_inside_a_description_is_dropped_not_stored(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "waiting 2h for the\x00 runner", user="U1", channel="C1"
    )
    assert "Logged" in json.dumps(response.json)
    assert await stored_descriptions(harness) == ["waiting for the runner"]


@pytest.mark.parametrize("command", ["/vsm", "/kaizen", "/retro", "/flow"])
async def test_a_huge_single_word_gets_the_help_not_an_apology(
    harness: Harness, command: str
) -> None:
    response = await harness.driver.command(command, "x" * 40_000, user="U1", channel="C1")
    assert response.status == 200
    text = json.dumps(response.json)
    assert "Sorry" not in text
    assert f"{command} help" in text
    assert "x" * 41 not in text


async def test_mentions_in_a_theme_title_do_not_ping_anyone(harness: Harness) -> None:
    title = "<!channel> <!here> <@U2> <#C9> review faster"
    response = await submit_theme(harness, theme_values(title))
    assert response.status == 200 and not response.text
    await harness.deps.drain()
    [call] = harness.fake.calls_to("chat.postMessage")
    posted = harness.fake.message("C1", str(call.response["ts"]))
    assert posted is not None
    # Slack reads mentions in the top-level text and in mrkdwn, never in plain_text.
    everything = posted["text"] + json.dumps(list(mrkdwn_texts(posted["blocks"])))
    for mention in ("<!channel>", "<!here>", "<@U2>", "<#C9>"):
        assert mention not in everything
    assert "&lt;!channel&gt;" in posted["text"]


async def test_a_quick_log_where_the_bot_is_not_says_how_to_invite_it(
    harness: Harness,
) -> None:
    harness.fake.add_channel("GPRIV", "secret-team", is_private=True, is_member=False)
    response = await harness.driver.command(
        "/waste", "waiting 2h for the CI runner", user="U1", channel="GPRIV"
    )
    text = json.dumps(response.json)
    assert "Logged" in text
    assert "/invite @kaizen-bot" in text
    assert await stored_descriptions(harness) == ["waiting for the CI runner"]


async def test_a_quick_log_where_the_bot_is_gets_no_invite_hint(harness: Harness) -> None:
    response = await harness.driver.command("/wait", "2d test environment", user="U1", channel="C1")
    text = json.dumps(response.json)
    assert "Logged" in text and "/invite" not in text


async def test_the_bot_is_asked_about_a_channel_once_for_many_quick_logs(harness: Harness) -> None:
    for n in range(3):
        response = await harness.driver.command(
            "/waste", f"waiting {n + 1}h for review", user="U1", channel="C1"
        )
        assert "Logged" in json.dumps(response.json)
    assert len(harness.fake.calls_to("conversations.info")) == 1


async def test_after_the_bot_is_invited_the_next_quick_log_has_no_invite_hint(
    harness: Harness,
) -> None:
    harness.fake.add_channel("GPRIV", "secret-team", is_private=True, is_member=False)
    before = await harness.driver.command(
        "/waste", "waiting 2h for review", user="U1", channel="GPRIV"
    )
    assert "/invite" in json.dumps(before.json)
    joined = await harness.driver.member_joined_channel(
        harness.fake.bot_user_id, "GPRIV", inviter="U1"
    )
    assert joined.status == 200  # answered, so Slack does not send it again
    after = await harness.driver.command(
        "/waste", "waiting 3h for review", user="U1", channel="GPRIV"
    )
    assert "Logged" in json.dumps(after.json) and "/invite" not in json.dumps(after.json)


async def test_after_the_bot_is_removed_the_next_quick_log_has_the_invite_hint(
    harness: Harness,
) -> None:
    harness.fake.add_channel("CTEAM", "team", is_member=True)
    before = await harness.driver.command(
        "/waste", "waiting 2h for review", user="U1", channel="CTEAM"
    )
    assert "/invite" not in json.dumps(before.json)
    harness.fake.add_channel("CTEAM", "team", is_member=False)
    left = await harness.driver.event(
        {"type": "channel_left", "channel": "CTEAM", "actor_id": "U1"}
    )
    assert left.status == 200
    after = await harness.driver.command(
        "/waste", "waiting 3h for review", user="U1", channel="CTEAM"
    )
    assert "Logged" in json.dumps(after.json) and "/invite" in json.dumps(after.json)
