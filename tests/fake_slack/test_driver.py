"""SlackDriver: signed requests shaped like Slack's, checked by a tiny verifying echo app."""

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from fake_slack import (
    FakeSlack,
    SlackDriver,
    checkboxes,
    datepicker,
    input_values,
    number,
    plain,
    select,
    users_select,
)

SECRET = "test-signing-secret"


async def _echo(request: web.Request) -> web.Response:
    """Verify the signature as Bolt does and answer with what arrived."""
    raw = await request.read()
    verifier = SignatureVerifier(SECRET)
    valid = verifier.is_valid_request(raw, dict(request.headers))
    text = raw.decode()
    if request.content_type == "application/json":
        body: Any = json.loads(text)
    else:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        body = json.loads(fields["payload"]) if "payload" in fields else fields
    return web.json_response(
        {
            "valid": valid,
            "content_type": request.content_type,
            "body": body,
            "retry_num": request.headers.get("X-Slack-Retry-Num"),
            "retry_reason": request.headers.get("X-Slack-Retry-Reason"),
        },
        status=200 if valid else 401,
    )


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/slack/events", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/slack/events"
    await runner.cleanup()


@pytest.fixture
async def driver(echo_url: str, slack: FakeSlack) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(echo_url, signing_secret=SECRET, team_id="T0001", fake=slack) as d:
        yield d


