"""The weekly digest and ``/flow``: build a channel's summary, and post each digest once.

A scheduled digest is due at its channel's weekday and time in the channel's time zone
(``/kaizen settings``; Monday 09:00 UTC for a channel that never saved any). Each post is claimed
in ``job_runs`` (job, workspace:channel:ISO week) in its own committed transaction before it is
sent, so two processes, or the CLI and the scheduler, never post the same digest twice. A digest
that came due while the bot was down is posted when it is back within ``GRACE``, and recorded as
missed after that. A Slack error releases the claim (status ``failed``) so a later tick retries
after ``RETRY_FAILED_AFTER``; inside the grace window that covers a channel the bot was removed
from and is invited back to. A claim left ``running`` by a process that stopped mid-post is taken
over after ``CLAIM_LEASE``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.digest import PERIOD_LENGTHS, Digest, Period, build_digest
from bot.domain.errors import NotFound
from bot.domain.schedule import WeeklySchedule, local_clock, parse_iso_week
from bot.domain.wastes import CATEGORIES
from bot.usecases.claims import CLAIM_LEASE, RETRY_FAILED_AFTER, claim, finish
from bot.usecases.clients import client_for_workspace
from bot.views.digest import build_digest_message, digest_chart_title, digest_window
from storage import digest as digest_store
from storage import jobs as runs
from storage.channels import get_channel_config
from storage.kaizen import remove_subscription
from storage.workspaces import Scope

logger = logging.getLogger(__name__)

JOB_DIGEST = "digest"
JOB_DIGEST_DM = "digest_dm"
GRACE = timedelta(hours=12)
CHART_FILENAME = "flow-digest.png"
UNCATEGORISED = "No category yet"


def schedule_of(config: ChannelConfig) -> WeeklySchedule:
    return WeeklySchedule(config.digest_weekday % 7, config.digest_time, config.timezone)


@dataclass(frozen=True, slots=True)
class DueDigest:
    scope: Scope
    schedule: WeeklySchedule
    due: datetime

    @property
    def week(self) -> str:
        return self.schedule.period_key(self.due)

    @property
    def key(self) -> str:
        return f"{self.scope.workspace_id}:{self.scope.channel_id}:{self.week}"

    @property
    def start(self) -> datetime:
        return self.schedule.previous_due(self.due)


@dataclass
class DigestRun:
    """What one pass over the due digests did, for logs, the CLI and tests."""

    posted: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.posted)} posted, {len(self.failed)} failed, "
            f"{len(self.missed)} recorded missed, {len(self.skipped)} skipped"
        )


@dataclass(frozen=True, slots=True)
class BuiltDigest:
    digest: Digest
    message: dict[str, Any]
    chart: bytes
    chart_title: str


# -- building ---------------------------------------------------------------------------------


async def load_digest(
    deps: Deps, scope: Scope, *, start: datetime, end: datetime, timezone: str
) -> Digest:
    async with deps.db.transaction() as session:
        data = await digest_store.get_digest_data(
            session, scope=scope, start=start, end=end, today=local_clock(end, timezone).date()
        )
    return build_digest(data)


def render_digest_chart(digest: Digest, title: str) -> bytes:
    # Imported here: the chart libraries cost ~40 MB and are needed only once a chart is drawn.
    from bot.charts.flow import render_flow_chart

    categories = [(row.label, row.count, row.minutes) for row in digest.pareto]
    if digest.data.uncategorised:
        # Counted like the others, so the chart's total is the digest's and the trend's.
        categories.append((UNCATEGORISED, digest.data.uncategorised, 0))
    previous = {
        CATEGORIES[c.category].label: c.previous_count
        for c in digest.data.categories
        if c.previous_count
    }
    trend = [(f"{p.start.day} {p.start:%b}", p.count, p.minutes) for p in digest.data.trend]
    return render_flow_chart(
        # Every image carries the days its data covers.
        title=f"{title} · {digest_window(digest.data.start, digest.data.end)}",
        categories=categories,
        # A first week has nothing to compare with: no "new" on every bar.
        previous=previous if digest.previous_count else None,
        trend=trend,
    )


async def build_channel_digest(
    deps: Deps,
    scope: Scope,
    *,
    start: datetime,
    end: datetime,
    timezone: str,
    period: Period = Period.WEEK,
    weekly: bool = True,
    channel_name: str | None = None,
    unsubscribe: bool = False,
) -> BuiltDigest:
    digest = await load_digest(deps, scope, start=start, end=end, timezone=timezone)
    title = digest_chart_title(channel_name, period)
    chart = await deps.run_cpu(render_digest_chart, digest, title)
    message = build_digest_message(
        digest, channel_id=scope.channel_id, period=period, weekly=weekly, unsubscribe=unsubscribe
    )
    return BuiltDigest(digest, message, chart, title)


async def build_flow_summary(
    deps: Deps, scope: Scope, *, period: Period
) -> tuple[Digest, dict[str, Any]]:
    """``/flow``: the same content as the digest, for the period ending now (no chart: drawing
    it waits until the reply has gone)."""
    async with deps.db.transaction() as session:
        config = await get_channel_config(session, scope=scope)
    end = deps.now()
    digest = await load_digest(
        deps, scope, start=end - PERIOD_LENGTHS[period], end=end, timezone=config.timezone
    )
    message = build_digest_message(digest, channel_id=scope.channel_id, period=period, weekly=False)
    return digest, message


async def send_flow_chart(
    deps: Deps, client: AsyncWebClient, *, user: str, digest: Digest, title: str
) -> None:
    """The ``/flow`` chart, privately: uploaded into the user's DM with the bot."""
    chart = await deps.run_cpu(render_digest_chart, digest, title)
    # Posting to a user id lands in the bot's DM with them and names that DM's channel id,
    # which the upload needs (conversations.open would need one more scope, im:write).
    intro = await client.chat_postMessage(channel=user, text=f":bar_chart: {title}")
    channel = str(intro.get("channel") or user)
    await client.files_upload_v2(
        channel=channel, content=chart, filename=CHART_FILENAME, title=title
    )


