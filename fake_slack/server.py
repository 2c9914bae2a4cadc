"""A local stand-in for Slack's Web API, for tests and the offline demo.

``FakeSlack`` is an aiohttp server on 127.0.0.1 that answers the Web API methods the bot uses
the way Slack does (``{"ok": true, ...}`` or ``{"ok": false, "error": ...}`` with HTTP 200,
429 with ``Retry-After`` when rate limited), keeps a small workspace (users, channels, messages,
views, files) and records every request with its decoded arguments. Point a real
``AsyncWebClient(base_url=slack.api_url)`` at it: the client then serialises every call as it
would for Slack, so a wrong argument name or an over-long Block Kit field fails here rather than
in production. ``response_url`` and file ``upload_url`` are absolute URLs on the same server.

Behaviour worth knowing when reading a test:

* Arguments are merged from the query string and the body (form-encoded or JSON), because
  slack_sdk sends some methods' arguments in the query string even on POST. Form values stay
  strings (slack_sdk turns ``True`` into ``"1"``), except fields Slack expects as JSON inside a
  form field (``blocks``, ``attachments``, ``view``, ``files``, ...), which are decoded.
* Channels need not be registered: an unknown ``C...`` id is treated as a public channel the
  bot is in. Register one with ``add_channel`` to give it a name, make it private, or take the
  bot out of it. ``conversations.info`` only knows registered channels.
* ``reset()`` forgets recorded calls and pending injected failures; the workspace stays.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import mimetypes
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from multidict import CIMultiDict

from .blockkit import MESSAGE_TEXT_MAX, BlockError, check_message_blocks, check_view
from .socket_mode import SocketModeHub
from .transcript import render_message, render_view, text_of

__all__ = ["Call", "FakeChannel", "FakeFile", "FakeSlack", "FakeUser", "Hold"]

Json = dict[str, Any]

# Fields Slack expects as JSON even inside a form-encoded body or a query string.
_JSON_FIELDS = frozenset(
    {"attachments", "blocks", "chunks", "files", "metadata", "unfurls", "user_auth_blocks", "view"}
)
# Slack lets a response_url be used five times (within 30 minutes).
_RESPONSE_URL_USES = 5
_POLL_INTERVAL = 0.005
_MAX_BODY = 64 * 1024 * 1024
_CREATED = 1_700_000_000


@dataclass(frozen=True)
class Call:
    """One request the fake received, with its arguments decoded and what it answered."""

    method: str
    args: dict[str, Any]
    headers: Mapping[str, str]
    status: int = 200
    response: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/Berlin"
    tz_offset: int = 0
    is_bot: bool = False
    email: str | None = None
    deleted: bool = False


@dataclass
class FakeChannel:
    id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    # None: membership unknown, anyone may be addressed in it.
    members: list[str] | None = None
    is_im: bool = False


@dataclass
class FakeFile:
    """A file uploaded through files.getUploadURLExternal and files.completeUploadExternal."""

    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes = b""
    uploaded: bool = False
    completed: bool = False
    channel_id: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class _Fault:
    kind: Literal["error", "ratelimit", "server"]
    error: str = ""
    retry_after: int = 1
    status: int = 500


@dataclass
class Hold:
    """A call kept waiting by ``FakeSlack.hold_next``: ``arrived`` once it came in."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class _ResponseUrl:
    name: str
    channel: str | None
    user: str | None
    message_ts: str | None
    uses: int = 0


