"""Async retros: /retro start, status and close, the note modal, nudges, and the summary buttons.

Votes on revealed notes arrive as reactions through ``handlers.reactions``, which hands them to
``bot.usecases.retros``. Phases also move at their deadlines (``jobs/retro_phases.py``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.errors import InvalidInput, KaizenError
from bot.domain.retro import (
    Note,
    Retro,
    RetroTemplate,
    clean_retro_title,
    clean_votes_per_person,
    validate_schedule,
)
from bot.usecases import retros
from bot.usecases.notify import tell
from bot.usecases.retros import RetroRef
from bot.usecases.work import Origin
from bot.views.common import build_ephemeral, build_error
from bot.views.help import build_help
from bot.views.kaizen import build_action_added, build_action_modal
from bot.views.retro import (
    build_note_modal,
    build_phase_moved,
    build_start_modal,
    build_status,
)
from handlers.edge import FormErrors, errors_ack, trusted_response_url
from handlers.forms import (
    ActionItemForm,
    Form,
    domain,
    open_theme_form,
    pick,
    read_form,
)
from handlers.help import HELP_WORDS, unknown_subcommand
from handlers.payloads import BlockActions, Command, ModalMeta, ViewSubmission
from storage.retro import NewRetro

A = ids.ACTION_RETRO_INPUT
T = TypeVar("T")
TEAM_CHANNEL_ID = r"^[CG][A-Z0-9]{1,31}$"
USER_ID = r"^[UW][A-Z0-9]{1,31}$"


class RetroModalMeta(ModalMeta):
    """What the retro modals carry between opening and submit (``private_metadata``)."""

    command: ClassVar[str] = ids.CMD_RETRO

    c: str = Field(pattern=TEAM_CHANNEL_ID)
    i: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1)
    r: str | None = Field(default=None, max_length=500)

    @property
    def ref(self) -> RetroRef | None:
        return RetroRef(self.c, self.i, self.n) if self.i is not None else None


def register(app: AsyncApp) -> None:
    app.command(ids.CMD_RETRO)(retro_command)
    app.view(ids.VIEW_RETRO_START)(submit_start)
    app.view(ids.VIEW_RETRO_NOTE)(submit_note)
    app.view(ids.VIEW_RETRO_ACTION)(submit_retro_action)
    app.action(ids.ACTION_RETRO_ADD_NOTE)(open_note_modal)
    app.action(ids.ACTION_RETRO_EDIT_NOTE)(open_edit_modal)
    app.action(ids.ACTION_RETRO_NUDGE)(press_nudge)
    app.action(ids.ACTION_RETRO_MAKE_THEME)(open_theme_from_note)
    app.action(ids.ACTION_RETRO_ADD_ACTION)(open_action_from_note)


# -- /retro -----------------------------------------------------------------------------------


async def retro_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    cmd = Command.model_validate(body)
    origin = Origin.of(context)
    sub, rest = cmd.subcommand, cmd.rest.strip()
    if sub in HELP_WORDS:
        await ack(**build_help(ids.CMD_RETRO))
    elif sub == "start" and not rest:
        await start_command(ack, client, deps, origin, cmd)
    elif sub in ("", "status") and not rest:
        await ack(**await _status(deps, origin, cmd))
    elif sub == "close" and not rest:
        await close_command(ack, client, deps, origin, cmd)
    else:
        await ack(**build_help(ids.CMD_RETRO, problem=unknown_subcommand(cmd)))


async def start_command(
    ack: AsyncAck, client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command
) -> None:
    if not re.match(TEAM_CHANNEL_ID, cmd.channel_id):
        await ack(**build_error("Run `/retro start` in the team's channel."))
        return
    try:
        await retros.check_no_open_retro(deps, origin, cmd.channel_id)
    except KaizenError as error:
        await ack(**build_error(error.message))
        return
    await ack()
    meta = RetroModalMeta(c=cmd.channel_id, r=cmd.response_url or None)
    view = build_start_modal(metadata=meta.dump(), now=deps.now())
    await client.views_open(trigger_id=cmd.trigger_id, view=view)


async def _status(deps: Deps, origin: Origin, cmd: Command) -> dict[str, Any]:
    status = await retros.get_status(deps, origin, cmd.channel_id, cmd.user_id)
    if status is None:
        return build_ephemeral("There is no retro in this channel. Start one with `/retro start`.")
    return build_status(
        status.retro,
        viewer=cmd.user_id,
        notes=status.participation.notes,
        people=status.participation.people,
        author_ids=status.participation.author_ids,
        own=status.own,
        ranked=status.ranked,
    )


async def close_command(
    ack: AsyncAck, client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command
) -> None:
    try:
        await retros.check_can_close(deps, origin, cmd.channel_id, cmd.user_id)
    except KaizenError as error:
        await ack(**build_error(error.message))
        return
    await ack(**build_ephemeral("Moving the retro on…"))
    deps.spawn(_close(client, deps, origin, cmd), name="retro.close")


async def _close(client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command) -> None:
    try:
        retro, phase = await retros.close_phase(client, deps, origin, cmd.channel_id, cmd.user_id)
        message = build_phase_moved(retro, phase)
    except KaizenError as error:
        message = build_error(error.message)
    url = cmd.response_url or None
    await tell(client, user=cmd.user_id, channel=cmd.channel_id, message=message, response_url=url)


# -- starting ---------------------------------------------------------------------------------


def _moment(value: Any) -> datetime:
    """A date-time picker's choice (Slack sends a UNIX time, whatever the reader's zone)."""
    if value is None or not str(value).isdigit():
        raise PydanticCustomError("form", "Pick a date and a time.")
    return datetime.fromtimestamp(int(value), UTC)


Moment = Annotated[datetime, BeforeValidator(_moment)]


class RetroStartForm(Form):
    action_id: ClassVar[str] = A

    title: Annotated[str, domain(clean_retro_title), Field(alias=ids.BLOCK_RETRO_TITLE)] = ""
    template: Annotated[
        str,
        pick("Pick a template.", allowed={t.value for t in RetroTemplate}, optional=False),
        Field(alias=ids.BLOCK_RETRO_TEMPLATE),
    ] = ""
    collect_until: Annotated[Moment, Field(alias=ids.BLOCK_RETRO_COLLECT_UNTIL)] = None  # type: ignore[assignment]
    vote_until: Annotated[Moment, Field(alias=ids.BLOCK_RETRO_VOTE_UNTIL)] = None  # type: ignore[assignment]
    votes: Annotated[int, domain(clean_votes_per_person), Field(alias=ids.BLOCK_RETRO_VOTES)] = 0
    anonymous: Annotated[list[str], Field(alias=ids.BLOCK_RETRO_ANONYMOUS)] = []

    def retro(self, facilitator: str, now: datetime) -> NewRetro:
        """The retro as asked for, or FormErrors on the deadline that cannot be."""
        try:
            validate_schedule(self.collect_until, self.vote_until, now)
        except InvalidInput as error:
            raise FormErrors({_SCHEDULE_FIELDS[error.field or ""]: error.message}) from None
        return NewRetro(
            title=self.title,
            template=RetroTemplate(self.template),
            facilitator_id=facilitator,
            anonymous="anonymous" in self.anonymous,
            votes_per_person=self.votes,
            collect_until=self.collect_until,
            vote_until=self.vote_until,
        )


_SCHEDULE_FIELDS = {
    "collect_until": ids.BLOCK_RETRO_COLLECT_UNTIL,
    "vote_until": ids.BLOCK_RETRO_VOTE_UNTIL,
    "": ids.BLOCK_RETRO_COLLECT_UNTIL,
}


async def submit_start(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    origin = Origin.of(context)
    try:
        meta = RetroModalMeta.parse(sub.view.private_metadata)
        new = read_form(RetroStartForm, sub).retro(sub.user.id, deps.now())
        retro = await retros.start_retro(deps, origin, meta.c, new)
    except (KaizenError, FormErrors) as error:
        await ack(**errors_ack(error, {None: ids.BLOCK_RETRO_TITLE}))
        return
    await ack()
    url = trusted_response_url(meta.r, deps)
    deps.spawn(retros.announce(client, deps, origin, retro, url), name="retro.announce")


# -- buttons ----------------------------------------------------------------------------------


async def _or_refuse(respond: AsyncRespond, work: Callable[[], Awaitable[T]]) -> T | None:
    """``work()``'s result, or None once the presser is told (ephemerally) why not."""
    try:
        return await work()
    except KaizenError as error:
        await respond(**build_error(error.message), replace_original=False)
        return None


