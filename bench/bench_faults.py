"""Slack's faults injected into the fake: how long replies take, and whether each user hears.

For views.open, chat.postMessage (a theme's post), chat.postEphemeral (the prompt after a waste
reaction) and the three upload steps of a map image, each fault in turn: 429 with Retry-After
1 to 5 on every try, a 500 on every try, and a call that hangs. Prints, for each, the slowest
reply to Slack and whether the user learned what happened (it worked, or they were told it did
not and how to get it); then the slowest reply seen overall, which must stay under 3 s.

Usage: .venv/bin/python bench/bench_faults.py
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr

from bot import ids
from bot.app import build_app
from bot.deps import Deps
from bot.domain.vsm import MapState, StepDraft
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from bot.settings import Settings
from fake_slack import FakeSlack, SlackDriver
from fake_slack.driver import input_values, plain
from storage.db import Database
from storage.migrate import upgrade
from storage.vsm import add_step
from storage.workspaces import Scope, get_or_add_workspace

SECRET = "bench-secret"
TEAM = "TBENCH"
CHANNEL = "CBENCH"
USER = "UBENCH"
HANG_WAIT = 12.0
"""How long a hanging call is held: past the client's 10-second timeout."""


@dataclass
class Outcome:
    replies: list[float]
    learned: bool


Fault = Callable[[FakeSlack, str], None]
Action = Callable[["Bench"], Awaitable[Outcome]]


def rate_limited(retry_after: int) -> Fault:
    return lambda fake, method: fake.rate_limit_next(method, retry_after=retry_after, times=5)


def server_error(fake: FakeSlack, method: str) -> None:
    fake.server_error_next(method, status=500, times=5)


def said(fake: FakeSlack, *phrases: str) -> bool:
    """Whether anything the bot sent to the user (reply URL, ephemeral, DM) says one of these."""
    for call in fake.calls:
        if call.method in ("response_url", "chat.postEphemeral", "chat.postMessage") and call.ok:
            text = json.dumps(call.args)
            if any(p in text for p in phrases):
                return True
    return False


class Bench:
    def __init__(self, fake: FakeSlack, driver: SlackDriver, deps: Deps) -> None:
        self.fake, self.driver, self.deps = fake, driver, deps
        self.counter = 0

    async def open_modal(self) -> Outcome:
        response = await self.driver.command("/waste", "", user=USER, channel=CHANNEL)
        opened = any(c.ok for c in self.fake.calls_to("views.open"))
        told = "Slack is slow" in response.text
        return Outcome([response.elapsed], opened or told)

    async def post_theme(self) -> Outcome:
        self.counter += 1
        title = f"Faster reviews {self.counter}"
        opened = await self.driver.command("/kaizen", "add", user=USER, channel=CHANNEL)
        values = input_values(
            (ids.BLOCK_THEME_TITLE, ids.ACTION_KAIZEN_INPUT, plain(title)),
        )
        submitted = await self.driver.view_submission(ids.VIEW_THEME, values, user=USER)
        await self.settle()
        posted = any(
            c.ok and title in json.dumps(c.args) for c in self.fake.calls_to("chat.postMessage")
        )
        told = said(self.fake, "Post it again", "/invite")
        return Outcome([opened.elapsed, submitted.elapsed], posted or told)

    async def react(self) -> Outcome:
        self.counter += 1
        ts = f"1700000{self.counter:03d}.000100"
        self.fake.add_message(CHANNEL, ts, f"the build is red again {self.counter}", "UOTHER")
        response = await self.driver.reaction_added(
            "wastebasket", user=USER, channel=CHANNEL, ts=ts
        )
        await self.settle()
        prompt = "Which kind of waste"
        return Outcome([response.elapsed], said(self.fake, prompt))

    async def show_map(self) -> Outcome:
        response = await self.driver.command("/vsm", "show", user=USER, channel=CHANNEL)
        await self.settle()
        posted = any(f.completed for f in self.fake.files)
        told = said(self.fake, "map image")
        return Outcome([response.elapsed], posted or told)

    async def settle(self) -> None:
        """Wait for follow-ups, releasing held calls once the client has given up on them."""
        task = asyncio.ensure_future(self.deps.drain())
        try:
            await asyncio.wait_for(asyncio.shield(task), HANG_WAIT)
        except TimeoutError:
            for holds in self.fake._holds.values():
                for hold in holds:
                    hold.release()
            await task