async def unsubscribe(deps: Deps, scope: Scope, user: str) -> bool:
    async with deps.db.transaction() as session:
        return await remove_subscription(session, scope=scope, user_id=user)


# -- finding what is due ----------------------------------------------------------------------


ACTIVE_WITHIN = timedelta(weeks=9)
"""A channel known only by its logs gets digests while it logged something this recently (the
eight weeks of the trend and the week before): a long-silent channel is not written to weekly."""


async def list_digest_schedules(deps: Deps) -> list[tuple[Scope, WeeklySchedule, bool]]:
    """Every known channel with its digest schedule and whether the digest is on."""
    async with deps.db.transaction() as session:
        saved = await digest_store.list_channel_schedules(session)
        channels = await digest_store.list_known_channels(
            session, logged_since=deps.now() - ACTIVE_WITHIN
        )
    default = schedule_of(ChannelConfig())
    found = []
    for scope in channels:
        row = saved.get((scope.workspace_id, scope.channel_id))
        if row is None:
            found.append((scope, default, True))
        else:
            schedule = WeeklySchedule(row.digest_weekday % 7, row.digest_time, row.timezone)
            found.append((scope, schedule, row.digest_enabled))
    return found


async def find_due_digests(deps: Deps, now: datetime) -> tuple[list[DueDigest], list[DueDigest]]:
    """(due now and not yet handled, came due longer than ``GRACE`` ago and never handled)."""
    candidates = [
        DueDigest(scope, schedule, schedule.latest_due(now))
        for scope, schedule, enabled in await list_digest_schedules(deps)
        if enabled
    ]
    async with deps.db.transaction() as session:
        handled = await runs.list_handled_keys(
            session, job=JOB_DIGEST, keys=[c.key for c in candidates], now=now, lease=CLAIM_LEASE
        )
    waiting = [c for c in candidates if c.key not in handled]
    due = [c for c in waiting if now - c.due <= GRACE]
    missed = [c for c in waiting if now - c.due > GRACE]
    return due, missed


# -- posting ----------------------------------------------------------------------------------


async def _channel_name(client: AsyncWebClient, channel_id: str) -> str | None:
    try:
        found = await client.conversations_info(channel=channel_id)
    except SlackApiError:
        return None
    name = (found.get("channel") or {}).get("name")
    return str(name) if name else None


async def post_digest(
    deps: Deps, client: AsyncWebClient, due: DueDigest, *, retry_after: timedelta
) -> str:
    """Claim, build and post one digest; the claim's final status (``done``, ``failed``), or
    ``taken`` when another run holds it."""
    if not await claim(deps, JOB_DIGEST, due.key, retry_after=retry_after):
        return "taken"
    extra = {"team": due.scope.workspace_id, "channel": due.scope.channel_id, "week": due.week}
    try:
        built = await build_channel_digest(
            deps,
            due.scope,
            start=due.start,
            end=due.due,
            timezone=due.schedule.timezone,
            channel_name=await _channel_name(client, due.scope.channel_id),
        )
        await client.chat_postMessage(channel=due.scope.channel_id, **built.message)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc.response.status_code)
        logger.warning("digest.post_failed", extra={**extra, "error": error})
        await finish(deps, JOB_DIGEST, due.key, runs.FAILED, f"Slack answered {error}")
        return runs.FAILED
    except Exception as exc:
        logger.exception("digest.failed", extra=extra)
        await finish(deps, JOB_DIGEST, due.key, runs.FAILED, type(exc).__name__)
        return runs.FAILED
    await finish(deps, JOB_DIGEST, due.key, runs.DONE, f"posted {built.digest.total_count} logs")
    logger.info("digest.posted", extra=extra)
    await _upload_chart(client, due, built)
    await _send_to_subscribers(deps, client, due, built)
    return runs.DONE


