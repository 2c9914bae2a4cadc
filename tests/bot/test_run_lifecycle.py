"""``kaizen-bot run`` starting and stopping as a service: what it says, when it refuses, how it
stops. Each test runs the real command in its own process against the fake Slack."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import ClientError, ClientSession

from fake_slack import FakeSlack
from tests.support.cli import free_port, operator_env


@asynccontextmanager
async def started(env: dict[str, str], cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def output_of(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await process.stdout.read()).decode()


async def read_until(process: asyncio.subprocess.Process, marker: str) -> str:
    """The output up to and including the first line with ``marker``."""
    assert process.stdout is not None
    seen = ""
    while marker not in seen:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line, f"kaizen-bot run ended before saying {marker}:\n{seen}"
        seen += line.decode()
    return seen


async def wait_until_healthy(port: int, process: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    async with ClientSession() as http:
        while loop.time() < deadline:
            assert process.returncode is None, "kaizen-bot run exited early"
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("kaizen-bot run did not answer /healthz in 30 s")


def http_env(fake: FakeSlack, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    return operator_env(
        SLACK_BOT_TOKEN="xoxb-right-token",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/kaizen.db",
        PORT=str(port),
        **extra,
    )


async def test_start_says_version_mode_database_workspace_and_scheduler_in_a_few_lines(
    tmp_path: Path,
) -> None:
    from importlib.metadata import version

    port = free_port()
    async with (
        FakeSlack(team="Pet Clinic", team_id="TPET") as fake,
        started(http_env(fake, tmp_path, port), tmp_path) as process,
    ):
        log = await read_until(process, "start.ready")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        log += await output_of(process)
    lines = log.strip().splitlines()
    assert f"start.version python=3.{sys.version_info.minor}" in lines[0]
    assert f"version={version('kaizen-bot')}" in lines[0]
    assert f"start.mode mode=http port={port}" in log
    assert f"database=SQLite {tmp_path}/kaizen.db" in log
    assert "start.workspace bot=kaizen-bot team=TPET team_name=Pet Clinic" in log
    assert "start.scheduler" in log
    assert "stop.done" in lines[-1]
    assert "setup plugin" not in log
    assert "will be unused" not in log
    assert "Traceback" not in log
    # Migrations say what they changed; the rest of the start is one line a step.
    assert len([line for line in lines if "Running upgrade" not in line]) <= 10, log


async def test_a_bot_token_slack_refuses_stops_the_start_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    async with FakeSlack(bot_token="xoxb-the-real-one") as fake:
        env = http_env(fake, tmp_path, port)
        async with started(env, tmp_path) as process:
            assert await asyncio.wait_for(process.wait(), 30) == 2
            log = await output_of(process)
    assert "Traceback" not in log
    last = log.strip().splitlines()[-1]
    assert last.startswith("kaizen-bot: Slack refused SLACK_BOT_TOKEN (invalid_auth)")
    assert "OAuth & Permissions" in last
    assert "xoxb-right-token" not in log


async def test_socket_mode_stops_on_sigterm_and_sigint_while_slack_cannot_be_reached(
    tmp_path: Path,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"
    for sig in (signal.SIGTERM, signal.SIGINT):
        port = free_port()
        env = operator_env(
            SLACK_BOT_TOKEN="xoxb-token",
            SLACK_APP_TOKEN="xapp-1-A1-token",
            SLACK_API_URL=nowhere,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/kaizen.db",
            PORT=str(port),
        )
        async with started(env, tmp_path) as process:
            log = await read_until(process, "start.slack_unreachable")
            await wait_until_healthy(port, process)
            process.send_signal(sig)
            assert await asyncio.wait_for(process.wait(), 10) == 0
            log += await output_of(process)
        assert "mode=socket" in log
        assert "stop.done" in log
        assert "Traceback" not in log


async def test_an_app_token_slack_refuses_stops_socket_mode_in_one_line(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        fake.fail_next("apps.connections.open", "invalid_auth")
        env = operator_env(
            SLACK_BOT_TOKEN="xoxb-token",
            SLACK_APP_TOKEN="xapp-1-A1-revoked",
            SLACK_API_URL=fake.api_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/kaizen.db",
            PORT=str(free_port()),
        )
        async with started(env, tmp_path) as process:
            assert await asyncio.wait_for(process.wait(), 30) == 2
            log = await output_of(process)
    assert "Traceback" not in log
    last = log.strip().splitlines()[-1]
    assert last.startswith("kaizen-bot: Slack refused SLACK_APP_TOKEN (invalid_auth)")
    assert "connections:write" in last


async def test_with_oauth_start_says_how_many_workspaces_installed(tmp_path: Path) -> None:
    port = free_port()
    env = operator_env(
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="client-secret",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/kaizen.db",
        PORT=str(port),
    )
    async with started(env, tmp_path) as process:
        log = await read_until(process, "start.ready")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    assert "start.workspaces install_path=/slack/install installed=0 oauth=on" in log
    assert "slack_unreachable" not in log
