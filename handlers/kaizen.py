"""The kaizen backlog: /kaizen, the theme, action item and settings modals, theme buttons.

Votes arrive as reactions through ``handlers.reactions``, which calls ``vote_by_reaction`` and
``unvote_by_reaction`` here. Every change to a theme re-renders its channel message from the
database (``refresh_theme_message``), so racing updates settle on what is stored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from pydantic import Field
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.errors import InvalidInput, KaizenError, NotAllowed
from bot.domain.export import build_export_csv
from bot.domain.hypotheses import (
    Hypothesis,
    Metric,
    measure,
    measurement_window,
    parse_target,
    validate_hypothesis,
)
from bot.domain.kaizen import (
    NewActionItem,
    NewTheme,
    Theme,
    VoteOutcome,
    as_observation,
    check_due_date,
    clean_action_text,
    clean_emoji,
    clean_timezone,
    clean_vote_limit,
    local_date,
)
from bot.domain.themes import ThemeAction, clean_problem, clean_title, parse_theme_ref
from bot.domain.votes import base_emoji, check_vote_limit
from bot.domain.wastes import WasteCategory
from bot.usecases.notify import NOT_A_MEMBER, tell, user_tz_offset
from bot.usecases.work import Origin, Work, in_workspace, workspace_transaction
from bot.views.common import Message, build_error, build_not_in_channel, with_invite_hint
from bot.views.help import build_help
from bot.views.kaizen import (
    build_action_added,
    build_action_done,
    build_action_modal,
    build_backlog,
    build_export_started,
    build_settings_modal,
    build_settings_saved,
    build_status_changed,
    build_subscription,
    build_theme_detail,
    build_theme_message,
    build_theme_modal,
    export_filename,
)
from handlers.edge import FormErrors, errors_ack, field_errors, trusted_response_url
from handlers.help import HELP_WORDS, unknown_subcommand
from handlers.home import refresh_home
from handlers.payloads import BlockActions, Command, ModalMeta, ReactionEvent, ViewSubmission
from storage import kaizen as store
from storage.channels import get_channel_config, update_channel_config
from storage.vsm import get_step, list_steps
from storage.waste import list_observations
from storage.workspaces import Scope

logger = logging.getLogger(__name__)

# Themes live in a team's channel (public or private), never in a DM.
TEAM_CHANNEL_ID = r"^[CG][A-Z0-9]{1,31}$"
A = ids.ACTION_KAIZEN_INPUT
MOVES = {action.value: action for action in ThemeAction}
MAX_REFRESHES = 10


class KaizenModalMeta(ModalMeta):
    """What the kaizen modals carry between opening and submit (``private_metadata``)."""

    command: ClassVar[str] = ids.CMD_KAIZEN

    c: str | None = Field(default=None, pattern=TEAM_CHANNEL_ID)
    t: int | None = Field(default=None, ge=1)
    s: bool = False
    """The theme modal shows the step picker (the channel has a map)."""
    r: str | None = Field(default=None, max_length=500)


def register(app: AsyncApp) -> None:
    app.command(ids.CMD_KAIZEN)(kaizen_command)
    app.view(ids.VIEW_THEME)(submit_theme)
    app.view(ids.VIEW_ACTION_ITEM)(submit_action_item)
    app.view(ids.VIEW_SETTINGS)(submit_settings)
    app.action(re.compile(rf"^{re.escape(ids.ACTION_THEME_STATUS)}\."))(press_theme_status)
    app.action(ids.ACTION_THEME_ADD_ACTION)(open_action_modal_for_theme)
    app.action(ids.ACTION_ACTION_DONE)(complete_action_item)
    app.action(ids.ACTION_HOME_ADD_THEME)(open_theme_modal_from_home)


# -- /kaizen ----------------------------------------------------------------------------------


async def kaizen_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    cmd = Command.model_validate(body)
    origin = Origin.of(context)
    sub, rest = cmd.subcommand, cmd.rest.strip()
    if sub in HELP_WORDS:
        await ack(**build_help(ids.CMD_KAIZEN))
    elif sub in ("", "list") and not rest:
        await ack(**await _backlog(deps, origin, cmd))
    elif sub == "add" and not rest:
        await ack()
        await _open_theme_modal(client, deps, origin, cmd.trigger_id, cmd.channel_id, cmd)
    elif sub == "show":
        await ack(**await _show(client, deps, origin, cmd))
    elif sub in MOVES:
        await ack(**await _move_by_command(client, deps, origin, cmd, MOVES[sub]))
    elif sub == "action" and not rest:
        await ack()
        await _open_action_modal(
            client, deps, origin, cmd.trigger_id, cmd.channel_id, None, cmd.user_id
        )
    elif sub == "settings" and not rest:
        await ack()
        await _open_settings_modal(client, deps, origin, cmd.trigger_id, cmd.channel_id)
    elif sub in ("subscribe", "unsubscribe") and not rest:
        await ack(**await _subscription(deps, origin, cmd, subscribe=sub == "subscribe"))
    elif sub == "export" and not rest:
        await ack(**build_export_started())
        deps.spawn(_export(client, deps, origin, cmd), name="kaizen.export")
    else:
        await ack(**build_help(ids.CMD_KAIZEN, problem=unknown_subcommand(cmd)))


async def _backlog(deps: Deps, origin: Origin, cmd: Command) -> Message:
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(cmd.channel_id)
        themes = await store.list_themes(work.session, scope=scope)
        config = await get_channel_config(work.session, scope=scope)
    return build_backlog(themes, vote_emoji=config.vote_emoji)


async def _show(client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command) -> Message:
    try:
        number = parse_theme_ref(cmd.rest)
        async with workspace_transaction(deps, origin) as work:
            scope = work.scope(cmd.channel_id)
            theme = await store.find_theme(work.session, scope=scope, number=number)
            ws = work.workspace_id
            actions = await store.list_theme_actions(
                work.session, workspace_id=ws, theme_id=theme.id
            )
            changes = await store.list_theme_changes(
                work.session, workspace_id=ws, theme_id=theme.id
            )
            voters = await store.list_voters(work.session, workspace_id=ws, theme_id=theme.id)
            config = await get_channel_config(work.session, scope=scope)
    except KaizenError as error:
        return build_error(error.message)
    return build_theme_detail(
        theme,
        actions=actions,
        changes=changes,
        voters=voters,
        vote_emoji=config.vote_emoji,
        tz_offset_seconds=await user_tz_offset(client, cmd.user_id),
    )


async def move_theme(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    channel_id: str,
    number: int,
    action: ThemeAction,
    actor: str,
) -> Theme:
    """Move theme K-``number`` of the channel on; the theme message follows after the reply."""
    async with workspace_transaction(deps, origin) as work:
        theme = await store.change_theme_status(
            work.session,
            scope=work.scope(channel_id),
            number=number,
            action=action,
            actor_id=actor,
            now=deps.now(),
        )
    logger.info(
        "kaizen.theme_moved",
        extra={"team": origin.team_id, "channel": channel_id, "action": action.value},
    )
    _refresh_soon(client, deps, origin, theme.id)
    return theme


async def _move_by_command(
    client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command, action: ThemeAction
) -> Message:
    try:
        number = parse_theme_ref(cmd.rest)
        theme = await move_theme(client, deps, origin, cmd.channel_id, number, action, cmd.user_id)
    except KaizenError as error:
        return build_error(error.message)
    return build_status_changed(theme)


async def press_theme_status(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: Any,
    deps: Deps,
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    number, _, move = (action.action.value or "").partition(":")
    channel = action.channel_id
    if not number.isdigit() or move not in MOVES or channel is None:
        return
    try:
        await move_theme(
            client, deps, Origin.of(context), channel, int(number), MOVES[move], action.user.id
        )
    except KaizenError as error:
        await respond(**build_error(error.message), replace_original=False)


# -- the theme message ------------------------------------------------------------------------


def _refresh_soon(client: AsyncWebClient, deps: Deps, origin: Origin, theme_id: int) -> None:
    deps.spawn_coalesced(
        f"kaizen.refresh:{origin.enterprise_id}:{origin.team_id}:{theme_id}",
        lambda: refresh_theme_message(client, deps, origin, theme_id),
    )


async def refresh_theme_message(
    client: AsyncWebClient, deps: Deps, origin: Origin, theme_id: int
) -> None:
    """Re-render the theme's message from the database until what Slack shows is current.

    Several refreshes of one theme may run at once (votes arriving together) and their
    chat.update calls may land in any order. Each one re-reads after its update and updates
    again if the stored theme moved on meanwhile, so the last update to land always shows the
    final state.
    """
    sent: Message | None = None
    for _ in range(MAX_REFRESHES):
        async with workspace_transaction(deps, origin) as work:
            theme = await store.get_theme_by_id(
                work.session, workspace_id=work.workspace_id, theme_id=theme_id
            )
            if theme is None or theme.message_channel is None or theme.message_ts is None:
                return
            actions = await store.list_theme_actions(
                work.session, workspace_id=work.workspace_id, theme_id=theme_id
            )
            config = await get_channel_config(work.session, scope=work.scope(theme.channel_id))
        message = build_theme_message(theme, actions=actions, vote_emoji=config.vote_emoji)
        if message == sent:
            return
        try:
            await client.chat_update(channel=theme.message_channel, ts=theme.message_ts, **message)
        except SlackApiError as exc:
            logger.warning(
                "kaizen.theme_update_failed",
                extra={"channel": theme.message_channel, "error": exc.response.get("error")},
            )
            return
        sent = message
    logger.warning("kaizen.theme_update_unsettled", extra={"theme": theme_id})


async def _post_theme(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    theme: Theme,
    vote_emoji: str,
    user: str,
    response_url: str | None,
) -> None:
    """Post a new theme for votes, remember its message, and put the first vote emoji on it."""
    message = build_theme_message(theme, actions=[], vote_emoji=vote_emoji)
    try:
        posted = await client.chat_postMessage(channel=theme.channel_id, **message)
    except SlackApiError as exc:
        if exc.response.get("error") not in NOT_A_MEMBER:
            raise
        stored = {"text": f"{theme.ref} is stored, but I can't post it for votes."}
        hint = with_invite_hint(stored, theme.channel_id)
        await tell(client, user=user, channel=None, message=hint, response_url=response_url)
        return
    ts = str(posted["ts"])
    async with workspace_transaction(deps, origin) as work:
        await store.set_theme_message(
            work.session,
            workspace_id=work.workspace_id,
            theme_id=theme.id,
            channel_id=theme.channel_id,
            message_ts=ts,
        )
    try:
        await client.reactions_add(channel=theme.channel_id, timestamp=ts, name=vote_emoji)
    except SlackApiError as exc:
        logger.info("kaizen.vote_emoji_not_added", extra={"error": exc.response.get("error")})


# -- proposing a theme ------------------------------------------------------------------------


async def _open_theme_modal(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    trigger_id: str,
    channel: str | None,
    cmd: Command | None = None,
) -> None:
    steps = []
    if channel is not None:
        async with workspace_transaction(deps, origin) as work:
            steps = await list_steps(work.session, scope=work.scope(channel))
    meta = KaizenModalMeta(c=channel, s=bool(steps), r=(cmd.response_url or None) if cmd else None)
    view = build_theme_modal(metadata=meta.dump(), steps=steps, ask_channel=channel is None)
    await client.views_open(trigger_id=trigger_id, view=view)


async def open_theme_modal_from_home(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    await _open_theme_modal(client, deps, Origin.of(context), action.trigger_id, action.channel_id)


@dataclass(frozen=True, slots=True)
class ThemeForm:
    channel: str
    theme: NewTheme
    metric: Metric | None
    target: str
    check_date: date | None


def _theme_fields(meta: KaizenModalMeta) -> dict[str | None, str]:
    return {
        "title": ids.BLOCK_THEME_TITLE,
        "problem": ids.BLOCK_THEME_PROBLEM,
        "step": ids.BLOCK_THEME_STEP if meta.s else ids.BLOCK_THEME_METRIC,
        "metric": ids.BLOCK_THEME_METRIC,
        "target": ids.BLOCK_THEME_TARGET,
        "check_date": ids.BLOCK_THEME_CHECK_DATE,
    }


def _picked(sub: ViewSubmission, block: str, key: str) -> str | None:
    element = sub.value(block, A) or {}
    picked = element.get(key)
    return str(picked) if picked else None


def _read_date(sub: ViewSubmission, block: str) -> date | None:
    picked = _picked(sub, block, "selected_date")
    try:
        return date.fromisoformat(picked) if picked else None
    except ValueError:
        raise FormErrors({block: "Pick a date from the calendar."}) from None


def _read_theme_form(sub: ViewSubmission, meta: KaizenModalMeta) -> ThemeForm:
    """The theme as typed, or FormErrors naming every field that can be checked without data."""
    errors: dict[str, str] = {}
    fields = _theme_fields(meta)
    channel = meta.c or _picked(sub, ids.BLOCK_THEME_CHANNEL, "selected_conversation") or ""
    if not re.match(TEAM_CHANNEL_ID, channel):
        errors[ids.BLOCK_THEME_CHANNEL] = "Pick the channel of the team this theme is for."
    title = problem = ""
    try:
        title = clean_title(sub.text(ids.BLOCK_THEME_TITLE, A))
    except KaizenError as error:
        errors |= field_errors(error, fields).errors
    try:
        problem = clean_problem(sub.text(ids.BLOCK_THEME_PROBLEM, A))
    except KaizenError as error:
        errors |= field_errors(error, fields).errors
    category = sub.selected(ids.BLOCK_THEME_CATEGORY, A)
    if category is not None and category not in {c.value for c in WasteCategory}:
        errors[ids.BLOCK_THEME_CATEGORY] = "Pick one of the eight kinds of waste."
    step = sub.selected(ids.BLOCK_THEME_STEP, A)
    if step is not None and not step.isdigit():
        errors[ids.BLOCK_THEME_STEP] = "Pick a step of this channel's value stream."
    metric_value = sub.selected(ids.BLOCK_THEME_METRIC, A)
    metric = Metric(metric_value) if metric_value in {m.value for m in Metric} else None
    target = sub.text(ids.BLOCK_THEME_TARGET, A).strip()
    check_date = _read_date(sub, ids.BLOCK_THEME_CHECK_DATE)
    if metric is None and (metric_value or target or check_date):
        errors[ids.BLOCK_THEME_METRIC] = "Pick the metric the hypothesis is about."
    if metric is not None and not target:
        errors[ids.BLOCK_THEME_TARGET] = "Type the value the metric should reach."
    if metric is not None and check_date is None:
        errors[ids.BLOCK_THEME_CHECK_DATE] = "Pick the date to measure it again."
    if errors:
        raise FormErrors(errors)
    theme = NewTheme(
        title=title,
        problem=problem,
        category=WasteCategory(category) if category else None,
        step_id=int(step) if step else None,
    )
    return ThemeForm(channel, theme, metric, target, check_date)


async def _hypothesis(
    work: Work, scope: Scope, form: ThemeForm, change: str, today: date
) -> Hypothesis | None:
    """The hypothesis with its baseline measured now, or InvalidInput naming the field."""
    metric, check_date = form.metric, form.check_date
    if metric is None or check_date is None:
        return None
    target = parse_target(metric, form.target)
    step_id, category = form.theme.step_id, form.theme.category
    validate_hypothesis(metric, None, target, check_date, today, step_id=step_id)
    steps = await list_steps(work.session, scope=scope)
    start, end = measurement_window(work.deps.now())
    logs = await list_observations(work.session, scope=scope, start=start, end=end)
    observations = [o for o in map(as_observation, logs) if o is not None]
    baseline = measure(
        metric,
        steps=steps,
        observations=observations,
        start=start,
        end=end,
        step_id=step_id,
        category=category,
    )
    validate_hypothesis(metric, baseline, target, check_date, today, step_id=step_id)
    return Hypothesis(
        metric=metric,
        target=target,
        check_date=check_date,
        baseline=baseline,
        step_id=step_id,
        category=category,
        change=change,
    )


async def _store_theme(
    deps: Deps, origin: Origin, sub: ViewSubmission, meta: KaizenModalMeta, form: ThemeForm
) -> tuple[Theme, ChannelConfig] | None:
    change = " ".join(sub.text(ids.BLOCK_THEME_CHANGE, A).split())[:500]

    async def write(work: Work) -> tuple[Theme, ChannelConfig] | None:
        scope = work.scope(form.channel)
        if form.theme.step_id is not None and (
            await get_step(work.session, scope=scope, step_id=form.theme.step_id) is None
        ):
            raise FormErrors({ids.BLOCK_THEME_STEP: "That step is not on this channel's map."})
        config = await get_channel_config(work.session, scope=scope)
        today = local_date(deps.now(), config.timezone)
        try:
            hypothesis = await _hypothesis(work, scope, form, change, today)
        except InvalidInput as error:
            raise field_errors(error, _theme_fields(meta)) from None
        if not await work.first_delivery(f"view:{sub.view.id}:{sub.view.callback_id}"):
            return None
        new = NewTheme(
            title=form.theme.title,
            problem=form.theme.problem,
            category=form.theme.category,
            step_id=form.theme.step_id,
            hypothesis=hypothesis,
        )
        theme = await store.add_theme(
            work.session, scope=scope, theme=new, author_id=sub.user.id, now=deps.now()
        )
        return theme, config

    stored = await in_workspace(deps, origin, write)
    if stored is not None:
        logger.info("kaizen.theme_added", extra={"team": origin.team_id, "channel": form.channel})
    return stored


async def submit_theme(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    origin = Origin.of(context)
    try:
        meta = KaizenModalMeta.parse(sub.view.private_metadata)
        stored = await _store_theme(deps, origin, sub, meta, _read_theme_form(sub, meta))
    except (InvalidInput, FormErrors) as error:
        await ack(**errors_ack(error, {None: ids.BLOCK_THEME_TITLE}))
        return
    await ack()
    if stored is None:
        return
    theme, config = stored
    response_url = trusted_response_url(meta.r, deps)
    deps.spawn(
        _post_theme(client, deps, origin, theme, config.vote_emoji, sub.user.id, response_url),
        name="kaizen.post_theme",
    )


# -- votes ------------------------------------------------------------------------------------


def _limit_message(limit: int | None) -> str:
    try:
        check_vote_limit(limit or 0, limit)
    except NotAllowed as error:
        return error.message
    return "That vote was not counted."


async def vote_by_reaction(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    scope: Scope,
    event: ReactionEvent,
    event_id: str | None,
) -> None:
    """The vote emoji on a theme message: one vote per person, within the channel's limit."""
    ts = event.item.ts
    assert ts is not None

    async def write(work: Work) -> tuple[Theme, ChannelConfig, VoteOutcome] | None:
        theme = await store.find_theme_by_message(work.session, scope=scope, message_ts=ts)
        if theme is None or not await work.first_delivery(event_id):
            return None
        config = await get_channel_config(work.session, scope=scope)
        outcome = await store.add_vote(
            work.session,
            scope=scope,
            theme=theme,
            user_id=event.user,
            limit=config.vote_limit,
            now=deps.now(),
        )
        return theme, config, outcome

    voted = await in_workspace(deps, origin, write)
    if voted is None:
        return
    theme, config, outcome = voted
    logger.info("kaizen.vote", extra={"channel": scope.channel_id, "outcome": outcome.value})
    if outcome is VoteOutcome.COUNTED:
        _refresh_soon(client, deps, origin, theme.id)
        refresh_home(client, deps, origin, event.user)
    elif outcome is VoteOutcome.OVER_LIMIT:
        text = f"{_limit_message(config.vote_limit)} Your vote on {theme.ref} was not counted."
        await tell(client, user=event.user, channel=scope.channel_id, message=build_error(text))
    elif outcome is VoteOutcome.CLOSED:
        text = (
            f"{theme.ref} is {theme.status.value.replace('_', ' ')}: votes on it no longer count."
        )
        await tell(client, user=event.user, channel=scope.channel_id, message=build_error(text))


