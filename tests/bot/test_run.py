"""``kaizen-bot run`` as an operator starts it: a real process serving signed Slack requests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientError, ClientSession

from fake_slack import FakeSlack, SlackDriver

SECRET = "run-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Starting the process imports matplotlib and the database layer: seconds on a loaded machine.
START_DEADLINE_S = 30.0


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    async with ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"kaizen-bot run exited with {process.returncode}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"kaizen-bot run did not become healthy in {START_DEADLINE_S:.0f} s")


@pytest.fixture(params=["http"])
async def running_bot(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[FakeSlack, str, Path]]:
    async with FakeSlack() as fake:
        port = free_port()
        log = tmp_path / "bot.log"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SLACK_BOT_TOKEN": "xoxb-run-test-token",
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/kaizen.db",
            "PORT": str(port),
            "LOG_LEVEL": "DEBUG",
        }
        if request.param == "socket":
            env["SLACK_APP_TOKEN"] = "xapp-1-A0001-run-test"
        else:
            env["SLACK_SIGNING_SECRET"] = SECRET
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stdout=out, stderr=out
            )
            base = f"http://127.0.0.1:{port}"
            try:
                await wait_healthy(base + "/healthz", process)
                yield fake, base, log
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_run_serves_a_signed_command_and_stops_cleanly(
    running_bot: tuple[FakeSlack, str, Path],
) -> None:
    fake, base, log = running_bot
    driver = SlackDriver(base + "/slack/events", signing_secret=SECRET, team_id="T1", fake=fake)
    response = await driver.command(
        "/waste", "waiting 2h for the CI runner", user="U1", channel="C1"
    )
    assert response.status == 200
    assert response.elapsed < 3
    assert "for the CI runner" in response.text
    assert (await fake.wait_for("auth.test")).headers["Authorization"] == (
        "Bearer xoxb-run-test-token"
    )
    bad = await driver.command(
        "/waste", "defects x", user="U1", channel="C1", signature="v0=" + "0" * 64
    )
    assert bad.status == 401
    assert "xoxb-run-test-token" not in log.read_text()


@pytest.mark.parametrize("running_bot", ["socket"], indirect=True)
async def test_socket_mode_answers_commands_and_events_over_the_websocket(
    running_bot: tuple[FakeSlack, str, Path],
) -> None:
    fake, base, log = running_bot
    command = {
        "token": "unused",
        "team_id": "T1",
        "team_domain": "fake",
        "channel_id": "C1",
        "channel_name": "general",
        "user_id": "U1",
        "user_name": "u1",
        "command": "/waste",
        "text": "waiting 2h for the CI runner",
        "api_app_id": "A0001",
        "is_enterprise_install": "false",
        "trigger_id": "tr-socket-1",
        "response_url": fake.response_url("socket-1"),
    }
    ack = await fake.socket_mode.deliver("slash_commands", command)
    assert "for the CI runner" in str(ack["payload"]["blocks"])
    fake.add_message("C1", "1700000000.000100", "staging DB owner?", "U2")
    event = {
        "token": "unused",
        "team_id": "T1",
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": "EvSocket1",
        "event_time": 1700000000,
        "event": {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "wastebasket",
            "item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"},
            "item_user": "U2",
            "event_ts": "1700000001.000100",
        },
        "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
    }
    await fake.socket_mode.deliver("events_api", event)
    prompt = await fake.wait_for("chat.postEphemeral")
    assert "Which kind of waste" in str(prompt.args)
    async with ClientSession() as http, http.post(base + "/slack/events", data=b"x") as response:
        assert response.status == 404
    assert "xapp-1-A0001-run-test" not in log.read_text()
