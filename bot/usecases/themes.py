"""Themes: proposing one, moving it through its statuses, and its message in the channel.

Every change to a theme re-renders its channel message from the database, so racing updates
settle on what is stored. After a request (``refresh_theme_soon``) that is coalesced and paced
per theme: one update in flight, changes meanwhile folded into one more a second later; and per
workspace, within Slack's rate for ``chat.update`` (``Deps.message_updates``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.errors import NotFound
from bot.domain.hypotheses import (
    Hypothesis,
    Metric,
    measure_totals,
    measurement_window,
    parse_target,
    validate_hypothesis,
)
from bot.domain.kaizen import ActionItem, NewTheme, Theme, local_date
from bot.domain.themes import ThemeAction, ThemeStatus
from bot.domain.vsm import Step
from bot.usecases.notify import tell
from bot.usecases.theme_posts import NotPosted, publish_theme, republish_theme
from bot.usecases.work import Origin, Work, retried, workspace_reading, workspace_transaction
from bot.views.common import Message, with_invite_hint
from bot.views.kaizen import (
    build_backlog,
    build_status_in_thread,
    build_theme_detail,
    build_theme_message,
    build_theme_not_posted,
    build_theme_reposted,
)
from storage import kaizen as store
from storage.channels import get_channel_config
from storage.vsm import get_step, list_steps
from storage.waste import get_logged_totals
from storage.workspaces import Scope

logger = logging.getLogger(__name__)

MAX_REFRESHES = 10


@dataclass(frozen=True, slots=True)
class ThemeProposal:
    """A theme as typed in the modal, before anything is checked against stored data."""

    channel: str
    theme: NewTheme
    metric: Metric | None
    target: str
    check_date: date | None
    change: str


async def list_map_steps(deps: Deps, origin: Origin, channel: str | None) -> list[Step]:
    """The current map's steps, for a theme or waste form's step picker."""
    if channel is None:
        return []
    async with workspace_transaction(deps, origin) as work:
        return await list_steps(work.session, scope=work.scope(channel))


async def backlog(deps: Deps, origin: Origin, channel: str) -> Message:
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        themes = await store.list_themes(work.session, scope=scope)
        config = await get_channel_config(work.session, scope=scope)
    return build_backlog(themes, vote_emoji=config.vote_emoji)


async def theme_detail(
    deps: Deps, origin: Origin, channel: str, number: int, tz_offset_seconds: int
) -> Message:
    """Everything about one theme; NotFound when the channel has no such theme."""
    async with workspace_transaction(deps, origin) as work:
        scope, ws = work.scope(channel), work.workspace_id
        theme = await store.require_theme(work.session, scope=scope, number=number)
        actions = await store.list_theme_actions(work.session, workspace_id=ws, theme_id=theme.id)
        changes = await store.list_theme_changes(work.session, workspace_id=ws, theme_id=theme.id)
        voters = await store.list_voters(work.session, workspace_id=ws, theme_id=theme.id)
        config = await get_channel_config(work.session, scope=scope)
    return build_theme_detail(
        theme,
        actions=actions,
        changes=changes,
        voters=voters,
        vote_emoji=config.vote_emoji,
        tz_offset_seconds=tz_offset_seconds,
    )


@retried
async def move_theme(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    scope_channel: str,
    number: int,
    action: ThemeAction,
    actor: str,
) -> Theme:
    """Move theme K-``number`` of the channel on; the theme message follows after the reply."""
    async with workspace_transaction(deps, origin) as work:
        theme = await store.change_theme_status(
            work.session,
            scope=work.scope(scope_channel),
            number=number,
            action=action,
            actor_id=actor,
            now=deps.now(),
        )
    logger.info(
        "kaizen.theme_moved",
        extra={
            "team": origin.team_id,
            "channel": scope_channel,
            "user": actor,
            "action": action.value,
        },
    )
    refresh_theme_soon(client, deps, origin, theme.id)
    deps.spawn(post_status_in_thread(client, origin, theme, actor), name="kaizen.status_thread")
    return theme


async def post_status_in_thread(
    client: AsyncWebClient, origin: Origin, theme: Theme, actor: str
) -> None:
    """Say in the theme's thread that it moved; done and dropped also show in the channel."""
    if theme.message_channel is None or theme.message_ts is None:
        return
    message = build_status_in_thread(theme, actor=actor)
    try:
        await client.chat_postMessage(
            channel=theme.message_channel,
            thread_ts=theme.message_ts,
            reply_broadcast=theme.status in (ThemeStatus.DONE, ThemeStatus.DROPPED),
            **message,
        )
    except SlackApiError as exc:
        logger.warning(
            "kaizen.status_thread_failed",
            extra={"team": origin.team_id, "channel": theme.message_channel,
                   "error": exc.response.get("error")},
        )  # fmt: skip


