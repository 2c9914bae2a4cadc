"""The Slack edge: one module per feature, each with ``register(app)``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import ids
from handlers import help as help_


def register_all(app: AsyncApp) -> None:
    for command in ids.COMMANDS:
        help_.register_placeholder(app, command)
