"""/flow: the channel's flow summary now (the digest's content, ephemeral), and the digest's
Unsubscribe button.

The summary is read and sent in the reply; the chart is drawn after it and sent to the user's
DM with the bot, so nothing in the channel changes.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.digest import Digest, Period
from bot.usecases.digests import build_flow_summary, send_flow_chart, unsubscribe
from bot.usecases.work import Origin, workspace_transaction
from bot.views.common import context_line
from bot.views.digest import build_unsubscribed, digest_chart_title
from bot.views.help import build_help
from handlers.help import unknown_subcommand
from handlers.payloads import BlockActions, Command

logger = logging.getLogger(__name__)

PERIODS = {"": Period.WEEK, **{p.value: p for p in Period}}
CHART_NOTE = ":frame_with_picture: The chart (waste Pareto and 8-week trend) is in your DM."


def register(app: AsyncApp) -> None:
    app.command(ids.CMD_FLOW)(flow_command)
    app.action(ids.ACTION_DIGEST_UNSUBSCRIBE)(unsubscribe_from_digest)


async def flow_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    cmd = Command.model_validate(body)
    period = PERIODS.get(cmd.subcommand)
    if period is None or cmd.rest:
        await ack(**build_help(ids.CMD_FLOW, problem=unknown_subcommand(cmd)))
        return
    async with workspace_transaction(deps, Origin.of(context)) as work:
        scope = work.scope(cmd.channel_id)
    digest, message = await build_flow_summary(deps, scope, period=period)
    if not digest.is_empty:
        message["blocks"].append(context_line(CHART_NOTE))
    await ack(response_type="ephemeral", **message)
    if not digest.is_empty:
        title = digest_chart_title(cmd.channel_name or None, period)
        deps.spawn(_send_chart(deps, client, cmd, digest, title), name="flow.chart")


async def _send_chart(
    deps: Deps, client: AsyncWebClient, cmd: Command, digest: Digest, title: str
) -> None:
    try:
        await send_flow_chart(deps, client, user=cmd.user_id, digest=digest, title=title)
    except SlackApiError as exc:
        error = exc.response.get("error")
        logger.info("flow.chart_refused", extra={"user": cmd.user_id, "error": error})


async def unsubscribe_from_digest(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await ack()
    action = BlockActions.model_validate(body)
    channel = action.action.value or ""
    if not channel.startswith(("C", "G")):
        return
    async with workspace_transaction(deps, Origin.of(context)) as work:
        scope = work.scope(channel)
    changed = await unsubscribe(deps, scope, action.user.id)
    await client.chat_postMessage(
        channel=action.user.id, **build_unsubscribed(channel, changed=changed)
    )