async def unvote_by_reaction(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    scope: Scope,
    event: ReactionEvent,
    event_id: str | None,
) -> None:
    ts = event.item.ts
    assert ts is not None

    async def write(work: Work) -> Theme | None:
        theme = await store.find_theme_by_message(work.session, scope=scope, message_ts=ts)
        # The claim keeps a late retry of an old removal from taking back a newer vote.
        if theme is None or not await work.first_delivery(event_id):
            return None
        removed = await store.remove_vote(
            work.session, workspace_id=work.workspace_id, theme_id=theme.id, user_id=event.user
        )
        return theme if removed else None

    theme = await in_workspace(deps, origin, write)
    if theme is not None:
        _refresh_soon(client, deps, origin, theme.id)
        refresh_home(client, deps, origin, event.user)


def is_vote_emoji(reaction: str, config: ChannelConfig) -> bool:
    return base_emoji(reaction) == base_emoji(config.vote_emoji)


# -- action items -----------------------------------------------------------------------------


async def _open_action_modal(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    trigger_id: str,
    channel: str,
    theme_number: int | None,
    user: str,
) -> None:
    async with workspace_transaction(deps, origin) as work:
        themes = await store.list_themes(work.session, scope=work.scope(channel))
    meta = KaizenModalMeta(c=channel, t=theme_number)
    view = build_action_modal(
        metadata=meta.dump(), themes=themes, theme_number=theme_number, owner_id=user
    )
    await client.views_open(trigger_id=trigger_id, view=view)


