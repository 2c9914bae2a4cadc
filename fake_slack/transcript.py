"""Block Kit rendered as plain text, for reading what the bot posted in a terminal.

The offline demo prints the fake Slack's transcript, and failing tests can show it; both want
something a person can skim, so this keeps Slack mrkdwn as written and draws buttons, selects
and inputs with a few ASCII conventions:

    == Header ==            header block
    ----------------        divider
    [Label]                 button
    <Choice>                select, date or time picker (initial value or placeholder)
    Label: ____             input block with an empty text field
    [x] Option  ( ) Option  checkboxes and radio buttons

Only ASCII is added, so the output survives consoles that are not UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["render_blocks", "render_message", "render_view", "text_of"]

_DIVIDER = "-" * 40
_BLANK_INPUT = "____"


def text_of(obj: Any) -> str:
    """The text of a Block Kit text object (or of a bare string); '' for anything else."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        text = obj.get("text")
        if isinstance(text, str):
            return text
    return ""


def render_message(text: Any, blocks: Any, attachments: Any = None) -> list[str]:
    """Lines for a message: its blocks when it has any, else its notification text."""
    lines = render_blocks(blocks) if isinstance(blocks, list) and blocks else []
    if not lines and isinstance(text, str) and text:
        lines = text.splitlines()
    if isinstance(attachments, list):
        for attachment in attachments:
            if isinstance(attachment, Mapping):
                body = render_blocks(attachment.get("blocks")) or _lines(
                    attachment.get("text") or attachment.get("fallback")
                )
                lines.extend(f"| {line}" for line in body)
    return lines


def render_view(view: Mapping[str, Any]) -> list[str]:
    """Lines for a modal or Home tab, with the modal's submit and close buttons last."""
    lines = render_blocks(view.get("blocks"))
    if view.get("type") == "modal":
        buttons = []
        if view.get("submit") is not None:
            buttons.append(f"[{text_of(view['submit'])}]")
            buttons.append(f"[{text_of(view.get('close')) or 'Cancel'}]")
        elif view.get("close") is not None:
            buttons.append(f"[{text_of(view['close'])}]")
        if buttons:
            lines.append(" ".join(buttons))
    return lines


def render_blocks(blocks: Any) -> list[str]:
    """Lines for a list of blocks, in order."""
    if not isinstance(blocks, list):
        return []
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Mapping):
            lines.extend(_render_block(block))
    return lines


def _render_block(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"== {text_of(block.get('text'))} =="]
    if kind == "divider":
        return [_DIVIDER]
    if kind == "section":
        return _render_section(block)
    if kind == "context":
        parts = [
            text_of(element)
            for element in block.get("elements") or []
            if isinstance(element, Mapping) and element.get("type") != "image"
        ]
        return _lines("  ".join(part for part in parts if part))
    if kind == "actions":
        rendered = [_render_element(e) for e in block.get("elements") or []]
        return [" ".join(part for part in rendered if part)]
    if kind == "input":
        return _render_input(block)
    if kind == "image":
        title = text_of(block.get("title")) or block.get("alt_text") or ""
        return [f"[image: {title}]"]
    if kind == "rich_text":
        return _render_rich_text(block.get("elements") or [])
    if kind == "markdown":
        return _lines(block.get("text"))
    return [f"[{kind} block]"]


def _render_section(block: Mapping[str, Any]) -> list[str]:
    lines = _lines(text_of(block.get("text")))
    for field in block.get("fields") or []:
        lines.extend(_lines(text_of(field)))
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping) and accessory.get("type") != "image":
        rendered = _render_element(accessory)
        if lines:
            lines[-1] = f"{lines[-1]}  {rendered}"
        else:
            lines.append(rendered)
    return lines


