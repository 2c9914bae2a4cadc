"""Slack calls made before the reply: when Slack is slow the user hears so, in time.

Slack shows its own timeout after three seconds and drops whatever comes later, so a slow
``views.open`` or ``auth.test`` must end in a clear message inside the reply, not a late one.
"""

from __future__ import annotations

from bot import ids
from bot.app import NOT_INSTALLED
from tests.support.harness import Harness

SLOW = "Slack is slow right now"


async def test_a_rate_limited_modal_answers_that_slack_is_slow_instead_of_waiting(
    deadline_harness: Harness,
) -> None:
    deadline_harness.fake.rate_limit_next("views.open", retry_after=3)
    response = await deadline_harness.driver.command("/waste", "", user="U1", channel="C1")
    assert response.status == 200
    assert SLOW in response.json["text"]
    # Waiting out Retry-After: 3 would have missed Slack's deadline, so it was not retried.
    assert [c.status for c in deadline_harness.fake.calls_to("views.open")] == [429]


async def test_a_hanging_modal_answers_that_slack_is_slow(deadline_harness: Harness) -> None:
    hold = deadline_harness.fake.hold_next("views.open")
    try:
        response = await deadline_harness.driver.command("/wait", "", user="U1", channel="C1")
    finally:
        hold.release()
    assert response.status == 200
    assert SLOW in response.json["text"]
    assert hold.arrived.is_set()


async def test_a_short_rate_limit_is_still_waited_out(deadline_harness: Harness) -> None:
    deadline_harness.fake.rate_limit_next("views.open", retry_after=0)
    response = await deadline_harness.driver.command("/waste", "", user="U1", channel="C1")
    assert response.status == 200
    assert response.text == ""
    assert [c.status for c in deadline_harness.fake.calls_to("views.open")] == [429, 200]


async def test_a_shortcut_whose_modal_hangs_tells_the_user_after_the_reply(
    deadline_harness: Harness,
) -> None:
    hold = deadline_harness.fake.hold_next("views.open")
    try:
        response = await deadline_harness.driver.message_shortcut(
            ids.SHORTCUT_LOG_WASTE,
            user="U1",
            channel="C1",
            message_ts="1700000000.000100",
            message_text="the build is red again",
        )
    finally:
        hold.release()
    assert response.status == 200
    told = await deadline_harness.fake.wait_for(
        "response_url", lambda c: SLOW in str(c.args.get("text"))
    )
    assert told.ok


async def test_slack_failing_at_the_first_request_is_not_reported_as_an_uninstall(
    deadline_harness: Harness,
) -> None:
    deadline_harness.fake.server_error_next("auth.test", status=500, times=3)
    response = await deadline_harness.driver.command(
        "/waste", "waiting 2h for CI", user="U1", channel="C1"
    )
    assert response.status == 200
    text = response.text
    assert SLOW in text
    assert "not installed" not in text and "nothing was stored" not in text
    # The failure was not remembered: once Slack answers, the same command works.
    again = await deadline_harness.driver.command(
        "/waste", "waiting 2h for CI", user="U1", channel="C1"
    )
    assert "Waiting" in str(again.json)


async def test_a_revoked_token_is_still_reported_as_not_installed(
    deadline_harness: Harness,
) -> None:
    deadline_harness.fake.fail_next("auth.test", error="invalid_auth")
    response = await deadline_harness.driver.command(
        "/waste", "waiting 2h for CI", user="U1", channel="C1"
    )
    assert response.status == 200
    # Bolt says it through the command's response URL when there is one.
    told = await deadline_harness.fake.wait_for("response_url")
    assert told.args["text"] == NOT_INSTALLED
