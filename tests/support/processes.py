"""Real ``kaizen-bot run`` processes on one database, as several run behind a load balancer.

Each process is the venv's ``kaizen-bot`` entry point in HTTP mode on its own port, with its
Web API pointed at a fake Slack, a clean environment (nothing from the test run leaks in) and
its log in a file. They are started at once (on an empty database their migrations race too)
and are always ended when the block exits: SIGTERM first, SIGKILL for one that does not stop.
Used by the scale-out test and by ``bench/bench_scaleout_pg.py``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientError, ClientSession

from bot.server import EVENTS_PATH, HEALTH_PATH
from fake_slack import FakeSlack, SlackDriver
from tests.support.cli import free_port, operator_env

KAIZEN_BOT = Path(sys.executable).parent / "kaizen-bot"
"""The entry point ``pip install`` put beside this interpreter, as an operator runs it."""

STOP_SECONDS = 20.0

# The processes' log lines that matter when several write at once.
RETRIED = "db.transaction_retried"
DEADLOCK_RETRIED = "sqlstate=40P01"
LISTENER_FAILED = "listener.failed"


@dataclass
class BotProcess:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def driver(self, fake: FakeSlack, *, signing_secret: str, team_id: str) -> SlackDriver:
        """A driver sending Slack's signed requests to this process only."""
        return SlackDriver(
            self.events_url, signing_secret=signing_secret, team_id=team_id, fake=fake
        )


@dataclass(frozen=True)
class LogCounts:
    """What the processes' logs say about conflicts between them."""

    retried: int
    deadlocks_retried: int
    listener_failures: int
    errors: list[str]
    """Every ERROR line (an error a user heard about, or a follow-up or job that failed)."""

    @classmethod
    def of(cls, processes: list[BotProcess]) -> LogCounts:
        text = "\n".join(p.log_text() for p in processes)
        return cls(
            retried=text.count(RETRIED),
            deadlocks_retried=text.count(DEADLOCK_RETRIED),
            listener_failures=text.count(LISTENER_FAILED),
            errors=[line for line in text.splitlines() if " ERROR " in line],
        )


def bot_env(
    *, api_url: str, database_url: str, port: int, signing_secret: str, log_level: str
) -> dict[str, str]:
    return operator_env(
        SLACK_BOT_TOKEN="xoxb-scaleout",
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=api_url,
        DATABASE_URL=database_url,
        PORT=str(port),
        LOG_LEVEL=log_level,
        PYTHONUNBUFFERED="1",
    )


def _tails(processes: list[BotProcess]) -> str:
    return "\n".join(
        f"--- port {p.port}, exit {p.process.poll()}:\n{p.log_text()[-3000:]}" for p in processes
    )


async def wait_healthy(processes: list[BotProcess], *, seconds: float) -> None:
    """Until every process answers ``GET /healthz`` with 200; RuntimeError with their logs when
    one exits first or the deadline passes."""
    deadline = time.monotonic() + seconds
    waiting = list(processes)
    async with ClientSession() as http:
        while waiting:
            if any(p.process.poll() is not None for p in waiting):
                raise RuntimeError(f"a kaizen-bot process exited at start\n{_tails(processes)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not healthy within {seconds:.0f} s\n{_tails(processes)}")
            for p in list(waiting):
                try:
                    url = f"http://127.0.0.1:{p.port}{HEALTH_PATH}"
                    async with http.get(url) as response:
                        if response.status == 200:
                            waiting.remove(p)
                except ClientError:
                    pass
            await asyncio.sleep(0.1)


def stop(processes: list[BotProcess]) -> None:
    """SIGTERM to all, then SIGKILL for any still running after ``STOP_SECONDS``."""
    for p in processes:
        if p.process.poll() is None:
            p.process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for p in processes:
        try:
            p.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.process.kill()
            p.process.wait()


@asynccontextmanager
async def bot_processes(
    *,
    api_url: str,
    database_url: str,
    folder: Path,
    signing_secret: str,
    count: int = 2,
    log_level: str = "INFO",
    healthy_within: float = 120.0,
) -> AsyncIterator[list[BotProcess]]:
    """``count`` processes started at once and healthy; all ended when the block exits."""
    processes: list[BotProcess] = []
    try:
        for n in range(count):
            port = free_port()
            log = folder / f"kaizen-bot-{n}.log"
            env = bot_env(
                api_url=api_url,
                database_url=database_url,
                port=port,
                signing_secret=signing_secret,
                log_level=log_level,
            )
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: ASYNC220 - started once, nothing to await
                    [str(KAIZEN_BOT), "run"],
                    env=env,
                    cwd=folder,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes.append(BotProcess(port, process, log))
        await wait_healthy(processes, seconds=healthy_within)
        yield processes
    finally:
        await asyncio.to_thread(stop, processes)