class _SlackError(Exception):
    def __init__(self, error: str, *, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.payload: Json = {"ok": False, "error": error, **extra}
        if messages:
            self.payload["response_metadata"] = {"messages": messages}


class FakeSlack:
    """Slack's Web API on a free local port; ``async with FakeSlack() as slack: ...``."""

    def __init__(
        self,
        *,
        team_id: str = "T0001",
        team: str = "Fake Workspace",
        team_domain: str = "fake",
        enterprise_id: str | None = None,
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        bot_name: str = "kaizen-bot",
        app_id: str = "A0001",
        bot_token: str | None = None,
        trigger_ttl: float | None = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.team_id = team_id
        self.team = team
        self.team_domain = team_domain
        self.enterprise_id = enterprise_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.bot_token = bot_token
        self._oauth_grants: dict[str, Json] = {}
        self.socket_mode = SocketModeHub()
        self.trigger_ttl = trigger_ttl
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._holds: dict[str, deque[Hold]] = {}
        self._users: dict[str, FakeUser] = {}
        self._channels: dict[str, FakeChannel] = {}
        self._messages: dict[str, list[Json]] = {}
        self._views: dict[str, Json] = {}
        self._view_users: dict[str, str] = {}
        self._homes: dict[str, str] = {}
        self._files: dict[str, FakeFile] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._triggers: dict[str, tuple[float, str | None]] = {}
        self._ts_micros = _CREATED * 1_000_000
        self._counter = 100

        self.add_user(bot_user_id, bot_name, real_name=bot_name, is_bot=True)
        self._methods: dict[str, Callable[[Json], Json]] = {
            "api.test": self._api_test,
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_v2_access,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.replies": self._conversations_replies,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "reactions.add": self._reactions_add,
            "reactions.get": self._reactions_get,
            "reactions.remove": self._reactions_remove,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.push": self._views_push,
            "views.update": self._views_update,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{name}", self._handle_response_url)
        app.router.add_get("/link/{n}", self.socket_mode.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}/"

    async def stop(self) -> None:
        await self.socket_mode.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/``; only known once started."""
        if self._base_url is None:
            raise RuntimeError("FakeSlack is not running; use `async with FakeSlack()`")
        return self._base_url

    @property
    def api_url(self) -> str:
        """The ``base_url`` for ``AsyncWebClient``, ending in ``/api/``."""
        return f"{self.base_url}api/"

    # -- the workspace ------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        real_name: str | None = None,
        tz: str = "Europe/Berlin",
        tz_offset: int | None = None,
        is_bot: bool = False,
        email: str | None = None,
        deleted: bool = False,
    ) -> FakeUser:
        """Register a user for users.info; ``tz_offset`` defaults to the zone's offset now."""
        name = name or user_id.lower()
        user = FakeUser(
            id=user_id,
            name=name,
            real_name=real_name or name,
            tz=tz,
            tz_offset=_utc_offset(tz) if tz_offset is None else tz_offset,
            is_bot=is_bot,
            email=email,
            deleted=deleted,
        )
        self._users[user_id] = user
        return user

    def user(self, user_id: str) -> FakeUser | None:
        return self._users.get(user_id)

    def add_channel(
        self,
        channel_id: str,
        name: str,
        is_private: bool = False,
        is_member: bool = True,
        members: list[str] | None = None,
    ) -> FakeChannel:
        """Register a channel; ``members`` (user ids) limits who can get ephemerals there."""
        channel = FakeChannel(
            id=channel_id,
            name=name.lstrip("#"),
            is_private=is_private,
            is_member=is_member,
            members=list(members) if members is not None else None,
        )
        self._channels[channel_id] = channel
        return channel

    def channel(self, channel_id: str) -> FakeChannel | None:
        return self._channels.get(channel_id)

    def set_member(self, channel_id: str, is_member: bool = True) -> None:
        """Put the bot in (someone ran ``/invite``) or take it out of a registered channel."""
        self._channels[channel_id].is_member = is_member

    def add_message(
        self,
        channel: str,
        ts: str,
        text: str,
        user: str,
        *,
        thread_ts: str | None = None,
        blocks: list[Json] | None = None,
    ) -> Json:
        """Seed a message someone else wrote, for conversations.history/replies and reactions."""
        channel_id = self._resolve_channel(channel)
        message: Json = {"type": "message", "user": user, "text": text, "ts": ts}
        if blocks is not None:
            message["blocks"] = _with_block_ids(blocks)
        self._ts_micros = max(self._ts_micros, _ts_micros(ts))
        self._insert_message(channel_id, message, thread_ts)
        return copy.deepcopy(message)

    def next_ts(self) -> str:
        """A message timestamp later than any the fake has handed out or been given."""
        self._ts_micros += 100
        seconds, micros = divmod(self._ts_micros, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def messages(self, channel: str) -> list[Json]:
        """Every message stored in a channel, thread replies included, oldest first."""
        channel_id = self._channel_id_or_none(channel) or channel
        return copy.deepcopy(self._sorted(channel_id))

    def message(self, channel: str, ts: str) -> Json | None:
        channel_id = self._channel_id_or_none(channel) or channel
        found = self._find_message(channel_id, ts)
        return copy.deepcopy(found) if found is not None else None

    def add_reaction(self, channel: str, ts: str, reaction: str, user: str) -> None:
        """Record a person's reaction on a stored message (as the reaction_added event says)."""
        message = self._find_message(self._resolve_channel(channel), ts)
        if message is None:
            raise KeyError(f"no message {ts} in {channel}")
        self._react(message, reaction, user)

    def remove_reaction(self, channel: str, ts: str, reaction: str, user: str) -> None:
        message = self._find_message(self._resolve_channel(channel), ts)
        if message is not None:
            self._unreact(message, reaction, user)

    @property
    def views(self) -> list[Json]:
        """Every view opened, pushed or published, in its latest state."""
        return copy.deepcopy(list(self._views.values()))

    def view(self, view_id: str) -> Json:
        return copy.deepcopy(self._views[view_id])

    def last_view(self, user: str | None = None) -> Json:
        """The modal most recently opened, pushed or updated (for ``user``, if given)."""
        view = self.find_view(user=user)
        if view is None:
            raise LookupError(f"no modal open{f' for {user}' if user else ''}")
        return view

    def find_view(self, *, callback_id: str | None = None, user: str | None = None) -> Json | None:
        """The latest modal with this ``callback_id`` shown to ``user`` (either may be None).

        A view opened with a trigger_id the fake did not issue has no known user and matches
        any ``user``.
        """
        for view_id in reversed(list(self._views)):
            view = self._views[view_id]
            owner = self._view_users.get(view_id)
            if (
                view.get("type") == "modal"
                and callback_id in (None, view.get("callback_id"))
                and (user is None or owner in (None, user))
            ):
                return copy.deepcopy(view)
        return None

    def home(self, user: str) -> Json | None:
        """The Home tab last published for ``user``."""
        view_id = self._homes.get(user)
        return copy.deepcopy(self._views[view_id]) if view_id else None

    @property
    def files(self) -> list[FakeFile]:
        """Files whose upload was completed, with their bytes."""
        return [f for f in self._files.values() if f.completed]

    def new_trigger_id(self, user: str | None = None) -> str:
        """A trigger_id for an interaction; views.open refuses it after ``trigger_ttl`` s."""
        self._counter += 1
        trigger_id = f"tr-{self._counter}"
        self._triggers[trigger_id] = (time.monotonic(), user)
        return trigger_id

    def response_url(
        self,
        name: str,
        *,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """An absolute response_url on this server; posts to it are recorded as calls.

        ``channel``, ``user`` and ``message_ts`` say where the interaction came from, so that
        ``replace_original``/``delete_original`` act on that message and the transcript can
        say where a response went.
        """
        self._response_urls[name] = _ResponseUrl(name, channel, user, message_ts)
        return f"{self.base_url}response/{name}"

    # -- recorded calls -----------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self._calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        # A plain number keeps test call sites short; the loop below enforces the deadline.
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Call:
        """The first recorded call to ``method`` matching ``predicate``, waiting if need be."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self._calls:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            if time.monotonic() >= deadline:
                seen = ", ".join(call.method for call in self._calls) or "none"
                raise TimeoutError(
                    f"no matching {method} call within {timeout} s; calls seen: {seen}"
                )
            await asyncio.sleep(_POLL_INTERVAL)

    def reset(self) -> None:
        """Forget recorded calls and pending failures; users, channels and messages stay."""
        self._calls.clear()
        self._faults.clear()
        self._holds.clear()

    # -- failure injection --------------------------------------------------------------------

    def fail_next(self, method: str, error: str = "not_in_channel", times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with ``{"ok": false, "error": ...}``."""
        self._add_fault(method, _Fault("error", error=error), times)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next calls with HTTP 429, ``Retry-After`` and ``error: ratelimited``."""
        self._add_fault(method, _Fault("ratelimit", retry_after=retry_after), times)

    def server_error_next(self, method: str, status: int = 500, times: int = 1) -> None:
        """Answer the next calls with an HTTP 5xx and ``error: fatal_error``."""
        self._add_fault(method, _Fault("server", status=status), times)

    def hold_next(self, method: str) -> Hold:
        """Keep the next call to ``method`` unanswered until the hold is released.

        For ordering races: calls made while it waits are answered first, as when Slack
        delivers one request of several slower than the others.
        """
        hold = Hold()
        self._holds.setdefault(method, deque()).append(hold)
        return hold

    def _add_fault(self, method: str, fault: _Fault, times: int) -> None:
        self._faults.setdefault(method, deque()).extend([fault] * times)

    def _take_fault(self, method: str) -> _Fault | None:
        pending = self._faults.get(method)
        return pending.popleft() if pending else None

    # -- the transcript -----------------------------------------------------------------------

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
            return heading, _failure_lines(call)
        if call.method == "chat.postMessage":
            suffix = " (thread reply)" if args.get("thread_ts") else ""
            return f"{place}{suffix}", _message_lines(args)
        if call.method == "chat.postEphemeral":
            return f"{place} (only visible to {args.get('user')})", _message_lines(args)
        if call.method == "chat.update":
            return f"{place} (message updated)", _message_lines(args)
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
            return f"[{call.method} failed: {call.error or call.status}]", _failure_lines(call)
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
        return f"{place or 'response_url'} ({how})", _message_lines(args)

    def _channel_label(self, channel_id: str) -> str:
        if not channel_id:
            return ""
        channel = self._channels.get(channel_id)
        if channel is None:
            return f"#{channel_id}"
        if channel.is_im:
            return f"DM with {channel.name}"
        return f"#{channel.name}"

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        headers = CIMultiDict(request.headers)
        try:
            args = await _read_args(request)
        except _SlackError as exc:
            return self._answer(request, method, {}, headers, exc.payload)
        if method not in self._methods:
            return self._answer(request, method, args, headers, _error("unknown_method"))
        if method not in ("api.test", "oauth.v2.access"):
            auth_error = self._check_auth(
                headers.get("Authorization"), app_level=method == "apps.connections.open"
            )
            if auth_error is not None:
                return self._answer(request, method, args, headers, _error(auth_error))
        held = self._holds.get(method)
        if held:
            hold = held.popleft()
            hold.arrived.set()
            await hold.released.wait()
        fault = self._take_fault(method)
        if fault is not None:
            return self._answer_fault(request, method, args, headers, fault)
        try:
            payload = {"ok": True, **self._methods[method](args)}
        except _SlackError as exc:
            payload = exc.payload
        return self._answer(request, method, args, headers, payload)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        headers = CIMultiDict(request.headers)
        file_id = request.match_info["file_id"]
        content = await _read_upload(request)
        args: Json = {"file_id": file_id, "length": len(content)}
        fault = self._take_fault("upload_url")
        if fault is not None:
            return self._answer_fault(request, "upload_url", args, headers, fault)
        stored = self._files.get(file_id)
        if stored is None:
            self._record(request, "upload_url", args, headers, 404, _error("file_not_found"))
            return web.Response(status=404, text="Not Found")
        stored.content = content
        stored.uploaded = True
        self._record(request, "upload_url", args, headers, 200, {"ok": True})
        # Slack's upload endpoint answers in plain text, which slack_sdk checks only for 200.
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        headers = CIMultiDict(request.headers)
        name = request.match_info["name"]
        try:
            args = await _read_args(request)
        except _SlackError as exc:
            return self._answer(request, "response_url", {}, headers, exc.payload, status=400)
        fault = self._take_fault("response_url")
        if fault is not None:
            return self._answer_fault(request, "response_url", args, headers, fault)
        target = self._response_urls.setdefault(name, _ResponseUrl(name, None, None, None))
        target.uses += 1
        if target.uses > _RESPONSE_URL_USES:
            return self._answer(
                request, "response_url", args, headers, _error("used_url"), status=404
            )
        try:
            self._respond(target, args)
        except _SlackError as exc:
            return self._answer(request, "response_url", args, headers, exc.payload, status=400)
        return self._answer(request, "response_url", args, headers, {"ok": True})

    def _check_auth(self, authorization: str | None, *, app_level: bool = False) -> str | None:
        if not authorization:
            return "not_authed"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "not_authed"
        if app_level:
            return None if token.startswith("xapp-") else "invalid_auth"
        if not token.startswith("xoxb-"):
            return "invalid_auth"
        if self.bot_token is not None and token != self.bot_token:
            return "invalid_auth"
        return None

    def _answer(
        self,
        request: web.Request,
        method: str,
        args: Json,
        headers: CIMultiDict[str],
        payload: Json,
        *,
        status: int = 200,
        extra_headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        self._record(request, method, args, headers, status, payload)
        return web.json_response(payload, status=status, headers=extra_headers)

    def _answer_fault(
        self,
        request: web.Request,
        method: str,
        args: Json,
        headers: CIMultiDict[str],
        fault: _Fault,
    ) -> web.Response:
        if fault.kind == "ratelimit":
            return self._answer(
                request,
                method,
                args,
                headers,
                _error("ratelimited"),
                status=429,
                extra_headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "server":
            return self._answer(
                request, method, args, headers, _error("fatal_error"), status=fault.status
            )
        return self._answer(request, method, args, headers, _error(fault.error))

    def _record(
        self,
        request: web.Request,
        method: str,
        args: Json,
        headers: CIMultiDict[str],
        status: int,
        payload: Json,
    ) -> None:
        self._calls.append(
            Call(
                method=method,
                args=args,
                headers=headers,
                status=status,
                response=copy.deepcopy(payload),
                path=request.path,
            )
        )

    # -- Web API methods ----------------------------------------------------------------------

    def _api_test(self, args: Json) -> Json:
        return {"args": args}

    def add_oauth_grant(
        self, code: str, *, team_id: str, team_name: str, bot_token: str, bot_user_id: str = "UBOT"
    ) -> None:
        """An OAuth ``code`` that ``oauth.v2.access`` will exchange for a bot installation."""
        self._oauth_grants[code] = {
            "access_token": bot_token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "authed_user": {"id": "UINSTALLER"},
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: Json) -> Json:
        return {"url": self.socket_mode.open_url(self.base_url)}

    def _oauth_v2_access(self, args: Json) -> Json:
        grant = self._oauth_grants.pop(str(args.get("code") or ""), None)
        if grant is None:
            raise _SlackError("invalid_code")
        return grant

    def _auth_test(self, args: Json) -> Json:
        result: Json = {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if self.enterprise_id is not None:
            result["enterprise_id"] = self.enterprise_id
        return result

    def _chat_post_message(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        _check_message_content(args)
        message = self._bot_message(args, self.next_ts())
        thread_ts = args.get("thread_ts") or None
        if thread_ts and _truthy(args.get("reply_broadcast")):
            message["subtype"] = "thread_broadcast"
        self._insert_message(channel, message, thread_ts)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        user = args.get("user")
        if not isinstance(user, str) or not user:
            raise _SlackError("user_not_found")
        known = self._channels.get(channel)
        if known is not None and known.members is not None and user not in known.members:
            raise _SlackError("user_not_in_channel")
        _check_message_content(args)
        return {"message_ts": self.next_ts()}

    def _chat_update(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        message = self._own_message(channel, args.get("ts"), "cant_update_message")
        _check_message_content(args)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = copy.deepcopy(args[key])
        if "blocks" in message:
            message["blocks"] = _with_block_ids(message["blocks"])
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": copy.deepcopy(message),
        }

    def _chat_delete(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        message = self._own_message(channel, args.get("ts"), "cant_delete_message")
        self._messages[channel].remove(message)
        return {"channel": channel, "ts": message["ts"]}

    def _chat_get_permalink(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        known = self._channels.get(channel)
        if known is not None and known.is_private and not known.is_member:
            raise _SlackError("channel_not_found")
        ts = args.get("message_ts")
        message = self._find_message(channel, ts) if isinstance(ts, str) else None
        if message is None:
            raise _SlackError("message_not_found")
        return {"channel": channel, "permalink": self._permalink(channel, message)}

    def _conversations_info(self, args: Json) -> Json:
        channel_id = self._channel_id_or_none(args.get("channel"))
        channel = self._channels.get(channel_id or "")
        if channel is None or (channel.is_private and not channel.is_member):
            raise _SlackError("channel_not_found")
        return {"channel": self._channel_json(channel)}

    def _conversations_members(self, args: Json) -> Json:
        channel_id = self._channel_id_or_none(args.get("channel"))
        channel = self._channels.get(channel_id or "")
        if channel is None or (channel.is_private and not channel.is_member):
            raise _SlackError("channel_not_found")
        members = self._members(channel)
        page, meta = _page(members, args, default_limit=100)
        return {"members": page, "response_metadata": meta}

    def _conversations_open(self, args: Json) -> Json:
        users = args.get("users")
        if not isinstance(users, str) or not users:
            raise _SlackError("users_list_not_supplied")
        people = [u for u in users.split(",") if u]
        if len(people) != 1:
            raise _SlackError("not_supported", messages=["[ERROR] only one user is supported"])
        return {"channel": {"id": self._dm_channel(people[0])}}

    def _conversations_history(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        inclusive = _truthy(args.get("inclusive"))
        oldest, latest = args.get("oldest"), args.get("latest")
        selected = []
        for message in reversed(self._sorted(channel)):
            if not _is_top_level(message):
                continue
            if not _in_range(message["ts"], oldest, latest, inclusive=inclusive):
                continue
            selected.append(message)
        page, meta = _page(selected, args, default_limit=100)
        return {
            "messages": copy.deepcopy(page),
            "has_more": bool(meta["next_cursor"]),
            "pin_count": 0,
            "response_metadata": meta,
        }

    def _conversations_replies(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        ts = args.get("ts")
        message = self._find_message(channel, ts) if isinstance(ts, str) else None
        if message is None:
            raise _SlackError("thread_not_found")
        parent_ts = message.get("thread_ts", message["ts"])
        thread = [
            m
            for m in self._sorted(channel)
            if m["ts"] == parent_ts or m.get("thread_ts") == parent_ts
        ]
        page, meta = _page(thread, args, default_limit=1000)
        return {
            "messages": copy.deepcopy(page),
            "has_more": bool(meta["next_cursor"]),
            "response_metadata": meta,
        }

    def _reactions_add(self, args: Json) -> Json:
        message = self._reaction_target(args)
        name = _required_str(args, "name")
        if not self._react(message, name, self.bot_user_id):
            raise _SlackError("already_reacted")
        return {}

    def _reactions_remove(self, args: Json) -> Json:
        message = self._reaction_target(args)
        name = _required_str(args, "name")
        if not self._unreact(message, name, self.bot_user_id):
            raise _SlackError("no_reaction")
        return {}

    def _reactions_get(self, args: Json) -> Json:
        message = self._reaction_target(args)
        channel = self._resolve_channel(args.get("channel"))
        return {"type": "message", "channel": channel, "message": copy.deepcopy(message)}

    def _users_info(self, args: Json) -> Json:
        user = self._users.get(args.get("user") or "")
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": self._user_json(user)}

    def _views_open(self, args: Json) -> Json:
        user = self._use_trigger(args)
        view = self._checked_view(args.get("view"), "modal")
        return {"view": self._store_view(view, user=user)}

    def _views_push(self, args: Json) -> Json:
        user = self._use_trigger(args)
        view = self._checked_view(args.get("view"), "modal")
        return {"view": self._store_view(view, user=user)}

    def _views_update(self, args: Json) -> Json:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        current = None
        if view_id:
            current = self._views.get(view_id)
        elif external_id:
            current = next(
                (v for v in self._views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise _SlackError(
                "invalid_arguments", messages=["[ERROR] view_id or external_id is required"]
            )
        if current is None:
            raise _SlackError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        view = self._checked_view(args.get("view"), current["type"])
        return {"view": self._store_view(view, replacing=current)}

    def _views_publish(self, args: Json) -> Json:
        user_id = _required_str(args, "user_id")
        view = self._checked_view(args.get("view"), "home")
        current_id = self._homes.get(user_id)
        current = self._views.get(current_id) if current_id else None
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        stored = self._store_view(view, user=user_id, replacing=current)
        self._homes[user_id] = stored["id"]
        return {"view": stored}

    def _files_get_upload_url_external(self, args: Json) -> Json:
        filename = _required_str(args, "filename")
        try:
            length = int(args.get("length", ""))
        except ValueError:
            raise _SlackError(
                "invalid_arguments", messages=["[ERROR] missing required field: length"]
            ) from None
        self._counter += 1
        file_id = f"F{self._counter}"
        self._files[file_id] = FakeFile(id=file_id, filename=filename, length=length)
        return {"upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: Json) -> Json:
        items = args.get("files")
        if not isinstance(items, list) or not items:
            raise _SlackError(
                "invalid_arguments", messages=["[ERROR] missing required field: files"]
            )
        channel = args.get("channel_id") or args.get("channels")
        if isinstance(channel, str) and "," not in channel:
            channel = self._resolve_channel(channel)
            self._require_member(channel)
        else:
            channel = None
        completed = []
        for item in items:
            stored = self._files.get(item.get("id", "")) if isinstance(item, dict) else None
            if stored is None or not stored.uploaded:
                raise _SlackError("file_not_found")
            completed.append((stored, item))
        results = []
        for stored, item in completed:
            stored.title = item.get("title") or stored.filename
            stored.completed = True
            stored.channel_id = channel
            stored.initial_comment = args.get("initial_comment")
            stored.thread_ts = args.get("thread_ts")
            results.append(self._file_json(stored))
        if channel is not None:
            share: Json = self._bot_message({"text": args.get("initial_comment") or ""}, "")
            share["ts"] = self.next_ts()
            share["files"] = copy.deepcopy(results)
            share["upload"] = True
            self._insert_message(channel, share, args.get("thread_ts") or None)
        return {"files": results}

    # -- response_url -------------------------------------------------------------------------

    def _respond(self, target: _ResponseUrl, args: Json) -> None:
        if _truthy(args.get("delete_original")):
            self._drop_original(target)
            return
        _check_message_content(args)
        if _truthy(args.get("replace_original")):
            original = self._original(target)
            if original is not None:
                for key in ("text", "blocks", "attachments"):
                    if key in args:
                        original[key] = copy.deepcopy(args[key])
                if "blocks" in original:
                    original["blocks"] = _with_block_ids(original["blocks"])
            return
        if args.get("response_type") == "in_channel" and target.channel:
            message = self._bot_message(args, self.next_ts())
            thread_ts = args.get("thread_ts") or None
            self._insert_message(target.channel, message, thread_ts)

    def _original(self, target: _ResponseUrl) -> Json | None:
        if target.channel is None or target.message_ts is None:
            return None
        return self._find_message(target.channel, target.message_ts)

    def _drop_original(self, target: _ResponseUrl) -> None:
        original = self._original(target)
        if original is not None and target.channel is not None:
            self._messages[target.channel].remove(original)

    # -- helpers ------------------------------------------------------------------------------

    def _resolve_channel(self, raw: Any) -> str:
        channel_id = self._channel_id_or_none(raw)
        if channel_id is None:
            raise _SlackError("channel_not_found")
        return channel_id

    def _channel_id_or_none(self, raw: Any) -> str | None:
        """A channel id for an id, a ``#name``, or a user id (their DM with the bot)."""
        if not isinstance(raw, str) or not raw:
            return None
        if raw in self._channels:
            return raw
        if raw[0] in "UW" and raw.isalnum():
            return self._dm_channel(raw)
        name = raw.removeprefix("#")
        for channel in self._channels.values():
            if channel.name == name and not channel.is_im:
                return channel.id
        if raw[0] in "CGD" and raw.isalnum() and raw.isupper():
            return raw
        return None

    def _dm_channel(self, user: str) -> str:
        channel_id = f"D{user[1:]}"
        if channel_id not in self._channels:
            known = self._users.get(user)
            self._channels[channel_id] = FakeChannel(
                id=channel_id,
                name=known.name if known else user,
                is_private=True,
                members=[user, self.bot_user_id],
                is_im=True,
            )
        return channel_id

    def _require_member(self, channel_id: str) -> None:
        channel = self._channels.get(channel_id)
        if channel is not None and not channel.is_member:
            raise _SlackError("channel_not_found" if channel.is_private else "not_in_channel")

    def _members(self, channel: FakeChannel) -> list[str]:
        if channel.members is not None:
            members = list(channel.members)
        else:
            members = [u.id for u in self._users.values() if not u.is_bot]
        if channel.is_member and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        elif not channel.is_member and self.bot_user_id in members:
            members.remove(self.bot_user_id)
        return members

    def _bot_message(self, args: Json, ts: str) -> Json:
        message: Json = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": args.get("text") or "",
            "ts": ts,
        }
        for key in ("attachments", "metadata"):
            if key in args:
                message[key] = copy.deepcopy(args[key])
        if isinstance(args.get("blocks"), list):
            message["blocks"] = _with_block_ids(args["blocks"])
        return message

    def _insert_message(self, channel: str, message: Json, thread_ts: str | None) -> None:
        if thread_ts and thread_ts != message["ts"]:
            message["thread_ts"] = thread_ts
            parent = self._find_message(channel, thread_ts)
            if parent is not None:
                message["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if message.get("user") not in users:
                    users.append(message.get("user"))
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = max(
                    message["ts"], parent.get("latest_reply", message["ts"]), key=_ts_micros
                )
        self._messages.setdefault(channel, []).append(message)

    def _sorted(self, channel: str) -> list[Json]:
        return sorted(self._messages.get(channel, []), key=lambda m: _ts_micros(m["ts"]))

    def _find_message(self, channel: str, ts: str) -> Json | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _own_message(self, channel: str, ts: Any, not_own_error: str) -> Json:
        message = self._find_message(channel, ts) if isinstance(ts, str) else None
        if message is None:
            raise _SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise _SlackError(not_own_error)
        return message

    def _reaction_target(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        ts = args.get("timestamp")
        message = self._find_message(channel, ts) if isinstance(ts, str) else None
        if message is None:
            raise _SlackError("message_not_found")
        return message

    @staticmethod
    def _react(message: Json, name: str, user: str) -> bool:
        reactions: list[Json] = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            reactions.append(reaction)
        if user in reaction["users"]:
            return False
        reaction["users"].append(user)
        reaction["count"] = len(reaction["users"])
        return True

    @staticmethod
    def _unreact(message: Json, name: str, user: str) -> bool:
        reactions: list[Json] = message.get("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None or user not in reaction["users"]:
            return False
        reaction["users"].remove(user)
        reaction["count"] = len(reaction["users"])
        if not reaction["users"]:
            reactions.remove(reaction)
        if not reactions:
            message.pop("reactions", None)
        return True

    def _use_trigger(self, args: Json) -> str | None:
        trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
        if not isinstance(trigger_id, str) or not trigger_id:
            raise _SlackError(
                "invalid_arguments", messages=["[ERROR] missing required field: trigger_id"]
            )
        issued = self._triggers.get(trigger_id)
        if issued is None:
            return None
        issued_at, user = issued
        if self.trigger_ttl is not None and time.monotonic() - issued_at > self.trigger_ttl:
            raise _SlackError("expired_trigger_id")
        return user

    def _checked_view(self, view: Any, expected_type: str) -> Json:
        errors = check_view(view, expected_type=expected_type)
        if errors:
            raise _SlackError("invalid_arguments", messages=[f"[ERROR] {e}" for e in errors])
        assert isinstance(view, dict)
        return view

    def _store_view(
        self, view: Json, *, user: str | None = None, replacing: Json | None = None
    ) -> Json:
        if replacing is not None:
            view_id = replacing["id"]
            root, previous = replacing["root_view_id"], replacing["previous_view_id"]
            user = user or self._view_users.get(view_id)
        else:
            self._counter += 1
            view_id = f"V{self._counter}"
            root, previous = view_id, None
        self._counter += 1
        stored: Json = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": _with_block_ids(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{_CREATED}.h{self._counter}",
            "title": copy.deepcopy(view.get("title")),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root,
            "previous_view_id": previous,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._views.pop(view_id, None)
        self._views[view_id] = stored
        if user is not None:
            self._view_users[view_id] = user
        return copy.deepcopy(stored)

    def _permalink(self, channel: str, message: Json) -> str:
        ts = str(message["ts"])
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return link

    def _channel_json(self, channel: FakeChannel) -> Json:
        if channel.is_im:
            other = next((m for m in channel.members or [] if m != self.bot_user_id), "")
            return {"id": channel.id, "is_im": True, "user": other, "created": _CREATED}
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel.is_private,
            "is_archived": False,
            "is_general": False,
            "is_member": channel.is_member,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_shared": False,
            "context_team_id": self.team_id,
            "created": _CREATED,
            "creator": "",
            "num_members": len(self._members(channel)),
        }

    def _user_json(self, user: FakeUser) -> Json:
        profile: Json = {
            "real_name": user.real_name,
            "display_name": user.name,
            "team": self.team_id,
        }
        if user.email is not None:
            profile["email"] = user.email
        if user.is_bot and user.id == self.bot_user_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": user.tz,
            "tz_offset": user.tz_offset,
            "is_admin": False,
            "is_owner": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": _CREATED,
            "profile": profile,
        }

    def _file_json(self, stored: FakeFile) -> Json:
        mimetype = mimetypes.guess_type(stored.filename)[0] or "application/octet-stream"
        return {
            "id": stored.id,
            "created": _CREATED,
            "name": stored.filename,
            "title": stored.title,
            "mimetype": mimetype,
            "filetype": stored.filename.rsplit(".", 1)[-1] if "." in stored.filename else "",
            "user": self.bot_user_id,
            "size": stored.size,
            "url_private": f"{self.base_url}files/{stored.id}/{stored.filename}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/"
            f"{stored.id}/{stored.filename}",
            "channels": [stored.channel_id] if stored.channel_id else [],
        }


# -- request decoding -------------------------------------------------------------------------


async def _read_args(request: web.Request) -> Json:
    args: Json = dict(request.query)
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except json.JSONDecodeError:
                raise _SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise _SlackError("invalid_json")
            args.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                args[key] = value.file.read() if isinstance(value, web.FileField) else value
        else:
            raise _SlackError("invalid_form_data")
    for key in _JSON_FIELDS & args.keys():
        value = args[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                raise _SlackError(f"invalid_{key}_format") from None
    return args


async def _read_upload(request: web.Request) -> bytes:
    if request.content_type == "multipart/form-data":
        form = await request.post()
        for value in form.values():
            if isinstance(value, web.FileField):
                data = value.file.read()
                return data if isinstance(data, bytes) else bytes(data)
            if isinstance(value, bytes):
                return value
        return b""
    return await request.read()


# -- small pure helpers -----------------------------------------------------------------------


def _error(error: str) -> Json:
    return {"ok": False, "error": error}


def _required_str(args: Json, key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise _SlackError("invalid_arguments", messages=[f"[ERROR] missing required field: {key}"])
    return value


def _check_message_content(args: Json) -> None:
    text, blocks = args.get("text"), args.get("blocks")
    if not text and not blocks and not args.get("attachments") and not args.get("markdown_text"):
        raise _SlackError("no_text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        raise _SlackError("msg_too_long")
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise _SlackError("invalid_blocks_format")
    errors = check_message_blocks(blocks)
    if errors:
        raise _invalid_blocks(errors)


def _invalid_blocks(errors: list[BlockError]) -> _SlackError:
    return _SlackError(
        "invalid_blocks",
        errors=[str(e) for e in errors],
        messages=[f"[ERROR] {e}" for e in errors],
    )


def _with_block_ids(blocks: Any) -> Any:
    """A copy of ``blocks`` where each block has a block_id, as Slack assigns them."""
    copied = copy.deepcopy(blocks)
    if isinstance(copied, list):
        for index, block in enumerate(copied):
            if isinstance(block, dict) and "block_id" not in block:
                block["block_id"] = _auto_block_id(block, index)
    return copied


def _auto_block_id(block: Json, index: int) -> str:
    digest = binascii.crc32(json.dumps(block, sort_keys=True).encode()) ^ index
    return base64.b32encode(digest.to_bytes(4, "big")).decode().rstrip("=")[:5]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true")
    return bool(value)


def _ts_micros(ts: str) -> int:
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _in_range(ts: str, oldest: Any, latest: Any, *, inclusive: bool) -> bool:
    value = _ts_micros(ts)
    if isinstance(oldest, str) and oldest:
        low = _ts_micros(oldest)
        if value < low or (value == low and not inclusive):
            return False
    if isinstance(latest, str) and latest:
        high = _ts_micros(latest)
        if value > high or (value == high and not inclusive):
            return False
    return True


def _is_top_level(message: Json) -> bool:
    thread_ts = message.get("thread_ts")
    return thread_ts in (None, message["ts"]) or message.get("subtype") == "thread_broadcast"


def _page(items: list[Any], args: Json, *, default_limit: int) -> tuple[list[Any], Json]:
    try:
        limit = int(args.get("limit") or default_limit)
    except ValueError:
        limit = default_limit
    limit = limit if limit > 0 else default_limit
    offset = _decode_cursor(args.get("cursor"))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, {"next_cursor": _encode_cursor(offset + limit) if more else ""}


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"next:{offset}".encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    if not isinstance(cursor, str) or not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().removeprefix("next:"))
    except (ValueError, binascii.Error):
        raise _SlackError("invalid_cursor") from None


def _utc_offset(tz: str) -> int:
    try:
        offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


def _message_lines(args: Json) -> list[str]:
    return render_message(args.get("text"), args.get("blocks"), args.get("attachments"))


def _failure_lines(call: Call) -> list[str]:
    metadata = call.response.get("response_metadata")
    messages = metadata.get("messages") if isinstance(metadata, Mapping) else None
    return [str(m) for m in messages] if isinstance(messages, list) else []


def _lines(text: Any) -> list[str]:
    return text.splitlines() if isinstance(text, str) and text else []
