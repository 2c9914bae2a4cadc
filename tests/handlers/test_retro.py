"""A whole async retro through the production app and the fake Slack, and what goes wrong."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from fake_slack.driver import datepicker, input_values, plain, static_select, users_select
from jobs.retro_phases import advance_retro_phases
from storage.models import ActionItem, Observation, Retro, RetroVote, Theme
from storage.workspaces import get_or_add_workspace
from tests.support.harness import TEAM, Harness
from tests.support.kaizen import add_stream, add_waits, theme_values
from tests.support.retro import add_note, add_team, start_retro, start_values, thread

NOTES = {
    # author: [(category, text)]; texts are unique so any leak is found by a search
    "U1": [("waiting", "Code review queue took three days SECRET-A")],
    "U2": [
        ("defects", "Flaky booking tests sent work back twice SECRET-B"),
        ("motion", "Hunting for the staging password again SECRET-C"),
    ],
    "U3": [("waiting", "Vaccination reminder release waited on QA SECRET-D")],
    "U4": [("transportation", "Hand-off to the ops team lost the context SECRET-E")],
}
SECRETS = [text.split()[-1] for notes in NOTES.values() for _, text in notes]
AUTHORS = list(NOTES)


def note_ts_by_secret(harness: Harness, root: str) -> dict[str, str]:
    found = {}
    for message in thread(harness, root):
        for secret in SECRETS:
            if secret in message.get("text", ""):
                found[secret] = message["ts"]
    return found


def public_text(harness: Harness) -> str:
    """What Slack showed anywhere but in a person's own note modal (refused calls show nothing)."""
    calls = [c for c in harness.fake.calls if c.ok and not c.method.startswith("views.")]
    return "\n".join(json.dumps(c.args, ensure_ascii=False) for c in calls)


def is_nudge(args: dict[str, Any]) -> bool:
    """A direct message asking for a note (the export, say, is a direct message too)."""
    return str(args["channel"])[0] in "UD" and "Add your note" in str(args.get("text"))


async def export_rows(harness: Harness) -> list[dict[str, str]]:
    before = len(harness.fake.files)
    await harness.driver.command(ids.CMD_KAIZEN, "export", user="U5", channel="C1")
    await harness.deps.drain()
    upload = harness.fake.files[before]
    return list(csv.DictReader(io.StringIO(upload.content.decode())))


