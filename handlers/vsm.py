"""/vsm: the channel's value stream map — steps kept by modal, the map drawn as an image.

Drawing is CPU work and uploading is slow, so ``/vsm``, ``/vsm future`` and ``/vsm compare``
read what they need, answer "Drawing…" at once and leave the picture to a follow-up task.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, ClassVar

from pydantic import Field
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.errors import KaizenError
from bot.domain.vsm import (
    MAX_STEP_NAME,
    MapState,
    Step,
    compare_maps,
)
from bot.usecases import vsm
from bot.usecases.vsm import STATE_WORDS, MapUpload, StepChange, split_state
from bot.usecases.work import Origin
from bot.views.help import build_help
from bot.views.vsm import (
    COMPARISON_FILENAME,
    FILENAMES,
    STATE_LABELS,
    build_drawing,
    build_empty_map,
    build_no_comparison,
    build_notice,
    build_remove_modal,
    build_step_modal,
    build_step_not_found,
    build_step_removed,
    build_step_saved,
    comparison_summary,
    map_summary,
)
from handlers.edge import ack_form, confirm
from handlers.forms import StepForm, read_form
from handlers.help import register_command, unknown_subcommand
from handlers.payloads import CHANNEL_ID, Command, ModalMeta, ViewSubmission

logger = logging.getLogger(__name__)

FIELDS: dict[str | None, str] = {
    "name": ids.BLOCK_VSM_NAME,
    "after": ids.BLOCK_VSM_AFTER,
    None: ids.BLOCK_VSM_NAME,
}
A = ids.ACTION_VSM_INPUT


class VsmModalMeta(ModalMeta):
    """What the step and remove forms carry between opening and submit."""

    command: ClassVar[str] = ids.CMD_VSM

    c: str = Field(pattern=CHANNEL_ID)
    st: MapState = MapState.CURRENT
    id: int | None = Field(default=None, ge=1)
    r: str | None = Field(default=None, max_length=500)


def register(app: AsyncApp) -> None:
    register_command(app, ids.CMD_VSM, vsm_command)
    app.view(ids.VIEW_VSM_STEP)(submit_step)
    app.view(ids.VIEW_VSM_REMOVE)(submit_remove)


async def vsm_command(
    ack: AsyncAck, cmd: Command, client: AsyncWebClient, origin: Origin, deps: Deps
) -> None:
    sub, rest = cmd.subcommand, cmd.rest.strip()
    if sub in ("", "show") and rest.casefold() in STATE_WORDS.keys() | {""}:
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
        await ack(**await vsm.move_step(deps, origin, cmd.channel_id, rest))
    else:
        await ack(**build_help(ids.CMD_VSM, problem=unknown_subcommand(cmd)))


def _map_title(cmd: Command) -> str:
    if cmd.channel_name and cmd.channel_name not in ("privategroup", "directmessage"):
        return f"#{cmd.channel_name} value stream"
    return "Value stream"


# -- drawing -----------------------------------------------------------------------------------


async def _show(
    ack: AsyncAck,
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    cmd: Command,
    state: MapState,
) -> None:
    found = await vsm.read_map(deps, origin, cmd.channel_id, state)
    if not found.steps:
        await ack(**build_empty_map(state))
        return
    await ack(**build_drawing(state))
    title = _map_title(cmd)
    from bot.charts.vsm_map import render_value_stream  # the chart libraries load when first used

    png = deps.run_cpu(
        render_value_stream, found.steps, title=title, state_label=STATE_LABELS[state],
        notes=found.notes,
    )  # fmt: skip
    comment = map_summary(found.steps, title=title, state=state, notes=found.notes)
    upload = MapUpload(FILENAMES[state], f"{title} — {STATE_LABELS[state].lower()}", comment)
    _post_image(client, deps, origin, cmd, png, upload, name="vsm.show")


async def _compare(
    ack: AsyncAck, client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command
) -> None:
    current = await vsm.list_map(deps, origin, cmd.channel_id, MapState.CURRENT)
    future = await vsm.list_map(deps, origin, cmd.channel_id, MapState.FUTURE)
    if not current or not future:
        await ack(**build_no_comparison(len(current), len(future)))
        return
    await ack(**build_drawing(None))
    title = _map_title(cmd)
    from bot.charts.vsm_map import render_comparison  # the chart libraries load when first used

    png = deps.run_cpu(render_comparison, current, future, title=title, drawn_on=deps.now().date())
    upload = MapUpload(
        COMPARISON_FILENAME,
        f"{title} — current vs future state",
        comparison_summary(compare_maps(current, future), title=title),
    )
    _post_image(client, deps, origin, cmd, png, upload, name="vsm.compare")


def _post_image(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    cmd: Command,
    png: Awaitable[bytes],
    upload: MapUpload,
    *,
    name: str,
) -> None:
    posting = vsm.post_map_image(
        client,
        origin,
        png,
        channel=cmd.channel_id,
        user=cmd.user_id,
        response_url=cmd.response_url or None,
        upload=upload,
        again=f"{cmd.command} {cmd.text}".strip(),
    )
    deps.spawn(posting, name=name)


# -- the forms ---------------------------------------------------------------------------------


async def _open_add(
    ack: AsyncAck,
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    cmd: Command,
    rest: str,
) -> None:
    state, name = split_state(rest)
    steps = await vsm.list_map(deps, origin, cmd.channel_id, state)
    await ack()
    meta = VsmModalMeta(c=cmd.channel_id, st=state, r=cmd.response_url or None)
    view = build_step_modal(
        metadata=meta.dump(), state=state, steps=steps, name=name[:MAX_STEP_NAME]
    )
    await client.views_open(trigger_id=cmd.trigger_id, view=view)


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
    state, step, steps = await vsm.find_step_to_change(
        deps, origin, cmd.channel_id, rest, with_map=not remove
    )
    if step is None:
        await ack(**build_step_not_found(split_state(rest)[1], steps, state))
        return
    await ack()
    meta = VsmModalMeta(c=cmd.channel_id, st=state, id=step.id, r=cmd.response_url or None)
    if remove:
        view = build_remove_modal(metadata=meta.dump(), state=state, step=step)
    else:
        view = build_step_modal(metadata=meta.dump(), state=state, steps=steps, step=step)
    await client.views_open(trigger_id=cmd.trigger_id, view=view)


def _read_step_form(sub: ViewSubmission, meta: VsmModalMeta) -> StepChange:
    form = read_form(StepForm, sub)
    # A new step may go on either map; an edited one stays where it is.
    state = form.state if meta.id is None and form.state else meta.st
    return StepChange(meta.c, state, meta.st, meta.id, form.draft(), form.after or "")


async def _save(
    deps: Deps, origin: Origin, sub: ViewSubmission
) -> tuple[VsmModalMeta, StepChange, tuple[Step, list[Step]] | None]:
    meta = VsmModalMeta.parse(sub.view.private_metadata)
    change = _read_step_form(sub, meta)
    delivery = f"view:{sub.view.id}:{sub.view.callback_id}"
    saved = await vsm.save_step(deps, origin, change, user=sub.user.id, delivery=delivery)
    return meta, change, saved


async def submit_step(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    accepted = await ack_form(ack, FIELDS, _save(deps, Origin.of(context), sub))
    if accepted is None or accepted.value[2] is None:
        return
    meta, change, (step, steps) = accepted.value[0], accepted.value[1], accepted.value[2]
    message = build_step_saved(step, steps, change.state, added=meta.id is None)
    confirm(
        client,
        deps,
        user=sub.user.id,
        channel=meta.c,
        message=message,
        response_url=meta.r,
        name="vsm.step_saved",
    )


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
    if meta.id is not None:
        removed = await vsm.remove_step(
            deps, Origin.of(context), meta.c, meta.st, meta.id, user=sub.user.id
        )
    if removed is None:
        text = "That step is not on this channel's map any more, so nothing was removed."
        await ack(response_action="update", view=build_notice("Remove a step", text))
        return
    await ack()
    confirm(
        client,
        deps,
        user=sub.user.id,
        channel=meta.c,
        message=build_step_removed(removed[0], removed[1], meta.st),
        response_url=meta.r,
        name="vsm.step_removed",
    )
