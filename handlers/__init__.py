"""The Slack edge: one module per feature, each with ``register(app)``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import (
    action_items,
    channel_settings,
    flow,
    home,
    kaizen,
    lifecycle,
    membership,
    reactions,
    retro,
    themes,
    vsm,
    wait,
    waste,
)

BUILT = (
    waste,
    wait,
    reactions,
    vsm,
    kaizen,
    themes,
    action_items,
    channel_settings,
    home,
    flow,
    retro,
    lifecycle,
    membership,
)


def register_all(app: AsyncApp) -> None:
    """Bolt tries the listeners in the order they were registered until one matches, and each
    one tried costs some microseconds: the requests Slack sends most are matched first. Every
    emoji added in the app's channels is an event, then come quick logs and their modal."""
    reactions.register_first(app)
    waste.register_first(app)
    for module in BUILT:
        module.register(app)
