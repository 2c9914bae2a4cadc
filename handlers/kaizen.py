"""/kaizen: the backlog, one theme, moving a theme, and the forms and files it opens.

Each subcommand calls the use case of its feature (``bot.usecases.themes``, ``action_items``,
``channel_settings``, ``export``); the modals it opens are submitted to ``handlers.themes``,
``handlers.action_items`` and ``handlers.channel_settings``.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.errors import KaizenError
from bot.domain.themes import ThemeAction, parse_theme_ref
from bot.usecases import channel_settings, export, themes
from bot.usecases.notify import user_tz_offset
from bot.usecases.work import Origin
from bot.views.common import Message, build_error
from bot.views.help import build_help
from bot.views.kaizen import build_export_started, build_status_changed, build_subscription
from handlers.forms import open_action_item_form, open_settings_form, open_theme_form
from handlers.help import register_command, unknown_subcommand
from handlers.payloads import Command

MOVES = {action.value: action for action in ThemeAction}
FORMS = {"add", "action", "settings"}


def register(app: AsyncApp) -> None:
    register_command(app, ids.CMD_KAIZEN, kaizen_command)


async def kaizen_command(
    ack: AsyncAck, cmd: Command, client: AsyncWebClient, origin: Origin, deps: Deps
) -> None:
    sub, rest = cmd.subcommand, cmd.rest.strip()
    if sub in FORMS and not rest:
        await ack()
        await _open_form(client, deps, origin, cmd)
    elif sub == "export" and not rest:
        await ack(**build_export_started())
        deps.spawn(
            export.export_channel(
                client, deps, origin, cmd.channel_id, cmd.user_id, cmd.response_url or None
            ),
            name="kaizen.export",
        )
    else:
        await ack(**await _answer(client, deps, origin, cmd))


async def _answer(client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command) -> Message:
    sub, rest = cmd.subcommand, cmd.rest.strip()
    try:
        if sub in ("", "list") and not rest:
            return await themes.backlog(deps, origin, cmd.channel_id)
        if sub == "show":
            number = parse_theme_ref(cmd.rest)
            offset = await user_tz_offset(client, cmd.user_id)
            return await themes.theme_detail(deps, origin, cmd.channel_id, number, offset)
        if sub in MOVES:
            number = parse_theme_ref(cmd.rest)
            moved = await themes.move_theme(
                client, deps, origin, cmd.channel_id, number, MOVES[sub], cmd.user_id
            )
            return build_status_changed(moved)
        if sub in ("subscribe", "unsubscribe") and not rest:
            on = sub == "subscribe"
            changed = await channel_settings.subscribe(
                deps, origin, cmd.channel_id, cmd.user_id, on=on
            )
            return build_subscription(subscribed=on, changed=changed)
    except KaizenError as error:
        return build_error(error.message)
    return build_help(ids.CMD_KAIZEN, problem=unknown_subcommand(cmd))


async def _open_form(client: AsyncWebClient, deps: Deps, origin: Origin, cmd: Command) -> None:
    if cmd.subcommand == "add":
        await open_theme_form(
            client, deps, origin, cmd.trigger_id, cmd.channel_id, cmd.response_url
        )
    elif cmd.subcommand == "action":
        await open_action_item_form(
            client, deps, origin, cmd.trigger_id, cmd.channel_id, None, cmd.user_id
        )
    else:
        await open_settings_form(client, deps, origin, cmd.trigger_id, cmd.channel_id)
