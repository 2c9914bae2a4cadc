"""A local stand-in for Slack's Web API, for tests and the offline demo.

``FakeSlack`` is an aiohttp server on 127.0.0.1 that answers the Web API methods the bot calls
the way Slack does (``{"ok": true, ...}`` or ``{"ok": false, "error": ...}`` with HTTP 200,
429 with ``Retry-After`` when rate limited), keeps a small workspace (``workspace``) and records
every request with its decoded arguments (``recorder``). Point a real
``AsyncWebClient(base_url=slack.api_url)`` at it: the client then serialises every call as it
would for Slack, so a wrong argument name or an over-long Block Kit field fails here rather than
in production. ``response_url`` and file ``upload_url`` are absolute URLs on the same server.

Only the methods the app calls are emulated (``api_*`` modules); any other answers
``unknown_method``. Arguments are merged from the query string and the body (form-encoded or
JSON), because slack_sdk sends some methods' arguments in the query string even on POST. Form
values stay strings (slack_sdk turns ``True`` into ``"1"``), except fields Slack expects as JSON
inside a form field (``blocks``, ``view``, ``files``, ...), which are decoded.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from types import TracebackType

from aiohttp import web
from multidict import CIMultiDict

from .api_auth import AuthApi
from .api_chat import ChatApi
from .api_files import FilesApi
from .api_views import ViewsApi
from .recorder import Recorder
from .records import (
    RESPONSE_URL_USES,
    Call,
    FakeChannel,
    FakeFile,
    FakeUser,
    Hold,
    Json,
    ResponseUrl,
    SlackError,
    check_message_content,
    error_payload,
    truthy,
    with_block_ids,
)
from .socket_mode import SocketModeHub
from .transcript import Transcript
from .workspace import Workspace

__all__ = ["Call", "FakeChannel", "FakeFile", "FakeSlack", "FakeUser", "Hold"]

# Fields Slack expects as JSON even inside a form-encoded body or a query string.
JSON_FIELDS = frozenset(
    {"attachments", "blocks", "chunks", "files", "metadata", "unfurls", "user_auth_blocks", "view"}
)
_MAX_BODY = 64 * 1024 * 1024


class FakeSlack(AuthApi, ChatApi, ViewsApi, FilesApi, Transcript, Recorder):
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
        Workspace.__init__(
            self,
            team_id=team_id,
            team=team,
            team_domain=team_domain,
            enterprise_id=enterprise_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            bot_name=bot_name,
            app_id=app_id,
            trigger_ttl=trigger_ttl,
        )
        Recorder.__init__(self)
        self.bot_token = bot_token
        self._oauth_grants = {}
        self.socket_mode = SocketModeHub()
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._methods: dict[str, Callable[[Json], Json]] = {
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_v2_access,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.history": self._conversations_history,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "reactions.add": self._reactions_add,
            "users.conversations": self._users_conversations,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
        }

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

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        headers = CIMultiDict(request.headers)
        try:
            args = await read_args(request)
        except SlackError as exc:
            return self._answer(request, method, {}, headers, exc.payload)
        if method not in self._methods:
            return self._answer(request, method, args, headers, error_payload("unknown_method"))
        if method != "oauth.v2.access":
            auth_error = self._check_auth(
                headers.get("Authorization"), app_level=method == "apps.connections.open"
            )
            if auth_error is not None:
                return self._answer(request, method, args, headers, error_payload(auth_error))
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
        except SlackError as exc:
            payload = exc.payload
        return self._answer(request, method, args, headers, payload)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        headers = CIMultiDict(request.headers)
        name = request.match_info["name"]
        try:
            args = await read_args(request)
        except SlackError as exc:
            return self._answer(request, "response_url", {}, headers, exc.payload, status=400)
        fault = self._take_fault("response_url")
        if fault is not None:
            return self._answer_fault(request, "response_url", args, headers, fault)
        target = self._response_urls.setdefault(name, ResponseUrl(name, None, None, None))
        target.uses += 1
        if target.uses > RESPONSE_URL_USES:
            return self._answer(
                request, "response_url", args, headers, error_payload("used_url"), status=404
            )
        try:
            self._respond(target, args)
        except SlackError as exc:
            return self._answer(request, "response_url", args, headers, exc.payload, status=400)
        return self._answer(request, "response_url", args, headers, {"ok": True})

    def _respond(self, target: ResponseUrl, args: Json) -> None:
        if truthy(args.get("delete_original")):
            self._drop_original(target)
            return
        check_message_content(args)
        if truthy(args.get("replace_original")):
            original = self._original(target)
            if original is not None:
                for key in ("text", "blocks", "attachments"):
                    if key in args:
                        original[key] = copy.deepcopy(args[key])
                if "blocks" in original:
                    original["blocks"] = with_block_ids(original["blocks"])
            return
        if args.get("response_type") == "in_channel" and target.channel:
            message = self._bot_message(args, self.next_ts())
            thread_ts = args.get("thread_ts") or None
            self._insert_message(target.channel, message, thread_ts)

    def _original(self, target: ResponseUrl) -> Json | None:
        if target.channel is None or target.message_ts is None:
            return None
        return self._find_message(target.channel, target.message_ts)

    def _drop_original(self, target: ResponseUrl) -> None:
        original = self._original(target)
        if original is not None and target.channel is not None:
            self._messages[target.channel].remove(original)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        headers = CIMultiDict(request.headers)
        file_id = request.match_info["file_id"]
        content = await read_upload(request)
        args: Json = {"file_id": file_id, "length": len(content)}
        fault = self._take_fault("upload_url")
        if fault is not None:
            return self._answer_fault(request, "upload_url", args, headers, fault)
        stored = self._files.get(file_id)
        if stored is None:
            self._record(request, "upload_url", args, headers, 404, error_payload("file_not_found"))
            return web.Response(status=404, text="Not Found")
        stored.content = content
        stored.uploaded = True
        self._record(request, "upload_url", args, headers, 200, {"ok": True})
        # Slack's upload endpoint answers in plain text, which slack_sdk checks only for 200.
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")


async def read_args(request: web.Request) -> Json:
    args: Json = dict(request.query)
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except json.JSONDecodeError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                args[key] = value.file.read() if isinstance(value, web.FileField) else value
        else:
            raise SlackError("invalid_form_data")
    for key in JSON_FIELDS & args.keys():
        value = args[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                raise SlackError(f"invalid_{key}_format") from None
    return args


async def read_upload(request: web.Request) -> bytes:
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
