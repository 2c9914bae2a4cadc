"""/vsm through the production app and the fake Slack: steps by modal, the map as an image."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

from PIL import Image
from sqlalchemy import select

from bot import ids
from bot.domain.vsm import MAX_STEPS, MapState, StepDraft
from fake_slack.driver import input_values, plain, radio_buttons, static_select
from storage.models import Observation
from storage.vsm import add_step, list_steps
from storage.workspaces import Scope, get_or_add_workspace
from tests.support.harness import OTHER_TEAM, TEAM, Harness

A = ids.ACTION_VSM_INPUT
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def step_values(
    name: str = "Testing",
    *,
    process: str = "2d",
    wait: str = "5d",
    ca: str = "60",
    owner: str = "Tester",
    after: str | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    fields = [
        (ids.BLOCK_VSM_NAME, A, plain(name)),
        (ids.BLOCK_VSM_OWNER, A, plain(owner or None)),
        (ids.BLOCK_VSM_PROCESS, A, plain(process)),
        (ids.BLOCK_VSM_WAIT, A, plain(wait or None)),
        (ids.BLOCK_VSM_CA, A, plain(ca or None)),
    ]
    if after is not None:
        fields.append((ids.BLOCK_VSM_AFTER, A, static_select(after)))
    if state is not None:
        fields.append((ids.BLOCK_VSM_STATE, A, radio_buttons(state)))
    return input_values(*fields)


async def scope_of(harness: Harness, team: str = TEAM, channel: str = "C1") -> Scope:
    async with harness.deps.db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id=team, enterprise_id=None, now=NOW)
    return Scope(ws, channel)


async def seed(
    harness: Harness,
    names: list[str],
    *,
    team: str = TEAM,
    channel: str = "C1",
    state: MapState = MapState.CURRENT,
) -> list[int]:
    """Steps of 1h each with a 1d wait before, in order; their ids."""
    scope = await scope_of(harness, team, channel)
    made: list[int] = []
    async with harness.deps.db.transaction() as s:
        for name in names:
            step = await add_step(
                s,
                scope=scope,
                state=state,
                draft=StepDraft(name, 60, 1440, 90, "Team"),
                after_id=made[-1] if made else None,
                now=NOW,
            )
            assert step.id is not None
            made.append(step.id)
    return made


async def stream(
    harness: Harness, state: MapState = MapState.CURRENT, team: str = TEAM
) -> list[tuple[str, int, int, int]]:
    scope = await scope_of(harness, team)
    async with harness.deps.db.transaction() as s:
        steps = await list_steps(s, scope=scope, state=state)
    return [(st.name, st.position, st.wait_minutes, st.pct_complete_accurate) for st in steps]


async def open_form(harness: Harness, text: str, user: str = "U1") -> dict[str, Any]:
    before = len(harness.fake.calls_to("views.open"))
    response = await harness.driver.command("/vsm", text, user=user, channel="C1")
    assert response.status == 200
    opened = harness.fake.calls_to("views.open")
    assert len(opened) == before + 1, response.text
    view: dict[str, Any] = opened[-1].args["view"]
    return view


async def submit(
    harness: Harness, values: dict[str, Any], meta: str, callback: str = ids.VIEW_VSM_STEP
) -> Any:
    return await harness.driver.view_submission(callback, values, user="U1", private_metadata=meta)


def errors_of(response: Any) -> dict[str, str]:
    assert response.json and response.json.get("response_action") == "errors", response.text
    errors: dict[str, str] = response.json["errors"]
    return errors


async def test_add_opens_a_form_and_stores_the_step_in_place(harness: Harness) -> None:
    await seed(harness, ["Build", "Deploy"])
    view = await open_form(harness, "add")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    position = blocks[ids.BLOCK_VSM_AFTER]["element"]
    assert position["initial_option"]["text"]["text"] == "After Deploy"
    build = next(o["value"] for o in position["options"] if o["text"]["text"] == "After Build")
    response = await submit(harness, step_values(after=build), view["private_metadata"])
    assert response.status == 200 and not response.text.strip("{}")
    assert await stream(harness) == [
        ("Build", 1, 1440, 90),
        ("Testing", 2, 7200, 60),
        ("Deploy", 3, 1440, 90),
    ]
    said = await harness.fake.wait_for("response_url", lambda c: "Added" in json.dumps(c.args))
    assert "Build → *Testing* → Deploy" in json.dumps(said.args, ensure_ascii=False)


async def test_add_with_a_name_prefills_it_and_future_lands_on_the_future_map(
    harness: Harness,
) -> None:
    view = await open_form(harness, "add future Automated checks")
    name = next(b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_VSM_NAME)
    assert name["element"]["initial_value"] == "Automated checks"
    values = step_values("Automated checks", wait="", ca="", state="future")
    await submit(harness, values, view["private_metadata"])
    assert await stream(harness, MapState.FUTURE) == [("Automated checks", 1, 0, 100)]
    assert await stream(harness) == []
    # Switched to the future map in a form opened for the current one: the places offered
    # were current steps, so the step goes to the end of the future map.
    [build] = await seed(harness, ["Build"])
    view = await open_form(harness, "add")
    values = step_values("Deploy", state="future", after=str(build))
    await submit(harness, values, view["private_metadata"])
    assert [n for n, *_ in await stream(harness, MapState.FUTURE)] == ["Automated checks", "Deploy"]


async def test_each_bad_field_gets_an_inline_error_and_nothing_is_written(
    harness: Harness,
) -> None:
    [build] = await seed(harness, ["Build"])
    meta = json.dumps({"c": "C1"})
    cases = {
        ids.BLOCK_VSM_PROCESS: step_values(process="soon"),
        ids.BLOCK_VSM_WAIT: step_values(wait="a while"),
        ids.BLOCK_VSM_CA: step_values(ca="150"),
        ids.BLOCK_VSM_NAME: step_values(name="   "),
    }
    for block, values in cases.items():
        assert block in errors_of(await submit(harness, values, meta)), block
    not_a_number = errors_of(await submit(harness, step_values(ca="most"), meta))
    assert "not a percentage" in not_a_number[ids.BLOCK_VSM_CA]
    both = errors_of(await submit(harness, step_values(process="2x", ca="-1"), meta))
    assert set(both) == {ids.BLOCK_VSM_PROCESS, ids.BLOCK_VSM_CA}
    duplicate = errors_of(await submit(harness, step_values(name="BUILD"), meta))
    assert "already has a step" in duplicate[ids.BLOCK_VSM_NAME]
    nowhere = errors_of(await submit(harness, step_values(after=str(build + 99)), meta))
    assert "not on this map" in nowhere[ids.BLOCK_VSM_AFTER]
    assert await stream(harness) == [("Build", 1, 1440, 90)]


async def test_a_31st_step_is_refused(harness: Harness) -> None:
    await seed(harness, [f"Step {n}" for n in range(MAX_STEPS)])
    view = await open_form(harness, "add")
    response = await submit(harness, step_values(), view["private_metadata"])
    assert "30 steps" in errors_of(response)[ids.BLOCK_VSM_NAME]
    assert len(await stream(harness)) == MAX_STEPS


async def test_edit_opens_the_step_and_saves_fields_and_place(harness: Harness) -> None:
    await seed(harness, ["Build", "Testing", "Deploy"])
    view = await open_form(harness, "edit testing")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.BLOCK_VSM_PROCESS]["element"]["initial_value"] == "1h"
    assert blocks[ids.BLOCK_VSM_AFTER]["element"]["initial_option"]["text"]["text"] == (
        "After Build"
    )
    assert ids.BLOCK_VSM_STATE not in blocks
    values = step_values("Testing", wait="3d", ca="75", after="start")
    await submit(harness, values, view["private_metadata"])
    assert await stream(harness) == [
        ("Testing", 1, 4320, 75),
        ("Build", 2, 1440, 90),
        ("Deploy", 3, 1440, 90),
    ]


async def test_edit_of_an_unknown_step_lists_the_steps(harness: Harness) -> None:
    await seed(harness, ["Build", "Deploy"])
    response = await harness.driver.command("/vsm", "edit Tsting", user="U1", channel="C1")
    assert "no step called “Tsting”" in response.json["text"]
    assert "`Build`, `Deploy`" in response.json["text"]
    assert harness.fake.calls_to("views.open") == []


async def test_a_step_of_another_channel_or_workspace_is_never_changed(harness: Harness) -> None:
    [elsewhere] = await seed(harness, ["Build"], channel="C2")
    [foreign] = await seed(harness, ["Build"], team=OTHER_TEAM)
    for step in (elsewhere, foreign):
        meta = json.dumps({"c": "C1", "id": step})
        edited = await submit(harness, step_values("Hijacked"), meta)
        assert "not on this channel's map" in errors_of(edited)[ids.BLOCK_VSM_NAME]
        removed = await submit(harness, {}, meta, callback=ids.VIEW_VSM_REMOVE)
        assert removed.json["response_action"] == "update"
        assert "nothing was removed" in json.dumps(removed.json["view"])
    for raw in ("not json", json.dumps({"c": "C1", "id": "1; DROP"}), json.dumps({"zz": 1})):
        assert errors_of(await submit(harness, step_values(), raw))
    async with harness.deps.db.transaction() as s:
        other = await scope_of(harness, OTHER_TEAM)
        assert [st.name for st in await list_steps(s, scope=other)] == ["Build"]
    assert [n for n, *_ in await stream(harness)] == []


async def test_remove_asks_first_then_closes_the_gap_and_keeps_the_logs(harness: Harness) -> None:
    await seed(harness, ["Build", "Testing", "Deploy"])
    await harness.driver.command("/wait", "2d test env in Testing", user="U1", channel="C1")
    view = await open_form(harness, "remove Testing")
    assert view["callback_id"] == ids.VIEW_VSM_REMOVE
    assert "Remove *Testing*" in json.dumps(view)
    response = await submit(harness, {}, view["private_metadata"], callback=ids.VIEW_VSM_REMOVE)
    assert response.status == 200 and not response.text.strip("{}")
    assert await stream(harness) == [("Build", 1, 1440, 90), ("Deploy", 2, 1440, 90)]
    await harness.fake.wait_for("response_url", lambda c: "Removed" in json.dumps(c.args))
    async with harness.deps.db.transaction() as s:
        [wait] = (await s.scalars(select(Observation))).all()
    assert (wait.minutes, wait.step_id) == (2880, None)


async def test_move_reorders_by_name(harness: Harness) -> None:
    await seed(harness, ["Build", "Testing", "Deploy"])
    moved = await harness.driver.command(
        "/vsm", "move deploy before testing", user="U1", channel="C1"
    )
    assert "Build → Testing" not in json.dumps(moved.json)
    assert "Build → *Deploy* → Testing" in json.dumps(moved.json, ensure_ascii=False)
    unknown = await harness.driver.command("/vsm", "move Deploy after QA", user="U1", channel="C1")
    assert "no step called “QA”" in unknown.json["text"]
    vague = await harness.driver.command("/vsm", "move Deploy", user="U1", channel="C1")
    assert "/vsm move Testing after Code review" in vague.json["text"]
    assert [n for n, *_ in await stream(harness)] == ["Build", "Deploy", "Testing"]


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(content)) as image:
        image.verify()
    with Image.open(io.BytesIO(content)) as image:
        return image.size


async def show(harness: Harness, text: str = "") -> tuple[str, Any]:
    before = len(harness.fake.files)
    response = await harness.driver.command("/vsm", text, user="U1", channel="C1")
    await harness.deps.drain()
    assert len(harness.fake.files) == before + 1, harness.fake.transcript()
    return response.json["text"], harness.fake.files[-1]


async def test_show_posts_the_map_as_a_png_with_its_metrics_in_text(harness: Harness) -> None:
    await seed(harness, ["Build", "Testing"])
    await harness.driver.command("/wait", "2d test env in Testing", user="U1", channel="C1")
    await harness.driver.command("/wait", "4d test env again in Testing", user="U2", channel="C1")
    harness.clock.advance(hours=1)
    ack, upload = await show(harness)
    assert ack.startswith(":hourglass_flowing_sand: Drawing the current-state map")
    assert upload.filename == "value-stream-current.png" and upload.channel_id == "C1"
    width, height = png_size(upload.content)
    assert 1000 <= width <= 4000 and 300 <= height <= 3000
    assert 10_000 < len(upload.content) < 2_000_000
    comment = upload.initial_comment
    # 2 steps of 1h with a 1d wait: LT 50 h, PT 2 h, flow efficiency 4%, rolled 0.9² = 81%.
    for fact in ("Lead time *2.1 d*", "process time *2 h*", "flow efficiency *4%*", "*81%*"):
        assert fact in comment, comment
    assert "Constraint: *Build*" in comment
    assert "Testing: median 3 d, p85 3.7 d over 2 waits; estimated 24 h" in comment
    assert "Kaizen burst: Testing" in comment

    first = upload.content
    await harness.driver.command("/vsm", "move Testing first", user="U1", channel="C1")
    _, again = await show(harness, "show")
    assert again.content != first


async def test_an_empty_map_says_how_to_add_a_step(harness: Harness) -> None:
    for text, hint in (("", "/vsm add`"), ("future", "/vsm add future`")):
        response = await harness.driver.command("/vsm", text, user="U1", channel="C1")
        assert hint in response.json["text"]
    compare = await harness.driver.command("/vsm", "compare", user="U1", channel="C1")
    assert "nothing to compare" in compare.json["text"]
    await harness.deps.drain()
    assert harness.fake.files == []


async def test_future_and_compare_draw_their_images(harness: Harness) -> None:
    await seed(harness, ["Build", "Testing"])
    half = await harness.driver.command("/vsm", "compare", user="U1", channel="C1")
    assert "no future-state map yet" in half.json["text"]
    await seed(harness, ["Build fast"], state=MapState.FUTURE)
    _, future = await show(harness, "future")
    assert future.filename == "value-stream-future.png"
    assert "future state*, 1 steps" in future.initial_comment
    png_size(future.content)
    _, compared = await show(harness, "compare")
    assert compared.filename == "value-stream-compare.png"
    png_size(compared.content)
    lines = compared.initial_comment.splitlines()
    assert "• Lead time: 2.1 d → *25 h* (−25 h)" in lines
    assert "• Process time: 2 h → *60 min* (−60 min)" in lines
    assert "• Flow efficiency: 4% → *4%* (no change)" in lines
    assert "• Rolled %C&A: 81% → *90%* (+9.0 points)" in lines


async def test_a_channel_without_the_bot_gets_the_invite_hint(harness: Harness) -> None:
    harness.fake.add_channel("GPRIV", "secret-team", is_private=True, is_member=False)
    await seed(harness, ["Build"], channel="GPRIV")
    response = await harness.driver.command("/vsm", "", user="U1", channel="GPRIV")
    assert "Drawing" in response.json["text"]
    hint = await harness.fake.wait_for("response_url", lambda c: "/invite" in json.dumps(c.args))
    assert "<#GPRIV>" in json.dumps(hint.args)
    assert harness.fake.files == []


async def test_help_and_unknown_subcommands_answer_the_usage(harness: Harness) -> None:
    helped = await harness.driver.command("/vsm", "help", user="U1", channel="C1")
    assert "/vsm move" in json.dumps(helped.json) and "not available yet" not in helped.text
    unknown = await harness.driver.command("/vsm", "draw", user="U1", channel="C1")
    assert "I don't know `/vsm draw`" in unknown.json["text"]
