"""Capturing waste: /waste (quick text or modal), the "Log as waste" shortcut, Undo, categories.

The waste emoji reaction arrives through ``handlers.reactions``, which calls
``log_waste_reaction`` and ``retract_waste_reaction`` here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, ClassVar

from pydantic import Field
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.durations import parse_duration
from bot.domain.errors import InvalidInput, KaizenError
from bot.domain.observations import LoggedWaste, NewWaste, Source
from bot.domain.wastes import WasteCategory, clean_description, parse_quick_waste
from bot.usecases.notify import BEFORE_ACK_BUDGET, tell, user_tz_offset
from bot.usecases.work import Origin, Work, in_workspace, workspace_transaction
from bot.views.common import build_ephemeral, build_error, with_invite_hint
from bot.views.help import build_help
from bot.views.waste import (
    MAX_LINK,
    build_reaction_prompt,
    build_undone,
    build_waste_confirmation,
    build_waste_list,
    build_waste_modal,
)
from handlers.edge import FormErrors, errors_ack, trusted_response_url
from handlers.help import HELP_WORDS
from handlers.payloads import (
    CHANNEL_ID,
    BlockActions,
    Command,
    MessageShortcut,
    ModalMeta,
    ReactionEvent,
    ViewSubmission,
)
from storage import waste as store
from storage.vsm import get_step, list_steps
from storage.workspaces import Scope

logger = logging.getLogger(__name__)


class WasteModalMeta(ModalMeta):
    """What the modal carries between opening and submit (``private_metadata``)."""

    command: ClassVar[str] = ids.CMD_WASTE

    c: str | None = Field(default=None, pattern=CHANNEL_ID)
    s: Source = Source.MODAL
    ts: str | None = Field(default=None, pattern=r"^\d{1,12}\.\d{1,8}$")
    r: str | None = Field(default=None, max_length=500)
    ni: bool = False
    """The bot is not in the channel: the confirmation says how to invite it."""


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

    async def write(work: Work) -> LoggedWaste | None:
        if not await work.first_delivery(cmd.trigger_id):
            return None
        return await store.add_observation(
            work.session,
            scope=work.scope(cmd.channel_id),
            waste=new,
            reporter_id=cmd.user_id,
            reporter_key=work.reporter_key(cmd.user_id),
            now=deps.now(),
        )

    waste = await in_workspace(deps, origin, write)
    if waste is None:
        return build_ephemeral("That waste is logged already.")
    logger.info(
        "waste.logged",
        extra={"team": origin.team_id, "channel": cmd.channel_id, "source": "command"},
    )
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
    errors: dict[str, str] = {}
    value = sub.text
    channel = meta.c or sub.value(ids.BLOCK_WASTE_CHANNEL, ids.ACTION_WASTE_INPUT) or {}
    if isinstance(channel, dict):
        channel = channel.get("selected_conversation") or ""
    if not re.match(CHANNEL_ID, str(channel)):
        errors[ids.BLOCK_WASTE_CHANNEL] = "Pick the channel of the team this waste belongs to."
    category = sub.selected(ids.BLOCK_WASTE_CATEGORY, ids.ACTION_WASTE_INPUT)
    if category not in {c.value for c in WasteCategory}:
        errors[ids.BLOCK_WASTE_CATEGORY] = "Pick one of the eight kinds of waste."
    description = ""
    try:
        description = clean_description(value(ids.BLOCK_WASTE_DESCRIPTION, ids.ACTION_WASTE_INPUT))
    except KaizenError as error:
        errors[ids.BLOCK_WASTE_DESCRIPTION] = error.message
    minutes = None
    if typed := value(ids.BLOCK_WASTE_MINUTES, ids.ACTION_WASTE_INPUT).strip():
        try:
            minutes = parse_duration(typed)
        except KaizenError as error:
            errors[ids.BLOCK_WASTE_MINUTES] = error.message
    link = value(ids.BLOCK_WASTE_LINK, ids.ACTION_WASTE_INPUT).strip()
    if link and (not re.match(r"^https?://\S+$", link) or len(link) > MAX_LINK):
        errors[ids.BLOCK_WASTE_LINK] = "Paste a web address starting with https://"
    step_id = None
    if step := sub.selected(ids.BLOCK_WASTE_STEP, ids.ACTION_WASTE_INPUT):
        if not step.isdigit():
            errors[ids.BLOCK_WASTE_STEP] = "Pick a step of this channel's value stream."
        else:
            step_id = int(step)
    checked = (sub.value(ids.BLOCK_WASTE_ANONYMOUS, ids.ACTION_WASTE_INPUT) or {}).get(
        "selected_options"
    ) or []
    if errors:
        raise FormErrors(errors)
    new = NewWaste(
        category=category,
        description=description,
        minutes=minutes,
        step_id=step_id,
        link=link,
        source=meta.s if meta.s in (Source.SHORTCUT, Source.MODAL) else Source.MODAL,
        anonymous=any(o.get("value") == "anonymous" for o in checked),
        message_ts=meta.ts,
    )
    return str(channel), new


async def submit_waste(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    try:
        meta = WasteModalMeta.parse(sub.view.private_metadata)
        channel, new = _read_waste_form(sub, meta)
        waste = await store_submission(
            deps, Origin.of(context), sub, channel, new, step_block=ids.BLOCK_WASTE_STEP
        )
    except (InvalidInput, FormErrors) as error:
        await ack(**errors_ack(error, {None: ids.BLOCK_WASTE_DESCRIPTION}))
        return
    await ack()
    if waste is None:
        return
    message = build_waste_confirmation(waste)
    if meta.ni:
        message = with_invite_hint(message, channel)
    deps.spawn(
        tell(
            client,
            user=sub.user.id,
            channel=channel,
            message=message,
            response_url=trusted_response_url(meta.r, deps),
        ),
        name="waste.confirm",
    )


async def store_submission(
    deps: Deps,
    origin: Origin,
    sub: ViewSubmission,
    channel: str,
    new: NewWaste,
    *,
    step_block: str,
) -> LoggedWaste | None:
    """Store a modal's log once (a resubmitted view stores nothing); the step must be ours."""

    async def write(work: Work) -> LoggedWaste | None:
        scope = work.scope(channel)
        if new.step_id is not None and (
            await get_step(work.session, scope=scope, step_id=new.step_id) is None
        ):
            raise FormErrors({step_block: "That step is not on this channel's map."})
        if not await work.first_delivery(f"view:{sub.view.id}:{sub.view.callback_id}"):
            return None
        return await store.add_observation(
            work.session,
            scope=scope,
            waste=new,
            reporter_id=sub.user.id,
            reporter_key=work.reporter_key(sub.user.id),
            now=deps.now(),
        )

    waste = await in_workspace(deps, origin, write)
    logger.info(
        "waste.logged",
        extra={
            "team": origin.team_id,
            "channel": channel,
            "source": new.source.value,
            "wait": new.is_wait,
        },
    )
    return waste


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