async def seed_map(deps: Deps) -> None:
    now = datetime.now(UTC)
    async with deps.db.transaction() as session:
        workspace = await get_or_add_workspace(session, team_id=TEAM, enterprise_id=None, now=now)
        scope = Scope(workspace, CHANNEL)
        after = None
        for name in ("Build", "Review", "Test", "Deploy"):
            step = await add_step(
                session, scope=scope, state=MapState.CURRENT,
                draft=StepDraft(name, 60, 1440, 90, "Team"), after_id=after, now=now,
            )  # fmt: skip
            after = step.id


SURFACES: list[tuple[str, list[str], Action]] = [
    ("views.open", ["views.open"], Bench.open_modal),
    ("chat.postMessage", ["chat.postMessage"], Bench.post_theme),
    ("chat.postEphemeral", ["chat.postEphemeral"], Bench.react),
    ("files.getUploadURLExternal", ["files.getUploadURLExternal"], Bench.show_map),
    ("upload URL", ["upload_url"], Bench.show_map),
    ("files.completeUploadExternal", ["files.completeUploadExternal"], Bench.show_map),
]


def faults_for(method: str) -> list[tuple[str, Fault | None]]:
    found: list[tuple[str, Fault | None]] = [
        (f"429 Retry-After {n}", rate_limited(n)) for n in range(1, 6)
    ]
    found.append(("500", server_error))
    if method != "upload_url":  # the fake holds Web API calls only
        found.append(("hang", None))
    return found


async def main() -> int:
    folder = tempfile.mkdtemp(prefix="kaizen-bench-")
    database_url = f"sqlite+aiosqlite:///{folder}/kaizen.db"
    async with FakeSlack() as fake:
        fake.add_user(USER, "bench")
        fake.add_channel(CHANNEL, "bench-team")
        settings = Settings(
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=fake.api_url,
            database_url=database_url,
            _env_file=None,
        )
        deps = Deps(settings=settings, db=Database(database_url))
        await upgrade(deps.db)
        await seed_map(deps)
        runner = await start_site(build_web_app(build_app(deps), deps), host="127.0.0.1", port=0)
        url = f"http://127.0.0.1:{bound_port(runner)}{EVENTS_PATH}"
        slowest_all, all_learned = 0.0, True
        async with SlackDriver(url, signing_secret=SECRET, team_id=TEAM, fake=fake) as driver:
            await driver.command("/waste", "help", user=USER, channel=CHANNEL)  # auth.test
            bench = Bench(fake, driver, deps)
            print(f"{'surface':30} {'fault':18} {'slowest reply':>14}  user learned")
            for surface, methods, action in SURFACES:
                for label, fault in faults_for(methods[0]):
                    fake.reset()
                    for method in methods:
                        if fault is None:
                            fake.hold_next(method)
                        else:
                            fault(fake, method)
                    started = time.perf_counter()
                    outcome = await action(bench)
                    took = time.perf_counter() - started
                    slowest = max(outcome.replies)
                    slowest_all = max(slowest_all, slowest)
                    all_learned &= outcome.learned
                    print(
                        f"{surface:30} {label:18} {slowest:>12.2f} s  "
                        f"{'yes' if outcome.learned else 'NO'} (settled in {took:.1f} s)"
                    )
        await runner.cleanup()
        await deps.close()
    print(f"\nslowest reply seen: {slowest_all:.2f} s (Slack's limit: 3 s)")
    print(f"every user learned of what failed: {'yes' if all_learned else 'NO'}")
    return 0 if slowest_all < 3 and all_learned else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # the table, not the warnings each fault logs
    raise SystemExit(asyncio.run(main()))
