"""App Home: published when a person opens it, and again when what it shows of them changes.

Whatever the number of channels, one publish costs a fixed number of queries and one
``users.conversations`` listing (paged by Slack, 1000 channels a page).
"""

from __future__ import annotations

import functools
import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.kaizen import local_date
from bot.usecases.work import Origin, workspace_transaction
from bot.views.home import THEMES_PER_CHANNEL, build_home
from storage import kaizen as store
from storage.waste import list_reporter_observations

logger = logging.getLogger(__name__)


async def _visible_channels(client: AsyncWebClient, origin: Origin, user: str) -> set[str]:
    """The channels the person is in that the bot can see; empty where Slack refuses."""
    found: set[str] = set()
    try:
        pages = await client.users_conversations(
            user=user, types="public_channel,private_channel", exclude_archived=True, limit=1000
        )
        async for page in pages:
            found.update(str(c["id"]) for c in page.get("channels") or [])
    except SlackApiError as exc:
        logger.info(
            "home.channels_unavailable",
            extra={"team": origin.team_id, "user": user, "error": exc.response.get("error")},
        )
    return found


async def publish_home(client: AsyncWebClient, deps: Deps, origin: Origin, user: str) -> None:
    visible = await _visible_channels(client, origin, user)
    async with workspace_transaction(deps, origin) as work:
        ws = work.workspace_id
        # Overdue is judged in UTC: a person's channels may each keep a different time zone.
        today = local_date(deps.now(), "UTC")
        actions = await store.list_owner_actions(
            work.session, workspace_id=ws, owner_id=user, today=today
        )
        logs = await list_reporter_observations(
            work.session, workspace_id=ws, reporter_key=work.reporter_key(user)
        )
        channels = [
            c
            for c in await store.list_theme_channels(work.session, workspace_id=ws)
            if c in visible
        ]
        themes = await store.list_channel_themes(
            work.session, workspace_id=ws, channel_ids=channels, per_channel=THEMES_PER_CHANNEL
        )
    channel_themes = [(c, themes[c]) for c in channels if themes.get(c)]
    view = build_home(actions=actions, logs=logs, channel_themes=channel_themes, today=today)
    try:
        await client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        logger.warning(
            "home.publish_failed",
            extra={"team": origin.team_id, "user": user, "error": exc.response.get("error")},
        )


def _person(origin: Origin, user: str) -> str:
    return f"{origin.enterprise_id}:{origin.team_id}:{user}"


def open_home(client: AsyncWebClient, deps: Deps, origin: Origin, user: str) -> None:
    """A person opened their Home: publish it fresh, and keep it current for a while."""
    deps.homes_opened.note(_person(origin, user), time.monotonic())
    refresh_home(client, deps, origin, user)


def opened_home_lately(deps: Deps, origin: Origin, user: str) -> bool:
    """Whether the person opened their Home lately (as seen by this process).

    Changes that only alter numbers on a Home (a vote) republish it only for them: a Home not
    opened lately is built fresh when it is opened, and publishing it meanwhile would cost a
    channel listing, five queries and a publish for nobody to see.
    """
    return deps.homes_opened.seen(_person(origin, user), time.monotonic())


def refresh_home(client: AsyncWebClient, deps: Deps, origin: Origin, *users: str) -> None:
    """Re-publish the Home tab of each person (when they open it, or after a change that shows
    there).

    One publish per person at a time: a request made while one is under way publishes once
    more when it ends, from what is stored then, so the last publish shows the latest state.
    """
    for user in dict.fromkeys(users):
        if user:
            deps.spawn_coalesced(
                f"home.publish:{_person(origin, user)}",
                functools.partial(publish_home, client, deps, origin, user),
            )
