"""Export: a channel's logs, themes, votes and action items, sent to the person who asked.

The file goes to the requester's direct message with the app, not to the channel: it names
everyone who logged, proposed, owned or voted, which is for the person who asked to share or not.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.export import build_export, export_user_ids
from bot.usecases.notify import tell
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_error
from bot.views.kaizen import export_filename
from storage import kaizen as store

logger = logging.getLogger(__name__)

MAX_NAMES = 200
"""Names looked up for one export; past this the ids stand alone (users.info is per user)."""


async def user_names(client: AsyncWebClient, users: list[str]) -> dict[str, str]:
    """Display names (else real names) of ``users``; someone Slack does not answer for is left
    out."""

    async def one(user: str) -> tuple[str, str]:
        try:
            found = await client.users_info(user=user)
        except SlackApiError:
            return user, ""
        info = found.get("user") or {}
        profile = info.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or info.get("name") or ""
        return user, str(name)

    pairs = await asyncio.gather(*(one(u) for u in users[:MAX_NAMES]))
    return {user: name for user, name in pairs if name}


async def export_channel(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    channel: str,
    user: str,
    response_url: str | None,
    fmt: str = "csv",
) -> None:
    async with workspace_transaction(deps, origin) as work:
        export = await store.get_export(
            work.session, workspace_id=work.workspace_id, channel_id=channel
        )
    names = await user_names(client, export_user_ids(export))
    content = await deps.run_cpu(build_export, export, fmt, names)
    try:
        opened = await client.chat_postMessage(
            channel=user,
            text=f":outbox_tray: Your export of <#{channel}>: its logs, themes, votes and action "
            f"items as {fmt.upper()}. It names the people involved: share it with care.",
        )
        await client.files_upload_v2(
            channel=str(opened["channel"]),
            content=content,
            filename=export_filename(channel, deps.now(), fmt),
            title=f"Kaizen export of #{channel}",
        )
    except SlackApiError as exc:
        logger.warning(
            "export.not_sent",
            extra={"team": origin.team_id, "channel": channel, "user": user,
                   "error": exc.response.get("error")},
        )  # fmt: skip
        message = build_error("Slack did not take the export file, so nothing was sent. Try again.")
        await tell(client, user=user, channel=channel, message=message, response_url=response_url)
