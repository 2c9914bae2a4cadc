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

from .records import Call, Json
from .workspace import Workspace

__all__ = ["Transcript", "render_blocks", "render_message", "render_view", "text_of"]

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


class Transcript(Workspace):
    """What the bot showed people, from the recorded calls, as readable text."""

    _calls: list[Call]

    def transcript(self, channel: str | None = None) -> str:
        """What the bot showed people, as readable text, in the order it was sent."""
        channel_id = (self._channel_id_or_none(channel) or channel) if channel else None
        entries = []
        for call in self._calls:
            entry = self._transcript_entry(call, channel_id)
            if entry is not None:
                heading, lines = entry
                entries.append("\n".join([heading, *(f"    {line}" for line in lines)]))
        return "\n\n".join(entries) + ("\n" if entries else "")

    def _transcript_entry(self, call: Call, channel_id: str | None) -> tuple[str, list[str]] | None:
        args = call.args
        if call.method in ("views.open", "views.push", "views.update", "views.publish"):
            if channel_id is not None:
                return None
            return self._transcript_view(call)
        where = self._transcript_channel(call)
        if where is None or (channel_id is not None and where != channel_id):
            return None
        place = self._channel_label(where)
        if not call.ok:
            heading = f"{place or call.method}: {call.method} failed: {call.error or call.status}"
            return heading, failure_lines(call)
        if call.method == "chat.postMessage":
            suffix = " (thread reply)" if args.get("thread_ts") else ""
            return f"{place}{suffix}", message_lines(args)
        if call.method == "chat.postEphemeral":
            return f"{place} (only visible to {args.get('user')})", message_lines(args)
        if call.method == "chat.update":
            return f"{place} (message updated)", message_lines(args)
        if call.method == "chat.delete":
            return f"{place} (message deleted)", []
        if call.method == "files.completeUploadExternal":
            return self._transcript_files(call, place)
        if call.method == "response_url":
            return self._transcript_response(call, place)
        return None

    def _transcript_channel(self, call: Call) -> str | None:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete"):
            channel = call.response.get("channel") or call.args.get("channel")
            if isinstance(channel, str):
                return self._channel_id_or_none(channel) or channel
            return None
        if call.method == "files.completeUploadExternal":
            channel = call.args.get("channel_id") or call.args.get("channels")
            return channel if isinstance(channel, str) else None
        if call.method == "response_url":
            target = self._response_urls.get(call.path.rsplit("/", 1)[-1])
            return target.channel if target is not None and target.channel else ""
        return None

    def _transcript_view(self, call: Call) -> tuple[str, list[str]]:
        view = call.args.get("view")
        view = view if isinstance(view, dict) else {}
        if not call.ok:
            return f"[{call.method} failed: {call.error or call.status}]", failure_lines(call)
        if call.method == "views.publish":
            return f"[App Home for {call.args.get('user_id')}]", render_view(view)
        title = text_of(view.get("title"))
        suffix = {"views.push": " (pushed)", "views.update": " (updated)"}.get(call.method, "")
        return f"[modal: {title}]{suffix}", render_view(view)

    def _transcript_files(self, call: Call, place: str) -> tuple[str, list[str]]:
        lines = _lines(call.args.get("initial_comment"))
        headings = []
        for item in call.args.get("files") or []:
            stored = self._files.get(item.get("id", "")) if isinstance(item, dict) else None
            if stored is not None:
                title = stored.title or stored.filename
                headings.append(f"[file: {title}, {stored.size} bytes]")
        return f"{place} {' '.join(headings)}", lines

    def _transcript_response(self, call: Call, place: str) -> tuple[str, list[str]]:
        target = self._response_urls.get(call.path.rsplit("/", 1)[-1])
        user = target.user if target is not None else None
        args = call.args
        if args.get("delete_original"):
            return f"{place or '(response_url)'} (original message deleted)", []
        if args.get("replace_original"):
            how = "replaces the original message"
        elif args.get("response_type") == "in_channel":
            how = "in channel"
        else:
            how = f"only visible to {user}" if user else "ephemeral"
        return f"{place or 'response_url'} ({how})", message_lines(args)

    def _channel_label(self, channel_id: str) -> str:
        if not channel_id:
            return ""
        channel = self._channels.get(channel_id)
        if channel is None:
            return f"#{channel_id}"
        if channel.is_im:
            return f"DM with {channel.name}"
        return f"#{channel.name}"


def message_lines(args: Json) -> list[str]:
    return render_message(args.get("text"), args.get("blocks"), args.get("attachments"))


def failure_lines(call: Call) -> list[str]:
    metadata = call.response.get("response_metadata")
    messages = metadata.get("messages") if isinstance(metadata, Mapping) else None
    return [str(m) for m in messages] if isinstance(messages, list) else []
