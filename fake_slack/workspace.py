"""The workspace the fake Slack keeps: users, channels, messages, views, files and triggers.

Tests seed it (``add_user``, ``add_channel``, ``add_message``) and read it back (``messages``,
``home``, ``last_view``); the Web API methods in ``api_*`` act on it.

Channels need not be registered: an unknown ``C...`` id is treated as a public channel the bot
is in. Register one with ``add_channel`` to give it a name, make it private, or take the bot out
of it.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from .blockkit import check_view
from .records import (
    CREATED,
    FakeChannel,
    FakeFile,
    FakeUser,
    Json,
    ResponseUrl,
    SlackError,
    ts_micros,
    utc_offset,
    with_block_ids,
)


class Workspace:
    """One team's users, channels, messages, views and files, as Slack would hold them."""

    def __init__(
        self,
        *,
        team_id: str,
        team: str,
        team_domain: str,
        enterprise_id: str | None,
        bot_user_id: str,
        bot_id: str,
        bot_name: str,
        app_id: str,
        trigger_ttl: float | None,
    ) -> None:
        self.team_id = team_id
        self.team = team
        self.team_domain = team_domain
        self.enterprise_id = enterprise_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.trigger_ttl = trigger_ttl
        self._users: dict[str, FakeUser] = {}
        self._channels: dict[str, FakeChannel] = {}
        self._messages: dict[str, list[Json]] = {}
        self._views: dict[str, Json] = {}
        self._view_users: dict[str, str] = {}
        self._homes: dict[str, str] = {}
        self._files: dict[str, FakeFile] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._triggers: dict[str, tuple[float, str | None]] = {}
        self._ts_micros = CREATED * 1_000_000
        self._counter = 100
        self.add_user(bot_user_id, bot_name, real_name=bot_name, is_bot=True)

    @property
    def base_url(self) -> str:
        raise NotImplementedError

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
            tz_offset=utc_offset(tz) if tz_offset is None else tz_offset,
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
            message["blocks"] = with_block_ids(blocks)
        self._ts_micros = max(self._ts_micros, ts_micros(ts))
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
        self._response_urls[name] = ResponseUrl(name, channel, user, message_ts)
        return f"{self.base_url}response/{name}"

    def _resolve_channel(self, raw: Any) -> str:
        channel_id = self._channel_id_or_none(raw)
        if channel_id is None:
            raise SlackError("channel_not_found")
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
            raise SlackError("channel_not_found" if channel.is_private else "not_in_channel")

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
            message["blocks"] = with_block_ids(args["blocks"])
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
                    message["ts"], parent.get("latest_reply", message["ts"]), key=ts_micros
                )
        self._messages.setdefault(channel, []).append(message)

    def _sorted(self, channel: str) -> list[Json]:
        return sorted(self._messages.get(channel, []), key=lambda m: ts_micros(m["ts"]))

    def _find_message(self, channel: str, ts: str) -> Json | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _own_message(self, channel: str, ts: Any, not_own_error: str) -> Json:
        message = self._find_message(channel, ts) if isinstance(ts, str) else None
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise SlackError(not_own_error)
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
            raise SlackError(
                "invalid_arguments", messages=["[ERROR] missing required field: trigger_id"]
            )
        issued = self._triggers.get(trigger_id)
        if issued is None:
            return None
        issued_at, user = issued
        if self.trigger_ttl is not None and time.monotonic() - issued_at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        return user

    def _checked_view(self, view: Any, expected_type: str) -> Json:
        errors = check_view(view, expected_type=expected_type)
        if errors:
            raise SlackError("invalid_arguments", messages=[f"[ERROR] {e}" for e in errors])
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
            "blocks": with_block_ids(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{CREATED}.h{self._counter}",
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
            "updated": CREATED,
            "profile": profile,
        }
