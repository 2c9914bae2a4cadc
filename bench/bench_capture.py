"""Capture under load: bursts of concurrent /waste commands through the real app over HTTP.

Prints the acknowledgement latency (what Slack's 3-second deadline is measured against), the
rows stored, and the sustained rate. Usage: .venv/bin/python bench/bench_capture.py
[--database-url URL] [--burst 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import build_app
from bot.deps import Deps
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from bot.settings import Settings
from fake_slack import FakeSlack, SlackDriver
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Observation

SECRET = "bench-secret"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def main(database_url: str, burst: int, rounds: int, sustained: int) -> int:
    async with FakeSlack() as fake:
        settings = Settings(
            slack_bot_token=SecretStr("xoxb-bench"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=fake.api_url,
            database_url=database_url,
            _env_file=None,
        )
        deps = Deps(settings=settings, db=Database(database_url))
        await upgrade(deps.db)
        runner = await start_site(build_web_app(build_app(deps), deps), host="127.0.0.1", port=0)
        url = f"http://127.0.0.1:{bound_port(runner)}{EVENTS_PATH}"
        latencies: list[float] = []
        failures = 0
        async with SlackDriver(url, signing_secret=SECRET, team_id="TBENCH") as driver:
            await driver.command("/waste", "help", user="UWARM", channel="CBENCH")  # auth.test
            for round_ in range(rounds):
                responses = await asyncio.gather(
                    *(
                        driver.command(
                            "/waste",
                            f"waiting {i % 90 + 1}m for build {round_}-{i}",
                            user=f"U{i:04d}",
                            channel="CBENCH",
                        )
                        for i in range(burst)
                    )
                )
                latencies += [r.elapsed for r in responses]
                failures += sum(1 for r in responses if r.status != 200)
            semaphore = asyncio.Semaphore(10)

            async def one(i: int) -> None:
                async with semaphore:
                    await driver.command(
                        "/waste", f"motion {i % 50 + 1}m switching", user=f"S{i}", channel="CBENCH"
                    )

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(sustained)))
            elapsed = time.perf_counter() - started
        async with deps.db.transaction() as session:
            rows = int(await session.scalar(select(func.count()).select_from(Observation)) or 0)
        await runner.cleanup()
        await deps.close()

    expected = burst * rounds + sustained
    print(f"database: {database_url.split('://')[0]}")
    print(f"bursts: {rounds} x {burst} concurrent /waste commands from different users")
    print(
        f"  ack latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
        f"(Slack's deadline: 3000 ms)"
    )
    print(f"  non-200 answers: {failures}")
    print(
        f"sustained: {sustained} commands at concurrency 10 in {elapsed:.2f} s "
        f"= {sustained / elapsed:.0f} commands/s"
    )
    print(f"rows stored: {rows} of {expected} expected")
    ok = failures == 0 and rows == expected and max(latencies) < 3
    print("result: " + ("every command acked within 3 s and stored once" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sustained", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        raise SystemExit(asyncio.run(main(url, args.burst, args.rounds, args.sustained)))
