"""Scale-out on PostgreSQL: two `kaizen-bot run` processes on one database, under mixed writes.

Both processes start at once on an empty database (so the migrations race too), then for
``--seconds`` (30) concurrent clients spread over both add steps (past the 30-step cap of each
map), propose themes, vote by reaction and log wastes, sending some deliveries to both
processes as a retried Slack delivery would. Prints the requests, the errors users saw, the
deadlocks retried (from the processes' logs) and the rows stored against what was acknowledged.

Usage: .venv/bin/python bench/bench_scaleout_pg.py [--seconds 30] [--clients 16]
[--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from aiohttp import ClientSession

from bot import ids
from bot.server import EVENTS_PATH, HEALTH_PATH
from fake_slack import FakeSlack, SlackDriver
from fake_slack.driver import DriverResponse, input_values, plain, static_select

SECRET = "bench-secret"
TEAM = "TSCALE"
STEP_CHANNELS = ("C1", "C2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def step_values(name: str) -> dict[str, Any]:
    a = ids.ACTION_VSM_INPUT
    return input_values(
        (ids.BLOCK_VSM_NAME, a, plain(name)), (ids.BLOCK_VSM_PROCESS, a, plain("1h"))
    )


def theme_values(title: str) -> dict[str, Any]:
    a = ids.ACTION_KAIZEN_INPUT
    return input_values(
        (ids.BLOCK_THEME_TITLE, a, plain(title)),
        (ids.BLOCK_THEME_PROBLEM, a, plain("It takes too long.")),
        (ids.BLOCK_THEME_CATEGORY, a, static_select(None)),
    )


def failed(response: DriverResponse) -> bool:
    text = response.text or ""
    return response.status != 200 or "Not saved" in text or "went wrong" in text


def refused_for_cap(response: DriverResponse) -> bool:
    body = response.json if isinstance(response.json, dict) else {}
    return body.get("response_action") == "errors" and "30 steps" in json.dumps(body)


async def wait_healthy(port: int, deadline: float) -> None:
    async with ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{port}{HEALTH_PATH}") as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the process on port {port} did not become healthy")


class Load:
    def __init__(self, drivers: list[SlackDriver], theme_ts: list[str]) -> None:
        self.drivers = drivers
        self.theme_ts = theme_ts
        self.counter = itertools.count()
        self.seen: Counter[str] = Counter()
        self.slowest = 0.0
        self.acked_steps = 0
        self.acked_themes = 0
        self.acked_votes: set[str] = set()
        self.acked_logs: set[str] = set()

    def _record(self, kind: str, responses: list[DriverResponse]) -> bool:
        self.seen["requests"] += len(responses)
        self.slowest = max([self.slowest, *(r.elapsed for r in responses)])
        bad = [r for r in responses if failed(r)]
        self.seen["errors"] += len(bad)
        self.seen[f"errors.{kind}"] += len(bad)
        return not bad

    async def one(self) -> None:
        i = next(self.counter)
        first, second = self.drivers[i % 2], self.drivers[(i + 1) % 2]
        kind = i % 5
        if kind in (0, 4):
            channel = STEP_CHANNELS[(i // 5 + kind) % len(STEP_CHANNELS)]
            r = await first.view_submission(
                ids.VIEW_VSM_STEP,
                step_values(f"Step {i}"),
                user="U1",
                view_id=f"VS{i}",
                private_metadata=json.dumps({"c": channel}),
            )
            if self._record("step", [r]):
                if refused_for_cap(r):
                    self.seen["steps refused at the cap"] += 1
                else:
                    self.acked_steps += 1
        elif kind == 1:
            r = await first.view_submission(
                ids.VIEW_THEME,
                theme_values(f"Theme {i}"),
                user="U1",
                view_id=f"VT{i}",
                private_metadata=json.dumps({"c": "C1"}),
            )
            if self._record("theme", [r]) and not (r.json or {}).get("errors"):
                self.acked_themes += 1
        elif kind == 2:
            ts = self.theme_ts[i % len(self.theme_ts)]
            event_id = f"EvVote{i}"
            targets = [first, second] if i % 10 == 2 else [first]
            rs = await asyncio.gather(
                *(
                    d.reaction_added("+1", user=f"UV{i}", channel="C1", ts=ts, event_id=event_id)
                    for d in targets
                )
            )
            if self._record("vote", list(rs)):
                self.acked_votes.add(event_id)
        else:
            trigger = f"trigger-{i}"
            targets = [first, second] if i % 10 == 3 else [first]
            rs = await asyncio.gather(
                *(
                    d.command(
                        "/waste",
                        f"waiting {i % 50 + 1}m for review",
                        user=f"UL{i % 40}",
                        channel="C4",
                        trigger_id=trigger,
                    )
                    for d in targets
                )
            )
            if self._record("log", list(rs)):
                self.acked_logs.add(trigger)


async def main(admin_url: str, seconds: float, clients: int) -> int:
    name = f"kaizen_bench_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(admin_url, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        print(f"PostgreSQL not reachable at {admin_url} ({error}): nothing measured")
        return 0
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    database_url = f"{base}/{name}"
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        async with FakeSlack() as fake:
            ports = [free_port(), free_port()]
            folder = Path(tempfile.mkdtemp(prefix="kaizen-scaleout-"))
            for n, port in enumerate(ports):
                env = {
                    **os.environ,
                    "SLACK_BOT_TOKEN": "xoxb-bench",
                    "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": fake.api_url,
                    "DATABASE_URL": database_url,
                    "PORT": str(port),
                    "LOG_LEVEL": "WARNING",
                }
                logs.append(folder / f"process-{n}.log")
                processes.append(
                    subprocess.Popen(  # noqa: ASYNC220 - started once, before the load
                        [sys.executable, "-m", "bot", "run"],
                        env=env,
                        cwd=folder,
                        stdout=subprocess.DEVNULL,
                        stderr=logs[-1].open("wb"),
                    )
                )
            deadline = time.monotonic() + 60
            try:
                await asyncio.gather(*(wait_healthy(p, deadline) for p in ports))
            except RuntimeError:
                for process, log in zip(processes, logs, strict=True):
                    print(f"exit {process.poll()}: {log.read_text(errors='replace')[-2000:]}")
                raise
            started_both = all(p.poll() is None for p in processes)
            drivers = [
                await SlackDriver(
                    f"http://127.0.0.1:{p}{EVENTS_PATH}",
                    signing_secret=SECRET,
                    team_id=TEAM,
                    fake=fake,
                ).__aenter__()
                for p in ports
            ]
            theme_ts = []
            for k in range(3):
                await drivers[0].view_submission(
                    ids.VIEW_THEME,
                    theme_values(f"Voted theme {k}"),
                    user="U1",
                    view_id=f"VSEED{k}",
                    private_metadata=json.dumps({"c": "C1"}),
                )
            poll_until = time.monotonic() + 10
            while len(theme_ts) < 3 and time.monotonic() < poll_until:
                theme_ts = [
                    str(c.response["ts"])
                    for c in fake.calls_to("chat.postMessage")
                    if "Voted theme" in str(c.args.get("text"))
                ]
                await asyncio.sleep(0.05)
            load = Load(drivers, theme_ts)
            stop_at = time.monotonic() + seconds

            async def client() -> None:
                while time.monotonic() < stop_at:
                    await load.one()

            began = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(clients)))
            elapsed = time.perf_counter() - began
            for driver in drivers:
                await driver.aclose()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        conn = await asyncpg.connect(f"{admin_url.rsplit('/', 1)[0]}/{name}")
        try:
            per_map = await conn.fetch(
                "SELECT channel_id, count(*) AS n, max(position) AS top, "
                "count(DISTINCT position) AS positions FROM vsm_steps GROUP BY channel_id"
            )
            steps = sum(r["n"] for r in per_map)
            themes = await conn.fetchval("SELECT count(*) FROM themes") - 3
            numbers_ok = await conn.fetchval(
                "SELECT count(DISTINCT number) = count(*) AND max(number) = count(*) FROM themes"
            )
            votes = await conn.fetchval("SELECT count(*) FROM votes")
            logged = await conn.fetchval("SELECT count(*) FROM observations WHERE channel_id='C4'")
        finally:
            await conn.close()
        text = "\n".join(p.read_text(errors="replace") for p in logs)
        retried = text.count("db.transaction_retried")
        deadlocks_retried = text.count("sqlstate=40P01")
        reached_users = text.count("listener.failed")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    caps = ", ".join(
        f"{r['channel_id']} {r['n']} steps (positions 1..{r['top']}, {r['positions']} distinct)"
        for r in sorted(per_map, key=lambda r: r["channel_id"])
    )
    load_1m = os.getloadavg()[0]
    print(f"machine load average (1 min) at the end: {load_1m:.1f} on {os.cpu_count()} cores")
    print(f"two processes started at once on an empty database: {started_both}")
    print(
        f"{load.seen['requests']} requests in {elapsed:.1f} s over 2 processes "
        f"({load.seen['requests'] / elapsed:.0f}/s, {clients} clients); slowest reply "
        f"{load.slowest * 1000:.0f} ms"
    )
    print(
        f"errors users saw: {load.seen['errors']} "
        f"(steps {load.seen['errors.step']}, themes {load.seen['errors.theme']}, "
        f"votes {load.seen['errors.vote']}, logs {load.seen['errors.log']}); "
        f"listener failures logged: {reached_users}"
    )
    print(f"transactions retried: {retried}, of which deadlocks: {deadlocks_retried}")
    print(
        f"steps: {steps} stored / {load.acked_steps} acknowledged; "
        f"{load.seen['steps refused at the cap']} refused at the 30-step cap; {caps}"
    )
    print(
        f"themes: {themes} stored / {load.acked_themes} acknowledged; numbers 1..n without "
        f"gaps or repeats: {numbers_ok}"
    )
    print(
        f"votes: {votes} stored / {len(load.acked_votes)} distinct votes acknowledged "
        "(half sent to both processes)"
    )
    print(
        f"logs: {logged} stored / {len(load.acked_logs)} distinct commands acknowledged "
        "(half sent to both processes)"
    )
    consistent = (
        steps == load.acked_steps
        and themes == load.acked_themes
        and bool(numbers_ok)
        and votes == len(load.acked_votes)
        and logged == len(load.acked_logs)
        and all(r["n"] <= 30 and r["positions"] == r["n"] for r in per_map)
    )
    print(f"nothing lost or doubled, caps held: {consistent}")
    return 0 if consistent and started_both and load.seen["errors"] == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "KAIZEN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.admin_url, args.seconds, args.clients)))
