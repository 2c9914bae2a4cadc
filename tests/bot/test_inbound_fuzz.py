"""Random and mutated requests at ``POST /slack/events``, signed and unsigned.

Unsigned: 401 and not one call to Slack. Signed: never a 500, never a traceback in the log, the
process still healthy and the database consistent afterwards.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from fake_slack import sign
from tests.support.harness import SIGNING_SECRET, TEAM, Harness

RESPONSE_URL = "http://fake-slack.invalid/response/fuzz"
"""Replaced by the fake's own response URL when sent, so that replies reach the fake."""
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def command(text_: str = "waiting 2h for the CI runner", name: str = "/waste") -> dict[str, Any]:
    return {
        "token": "t",
        "team_id": TEAM,
        "channel_id": "C1",
        "user_id": "U1",
        "command": name,
        "text": text_,
        "trigger_id": "1.2.3",
        "response_url": "",
    }


def block_action() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": TEAM},
        "team": {"id": TEAM},
        "channel": {"id": "C1"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C1"},
        "trigger_id": "1.2.3",
        "response_url": RESPONSE_URL,
        "actions": [{"action_id": "waste.undo", "block_id": "b", "value": "1", "type": "button"}],
    }


def view_submission() -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": "U1"},
        "team": {"id": TEAM},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "waste.modal",
            "private_metadata": '{"c":"C1"}',
            "state": {"values": {}},
        },
    }


def event() -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": TEAM,
        "event_id": "Ev1",
        "event": {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "wastebasket",
            "item": {"type": "message", "channel": "C1", "ts": "1.2"},
        },
    }


JUNK: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.just("<!channel>")
    | st.just("\x00")
    | st.just("x" * 5000),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with a few fields replaced by junk, removed, or nested far too deep."""
    value = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        node = value
        path = []
        while isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node)))
            path.append(key)
            if not isinstance(node[key], dict):
                break
            node = node[key]
        if not isinstance(node, dict) or not node:
            continue
        key = draw(st.sampled_from(sorted(node)))
        action = draw(st.sampled_from(["junk", "drop", "deep"]))
        if action == "drop":
            del node[key]
        elif action == "deep":
            node[key] = json.loads("[" * 60 + "]" * 60)
        else:
            node[key] = draw(JUNK)
    return value


def encode(kind: str, body: dict[str, Any] | Any) -> tuple[bytes, str]:
    if kind == "command":
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        return urlencode(fields).encode(), FORM
    if kind == "payload":
        return urlencode({"payload": json.dumps(body)}).encode(), FORM
    return json.dumps(body).encode(), JSON


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, str]:
    """A body and its content type: Slack-shaped and mutated, or plain random bytes."""
    shape = draw(st.sampled_from(["command", "action", "view", "event", "bytes", "text"]))
    if shape == "bytes":
        return draw(st.binary(max_size=300)), draw(st.sampled_from([FORM, JSON, "text/plain"]))
    if shape == "text":
        return draw(st.text(max_size=300)).encode(), draw(st.sampled_from([FORM, JSON]))
    if shape == "command":
        name = draw(st.sampled_from(["/waste", "/wait", "/vsm", "/kaizen", "/flow", "/retro"]))
        base = command(draw(st.text(max_size=60)), name)
        return encode("command", draw(mutated(base)) if draw(st.booleans()) else base)
    base = {"action": block_action, "view": view_submission, "event": event}[shape]()
    body = draw(mutated(base))
    kind = "event" if shape == "event" else "payload"
    body_bytes, content_type = encode(kind, body)
    if draw(st.integers(0, 9)) == 0:  # now and then, the wrong content type
        content_type = FORM if content_type == JSON else JSON
    return body_bytes, content_type


BAD_STAMPS = st.sampled_from(["abc", "", "1.5", "-1", "0", "99999999999999999999", " 1 "])


@st.composite
def unsigned_headers(draw: st.DrawFn, body: bytes) -> dict[str, str]:
    now = int(time.time())
    stamp = draw(BAD_STAMPS | st.just(str(now)) | st.just(str(now - 400)))
    signature = draw(
        st.just(sign(body, secret="wrong", timestamp=now)["X-Slack-Signature"])
        | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=70)
        | st.just("v0=" + "0" * 64)
        # Right for the body, but sent with a stale timestamp.
        | st.just(sign(body, secret=SIGNING_SECRET, timestamp=now - 400)["X-Slack-Signature"])
    )
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
    if stamp == str(now - 400) or draw(st.booleans()):
        headers["X-Slack-Request-Timestamp"] = str(now - 400)
    return {k: v for k, v in headers.items() if draw(st.integers(0, 7)) or k.endswith("x")}


CASES = st.lists(st.tuples(requests(), st.booleans(), st.data()), min_size=160, max_size=160)


@settings(
    max_examples=2,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failing body is printed
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=CASES)
async def test_fuzzed_requests_are_refused_or_answered_never_crash(
    harness: Harness, caplog: pytest.LogCaptureFixture, cases: list[Any]
) -> None:
    caplog.set_level(logging.INFO)
    response_url = harness.fake.response_url("fuzz", channel="C1", user="U1")
    for (body, content_type), signed, data in cases:
        body = body.replace(quote_plus(RESPONSE_URL).encode(), quote_plus(response_url).encode())
        if signed:
            headers = sign(body, secret=SIGNING_SECRET, timestamp=int(time.time()))
        else:
            headers = data.draw(unsigned_headers(body))
        headers = {"Content-Type": content_type, **headers}
        await harness.deps.drain()  # follow-ups of earlier requests must not count
        calls_before = len(harness.fake.calls)
        response = await harness.driver.raw(body, headers)
        if signed:
            assert response.status < 500, (body[:200], response.text[:200])
        else:
            assert response.status == 401, (body[:200], headers)
            assert len(harness.fake.calls) == calls_before
    await harness.deps.drain()
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    shown = [logging.Formatter().formatException(r.exc_info)[-800:] for r in tracebacks[:3]]  # type: ignore[arg-type]
    assert tracebacks == [], "\n".join(shown)
    assert "Traceback" not in caplog.text
    status, _ = await harness.get("/healthz")
    assert status == 200
    healthy = await harness.driver.command("/waste", "help", user="U1", channel="C1")
    assert healthy.status == 200 and "/waste" in healthy.text
    async with harness.deps.db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA integrity_check"))).scalar_one() == "ok"
        assert (await conn.execute(text("PRAGMA foreign_key_check"))).all() == []