async def open_action_modal_for_theme(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    value, channel = action.action.value or "", action.channel_id
    if not value.isdigit() or channel is None:
        return
    await _open_action_modal(
        client, deps, Origin.of(context), action.trigger_id, channel, int(value), action.user.id
    )


def _read_action_form(sub: ViewSubmission) -> tuple[NewActionItem, int | None]:
    errors: dict[str, str] = {}
    text = ""
    try:
        text = clean_action_text(sub.text(ids.BLOCK_ACTION_TEXT, A))
    except KaizenError as error:
        errors[ids.BLOCK_ACTION_TEXT] = error.message
    owner = _picked(sub, ids.BLOCK_ACTION_OWNER, "selected_user")
    if owner is None or not re.match(r"^[UW][A-Z0-9]{1,31}$", owner):
        errors[ids.BLOCK_ACTION_OWNER] = "Pick who owns this action."
    due = None
    try:
        due = _read_date(sub, ids.BLOCK_ACTION_DUE)
    except FormErrors as bad:
        errors |= bad.errors
    theme = sub.selected(ids.BLOCK_ACTION_THEME, A)
    if theme is not None and not theme.isdigit():
        errors[ids.BLOCK_ACTION_THEME] = "Pick one of this channel's themes."
    if errors:
        raise FormErrors(errors)
    assert owner is not None
    return NewActionItem(text=text, owner_id=owner, due_date=due), int(theme) if theme else None


async def submit_action_item(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    origin = Origin.of(context)
    try:
        meta = KaizenModalMeta.parse(sub.view.private_metadata)
        if meta.c is None:
            raise InvalidInput("This form lost its channel. Close it and run `/kaizen action`.")
        new, number = _read_action_form(sub)
        async with workspace_transaction(deps, origin) as work:
            scope = work.scope(meta.c)
            config = await get_channel_config(work.session, scope=scope)
            try:
                check_due_date(new.due_date, local_date(deps.now(), config.timezone))
            except InvalidInput as error:
                raise FormErrors({ids.BLOCK_ACTION_DUE: error.message}) from None
            theme = None
            if number is not None:
                theme = await store.get_theme(work.session, scope=scope, number=number)
                if theme is None:
                    raise FormErrors({ids.BLOCK_ACTION_THEME: "That theme is not in this channel."})
            item = None
            if await work.first_delivery(f"view:{sub.view.id}:{sub.view.callback_id}"):
                new = NewActionItem(
                    new.text, new.owner_id, new.due_date, theme.id if theme else None
                )
                item = await store.add_action_item(
                    work.session, scope=scope, item=new, created_by=sub.user.id, now=deps.now()
                )
    except (InvalidInput, FormErrors) as error:
        await ack(**errors_ack(error, {None: ids.BLOCK_ACTION_TEXT}))
        return
    await ack()
    if item is None:
        return
    if item.theme_id is not None:
        _refresh_soon(client, deps, origin, item.theme_id)
    refresh_home(client, deps, origin, item.owner_id, sub.user.id)
    deps.spawn(
        tell(client, user=sub.user.id, channel=item.channel_id, message=build_action_added(item)),
        name="kaizen.action_added",
    )


async def complete_action_item(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    origin = Origin.of(context)
    value = action.action.value or ""
    done = None
    if value.isdigit():
        async with workspace_transaction(deps, origin) as work:
            done = await store.complete_action_item(
                work.session,
                workspace_id=work.workspace_id,
                item_id=int(value),
                channel_id=action.channel_id,
                now=deps.now(),
            )
    refresh_home(client, deps, origin, action.user.id, done[0].owner_id if done else "")
    if done is None:
        return
    item, changed = done
    if item.theme_id is not None and changed:
        _refresh_soon(client, deps, origin, item.theme_id)
    if action.channel_id is not None:
        await tell(
            client,
            user=action.user.id,
            channel=action.channel_id,
            message=build_action_done(item, changed=changed),
        )


# -- settings, subscriptions, export ----------------------------------------------------------


async def _open_settings_modal(
    client: AsyncWebClient, deps: Deps, origin: Origin, trigger_id: str, channel: str
) -> None:
    async with workspace_transaction(deps, origin) as work:
        config = await get_channel_config(work.session, scope=work.scope(channel))
    view = build_settings_modal(metadata=KaizenModalMeta(c=channel).dump(), config=config)
    await client.views_open(trigger_id=trigger_id, view=view)


_SETTINGS_FIELDS: dict[str | None, str] = {
    "timezone": ids.BLOCK_SETTINGS_TIMEZONE,
    "vote_emoji": ids.BLOCK_SETTINGS_VOTE_EMOJI,
    "waste_emoji": ids.BLOCK_SETTINGS_WASTE_EMOJI,
    "vote_limit": ids.BLOCK_SETTINGS_VOTE_LIMIT,
}


def _read_settings_form(sub: ViewSubmission, current: ChannelConfig) -> ChannelConfig:
    errors: dict[str, str] = {}

    def read(field: str, clean: Any) -> Any:
        try:
            return clean(sub.text(_SETTINGS_FIELDS[field], A))
        except KaizenError as error:
            errors[_SETTINGS_FIELDS[field]] = error.message
            return None

    day = sub.selected(ids.BLOCK_SETTINGS_DIGEST_DAY, A) or ""
    if not day.isdigit() or int(day) > 6:
        errors[ids.BLOCK_SETTINGS_DIGEST_DAY] = "Pick a day of the week."
    time = _picked(sub, ids.BLOCK_SETTINGS_DIGEST_TIME, "selected_time") or ""
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", time):
        errors[ids.BLOCK_SETTINGS_DIGEST_TIME] = "Pick a time of day."
    timezone = read("timezone", clean_timezone)
    vote = read("vote_emoji", lambda t: clean_emoji(t, field="vote_emoji"))
    waste = read("waste_emoji", lambda t: clean_emoji(t, field="waste_emoji"))
    limit = read("vote_limit", clean_vote_limit)
    if vote and waste and vote == waste:
        errors[ids.BLOCK_SETTINGS_VOTE_EMOJI] = "Voting and logging waste need different emoji."
    if errors:
        raise FormErrors(errors)
    return ChannelConfig(
        timezone=timezone,
        digest_weekday=int(day),
        digest_time=time,
        digest_enabled=current.digest_enabled,
        vote_emoji=vote,
        waste_emoji=waste,
        vote_limit=limit,
    )


async def submit_settings(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    try:
        meta = KaizenModalMeta.parse(sub.view.private_metadata)
        if meta.c is None:
            raise InvalidInput("This form lost its channel. Run `/kaizen settings` again.")
        async with workspace_transaction(deps, Origin.of(context)) as work:
            scope = work.scope(meta.c)
            current = await get_channel_config(work.session, scope=scope)
            config = await update_channel_config(
                work.session, scope=scope, config=_read_settings_form(sub, current), now=deps.now()
            )
    except (InvalidInput, FormErrors) as error:
        await ack(**errors_ack(error, {None: ids.BLOCK_SETTINGS_TIMEZONE}))
        return
    await ack()
    deps.spawn(
        tell(client, user=sub.user.id, channel=meta.c, message=build_settings_saved(config)),
        name="kaizen.settings_saved",
    )


async def _subscription(deps: Deps, origin: Origin, cmd: Command, *, subscribe: bool) -> Message:
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(cmd.channel_id)
        if subscribe:
            changed = await store.add_subscription(
                work.session, scope=scope, user_id=cmd.user_id, now=deps.now()
            )
        else:
            changed = await store.remove_subscription(
                work.session, scope=scope, user_id=cmd.user_id
            )
    return build_subscription(subscribed=subscribe, changed=changed)


async def _export(client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command) -> None:
    async with workspace_transaction(deps, origin) as work:
        export = await store.get_export(
            work.session, workspace_id=work.workspace_id, channel_id=cmd.channel_id
        )
    content = await deps.run_cpu(build_export_csv, export)
    try:
        await client.files_upload_v2(
            channel=cmd.channel_id,
            content=content,
            filename=export_filename(cmd.channel_id, deps.now()),
            title="Kaizen export",
            initial_comment=f"<@{cmd.user_id}> exported this channel's logs, themes, votes "
            "and action items.",
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in NOT_A_MEMBER:
            raise
        await tell(
            client,
            user=cmd.user_id,
            channel=None,
            message=build_not_in_channel(cmd.channel_id),
            response_url=cmd.response_url or None,
        )