async def log_waste_reaction(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    scope: Scope,
    event: ReactionEvent,
    event_id: str | None,
) -> None:
    """The waste emoji on a message: log it once per message and reporter, ask the category."""
    assert event.item.ts is not None
    permalink, text = None, ""
    try:
        async with asyncio.timeout(BEFORE_ACK_BUDGET):
            found = await client.chat_getPermalink(
                channel=scope.channel_id, message_ts=event.item.ts
            )
            permalink = str(found["permalink"])
            text = await _message_text(client, scope.channel_id, event.item.ts)
    except (SlackApiError, TimeoutError):
        logger.info("waste.message_unavailable", extra={"channel": scope.channel_id})
    new = NewWaste(
        category=None,
        description=text,
        link=permalink or "",
        source=Source.REACTION,
        message_ts=event.item.ts,
    )
    async with workspace_transaction(deps, origin) as work:
        if not await work.first_delivery(event_id):
            return
        waste = await store.add_observation(
            work.session,
            scope=scope,
            waste=new,
            reporter_id=event.user,
            reporter_key=work.reporter_key(event.user),
            now=deps.now(),
        )
    if waste is None:
        return
    prompt = build_reaction_prompt(waste, permalink=permalink)
    deps.spawn(
        tell(client, user=event.user, channel=scope.channel_id, message=prompt),
        name="waste.reaction_prompt",
    )


async def _message_text(client: AsyncWebClient, channel: str, ts: str) -> str:
    try:
        found = await client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
    except SlackApiError:
        return ""
    messages = found.get("messages") or []
    if messages and messages[0].get("ts") == ts:
        return str(messages[0].get("text") or "")[:3000]
    return ""


async def retract_waste_reaction(
    deps: Deps, origin: Origin, scope: Scope, event: ReactionEvent
) -> None:
    assert event.item.ts is not None
    async with workspace_transaction(deps, origin) as work:
        await store.delete_reaction_observation(
            work.session,
            scope=scope,
            message_ts=event.item.ts,
            reporter_key=work.reporter_key(event.user),
        )
