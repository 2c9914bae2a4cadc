"""Block Kit checks: Slack's limits on raw dicts, and no complaint about valid views."""

from typing import Any

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from fake_slack import check_message_blocks, check_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def pointers(errors: list[Any]) -> list[str]:
    return [e.pointer for e in errors]


def test_views_built_with_slack_sdk_models_pass() -> None:
    options = [Option(value=v, text=v.title()) for v in ("waiting", "rework", "handoff")]
    view = View(
        type="modal",
        callback_id="waste.log",
        title="Log waste",
        submit="Save",
        close="Cancel",
        private_metadata="C1",
        blocks=[
            HeaderBlock(text="This week"),
            SectionBlock(
                text=MarkdownTextObject(text="*Waiting*"),
                fields=[MarkdownTextObject(text="a"), MarkdownTextObject(text="b")],
                accessory=ButtonElement(text="Edit", action_id="edit", value="1"),
            ),
            DividerBlock(),
            ContextBlock(elements=[MarkdownTextObject(text="by <@U1>")]),
            ActionsBlock(
                elements=[
                    ButtonElement(text="Undo", action_id="undo", style="danger"),
                    StaticSelectElement(action_id="kind", placeholder="Kind", options=options),
                ]
            ),
            InputBlock(
                block_id="minutes",
                label="Minutes",
                element=NumberInputElement(action_id="minutes", is_decimal_allowed=False),
            ),
            InputBlock(
                block_id="note",
                label="Note",
                optional=True,
                element=PlainTextInputElement(action_id="note", multiline=True, max_length=3000),
            ),
            InputBlock(block_id="when", label="When", element=DatePickerElement(action_id="when")),
            InputBlock(block_id="who", label="Who", element=UserSelectElement(action_id="who")),
            InputBlock(
                block_id="tags",
                label="Tags",
                element=CheckboxesElement(action_id="tags", options=options),
            ),
        ],
    )
    assert check_view(view.to_dict(), expected_type="modal") == []


def test_home_tab_allows_100_blocks_and_not_101() -> None:
    blocks = [{"type": "divider"} for _ in range(100)]
    assert check_view({"type": "home", "blocks": blocks}) == []
    too_many = check_view({"type": "home", "blocks": [*blocks, {"type": "divider"}]})
    assert [str(e) for e in too_many] == [
        "no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


def test_message_allows_50_blocks() -> None:
    assert check_message_blocks([{"type": "divider"} for _ in range(50)]) == []


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        ({"title": plain("x" * 25)}, "/view/title/text"),
        ({"submit": plain("x" * 25)}, "/view/submit/text"),
        ({"close": plain("x" * 25)}, "/view/close/text"),
        ({"private_metadata": "x" * 3001}, "/view/private_metadata"),
        ({"callback_id": "x" * 256}, "/view/callback_id"),
        ({"title": {"type": "mrkdwn", "text": "Log"}}, "/view/title/type"),
        ({"title": plain("")}, "/view/title/text"),
    ],
)
def test_modal_limits(view: dict[str, Any], pointer: str) -> None:
    modal = {"type": "modal", "title": plain("Log waste"), "blocks": [], **view}
    assert pointer in pointers(check_view(modal))


def test_modal_with_an_input_needs_a_submit_button() -> None:
    modal = {
        "type": "modal",
        "title": plain("Log"),
        "blocks": [
            {
                "type": "input",
                "label": plain("Minutes"),
                "element": {"type": "plain_text_input"},
            }
        ],
    }
    assert pointers(check_view(modal)) == ["/view/submit"]


def test_views_open_refuses_a_home_view() -> None:
    assert pointers(check_view({"type": "home", "blocks": []}, expected_type="modal")) == [
        "/view/type"
    ]


def option(text: str, value: str = "v") -> dict[str, Any]:
    return {"text": plain(text), "value": value}


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        ({"type": "section", "fields": [plain("x" * 2001)]}, "/blocks/0/fields/0/text"),
        ({"type": "section", "fields": [plain("x")] * 11}, "/blocks/0/fields"),
        ({"type": "header", "text": {"type": "mrkdwn", "text": "x"}}, "/blocks/0/text/type"),
        ({"type": "section"}, "/blocks/0"),
        ({"type": "carousel"}, "/blocks/0"),
        (
            {
                "type": "actions",
                "elements": [
                    {"type": "static_select", "options": [option("x" * 76)]},
                ],
            },
            "/blocks/0/elements/0/options/0/text/text",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {"type": "checkboxes", "options": [option(str(i), str(i)) for i in range(11)]},
                ],
            },
            "/blocks/0/elements/0/options",
        ),
        (
            {"type": "actions", "elements": [{"type": "overflow", "options": [option("a")]}]},
            "/blocks/0/elements/0/options",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": plain("a"), "action_id": "same"},
                    {"type": "button", "text": plain("b"), "action_id": "same"},
                ],
            },
            "/blocks/0/elements/1/action_id",
        ),
        ({"type": "image", "image_url": "https://x/y.png"}, "/blocks/0/alt_text"),
    ],
)
def test_block_limits(block: dict[str, Any], pointer: str) -> None:
    assert pointer in pointers(check_message_blocks([block]))


def test_button_text_of_75_characters_is_fine() -> None:
    button = {"type": "button", "text": plain("x" * 75), "action_id": "a", "value": "v" * 2000}
    assert check_message_blocks([{"type": "actions", "elements": [button]}]) == []
