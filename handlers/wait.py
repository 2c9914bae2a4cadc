"""/wait: time spent waiting, quick or by modal; it feeds the measured wait per step."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.errors import InvalidInput, KaizenError
from bot.domain.wastes import parse_quick_wait
from bot.usecases.notify import bot_in_channel
from bot.usecases.waste import log_waste
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_ephemeral, build_error, with_invite_note
from bot.views.waste import build_wait_modal, build_waste_confirmation
from handlers.edge import ack_form, confirm
from handlers.forms import WaitForm, WasteModalMeta, read_form
from handlers.help import register_command
from handlers.payloads import Command, ViewSubmission
from storage.vsm import list_steps

logger = logging.getLogger(__name__)

WAIT_FIELDS: dict[str | None, str] = {"step": ids.BLOCK_WAIT_STEP, None: ids.BLOCK_WAIT_REASON}


def register(app: AsyncApp) -> None:
    register_command(app, ids.CMD_WAIT, wait_command)
    app.view(ids.VIEW_WAIT)(submit_wait)


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
    waste = await log_waste(
        deps, origin, cmd.channel_id, quick, user=cmd.user_id, delivery=cmd.trigger_id
    )
    if waste is None:
        return build_ephemeral("That wait is logged already.")
    confirmation = build_waste_confirmation(waste)
    if await bot_in_channel(client, cmd.channel_id) is False:
        return with_invite_note(confirmation, cmd.channel_id)
    return confirmation


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
