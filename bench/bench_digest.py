"""Digest data and charts over a year of logs: 1 000 000 logs, 500 channels, 52 weeks.

Generates the database with SQLAlchemy Core executemany, then prints: one channel's digest data
(every query the digest makes) against the same week's category aggregate as one raw SQL query;
all 500 channels' digest data; and all 500 with their chart images. Targets: one channel under
50 ms and within 3× the raw query; all channels' data under 10 s; with images under 2 minutes.
Usage: .venv/bin/python bench/bench_digest.py [--logs N] [--channels N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from bot.domain.digest import build_digest
from bot.domain.wastes import WasteCategory
from bot.usecases.digests import render_digest_chart
from storage.db import Database
from storage.digest import get_digest_data
from storage.models import Base, Observation, Step, Workspace
from storage.workspaces import Scope

END = datetime(2026, 11, 16, 9, tzinfo=UTC)
WEEKS = 52
CATEGORIES = [c.value for c in WasteCategory]


def raw_aggregate() -> Any:
    """What the digest reads of the logs as one hand-written SQL statement: per category this
    week, the week before and each of eight weeks; the log with the most time lost; the waits
    logged against steps."""
    weeks = ", ".join(
        f"sum(CASE WHEN created_at >= :w{i} AND created_at < :w{i + 1} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN created_at >= :w{i} AND created_at < :w{i + 1} THEN minutes ELSE 0 END)"
        for i in range(8)
    )
    pad = ", ".join(["NULL"] * 19)
    scope = "workspace_id = :ws AND channel_id = :c"
    return text(
        "SELECT category, "
        "sum(CASE WHEN created_at >= :s THEN 1 ELSE 0 END), "
        "sum(CASE WHEN created_at >= :s THEN minutes ELSE 0 END), "
        "sum(CASE WHEN created_at < :s AND created_at >= :p THEN 1 ELSE 0 END), "
        "sum(CASE WHEN created_at < :s AND created_at >= :p THEN minutes ELSE 0 END), "
        f"{weeks} FROM observations WHERE {scope} "
        "AND created_at >= :w0 AND created_at < :e GROUP BY category "
        "UNION ALL SELECT * FROM (SELECT 'annoying', minutes, "
        f"{pad} FROM observations WHERE {scope} AND created_at >= :s AND created_at < :e "
        "AND minutes > 0 ORDER BY minutes DESC LIMIT 1) "
        f"UNION ALL SELECT 'wait', step_id, minutes, {', '.join(['NULL'] * 18)} "
        f"FROM observations WHERE {scope} AND is_wait AND step_id IS NOT NULL "
        "AND minutes IS NOT NULL AND created_at >= :s AND created_at < :e"
    )


def generate(path: Path, logs: int, channels: int) -> float:
    started = time.perf_counter()
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    rng = random.Random(7)
    start = END - timedelta(weeks=WEEKS)
    span = (END - start).total_seconds()
    with engine.begin() as conn:
        conn.execute(
            insert(Workspace),
            [{"id": 1, "team_id": "TBENCH", "created_at": start, "reporter_secret": "x"}],
        )
        steps = [
            {
                "workspace_id": 1,
                "channel_id": f"C{c:04d}",
                "state": "current",
                "name": f"Step {s}",
                "name_key": f"step {s}",
                "position": s,
                "process_minutes": 60 * s,
                "wait_minutes": 600 * s,
                "created_at": start,
                "updated_at": start,
            }
            for c in range(channels)
            for s in range(1, 7)
        ]
        conn.execute(insert(Step), steps)
        batch: list[dict[str, Any]] = []
        for i in range(logs):
            channel = i % channels
            is_wait = rng.random() < 0.3
            batch.append(
                {
                    "workspace_id": 1,
                    "channel_id": f"C{channel:04d}",
                    "category": "waiting" if is_wait else rng.choice(CATEGORIES),
                    "description": "bench",
                    "minutes": rng.randint(10, 3000),
                    "is_wait": is_wait,
                    "step_id": channel * 6 + rng.randint(1, 6) if is_wait else None,
                    "work_item": "",
                    "link": "",
                    "source": "command",
                    "anonymous": False,
                    "reporter_key": "k",
                    "created_at": start + timedelta(seconds=rng.random() * span),
                }
            )
            if len(batch) == 50_000:
                conn.execute(insert(Observation), batch)
                batch.clear()
        if batch:
            conn.execute(insert(Observation), batch)
    engine.dispose()
    return time.perf_counter() - started


async def timed_pair(first: Any, second: Any, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds of each run of ``first()`` and ``second()``, run alternately so that both
    see the same machine (a shared machine's load moves by the second)."""
    took: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for make, into in ((first, took[0]), (second, took[1])):
            started = time.perf_counter()
            await make()
            into.append((time.perf_counter() - started) * 1000)
    return took


