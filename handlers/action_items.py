"""Action items: the action item modal's submit, "Add action" on a theme, and "Done"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.errors import InvalidInput
from bot.domain.kaizen import ActionItem
from bot.usecases import action_items
from bot.usecases.work import Origin
from handlers.edge import ack_form
from handlers.forms import (
    ACTION_ITEM_FIELDS,
    ActionItemForm,
    KaizenModalMeta,
    open_action_item_form,
    read_form,
)
from handlers.payloads import BlockActions, ViewSubmission


def register(app: AsyncApp) -> None:
    app.view(ids.VIEW_ACTION_ITEM)(submit_action_item)
    app.action(ids.ACTION_THEME_ADD_ACTION_ITEM)(open_action_modal_for_theme)
    app.action(ids.ACTION_ACTION_ITEM_DONE)(complete_action_item)


async def open_action_modal_for_theme(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    value, channel = action.action.value or "", action.channel_id
    if not value.isdigit() or channel is None:
        return
    await open_action_item_form(
        client, deps, Origin.of(context), action.trigger_id, channel, int(value), action.user.id
    )


async def _add(deps: Deps, origin: Origin, sub: ViewSubmission) -> ActionItem | None:
    meta = KaizenModalMeta.parse(sub.view.private_metadata)
    if meta.c is None:
        raise InvalidInput("This form lost its channel. Close it and run `/kaizen action`.")
    form = read_form(ActionItemForm, sub)
    return await action_items.add_action_item(
        deps,
        origin,
        meta.c,
        form.item(),
        form.theme,
        author=sub.user.id,
        delivery=f"view:{sub.view.id}:{sub.view.callback_id}",
    )


async def submit_action_item(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    sub = ViewSubmission.model_validate(body)
    origin = Origin.of(context)
    accepted = await ack_form(ack, ACTION_ITEM_FIELDS, _add(deps, origin, sub))
    if accepted is not None and accepted.value is not None:
        action_items.publish_action_added(client, deps, origin, accepted.value, sub.user.id)


async def complete_action_item(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    value = action.action.value or ""
    await action_items.complete_action_item(
        client,
        deps,
        Origin.of(context),
        int(value) if value.isdigit() else None,
        user=action.user.id,
        channel=action.channel_id,
    )
