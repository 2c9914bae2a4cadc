"""Slack's side of the conversation with the app: signed requests shaped like Slack's own.

``SlackDriver`` posts to a running app's ``/slack/events`` URL what Slack would post there:
slash commands as form fields, interactivity payloads as a form field ``payload`` holding JSON,
Events API envelopes as JSON, each signed with the app's signing secret. Given a ``FakeSlack``,
the driver takes ``response_url`` and ``trigger_id`` values from it, reads the message or view
an interaction came from, and keeps the fake's workspace in step with what it reports (a
reaction added, the bot invited, a message posted), so the app sees one consistent Slack.

The ``state_values`` helpers at the bottom build ``view.state.values`` entries:

    await driver.view_submission(
        ids.WASTE_MODAL,
        input_values(
            ("waste.minutes", "minutes", number(25)),
            ("waste.kind", "kind", select("waiting")),
        ),
        user="U1",
    )
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import aiohttp
from multidict import CIMultiDict

from .server import FakeSlack
from .signing import SIGNATURE_HEADER, sign

__all__ = [
    "DriverResponse",
    "SlackDriver",
    "channels_select",
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
    "select",
    "static_select",
    "timepicker",
    "users_select",
]

Json = dict[str, Any]

# Slack still sends the deprecated verification token; Bolt ignores it.
VERIFICATION_TOKEN = "fake-verification-token"
_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


@dataclass(frozen=True)
class DriverResponse:
    """What the app answered: status, headers, body text, the body as JSON if it is JSON."""

    status: int
    headers: Mapping[str, str]
    text: str
    json: Any
    elapsed: float

    @property
    def ok(self) -> bool:
        return self.status == 200


class SlackDriver:
    """Sends Slack-shaped, signed requests to an app; ``async with`` reuses one connection."""

    def __init__(
        self,
        events_url: str,
        *,
        signing_secret: str,
        team_id: str,
        enterprise_id: str | None = None,
        fake: FakeSlack | None = None,
        clock: Callable[[], float] = time.time,
        api_app_id: str | None = None,
        team_domain: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.fake = fake
        self.clock = clock
        self.api_app_id = api_app_id or (fake.app_id if fake else "A0001")
        self.team_domain = team_domain or (fake.team_domain if fake else "fake")
        self.bot_user_id = fake.bot_user_id if fake else "UBOT"
        self.timeout = timeout
        self._counter = itertools.count(1)
        self._last_ts = 0.0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackDriver:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- sending ------------------------------------------------------------------------------

    async def raw(self, body: bytes, headers: Mapping[str, str]) -> DriverResponse:
        """POST ``body`` with exactly ``headers``: for tampered or badly signed requests."""
        if self._session is not None:
            return await self._post(self._session, body, headers)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            return await self._post(session, body, headers)

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes, headers: Mapping[str, str]
    ) -> DriverResponse:
        started = time.perf_counter()
        async with session.post(self.events_url, data=body, headers=dict(headers)) as response:
            text = await response.text()
            elapsed = time.perf_counter() - started
            parsed: Any = None
            if text and (response.content_type == _JSON or text.lstrip().startswith("{")):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    parsed = None
            return DriverResponse(
                status=response.status,
                headers=CIMultiDict(response.headers),
                text=text,
                json=parsed,
                elapsed=elapsed,
            )

    async def send(
        self,
        body: bytes,
        content_type: str,
        *,
        signature: str | None = None,
        timestamp_offset: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> DriverResponse:
        """Sign ``body`` as Slack would (or with ``signature``) and POST it.

        ``timestamp_offset`` shifts the signed timestamp: ``-301`` makes a request Bolt
        refuses as stale although its signature is right.
        """
        timestamp = int(self.clock()) + timestamp_offset
        signed = sign(body, secret=self.signing_secret, timestamp=timestamp)
        if signature is not None:
            signed[SIGNATURE_HEADER] = signature
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": _USER_AGENT,
            "Accept": "application/json,*/*",
            "Accept-Encoding": "gzip,deflate",
            **signed,
            **(headers or {}),
        }
        return await self.raw(body, all_headers)

    async def _send_form(
        self, fields: Mapping[str, str], signature: str | None, timestamp_offset: int
    ) -> DriverResponse:
        body = urlencode(fields).encode()
        return await self.send(body, _FORM, signature=signature, timestamp_offset=timestamp_offset)

    async def _send_payload(
        self, payload: Json, signature: str | None, timestamp_offset: int
    ) -> DriverResponse:
        return await self._send_form({"payload": _compact(payload)}, signature, timestamp_offset)

    # -- slash commands -----------------------------------------------------------------------

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str,
        channel: str,
        retry_num: int | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        signature: str | None = None,
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
        }
        if self.enterprise_id is not None:
            fields["enterprise_id"] = self.enterprise_id
            fields["enterprise_name"] = "Fake Enterprise"
        fields |= {
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self._user_name(user),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url("commands", channel, user),
            "trigger_id": trigger_id or self._trigger_id(user),
        }
        body = urlencode(fields).encode()
        headers = _retry_headers(retry_num, "http_timeout")
        return await self.send(
            body, _FORM, signature=signature, timestamp_offset=timestamp_offset, headers=headers
        )

    # -- interactivity ------------------------------------------------------------------------

    async def block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user: str,
        channel: str | None = None,
        message_ts: str | None = None,
        block_id: str | None = None,
        view: Mapping[str, Any] | None = None,
        container: Mapping[str, Any] | None = None,
        selected_option: Mapping[str, Any] | str | None = None,
        selected_options: Sequence[Mapping[str, Any] | str] | None = None,
        selected_user: str | None = None,
        selected_date: str | None = None,
        selected_time: str | None = None,
        action_type: str | None = None,
        text: str | None = None,
        state_values: Mapping[str, Any] | None = None,
        message: Mapping[str, Any] | None = None,
        is_ephemeral: bool = False,
        trigger_id: str | None = None,
        response_url: str | None = None,
        signature: str | None = None,
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """A click or choice in a message (``channel`` + ``message_ts``) or a view (``view``).

        With a fake, the element is looked up in the stored message or view, so the
        Slack-assigned ``block_id`` and the button's ``value`` and label need not be repeated.
        """
        if message is None and view is None and not is_ephemeral:
            message = self._stored_message(channel, message_ts)
        found = _find_element(
            (view or {}).get("blocks") if view is not None else (message or {}).get("blocks"),
            action_id,
        )
        found_block_id, element = found if found else (None, {})
        kind = action_type or _action_type(
            element, selected_option, selected_options, selected_user, selected_date, selected_time
        )
        action: Json = {
            "action_id": action_id,
            "block_id": block_id or found_block_id or "b",
            "type": kind,
            "action_ts": self._new_ts(),
        }
        if kind in ("button", "workflow_button"):
            label = text or _plain_text_of(element.get("text")) or action_id
            action["text"] = {"type": "plain_text", "text": label, "emoji": True}
            if value is None and isinstance(element.get("value"), str):
                value = element["value"]
            if isinstance(element.get("style"), str):
                action["style"] = element["style"]
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = _as_option(selected_option)
        if selected_options is not None:
            action["selected_options"] = [_as_option(o) for o in selected_options]
        if selected_user is not None:
            action["selected_user"] = selected_user
        if selected_date is not None:
            action["selected_date"] = selected_date
        if selected_time is not None:
            action["selected_time"] = selected_time

        payload: Json = {
            "type": "block_actions",
            "user": self._user_json(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
        }
        if view is not None:
            view_json = dict(view)
            if state_values is not None:
                view_json["state"] = {"values": dict(state_values)}
            payload["container"] = dict(container or {"type": "view", "view_id": view["id"]})
            payload["trigger_id"] = trigger_id or self._trigger_id(user)
            payload |= self._team_fields()
            if channel is not None:
                payload["channel"] = self._channel_json(channel)
            payload["view"] = view_json
        else:
            if channel is None:
                raise ValueError("a block action outside a view needs a channel")
            ts = message_ts or (message or {}).get("ts") or self._new_ts()
            payload["container"] = dict(
                container
                or {
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel,
                    "is_ephemeral": is_ephemeral,
                }
            )
            payload["trigger_id"] = trigger_id or self._trigger_id(user)
            payload |= self._team_fields()
            payload["channel"] = self._channel_json(channel)
            if not is_ephemeral:
                payload["message"] = dict(message or self._placeholder_message(ts))
            payload["state"] = {"values": dict(state_values or {})}
            payload["response_url"] = response_url or self._response_url(
                "actions", channel, user, message_ts=None if is_ephemeral else ts
            )
        payload["actions"] = [action]
        return await self._send_payload(payload, signature, timestamp_offset)

    async def view_submission(
        self,
        callback_id: str,
        values: Mapping[str, Mapping[str, Mapping[str, Any]]],
        *,
        user: str,
        private_metadata: str | None = None,
        view_id: str | None = None,
        view: Mapping[str, Any] | None = None,
        response_urls: Sequence[Mapping[str, str]] | None = None,
        trigger_id: str | None = None,
        signature: str | None = None,
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """A modal submitted with ``values`` as ``view.state.values``.

        The view defaults to the one the fake stored under ``view_id``, else the modal with
        this ``callback_id`` the fake last opened for ``user``, so blocks, title and
        private_metadata are what the app really sent.
        """
        base = self._base_view(callback_id, user, view_id, view)
        base["callback_id"] = callback_id
        base["state"] = {"values": _plain_json(values)}
        if private_metadata is not None:
            base["private_metadata"] = private_metadata
        payload: Json = {
            "type": "view_submission",
            **self._team_fields(),
            "user": self._user_json(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or self._trigger_id(user),
            "view": base,
            "response_urls": [dict(r) for r in response_urls or []],
        }
        return await self._send_payload(payload, signature, timestamp_offset)

    async def view_closed(
        self,
        callback_id: str,
        *,
        user: str,
        private_metadata: str | None = None,
        view_id: str | None = None,
        view: Mapping[str, Any] | None = None,
        is_cleared: bool = False,
        signature: str | None = None,
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """A modal closed with its close button (sent only if it has ``notify_on_close``)."""
        base = self._base_view(callback_id, user, view_id, view)
        base["callback_id"] = callback_id
        if private_metadata is not None:
            base["private_metadata"] = private_metadata
        payload: Json = {
            "type": "view_closed",
            **self._team_fields(),
            "user": self._user_json(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "view": base,
            "is_cleared": is_cleared,
        }
        return await self._send_payload(payload, signature, timestamp_offset)

    async def message_shortcut(
        self,
        callback_id: str,
        *,
        user: str,
        channel: str,
        message_ts: str,
        message_text: str,
        message_user: str = "U_OTHER",
        trigger_id: str | None = None,
        response_url: str | None = None,
        signature: str | None = None,
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """The shortcut chosen from a message's "More actions" menu."""
        payload: Json = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": self._new_ts(),
            **self._team_fields(),
            "user": self._user_json(user),
            "channel": self._channel_json(channel),
            "callback_id": callback_id,
            "trigger_id": trigger_id or self._trigger_id(user),
            "response_url": response_url
            or self._response_url("actions", channel, user, message_ts=message_ts),
            "message_ts": message_ts,
            "message": {
                "type": "message",
                "user": message_user,
                "ts": message_ts,
                "text": message_text,
            },
        }
        return await self._send_payload(payload, signature, timestamp_offset)

    async def global_shortcut(
        self,
        callback_id: str,
        *,
        user: str,
        trigger_id: str | None = None,
        signature: str | None = None,
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """The shortcut chosen from the composer's shortcuts menu or the search bar."""
        payload: Json = {
            "type": "shortcut",
            "token": VERIFICATION_TOKEN,
            "action_ts": self._new_ts(),
            **self._team_fields(),
            "user": self._user_json(user),
            "callback_id": callback_id,
            "trigger_id": trigger_id or self._trigger_id(user),
        }
        return await self._send_payload(payload, signature, timestamp_offset)

    # -- Events API ---------------------------------------------------------------------------

    async def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        signature: str | None = None,
        timestamp_offset: int = 0,
    ) -> DriverResponse:
        """An ``event_callback`` envelope around ``event``; a retry repeats its ``event_id``."""
        envelope: Json = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
        }
        if self.enterprise_id is not None:
            envelope["enterprise_id"] = self.enterprise_id
        channel = event.get("channel") or (event.get("item") or {}).get("channel")
        envelope |= {
            "context_team_id": self.team_id,
            "context_enterprise_id": self.enterprise_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._counter):08d}",
            "event_time": int(self.clock()),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": self._event_context(channel if isinstance(channel, str) else None),
        }
        return await self.send(
            _compact(envelope).encode(),
            _JSON,
            signature=signature,
            timestamp_offset=timestamp_offset,
            headers=_retry_headers(retry_num, retry_reason),
        )

    async def url_verification(self, challenge: str = "fake-challenge") -> DriverResponse:
        """The handshake Slack sends when the Request URL is saved."""
        body = _compact(
            {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        )
        return await self.send(body.encode(), _JSON)

    async def reaction_added(
        self,
        reaction: str,
        *,
        user: str,
        channel: str,
        ts: str,
        item_user: str | None = None,
        **options: Any,
    ) -> DriverResponse:
        if self.fake is not None and self.fake.message(channel, ts) is not None:
            self.fake.add_reaction(channel, ts, reaction, user)
        return await self.event(
            self._reaction_event("reaction_added", reaction, user, channel, ts, item_user),
            **options,
        )

    async def reaction_removed(
        self,
        reaction: str,
        *,
        user: str,
        channel: str,
        ts: str,
        item_user: str | None = None,
        **options: Any,
    ) -> DriverResponse:
        if self.fake is not None:
            self.fake.remove_reaction(channel, ts, reaction, user)
        return await self.event(
            self._reaction_event("reaction_removed", reaction, user, channel, ts, item_user),
            **options,
        )

    async def app_home_opened(
        self,
        user: str,
        *,
        tab: str = "home",
        channel: str | None = None,
        view: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> DriverResponse:
        """The user opened the app's Home tab; carries the published view once there is one."""
        event: Json = {
            "type": "app_home_opened",
            "user": user,
            "channel": channel or f"D{user[1:]}",
            "tab": tab,
            "event_ts": self._new_ts(),
        }
        published = view if view is not None else (self.fake.home(user) if self.fake else None)
        if published is not None:
            event["view"] = dict(published)
        return await self.event(event, **options)

    async def member_joined_channel(
        self,
        user: str,
        channel: str,
        *,
        inviter: str | None = None,
        channel_type: str = "C",
        **options: Any,
    ) -> DriverResponse:
        """Someone joined a channel; for the bot itself this is the ``/invite`` arriving."""
        if self.fake is not None:
            known = self.fake.channel(channel)
            if known is not None:
                if user == self.bot_user_id:
                    known.is_member = True
                elif known.members is not None and user not in known.members:
                    known.members.append(user)
        event: Json = {
            "type": "member_joined_channel",
            "user": user,
            "channel": channel,
            "channel_type": channel_type,
            "team": self.team_id,
            "event_ts": self._new_ts(),
        }
        if inviter is not None:
            event["inviter"] = inviter
        return await self.event(event, **options)

    async def message(
        self,
        text: str,
        *,
        user: str,
        channel: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        channel_type: str | None = None,
        blocks: list[Json] | None = None,
        **options: Any,
    ) -> DriverResponse:
        """A person's message in a channel the bot is in; the fake stores it too."""
        ts = ts or self._new_ts()
        if self.fake is not None and self.fake.message(channel, ts) is None:
            self.fake.add_message(channel, ts, text, user, thread_ts=thread_ts, blocks=blocks)
        event: Json = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "team": self.team_id,
            "channel": channel,
            "event_ts": ts,
            "channel_type": channel_type or self._channel_type(channel),
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        if blocks is not None:
            event["blocks"] = blocks
        return await self.event(event, **options)

    async def app_mention(
        self,
        text: str,
        *,
        user: str,
        channel: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        **options: Any,
    ) -> DriverResponse:
        ts = ts or self._new_ts()
        if self.fake is not None and self.fake.message(channel, ts) is None:
            self.fake.add_message(channel, ts, text, user, thread_ts=thread_ts)
        event: Json = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": ts,
            "team": self.team_id,
            "channel": channel,
            "event_ts": ts,
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return await self.event(event, **options)

    # -- payload pieces -----------------------------------------------------------------------

    def _team_fields(self) -> Json:
        team: Json = {"id": self.team_id, "domain": self.team_domain}
        enterprise = None
        if self.enterprise_id is not None:
            team["enterprise_id"] = self.enterprise_id
            team["enterprise_name"] = "Fake Enterprise"
            enterprise = {"id": self.enterprise_id, "name": "Fake Enterprise"}
        return {"team": team, "enterprise": enterprise, "is_enterprise_install": False}

    def _user_json(self, user: str) -> Json:
        name = self._user_name(user)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _channel_json(self, channel: str) -> Json:
        return {"id": channel, "name": self._channel_name(channel)}

    def _user_name(self, user: str) -> str:
        known = self.fake.user(user) if self.fake else None
        return known.name if known else user.lower()

    def _channel_name(self, channel: str) -> str:
        if channel.startswith("D"):
            return "directmessage"
        known = self.fake.channel(channel) if self.fake else None
        if known is not None:
            return "privategroup" if known.is_private else known.name
        return channel.lower()

    def _channel_type(self, channel: str) -> str:
        if channel.startswith("D"):
            return "im"
        known = self.fake.channel(channel) if self.fake else None
        return "group" if known is not None and known.is_private else "channel"

    def _stored_message(self, channel: str | None, ts: str | None) -> Json | None:
        if self.fake is None or channel is None or ts is None:
            return None
        return self.fake.message(channel, ts)

    def _placeholder_message(self, ts: str) -> Json:
        return {"type": "message", "user": self.bot_user_id, "ts": ts, "text": "", "blocks": []}

    def _base_view(
        self,
        callback_id: str,
        user: str,
        view_id: str | None,
        view: Mapping[str, Any] | None,
    ) -> Json:
        if view is not None:
            return copy.deepcopy(dict(view))
        if self.fake is not None:
            if view_id is not None:
                try:
                    return self.fake.view(view_id)
                except KeyError:
                    pass
            else:
                stored = self.fake.find_view(callback_id=callback_id, user=user)
                if stored is not None:
                    return stored
        view_id = view_id or "V1"
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": callback_id,
            "state": {"values": {}},
            "hash": "1700000000.fakehash",
            "title": {"type": "plain_text", "text": "Modal", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.fake.bot_id if self.fake else "BBOT",
        }

    def _reaction_event(
        self,
        kind: str,
        reaction: str,
        user: str,
        channel: str,
        ts: str,
        item_user: str | None,
    ) -> Json:
        if item_user is None:
            stored = self._stored_message(channel, ts)
            author = stored.get("user") if stored else None
            item_user = author if isinstance(author, str) else self.bot_user_id
        return {
            "type": kind,
            "user": user,
            "reaction": reaction,
            "item_user": item_user,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self._new_ts(),
        }

    def _event_context(self, channel: str | None) -> str:
        context = {"tid": self.team_id, "aid": self.api_app_id, "cid": channel}
        return "4-" + base64.urlsafe_b64encode(_compact(context).encode()).decode().rstrip("=")

    def _trigger_id(self, user: str) -> str:
        if self.fake is not None:
            return self.fake.new_trigger_id(user)
        return f"tr-{next(self._counter)}"

    def _response_url(
        self, kind: str, channel: str, user: str, *, message_ts: str | None = None
    ) -> str:
        number = next(self._counter)
        if self.fake is not None:
            return self.fake.response_url(
                f"{kind}-{number}", channel=channel, user=user, message_ts=message_ts
            )
        return f"https://hooks.slack.com/{kind}/{self.team_id}/{number}/fake"

    def _new_ts(self) -> str:
        """A Slack timestamp: from the fake when there is one, else from the clock."""
        if self.fake is not None:
            return self.fake.next_ts()
        now = max(self.clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"


# -- view.state.values builders ---------------------------------------------------------------


def option(value: str, text: str | None = None) -> Json:
    """An option object as Slack echoes it back in a selection."""
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def plain(value: str | None) -> Json:
    """A plain_text_input's state; ``None`` for a field left empty."""
    return {"type": "plain_text_input", "value": value}


def number(value: float | str | None, *, decimal: bool = False) -> Json:
    """A number_input's state; Slack sends the number as a string."""
    shown = None if value is None else str(value)
    return {"type": "number_input", "value": shown, "is_decimal_allowed": decimal}


def static_select(value: str | None, text: str | None = None) -> Json:
    chosen = option(value, text) if value is not None else None
    return {"type": "static_select", "selected_option": chosen}


select = static_select


def multi_static_select(values: Sequence[str]) -> Json:
    return {"type": "multi_static_select", "selected_options": [option(v) for v in values]}


def checkboxes(values: Sequence[str]) -> Json:
    return {"type": "checkboxes", "selected_options": [option(v) for v in values]}


def radio_buttons(value: str | None, text: str | None = None) -> Json:
    chosen = option(value, text) if value is not None else None
    return {"type": "radio_buttons", "selected_option": chosen}


def users_select(user_id: str | None) -> Json:
    return {"type": "users_select", "selected_user": user_id}


def multi_users_select(user_ids: Sequence[str]) -> Json:
    return {"type": "multi_users_select", "selected_users": list(user_ids)}


def conversations_select(channel_id: str | None) -> Json:
    return {"type": "conversations_select", "selected_conversation": channel_id}


def channels_select(channel_id: str | None) -> Json:
    return {"type": "channels_select", "selected_channel": channel_id}


def datepicker(date: str | None) -> Json:
    """A datepicker's state, ``date`` as Slack sends it: ``YYYY-MM-DD``."""
    return {"type": "datepicker", "selected_date": date}


def timepicker(time_of_day: str | None, timezone: str | None = None) -> Json:
    """A timepicker's state, ``HH:mm``; Slack adds the user's ``timezone`` when asked to."""
    state: Json = {"type": "timepicker", "selected_time": time_of_day}
    if timezone is not None:
        state["timezone"] = timezone
    return state


def input_values(*fields: tuple[str, str, Mapping[str, Any]]) -> dict[str, dict[str, Json]]:
    """``view.state.values`` from ``(block_id, action_id, state)`` triples."""
    values: dict[str, dict[str, Json]] = {}
    for block_id, action_id, state in fields:
        values.setdefault(block_id, {})[action_id] = dict(state)
    return values


# -- helpers ----------------------------------------------------------------------------------


def _compact(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _plain_json(value: Any) -> Any:
    """A deep copy made of plain dicts and lists."""
    result: Any = json.loads(json.dumps(value))
    return result


def _retry_headers(retry_num: int | None, reason: str) -> dict[str, str]:
    if retry_num is None:
        return {}
    return {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": reason}


def _as_option(value: Mapping[str, Any] | str) -> Json:
    return option(value) if isinstance(value, str) else dict(value)


def _plain_text_of(obj: Any) -> str:
    if isinstance(obj, Mapping) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return ""


def _action_type(
    element: Mapping[str, Any],
    selected_option: Any,
    selected_options: Any,
    selected_user: Any,
    selected_date: Any,
    selected_time: Any,
) -> str:
    if isinstance(element.get("type"), str):
        return str(element["type"])
    if selected_option is not None:
        return "static_select"
    if selected_options is not None:
        return "checkboxes"
    if selected_user is not None:
        return "users_select"
    if selected_date is not None:
        return "datepicker"
    if selected_time is not None:
        return "timepicker"
    return "button"


def _find_element(blocks: Any, action_id: str) -> tuple[str | None, Mapping[str, Any]] | None:
    """The block_id and element carrying ``action_id`` in a list of blocks."""
    if not isinstance(blocks, list):
        return None
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if block.get(key) is not None:
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, Mapping) and element.get("action_id") == action_id:
                block_id = block.get("block_id")
                return (block_id if isinstance(block_id, str) else None), element
    return None