def spread(values: list[float]) -> str:
    """Median with the middle half and the extremes: ``12.0 (IQR 11.0–13.5, 10.2–30.1)``."""
    q1, median, q3 = statistics.quantiles(values, n=4)
    return f"{median:.1f} (IQR {q1:.1f}–{q3:.1f}, {min(values):.1f}–{max(values):.1f})"


async def measure(path: Path, channels: int, images: int | None) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    start = END - timedelta(days=7)
    one = Scope(1, "C0042")

    async def digest_data(scope: Scope = one) -> Any:
        async with db.transaction() as session:
            return await get_digest_data(
                session, scope=scope, start=start, end=END, today=END.date()
            )

    statement = raw_aggregate()
    params: dict[str, Any] = {"ws": 1, "c": one.channel_id, "s": start, "e": END}
    params["p"] = start - timedelta(days=7)
    params |= {f"w{i}": END - timedelta(days=7 * (8 - i)) for i in range(9)}

    async def raw() -> Any:
        async with db.transaction() as session:
            return (await session.execute(statement, params)).all()

    await digest_data()
    await raw()
    data_runs, raw_runs = await timed_pair(digest_data, raw, 40)
    data_ms, raw_ms = statistics.median(data_runs), statistics.median(raw_runs)
    verdict = "ok" if data_ms < 50 and data_ms <= 3 * raw_ms else "MISSED"
    print(
        f"one channel's digest data: {data_ms:.1f} ms (what it reads of the logs as one raw SQL "
        f"query: {raw_ms:.1f} ms, {data_ms / raw_ms:.1f}×) — target < 50 ms and ≤ 3× raw: "
        f"{verdict}"
    )
    print(f"  40 runs each, ms: digest data {spread(data_runs)}; raw query {spread(raw_runs)}")
    scopes = [Scope(1, f"C{c:04d}") for c in range(channels)]
    started = time.perf_counter()
    digests = [build_digest(await digest_data(scope)) for scope in scopes]
    all_s = time.perf_counter() - started
    print(
        f"all {channels} channels' digest data: {all_s:.2f} s — target < 10 s: "
        f"{'ok' if all_s < 10 else 'MISSED'}"
    )
    drawn = scopes[: images or channels]
    scale = channels / len(drawn)
    started = time.perf_counter()
    chart_ms: list[float] = []
    chart_cpu_ms: list[float] = []
    for scope in drawn:
        digest = build_digest(await digest_data(scope))
        wall, cpu = time.perf_counter(), time.process_time()
        render_digest_chart(digest, f"#{scope.channel_id}: waste this week")
        chart_ms.append((time.perf_counter() - wall) * 1000)
        chart_cpu_ms.append((time.process_time() - cpu) * 1000)
    images_s = (time.perf_counter() - started) * scale
    note = f" (extrapolated from {len(drawn)})" if scale > 1 else ""
    print(
        f"all {channels} channels' digest data with chart images: {images_s:.1f} s{note} "
        f"({images_s / channels * 1000:.0f} ms a channel) — target < 120 s: "
        f"{'ok' if images_s < 120 else 'MISSED'}"
    )
    # The first chart of a process also loads matplotlib and its fonts.
    print(
        f"  a chart, ms: {spread(chart_ms[1:] or chart_ms)} elapsed, "
        f"{spread(chart_cpu_ms[1:] or chart_cpu_ms)} CPU; the first {chart_ms[0]:.0f}"
    )
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers) as pool:
        pending = []
        for scope in drawn:
            digest = build_digest(await digest_data(scope))
            title = f"#{scope.channel_id}: waste this week"
            pending.append(loop.run_in_executor(pool, render_digest_chart, digest, title))
        await asyncio.gather(*pending)
    pooled_s = (time.perf_counter() - started) * scale
    print(
        f"  the same with the images drawn in {workers} processes: {pooled_s:.1f} s{note} — "
        f"target < 120 s: {'ok' if pooled_s < 120 else 'MISSED'}"
    )
    print(f"  (a channel's week holds ~{digests[0].total_count} logs)")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument(
        "--images",
        type=int,
        default=None,
        help="draw only this many channels' charts and extrapolate (default: all)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        took = generate(path, args.logs, args.channels)
        print(
            f"generated {args.logs:,} logs over {args.channels} channels and {WEEKS} weeks "
            f"in {took:.1f} s ({args.logs / took:,.0f} rows/s)"
        )
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        asyncio.run(measure(path, args.channels, args.images))


if __name__ == "__main__":
    main()
