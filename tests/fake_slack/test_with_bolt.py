"""The fake and the driver together around a real Bolt AsyncApp, as handler tests use them."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from fake_slack import FakeSlack, SlackDriver, input_values, number

SECRET = "bolt-signing-secret"

LOG_WASTE_MODAL = {
    "type": "modal",
    "callback_id": "waste.log",
    "title": {"type": "plain_text", "text": "Log waste"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "minutes",
            "label": {"type": "plain_text", "text": "Minutes"},
            "element": {
                "type": "number_input",
                "action_id": "minutes",
                "is_decimal_allowed": False,
            },
        }
    ],
}


def build_app(client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.command("/waste")
    async def log_from_command(
        ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]
    ) -> None:
        await ack()
        await respond(text=f"Logged {command['text']}")

    @app.shortcut("waste.new")
    async def open_modal(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=shortcut["trigger_id"], view=LOG_WASTE_MODAL)

    @app.view("waste.log")
    async def submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        minutes = int(view["state"]["values"]["minutes"]["minutes"]["value"])
        if minutes <= 0:
            await ack(response_action="errors", errors={"minutes": "Enter a positive number"})
            return
        await ack()

    @app.action("waste.undo")
    async def undo(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], text="Undone"
        )

    @app.event("reaction_added")
    async def count_vote(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.chat_postMessage(
            channel=event["item"]["channel"],
            thread_ts=event["item"]["ts"],
            text=f"Counted :{event['reaction']}:",
        )

    return app


@pytest.fixture
async def driver(slack: FakeSlack) -> AsyncIterator[SlackDriver]:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    runner = web.AppRunner(build_app(client).web_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/slack/events"
    async with SlackDriver(url, signing_secret=SECRET, team_id=slack.team_id, fake=slack) as d:
        yield d
    await runner.cleanup()


async def test_command_reply_goes_to_the_response_url(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    response = await driver.command("/waste", "25 waiting", user="U1", channel="C1")

    assert response.status == 200
    call = await slack.wait_for("response_url")
    assert call.args["text"] == "Logged 25 waiting"
    assert slack.calls_to("auth.test")[0].ok


async def test_shortcut_opens_the_modal_with_the_drivers_trigger(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    await driver.global_shortcut("waste.new", user="U1")

    call = await slack.wait_for("views.open")
    assert call.ok
    assert slack.last_view("U1")["callback_id"] == "waste.log"


async def test_modal_field_error_comes_back_in_the_ack(driver: SlackDriver) -> None:
    values = input_values(("minutes", "minutes", number(0)))
    response = await driver.view_submission("waste.log", values, user="U1")

    assert response.status == 200
    assert response.json == {
        "response_action": "errors",
        "errors": {"minutes": "Enter a positive number"},
    }


async def test_button_click_updates_the_message_it_came_from(
    driver: SlackDriver, slack: FakeSlack
) -> None:
    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "waste.undo",
                    "text": {"type": "plain_text", "text": "Undo"},
                }
            ],
        }
    ]
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    ts = (await client.chat_postMessage(channel="C1", text="Logged", blocks=blocks))["ts"]

    await driver.block_action("waste.undo", user="U1", channel="C1", message_ts=ts)

    await slack.wait_for("chat.update")
    assert slack.message("C1", ts)["text"] == "Undone"  # type: ignore[index]


async def test_reaction_event_reaches_the_listener(driver: SlackDriver, slack: FakeSlack) -> None:
    ts = slack.next_ts()
    slack.add_message("C1", ts, "Idea: automate the release notes", "U2")

    response = await driver.reaction_added("thumbsup", user="U1", channel="C1", ts=ts)

    assert response.status == 200
    reply = await slack.wait_for("chat.postMessage")
    # Bolt's per-request client adds team_id to every call it makes.
    assert reply.args == {
        "channel": "C1",
        "thread_ts": ts,
        "text": "Counted :thumbsup:",
        "team_id": "T0001",
    }
    assert slack.message("C1", ts)["reactions"][0]["users"] == ["U1"]  # type: ignore[index]


async def test_bolt_refuses_bad_and_stale_signatures(driver: SlackDriver) -> None:
    forged = await driver.command("/waste", user="U1", channel="C1", signature="v0=00")
    stale = await driver.command("/waste", user="U1", channel="C1", timestamp_offset=-301)
    assert (forged.status, stale.status) == (401, 401)
