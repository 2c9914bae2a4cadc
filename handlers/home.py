"""App Home: published when a person opens it (``bot.usecases.home`` draws and publishes it).

Its "Log a waste" button is handled by ``handlers.waste`` and "Propose a theme" by
``handlers.themes``.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.usecases.home import open_home
from bot.usecases.work import Origin


def register(app: AsyncApp) -> None:
    app.event(ids.EVENT_APP_HOME_OPENED)(home_opened)


async def home_opened(
    body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    event = body.get("event") or {}
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    # Publishing lists the person's channels: answer the event first, publish right after.
    open_home(client, deps, Origin.of(context), str(event["user"]))
