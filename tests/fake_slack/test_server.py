"""The fake Slack Web API, driven by slack_sdk's real AsyncWebClient."""

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from fake_slack import FakeSlack

HEADER = {"type": "header", "text": {"type": "plain_text", "text": "Waste logged"}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(label: str, action_id: str, value: str = "v") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }


def modal(title: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "waste.log",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": blocks or [],
    }


async def test_api_url_ends_in_api_and_points_at_localhost(slack: FakeSlack) -> None:
    assert slack.api_url.startswith("http://127.0.0.1:")
    assert slack.api_url.endswith("/api/")


async def test_auth_test_answers_the_configured_bot() -> None:
    async with FakeSlack(team_id="T9", bot_user_id="U9BOT", bot_id="B9") as slack:
        client = AsyncWebClient(token="xoxb-x", base_url=slack.api_url)
        response = await client.auth_test()
    assert response["team_id"] == "T9"
    assert response["user_id"] == "U9BOT"
    assert response["bot_id"] == "B9"
    assert response["url"].startswith("https://")


@pytest.mark.parametrize(("token", "error"), [(None, "not_authed"), ("xoxp-user", "invalid_auth")])
async def test_calls_without_a_bot_token_are_refused(
    slack: FakeSlack, token: str | None, error: str
) -> None:
    client = AsyncWebClient(token=token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response["error"] == error
    assert slack.calls_to("chat.postMessage")[0].error == error


async def test_post_message_is_recorded_with_decoded_blocks(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [HEADER, section("*Waiting*: 25 min")]
    response = await client.chat_postMessage(channel="C1", text="Waste logged", blocks=blocks)

    call = slack.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks
    assert call.args["text"] == "Waste logged"
    assert call.headers["Authorization"] == "Bearer xoxb-test"
    assert response["channel"] == "C1"
    assert response["message"]["text"] == "Waste logged"


async def test_form_encoded_json_fields_are_decoded(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    # api_call with data= sends a form body, where Slack expects blocks as a JSON string.
    await client.api_call(
        "chat.postMessage", data={"channel": "C1", "blocks": '[{"type": "divider"}]'}
    )
    assert slack.calls_to("chat.postMessage")[0].args["blocks"] == [{"type": "divider"}]


async def test_message_timestamps_are_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [(await client.chat_postMessage(channel="C1", text=str(i)))["ts"] for i in range(3)]
    assert stamps[0] == "1700000000.000100"
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 3


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_post_message_without_text_or_blocks_is_no_text(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1")
    assert raised.value.response["error"] == "no_text"


async def test_message_with_51_blocks_is_invalid_blocks(client: AsyncWebClient) -> None:
    blocks = [section(f"line {i}") for i in range(51)]
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="t", blocks=blocks)
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"] == [
        "no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert raised.value.response["response_metadata"]["messages"][0].startswith("[ERROR]")


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        (section("x" * 3001), "/blocks/0/text/text"),
        (
            {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
            "/blocks/0/text/text",
        ),
        (
            {"type": "actions", "elements": [button("x" * 76, "a")]},
            "/blocks/0/elements/0/text/text",
        ),
        (
            {"type": "actions", "elements": [button("Go", "a", "v" * 2001)]},
            "/blocks/0/elements/0/value",
        ),
        (
            {"type": "actions", "elements": [button("Go", "a" * 256)]},
            "/blocks/0/elements/0/action_id",
        ),
        ({**section("ok"), "block_id": "b" * 256}, "/blocks/0/block_id"),
    ],
)
async def test_block_kit_limits_are_enforced(
    client: AsyncWebClient, block: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="t", blocks=[block])
    assert raised.value.response["error"] == "invalid_blocks"
    assert any(pointer in error for error in raised.value.response["errors"])


async def test_duplicate_block_ids_in_one_message_are_invalid(client: AsyncWebClient) -> None:
    blocks = [{**section("a"), "block_id": "same"}, {**section("b"), "block_id": "same"}]
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="t", blocks=blocks)
    assert "duplicate block_id [json-pointer:/blocks/1/block_id]" in raised.value.response["errors"]


async def test_message_text_over_40000_characters_is_too_long(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert raised.value.response["error"] == "msg_too_long"


async def test_modal_title_of_25_characters_is_refused(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="t", view=modal("x" * 25))
    assert raised.value.response["error"] == "invalid_arguments"
    assert raised.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert slack.views == []


async def test_static_select_with_101_options_is_refused(client: AsyncWebClient) -> None:
    options = [
        {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(101)
    ]
    select = {"type": "static_select", "action_id": "pick", "options": options}
    view = modal(
        "Pick", [{"type": "input", "label": {"type": "plain_text", "text": "P"}, "element": select}]
    )
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="t", view=view)
    messages = raised.value.response["response_metadata"]["messages"]
    assert messages == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks/0/element/options]"
    ]


