"""Capturing waste: /waste (quick text or modal), the "Log as waste" shortcut, Undo, categories.

The waste emoji reaction arrives through ``handlers.reactions``, which calls
``bot.usecases.waste`` as this module does.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.durations import parse_duration
from bot.domain.errors import KaizenError
from bot.domain.observations import NewWaste, Source
from bot.domain.wastes import WasteCategory, clean_description, parse_quick_waste
from bot.usecases.notify import BEFORE_ACK_BUDGET, user_tz_offset
from bot.usecases.waste import log_waste
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_ephemeral, build_error, with_invite_hint
from bot.views.help import build_help
from bot.views.waste import (
    MAX_LINK,
    build_undone,
    build_waste_confirmation,
    build_waste_list,
    build_waste_modal,
)
from handlers.edge import ack_form, confirm
from handlers.forms import CATEGORIES, Fields, WasteModalMeta
from handlers.help import HELP_WORDS
from handlers.payloads import (
    CHANNEL_ID,
    BlockActions,
    Command,
    MessageShortcut,
    ViewSubmission,
)
from storage import waste as store
from storage.vsm import list_steps

logger = logging.getLogger(__name__)

WASTE_FIELDS: dict[str | None, str] = {
    "step": ids.BLOCK_WASTE_STEP,
    None: ids.BLOCK_WASTE_DESCRIPTION,
}


def register(app: AsyncApp) -> None:
    app.command(ids.CMD_WASTE)(waste_command)
    app.view(ids.VIEW_WASTE)(submit_waste)
    app.shortcut(ids.SHORTCUT_LOG_WASTE)(open_waste_modal_for_message)
    app.action(ids.ACTION_WASTE_UNDO)(undo_waste)
    app.action(re.compile(rf"^{re.escape(ids.ACTION_WASTE_PICK_CATEGORY)}\."))(pick_category)
    app.action(ids.ACTION_WASTE_OPEN_MODAL)(open_waste_modal_from_home)


async def waste_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    cmd = Command.model_validate(body)
    if cmd.subcommand in HELP_WORDS:
        await ack(**build_help(ids.CMD_WASTE))
    elif not cmd.text.strip():
        await ack()
        await _open_modal(
            client,
            deps,
            Origin.of(context),
            cmd.trigger_id,
            WasteModalMeta(c=cmd.channel_id, r=cmd.response_url or None),
        )
    elif cmd.subcommand == "list" and not cmd.rest:
        await ack(**await _list_logs(client, deps, Origin.of(context), cmd))
    else:
        await ack(**await _quick_log(deps, Origin.of(context), cmd))


async def _quick_log(deps: Deps, origin: Origin, cmd: Command) -> dict[str, Any]:
    try:
        quick = parse_quick_waste(cmd.text)
    except KaizenError as error:
        return build_error(f"{error.message} Try `/waste waiting 2h for the CI runner`.")
    new = NewWaste(
        category=quick.category.value if quick.category else None,
        description=quick.description,
        minutes=quick.minutes,
        source=Source.COMMAND,
    )
    waste = await log_waste(
        deps, origin, cmd.channel_id, new, user=cmd.user_id, delivery=cmd.trigger_id
    )
    if waste is None:
        return build_ephemeral("That waste is logged already.")
    return build_waste_confirmation(waste)


async def _list_logs(
    client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command
) -> dict[str, Any]:
    async with workspace_transaction(deps, origin) as work:
        wastes = await store.list_reporter_observations(
            work.session,
            workspace_id=work.workspace_id,
            reporter_key=work.reporter_key(cmd.user_id),
            channel_id=cmd.channel_id,
        )
    return build_waste_list(wastes, tz_offset_seconds=await user_tz_offset(client, cmd.user_id))


async def _open_modal(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    trigger_id: str,
    meta: WasteModalMeta,
    *,
    description: str = "",
    link: str = "",
) -> None:
    steps = []
    if meta.c:
        async with workspace_transaction(deps, origin) as work:
            steps = await list_steps(work.session, scope=work.scope(meta.c))
    view = build_waste_modal(
        metadata=meta.dump(),
        steps=steps,
        description=description,
        link=link,
        ask_channel=meta.c is None,
    )
    await client.views_open(trigger_id=trigger_id, view=view)


async def open_waste_modal_for_message(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    shortcut = MessageShortcut.model_validate(body)
    meta = WasteModalMeta(
        c=shortcut.channel.id, s=Source.SHORTCUT, ts=shortcut.message.ts, r=body.get("response_url")
    )
    link = ""
    try:
        async with asyncio.timeout(BEFORE_ACK_BUDGET):
            found = await client.chat_getPermalink(
                channel=shortcut.channel.id, message_ts=shortcut.message.ts
            )
        link = str(found["permalink"])
    except TimeoutError:
        logger.info("waste.permalink_slow", extra={"channel": shortcut.channel.id})
    except SlackApiError as exc:
        # A private channel the bot was never invited to: log it all the same, say how to invite.
        meta.ni = exc.response.get("error") in ("channel_not_found", "not_in_channel")
    await _open_modal(
        client,
        deps,
        Origin.of(context),
        shortcut.trigger_id,
        meta,
        description=shortcut.message.text,
        link=link,
    )


async def open_waste_modal_from_home(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    await _open_modal(
        client, deps, Origin.of(context), action.trigger_id, WasteModalMeta(c=action.channel_id)
    )


def _read_waste_form(sub: ViewSubmission, meta: WasteModalMeta) -> tuple[str, NewWaste]:
    """The channel and the new log, or FormErrors naming every bad field."""
    form = Fields(sub, ids.ACTION_WASTE_INPUT)
    channel = meta.c or form.picked(ids.BLOCK_WASTE_CHANNEL, "selected_conversation") or ""
    form.require(
        ids.BLOCK_WASTE_CHANNEL,
        bool(re.match(CHANNEL_ID, channel)),
        "Pick the channel of the team this waste belongs to.",
    )
    category = form.selected(ids.BLOCK_WASTE_CATEGORY)
    form.require(
        ids.BLOCK_WASTE_CATEGORY, category in CATEGORIES, "Pick one of the eight kinds of waste."
    )
    description = form.clean(ids.BLOCK_WASTE_DESCRIPTION, clean_description)
    typed = form.text(ids.BLOCK_WASTE_MINUTES).strip()
    minutes = form.clean(ids.BLOCK_WASTE_MINUTES, parse_duration, None) if typed else None
    link = _read_link(form)
    step_id = form.number(ids.BLOCK_WASTE_STEP, "Pick a step of this channel's value stream.")
    checked = form.picked_options(ids.BLOCK_WASTE_ANONYMOUS)
    form.check()
    source = meta.s if meta.s in (Source.SHORTCUT, Source.MODAL) else Source.MODAL
    new = NewWaste(
        category=category, description=description, minutes=minutes, step_id=step_id,
        link=link, source=source, anonymous="anonymous" in checked, message_ts=meta.ts,
    )  # fmt: skip
    return channel, new


def _read_link(form: Fields) -> str:
    link = form.text(ids.BLOCK_WASTE_LINK).strip()
    web_address = bool(re.match(r"^https?://\S+$", link)) and len(link) <= MAX_LINK
    form.require(
        ids.BLOCK_WASTE_LINK, not link or web_address, "Paste a web address starting with https://"
    )
    return link


async def _log(deps: Deps, origin: Origin, sub: ViewSubmission) -> Any:
    meta = WasteModalMeta.parse(sub.view.private_metadata)
    channel, new = _read_waste_form(sub, meta)
    delivery = f"view:{sub.view.id}:{sub.view.callback_id}"
    waste = await log_waste(deps, origin, channel, new, user=sub.user.id, delivery=delivery)
    return meta, channel, waste


async def submit_waste(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    accepted = await ack_form(ack, WASTE_FIELDS, _log(deps, Origin.of(context), sub))
    if accepted is None or accepted.value[2] is None:
        return
    meta, channel, waste = accepted.value
    message = build_waste_confirmation(waste)
    if meta.ni:
        message = with_invite_hint(message, channel)
    confirm(
        client, deps, user=sub.user.id, channel=channel, message=message,
        response_url=meta.r, name="waste.confirm",
    )  # fmt: skip


async def undo_waste(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    value = action.action.value or ""
    gone = None
    if value.isdigit():
        async with workspace_transaction(deps, Origin.of(context)) as work:
            gone = await store.delete_observation(
                work.session,
                workspace_id=work.workspace_id,
                observation_id=int(value),
                reporter_key=work.reporter_key(action.user.id),
            )
    if gone is None:
        await respond(
            **build_error(
                "There is nothing of yours to undo there: it was undone "
                "already, or someone else logged it."
            ),
            replace_original=False,
        )
        return
    await respond(**build_undone(gone))


async def pick_category(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    observation, _, category = (action.action.value or "").partition(":")
    updated = None
    if observation.isdigit() and category in {c.value for c in WasteCategory}:
        async with workspace_transaction(deps, Origin.of(context)) as work:
            updated = await store.set_category(
                work.session,
                workspace_id=work.workspace_id,
                observation_id=int(observation),
                reporter_key=work.reporter_key(action.user.id),
                category=category,
            )
    if updated is None:
        await respond(
            **build_error(
                "That log is gone (undone, or not yours), so there is nothing to categorise."
            ),
            replace_original=False,
        )
        return
    await respond(**build_waste_confirmation(updated), replace_original=True)
