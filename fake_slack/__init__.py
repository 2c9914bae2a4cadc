"""A local stand-in for Slack: its Web API (``FakeSlack``) and its requests (``SlackDriver``).

Used by the test suite and by ``kaizen-bot demo``; it imports nothing else of the bot.
"""

from .blockkit import BlockError, check_message_blocks, check_view
from .driver import (
    DriverResponse,
    SlackDriver,
    channels_select,
    checkboxes,
    conversations_select,
    datepicker,
    input_values,
    multi_static_select,
    multi_users_select,
    number,
    option,
    plain,
    radio_buttons,
    select,
    static_select,
    timepicker,
    users_select,
)
from .server import Call, FakeChannel, FakeFile, FakeSlack, FakeUser
from .signing import sign
from .transcript import render_blocks, render_message, render_view

__all__ = [
    "BlockError",
    "Call",
    "DriverResponse",
    "FakeChannel",
    "FakeFile",
    "FakeSlack",
    "FakeUser",
    "SlackDriver",
    "channels_select",
    "check_message_blocks",
    "check_view",
    "checkboxes",
    "conversations_select",
    "datepicker",
    "input_values",
    "multi_static_select",
    "multi_users_select",
    "number",
    "option",
    "plain",
    "radio_buttons",
    "render_blocks",
    "render_message",
    "render_view",
    "select",
    "sign",
    "static_select",
    "timepicker",
    "users_select",
]