async def test_a_whole_retro_with_five_people(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    add_team(harness)
    steps = await add_stream(harness, [("Review", 60, 240), ("Test", 120, 480)])
    await add_waits(harness, steps["Test"], [1440, 2880, 720])
    await harness.driver.command(
        ids.CMD_WASTE, "waiting 3d for the CI runner", user="U2", channel="C1"
    )
    harness.clock.advance(hours=1)
    root = await start_retro(harness, votes="2")
    announcement = harness.fake.message("C1", root)
    assert announcement is not None
    shown = json.dumps(announcement)
    assert "DOWNTIME waste walk" in shown and "<!date^" in shown
    assert "Waiting" in shown and "for the CI runner" in shown
    assert "Test: measured 1 d (median of 3 waits), map estimate 8 h" in shown

    # -- collect: five people, four write notes, one changes hers ------------------------------
    for author, notes in NOTES.items():
        for category, text in notes:
            response = await add_note(harness, root, author, category, text)
            assert response.status == 200 and not response.text, response.text
    note_modal_for_u2 = harness.fake.find_view(callback_id=ids.VIEW_RETRO_NOTE, user="U2")
    assert note_modal_for_u2 is not None
    await harness.driver.block_action(
        ids.ACTION_RETRO_ADD_NOTE, user="U3", channel="C1", message_ts=root
    )
    modal_for_u3 = json.dumps(harness.fake.last_view("U3"))
    assert "SECRET-D" in modal_for_u3  # her own note, to see and edit
    assert not any(s in modal_for_u3 for s in SECRETS if s != "SECRET-D")

    announcement = harness.fake.message("C1", root)
    assert "5 notes from 4 people" in json.dumps(announcement)

    status = await harness.driver.command(ids.CMD_RETRO, "status", user="U1", channel="C1")
    assert "5 notes from 4 people" in status.text
    assert "Took part" not in status.text  # anonymous: no names
    other = await harness.driver.command(ids.CMD_RETRO, "status", user="U5", channel="C1")
    assert "Nudge" not in other.text and "<@U1> facilitates it" in other.text

    home = await harness.driver.app_home_opened("U3")
    assert home.status == 200
    await harness.deps.drain()
    assert not any(secret in json.dumps(harness.fake.home("U3")) for secret in SECRETS)
    early_rows = await export_rows(harness)
    assert [r["record"] for r in early_rows].count("retro_note") == 0

    nudge = await harness.driver.block_action(
        ids.ACTION_RETRO_NUDGE, "C1:1", user="U1", channel="C1", is_ephemeral=True
    )
    assert nudge.status == 200
    await harness.deps.drain()
    dms = [c for c in harness.fake.calls_to("chat.postMessage") if is_nudge(c.args)]
    assert [c.args["channel"] for c in dms] == ["U5"]
    await harness.driver.block_action(
        ids.ACTION_RETRO_NUDGE, "C1:1", user="U1", channel="C1", is_ephemeral=True
    )
    await harness.deps.drain()
    # Once per retro: pressing it again nudges nobody twice.
    assert len([c for c in harness.fake.calls_to("chat.postMessage") if is_nudge(c.args)]) == 1

    refused = await harness.driver.command(ids.CMD_RETRO, "close", user="U2", channel="C1")
    assert "Only the facilitator, <@U1>" in refused.text

    # Nothing of any note has left its author's own modal before the reveal.
    sent = public_text(harness)
    assert not any(secret in sent for secret in SECRETS)
    assert not any(secret in caplog.text for secret in SECRETS)

    # -- vote: the facilitator closes collect ------------------------------------------------
    closed = await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    assert closed.status == 200
    await harness.deps.drain()
    by_secret = note_ts_by_secret(harness, root)
    assert sorted(by_secret) == sorted(SECRETS)
    for message in thread(harness, root):
        if any(s in message.get("text", "") for s in SECRETS):
            assert not any(f"<@{a}>" in json.dumps(message) for a in AUTHORS)
            assert message["reactions"][0]["users"] == ["UBOT"]

    a, b, c = by_secret["SECRET-A"], by_secret["SECRET-B"], by_secret["SECRET-C"]
    for voter in ("U1", "U2", "U3", "U4"):
        await harness.driver.reaction_added("+1", user=voter, channel="C1", ts=a)
    await harness.driver.reaction_added("+1", user="U5", channel="C1", ts=b)
    await harness.driver.reaction_added("+1", user="U3", channel="C1", ts=b)
    await harness.driver.reaction_added("+1", user="U1", channel="C1", ts=c)
    # U3 has used both votes: a third is not counted, and she is told.
    await harness.driver.reaction_added("+1", user="U3", channel="C1", ts=c)
    await harness.driver.reaction_added("+1::skin-tone-2", user="U1", channel="C1", ts=a)
    await harness.driver.reaction_added("+1", user="UBOT", channel="C1", ts=c)
    await harness.driver.reaction_added("+1", user="U9", channel="C1", ts=c)  # not a member
    await harness.deps.drain()
    told = [
        call
        for call in harness.fake.calls
        if call.method in ("chat.postEphemeral", "chat.postMessage")
        and call.args.get("user", call.args.get("channel")) in ("U3", "U9")
    ]
    assert any("used all 2 of your votes" in json.dumps(t.args) for t in told)
    assert any("Only members of the channel" in json.dumps(t.args) for t in told)
    async with harness.deps.db.transaction() as s:
        assert len((await s.scalars(select(RetroVote))).all()) == 7

    # -- summary: the facilitator closes the vote --------------------------------------------
    await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    await harness.deps.drain()
    summary = thread(harness, root)[-1]
    ranking = [s for s in ("SECRET-A", "SECRET-B", "SECRET-C") if s in json.dumps(summary)]
    text = json.dumps(summary)
    assert text.index("SECRET-A") < text.index("SECRET-B") < text.index("SECRET-C")
    assert ranking == ["SECRET-A", "SECRET-B", "SECRET-C"]
    assert "*4 votes*" in text and "*2 votes*" in text
    assert not any(f"<@{a}>" in text for a in AUTHORS)

    async with harness.deps.db.transaction() as s:
        logs = (await s.scalars(select(Observation).where(Observation.source == "retro"))).all()
    assert len(logs) == 5
    assert {o.category for o in logs} == {"waiting", "defects", "motion", "transportation"}
    assert all(o.reporter_id is None and o.anonymous for o in logs)

    # -- outcomes: a theme from the top note, and an action item ------------------------------
    await harness.driver.block_action(
        ids.ACTION_RETRO_MAKE_THEME, user="U1", channel="C1", message_ts=summary["ts"]
    )
    theme_modal = harness.fake.last_view("U1")
    assert theme_modal["callback_id"] == ids.VIEW_THEME
    assert "Code review queue took three days SECRET-A" in json.dumps(theme_modal)
    assert '"value": "waiting"' in json.dumps(theme_modal)
    submitted = await harness.driver.view_submission(
        ids.VIEW_THEME,
        theme_values("Code review queue took three days", category="waiting"),
        user="U1",
    )
    assert submitted.status == 200 and not submitted.text, submitted.text
    await harness.driver.block_action(
        ids.ACTION_RETRO_ADD_ACTION, user="U1", channel="C1", message_ts=summary["ts"]
    )
    action_values = input_values(
        (
            ids.BLOCK_ACTION_ITEM_TEXT,
            ids.ACTION_KAIZEN_INPUT,
            plain("Pair on reviews every morning"),
        ),
        (ids.BLOCK_ACTION_ITEM_OWNER, ids.ACTION_KAIZEN_INPUT, users_select("U2")),
        (ids.BLOCK_ACTION_ITEM_DUE, ids.ACTION_KAIZEN_INPUT, datepicker(None)),
    )
    added = await harness.driver.view_submission(ids.VIEW_RETRO_ACTION, action_values, user="U1")
    assert added.status == 200 and not added.text, added.text
    await harness.deps.drain()
    async with harness.deps.db.transaction() as s:
        theme = (await s.scalars(select(Theme))).one()
        action = (await s.scalars(select(ActionItem))).one()
        retro = (await s.scalars(select(Retro))).one()
    assert theme.title == "Code review queue took three days" and theme.category == "waiting"
    assert action.retro_id == retro.id and action.owner_id == "U2"

    # -- the export: each note, no author -----------------------------------------------------
    rows = await export_rows(harness)
    notes = [r for r in rows if r["record"] == "retro_note"]
    assert sorted(n["description"].split()[-1] for n in notes) == sorted(SECRETS)
    assert all(n["author_id"] == "" for n in notes)
    assert [r["record"] for r in rows].count("retro") == 1

    # -- anonymity held in every log line, extras included -----------------------------------
    saved = [r for r in caplog.records if r.msg == "retro.note_saved"]
    assert len(saved) == 5 and not any(hasattr(r, "user") for r in saved)
    assert not any(secret in str(r.__dict__) for r in caplog.records for secret in SECRETS)

    # -- the next retro lists this one's open action item -------------------------------------
    harness.clock.advance(days=7)
    next_root = await start_retro(harness, title="Sprint 48 retro")
    assert "Pair on reviews every morning" in json.dumps(harness.fake.message("C1", next_root))


async def test_notes_are_signed_when_the_retro_is_not_anonymous(harness: Harness) -> None:
    add_team(harness)
    root = await start_retro(harness, anonymous=False)
    await add_note(harness, root, "U2", "waiting", "Waiting for the vet API keys")
    status = await harness.driver.command(ids.CMD_RETRO, "status", user="U1", channel="C1")
    assert "Took part: <@U2>" in status.text
    assert "Waiting for the vet API keys" not in status.text
    await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    await harness.deps.drain()
    [note] = [m for m in thread(harness, root) if "vet API keys" in m.get("text", "")]
    assert "<@U2>" in json.dumps(note)
    rows = await export_rows(harness)
    assert [r["author_id"] for r in rows if r["record"] == "retro_note"] == ["U2"]


# -- bad input --------------------------------------------------------------------------------


async def test_a_second_start_while_one_runs_is_refused(harness: Harness) -> None:
    add_team(harness)
    await start_retro(harness)
    again = await harness.driver.command(ids.CMD_RETRO, "start", user="U2", channel="C1")
    assert "already has a retro running" in again.text and "<@U1>" in again.text
    assert harness.fake.find_view(callback_id=ids.VIEW_RETRO_START, user="U2") is None


async def test_deadlines_in_the_past_or_out_of_order_are_field_errors(harness: Harness) -> None:

    add_team(harness)
    now = harness.clock()
    await harness.driver.command(ids.CMD_RETRO, "start", user="U1", channel="C1")
    past = start_values(collect_until=now - timedelta(hours=1), vote_until=now + timedelta(days=1))
    response = await harness.driver.view_submission(ids.VIEW_RETRO_START, past, user="U1")
    assert response.json["response_action"] == "errors"
    assert ids.BLOCK_RETRO_COLLECT_UNTIL in response.json["errors"]
    backwards = start_values(
        collect_until=now + timedelta(days=2), vote_until=now + timedelta(days=1)
    )
    response = await harness.driver.view_submission(ids.VIEW_RETRO_START, backwards, user="U1")
    assert response.json["errors"] == {
        ids.BLOCK_RETRO_VOTE_UNTIL: "Voting has to end after collecting does."
    }
    async with harness.deps.db.transaction() as s:
        assert (await s.scalars(select(Retro))).all() == []


async def test_empty_over_long_and_late_notes_are_refused(harness: Harness) -> None:
    add_team(harness)
    root = await start_retro(harness)
    empty = await add_note(harness, root, "U2", "waiting", "   ")
    assert empty.json["errors"] == {ids.BLOCK_RETRO_TEXT: "Write the note: it can't be empty."}
    long = await add_note(harness, root, "U2", "waiting", "x" * 1001)
    assert "1000 characters" in long.json["errors"][ids.BLOCK_RETRO_TEXT]
    no_column = await add_note(harness, root, "U2", None, "Waiting on review")
    assert ids.BLOCK_RETRO_COLUMN in no_column.json["errors"]
    await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    await harness.deps.drain()
    late = await harness.driver.view_submission(
        ids.VIEW_RETRO_NOTE,
        input_values(
            (
                ids.BLOCK_RETRO_COLUMN,
                ids.ACTION_RETRO_INPUT,
                {"type": "static_select", "selected_option": {"value": "waiting"}},
            ),
            (ids.BLOCK_RETRO_TEXT, ids.ACTION_RETRO_INPUT, plain("Too late")),
        ),
        user="U2",
    )
    assert "Collecting notes for this retro has ended" in json.dumps(late.json)
    assert "Too late" not in public_text(harness)


async def test_a_retro_id_from_another_channel_or_workspace_acts_on_nothing(
    harness: Harness,
) -> None:
    add_team(harness)
    harness.fake.add_channel("C2", "other-team", members=["U1", "U2", harness.fake.bot_user_id])
    root = await start_retro(harness)
    # The Add-a-note button of C1's retro pressed as if it were in C2.
    await harness.driver.block_action(
        ids.ACTION_RETRO_ADD_NOTE, "C1:1", user="U2", channel="C2", is_ephemeral=True
    )
    assert harness.fake.find_view(callback_id=ids.VIEW_RETRO_NOTE, user="U2") is None
    # Another workspace sending this workspace's retro id.
    other = harness.driver_for("T0002")
    await other.block_action(
        ids.ACTION_RETRO_ADD_NOTE, "C1:1", user="U2", channel="C1", message_ts=root
    )
    assert harness.fake.find_view(callback_id=ids.VIEW_RETRO_NOTE, user="U2") is None
    forged = await other.view_submission(
        ids.VIEW_RETRO_NOTE,
        input_values(
            (
                ids.BLOCK_RETRO_COLUMN,
                ids.ACTION_RETRO_INPUT,
                {"type": "static_select", "selected_option": {"value": "waiting"}},
            ),
            (ids.BLOCK_RETRO_TEXT, ids.ACTION_RETRO_INPUT, plain("Forged")),
        ),
        user="U2",
        private_metadata='{"c":"C1","i":1}',
    )
    assert forged.json["response_action"] == "errors"
    status = await harness.driver.command(ids.CMD_RETRO, "status", user="U1", channel="C1")
    assert "0 notes" in status.text


async def test_the_bot_removed_mid_retro_reveals_nothing_and_loses_nothing(
    harness: Harness,
) -> None:
    add_team(harness)
    root = await start_retro(harness)
    await add_note(harness, root, "U2", "waiting", "Kept safe SECRET-Z")
    harness.fake.set_member("C1", False)
    harness.clock.advance(days=1, minutes=1)
    assert await advance_retro_phases(harness.deps, harness.clock()) == 0
    assert await advance_retro_phases(harness.deps, harness.clock()) == 0
    dms = [c for c in harness.fake.calls_to("chat.postMessage") if c.args["channel"] == "U1"]
    assert len(dms) == 1 and "no longer in <#C1>" in dms[0].args["text"]
    assert "SECRET-Z" not in public_text(harness)
    async with harness.deps.db.transaction() as s:
        assert (await s.scalars(select(Retro.phase))).one() == "collect"
    harness.fake.set_member("C1", True)
    assert await advance_retro_phases(harness.deps, harness.clock()) == 1
    assert any("SECRET-Z" in m.get("text", "") for m in thread(harness, root))


async def test_retro_help_and_unknown_subcommands(harness: Harness) -> None:
    response = await harness.driver.command(ids.CMD_RETRO, "help", user="U1", channel="C1")
    assert "/retro start" in response.text and "not built" not in response.text.lower()
    unknown = await harness.driver.command(ids.CMD_RETRO, "frobnicate", user="U1", channel="C1")
    assert "I don't know `/retro frobnicate`" in unknown.text


async def test_a_person_sees_and_changes_only_their_own_notes(harness: Harness) -> None:
    add_team(harness)
    root = await start_retro(harness)
    await add_note(harness, root, "U2", "waiting", "Waiting on the vet API keys")
    await add_note(harness, root, "U3", "defects", "Booking page broke twice")
    await harness.driver.block_action(
        ids.ACTION_RETRO_ADD_NOTE, user="U2", channel="C1", message_ts=root
    )
    modal = harness.fake.last_view("U2")
    assert "vet API keys" in json.dumps(modal) and "Booking page" not in json.dumps(modal)
    await harness.driver.block_action(ids.ACTION_RETRO_EDIT_NOTE, user="U2", view=modal)
    editing = harness.fake.last_view("U2")
    assert editing["title"]["text"] == "Change your note"
    changed = await harness.driver.view_submission(
        ids.VIEW_RETRO_NOTE,
        input_values(
            (ids.BLOCK_RETRO_COLUMN, ids.ACTION_RETRO_INPUT, static_select("waiting")),
            (ids.BLOCK_RETRO_TEXT, ids.ACTION_RETRO_INPUT, plain("Waiting on the vet API")),
        ),
        user="U2",
        view_id=editing["id"],
    )
    assert changed.json == {"response_action": "clear"}
    # Someone else's note id in the edit modal's metadata changes nothing.
    forged = await harness.driver.view_submission(
        ids.VIEW_RETRO_NOTE,
        input_values(
            (ids.BLOCK_RETRO_COLUMN, ids.ACTION_RETRO_INPUT, static_select("waiting")),
            (ids.BLOCK_RETRO_TEXT, ids.ACTION_RETRO_INPUT, plain("Overwritten")),
        ),
        user="U2",
        private_metadata='{"c":"C1","i":1,"n":2}',
    )
    assert "only change your own notes" in json.dumps(forged.json)
    await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    await harness.deps.drain()
    texts = [m["text"] for m in thread(harness, root)]
    assert any(t.endswith("Waiting on the vet API") for t in texts)
    assert any(t.endswith("Booking page broke twice") for t in texts)
    assert not any("Overwritten" in t or "API keys" in t for t in texts)


async def test_the_bot_removed_before_the_summary_keeps_the_votes_and_logs_once(
    harness: Harness,
) -> None:
    add_team(harness)
    root = await start_retro(harness)
    await add_note(harness, root, "U2", "waiting", "Review queue")
    await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    await harness.deps.drain()
    [note, _] = thread(harness, root)
    await harness.driver.reaction_added("+1", user="U3", channel="C1", ts=note["ts"])
    harness.fake.set_member("C1", False)
    await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    await harness.deps.drain()
    replies = [json.dumps(c.args) for c in harness.fake.calls_to("response_url")]
    assert any("can't post the summary" in r and "/invite" in r for r in replies)
    harness.fake.set_member("C1", True)
    await harness.driver.command(ids.CMD_RETRO, "close", user="U1", channel="C1")
    await harness.deps.drain()
    summary = thread(harness, root)[-1]
    assert "*1 vote*" in json.dumps(summary) and "Review queue" in json.dumps(summary)
    async with harness.deps.db.transaction() as s:
        logs = (await s.scalars(select(Observation).where(Observation.source == "retro"))).all()
    assert [o.description for o in logs] == ["Review queue"]


async def test_a_retro_in_a_channel_without_the_bot_is_not_started(harness: Harness) -> None:
    add_team(harness)
    harness.fake.set_member("C1", False)
    now = harness.clock()
    await harness.driver.command(ids.CMD_RETRO, "start", user="U1", channel="C1")

    values = start_values(collect_until=now + timedelta(days=1), vote_until=now + timedelta(days=2))
    await harness.driver.view_submission(ids.VIEW_RETRO_START, values, user="U1")
    await harness.deps.drain()
    told = [
        json.dumps(c.args)
        for c in harness.fake.calls
        if c.method in ("response_url", "chat.postMessage")
    ]
    assert any("so it was not started" in t and "/invite" in t for t in told)
    async with harness.deps.db.transaction() as s:
        assert (await s.scalars(select(Retro))).all() == []


async def test_a_nudged_person_adds_a_note_from_the_dm(harness: Harness) -> None:
    add_team(harness)
    await start_retro(harness)
    await harness.driver.block_action(
        ids.ACTION_RETRO_NUDGE, "C1:1", user="U1", channel="C1", is_ephemeral=True
    )
    await harness.deps.drain()
    dm = next(c for c in harness.fake.calls_to("chat.postMessage") if c.args["channel"] == "U5")
    await harness.driver.block_action(
        ids.ACTION_RETRO_ADD_NOTE, user="U5", channel="D5", message_ts=str(dm.response["ts"])
    )
    submitted = await harness.driver.view_submission(
        ids.VIEW_RETRO_NOTE,
        input_values(
            (ids.BLOCK_RETRO_COLUMN, ids.ACTION_RETRO_INPUT, static_select("motion")),
            (ids.BLOCK_RETRO_TEXT, ids.ACTION_RETRO_INPUT, plain("Too many meetings")),
        ),
        user="U5",
    )
    assert submitted.status == 200 and not submitted.text, submitted.text
    status = await harness.driver.command(ids.CMD_RETRO, "status", user="U5", channel="C1")
    assert "1 note from 1 person" in status.text and "You have added 1 note" in status.text


async def test_the_announcement_shows_hypothesis_verdicts_of_the_period(harness: Harness) -> None:
    add_team(harness)
    now = harness.clock()
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=TEAM, enterprise_id=None, now=now)
        for number, (check, verdict) in enumerate(
            [(now - timedelta(days=3), "met"), (now - timedelta(days=40), "not_met")], start=1
        ):
            s.add(
                Theme(
                    workspace_id=ws, channel_id="C1", number=number, title=f"Idea {number}",
                    author_id="U1", hyp_metric="lead_time", hyp_target=1.0,
                    hyp_check_date=check.date(), hyp_verdict=verdict, created_at=now,
                    updated_at=now,
                )
            )  # fmt: skip
    root = await start_retro(harness)
    shown = json.dumps(harness.fake.message("C1", root))
    assert "K-1 Idea 1: :white_check_mark: met" in shown
    assert "Idea 2" not in shown  # judged before this retro's period