def _ref(action: BlockActions) -> RetroRef:
    return RetroRef.read(action.action.value, action.channel_id)


# -- notes ------------------------------------------------------------------------------------


async def open_note_modal(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: Any,
    deps: Deps,
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    origin, user = Origin.of(context), action.user.id
    form = await _or_refuse(respond, lambda: retros.note_form(deps, origin, _ref(action), user))
    if form is None:
        return
    meta = RetroModalMeta(c=form.retro.channel_id, i=form.retro.id)
    view = build_note_modal(metadata=meta.dump(), retro=form.retro, own=form.own)
    await client.views_open(trigger_id=action.trigger_id, view=view)


async def open_edit_modal(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    value = action.action.value or ""
    try:
        meta = RetroModalMeta.parse(str((action.view or {}).get("private_metadata") or ""))
        if meta.i is None or not value.isdigit():
            raise InvalidInput(retros.GONE)
        ref = RetroRef(meta.c, meta.i, int(value))
        form = await retros.note_form(deps, Origin.of(context), ref, action.user.id)
    except KaizenError:
        return
    edit_meta = RetroModalMeta(c=ref.channel_id, i=ref.retro_id, n=ref.note_id)
    view = build_note_modal(
        metadata=edit_meta.dump(), retro=form.retro, own=form.own, editing=form.editing
    )
    await client.views_push(trigger_id=action.trigger_id, view=view)


_NOTE_FIELDS: dict[str | None, str] = {
    "column": ids.BLOCK_RETRO_COLUMN,
    "text": ids.BLOCK_RETRO_TEXT,
    None: ids.BLOCK_RETRO_TEXT,
}


async def submit_note(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    try:
        meta = RetroModalMeta.parse(sub.view.private_metadata)
        if meta.ref is None:
            raise InvalidInput(retros.GONE)
        column = sub.selected(ids.BLOCK_RETRO_COLUMN, A)
        text = sub.text(ids.BLOCK_RETRO_TEXT, A)
        stored = await retros.save_note(
            deps, Origin.of(context), meta.ref, sub.user.id, column, text
        )
    except KaizenError as error:
        await ack(**errors_ack(error, _NOTE_FIELDS))
        return
    if meta.n is not None:
        await ack(response_action="clear")  # an edit sits on top of the note modal: close both
    else:
        await ack()
    deps.spawn(retros.after_note(client, deps, stored, sub.user.id), name="retro.note")


# -- nudges -----------------------------------------------------------------------------------


async def press_nudge(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: Any,
    deps: Deps,
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    origin, bot_user = Origin.of(context), context.get("bot_user_id")
    nudge = await _or_refuse(
        respond,
        lambda: retros.claim_nudge(client, deps, origin, _ref(action), action.user.id, bot_user),
    )
    if nudge is None:
        return
    deps.spawn(retros.send_nudges(client, nudge), name="retro.nudge")
    await respond(**retros.nudged_message(nudge), replace_original=False)


# -- the summary's buttons --------------------------------------------------------------------


async def _summary_note(
    body: dict[str, Any], respond: AsyncRespond, context: Any, deps: Deps
) -> tuple[BlockActions, Origin, tuple[Retro, Note]] | None:
    """What a summary button is about; None (the presser told why) when it is gone."""
    action = BlockActions.model_validate(body)
    origin = Origin.of(context)
    found = await _or_refuse(respond, lambda: retros.summary_note(deps, origin, _ref(action)))
    return None if found is None else (action, origin, found)


async def open_theme_from_note(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: Any,
    deps: Deps,
) -> None:
    await ack()
    found = await _summary_note(body, respond, context, deps)
    if found is None:
        return
    action, origin, (retro, note) = found
    draft = retros.theme_draft(retro, note)
    await open_theme_form(
        client, deps, origin, action.trigger_id, retro.channel_id, action.response_url, draft
    )


async def open_action_from_note(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: Any,
    deps: Deps,
) -> None:
    await ack()
    found = await _summary_note(body, respond, context, deps)
    if found is None:
        return
    action, _, (retro, note) = found
    meta = RetroModalMeta(c=retro.channel_id, i=retro.id)
    view = build_action_modal(
        metadata=meta.dump(),
        themes=[],
        owner_id=action.user.id,
        callback_id=ids.VIEW_RETRO_ACTION,
        text=" ".join(note.text.split())[:500],
    )
    await client.views_open(trigger_id=action.trigger_id, view=view)


async def submit_retro_action(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    try:
        meta = RetroModalMeta.parse(sub.view.private_metadata)
        if meta.ref is None:
            raise InvalidInput(retros.GONE)
        item = read_form(ActionItemForm, sub).item()
        added = await retros.add_retro_action(deps, Origin.of(context), meta.ref, item, sub.user.id)
    except (KaizenError, FormErrors) as error:
        fields = {None: ids.BLOCK_ACTION_ITEM_TEXT, "due": ids.BLOCK_ACTION_ITEM_DUE}
        await ack(**errors_ack(error, fields))
        return
    await ack()
    message = build_action_added(added)
    deps.spawn(
        tell(client, user=sub.user.id, channel=added.channel_id, message=message),
        name="retro.action_added",
    )
