"""Slack payloads parsed at the edge into small typed models that declare only what is read."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.errors import InvalidInput

CHANNEL_ID = r"^[CGD][A-Z0-9]{1,31}$"
"""A conversation id (public, private, or a DM); ids from payloads are checked against it."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ModalMeta(BaseModel):
    """What a modal carries between opening and submit, as compact JSON in ``private_metadata``.

    Slack hands the metadata back as the app wrote it, but it is still input: anything that
    does not parse into the declared fields is refused with a message, never trusted.
    """

    model_config = ConfigDict(extra="forbid")
    command: ClassVar[str] = ""
    """The command that opens the modal again, for the message when the metadata is bad."""

    @classmethod
    def parse(cls, text: str) -> Self:
        try:
            return cls.model_validate(json.loads(text or "{}"))
        except (ValueError, ValidationError):
            raise InvalidInput(
                f"This form can't be read any more. Close it and run `{cls.command}` again."
            ) from None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_defaults=True, mode="json")


class Command(_Payload):
    team_id: str
    enterprise_id: str | None = None
    channel_id: str
    channel_name: str = ""
    user_id: str
    command: str
    text: str = ""
    trigger_id: str
    response_url: str = ""

    @property
    def words(self) -> list[str]:
        return self.text.split()

    @property
    def subcommand(self) -> str:
        return self.words[0].lower() if self.words else ""

    @property
    def rest(self) -> str:
        """The text after the subcommand word."""
        parts = self.text.strip().split(maxsplit=1)
        return parts[1] if len(parts) > 1 else ""


class _Id(_Payload):
    id: str


class _Team(_Payload):
    id: str
    enterprise_id: str | None = None


class _Channel(_Payload):
    id: str


class Action(_Payload):
    action_id: str
    block_id: str = ""
    value: str | None = None
    selected_option: dict[str, Any] | None = None


class _Container(_Payload):
    message_ts: str | None = None
    channel_id: str | None = None


class BlockActions(_Payload):
    """A button press or select change in a message, modal or App Home."""

    team: _Team | None = None
    enterprise: _Id | None = None
    user: _Id
    channel: _Channel | None = None
    container: _Container = Field(default_factory=_Container)
    actions: list[Action]
    trigger_id: str = ""
    response_url: str | None = None
    view: dict[str, Any] | None = None

    @property
    def action(self) -> Action:
        return self.actions[0]

    @property
    def channel_id(self) -> str | None:
        return self.channel.id if self.channel else self.container.channel_id


class _View(_Payload):
    id: str = ""
    callback_id: str = ""
    private_metadata: str = ""
    state: dict[str, Any] = Field(default_factory=dict)


class ViewSubmission(_Payload):
    team: _Team | None = None
    enterprise: _Id | None = None
    user: _Id
    view: _View
    trigger_id: str = ""

    def value(self, block_id: str, action_id: str) -> Any:
        """The raw state element of one input, or None when it was left empty."""
        return self.view.state.get("values", {}).get(block_id, {}).get(action_id)

    def text(self, block_id: str, action_id: str) -> str:
        element = self.value(block_id, action_id) or {}
        return str(element.get("value") or "")

    def selected(self, block_id: str, action_id: str) -> str | None:
        element = self.value(block_id, action_id) or {}
        option = element.get("selected_option")
        return str(option["value"]) if option else None


class _Message(_Payload):
    ts: str
    text: str = ""
    user: str | None = None


class MessageShortcut(_Payload):
    team: _Team | None = None
    enterprise: _Id | None = None
    user: _Id
    channel: _Channel
    message: _Message
    trigger_id: str
    callback_id: str


class _ReactionItem(_Payload):
    type: str
    channel: str | None = None
    ts: str | None = None


class ReactionEvent(_Payload):
    type: str
    user: str
    reaction: str
    item: _ReactionItem
    item_user: str | None = None
    event_ts: str = ""