async def _hypothesis(
    work: Work, scope: Scope, proposal: ThemeProposal, today: date
) -> Hypothesis | None:
    """The hypothesis with its baseline measured now, or InvalidInput naming the field."""
    metric, check_date = proposal.metric, proposal.check_date
    if metric is None or check_date is None:
        return None
    target = parse_target(metric, proposal.target)
    step_id, category = proposal.theme.step_id, proposal.theme.category
    validate_hypothesis(metric, None, target, check_date, today, step_id=step_id)
    steps = await list_steps(work.session, scope=scope)
    start, end = measurement_window(work.deps.now())
    totals = await get_logged_totals(
        work.session, scope=scope, start=start, end=end, step_id=step_id, category=category
    )
    baseline = measure_totals(metric, steps=steps, totals=totals, step_id=step_id)
    validate_hypothesis(metric, baseline, target, check_date, today, step_id=step_id)
    return Hypothesis(
        metric=metric,
        target=target,
        check_date=check_date,
        baseline=baseline,
        step_id=step_id,
        category=category,
        change=proposal.change,
    )


@retried
async def propose_theme(
    deps: Deps, origin: Origin, proposal: ThemeProposal, *, author: str, delivery: str
) -> tuple[Theme, ChannelConfig] | None:
    """Store a proposed theme once (None for a resubmitted form); KaizenError names a field."""
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(proposal.channel)
        step_id = proposal.theme.step_id
        if (
            step_id is not None
            and await get_step(work.session, scope=scope, step_id=step_id) is None
        ):
            raise NotFound("That step is not on this channel's map.", field="step")
        config = await get_channel_config(work.session, scope=scope)
        hypothesis = await _hypothesis(
            work, scope, proposal, local_date(deps.now(), config.timezone)
        )
        if not await work.first_delivery(delivery):
            return None
        new = NewTheme(
            title=proposal.theme.title,
            problem=proposal.theme.problem,
            category=proposal.theme.category,
            step_id=step_id,
            hypothesis=hypothesis,
        )
        theme = await store.add_theme(
            work.session, scope=scope, theme=new, author_id=author, now=deps.now()
        )
    logger.info(
        "kaizen.theme_added",
        extra={"team": origin.team_id, "channel": proposal.channel, "user": author},
    )
    return theme, config


# -- the theme message ------------------------------------------------------------------------


THEME_UPDATE_GAP = 1.0
"""Seconds between two updates of one theme's message while changes keep coming: the first
change shows at once, a burst of votes then costs one ``chat.update`` a second of Slack's
rate limit and of this process's time, and the last one shows the final count."""


def refresh_theme_soon(client: AsyncWebClient, deps: Deps, origin: Origin, theme_id: int) -> None:
    """Show the stored theme on its message, after the reply; coalesced and paced per theme."""
    key = f"kaizen.refresh:{origin.enterprise_id}:{origin.team_id}:{theme_id}"
    message = _ThemeMessage(client, deps, origin, theme_id)

    async def update() -> None:
        if not await message.update(runs_again=lambda: deps.runs_again(key)):
            # Changed again meanwhile (in this process or another): one more, after the gap.
            refresh_theme_soon(client, deps, origin, theme_id)

    deps.spawn_coalesced(key, update, gap=THEME_UPDATE_GAP)


@dataclass(frozen=True, slots=True)
class _Shown:
    """What a theme's message shows, as stored: compared, not rendered, to tell a change."""

    channel: str
    ts: str
    theme: Theme
    actions: list[ActionItem]
    config: ChannelConfig

    def render(self) -> Message:
        return build_theme_message(
            self.theme, actions=self.actions, vote_emoji=self.config.vote_emoji
        )


