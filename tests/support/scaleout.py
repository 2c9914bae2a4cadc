"""Two app instances on one database, as two processes behind a load balancer would run.

Each instance has its own ``Database`` (its own engine and connections), its own Bolt app and
HTTP server; they share the fake Slack and the database, nothing else.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot import ids
from bot.app import build_app
from bot.deps import Deps
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from fake_slack import FakeSlack, SlackDriver
from fake_slack.driver import DriverResponse, input_values, plain
from storage.db import Database
from tests.support.clock import FrozenClock
from tests.support.harness import SIGNING_SECRET, TEAM, test_settings

STEP_INPUT = ids.ACTION_VSM_INPUT


@dataclass
class Instance:
    deps: Deps
    driver: SlackDriver


@dataclass
class Cluster:
    fake: FakeSlack
    instances: list[Instance]

    def pick(self, n: int) -> Instance:
        """Round robin, as a load balancer would."""
        return self.instances[n % len(self.instances)]


@asynccontextmanager
async def running_cluster(url: str, clock: FrozenClock, size: int = 2) -> AsyncIterator[Cluster]:
    async with AsyncExitStack() as stack, FakeSlack() as fake:
        instances = []
        for _ in range(size):
            db = Database(url)
            deps = Deps(settings=test_settings(fake.api_url, url), db=db, clock=clock)
            stack.push_async_callback(deps.close)
            runner = await start_site(
                build_web_app(build_app(deps), deps), host="127.0.0.1", port=0
            )
            stack.push_async_callback(runner.cleanup)
            base = f"http://127.0.0.1:{bound_port(runner)}"
            driver = SlackDriver(
                base + EVENTS_PATH, signing_secret=SIGNING_SECRET, team_id=TEAM, fake=fake
            )
            instances.append(Instance(deps=deps, driver=driver))
        try:
            yield Cluster(fake=fake, instances=instances)
        finally:
            for instance in instances:
                await instance.deps.drain()


def step_values(name: str) -> dict[str, Any]:
    return input_values(
        (ids.BLOCK_VSM_NAME, STEP_INPUT, plain(name)),
        (ids.BLOCK_VSM_PROCESS, STEP_INPUT, plain("1h")),
    )


async def add_step(driver: SlackDriver, n: int, channel: str, name: str) -> DriverResponse:
    """A /vsm add form submitted (each submission is its own view, as in Slack)."""
    return await driver.view_submission(
        ids.VIEW_VSM_STEP,
        step_values(name),
        user=f"U{n % 7}",
        view_id=f"VSTEP{channel}{n}",
        private_metadata=json.dumps({"c": channel}),
    )


def apologised(response: DriverResponse) -> bool:
    """The app's answer to a failed write (a pushed notice or an apology), never a success."""
    text = response.text or ""
    return response.status != 200 or "Not saved" in text or "went wrong" in text


Submit = Callable[[Instance, int], Awaitable[DriverResponse]]
