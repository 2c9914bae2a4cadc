"""Action items: adding one (to a theme or on its own) and completing it."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.errors import NotFound
from bot.domain.kaizen import ActionItem, NewActionItem, Theme, check_due_date, local_date
from bot.usecases.home import refresh_home
from bot.usecases.notify import tell
from bot.usecases.themes import refresh_theme_soon
from bot.usecases.work import Origin, workspace_transaction
from bot.views.kaizen import build_action_added, build_action_done
from storage import kaizen as store
from storage.channels import get_channel_config

logger = logging.getLogger(__name__)


async def list_open_themes(deps: Deps, origin: Origin, channel: str) -> list[Theme]:
    """The channel's open themes, for the action item form's theme picker."""
    async with workspace_transaction(deps, origin) as work:
        return await store.list_themes(work.session, scope=work.scope(channel))


async def add_action_item(
    deps: Deps,
    origin: Origin,
    channel: str,
    new: NewActionItem,
    theme_number: int | None,
    *,
    author: str,
    delivery: str,
) -> ActionItem | None:
    """Store an action item once (None for a resubmitted form); KaizenError names a field."""
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        config = await get_channel_config(work.session, scope=scope)
        check_due_date(new.due_date, local_date(deps.now(), config.timezone))
        theme = None
        if theme_number is not None:
            theme = await store.get_theme(work.session, scope=scope, number=theme_number)
            if theme is None:
                raise NotFound("That theme is not in this channel.", field="theme")
        if not await work.first_delivery(delivery):
            return None
        new = NewActionItem(new.text, new.owner_id, new.due_date, theme.id if theme else None)
        item = await store.add_action_item(
            work.session, scope=scope, item=new, created_by=author, now=deps.now()
        )
    logger.info(
        "kaizen.action_added", extra={"team": origin.team_id, "channel": channel, "user": author}
    )
    return item


def publish_action_added(
    client: AsyncWebClient, deps: Deps, origin: Origin, item: ActionItem, author: str
) -> None:
    """After the reply: the theme message, both people's Home tabs, and a word to the author."""
    if item.theme_id is not None:
        refresh_theme_soon(client, deps, origin, item.theme_id)
    refresh_home(client, deps, origin, item.owner_id, author)
    deps.spawn(
        tell(client, user=author, channel=item.channel_id, message=build_action_added(item)),
        name="kaizen.action_added",
    )


def _item_channel(channel_id: str | None) -> str | None:
    """The channel an item's button must belong to; a DM (the daily reminder) checks none."""
    return None if channel_id is None or channel_id.startswith("D") else channel_id


async def complete_action_item(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    item_id: int | None,
    *,
    user: str,
    channel: str | None,
) -> None:
    """Mark an action item done (once); the person is told where they pressed the button."""
    done = None
    if item_id is not None:
        async with workspace_transaction(deps, origin) as work:
            done = await store.complete_action_item(
                work.session,
                workspace_id=work.workspace_id,
                item_id=item_id,
                channel_id=_item_channel(channel),
                now=deps.now(),
            )
    refresh_home(client, deps, origin, user, done[0].owner_id if done else "")
    if done is None:
        return
    item, changed = done
    if item.theme_id is not None and changed:
        refresh_theme_soon(client, deps, origin, item.theme_id)
    if channel is not None:
        message = build_action_done(item, changed=changed)
        await tell(client, user=user, channel=channel, message=message)
