"""Drawing maps off the event loop: render times, and how fast commands are answered meanwhile.

Seeds a 30-step map, then fires /vsm (a 30-step drawing each) alongside a stream of /waste
commands, through the real app over HTTP. Prints the render time per map size and the /waste
acknowledgement latency while drawings run. Usage: .venv/bin/python bench/bench_map.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime

from pydantic import SecretStr

from bot.app import build_app
from bot.charts.vsm_map import render_value_stream
from bot.deps import Deps
from bot.domain.vsm import MapNotes, MapState, Step, StepDraft
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from bot.settings import Settings
from fake_slack import FakeSlack, SlackDriver
from storage.db import Database
from storage.migrate import upgrade
from storage.vsm import add_step
from storage.workspaces import Scope, get_or_add_workspace

SECRET = "bench-secret"
NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)


def render_times() -> None:
    for size in (1, 7, 30):
        steps = [
            Step(f"Step {i}", i, 60 * (i % 5 + 1), 240 * (i % 7), 90, "Team", i)
            for i in range(1, size + 1)
        ]
        started = time.perf_counter()
        png = render_value_stream(steps, title="bench", notes=MapNotes(lost_minutes={1: 180}))
        took = time.perf_counter() - started
        print(f"render {size:>2} steps: {took * 1000:.0f} ms, {len(png) // 1024} KiB")


async def under_load(folder: str, drawings: int, commands: int) -> None:
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    async with FakeSlack() as fake:
        settings = Settings(
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=fake.api_url,
            database_url=url,
            _env_file=None,
        )
        deps = Deps(settings=settings, db=Database(url))
        await upgrade(deps.db)
        async with deps.db.transaction() as session:
            ws = await get_or_add_workspace(session, team_id="TBENCH", enterprise_id=None, now=NOW)
            after = None
            for i in range(1, 31):
                draft = StepDraft(f"Step {i}", 60 * (i % 5 + 1), 240 * (i % 7), 90, "Team")
                step = await add_step(
                    session,
                    scope=Scope(ws, "CBENCH"),
                    state=MapState.CURRENT,
                    draft=draft,
                    after_id=after,
                    now=NOW,
                )
                after = step.id
        runner = await start_site(build_web_app(build_app(deps), deps), host="127.0.0.1", port=0)
        events = f"http://127.0.0.1:{bound_port(runner)}{EVENTS_PATH}"
        async with SlackDriver(events, signing_secret=SECRET, team_id="TBENCH") as driver:
            await driver.command("/waste", "help", user="UWARM", channel="CBENCH")
            idle = [
                (
                    await driver.command(
                        "/waste", f"motion {i + 1}m idle", user=f"I{i}", channel="CBENCH"
                    )
                ).elapsed
                for i in range(20)
            ]
            started = time.perf_counter()
            draws = [
                await driver.command("/vsm", "", user=f"V{i}", channel="CBENCH")
                for i in range(drawings)
            ]
            busy: list[float] = []
            while len(fake.files) < drawings or len(busy) < commands:
                response = await driver.command(
                    "/waste",
                    f"motion {len(busy) % 50 + 1}m busy",
                    user=f"B{len(busy)}",
                    channel="CBENCH",
                )
                busy.append(response.elapsed)
            await deps.drain()
            drawn = time.perf_counter() - started
        await runner.cleanup()
        await deps.close()
    print(
        f"/vsm acknowledged in {max(d.elapsed for d in draws) * 1000:.0f} ms at most "
        f"('Drawing the map…'); {drawings} 30-step maps drawn and uploaded in {drawn:.1f} s"
    )
    print(
        f"/waste ack while idle:    p50 {statistics.median(idle) * 1000:.0f} ms, "
        f"max {max(idle) * 1000:.0f} ms"
    )
    print(
        f"/waste ack while drawing: p50 {statistics.median(busy) * 1000:.0f} ms, "
        f"max {max(busy) * 1000:.0f} ms over {len(busy)} commands (Slack's deadline: 3000 ms)"
    )


if __name__ == "__main__":
    render_times()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(under_load(folder, drawings=6, commands=40))
