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
    reactions,
    retro,
    themes,
    vsm,
    wait,
    waste,
)
from handlers import help as help_

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
)
NOT_BUILT_YET: tuple[str, ...] = ()


def register_all(app: AsyncApp) -> None:
    for module in BUILT:
        module.register(app)
    for command in NOT_BUILT_YET:
        help_.register_placeholder(app, command)
