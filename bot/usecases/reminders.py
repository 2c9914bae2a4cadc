"""Daily reminders: a DM to each owner of open action items due today or overdue.

"Today" is the owner's own date (their Slack time zone, ``users.info`` ``tz``), and the DM goes
from ``REMIND_AT`` their time on. Each item is claimed per owner-day (job ``reminder``, key
workspace:item:date), so an item is reminded at most once a day whatever the number of processes
or ticks. Done items are never selected; an owner who left the workspace is skipped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.kaizen import ActionItem
from bot.domain.schedule import zone
from bot.usecases.claims import claim, finish
from bot.usecases.clients import client_for_workspace
from bot.views.digest import build_reminder
from storage import jobs as runs
from storage.kaizen import list_actions_to_remind, mark_reminded

logger = logging.getLogger(__name__)

JOB_REMINDER = "reminder"
REMIND_AT = time(9, 0)
LATEST_OFFSET = timedelta(hours=14)
"""The furthest ahead of UTC any time zone is: no owner's date is later than UTC + 14 h."""


@dataclass
class ReminderRun:
    sent: list[str] = field(default_factory=list)
    """One ``workspace:owner:date`` per DM sent."""
    items: list[int] = field(default_factory=list)
    skipped_owners: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.sent)} reminders sent for {len(self.items)} items, "
            f"{len(self.failed)} failed, {len(self.skipped_owners)} owners gone"
        )


async def owner_timezone(client: AsyncWebClient, user: str) -> str | None:
    """The owner's IANA time zone; None when they left the workspace (deactivated or gone)."""
    try:
        found = await client.users_info(user=user)
    except SlackApiError as exc:
        if exc.response.get("error") in ("user_not_found", "user_not_visible", "account_inactive"):
            return None
        raise
    profile = found.get("user") or {}
    if profile.get("deleted"):
        return None
    return str(profile.get("tz") or "UTC")


async def run_due_reminders(deps: Deps, now: datetime, *, any_hour: bool = False) -> ReminderRun:
    """One pass; ``any_hour`` (an operator running it by hand) skips waiting for 09:00."""
    async with deps.db.transaction() as session:
        found = await list_actions_to_remind(session, due_by=(now + LATEST_OFFSET).date())
    by_owner: dict[tuple[int, str], list[ActionItem]] = defaultdict(list)
    for workspace, item in found:
        by_owner[(workspace, item.owner_id)].append(item)
    result = ReminderRun()
    clients: dict[int, AsyncWebClient | None] = {}
    for (workspace, owner), items in by_owner.items():
        if workspace not in clients:
            clients[workspace] = await client_for_workspace(deps, workspace)
        client = clients[workspace]
        if client is not None:
            await _remind_owner(deps, client, workspace, owner, items, now, result, any_hour)
    return result


async def _remind_owner(
    deps: Deps,
    client: AsyncWebClient,
    workspace: int,
    owner: str,
    items: list[ActionItem],
    now: datetime,
    result: ReminderRun,
    any_hour: bool = False,
) -> None:
    extra = {"team": workspace, "user": owner}
    try:
        timezone = await owner_timezone(client, owner)
    except SlackApiError as exc:
        logger.warning("reminder.user_lookup_failed", extra={**extra, "error": str(exc)[:200]})
        return
    if timezone is None:
        result.skipped_owners.append(owner)
        logger.info("reminder.owner_left", extra=extra)
        return
    local = now.astimezone(zone(timezone))
    if local.time() < REMIND_AT and not any_hour:
        return
    today = local.date()
    keys = {}
    for item in items:
        if item.due_date is None or item.due_date > today:
            continue
        key = f"{workspace}:{item.id}:{today.isoformat()}"
        if await claim(deps, JOB_REMINDER, key):
            keys[item.id] = key
    claimed = [i for i in items if i.id in keys]
    if not claimed:
        return
    try:
        await client.chat_postMessage(
            channel=owner,
            **build_reminder(claimed, today_label=f"{today:%A %d %B}"),
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc.response.status_code)
        logger.warning("reminder.failed", extra={**extra, "error": error})
        for key in keys.values():
            await finish(deps, JOB_REMINDER, key, runs.FAILED, f"Slack answered {error}")
        result.failed.append(f"{workspace}:{owner}")
        return
    for key in keys.values():
        await finish(deps, JOB_REMINDER, key, runs.DONE)
    async with deps.db.transaction() as session:
        await mark_reminded(session, workspace_id=workspace, item_ids=list(keys), on=today)
    result.sent.append(f"{workspace}:{owner}:{today.isoformat()}")
    result.items.extend(keys)
    logger.info("reminder.sent", extra={**extra, "items": len(keys)})
