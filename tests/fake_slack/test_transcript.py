"""The transcript: what the bot showed people, readable in a terminal."""

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from fake_slack import FakeSlack, render_blocks

WASTE_LOGGED = [
    {"type": "header", "text": {"type": "plain_text", "text": "Waste logged"}},
    {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*Waiting* for review\n25 minutes"},
        "fields": [
            {"type": "mrkdwn", "text": "*Team*: Platform"},
            {"type": "mrkdwn", "text": "*Week*: 12"},
        ],
    },
    {"type": "divider"},
    {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "Logged by <@U1>"},
            {"type": "plain_text", "text": "just now"},
        ],
    },
    {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Undo"}, "action_id": "u"},
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open retro"},
                "action_id": "o",
            },
        ],
    },
]


async def test_transcript_renders_a_message_readably(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "kaizen")
    await client.chat_postMessage(channel="C1", text="Waste logged", blocks=WASTE_LOGGED)

    assert slack.transcript() == (
        "#kaizen\n"
        "    == Waste logged ==\n"
        "    *Waiting* for review\n"
        "    25 minutes\n"
        "    *Team*: Platform\n"
        "    *Week*: 12\n"
        "    ----------------------------------------\n"
        "    Logged by <@U1>  just now\n"
        "    [Undo] [Open retro]\n"
    )


async def test_transcript_marks_ephemerals_modals_homes_and_files(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "kaizen")
    await client.chat_postEphemeral(channel="C1", user="U1", text="Only you see this")
    await client.views_open(
        trigger_id="t",
        view={
            "type": "modal",
            "title": {"type": "plain_text", "text": "Log waste"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": [
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "Minutes"},
                    "element": {"type": "number_input", "is_decimal_allowed": False},
                }
            ],
        },
    )
    await client.views_publish(
        user_id="U1",
        view={
            "type": "home",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
        },
    )
    await client.files_upload_v2(channel="C1", content=b"12345", filename="c.png", title="Chart")

    transcript = slack.transcript()

    assert "#kaizen (only visible to U1)\n    Only you see this" in transcript
    assert "[modal: Log waste]\n    Minutes: ____\n    [Save] [Cancel]" in transcript
    assert "[App Home for U1]\n    Hi" in transcript
    assert "#kaizen [file: Chart, 5 bytes]" in transcript


async def test_transcript_for_one_channel_leaves_out_the_others(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "kaizen")
    slack.add_channel("C2", "random")
    await client.chat_postMessage(channel="C1", text="in kaizen")
    await client.chat_postMessage(channel="C2", text="in random")

    assert slack.transcript("#kaizen") == "#kaizen\n    in kaizen\n"
    assert slack.transcript("C2") == "#random\n    in random\n"


async def test_transcript_shows_response_url_replies_and_failures(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "kaizen", is_member=False)
    await AsyncWebhookClient(slack.response_url("cmd-1", channel="C1", user="U1")).send(
        text="Logged 25 min"
    )
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C1", text="hi")

    assert slack.transcript() == (
        "#kaizen (only visible to U1)\n"
        "    Logged 25 min\n"
        "\n"
        "#kaizen: chat.postMessage failed: not_in_channel\n"
    )


def test_render_blocks_draws_inputs_selects_and_choices() -> None:
    blocks = [
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Kind"},
            "element": {
                "type": "static_select",
                "placeholder": {"type": "plain_text", "text": "Choose a waste"},
                "options": [],
            },
        },
        {
            "type": "input",
            "optional": True,
            "label": {"type": "plain_text", "text": "Tags"},
            "element": {
                "type": "checkboxes",
                "options": [
                    {"text": {"type": "plain_text", "text": "Flow"}, "value": "flow"},
                    {"text": {"type": "plain_text", "text": "Quality"}, "value": "quality"},
                ],
                "initial_options": [
                    {"text": {"type": "plain_text", "text": "Flow"}, "value": "flow"}
                ],
            },
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Due"},
            "accessory": {"type": "datepicker", "initial_date": "2024-03-01"},
        },
    ]
    assert render_blocks(blocks) == [
        "Kind: <Choose a waste>",
        "Tags (optional):",
        "  [x] Flow",
        "  [ ] Quality",
        "Due  <2024-03-01>",
    ]
