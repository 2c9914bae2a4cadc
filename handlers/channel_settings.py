"""Channel settings: the settings modal's submit (``/kaizen settings`` opens it)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.errors import InvalidInput
from bot.usecases import channel_settings
from bot.usecases.work import Origin
from bot.views.kaizen import build_settings_saved
from handlers.edge import ack_form, confirm
from handlers.forms import SETTINGS_FIELDS, KaizenModalMeta, SettingsForm, read_form
from handlers.payloads import ViewSubmission


def register(app: AsyncApp) -> None:
    app.view(ids.VIEW_CHANNEL_SETTINGS)(submit_settings)


async def _save(deps: Deps, origin: Origin, sub: ViewSubmission) -> tuple[str, ChannelConfig]:
    meta = KaizenModalMeta.parse(sub.view.private_metadata)
    if meta.c is None:
        raise InvalidInput("This form lost its channel. Run `/kaizen settings` again.")
    config = read_form(SettingsForm, sub).config()
    saved = await channel_settings.save_settings(deps, origin, meta.c, config, user=sub.user.id)
    return meta.c, saved


async def submit_settings(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    accepted = await ack_form(ack, SETTINGS_FIELDS, _save(deps, Origin.of(context), sub))
    if accepted is None:
        return
    channel, config = accepted.value
    confirm(
        client,
        deps,
        user=sub.user.id,
        channel=channel,
        message=build_settings_saved(config, now=deps.now()),
        response_url=None,
        name="kaizen.settings_saved",
    )
