"""/wait: time spent waiting, quick or by modal; it feeds the measured wait per step."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.durations import parse_duration
from bot.domain.errors import InvalidInput, KaizenError
from bot.domain.observations import NewWaste, Source
from bot.domain.wastes import WasteCategory, clean_description, parse_quick_wait
from bot.usecases.notify import tell
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_ephemeral, build_error
from bot.views.help import build_help
from bot.views.waste import MAX_WORK_ITEM, build_wait_modal, build_waste_confirmation
from handlers.edge import FormErrors, errors_ack, trusted_response_url
from handlers.help import HELP_WORDS
from handlers.payloads import BlockActions, Command, ViewSubmission
from handlers.waste import WasteModalMeta, store_submission
from storage import waste as store
from storage.vsm import find_step, list_steps

logger = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.command(ids.CMD_WAIT)(wait_command)
    app.view(ids.VIEW_WAIT)(submit_wait)
    app.action(re.compile(rf"^{re.escape(ids.ACTION_WAIT_PICK_STEP)}\."))(pick_step)


async def wait_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    cmd = Command.model_validate(body)
    origin = Origin.of(context)
    if cmd.subcommand in HELP_WORDS:
        await ack(**build_help(ids.CMD_WAIT))
    elif not cmd.text.strip():
        await ack()
        async with workspace_transaction(deps, origin) as work:
            steps = await list_steps(work.session, scope=work.scope(cmd.channel_id))
        meta = WasteModalMeta(c=cmd.channel_id, r=cmd.response_url or None)
        await client.views_open(
            trigger_id=cmd.trigger_id, view=build_wait_modal(metadata=meta.dump(), steps=steps)
        )
    else:
        await ack(**await _quick_wait(deps, origin, cmd))


async def _quick_wait(deps: Deps, origin: Origin, cmd: Command) -> dict[str, Any]:
    try:
        quick = parse_quick_wait(cmd.text)
    except KaizenError as error:
        return build_error(error.message)
    async with workspace_transaction(deps, origin) as work:
        if not await work.first_delivery(cmd.trigger_id):
            return build_ephemeral("That wait is logged already.")
        scope = work.scope(cmd.channel_id)
        step, steps = None, []
        if quick.step_hint:
            step = await find_step(work.session, scope=scope, name=quick.step_hint)
            if step is None:
                steps = await list_steps(work.session, scope=scope)
        new = NewWaste(
            category=WasteCategory.WAITING.value,
            description=quick.reason_without_step if step else quick.reason,
            minutes=quick.minutes,
            is_wait=True,
            step_id=step.id if step else None,
            source=Source.COMMAND,
        )
        waste = await store.add_observation(
            work.session,
            scope=scope,
            waste=new,
            reporter_id=cmd.user_id,
            reporter_key=work.reporter_key(cmd.user_id),
            now=deps.now(),
        )
    assert waste is not None
    logger.info("wait.logged", extra={"team": origin.team_id, "channel": cmd.channel_id})
    unknown = quick.step_hint if step is None else None
    return build_waste_confirmation(waste, unknown_step=unknown, steps=steps)


async def pick_step(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    observation, _, step = (action.action.value or "").partition(":")
    updated = None
    if observation.isdigit() and (step.isdigit() or not step):
        async with workspace_transaction(deps, Origin.of(context)) as work:
            updated = await store.set_step(
                work.session,
                workspace_id=work.workspace_id,
                observation_id=int(observation),
                reporter_key=work.reporter_key(action.user.id),
                step_id=int(step) if step else None,
            )
    if updated is None:
        await respond(**build_error(GONE), replace_original=False)
        return
    await respond(**build_waste_confirmation(updated), replace_original=True)


GONE = "That log is gone (undone, or not yours), or its step was removed from the map."


def _read_wait_form(sub: ViewSubmission) -> NewWaste:
    errors: dict[str, str] = {}
    minutes = 0
    try:
        minutes = parse_duration(sub.text(ids.BLOCK_WAIT_MINUTES, ids.ACTION_WAIT_INPUT))
    except KaizenError as error:
        errors[ids.BLOCK_WAIT_MINUTES] = error.message
    reason = ""
    try:
        reason = clean_description(sub.text(ids.BLOCK_WAIT_REASON, ids.ACTION_WAIT_INPUT))
    except KaizenError as error:
        errors[ids.BLOCK_WAIT_REASON] = error.message.replace(
            "what happened", "what you waited for"
        )
    work_item = sub.text(ids.BLOCK_WAIT_WORK_ITEM, ids.ACTION_WAIT_INPUT).strip()
    if len(work_item) > MAX_WORK_ITEM:
        errors[ids.BLOCK_WAIT_WORK_ITEM] = f"Keep the work item to {MAX_WORK_ITEM} characters."
    step_id = None
    if step := sub.selected(ids.BLOCK_WAIT_STEP, ids.ACTION_WAIT_INPUT):
        if step.isdigit():
            step_id = int(step)
        else:
            errors[ids.BLOCK_WAIT_STEP] = "Pick a step of this channel's value stream."
    if errors:
        raise FormErrors(errors)
    return NewWaste(
        category=WasteCategory.WAITING.value,
        description=reason,
        minutes=minutes,
        is_wait=True,
        step_id=step_id,
        work_item=work_item,
        source=Source.MODAL,
    )


async def submit_wait(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    origin = Origin.of(context)
    try:
        meta = WasteModalMeta.parse(sub.view.private_metadata)
        if meta.c is None:
            raise InvalidInput("This form can't be read any more. Close it and run /wait again.")
        new = _read_wait_form(sub)
        waste = await store_submission(
            deps, origin, sub, meta.c, new, step_block=ids.BLOCK_WAIT_STEP
        )
    except (InvalidInput, FormErrors) as error:
        await ack(**errors_ack(error, {None: ids.BLOCK_WAIT_REASON}))
        return
    await ack()
    if waste is not None:
        deps.spawn(
            tell(
                client,
                user=sub.user.id,
                channel=meta.c,
                message=build_waste_confirmation(waste),
                response_url=trusted_response_url(meta.r, deps),
            ),
            name="wait.confirm",
        )
