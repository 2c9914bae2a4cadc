"""Themes: the theme modal's submit, its status buttons, and "Propose a theme" on App Home."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.errors import KaizenError
from bot.domain.kaizen import Theme
from bot.domain.themes import ThemeAction
from bot.usecases import themes
from bot.usecases.work import Origin
from bot.views.common import build_error
from handlers.edge import ack_form, field_errors, trusted_response_url
from handlers.forms import (
    TEAM_CHANNEL_ID,
    KaizenModalMeta,
    ThemeForm,
    open_theme_form,
    read_form,
    theme_fields,
)
from handlers.payloads import BlockActions, ViewSubmission

logger = logging.getLogger(__name__)

MOVES = {action.value: action for action in ThemeAction}


def register(app: AsyncApp) -> None:
    app.view(ids.VIEW_THEME)(submit_theme)
    app.action(re.compile(rf"^{re.escape(ids.ACTION_THEME_STATUS)}\."))(press_theme_status)
    app.action(ids.ACTION_HOME_ADD_THEME)(open_theme_modal_from_home)
    app.action(ids.ACTION_THEME_REPOST)(repost_theme)


async def open_theme_modal_from_home(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    await open_theme_form(client, deps, Origin.of(context), action.trigger_id, action.channel_id)


async def _propose(
    deps: Deps, origin: Origin, sub: ViewSubmission
) -> tuple[KaizenModalMeta, tuple[Theme, ChannelConfig] | None]:
    meta = KaizenModalMeta.parse(sub.view.private_metadata)
    delivery = f"view:{sub.view.id}:{sub.view.callback_id}"
    try:
        proposal = read_form(ThemeForm, sub, channel=meta.c).proposal()
        stored = await themes.propose_theme(
            deps, origin, proposal, author=sub.user.id, delivery=delivery
        )
    except KaizenError as error:
        raise field_errors(error, theme_fields(meta)) from None
    return meta, stored


async def submit_theme(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    origin = Origin.of(context)
    accepted = await ack_form(ack, {None: ids.BLOCK_THEME_TITLE}, _propose(deps, origin, sub))
    if accepted is None or accepted.value[1] is None:
        return  # refused with field errors, or a resubmitted form stored nothing
    meta, (theme, config) = accepted.value[0], accepted.value[1]
    response_url = trusted_response_url(meta.r, deps)
    deps.spawn(
        themes.post_theme(
            client, deps, origin, theme, config.vote_emoji, sub.user.id, response_url
        ),
        name="kaizen.post_theme",
    )


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
    channel, origin = action.channel_id, Origin.of(context)
    if not number.isdigit() or move not in MOVES or channel is None:
        return
    try:
        await themes.move_theme(
            client, deps, origin, channel, int(number), MOVES[move], action.user.id
        )
    except KaizenError as error:
        await respond(**build_error(error.message), replace_original=False)


async def repost_theme(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    """The "Post it again" button: posting waits for Slack, so it runs after the reply."""
    await ack()
    action = BlockActions.model_validate(body)
    channel, _, number = (action.action.value or "").partition(":")
    if not number.isdigit() or not re.match(TEAM_CHANNEL_ID, channel):
        return
    reposting = themes.repost_theme(
        client,
        deps,
        Origin.of(context),
        channel,
        int(number),
        action.user.id,
        action.response_url,
    )
    deps.spawn(reposting, name="kaizen.repost_theme")
