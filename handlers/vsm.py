"""/vsm: the channel's value stream map — steps kept by modal, the map drawn as an image.

Drawing is CPU work and uploading is slow, so ``/vsm``, ``/vsm future`` and ``/vsm compare``
read what they need, answer "Drawing…" at once and leave the picture to a follow-up task.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import Field
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.charts.vsm_map import render_comparison, render_value_stream
from bot.deps import Deps
from bot.domain.durations import parse_duration
from bot.domain.errors import KaizenError, NotFound
from bot.domain.vsm import (
    MAX_STEP_NAME,
    MapState,
    Step,
    StepDraft,
    after_id_for,
    clean_step_name,
    compare_maps,
    measure_waits,
    parse_move,
    parse_percent,
    parse_wait,
)
from bot.usecases.notify import NOT_A_MEMBER, tell
from bot.usecases.work import Origin, Work, in_workspace, workspace_transaction
from bot.views.common import build_error
from bot.views.help import build_help
from bot.views.vsm import (
    COMPARISON_FILENAME,
    FILENAMES,
    MAX_OWNER_ROLE,
    START,
    STATE_LABELS,
    build_drawing,
    build_empty_map,
    build_map_not_posted,
    build_no_comparison,
    build_notice,
    build_remove_modal,
    build_step_modal,
    build_step_moved,
    build_step_not_found,
    build_step_removed,
    build_step_saved,
    build_upload_failed,
    comparison_summary,
    map_summary,
)
from handlers.edge import FormErrors, errors_ack, trusted_response_url
from handlers.help import HELP_WORDS, unknown_subcommand
from handlers.payloads import CHANNEL_ID, Command, ModalMeta, ViewSubmission
from storage import vsm as store
from storage import waste as waste_store

logger = logging.getLogger(__name__)

WINDOW_DAYS = 28
"""Measured waits and kaizen bursts count what was logged in this many days before now."""

FIELDS: dict[str | None, str] = {
    "name": ids.BLOCK_VSM_NAME,
    "after": ids.BLOCK_VSM_AFTER,
    None: ids.BLOCK_VSM_NAME,
}
STATE_WORDS = {state.value: state for state in MapState}
A = ids.ACTION_VSM_INPUT


class VsmModalMeta(ModalMeta):
    """What the step and remove forms carry between opening and submit."""

    command: ClassVar[str] = ids.CMD_VSM

    c: str = Field(pattern=CHANNEL_ID)
    st: MapState = MapState.CURRENT
    id: int | None = Field(default=None, ge=1)
    r: str | None = Field(default=None, max_length=500)


def register(app: AsyncApp) -> None:
    app.command(ids.CMD_VSM)(vsm_command)
    app.view(ids.VIEW_VSM_STEP)(submit_step)
    app.view(ids.VIEW_VSM_REMOVE)(submit_remove)


async def vsm_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    cmd = Command.model_validate(body)
    origin = Origin.of(context)
    sub, rest = cmd.subcommand, cmd.rest.strip()
    if sub in HELP_WORDS:
        await ack(**build_help(ids.CMD_VSM))
    elif sub in ("", "show") and rest.casefold() in STATE_WORDS.keys() | {""}:
        await _show(
            ack, client, deps, origin, cmd, STATE_WORDS.get(rest.casefold(), MapState.CURRENT)
        )
    elif sub == "future" and not rest:
        await _show(ack, client, deps, origin, cmd, MapState.FUTURE)
    elif sub == "compare" and not rest:
        await _compare(ack, client, deps, origin, cmd)
    elif sub == "add":
        await _open_add(ack, client, deps, origin, cmd, rest)
    elif sub in ("edit", "remove", "delete"):
        await _open_for_step(ack, client, deps, origin, cmd, rest, remove=sub != "edit")
    elif sub == "move":
        await ack(**await _move(deps, origin, cmd, rest))
    else:
        await ack(**build_help(ids.CMD_VSM, problem=unknown_subcommand(cmd)))


def _map_title(cmd: Command) -> str:
    if cmd.channel_name and cmd.channel_name not in ("privategroup", "directmessage"):
        return f"#{cmd.channel_name} value stream"
    return "Value stream"


def _split_state(text: str) -> tuple[MapState, str]:
    """``future Testing`` → (future, "Testing"); text without a state word is the current map."""
    first, _, rest = text.partition(" ")
    state = STATE_WORDS.get(first.casefold())
    return (state, rest.strip()) if state else (MapState.CURRENT, text)


# -- drawing -----------------------------------------------------------------------------------


async def _show(
    ack: AsyncAck,
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    cmd: Command,
    state: MapState,
) -> None:
    measured: dict[int, Any] = {}
    counts: dict[int, int] = {}
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(cmd.channel_id)
        steps = await store.list_steps(work.session, scope=scope, state=state)
        if steps and state is MapState.CURRENT:
            end = deps.now()
            start = end - timedelta(days=WINDOW_DAYS)
            waits = await waste_store.list_waits_by_step(
                work.session, scope=scope, start=start, end=end
            )
            measured = measure_waits(waits)
            counts = await waste_store.count_by_step(
                work.session, scope=scope, start=start, end=end
            )
    if not steps:
        await ack(**build_empty_map(state))
        return
    await ack(**build_drawing(state))
    title = _map_title(cmd)
    png = deps.run_cpu(
        render_value_stream,
        steps,
        title=title,
        measured=measured,
        waste_counts=counts,
        state_label=STATE_LABELS[state],
    )
    comment = map_summary(
        steps,
        title=title,
        state=state,
        measured=measured,
        waste_counts=counts,
        window_days=WINDOW_DAYS,
    )
    deps.spawn(
        _post_image(
            client,
            cmd,
            png,
            filename=FILENAMES[state],
            title=f"{title} — {STATE_LABELS[state].lower()}",
            comment=comment,
        ),
        name="vsm.show",
    )


async def _compare(
    ack: AsyncAck, client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command
) -> None:
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(cmd.channel_id)
        current = await store.list_steps(work.session, scope=scope, state=MapState.CURRENT)
        future = await store.list_steps(work.session, scope=scope, state=MapState.FUTURE)
    if not current or not future:
        await ack(**build_no_comparison(len(current), len(future)))
        return
    await ack(**build_drawing(None))
    title = _map_title(cmd)
    png = deps.run_cpu(render_comparison, current, future, title=title)
    comment = comparison_summary(compare_maps(current, future), title=title)
    deps.spawn(
        _post_image(
            client,
            cmd,
            png,
            filename=COMPARISON_FILENAME,
            title=f"{title} — current vs future state",
            comment=comment,
        ),
        name="vsm.compare",
    )


async def _post_image(
    client: AsyncWebClient,
    cmd: Command,
    png: Awaitable[bytes],
    *,
    filename: str,
    title: str,
    comment: str,
) -> None:
    content = await png
    try:
        await client.files_upload_v2(
            channel=cmd.channel_id,
            content=content,
            filename=filename,
            title=title,
            initial_comment=comment,
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown")
        logger.info(
            "vsm.upload_refused",
            extra={"team": cmd.team_id, "channel": cmd.channel_id, "error": error},
        )
        message = build_map_not_posted(cmd.channel_id) if error in NOT_A_MEMBER else None
        await tell(
            client,
            user=cmd.user_id,
            channel=None,
            message=message or build_upload_failed(error),
            response_url=cmd.response_url or None,
        )
        return
    logger.info("vsm.posted", extra={"team": cmd.team_id, "channel": cmd.channel_id})


# -- the forms ---------------------------------------------------------------------------------


async def _open_add(
    ack: AsyncAck,
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    cmd: Command,
    rest: str,
) -> None:
    state, name = _split_state(rest)
    async with workspace_transaction(deps, origin) as work:
        steps = await store.list_steps(work.session, scope=work.scope(cmd.channel_id), state=state)
    await ack()
    meta = VsmModalMeta(c=cmd.channel_id, st=state, r=cmd.response_url or None)
    view = build_step_modal(
        metadata=meta.dump(), state=state, steps=steps, name=name[:MAX_STEP_NAME]
    )
    await client.views_open(trigger_id=cmd.trigger_id, view=view)


async def _find(work: Work, channel: str, text: str) -> tuple[MapState, Step | None, list[Step]]:
    """The step ``text`` names, on the current map or (``future ‹step›``) the future one.

    The whole text is tried as a current-map name first, so a step called "Future planning"
    is still found.
    """
    scope = work.scope(channel)
    if found := await store.find_step(work.session, scope=scope, name=text):
        return MapState.CURRENT, found, []
    state, name = _split_state(text)
    found = await store.find_step(work.session, scope=scope, name=name, state=state)
    if found is None:
        return state, None, await store.list_steps(work.session, scope=scope, state=state)
    return state, found, []


async def _open_for_step(
    ack: AsyncAck,
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    cmd: Command,
    rest: str,
    *,
    remove: bool,
) -> None:
    async with workspace_transaction(deps, origin) as work:
        state, step, steps = await _find(work, cmd.channel_id, rest)
        if step is not None and not remove:
            steps = await store.list_steps(
                work.session, scope=work.scope(cmd.channel_id), state=state
            )
    if step is None:
        await ack(**build_step_not_found(_split_state(rest)[1], steps, state))
        return
    await ack()
    meta = VsmModalMeta(c=cmd.channel_id, st=state, id=step.id, r=cmd.response_url or None)
    if remove:
        view = build_remove_modal(metadata=meta.dump(), state=state, step=step)
    else:
        view = build_step_modal(metadata=meta.dump(), state=state, steps=steps, step=step)
    await client.views_open(trigger_id=cmd.trigger_id, view=view)


def _read_step_form(sub: ViewSubmission, meta: VsmModalMeta) -> tuple[MapState, StepDraft, str]:
    """The map, the typed step and the raw position choice ("" when the form had none)."""
    errors: dict[str, str] = {}
    name = ""
    try:
        name = clean_step_name(sub.text(ids.BLOCK_VSM_NAME, A))
    except KaizenError as error:
        errors[ids.BLOCK_VSM_NAME] = error.message
    owner = " ".join(sub.text(ids.BLOCK_VSM_OWNER, A).split())
    if len(owner) > MAX_OWNER_ROLE:
        errors[ids.BLOCK_VSM_OWNER] = f"Keep the owner role to {MAX_OWNER_ROLE} characters."
    process = wait = 0
    try:
        process = parse_duration(sub.text(ids.BLOCK_VSM_PROCESS, A))
    except KaizenError as error:
        errors[ids.BLOCK_VSM_PROCESS] = error.message
    try:
        wait = parse_wait(sub.text(ids.BLOCK_VSM_WAIT, A))
    except KaizenError as error:
        errors[ids.BLOCK_VSM_WAIT] = error.message
    percent = 100
    if typed := sub.text(ids.BLOCK_VSM_CA, A).strip():
        try:
            percent = parse_percent(typed)
        except KaizenError as error:
            errors[ids.BLOCK_VSM_CA] = error.message
    state = meta.st
    if meta.id is None and (chosen := sub.selected(ids.BLOCK_VSM_STATE, A)):
        if chosen not in STATE_WORDS:
            errors[ids.BLOCK_VSM_STATE] = "Pick the current or the future map."
        else:
            state = STATE_WORDS[chosen]
    after = sub.selected(ids.BLOCK_VSM_AFTER, A) or ""
    if after and after != START and not after.isdigit():
        errors[ids.BLOCK_VSM_AFTER] = "Pick a place in the stream."
    if errors:
        raise FormErrors(errors)
    draft = StepDraft(name, process, wait, pct_complete_accurate=percent, owner_role=owner)
    return state, draft, after


async def submit_step(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    try:
        meta = VsmModalMeta.parse(sub.view.private_metadata)
        state, draft, after = _read_step_form(sub, meta)
        saved = await _save_step(deps, Origin.of(context), sub, meta, state, draft, after)
    except (KaizenError, FormErrors) as error:
        await ack(**errors_ack(error, FIELDS))
        return
    await ack()
    if saved is None:
        return
    step, steps = saved
    deps.spawn(
        tell(
            client,
            user=sub.user.id,
            channel=meta.c,
            message=build_step_saved(step, steps, state, added=meta.id is None),
            response_url=trusted_response_url(meta.r, deps),
        ),
        name="vsm.step_saved",
    )


async def _save_step(
    deps: Deps,
    origin: Origin,
    sub: ViewSubmission,
    meta: VsmModalMeta,
    state: MapState,
    draft: StepDraft,
    after: str,
) -> tuple[Step, list[Step]] | None:
    now = deps.now()

    async def write(work: Work) -> tuple[Step, list[Step]] | None:
        scope = work.scope(meta.c)
        if not await work.first_delivery(f"view:{sub.view.id}:{sub.view.callback_id}"):
            return None
        after_id = None if after in ("", START) else int(after)
        if meta.id is None:
            if not after or state is not meta.st:
                # No position field (the map was empty when the form opened), or the places
                # offered were on the other map: add at the end of the chosen map.
                order = [
                    s.id for s in await store.list_steps(work.session, scope=scope, state=state)
                ]
                after_id = order[-1] if order else None
            step = await store.add_step(
                work.session, scope=scope, state=state, draft=draft, after_id=after_id, now=now
            )
        else:
            found = await store.update_step(
                work.session, scope=scope, state=state, step_id=meta.id, draft=draft, now=now
            )
            if found is None:
                raise NotFound("That step is not on this channel's map any more.", field="name")
            if after:
                found = await store.move_step(
                    work.session,
                    scope=scope,
                    state=state,
                    step_id=meta.id,
                    after_id=after_id,
                    now=now,
                )
            assert found is not None
            step = found
        return step, await store.list_steps(work.session, scope=scope, state=state)

    saved = await in_workspace(deps, origin, write)
    if saved is None:
        return None
    step, steps = saved
    logger.info(
        "vsm.step_saved",
        extra={"team": origin.team_id, "channel": meta.c, "state": state.value},
    )
    return next(s for s in steps if s.id == step.id), steps


async def submit_remove(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    try:
        meta = VsmModalMeta.parse(sub.view.private_metadata)
    except KaizenError as error:
        await ack(response_action="update", view=build_notice("Remove a step", error.message))
        return
    removed = None
    steps: Sequence[Step] = []
    if meta.id is not None:
        async with workspace_transaction(deps, Origin.of(context)) as work:
            scope = work.scope(meta.c)
            removed = await store.remove_step(
                work.session, scope=scope, state=meta.st, step_id=meta.id, now=deps.now()
            )
            steps = await store.list_steps(work.session, scope=scope, state=meta.st)
    if removed is None:
        text = "That step is not on this channel's map any more, so nothing was removed."
        await ack(response_action="update", view=build_notice("Remove a step", text))
        return
    await ack()
    logger.info("vsm.step_removed", extra={"channel": meta.c, "state": meta.st.value})
    deps.spawn(
        tell(
            client,
            user=sub.user.id,
            channel=meta.c,
            message=build_step_removed(removed, steps, meta.st),
            response_url=trusted_response_url(meta.r, deps),
        ),
        name="vsm.step_removed",
    )


# -- moving ------------------------------------------------------------------------------------


async def _move(deps: Deps, origin: Origin, cmd: Command, rest: str) -> dict[str, Any]:
    state, text = _split_state(rest)
    if not text:
        return build_error("Which step, and where to? Try `/vsm move Testing after Code review`.")
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(cmd.channel_id)
        steps = await store.list_steps(work.session, scope=scope, state=state)
        by_name = {s.name.casefold(): s for s in steps}
        try:
            request = parse_move(text, by_name)
        except KaizenError as error:
            return build_error(error.message)
        moving = by_name.get(request.name.casefold())
        other = by_name.get(request.other.casefold()) if request.other else None
        if moving is None or (request.other and other is None):
            missing = request.name if moving is None else (request.other or "")
            return build_step_not_found(missing, steps, state)
        assert moving.id is not None
        order = [s.id for s in steps if s.id is not None]
        try:
            after_id = after_id_for(
                order, moving.id, request.placement, other.id if other else None
            )
        except KaizenError as error:
            return build_error(error.message)
        moved = await store.move_step(
            work.session,
            scope=scope,
            state=state,
            step_id=moving.id,
            after_id=after_id,
            now=deps.now(),
        )
        steps = await store.list_steps(work.session, scope=scope, state=state)
    assert moved is not None
    return build_step_moved(next(s for s in steps if s.id == moved.id), steps, state)
