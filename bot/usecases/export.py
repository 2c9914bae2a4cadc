"""Export: a channel's logs, themes, votes and action items as a CSV file in the channel."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.export import build_export_csv
from bot.usecases.notify import NOT_A_MEMBER, tell
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import build_not_in_channel
from bot.views.kaizen import export_filename
from storage import kaizen as store


async def export_channel(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    channel: str,
    user: str,
    response_url: str | None,
) -> None:
    async with workspace_transaction(deps, origin) as work:
        export = await store.get_export(
            work.session, workspace_id=work.workspace_id, channel_id=channel
        )
    content = await deps.run_cpu(build_export_csv, export)
    try:
        await client.files_upload_v2(
            channel=channel,
            content=content,
            filename=export_filename(channel, deps.now()),
            title="Kaizen export",
            initial_comment=f"<@{user}> exported this channel's logs, themes, votes "
            "and action items.",
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in NOT_A_MEMBER:
            raise
        message = build_not_in_channel(channel)
        await tell(client, user=user, channel=None, message=message, response_url=response_url)
