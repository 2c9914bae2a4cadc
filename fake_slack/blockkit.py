"""Block Kit limits as Slack's Web API enforces them on raw JSON.

slack_sdk's model classes check many of these limits when a view is built with them, but a
dict built by hand reaches Slack unchecked; the fake Slack runs every ``blocks`` and ``view``
it receives through these checks so such a payload fails in tests the way it fails in
production. Errors carry the JSON pointer Slack puts in ``response_metadata.messages``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MESSAGE_MAX_BLOCKS",
    "MESSAGE_TEXT_MAX",
    "SURFACE_MAX_BLOCKS",
    "BlockError",
    "check_message_blocks",
    "check_view",
]

MESSAGE_MAX_BLOCKS = 50
SURFACE_MAX_BLOCKS = 100
MESSAGE_TEXT_MAX = 40_000

_ID_MAX = 255
_SECTION_TEXT_MAX = 3000
_SECTION_FIELDS_MAX = 10
_FIELD_TEXT_MAX = 2000
_HEADER_TEXT_MAX = 150
_CONTEXT_ELEMENTS_MAX = 10
_ACTIONS_ELEMENTS_MAX = 25
_LABEL_MAX = 2000
_ALT_TEXT_MAX = 2000
_URL_MAX = 3000
_BUTTON_TEXT_MAX = 75
_BUTTON_VALUE_MAX = 2000
_OPTION_TEXT_MAX = 75
_OPTION_VALUE_MAX = 150
_SELECT_OPTIONS_MAX = 100
_CHOICE_OPTIONS_MAX = 10
_PLACEHOLDER_MAX = 150
_INPUT_LENGTH_MAX = 3000
_MODAL_TEXT_MAX = 24
_PRIVATE_METADATA_MAX = 3000
_CONFIRM_TITLE_MAX = 100
_CONFIRM_TEXT_MAX = 300
_CONFIRM_BUTTON_MAX = 30
_MARKDOWN_BLOCK_MAX = 12_000

_BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
_SELECT_TYPES = frozenset({"static_select", "multi_static_select"})
_CHOICE_TYPES = frozenset({"checkboxes", "radio_buttons"})
_PLACEHOLDER_ELEMENTS = frozenset(
    {
        "channels_select",
        "conversations_select",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "external_select",
        "multi_channels_select",
        "multi_conversations_select",
        "multi_external_select",
        "multi_users_select",
        "number_input",
        "plain_text_input",
        "rich_text_input",
        "timepicker",
        "url_text_input",
        "users_select",
    }
)
_ELEMENT_TYPES = (
    _SELECT_TYPES
    | _CHOICE_TYPES
    | _PLACEHOLDER_ELEMENTS
    | {"button", "file_input", "image", "overflow", "workflow_button"}
)


@dataclass(frozen=True)
class BlockError:
    """One reason Slack refuses a payload, at a JSON pointer into the request."""

    message: str
    pointer: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


def check_message_blocks(blocks: Any) -> list[BlockError]:
    """Errors for the ``blocks`` of a message (chat.* or a response_url post)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", max_blocks=MESSAGE_MAX_BLOCKS)
    return checker.errors