async def test_slash_command_is_a_signed_form_like_slacks(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    response = await driver.command("/waste", "25 waiting", user="U1", channel="C1")

    assert response.status == 200
    assert response.json["valid"] is True
    assert response.json["content_type"] == "application/x-www-form-urlencoded"
    body = response.json["body"]
    assert {k: body[k] for k in ("team_id", "channel_id", "user_id", "command", "text")} == {
        "team_id": "T0001",
        "channel_id": "C1",
        "user_id": "U1",
        "command": "/waste",
        "text": "25 waiting",
    }
    assert set(body) >= {
        "token",
        "team_domain",
        "channel_name",
        "user_name",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert body["response_url"].startswith(slack.base_url)
    assert response.elapsed > 0


async def test_enterprise_id_is_sent_when_configured(echo_url: str) -> None:
    async with SlackDriver(
        echo_url, signing_secret=SECRET, team_id="T0001", enterprise_id="E0001"
    ) as driver:
        command = (await driver.command("/waste", user="U1", channel="C1")).json["body"]
        shortcut = (await driver.global_shortcut("waste.new", user="U1")).json["body"]
        event = (await driver.app_home_opened("U1")).json["body"]
    assert command["enterprise_id"] == "E0001"
    assert shortcut["enterprise"]["id"] == "E0001"
    assert event["enterprise_id"] == "E0001"


async def test_block_action_reads_the_button_from_the_stored_message(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    button = {
        "type": "button",
        "action_id": "waste.undo",
        "text": {"type": "plain_text", "text": "Undo"},
        "value": "42",
    }
    ts = slack.next_ts()
    slack.add_message(
        "C1", ts, "logged", "UBOT", blocks=[{"type": "actions", "elements": [button]}]
    )

    response = await driver.block_action("waste.undo", user="U1", channel="C1", message_ts=ts)

    payload = response.json["body"]
    assert response.json["valid"] is True
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    (action,) = payload["actions"]
    assert (action["action_id"], action["type"], action["value"]) == ("waste.undo", "button", "42")
    assert action["text"]["text"] == "Undo"
    assert action["block_id"] == slack.message("C1", ts)["blocks"][0]["block_id"]  # type: ignore[index]
    assert payload["message"]["ts"] == ts
    assert payload["user"]["id"] == "U1"
    assert payload["response_url"].startswith(slack.base_url)


async def test_block_action_in_a_modal_carries_the_view(driver: SlackDriver) -> None:
    view = {"id": "V9", "type": "modal", "callback_id": "waste.log", "blocks": []}
    response = await driver.block_action(
        "waste.kind", user="U1", channel=None, view=view, selected_option="waiting"
    )
    payload = response.json["body"]
    assert payload["container"] == {"type": "view", "view_id": "V9"}
    assert payload["view"]["id"] == "V9"
    assert "response_url" not in payload
    assert payload["actions"][0]["type"] == "static_select"
    assert payload["actions"][0]["selected_option"]["value"] == "waiting"


async def test_view_submission_carries_state_values(driver: SlackDriver) -> None:
    values = input_values(
        ("minutes", "minutes", number(25)),
        ("kind", "kind", select("waiting", "Waiting")),
        ("note", "note", plain("slow reviews")),
        ("who", "who", users_select("U2")),
        ("when", "when", datepicker("2024-03-01")),
        ("tags", "tags", checkboxes(["flow", "quality"])),
    )
    response = await driver.view_submission(
        "waste.log", values, user="U1", private_metadata='{"channel": "C1"}'
    )

    payload = response.json["body"]
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "waste.log"
    assert payload["view"]["private_metadata"] == '{"channel": "C1"}'
    state = payload["view"]["state"]["values"]
    assert state["minutes"]["minutes"] == {
        "type": "number_input",
        "value": "25",
        "is_decimal_allowed": False,
    }
    assert state["kind"]["kind"]["selected_option"]["value"] == "waiting"
    assert state["who"]["who"]["selected_user"] == "U2"
    assert [o["value"] for o in state["tags"]["tags"]["selected_options"]] == ["flow", "quality"]


async def test_view_submission_defaults_to_the_modal_the_fake_opened(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    view = {
        "type": "modal",
        "callback_id": "waste.log",
        "private_metadata": "C1",
        "title": {"type": "plain_text", "text": "Log waste"},
        "blocks": [],
    }
    opened = await client.views_open(trigger_id=slack.new_trigger_id("U1"), view=view)

    response = await driver.view_submission("waste.log", {}, user="U1")

    submitted = response.json["body"]["view"]
    assert submitted["id"] == opened["view"]["id"]
    assert submitted["private_metadata"] == "C1"
    assert submitted["title"]["text"] == "Log waste"


async def test_shortcuts_and_view_closed_have_slacks_types(driver: SlackDriver) -> None:
    message = await driver.message_shortcut(
        "waste.from_message",
        user="U1",
        channel="C1",
        message_ts="1700000000.000100",
        message_text="the build is slow again",
    )
    shortcut = await driver.global_shortcut("waste.new", user="U1")
    closed = await driver.view_closed("waste.log", user="U1")

    assert message.json["body"]["type"] == "message_action"
    assert message.json["body"]["message"]["text"] == "the build is slow again"
    assert message.json["body"]["message"]["user"] == "U_OTHER"
    assert shortcut.json["body"]["type"] == "shortcut"
    assert closed.json["body"]["type"] == "view_closed"
    assert all(r.json["valid"] for r in (message, shortcut, closed))


async def test_event_is_a_json_event_callback_envelope(driver: SlackDriver) -> None:
    response = await driver.reaction_added(
        "thumbsup", user="U1", channel="C1", ts="1700000000.000100", item_user="U2"
    )

    assert response.json["valid"] is True
    assert response.json["content_type"] == "application/json"
    envelope = response.json["body"]
    assert envelope["type"] == "event_callback"
    assert envelope["team_id"] == "T0001"
    assert envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == "UBOT"
    assert set(envelope) >= {"token", "api_app_id", "event_time", "is_ext_shared_channel"}
    assert envelope["event"] == {
        "type": "reaction_added",
        "user": "U1",
        "reaction": "thumbsup",
        "item_user": "U2",
        "item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"},
        "event_ts": envelope["event"]["event_ts"],
    }


async def test_retried_event_sets_slacks_retry_headers(driver: SlackDriver) -> None:
    event = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    first = await driver.event(event, event_id="Ev1")
    retry = await driver.event(event, event_id="Ev1", retry_num=1)

    assert first.json["retry_num"] is None
    assert (retry.json["retry_num"], retry.json["retry_reason"]) == ("1", "http_timeout")
    assert retry.json["body"]["event_id"] == "Ev1"


async def test_trigger_and_event_ids_are_unique_by_default(driver: SlackDriver) -> None:
    commands = [await driver.command("/waste", user="U1", channel="C1") for _ in range(3)]
    events = [await driver.app_home_opened("U1") for _ in range(3)]
    assert len({r.json["body"]["trigger_id"] for r in commands}) == 3
    assert len({r.json["body"]["event_id"] for r in events}) == 3


async def test_bad_signature_and_stale_timestamp_fail_verification(driver: SlackDriver) -> None:
    forged = await driver.command("/waste", user="U1", channel="C1", signature="v0=deadbeef")
    stale = await driver.command("/waste", user="U1", channel="C1", timestamp_offset=-301)
    assert (forged.status, stale.status) == (401, 401)


async def test_raw_sends_the_body_and_headers_untouched(driver: SlackDriver) -> None:
    response = await driver.raw(
        b"command=%2Fwaste", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 401
    assert response.json["body"] == {"command": "/waste"}


async def test_driver_without_context_manager_opens_a_session_per_request(echo_url: str) -> None:
    driver = SlackDriver(echo_url, signing_secret=SECRET, team_id="T0001")
    response = await driver.command("/waste", user="U1", channel="C1")
    assert response.json["valid"] is True
    assert response.json["body"]["trigger_id"].startswith("tr-")


async def test_inviting_the_bot_makes_it_a_member(driver: SlackDriver, slack: FakeSlack) -> None:
    slack.add_channel("C1", "kaizen", is_member=False)
    await driver.member_joined_channel("UBOT", "C1", inviter="U1")
    channel = slack.channel("C1")
    assert channel is not None
    assert channel.is_member is True


async def test_app_home_opened_carries_the_published_home(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})

    response = await driver.app_home_opened("U1")

    event = response.json["body"]["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", "U1", "home")
    assert event["view"]["id"] == slack.home("U1")["id"]  # type: ignore[index]


async def test_message_event_is_stored_in_the_fake(driver: SlackDriver, slack: FakeSlack) -> None:
    response = await driver.message("the deploy waited 2h for approval", user="U1", channel="C1")
    event = response.json["body"]["event"]
    assert (event["type"], event["channel_type"]) == ("message", "channel")
    assert [m["text"] for m in slack.messages("C1")] == ["the deploy waited 2h for approval"]
