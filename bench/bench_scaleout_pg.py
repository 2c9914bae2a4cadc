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
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

# The processes are started, watched and ended by the same helpers as the scale-out test's.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import ids
from fake_slack import FakeSlack, SlackDriver
from fake_slack.driver import DriverResponse
from tests.support.databases import empty_postgres_database
from tests.support.kaizen import theme_values
from tests.support.processes import LogCounts, bot_processes
from tests.support.scaleout import apologised, step_values

SECRET = "bench-secret"
TEAM = "TSCALE"
STEP_CHANNELS = ("C1", "C2")


def refused_for_cap(response: DriverResponse) -> bool:
    body = response.json if isinstance(response.json, dict) else {}
    return body.get("response_action") == "errors" and "30 steps" in json.dumps(body)


async def seed_themes(fake: FakeSlack, driver: SlackDriver) -> list[str]:
    """Three themes to vote on; the ts of each one's message."""
    for k in range(3):
        await driver.view_submission(
            ids.VIEW_THEME,
            theme_values(f"Voted theme {k}"),
            user="U1",
            view_id=f"VSEED{k}",
            private_metadata=json.dumps({"c": "C1"}),
        )
    theme_ts: list[str] = []
    poll_until = time.monotonic() + 30
    while len(theme_ts) < 3 and time.monotonic() < poll_until:
        theme_ts = [
            str(c.response["ts"])
            for c in fake.calls_to("chat.postMessage")
            if "Voted theme" in str(c.args.get("text"))
        ]
        await asyncio.sleep(0.05)
    return theme_ts


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
        bad = [r for r in responses if apologised(r)]
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


async def count_rows(database_url: str) -> dict[str, Any]:
    """What the database holds after the load."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return {
            "per_map": await conn.fetch(
                "SELECT channel_id, count(*) AS n, max(position) AS top, "
                "count(DISTINCT position) AS positions FROM vsm_steps GROUP BY channel_id"
            ),
            "themes": await conn.fetchval("SELECT count(*) FROM themes") - 3,
            "numbers_ok": await conn.fetchval(
                "SELECT count(DISTINCT number) = count(*) AND max(number) = count(*) FROM themes"
            ),
            "votes": await conn.fetchval("SELECT count(*) FROM votes"),
            "logged": await conn.fetchval(
                "SELECT count(*) FROM observations WHERE channel_id='C4'"
            ),
        }
    finally:
        await conn.close()


async def main(admin_url: str, seconds: float, clients: int) -> int:
    try:
        await (await asyncpg.connect(admin_url, timeout=3)).close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        print(f"PostgreSQL not reachable at {admin_url} ({error}): nothing measured")
        return 0
    with tempfile.TemporaryDirectory(prefix="kaizen-scaleout-") as logs:
        async with empty_postgres_database(admin_url, "kaizen_bench") as database_url:
            async with (
                FakeSlack() as fake,
                bot_processes(
                    api_url=fake.api_url,
                    database_url=database_url,
                    folder=Path(logs),
                    signing_secret=SECRET,
                    log_level="WARNING",
                ) as processes,
                AsyncExitStack() as stack,
            ):
                started_both = all(p.process.poll() is None for p in processes)
                drivers: list[SlackDriver] = [
                    await stack.enter_async_context(
                        p.driver(fake, signing_secret=SECRET, team_id=TEAM)
                    )
                    for p in processes
                ]
                theme_ts = await seed_themes(fake, drivers[0])
                load = Load(drivers, theme_ts)
                stop_at = time.monotonic() + seconds

                async def client() -> None:
                    while time.monotonic() < stop_at:
                        await load.one()

                began = time.perf_counter()
                await asyncio.gather(*(client() for _ in range(clients)))
                elapsed = time.perf_counter() - began
            rows = await count_rows(database_url)
            counts = LogCounts.of(processes)
    per_map, themes, numbers_ok = rows["per_map"], rows["themes"], rows["numbers_ok"]
    votes, logged = rows["votes"], rows["logged"]
    steps = sum(r["n"] for r in per_map)
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
        f"listener failures logged: {counts.listener_failures}"
    )
    print(f"transactions retried: {counts.retried}, of which deadlocks: {counts.deadlocks_retried}")
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