async def _stored_theme(deps: Deps, origin: Origin, theme_id: int) -> _Shown | None:
    """What the theme's message should show; None when it has no message."""
    async with workspace_reading(deps, origin) as work:
        ws = work.workspace_id
        found = await store.get_theme_and_config(work.session, workspace_id=ws, theme_id=theme_id)
        if found is None:
            return None
        theme, config = found
        if theme.message_channel is None or theme.message_ts is None:
            return None
        actions = await store.list_theme_actions(work.session, workspace_id=ws, theme_id=theme_id)
    return _Shown(theme.message_channel, theme.message_ts, theme, actions, config)


@dataclass
class _ThemeMessage:
    """A theme's channel message, updated from the database; remembers what it last sent."""

    client: AsyncWebClient
    deps: Deps
    origin: Origin
    theme_id: int
    sent: _Shown | None = None

    async def update(self, *, runs_again: Callable[[], bool] = lambda: False) -> bool:
        """Send what is stored, if it is not what was sent last; True when the message then
        shows the stored state (or cannot be updated), False when it changed meanwhile.

        Updates of one theme from several processes may land in any order: reading again
        after the update tells whether this one may have landed over a newer one. When
        ``runs_again`` says another update follows anyway (a change came meanwhile), that one
        reads what is stored then, and this one does not.
        """
        # The workspace's turn first (theme messages of a channel voting on all of them at
        # once would be over Slack's limit), then what is stored by then.
        await self.deps.message_updates.turn(f"{self.origin.enterprise_id}:{self.origin.team_id}")
        shown = await _stored_theme(self.deps, self.origin, self.theme_id)
        if shown is None or shown == self.sent:
            return True
        channel = shown.channel
        try:
            await self.client.chat_update(channel=channel, ts=shown.ts, **shown.render())
        except SlackApiError as exc:
            logger.warning(
                "kaizen.theme_update_failed",
                extra={
                    "team": self.origin.team_id,
                    "channel": channel,
                    "error": exc.response.get("error"),
                },
            )
            return True
        self.sent = shown
        if runs_again():
            return True
        again = await _stored_theme(self.deps, self.origin, self.theme_id)
        return again is None or again == shown


async def refresh_theme_message(
    client: AsyncWebClient, deps: Deps, origin: Origin, theme_id: int
) -> None:
    """Re-render the theme's message from the database until what Slack shows is current
    (for a job, which waits for it; requests use ``refresh_theme_soon``)."""
    message = _ThemeMessage(client, deps, origin, theme_id)
    for _ in range(MAX_REFRESHES):
        if await message.update():
            return
    logger.warning(
        "kaizen.theme_update_unsettled", extra={"team": origin.team_id, "theme": theme_id}
    )


async def post_theme(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    theme: Theme,
    vote_emoji: str,
    user: str,
    response_url: str | None,
) -> None:
    """Post a new theme for votes; if Slack does not take it, tell its author how to get it."""
    async with workspace_transaction(deps, origin) as work:
        workspace_id = work.workspace_id
    try:
        await publish_theme(client, deps, workspace_id, theme, vote_emoji)
    except NotPosted as failed:
        await _tell_not_posted(client, theme, failed, user, response_url)


async def repost_theme(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    channel: str,
    number: int,
    user: str,
    response_url: str | None,
) -> None:
    """ "Post it again": adopt the theme's message if an earlier post did land, else post it."""
    async with workspace_transaction(deps, origin) as work:
        theme = await store.get_theme(work.session, scope=work.scope(channel), number=number)
        workspace_id = work.workspace_id
    if theme is None:
        return
    try:
        await republish_theme(client, deps, workspace_id, theme)
    except NotPosted as failed:
        await _tell_not_posted(client, theme, failed, user, response_url)
        return
    done = build_theme_reposted(theme.ref, channel)
    await tell(client, user=user, channel=None, message=done, response_url=response_url)


async def _tell_not_posted(
    client: AsyncWebClient, theme: Theme, failed: NotPosted, user: str, response_url: str | None
) -> None:
    logger.warning(
        "kaizen.theme_not_posted", extra={"channel": theme.channel_id, "error": failed.reason}
    )
    if failed.not_in_channel:
        stored = {"text": f"{theme.ref} is stored, but I can't post it for votes."}
        message = with_invite_hint(stored, theme.channel_id)
    else:
        message = build_theme_not_posted(theme.ref, theme.channel_id, theme.number)
    await tell(client, user=user, channel=None, message=message, response_url=response_url)
