"""The stage the demo plays on: the real app over HTTP, a stand-in Slack, a movable clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import SettableClock
from bot.demo.story import CHANNEL, PEOPLE
from bot.deps import Deps
from fake_slack import FakeSlack, SlackDriver
from fake_slack.transcript import render_message


class DemoError(Exception):
    """The app answered a demo request in a way no user should see."""


@dataclass
class Stage:
    fake: FakeSlack
    driver: SlackDriver
    deps: Deps
    clock: SettableClock
    out: Path
    monday: datetime
    lines: list[str] = field(default_factory=list)
    _mark: int = 0

    def user(self, name: str) -> str:
        return PEOPLE[name].user_id

    def at(self, day: int, hour: int, minute: int = 0) -> None:
        """Move the clock to ``day`` (0 = Monday of the demo week) at ``hour`` UTC."""
        self.clock.set(self.monday + timedelta(days=day, hours=hour, minutes=minute))

    def heading(self, title: str) -> None:
        self.lines += ["", f"━━ {title} " + "━" * max(0, 70 - len(title)), ""]

    def say(self, text: str) -> None:
        self.lines.append(text)

    async def command(
        self, who: str, command: str, text: str = "", *, channel: str = CHANNEL, show: bool = True
    ) -> dict[str, Any]:
        response = await self.driver.command(command, text, user=self.user(who), channel=channel)
        body = self._check(response, f"{command} {text}")
        if str(body.get("text", "")).startswith(":warning:"):
            raise DemoError(f"{who}: {command} {text} was refused: {body['text']}")
        if show:
            self.lines.append(f"{who}: {command} {text}".rstrip())
            if body.get("text") or body.get("blocks"):
                self._show(f"(only {who} sees)", body.get("text"), body.get("blocks"))
        return body

    async def submit(
        self, who: str, callback_id: str, values: dict[str, Any], *, private_metadata: str
    ) -> dict[str, Any]:
        response = await self.driver.view_submission(
            callback_id, values, user=self.user(who), private_metadata=private_metadata
        )
        body = self._check(response, f"submit {callback_id}")
        if body.get("response_action") == "errors":
            raise DemoError(f"{callback_id} refused: {body['errors']}")
        return body

    async def flush(self) -> None:
        """Print what the bot sent to Slack since the last flush."""
        await self.deps.drain()
        for call in self.fake.calls[self._mark :]:
            self._show_call(call.method, call.args)
        self._mark = len(self.fake.calls)

    async def skip(self) -> None:
        """Let what the bot sent since the last flush go unprinted (a repetitive stretch)."""
        await self.deps.drain()
        self._mark = len(self.fake.calls)

    def _check(self, response: Any, what: str) -> dict[str, Any]:
        if response.status != 200:
            raise DemoError(f"{what}: HTTP {response.status} {response.text[:200]}")
        if not response.text:
            return {}
        try:
            parsed = json.loads(response.text)
        except ValueError:
            return {"text": response.text}
        return parsed if isinstance(parsed, dict) else {}

    def _show(self, who: str, text: Any, blocks: Any) -> None:
        rendered = render_message(text, blocks)
        self.lines.append(f"  ┌ {who}")
        self.lines += [f"  │ {line}" for line in rendered]
        self.lines.append("  └")

    def _show_call(self, method: str, args: dict[str, Any]) -> None:
        if method == "chat.postMessage":
            thread = " (in the thread)" if args.get("thread_ts") else ""
            self._show(
                f"kaizen-bot in {self._where(args.get('channel'))}{thread}",
                args.get("text"),
                args.get("blocks"),
            )
        elif method == "chat.update":
            self._show(
                f"kaizen-bot updated its message in {self._where(args.get('channel'))}",
                args.get("text"),
                args.get("blocks"),
            )
        elif method == "chat.postEphemeral":
            self._show(
                f"kaizen-bot, only {self._who(args.get('user'))} sees",
                args.get("text"),
                args.get("blocks"),
            )
        elif method == "response_url":
            self._show("kaizen-bot, only the user sees", args.get("text"), args.get("blocks"))
        elif method == "files.completeUploadExternal":
            files = args.get("files")
            titles = [f.get("title", "") for f in files] if isinstance(files, list) else []
            self.lines.append(f"  [kaizen-bot uploaded {', '.join(titles) or 'a file'}]")
            if comment := args.get("initial_comment"):
                self._show(f"kaizen-bot in {self._where(args.get('channel_id'))}", comment, None)

    def _where(self, channel: Any) -> str:
        if channel in {p.user_id for p in PEOPLE.values()}:
            return f"a DM to {self._who(channel)}"
        known = self.fake.channel(str(channel))
        return f"#{known.name}" if known is not None else str(channel)

    def _who(self, user: Any) -> str:
        return next((p.name for p in PEOPLE.values() if p.user_id == user), str(user))
