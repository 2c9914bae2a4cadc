"""/wait: time spent waiting, quick or by modal; it feeds the measured wait per step."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.errors import InvalidInput, KaizenError
from bot.domain.wastes import parse_quick_wait
from bot.usecases.notify import bot_in_channel
from bot.usecases.waste import log_quick_wait, log_waste, place_log_at_step
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_ephemeral, build_error, with_invite_note
from bot.views.waste import build_wait_modal, build_waste_confirmation
from handlers.edge import ack_form, confirm
from handlers.forms import WaitForm, WasteModalMeta, read_form
from handlers.help import register_command
from handlers.payloads import BlockActions, Command, ViewSubmission
from storage.vsm import list_steps

logger = logging.getLogger(__name__)

WAIT_FIELDS: dict[str | None, str] = {"step": ids.BLOCK_WAIT_STEP, None: ids.BLOCK_WAIT_REASON}


def register(app: AsyncApp) -> None:
    register_command(app, ids.CMD_WAIT, wait_command)
    app.view(ids.VIEW_WAIT)(submit_wait)
    app.action(re.compile(rf"^{re.escape(ids.ACTION_WAIT_PICK_STEP)}\."))(pick_step)


async def wait_command(
    ack: AsyncAck, cmd: Command, client: AsyncWebClient, origin: Origin, deps: Deps
) -> None:
    if not cmd.text.strip():
        await ack()
        async with workspace_transaction(deps, origin) as work:
            steps = await list_steps(work.session, scope=work.scope(cmd.channel_id))
        meta = WasteModalMeta(c=cmd.channel_id, r=cmd.response_url or None)
        await client.views_open(
            trigger_id=cmd.trigger_id, view=build_wait_modal(metadata=meta.dump(), steps=steps)
        )
    else:
        await ack(**await _quick_wait(client, deps, origin, cmd))


async def _quick_wait(
    client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command
) -> dict[str, Any]:
    try:
        quick = parse_quick_wait(cmd.text)
    except KaizenError as error:
        return build_error(error.message)
    logged = await log_quick_wait(
        deps, origin, cmd.channel_id, quick, user=cmd.user_id, delivery=cmd.trigger_id
    )
    if logged.waste is None:
        return build_ephemeral("That wait is logged already.")
    confirmation = build_waste_confirmation(
        logged.waste, unknown_step=logged.unknown_step, steps=logged.steps
    )
    if await bot_in_channel(client, cmd.channel_id) is False:
        return with_invite_note(confirmation, cmd.channel_id)
    return confirmation


async def pick_step(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    updated = await place_log_at_step(
        deps, Origin.of(context), user=action.user.id, value=action.action.value or ""
    )
    if updated is None:
        await respond(**build_error(STEP_GONE), replace_original=False)
        return
    await respond(**build_waste_confirmation(updated), replace_original=True)


STEP_GONE = "That log is gone (undone, or not yours), or its step was removed from the map."


async def _log(deps: Deps, origin: Origin, sub: ViewSubmission) -> Any:
    meta = WasteModalMeta.parse(sub.view.private_metadata)
    if meta.c is None:
        raise InvalidInput("This form can't be read any more. Close it and run /wait again.")
    new = read_form(WaitForm, sub).waste()
    delivery = f"view:{sub.view.id}:{sub.view.callback_id}"
    return meta, await log_waste(deps, origin, meta.c, new, user=sub.user.id, delivery=delivery)


async def submit_wait(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    accepted = await ack_form(ack, WAIT_FIELDS, _log(deps, Origin.of(context), sub))
    if accepted is None or accepted.value[1] is None:
        return
    meta, waste = accepted.value
    confirm(
        client,
        deps,
        user=sub.user.id,
        channel=meta.c,
        message=build_waste_confirmation(waste),
        response_url=meta.r,
        name="wait.confirm",
    )
