"""Shared steps for the retro tests: a team channel, starting a retro, adding notes, voting."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import ids
from fake_slack.driver import input_values, plain, static_select
from tests.support.harness import Harness

A = ids.ACTION_RETRO_INPUT
TEAM_MEMBERS = ("U1", "U2", "U3", "U4", "U5")


def add_team(
    harness: Harness, channel: str = "C1", members: tuple[str, ...] = TEAM_MEMBERS
) -> None:
    for user in members:
        harness.fake.add_user(user, f"user{user[1:]}", tz="Europe/Berlin")
    harness.fake.add_channel(channel, "pet-clinic", members=[*members, harness.fake.bot_user_id])


def start_values(
    *,
    title: str = "Sprint 47 retro",
    template: str = "downtime",
    collect_until: datetime | None,
    vote_until: datetime | None,
    votes: str = "2",
    anonymous: bool = True,
) -> dict[str, Any]:
    def moment(value: datetime | None) -> dict[str, Any]:
        stamp = int(value.timestamp()) if value is not None else None
        return {"type": "datetimepicker", "selected_date_time": stamp}

    boxes = [{"value": "anonymous", "text": {"type": "plain_text", "text": "Anonymous"}}]
    return input_values(
        (ids.BLOCK_RETRO_TITLE, A, plain(title or None)),
        (ids.BLOCK_RETRO_TEMPLATE, A, static_select(template)),
        (ids.BLOCK_RETRO_COLLECT_UNTIL, A, moment(collect_until)),
        (ids.BLOCK_RETRO_VOTE_UNTIL, A, moment(vote_until)),
        (ids.BLOCK_RETRO_VOTES, A, {"type": "number_input", "value": votes}),
        (
            ids.BLOCK_RETRO_ANONYMOUS,
            A,
            {"type": "checkboxes", "selected_options": boxes if anonymous else []},
        ),
    )


async def start_retro(
    harness: Harness,
    *,
    user: str = "U1",
    channel: str = "C1",
    collect: timedelta = timedelta(days=1),
    vote: timedelta = timedelta(days=2),
    **options: Any,
) -> str:
    """Start a retro through /retro start and its modal; the announcement's ts."""
    now = harness.clock()
    before = len(harness.fake.calls_to("chat.postMessage"))
    response = await harness.driver.command(ids.CMD_RETRO, "start", user=user, channel=channel)
    assert response.status == 200 and not response.text, response.text
    values = start_values(collect_until=now + collect, vote_until=now + vote, **options)
    submitted = await harness.driver.view_submission(ids.VIEW_RETRO_START, values, user=user)
    assert submitted.status == 200 and not submitted.text, submitted.text
    await harness.deps.drain()
    posted = harness.fake.calls_to("chat.postMessage")[before:]
    roots = [c for c in posted if c.args.get("channel") == channel and c.ok]
    assert roots, "no announcement was posted"
    return str(roots[-1].response["ts"])


def note_values(column: str | None, text: str) -> dict[str, Any]:
    return input_values(
        (ids.BLOCK_RETRO_COLUMN, A, static_select(column)),
        (ids.BLOCK_RETRO_TEXT, A, plain(text or None)),
    )


async def add_note(
    harness: Harness, root_ts: str, user: str, column: str | None, text: str, channel: str = "C1"
) -> Any:
    """Press "Add a note" on the announcement and submit the modal."""
    pressed = await harness.driver.block_action(
        ids.ACTION_RETRO_ADD_NOTE, user=user, channel=channel, message_ts=root_ts
    )
    assert pressed.status == 200
    response = await harness.driver.view_submission(
        ids.VIEW_RETRO_NOTE, note_values(column, text), user=user
    )
    await harness.deps.drain()
    return response


def thread(harness: Harness, root_ts: str, channel: str = "C1") -> list[dict[str, Any]]:
    """The replies in a retro's thread, oldest first (the root itself left out)."""
    messages = harness.fake.messages(channel)
    return [m for m in messages if m.get("thread_ts") == root_ts and m["ts"] != root_ts]