async def test_views_open_returns_the_view_with_an_id(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    response = await client.views_open(trigger_id="t", view=modal("Log waste"))
    view = response["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "waste.log"
    assert view["title"]["text"] == "Log waste"
    assert slack.last_view()["id"] == view["id"]


async def test_views_open_with_an_expired_trigger_is_refused() -> None:
    async with FakeSlack(trigger_ttl=0.0) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        trigger_id = slack.new_trigger_id("U1")
        with pytest.raises(SlackApiError) as raised:
            await client.views_open(trigger_id=trigger_id, view=modal("Log waste"))
    assert raised.value.response["error"] == "expired_trigger_id"


async def test_views_publish_keeps_the_home_per_user(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    home = {"type": "home", "blocks": [section("Your week")]}
    first = await client.views_publish(user_id="U1", view=home)
    second = await client.views_publish(user_id="U1", view=home)
    assert first["view"]["id"] == second["view"]["id"]
    stored = slack.home("U1")
    assert stored is not None
    assert stored["blocks"][0]["text"]["text"] == "Your week"


async def test_users_info_answers_registered_users_only(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_user("U1", "ana", real_name="Ana Lima", tz="America/Sao_Paulo", tz_offset=-10800)
    user = (await client.users_info(user="U1"))["user"]
    assert (user["id"], user["name"], user["real_name"]) == ("U1", "ana", "Ana Lima")
    assert (user["tz"], user["tz_offset"], user["is_bot"]) == ("America/Sao_Paulo", -10800, False)

    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U404")
    assert raised.value.response["error"] == "user_not_found"


async def test_conversations_info_hides_private_channels_the_bot_is_not_in(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "kaizen")
    slack.add_channel("G1", "secret", is_private=True, is_member=False)
    channel = (await client.conversations_info(channel="C1"))["channel"]
    assert (channel["id"], channel["name"], channel["is_private"], channel["is_member"]) == (
        "C1",
        "kaizen",
        False,
        True,
    )
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_info(channel="G1")
    assert raised.value.response["error"] == "channel_not_found"
    # A channel the fake was never told about is a public one with the bot in it.
    assert (await client.conversations_info(channel="C404"))["channel"]["is_member"] is True


async def test_posting_where_the_bot_is_not_a_member_fails_like_slack(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "public", is_member=False)
    slack.add_channel("G1", "secret", is_private=True, is_member=False)
    with pytest.raises(SlackApiError) as public:
        await client.chat_postMessage(channel="C1", text="hi")
    with pytest.raises(SlackApiError) as private:
        await client.chat_postMessage(channel="G1", text="hi")
    assert public.value.response["error"] == "not_in_channel"
    assert private.value.response["error"] == "channel_not_found"

    slack.set_member("C1")
    await client.chat_postMessage(channel="C1", text="hi")


async def test_history_includes_seeded_messages_with_their_thread_counts(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_message("C1", "1600000000.000100", "we wait for reviews", "U1")
    posted = await client.chat_postMessage(
        channel="C1", text="noted", thread_ts="1600000000.000100"
    )

    history = await client.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["we wait for reviews"]
    assert history["messages"][0]["reply_count"] == 1
    assert history["messages"][0]["latest_reply"] == posted["ts"]


async def test_update_changes_the_stored_message(slack: FakeSlack, client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel="C1", text="draft"))["ts"]
    await client.chat_update(channel="C1", ts=ts, text="final")
    assert [m["text"] for m in slack.messages("C1")] == ["final"]


async def test_reactions_are_stored_on_the_message(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    ts = (await client.chat_postMessage(channel="C1", text="vote"))["ts"]
    await client.reactions_add(channel="C1", name="thumbsup", timestamp=ts)
    with pytest.raises(SlackApiError) as raised:
        await client.reactions_add(channel="C1", name="thumbsup", timestamp=ts)
    assert raised.value.response["error"] == "already_reacted"

    message = slack.message("C1", ts)
    assert message is not None
    assert message["reactions"] == [{"name": "thumbsup", "users": ["UBOT"], "count": 1}]


async def test_permalink_is_built_from_channel_and_ts(client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel="C1", text="x"))["ts"]
    response = await client.chat_getPermalink(channel="C1", message_ts=ts)
    assert response["permalink"] == "https://fake.slack.com/archives/C1/p1700000000000100"


async def test_files_upload_v2_takes_three_calls_and_keeps_the_bytes(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    response = await client.files_upload_v2(
        channel="C1",
        content=png,
        filename="lead-time.png",
        title="Lead time",
        initial_comment="This week",
        thread_ts="1700000000.000100",
    )

    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    assert "Authorization" not in slack.calls[1].headers
    (stored,) = slack.files
    assert stored.content == png
    assert stored.title == "Lead time"
    assert (stored.channel_id, stored.initial_comment) == ("C1", "This week")
    assert stored.thread_ts == "1700000000.000100"
    assert response["file"]["id"] == stored.id


async def test_fail_next_answers_the_error_once(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response["error"] == "channel_not_found"
    await client.chat_postMessage(channel="C1", text="hi")


async def test_rate_limit_answers_429_with_retry_after(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.rate_limit_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


async def test_rate_limited_call_succeeds_with_slack_sdks_retry_handler(slack: FakeSlack) -> None:
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    # Retry-After 0: the handler still sleeps a random fraction of a second.
    slack.rate_limit_next("chat.postMessage", retry_after=0)
    response = await client.chat_postMessage(channel="C1", text="hi")
    assert response["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]


async def test_server_error_answers_the_status(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.server_error_next("views.publish", status=503)
    with pytest.raises(SlackApiError) as raised:
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    assert raised.value.response.status_code == 503


async def test_unknown_methods_answer_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("chat.teleport")
    assert raised.value.response["error"] == "unknown_method"


async def test_response_url_posts_are_recorded(slack: FakeSlack) -> None:
    ts = slack.next_ts()
    slack.add_message("C1", ts, "original", "UBOT")
    url = slack.response_url("cmd-1", channel="C1", user="U1", message_ts=ts)
    webhook = AsyncWebhookClient(url)

    response = await webhook.send(text="Done", replace_original=True)

    assert response.status_code == 200
    assert response.body == '{"ok": true}'
    call = await slack.wait_for("response_url")
    assert call.args == {"text": "Done", "replace_original": True}
    assert slack.message("C1", ts)["text"] == "Done"  # type: ignore[index]


async def test_response_url_validates_blocks(slack: FakeSlack) -> None:
    webhook = AsyncWebhookClient(slack.response_url("a-1"))
    response = await webhook.send(text="t", blocks=[section("x" * 3001)])
    assert response.status_code == 400
    assert slack.calls_to("response_url")[0].error == "invalid_blocks"


async def test_wait_for_returns_a_matching_call_and_times_out_otherwise(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    call = await slack.wait_for("chat.postEphemeral", lambda c: c.args["user"] == "U1")
    assert call.args["text"] == "only you"
    with pytest.raises(TimeoutError):
        await slack.wait_for("chat.postEphemeral", lambda c: c.args["user"] == "U2", timeout=0.05)


async def test_reset_forgets_calls_but_keeps_the_workspace(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C1", text="kept")
    slack.fail_next("chat.postMessage")
    slack.reset()
    assert slack.calls == []
    await client.chat_postMessage(channel="C1", text="second")
    assert [m["text"] for m in slack.messages("C1")] == ["kept", "second"]


async def test_ephemeral_to_someone_outside_the_channel_is_refused(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "kaizen", members=["U1"])
    response = await client.chat_postEphemeral(channel="C1", user="U1", text="hi")
    assert response["message_ts"]
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postEphemeral(channel="C1", user="U2", text="hi")
    assert raised.value.response["error"] == "user_not_in_channel"


async def test_users_conversations_lists_a_persons_channels_the_bot_may_see(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_channel("C1", "kaizen", members=["U1", "U2"])
    slack.add_channel("C2", "elsewhere", members=["U2"])
    slack.add_channel("G1", "secret", is_private=True, members=["U1"])
    slack.add_channel("G2", "hidden", is_private=True, is_member=False, members=["U1"])
    types = "public_channel,private_channel"
    response = await client.users_conversations(user="U1", types=types, limit=1)
    rest = await client.users_conversations(
        user="U1", types=types, cursor=response["response_metadata"]["next_cursor"]
    )
    assert [c["id"] for c in response["channels"] + rest["channels"]] == ["C1", "G1"]


async def test_a_user_id_as_channel_posts_to_their_dm(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_user("U1", "ana")
    response = await client.chat_postMessage(channel="U1", text="Your weekly digest")
    dm = response["channel"]
    assert dm.startswith("D")
    assert [m["text"] for m in slack.messages(dm)] == ["Your weekly digest"]
    assert slack.transcript() == "DM with ana\n    Your weekly digest\n"


async def test_the_bot_cannot_edit_someone_elses_message(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_message("C1", "1600000000.000100", "mine", "U1")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C1", ts="1600000000.000100", text="edited")
    assert raised.value.response["error"] == "cant_update_message"


async def test_history_pages_newest_first(slack: FakeSlack, client: AsyncWebClient) -> None:
    for i in range(3):
        await client.chat_postMessage(channel="C1", text=f"m{i}")
    first = await client.conversations_history(channel="C1", limit=2)
    assert [m["text"] for m in first["messages"]] == ["m2", "m1"]
    assert first["has_more"] is True
    rest = await client.conversations_history(
        channel="C1", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m0"]


async def test_a_response_url_works_five_times(slack: FakeSlack) -> None:
    webhook = AsyncWebhookClient(slack.response_url("cmd-1"))
    statuses = [(await webhook.send(text="again")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [404]


async def test_a_held_call_is_answered_after_later_ones_once_released(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    import asyncio

    first = await client.chat_postMessage(channel="C1", text="v0")
    hold = slack.hold_next("chat.update")
    held = asyncio.ensure_future(client.chat_update(channel="C1", ts=first["ts"], text="v1"))
    await asyncio.wait_for(hold.arrived.wait(), 5)
    await client.chat_update(channel="C1", ts=first["ts"], text="v2")
    assert not held.done()
    assert slack.message("C1", first["ts"])["text"] == "v2"  # type: ignore[index]
    hold.release()
    await held
    assert slack.message("C1", first["ts"])["text"] == "v1"  # type: ignore[index]
    assert [c.args["text"] for c in slack.calls_to("chat.update")] == ["v2", "v1"]
