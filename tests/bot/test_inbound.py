"""The HTTP edge: nothing unverified is read, logged or acted on; malformed requests are refused.

Every test drives the production app over HTTP with the fake Slack, and checks what an attacker
(or a broken sender) would get: the status, the calls the fake recorded, the log, the database.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import build_app
from bot.inbound import MAX_DEPTH, MalformedRequest, read_envelope, read_form
from fake_slack import sign
from tests.support.harness import SIGNING_SECRET, TEAM, Harness
from tests.support.inbound import row_counts

MARKER = "zzmarkerzz"


def command_body(**overrides: str) -> bytes:
    fields = {
        "team_id": TEAM,
        "channel_id": "C1",
        "user_id": "U1",
        "command": "/waste",
        "text": f"waiting 2h for {MARKER}",
        "trigger_id": "1.2.3",
        "response_url": "http://127.0.0.1:1/response/x",
    }
    return urlencode(fields | overrides).encode()


def headers_with(timestamp: str | None, signature: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    return headers


def signed(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    return {
        "Content-Type": content_type,
        **sign(body, secret=SIGNING_SECRET, timestamp=int(time.time())),
    }


BAD_HEADERS = {
    "timestamp abc": ("abc", "v0=" + "0" * 64),
    "timestamp empty": ("", "v0=" + "0" * 64),
    "timestamp 1.5": ("1.5", "v0=" + "0" * 64),
    "timestamp negative": ("-1", "v0=" + "0" * 64),
    "timestamp huge": ("9" * 40, "v0=" + "0" * 64),
    "no timestamp": (None, "v0=" + "0" * 64),
    "no signature": ("NOW", None),
    "empty signature": ("NOW", ""),
    "signature not hex": ("NOW", "v0=" + "z" * 64),
    "signature non-ascii": ("NOW", "v0=" + "é" * 64),
    "wrong signature": ("NOW", "v0=" + "0" * 64),
    "stale but well signed": ("STALE", "SIGNED"),
    "future but well signed": ("FUTURE", "SIGNED"),
}


@pytest.mark.parametrize("case", list(BAD_HEADERS))
async def test_an_unverified_command_gets_401_and_the_bot_does_nothing(
    harness: Harness, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    timestamp, signature = BAD_HEADERS[case]
    now = int(time.time())
    stamp = {"NOW": str(now), "STALE": str(now - 301), "FUTURE": str(now + 400)}
    timestamp = stamp.get(timestamp or "", timestamp)
    body = command_body(response_url=harness.fake.response_url("cmd", channel="C1", user="U1"))
    if signature == "SIGNED":
        signature = sign(body, secret=SIGNING_SECRET, timestamp=int(timestamp or 0))[
            "X-Slack-Signature"
        ]
    before = await row_counts(harness.deps.db)
    with caplog.at_level(logging.DEBUG):
        response = await harness.driver.raw(body, headers_with(timestamp, signature))
    assert response.status == 401
    assert harness.fake.calls == []
    assert await row_counts(harness.deps.db) == before
    assert MARKER not in caplog.text
    assert [r.getMessage() for r in caplog.records if r.name.startswith("bot")] == [
        "request.unverified"
    ]


UNSIGNED_BODIES = {
    "bad json in payload": (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    "payload is a list": (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    "payload is a number": (b"payload=42", "application/x-www-form-urlencoded"),
    "json list": (b"[1, 2, 3]", "application/json"),
    "json number": (b"7", "application/json"),
    "not utf-8": (b"\xff\xfe\xfa" + MARKER.encode(), "application/x-www-form-urlencoded"),
    "deep nesting": (b"[" * 5000 + b"]" * 5000, "application/json"),
    "form sent as json": (command_body(), "application/json"),
    "empty": (b"", "application/json"),
    "event with a response url": (
        json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "event": {"type": "reaction_added", "user": "U1", "reaction": MARKER},
                "response_url": "http://127.0.0.1:1/hook",
            }
        ).encode(),
        "application/json",
    ),
}


@pytest.mark.parametrize("case", list(UNSIGNED_BODIES))
async def test_an_unsigned_malformed_body_gets_401_not_a_crash(
    harness: Harness, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = UNSIGNED_BODIES[case]
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": "abc"}
    headers["X-Slack-Signature"] = "v0=" + "1" * 64
    with caplog.at_level(logging.DEBUG):
        response = await harness.driver.raw(body, headers)
    assert response.status == 401
    assert harness.fake.calls == []
    assert MARKER not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)


async def test_a_large_badly_signed_body_is_logged_as_one_short_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    body = command_body(text=MARKER * 50_000)
    with caplog.at_level(logging.DEBUG):
        response = await harness.driver.raw(
            body, headers_with(str(int(time.time())), "v0=" + "0" * 64)
        )
    assert response.status == 401
    assert len(caplog.text) < 1000


@pytest.mark.parametrize(
    "headers",
    [{"x-slack-request-timestamp": "abc", "x-slack-signature": "v0=" + "0" * 64}, None],
    ids=["badly signed", "well signed"],
)
async def test_bolt_runs_nothing_for_a_request_that_did_not_come_through_the_edge(
    harness: Harness, caplog: pytest.LogCaptureFixture, headers: dict[str, str] | None
) -> None:
    """Only the edge checks signatures; a request handed to Bolt past it, even one whose
    signature is good, is refused before authorisation, a listener or the error handler (which
    once apologised to the response URL in such a body) sees it."""
    app = build_app(harness.deps)
    body = command_body(response_url=harness.fake.response_url("cmd", channel="C1", user="U1"))
    sent = {k.lower(): v for k, v in signed(body).items()} if headers is None else headers
    request = AsyncBoltRequest(
        body=body.decode(), headers={"content-type": "application/x-www-form-urlencoded"} | sent
    )
    before = await row_counts(harness.deps.db)
    with caplog.at_level(logging.DEBUG):
        response = await app.async_dispatch(request)
    assert response.status == 401
    assert harness.fake.calls == []
    assert await row_counts(harness.deps.db) == before
    assert MARKER not in caplog.text
    assert "request.unverified" in caplog.text


def payload_body(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def nested_payload(depth: int) -> bytes:
    text = '{"a":' * depth + '{"type": "block_actions"}' + "}" * depth
    return urlencode({"payload": text}).encode()


USER = {"id": "U1", "team_id": TEAM}
TEAM_JSON = {"id": TEAM, "domain": "fake"}

SIGNED_MALFORMED = {
    "payload invalid json": (b"payload=%7Bnot+json", None),
    "payload a list": (payload_body([1, 2]), None),
    "payload null": (payload_body(None), None),
    "payload a string": (payload_body("block_actions"), None),
    "payload without type": (payload_body({"user": USER}), None),
    "payload of an unknown type": (payload_body({"type": "nope", "user": USER}), None),
    "actions empty": (
        payload_body({"type": "block_actions", "user": USER, "team": TEAM_JSON, "actions": []}),
        None,
    ),
    "actions not a list": (
        payload_body({"type": "block_actions", "user": USER, "team": TEAM_JSON, "actions": 3}),
        None,
    ),
    "action without id": (
        payload_body(
            {"type": "block_actions", "user": USER, "team": TEAM_JSON, "actions": [{"value": "1"}]}
        ),
        None,
    ),
    "user a string": (
        payload_body({"type": "block_actions", "user": "U1", "actions": [{"action_id": "x"}]}),
        None,
    ),
    "view without type": (
        payload_body(
            {
                "type": "view_submission",
                "user": USER,
                "team": TEAM_JSON,
                "view": {"callback_id": "waste.modal", "state": {"values": {}}},
            }
        ),
        None,
    ),
    "view null": (
        payload_body({"type": "view_submission", "user": USER, "team": TEAM_JSON, "view": None}),
        None,
    ),
    "view state values a list": (
        payload_body(
            {
                "type": "view_submission",
                "user": USER,
                "team": TEAM_JSON,
                "view": {"type": "modal", "callback_id": "waste.modal", "state": {"values": []}},
            }
        ),
        None,
    ),
    "shortcut without callback": (
        payload_body({"type": "message_action", "user": USER, "team": TEAM_JSON}),
        None,
    ),
    "event envelope without event": (
        json.dumps({"type": "event_callback", "team_id": TEAM}).encode(),
        "application/json",
    ),
    "event null": (
        json.dumps({"type": "event_callback", "team_id": TEAM, "event": None}).encode(),
        "application/json",
    ),
    "event without type": (
        json.dumps({"type": "event_callback", "team_id": TEAM, "event": {"user": "U1"}}).encode(),
        "application/json",
    ),
    "event item a string": (
        json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "event": {"type": "reaction_added", "user": "U1", "item": "x", "reaction": "a"},
            }
        ).encode(),
        "application/json",
    ),
    "json list": (b"[]", "application/json"),
    "json null": (b"null", "application/json"),
    "json nested 1000 deep": (b"[" * 1000 + b"]" * 1000, "application/json"),
    "payload nested 1200 deep": (nested_payload(1200), None),
    "not utf-8": (b"command=%2Fwaste&text=\xff\xfe", None),
    "form sent as json": (command_body(), "application/json"),
    "empty body": (b"", None),
    "command without user": (command_body(user_id=""), None),
    "command with a 200-character team": (command_body(team_id="T" * 200), None),
    "command with an empty channel": (command_body(channel_id=""), None),
    "command with a lower-case user": (command_body(user_id="u1; drop"), None),
    "event with a 200-character user": (
        json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "event": {"type": "app_home_opened", "user": "U" * 200, "tab": "home"},
            }
        ).encode(),
        "application/json",
    ),
}


@pytest.mark.parametrize("case", list(SIGNED_MALFORMED))
async def test_a_signed_malformed_request_is_refused_with_a_line_not_a_traceback(
    harness: Harness, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = SIGNED_MALFORMED[case]
    before = await row_counts(harness.deps.db)
    with caplog.at_level(logging.INFO):
        response = await harness.driver.raw(
            body, signed(body, content_type or "application/x-www-form-urlencoded")
        )
    assert response.status in (200, 400), response.text
    assert all(r.exc_info is None for r in caplog.records), caplog.text
    assert "Traceback" not in caplog.text + response.text
    assert any(r.getMessage() == "request.malformed" for r in caplog.records)
    assert await row_counts(harness.deps.db) == before
    assert [c for c in harness.fake.calls if c.method != "auth.test"] == []


async def test_a_signed_command_still_works_after_the_edge(harness: Harness) -> None:
    response = await harness.driver.command("/waste", "help", user="U1", channel="C1")
    assert response.status == 200
    assert "/waste" in str(response.json)


_FORM_TEXT = st.lists(
    st.sampled_from([*"ab=&+%;#?/ é’\n", "%2", "%25", "%3D", "%26", "%e2%80%99", "%FF"]),
    max_size=30,
).map("".join)


@given(text_=_FORM_TEXT | st.text(max_size=40))
def test_a_form_reads_as_parse_qsl_reads_it(text_: str) -> None:
    assert read_form(text_) == dict(parse_qsl(text_, keep_blank_values=True))


def test_a_modal_submission_form_reads_back_its_payload() -> None:
    payload = {"type": "view_submission", "view": {"state": {"values": {"b": "’é & = + %"}}}}
    body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
    assert json.loads(read_form(body)["payload"]) == payload


def _nested(depth: int) -> bytes:
    """An event nested ``depth`` levels deep in all (the event itself is the second level)."""
    inner = '{"a":' * (depth - 2) + '"x"' + "}" * (depth - 2)
    event = '{"type": "reaction_added", "user": "U1", "a": ' + inner + "}"
    envelope = '{"type": "event_callback", "team_id": "' + TEAM + '", "event": ' + event + "}"
    return envelope.encode()


def test_nesting_is_refused_only_past_the_limit() -> None:
    assert read_envelope(_nested(MAX_DEPTH), "application/json").kind == "event:reaction_added"
    for depth in (MAX_DEPTH + 1, 500, 5000):
        with pytest.raises(MalformedRequest) as refused:
            read_envelope(_nested(depth), "application/json")
        assert refused.value.reason == "too_deep"
    with pytest.raises(MalformedRequest) as refused:
        read_envelope(b"[" * 5000 + b"]" * 5000, "application/json")
    assert refused.value.reason == "too_deep"