def check_view(view: Any, *, expected_type: str | None = None) -> list[BlockError]:
    """Errors for a modal or Home tab view (views.*)."""
    checker = _Checker()
    checker.view(view, expected_type)
    return checker.errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[BlockError] = []
        self._block_ids: set[str] = set()

    def error(self, pointer: str, message: str) -> None:
        self.errors.append(BlockError(message, pointer))

    # -- primitives ---------------------------------------------------------------------------

    def string(self, value: Any, pointer: str, *, max_len: int, required: bool = False) -> None:
        if value is None:
            if required:
                self.error(pointer, "missing required field")
            return
        if not isinstance(value, str):
            self.error(pointer, "must be a string")
        elif len(value) > max_len:
            self.error(pointer, f"must be less than {max_len + 1} characters")

    def text(
        self,
        obj: Any,
        pointer: str,
        *,
        max_len: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.error(pointer, "missing required field")
            return
        if not isinstance(obj, dict):
            self.error(pointer, "must be an object")
            return
        kind = obj.get("type")
        if plain_only and kind != "plain_text":
            self.error(f"{pointer}/type", "must be plain_text")
        elif kind not in ("plain_text", "mrkdwn"):
            self.error(f"{pointer}/type", "must be one of plain_text, mrkdwn")
        text = obj.get("text")
        if not isinstance(text, str):
            self.error(f"{pointer}/text", "missing required field")
        elif not text:
            self.error(f"{pointer}/text", "must be more than 0 characters")
        elif len(text) > max_len:
            self.error(f"{pointer}/text", f"must be less than {max_len + 1} characters")

    def array(
        self, value: Any, pointer: str, *, max_items: int, min_items: int = 1
    ) -> list[Any] | None:
        if not isinstance(value, list):
            self.error(pointer, "must be an array")
            return None
        if len(value) > max_items:
            self.error(pointer, f"no more than {max_items} items allowed")
        elif len(value) < min_items:
            self.error(pointer, f"must provide at least {min_items} items")
        return value

    # -- surfaces -----------------------------------------------------------------------------

    def view(self, view: Any, expected_type: str | None) -> None:
        if not isinstance(view, dict):
            self.error("/view", "must be an object")
            return
        kind = view.get("type")
        if kind not in ("modal", "home") or (expected_type and kind != expected_type):
            self.error("/view/type", f"must be {expected_type or 'one of modal, home'}")
            return
        if kind == "modal":
            self.text(view.get("title"), "/view/title", max_len=_MODAL_TEXT_MAX, plain_only=True)
            for key in ("submit", "close"):
                self.text(
                    view.get(key),
                    f"/view/{key}",
                    max_len=_MODAL_TEXT_MAX,
                    plain_only=True,
                    required=False,
                )
            blocks = view.get("blocks")
            has_input = isinstance(blocks, list) and any(
                isinstance(b, dict) and b.get("type") == "input" for b in blocks
            )
            if has_input and view.get("submit") is None:
                self.error("/view/submit", "submit is required when an input block is present")
        self.string(
            view.get("private_metadata"), "/view/private_metadata", max_len=_PRIVATE_METADATA_MAX
        )
        self.string(view.get("callback_id"), "/view/callback_id", max_len=_ID_MAX)
        self.string(view.get("external_id"), "/view/external_id", max_len=_ID_MAX)
        self.blocks(view.get("blocks"), "/view/blocks", max_blocks=SURFACE_MAX_BLOCKS)

    def blocks(self, blocks: Any, pointer: str, *, max_blocks: int) -> None:
        items = self.array(blocks, pointer, max_items=max_blocks, min_items=0)
        for index, block in enumerate(items or []):
            self.block(block, f"{pointer}/{index}")

    # -- blocks -------------------------------------------------------------------------------

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.error(pointer, "must be an object")
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self.error(pointer, "failed to match all allowed schemas")
            return
        block_id = block.get("block_id")
        self.string(block_id, f"{pointer}/block_id", max_len=_ID_MAX)
        if isinstance(block_id, str):
            if block_id in self._block_ids:
                self.error(f"{pointer}/block_id", "duplicate block_id")
            self._block_ids.add(block_id)
        if kind == "section":
            self.section(block, pointer)
        elif kind == "header":
            self.text(
                block.get("text"), f"{pointer}/text", max_len=_HEADER_TEXT_MAX, plain_only=True
            )
        elif kind == "context":
            self.context(block, pointer)
        elif kind == "actions":
            elements = self.array(
                block.get("elements"), f"{pointer}/elements", max_items=_ACTIONS_ELEMENTS_MAX
            )
            self.elements(elements or [], f"{pointer}/elements")
        elif kind == "input":
            self.text(block.get("label"), f"{pointer}/label", max_len=_LABEL_MAX, plain_only=True)
            self.text(
                block.get("hint"),
                f"{pointer}/hint",
                max_len=_LABEL_MAX,
                plain_only=True,
                required=False,
            )
            if block.get("element") is None:
                self.error(f"{pointer}/element", "missing required field")
            else:
                self.element(block["element"], f"{pointer}/element")
        elif kind == "image":
            self.image(block, pointer)
            self.text(
                block.get("title"),
                f"{pointer}/title",
                max_len=_ALT_TEXT_MAX,
                plain_only=True,
                required=False,
            )
        elif kind == "markdown":
            self.string(
                block.get("text"), f"{pointer}/text", max_len=_MARKDOWN_BLOCK_MAX, required=True
            )

    def section(self, block: dict[str, Any], pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self.error(pointer, "must provide either text or fields")
        self.text(text, f"{pointer}/text", max_len=_SECTION_TEXT_MAX, required=False)
        if fields is not None:
            items = self.array(fields, f"{pointer}/fields", max_items=_SECTION_FIELDS_MAX)
            for index, field in enumerate(items or []):
                self.text(field, f"{pointer}/fields/{index}", max_len=_FIELD_TEXT_MAX)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{pointer}/accessory")

    def context(self, block: dict[str, Any], pointer: str) -> None:
        elements = self.array(
            block.get("elements"), f"{pointer}/elements", max_items=_CONTEXT_ELEMENTS_MAX
        )
        for index, element in enumerate(elements or []):
            at = f"{pointer}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self.image(element, at)
            else:
                self.text(element, at, max_len=_SECTION_TEXT_MAX)

    def image(self, obj: dict[str, Any], pointer: str) -> None:
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.error(f"{pointer}/image_url", "missing required field")
        self.string(obj.get("image_url"), f"{pointer}/image_url", max_len=_URL_MAX)
        self.string(
            obj.get("alt_text"), f"{pointer}/alt_text", max_len=_ALT_TEXT_MAX, required=True
        )

    # -- elements -----------------------------------------------------------------------------

    def elements(self, elements: Sequence[Any], pointer: str) -> None:
        seen: set[str] = set()
        for index, element in enumerate(elements):
            self.element(element, f"{pointer}/{index}")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:
                    self.error(f"{pointer}/{index}/action_id", "duplicate action_id")
                seen.add(action_id)

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self.error(pointer, "must be an object")
            return
        kind = element.get("type")
        if kind not in _ELEMENT_TYPES:
            self.error(pointer, "failed to match all allowed schemas")
            return
        self.string(element.get("action_id"), f"{pointer}/action_id", max_len=_ID_MAX)
        if kind == "image":
            self.image(element, pointer)
            return
        if kind == "button":
            self.text(
                element.get("text"), f"{pointer}/text", max_len=_BUTTON_TEXT_MAX, plain_only=True
            )
            self.string(element.get("value"), f"{pointer}/value", max_len=_BUTTON_VALUE_MAX)
            self.string(element.get("url"), f"{pointer}/url", max_len=_URL_MAX)
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.error(f"{pointer}/style", "must be one of primary, danger")
        if kind in _SELECT_TYPES | _PLACEHOLDER_ELEMENTS:
            self.text(
                element.get("placeholder"),
                f"{pointer}/placeholder",
                max_len=_PLACEHOLDER_MAX,
                plain_only=True,
                required=False,
            )
        if kind in _SELECT_TYPES:
            self.select_options(element, pointer)
        elif kind in _CHOICE_TYPES:
            options = self.array(
                element.get("options"), f"{pointer}/options", max_items=_CHOICE_OPTIONS_MAX
            )
            self.options(options or [], f"{pointer}/options", plain_only=False)
        elif kind == "overflow":
            options = self.array(
                element.get("options"), f"{pointer}/options", max_items=5, min_items=2
            )
            self.options(options or [], f"{pointer}/options", plain_only=True)
        elif kind == "plain_text_input":
            for key in ("min_length", "max_length"):
                value = element.get(key)
                if isinstance(value, int) and not 0 <= value <= _INPUT_LENGTH_MAX:
                    self.error(f"{pointer}/{key}", f"must be at most {_INPUT_LENGTH_MAX}")
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], f"{pointer}/confirm")

    def select_options(self, element: dict[str, Any], pointer: str) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if options is None and groups is None:
            self.error(pointer, "must provide either options or option_groups")
        if options is not None:
            items = self.array(options, f"{pointer}/options", max_items=_SELECT_OPTIONS_MAX)
            self.options(items or [], f"{pointer}/options", plain_only=True)
        if groups is not None:
            group_items = self.array(
                groups, f"{pointer}/option_groups", max_items=_SELECT_OPTIONS_MAX
            )
            for index, group in enumerate(group_items or []):
                at = f"{pointer}/option_groups/{index}"
                if not isinstance(group, dict):
                    self.error(at, "must be an object")
                    continue
                self.text(
                    group.get("label"), f"{at}/label", max_len=_OPTION_TEXT_MAX, plain_only=True
                )
                items = self.array(
                    group.get("options"), f"{at}/options", max_items=_SELECT_OPTIONS_MAX
                )
                self.options(items or [], f"{at}/options", plain_only=True)

    def options(self, options: Sequence[Any], pointer: str, *, plain_only: bool) -> None:
        for index, option in enumerate(options):
            at = f"{pointer}/{index}"
            if not isinstance(option, dict):
                self.error(at, "must be an object")
                continue
            self.text(
                option.get("text"), f"{at}/text", max_len=_OPTION_TEXT_MAX, plain_only=plain_only
            )
            self.string(option.get("value"), f"{at}/value", max_len=_OPTION_VALUE_MAX)
            self.text(
                option.get("description"),
                f"{at}/description",
                max_len=_OPTION_TEXT_MAX,
                required=False,
            )
            self.string(option.get("url"), f"{at}/url", max_len=_URL_MAX)

    def confirm(self, confirm: Any, pointer: str) -> None:
        if not isinstance(confirm, dict):
            self.error(pointer, "must be an object")
            return
        self.text(
            confirm.get("title"), f"{pointer}/title", max_len=_CONFIRM_TITLE_MAX, plain_only=True
        )
        self.text(confirm.get("text"), f"{pointer}/text", max_len=_CONFIRM_TEXT_MAX)
        for key in ("confirm", "deny"):
            self.text(
                confirm.get(key),
                f"{pointer}/{key}",
                max_len=_CONFIRM_BUTTON_MAX,
                plain_only=True,
            )
