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
from bot.domain.errors import KaizenError
from bot.domain.observations import NewWaste, Source
from bot.domain.wastes import WasteCategory, parse_quick_waste
from bot.usecases.notify import BEFORE_ACK_BUDGET, bot_in_channel
from bot.usecases.waste import log_waste
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_ephemeral, build_error, with_invite_hint, with_invite_note
from bot.views.waste import (
    build_undone,
    build_waste_confirmation,
    build_waste_list,
    build_waste_modal,
)
from handlers.edge import ack_form, confirm
from handlers.forms import WasteForm, WasteModalMeta, read_form
from handlers.help import register_command
from handlers.payloads import (
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


def register_first(app: AsyncApp) -> None:
    """The listeners of quick logs and the waste modal (``handlers.register_all``)."""
    register_command(app, ids.CMD_WASTE, waste_command)
    app.view(ids.VIEW_WASTE)(submit_waste)


def register(app: AsyncApp) -> None:
    app.shortcut(ids.SHORTCUT_LOG_WASTE)(open_waste_modal_for_message)
    app.action(ids.ACTION_WASTE_UNDO)(undo_waste)
    app.action(re.compile(rf"^{re.escape(ids.ACTION_WASTE_PICK_CATEGORY)}\."))(pick_category)
    app.action(ids.ACTION_WASTE_OPEN_MODAL)(open_waste_modal_from_home)


async def waste_command(
    ack: AsyncAck, cmd: Command, client: AsyncWebClient, origin: Origin, deps: Deps
) -> None:
    if not cmd.text.strip():
        await ack()
        await _open_modal(
            client,
            deps,
            origin,
            cmd.trigger_id,
            WasteModalMeta(c=cmd.channel_id, r=cmd.response_url or None),
        )
    elif cmd.subcommand == "list" and not cmd.rest:
        await ack(**await _list_logs(client, deps, origin, cmd))
    else:
        await ack(**await _quick_log(client, deps, origin, cmd))


async def _quick_log(
    client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command
) -> dict[str, Any]:
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
    confirmation = build_waste_confirmation(waste, unread_time=quick.unread_time)
    if await bot_in_channel(client, cmd.channel_id) is False:
        return with_invite_note(confirmation, cmd.channel_id)
    return confirmation


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
    return build_waste_list(wastes, now=deps.now())


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


async def _permalink(client: AsyncWebClient, team: str, channel: str, ts: str) -> str | None:
    """The message's link ("" when Slack is slow); None when the bot cannot see the channel."""
    try:
        async with asyncio.timeout(BEFORE_ACK_BUDGET):
            found = await client.chat_getPermalink(channel=channel, message_ts=ts)
        return str(found["permalink"])
    except TimeoutError:
        logger.info("waste.permalink_slow", extra={"team": team, "channel": channel})
        return ""
    except SlackApiError as exc:
        if exc.response.get("error") in ("channel_not_found", "not_in_channel"):
            return None
        return ""


async def open_waste_modal_for_message(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    shortcut = MessageShortcut.model_validate(body)
    origin, channel, ts = Origin.of(context), shortcut.channel.id, shortcut.message.ts
    link = await _permalink(client, origin.team_id, channel, ts)
    # A private channel the bot was never invited to: log it all the same, say how to invite.
    meta = WasteModalMeta(
        c=channel, s=Source.SHORTCUT, ts=ts, r=body.get("response_url"), ni=link is None
    )
    await _open_modal(
        client,
        deps,
        origin,
        shortcut.trigger_id,
        meta,
        description=shortcut.message.text,
        link=link or "",
    )


async def open_waste_modal_from_home(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    await _open_modal(
        client, deps, Origin.of(context), action.trigger_id, WasteModalMeta(c=action.channel_id)
    )


async def _log(deps: Deps, origin: Origin, sub: ViewSubmission) -> Any:
    meta = WasteModalMeta.parse(sub.view.private_metadata)
    form = read_form(WasteForm, sub, channel=meta.c)
    channel, new = form.channel, form.waste(meta)
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
        client,
        deps,
        user=sub.user.id,
        channel=channel,
        message=message,
        response_url=meta.r,
        name="waste.confirm",
    )


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
                "There is nothing of yours to undo there: it was undone already, someone "
                "else logged it, or it is an anonymous log older than an hour (after that it "
                "is nobody's)."
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
