"""Messages and what surrounds them: chat.*, reactions.add, conversations.*, users.info."""

from __future__ import annotations

import copy

from .records import (
    CREATED,
    FakeChannel,
    Json,
    SlackError,
    check_message_content,
    in_range,
    is_top_level,
    paged,
    required_str,
    truthy,
    with_block_ids,
)
from .workspace import Workspace


class ChatApi(Workspace):
    """The Web API methods for messages, reactions, channels and users."""

    def _chat_post_message(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        check_message_content(args)
        message = self._bot_message(args, self.next_ts())
        thread_ts = args.get("thread_ts") or None
        if thread_ts and truthy(args.get("reply_broadcast")):
            message["subtype"] = "thread_broadcast"
        self._insert_message(channel, message, thread_ts)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        user = args.get("user")
        if not isinstance(user, str) or not user:
            raise SlackError("user_not_found")
        known = self._channels.get(channel)
        if known is not None and known.members is not None and user not in known.members:
            raise SlackError("user_not_in_channel")
        check_message_content(args)
        return {"message_ts": self.next_ts()}

    def _chat_update(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        message = self._own_message(channel, args.get("ts"), "cant_update_message")
        check_message_content(args)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = copy.deepcopy(args[key])
        if "blocks" in message:
            message["blocks"] = with_block_ids(message["blocks"])
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": copy.deepcopy(message),
        }

    def _chat_get_permalink(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        known = self._channels.get(channel)
        if known is not None and known.is_private and not known.is_member:
            raise SlackError("channel_not_found")
        ts = args.get("message_ts")
        message = self._find_message(channel, ts) if isinstance(ts, str) else None
        if message is None:
            raise SlackError("message_not_found")
        return {"channel": channel, "permalink": self._permalink(channel, message)}

    def _reaction_target(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        ts = args.get("timestamp")
        message = self._find_message(channel, ts) if isinstance(ts, str) else None
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _reactions_add(self, args: Json) -> Json:
        message = self._reaction_target(args)
        name = required_str(args, "name")
        if not self._react(message, name, self.bot_user_id):
            raise SlackError("already_reacted")
        return {}

    def _conversations_history(self, args: Json) -> Json:
        channel = self._resolve_channel(args.get("channel"))
        self._require_member(channel)
        inclusive = truthy(args.get("inclusive"))
        oldest, latest = args.get("oldest"), args.get("latest")
        selected = []
        for message in reversed(self._sorted(channel)):
            if not is_top_level(message):
                continue
            if not in_range(message["ts"], oldest, latest, inclusive=inclusive):
                continue
            selected.append(message)
        page, meta = paged(selected, args, default_limit=100)
        return {
            "messages": copy.deepcopy(page),
            "has_more": bool(meta["next_cursor"]),
            "pin_count": 0,
            "response_metadata": meta,
        }

    def _conversations_members(self, args: Json) -> Json:
        channel_id = self._channel_id_or_none(args.get("channel"))
        channel = self._channels.get(channel_id or "")
        if channel is None or (channel.is_private and not channel.is_member):
            raise SlackError("channel_not_found")
        page, meta = paged(self._members(channel), args, default_limit=100)
        return {"members": page, "response_metadata": meta}

    def _channel_json(self, channel: FakeChannel) -> Json:
        if channel.is_im:
            other = next((m for m in channel.members or [] if m != self.bot_user_id), "")
            return {"id": channel.id, "is_im": True, "user": other, "created": CREATED}
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
            "created": CREATED,
            "creator": "",
            "num_members": len(self._members(channel)),
        }

    def _users_conversations(self, args: Json) -> Json:
        """The channels a person is in that the bot may see: public ones, and private ones the
        bot is in too (Slack's rule for a bot token asking about another user)."""
        user = required_str(args, "user")
        types = str(args.get("types") or "public_channel").split(",")
        seen = [
            {"id": c.id, "name": c.name, "is_private": c.is_private}
            for c in self._channels.values()
            if not c.is_im
            and ("private_channel" if c.is_private else "public_channel") in types
            and (c.is_member or not c.is_private)
            and user in self._members(c)
        ]
        page, meta = paged(seen, args, default_limit=100)
        return {"channels": page, "response_metadata": meta}

    def _conversations_info(self, args: Json) -> Json:
        """A channel as the bot sees it: a private one it is not in is ``channel_not_found``;
        a channel the fake was never told about is public, with the bot in it."""
        channel = self._resolve_channel(args.get("channel"))
        known = self._channels.get(channel)
        if known is None:
            return {"channel": {"id": channel, "is_channel": True, "is_member": True}}
        if known.is_private and not known.is_member:
            raise SlackError("channel_not_found")
        return {"channel": self._channel_json(known)}

    def _users_info(self, args: Json) -> Json:
        user = self._users.get(args.get("user") or "")
        if user is None:
            raise SlackError("user_not_found")
        return {"user": self._user_json(user)}