def _render_input(block: Mapping[str, Any]) -> list[str]:
    label = text_of(block.get("label"))
    if block.get("optional"):
        label = f"{label} (optional)"
    element = block.get("element")
    element = element if isinstance(element, Mapping) else {}
    kind = element.get("type")
    if kind in ("checkboxes", "radio_buttons"):
        return [f"{label}:", *(f"  {choice}" for choice in _choices(element))]
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        value = element.get("initial_value")
        shown = value if isinstance(value, str) and value else _BLANK_INPUT
    elif kind == "rich_text_input":
        shown = _BLANK_INPUT
    else:
        shown = _render_element(element)
    lines = [f"{label}: {shown}"]
    hint = text_of(block.get("hint"))
    if hint:
        lines.append(f"  ({hint})")
    return lines


def _render_element(element: Any) -> str:
    if not isinstance(element, Mapping):
        return ""
    kind = element.get("type")
    if kind in ("button", "workflow_button"):
        return f"[{text_of(element.get('text'))}]"
    if kind == "overflow":
        return "[...]"
    if kind in ("checkboxes", "radio_buttons"):
        return "  ".join(_choices(element))
    if kind == "image":
        return ""
    return f"<{_selection(element)}>"


def _selection(element: Mapping[str, Any]) -> str:
    """What a select or picker shows: its initial value, else its placeholder."""
    initial_option = element.get("initial_option")
    if isinstance(initial_option, Mapping):
        return text_of(initial_option.get("text"))
    initial_options = element.get("initial_options")
    if isinstance(initial_options, list) and initial_options:
        return ", ".join(text_of(o.get("text")) for o in initial_options if isinstance(o, Mapping))
    for key in ("initial_date", "initial_time", "initial_value"):
        value = element.get(key)
        if isinstance(value, str) and value:
            return value
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        value = element.get(key)
        if isinstance(value, str) and value:
            return f"<@{value}>" if key == "initial_user" else f"<#{value}>"
    return text_of(element.get("placeholder")) or "Select an item"


def _choices(element: Mapping[str, Any]) -> list[str]:
    radio = element.get("type") == "radio_buttons"
    initial = element.get("initial_options") or []
    if isinstance(element.get("initial_option"), Mapping):
        initial = [element["initial_option"]]
    chosen = {o.get("value") for o in initial if isinstance(o, Mapping)}
    rendered = []
    for option in element.get("options") or []:
        if not isinstance(option, Mapping):
            continue
        on = option.get("value") in chosen
        mark = ("(*)" if on else "( )") if radio else ("[x]" if on else "[ ]")
        rendered.append(f"{mark} {text_of(option.get('text'))}")
    return rendered


def _render_rich_text(elements: Iterable[Any]) -> list[str]:
    lines: list[str] = []
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        kind = element.get("type")
        if kind == "rich_text_list":
            for index, item in enumerate(element.get("elements") or [], start=1):
                bullet = f"{index}." if element.get("style") == "ordered" else "-"
                lines.append(f"{bullet} {_inline(item.get('elements') or [])}")
        elif kind == "rich_text_preformatted":
            lines.extend(["```", *_lines(_inline(element.get("elements") or [])), "```"])
        elif kind == "rich_text_quote":
            lines.extend(f"> {line}" for line in _lines(_inline(element.get("elements") or [])))
        else:
            lines.extend(_lines(_inline(element.get("elements") or [])))
    return lines


def _inline(elements: Sequence[Any]) -> str:
    parts = []
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        kind = element.get("type")
        if kind == "text":
            parts.append(str(element.get("text", "")))
        elif kind == "link":
            parts.append(str(element.get("text") or element.get("url", "")))
        elif kind == "user":
            parts.append(f"<@{element.get('user_id', '')}>")
        elif kind == "channel":
            parts.append(f"<#{element.get('channel_id', '')}>")
        elif kind == "emoji":
            parts.append(f":{element.get('name', '')}:")
    return "".join(parts)


def _lines(text: Any) -> list[str]:
    return text.splitlines() if isinstance(text, str) and text else []
