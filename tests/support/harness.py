"""The production app, served over real HTTP, talking to the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import ClientSession

from bot.app import build_app
from bot.deps import Deps
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from bot.settings import Settings
from fake_slack import FakeSlack, SlackDriver
from storage.db import Database
from tests.support.clock import FrozenClock

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
TEAM = "T0001"
OTHER_TEAM = "T0002"


@dataclass
class Harness:
    deps: Deps
    fake: FakeSlack
    driver: SlackDriver
    base_url: str
    clock: FrozenClock

    def driver_for(self, team_id: str, enterprise_id: str | None = None) -> SlackDriver:
        """A second workspace sending requests to the same app."""
        return SlackDriver(
            self.base_url + EVENTS_PATH,
            signing_secret=SIGNING_SECRET,
            team_id=team_id,
            enterprise_id=enterprise_id,
            fake=self.fake,
        )

    async def get(self, path: str) -> tuple[int, str]:
        async with ClientSession() as http, http.get(self.base_url + path) as resp:
            return resp.status, await resp.text()


def test_settings(api_url: str, database_url: str) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        slack_signing_secret=SIGNING_SECRET,  # type: ignore[arg-type]
        slack_api_url=api_url,
        database_url=database_url,
        _env_file=None,  # type: ignore[call-arg]
    )


UNHURRIED_REPLY_BUDGET = 10.0
"""How long a request's Slack calls may take before its reply, in tests about something else than
Slack's three seconds: a test must not fail because a busy machine ran it slowly. The tests of
that deadline run with the app's own budget (the ``deadline_harness`` fixture)."""


@asynccontextmanager
async def running_app(
    db: Database, clock: FrozenClock, *, reply_budget: float = UNHURRIED_REPLY_BUDGET
) -> AsyncIterator[Harness]:
    async with FakeSlack() as fake:
        settings = test_settings(fake.api_url, db.url)
        deps = Deps(settings=settings, db=db, clock=clock, reply_budget=reply_budget)
        app = build_app(deps)
        runner = await start_site(build_web_app(app, deps), host="127.0.0.1", port=0)
        base_url = f"http://127.0.0.1:{bound_port(runner)}"
        driver = SlackDriver(
            base_url + EVENTS_PATH, signing_secret=SIGNING_SECRET, team_id=TEAM, fake=fake
        )
        try:
            yield Harness(deps=deps, fake=fake, driver=driver, base_url=base_url, clock=clock)
        finally:
            await runner.cleanup()
            deps.cpu.shutdown(wait=True)