async def _upload_chart(client: AsyncWebClient, due: DueDigest, built: BuiltDigest) -> None:
    try:
        await client.files_upload_v2(
            channel=due.scope.channel_id,
            content=built.chart,
            filename=CHART_FILENAME,
            title=built.chart_title,
        )
    except SlackApiError as exc:
        # The digest itself is posted; a lost chart is logged, never a second digest.
        logger.warning(
            "digest.chart_failed",
            extra={"channel": due.scope.channel_id, "error": exc.response.get("error")},
        )


async def _send_to_subscribers(
    deps: Deps, client: AsyncWebClient, due: DueDigest, built: BuiltDigest
) -> None:
    async with deps.db.transaction() as session:
        users = await digest_store.list_subscribers(session, scope=due.scope)
    if not users:
        return
    message = build_digest_message(built.digest, channel_id=due.scope.channel_id, unsubscribe=True)
    for user in users:
        key = f"{due.key}:{user}"
        if not await claim(deps, JOB_DIGEST_DM, key, retry_after=RETRY_FAILED_AFTER):
            continue
        try:
            await client.chat_postMessage(channel=user, **message)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            logger.warning("digest.dm_failed", extra={"user": user, "error": error})
            await finish(deps, JOB_DIGEST_DM, key, runs.SKIPPED, f"Slack answered {error}")
            continue
        await finish(deps, JOB_DIGEST_DM, key, runs.DONE)


async def run_due_digests(deps: Deps, now: datetime) -> DigestRun:
    """One pass: post every digest due within the grace window, record older ones as missed."""
    due, missed = await find_due_digests(deps, now)
    result = DigestRun()
    for item in missed:
        async with deps.db.transaction() as session:
            recorded = await runs.record_missed(
                session,
                job=JOB_DIGEST,
                key=item.key,
                now=now,
                detail=f"due {item.due:%Y-%m-%d %H:%M} UTC, more than {GRACE} before the run",
            )
        if recorded:
            result.missed.append(item.key)
            logger.info("digest.missed", extra={"channel": item.scope.channel_id})
    clients: dict[int, AsyncWebClient | None] = {}
    for item in due:
        workspace = item.scope.workspace_id
        if workspace not in clients:
            clients[workspace] = await client_for_workspace(deps, workspace)
        client = clients[workspace]
        if client is None:
            result.skipped.append(item.key)
            continue
        status = await post_digest(deps, client, item, retry_after=RETRY_FAILED_AFTER)
        {runs.DONE: result.posted, runs.FAILED: result.failed}.get(status, result.skipped).append(
            item.key
        )
    return result


# -- one channel, now (the CLI) ---------------------------------------------------------------


async def due_for_week(deps: Deps, channel_id: str, week: str | None) -> DueDigest:
    """The digest of ``channel_id`` for an ISO week (default: the latest one due).

    NotFound for a channel this database has no data for; InvalidInput for a malformed week.
    """
    year_week = parse_iso_week(week) if week is not None else None
    async with deps.db.transaction() as session:
        workspace = await digest_store.find_channel_workspace(session, channel_id=channel_id)
        if workspace is None:
            raise NotFound(f"no channel {channel_id} in this database")
        scope = Scope(workspace, channel_id)
        schedule = schedule_of(await get_channel_config(session, scope=scope))
    if year_week is None:
        return DueDigest(scope, schedule, schedule.latest_due(deps.now()))
    return DueDigest(scope, schedule, schedule.due_in_week(*year_week))


async def post_channel_digest_now(deps: Deps, due: DueDigest) -> str:
    """Post one digest now (unless it was posted already): ``done``, ``failed``, ``taken``,
    ``uninstalled``."""
    client = await client_for_workspace(deps, due.scope.workspace_id)
    if client is None:
        return "uninstalled"
    return await post_digest(deps, client, due, retry_after=timedelta(0))


def describe_schedules(
    schedules: Sequence[tuple[Scope, WeeklySchedule, bool]], now: datetime
) -> list[str]:
    lines = []
    for scope, schedule, enabled in schedules:
        when = schedule.next_due(now)
        state = f"next {when:%Y-%m-%d %H:%M} UTC" if enabled else "off"
        days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        lines.append(
            f"  {scope.channel_id} (workspace {scope.workspace_id}): {days[schedule.weekday]} "
            f"{schedule.at} {schedule.timezone} — {state}"
        )
    return lines
