"""``kaizen-bot demo``: the Pet Clinic team's story played through the real app, offline.

The production app serves signed HTTP requests on loopback; its Web API client points at a local
stand-in for Slack. The demo prints what the bot posted and writes its files to a folder.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_app
from bot.clock import SettableClock
from bot.demo import backlog, capture, digest, mapping, retro, story
from bot.demo.stage import DemoError, Stage
from bot.deps import Deps
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from bot.settings import Settings
from fake_slack import FakeSlack, SlackDriver
from storage.db import Database
from storage.migrate import upgrade

Scene = Callable[[Stage], Awaitable[None]]

SCENES: list[Scene] = [
    mapping.play,
    capture.play,
    mapping.review,
    digest.weekly,
    backlog.play,
    mapping.wall,
    retro.play,
    digest.follow_up,
]

# Monday of the demo week; scenes set the hour.
MONDAY = datetime(2026, 11, 16, tzinfo=UTC)


async def run_demo(
    out: Path,
    *,
    scenes: list[Scene] | None = None,
    echo: bool = True,
    lines: list[str] | None = None,
) -> int:
    """Play the story; the transcript is printed (``echo``) and appended to ``lines``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    out, database = await asyncio.to_thread(_prepare, out)
    secret = secrets.token_hex(16)
    async with FakeSlack(team_id=story.TEAM_ID, team=story.TEAM_NAME) as fake:
        _cast(fake)
        settings = Settings(
            slack_bot_token=SecretStr("xoxb-demo-" + secrets.token_hex(8)),
            slack_signing_secret=SecretStr(secret),
            slack_api_url=fake.api_url,
            database_url=f"sqlite+aiosqlite:///{database}",
            _env_file=None,
        )
        clock = SettableClock(MONDAY)
        deps = Deps(settings=settings, db=Database(settings.database_url), clock=clock)
        await upgrade(deps.db)
        runner = await start_site(build_web_app(build_app(deps), deps), host="127.0.0.1", port=0)
        driver = SlackDriver(
            f"http://127.0.0.1:{bound_port(runner)}{EVENTS_PATH}",
            signing_secret=secret,
            team_id=story.TEAM_ID,
            fake=fake,
        )
        stage = Stage(fake=fake, driver=driver, deps=deps, clock=clock, out=out, monday=MONDAY)
        if lines is not None:
            stage.lines = lines
        try:
            for scene in scenes or SCENES:
                await scene(stage)
                await stage.flush()
        except DemoError as error:
            print("\n".join(stage.lines))
            print(f"\ndemo failed: {error}", file=sys.stderr)
            return 1
        finally:
            await runner.cleanup()
            await deps.close()
        written = await asyncio.to_thread(_write_files, fake, out)
    stage.heading("Files")
    stage.lines += [f"  {path}" for path in written]
    stage.lines.append(f"  {database}  (the demo's SQLite database)")
    if echo:
        print("\n".join(stage.lines))
    return 0


def _prepare(out: Path) -> tuple[Path, Path]:
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    database = out / "kaizen-demo.db"
    for leftover in out.glob("kaizen-demo.db*"):
        leftover.unlink()
    return out, database


def _cast(fake: FakeSlack) -> None:
    for person in story.PEOPLE.values():
        fake.add_user(person.user_id, person.name.lower(), real_name=person.name, tz=person.tz)
    fake.add_channel(story.CHANNEL, story.CHANNEL_NAME)
    fake.add_channel(
        story.PRIVATE_CHANNEL, story.PRIVATE_CHANNEL_NAME, is_private=True, is_member=False
    )


def _write_files(fake: FakeSlack, out: Path) -> list[Path]:
    written: dict[Path, None] = {}
    for upload in fake.files:
        name = Path(upload.filename or upload.title or upload.id).name
        path = out / name
        # A file posted again under the same name (the map redrawn) replaces the earlier one.
        path.write_bytes(upload.content)
        written[path] = None
    return list(written)
