"""The production app over real HTTP: signatures, health, help, and the error handler."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from slack_bolt.async_app import AsyncAck

from bot import ids
from bot.app import build_app, shared_session
from bot.deps import Deps
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from fake_slack import FakeSlack, SlackDriver, sign
from storage.db import Database
from tests.support import harness as harness_support
from tests.support.clock import FrozenClock
from tests.support.harness import SIGNING_SECRET, TEAM, Harness
from tests.support.threads import aiosqlite_workers, wait_for_workers_to_stop

A = ids.ACTION_WASTE_INPUT
MODAL_VALUES = {
    ids.BLOCK_WASTE_CATEGORY: {
        A: {"type": "static_select", "selected_option": {"value": "motion"}}
    },
    ids.BLOCK_WASTE_DESCRIPTION: {A: {"type": "plain_text_input", "value": "context switch"}},
    ids.BLOCK_WASTE_MINUTES: {A: {"type": "plain_text_input", "value": "15m"}},
    ids.BLOCK_WASTE_LINK: {A: {"type": "plain_text_input", "value": None}},
    ids.BLOCK_WASTE_ANONYMOUS: {A: {"type": "checkboxes", "selected_options": []}},
}


async def test_a_signed_command_is_answered_within_three_seconds(harness: Harness) -> None:
    response = await harness.driver.command("/retro", "help", user="U1", channel="C1")
    assert response.status == 200
    assert response.elapsed < 3
    assert "/retro help" in str(response.json["blocks"])
    assert response.json["response_type"] == "ephemeral"


async def test_a_bad_signature_is_refused(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "help", user="U1", channel="C1", signature="v0=" + "0" * 64
    )
    assert response.status == 401
    assert harness.fake.calls_to("chat.postEphemeral") == []


async def test_a_stale_signature_is_refused(harness: Harness) -> None:
    response = await harness.driver.command(
        "/waste", "help", user="U1", channel="C1", timestamp_offset=-301
    )
    assert response.status == 401


async def test_an_unsigned_body_is_refused(harness: Harness) -> None:
    body = b"command=%2Fwaste&text=help&team_id=T0001&user_id=U1&channel_id=C1"
    headers = sign(body, secret="not-the-secret", timestamp=0)
    response = await harness.driver.raw(body, headers)
    assert response.status == 401


async def test_an_unknown_subcommand_answers_the_help(harness: Harness) -> None:
    response = await harness.driver.command("/flow", "sideways", user="U1", channel="C1")
    assert response.status == 200
    text = str(response.json["blocks"])
    assert "I don't know `/flow sideways`" in text
    assert "/flow help" in text


async def test_healthz_is_ok_while_the_database_answers(harness: Harness) -> None:
    status, body = await harness.get("/healthz")
    assert (status, "writable" in body) == (200, True)


async def test_healthz_is_unavailable_without_the_database(harness: Harness) -> None:
    workers = aiosqlite_workers()
    broken = Database("sqlite+aiosqlite:////nonexistent/dir/kaizen.db")
    original, harness.deps.db = harness.deps.db, broken
    try:
        status, body = await harness.get("/healthz")
    finally:
        harness.deps.db = original
        await broken.dispose()
        # The failed connection's thread answers the loop as it stops: let it, before the loop
        # closes, or the error lands in a later test.
        await wait_for_workers_to_stop(workers)
    assert (status, "unreachable" in body) == (503, True)


async def test_an_unexpected_error_gets_an_apology_with_an_id_that_is_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.app import build_app

    app = build_app(harness.deps)

    @app.command("/boom")
    async def explode(ack: AsyncAck) -> None:
        raise RuntimeError("kaboom")

    from bot.server import bound_port, build_web_app, start_site

    runner = await start_site(build_web_app(app, harness.deps), host="127.0.0.1", port=0)
    try:
        driver = harness.driver_for("T0001")
        driver.events_url = f"http://127.0.0.1:{bound_port(runner)}/slack/events"
        with caplog.at_level(logging.ERROR):
            response = await driver.command("/boom", "", user="U1", channel="C1")
    finally:
        await runner.cleanup()
    assert response.status == 200
    text = response.json["text"]
    assert "Sorry" in text
    error_id = text.split("`")[1]
    logged = [r for r in caplog.records if r.getMessage() == "listener.failed"]
    assert [getattr(r, "error_id", None) for r in logged] == [error_id]
    assert "kaboom" not in text


async def test_rate_limited_and_failing_api_calls_are_retried(harness: Harness) -> None:
    harness.fake.rate_limit_next("views.open", retry_after=0)
    harness.fake.server_error_next("views.open", status=503)
    response = await harness.driver.command("/waste", "", user="U1", channel="C1")
    assert response.status == 200
    opened = [c.status for c in harness.fake.calls_to("views.open")]
    assert opened == [429, 503, 200]


async def test_concurrent_first_requests_ask_slack_who_the_bot_is_once(harness: Harness) -> None:
    replies = await asyncio.gather(
        *(
            harness.driver.command(
                "/waste", f"waiting {n + 1}h for review", user="U1", channel="C1"
            )
            for n in range(8)
        )
    )
    assert all("Logged" in json.dumps(r.json) for r in replies)
    assert len(harness.fake.calls_to("auth.test")) == 1


async def test_listeners_share_one_http_session_that_closes_with_the_server(
    db: Database, clock: FrozenClock
) -> None:
    async with FakeSlack() as fake:
        deps = Deps(
            settings=harness_support.test_settings(fake.api_url, db.url), db=db, clock=clock
        )
        app = build_app(deps)
        runner = await start_site(build_web_app(app, deps), host="127.0.0.1", port=0)
        url = f"http://127.0.0.1:{bound_port(runner)}{EVENTS_PATH}"
        try:
            async with SlackDriver(
                url, signing_secret=SIGNING_SECRET, team_id=TEAM, fake=fake
            ) as driver:
                meta = json.dumps({"c": "C1"})
                await driver.view_submission(
                    ids.VIEW_WASTE, MODAL_VALUES, user="U1", private_metadata=meta
                )
                await driver.command("/waste", "waiting 1h for review", user="U1", channel="C2")
                await fake.wait_for("chat.postEphemeral")
            holder = shared_session(app)
            assert holder is not None and holder.opened is not None
            session = holder.opened
            assert not session.closed
        finally:
            await runner.cleanup()
            deps.cpu.shutdown(wait=True)
        assert session.closed
        assert shared_session(app) is None


async def test_listeners_match_on_the_body_as_bolts_own_matchers_do(
    db: Database, clock: FrozenClock
) -> None:
    """Bolt's matchers are called with the body alone; each answers as Bolt's call of it would,
    and one listener at most matches a request, so every request still reaches the listener it
    did whichever order they are tried in."""
    from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_bolt.response import BoltResponse

    deps = Deps(settings=harness_support.test_settings("http://127.0.0.1:9/api/", db.url), db=db)
    app = build_app(deps)
    bodies = [
        {"command": ids.CMD_WASTE, "text": "waiting 1h", "team_id": TEAM},
        {"command": ids.CMD_KAIZEN, "text": "", "team_id": TEAM},
        {"type": "event_callback", "team_id": TEAM, "event": {"type": "reaction_added"}},
        {"type": "event_callback", "team_id": TEAM, "event": {"type": "app_home_opened"}},
        {
            "type": "view_submission",
            "team": {"id": TEAM},
            "view": {"type": "modal", "callback_id": ids.VIEW_WASTE},
        },
        {"type": "block_actions", "team": {"id": TEAM}, "actions": [{"action_id": "x.1"}]},
        {
            "type": "block_actions",
            "team": {"id": TEAM},
            "actions": [{"action_id": f"{ids.ACTION_WASTE_PICK_CATEGORY}.motion"}],
        },
        {"type": "message_action", "team": {"id": TEAM}, "callback_id": ids.SHORTCUT_LOG_WASTE},
    ]
    served: list[str] = []
    try:
        for body in bodies:
            request = AsyncBoltRequest(body=body, mode="socket_mode")
            request.context["client"] = app.client
            response = BoltResponse(status=404)
            matching = []
            for listener in app._async_listeners:
                bolts = [AsyncBuiltinListenerMatcher(func=m.func) for m in listener.matchers]
                ours = [await m.async_matches(request, response) for m in listener.matchers]
                theirs = [await m.async_matches(request, response) for m in bolts]
                assert ours == theirs
                if all(ours):
                    matching.append(listener.ack_function.__name__)
            # One listener at most: the order they are tried in changes no request's listener.
            assert len(matching) <= 1, matching
            served.append(str(matching[0] if matching else None))
        assert all(
            type(m).__name__ == "_BodyMatcher" for li in app._async_listeners for m in li.matchers
        )
    finally:
        deps.cpu.shutdown(wait=True)
    # The requests Slack sends most are matched first (``handlers.register_all``).
    first = [listener.ack_function.__name__ for listener in app._async_listeners[:3]]
    assert first == ["reaction_added", "waste_command", "submit_waste"]
    assert served == [
        "waste_command",
        "kaizen_command",
        "reaction_added",
        "home_opened",
        "submit_waste",
        "None",
        "pick_category",
        "open_waste_modal_for_message",
    ]
