"""Throughput against the framework's floor: kaizen-bot beside a bare Bolt app that only acks.

Both servers run as their own processes pinned to core 0 (``taskset``); this process (the load
and the stand-in for Slack) runs on core 1. Rounds are interleaved (bare, kaizen-bot, then the
other way round), so drift on a shared machine hits both alike; each figure is printed as the
median of the rounds with its spread (min–max), and the ratio is kaizen-bot ÷ bare within the
same run, with how much of its core each server used (below all of it, it waited: for the
load, or for its database) and, on PostgreSQL, the database's CPU per request. On PostgreSQL a
third server takes the same rounds: the bare app storing one row per request in that database
before it acks (what a commit before each reply costs an app that does nothing else). Paths:
``/waste`` quick logs, vote reactions on theme messages, the same emoji on messages that are no
theme (most reactions Slack sends), and waste-modal submissions (carrying the modal back, as
Slack does), at concurrency 10 and 50. Afterwards every confirmed write is counted in the
database (nothing lost, nothing doubled), and kaizen-bot's resident memory is read idle and
after the load. Writes ``bench/RESULTS.md``.

Usage: .venv/bin/python bench/bench_throughput.py [--rounds 5] [--seconds 3] [--postgres]
       [--paths quick-log vote reaction modal]  (default: every path)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg  # type: ignore[import-untyped]

from bot import ids
from bot.views.waste import build_waste_modal
from fake_slack import FakeSlack, SlackDriver, sign

SECRET = "bench-secret"
TOKEN = "xoxb-bench-token"
TEAM = "TBENCH"
CHANNEL = "CBENCH"
ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = "0"
LOAD_CORE = 1
THEMES = 20
OTHER_MESSAGES = [f"1764000000.{n:06d}" for n in range(THEMES)]
"""Messages of the channel that kaizen-bot did not post: reactions there are nobody's vote."""

Request = tuple[bytes, dict[str, str]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def signed(body: bytes, content_type: str) -> Request:
    return body, {"Content-Type": content_type} | sign(
        body, secret=SECRET, timestamp=int(time.time())
    )


# -- what Slack would send ------------------------------------------------------------------


def quick_log(n: int) -> Request:
    form = {
        "token": "bench",
        "team_id": TEAM,
        "team_domain": "bench",
        "channel_id": CHANNEL,
        "channel_name": "bench",
        "user_id": f"UQ{n:07d}",
        "user_name": f"user{n}",
        "command": ids.CMD_WASTE,
        "text": f"waiting {n % 90 + 1}m for build {n}",
        "api_app_id": "ABENCH",
        "response_url": "https://hooks.slack.com/commands/TBENCH/1/x",
        "trigger_id": f"{n}.{secrets.token_hex(6)}",
    }
    return signed(urlencode(form).encode(), "application/x-www-form-urlencoded")


def vote(n: int, theme_ts: list[str]) -> Request:
    envelope = {
        "token": "bench",
        "team_id": TEAM,
        "api_app_id": "ABENCH",
        "type": "event_callback",
        "event_id": f"Ev{n:010d}{secrets.token_hex(3).upper()}",
        "event_time": int(time.time()),
        "event": {
            "type": "reaction_added",
            "user": f"UV{n:07d}",
            "reaction": "+1",
            "item_user": "UBOT",
            "item": {"type": "message", "channel": CHANNEL, "ts": theme_ts[n % len(theme_ts)]},
            "event_ts": f"{time.time():.6f}",
        },
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
    }
    return signed(json.dumps(envelope).encode(), "application/json")


@cache
def _waste_modal() -> dict[str, Any]:
    """The waste modal as kaizen-bot opens it: Slack sends it back whole with the submission."""
    return build_waste_modal(metadata={"c": CHANNEL}, steps=[])


def modal_submission(n: int) -> Request:
    a = ids.ACTION_WASTE_INPUT
    values = {
        ids.BLOCK_WASTE_CATEGORY: {
            a: {"type": "static_select", "selected_option": {"value": "motion"}}
        },
        ids.BLOCK_WASTE_DESCRIPTION: {
            a: {"type": "plain_text_input", "value": f"context switch {n}"}
        },
        ids.BLOCK_WASTE_MINUTES: {a: {"type": "plain_text_input", "value": "15m"}},
        ids.BLOCK_WASTE_LINK: {a: {"type": "plain_text_input", "value": None}},
        ids.BLOCK_WASTE_ANONYMOUS: {a: {"type": "checkboxes", "selected_options": []}},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "bench"},
        "user": {"id": f"UM{n:07d}", "team_id": TEAM},
        "api_app_id": "ABENCH",
        "token": "bench",
        "trigger_id": f"{n}.{secrets.token_hex(6)}",
        "view": {
            "id": f"V{n:09d}{secrets.token_hex(3).upper()}",
            "team_id": TEAM,
            "type": "modal",
            "callback_id": ids.VIEW_WASTE,
            "private_metadata": json.dumps({"c": CHANNEL}),
            "state": {"values": values},
            "hash": "1",
            "title": _waste_modal()["title"],
            "blocks": _waste_modal()["blocks"],
        },
        "response_urls": [],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return signed(body, "application/x-www-form-urlencoded")


PATHS = {
    "quick-log": "quick log",
    "vote": "vote",
    "reaction": "other reaction",
    "modal": "modal submission",
}
"""The ``--paths`` names and the figures they print as."""


# -- the two servers ------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", SERVER_CORE, *command] if shutil.which("taskset") else command


async def wait_until_up(url: str, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode} before it answered")
            try:
                async with session.post(url, data=b"") as response:
                    if response.status in (200, 400, 401, 404):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{name} did not answer within 60 s")


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(pinned(command), env=env, stdout=out, stderr=out)


FLOOR = "bare, committing"
"""The bare app storing one row per request in PostgreSQL before it acks (``--postgres``)."""


async def start_servers(
    api_url: str, database_url: str, log: Path, *, floor: bool = False
) -> list[Server]:
    """Bare Bolt and kaizen-bot; with ``floor``, the bare app committing a row per request to
    kaizen-bot's PostgreSQL database too."""
    env = os.environ | {
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("SLACK_APP_TOKEN", None)
    bare_port, kaizen_port = free_port(), free_port()
    bare_app = [sys.executable, str(ROOT / "bench" / "_bare_bolt_app.py"), "--api-url", api_url]
    bare = spawn([*bare_app, "--port", str(bare_port)], env, log)
    kaizen_bot = str(Path(sys.executable).parent / "kaizen-bot")
    kaizen = spawn([kaizen_bot, "run"], env | {"PORT": str(kaizen_port)}, log)
    servers = [
        Server("bare", f"http://127.0.0.1:{bare_port}/slack/events", bare),
        Server("kaizen-bot", f"http://127.0.0.1:{kaizen_port}/slack/events", kaizen),
    ]
    if floor:
        floor_port = free_port()
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        committing = spawn([*bare_app, "--port", str(floor_port), "--commit-to", dsn], env, log)
        servers.append(Server(FLOOR, f"http://127.0.0.1:{floor_port}/slack/events", committing))
    try:
        for server in servers:
            await wait_until_up(server.url, server.process, server.name)
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


# -- load -----------------------------------------------------------------------------------


@dataclass
class Round:
    sent: int = 0
    ok: int = 0
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    load_cpu: float = 0.0
    """The load generator's own use of its core during the round (1.0: all of it)."""
    server_cpu: float = 0.0
    """The server's use of its core during the round (1.0: all of it): below, it waited."""
    database_cpu: float = 0.0
    """PostgreSQL's CPU time during a round of kaizen-bot's, every process of it, in seconds."""

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """The CPU time of every PostgreSQL process on this machine (the server is local)."""
    total = 0.0
    for process in Path("/proc").iterdir():
        if process.name.isdigit():
            with suppress(OSError, IndexError, ValueError):
                if (process / "comm").read_text().startswith("postgres"):
                    total += cpu_seconds(int(process.name))
    return total


async def run_round(
    url: str,
    requests: Iterator[Request],
    concurrency: int,
    seconds: float,
    *,
    server: Server,
    postgres: bool = False,
) -> Round:
    result = Round()
    # The load and the Slack stand-in share this process, and the stand-in keeps every call it
    # answered (a confirmation per modal submission): a full collection of that heap stopped
    # the load for 100-200 ms, several times a round, and each stop counted as reply time of
    # the server measured. Collected and frozen first, a round's collections walk only what
    # the round itself made.
    gc.collect()
    gc.freeze()
    load_cpu = time.process_time()
    server_cpu = cpu_seconds(server.process.pid)
    database_cpu = postgres_cpu_seconds() if postgres else 0.0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def worker() -> None:
            while time.perf_counter() < deadline:
                body, headers = next(requests)
                sent = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    result.latencies.append(time.perf_counter() - sent)
                    result.sent += 1
                    if response.status == 200:
                        result.ok += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
    result.load_cpu = (time.process_time() - load_cpu) / result.elapsed
    result.server_cpu = (cpu_seconds(server.process.pid) - server_cpu) / result.elapsed
    if postgres:
        result.database_cpu = postgres_cpu_seconds() - database_cpu
    return result


def numbered(make: Callable[[int], Request], start: int, ready: int) -> Iterator[Request]:
    """Requests numbered from ``start``; the first ``ready`` are signed here, before the round
    starts, so that the load generator's own signing does not cap the rate it can measure."""
    pool = [make(n) for n in range(start, start + ready)]
    return _then_more(pool, make, start + ready)


def _then_more(pool: list[Request], make: Callable[[int], Request], n: int) -> Iterator[Request]:
    yield from pool
    while True:
        yield make(n)
        n += 1


async def propose_themes(fake: FakeSlack, url: str) -> list[str]:
    """Theme messages to vote on, proposed through kaizen-bot's own /kaizen add modal."""
    a = ids.ACTION_KAIZEN_INPUT
    async with SlackDriver(url, signing_secret=SECRET, team_id=TEAM, fake=fake) as driver:
        for n in range(THEMES):
            await driver.command(ids.CMD_KAIZEN, "add", user="UPROPOSER", channel=CHANNEL)
            values = {
                ids.BLOCK_THEME_TITLE: {a: {"type": "plain_text_input", "value": f"Theme {n}"}},
                ids.BLOCK_THEME_PROBLEM: {a: {"type": "plain_text_input", "value": "Slow."}},
            }
            response = await driver.view_submission(ids.VIEW_THEME, values, user="UPROPOSER")
            if response.status != 200 or response.text not in ("", "{}"):
                raise SystemExit(f"proposing a theme failed: {response.status} {response.text}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        posted = [
            str(c.response["ts"])
            for c in fake.calls_to("chat.postMessage")
            if c.args.get("channel") == CHANNEL and "Theme " in str(c.args.get("text"))
        ]
        if len(posted) >= THEMES:
            return posted
        await asyncio.sleep(0.1)
    raise SystemExit("the theme messages were not posted")


def count_sqlite_rows(path: str) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        logs = conn.execute("SELECT count(*) FROM observations").fetchone()[0]
        votes = conn.execute("SELECT count(*) FROM votes").fetchone()[0]
    return int(logs), int(votes)


async def count_rows_async(database_url: str) -> tuple[int, int]:
    if database_url.startswith("sqlite"):
        return await asyncio.to_thread(count_sqlite_rows, database_url.split(":///", 1)[1])
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        logs = await conn.fetchval("SELECT count(*) FROM observations")
        votes = await conn.fetchval("SELECT count(*) FROM votes")
    finally:
        await conn.close()
    return int(logs), int(votes)


@dataclass
class Figure:
    path: str
    concurrency: int
    rounds: dict[str, list[Round]]

    def rates(self, name: str) -> list[float]:
        return [r.rate for r in self.rounds[name]]

    def p99_ms(self, name: str) -> float:
        return percentile([x for r in self.rounds[name] for x in r.latencies], 99) * 1000

    def load_busy(self) -> float:
        """The most the load generator used of its core in a round: near 100 % it, not the
        server, may have set that round's rate."""
        return max(r.load_cpu for rounds in self.rounds.values() for r in rounds)

    def server_busy(self, name: str) -> float:
        """How much of its core the server used, median of the rounds."""
        return statistics.median(r.server_cpu for r in self.rounds[name])

    def database_ms(self) -> float:
        """PostgreSQL's CPU time per request kaizen-bot answered, median of the rounds."""
        return statistics.median(
            r.database_cpu / max(r.ok, 1) * 1000 for r in self.rounds["kaizen-bot"]
        )

    def ratios(self, name: str = "kaizen-bot") -> list[float]:
        return [k / b for k, b in zip(self.rates(name), self.rates("bare"), strict=True)]

    @property
    def has_floor(self) -> bool:
        return FLOOR in self.rounds


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    low, mid, high = (fmt.format(v) for v in (min(values), statistics.median(values), max(values)))
    return f"{mid} ({low}–{high})"


async def measure(args: argparse.Namespace, database_url: str, folder: Path) -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {LOAD_CORE})
    log = folder / "servers.log"
    async with FakeSlack(team_id=TEAM) as fake:
        servers = await start_servers(fake.api_url, database_url, log, floor=args.postgres)
        kaizen = servers[1]
        try:
            await asyncio.sleep(1)
            idle_mb = kaizen.rss_mb()
            theme_ts = await propose_themes(fake, kaizen.url) if "vote" in args.paths else []
            every: dict[str, Callable[[int], Request]] = {
                "quick log": quick_log,
                "vote": lambda n: vote(n, theme_ts),
                # The vote emoji on messages that are no theme: the reaction Slack sends most.
                "other reaction": lambda n: vote(n, OTHER_MESSAGES),
                "modal submission": modal_submission,
            }
            paths = {name: every[name] for name in args.paths}
            figures: list[Figure] = []
            counter = 0
            confirmed = {"logs": 0, "votes": 0}
            for path, make in paths.items():
                for concurrency in args.concurrency:
                    figure = Figure(path, concurrency, {server.name: [] for server in servers})
                    rates: dict[str, float] = {}
                    for r in range(args.rounds):
                        # Each server in each place in turn: bare, kaizen-bot, then the other
                        # way round (with the committing app: each of the three rotations).
                        first = r % len(servers)
                        for server in servers[first:] + servers[:first]:
                            expected = max(rates.get(server.name, 0.0), 500.0)
                            ready = int(expected * args.seconds * 1.3)
                            requests = numbered(make, counter, ready)
                            result = await run_round(
                                server.url,
                                requests,
                                concurrency,
                                args.seconds,
                                server=server,
                                postgres=args.postgres and server is kaizen,
                            )
                            counter += ready + result.sent + concurrency
                            rates[server.name] = result.rate
                            figure.rounds[server.name].append(result)
                            if server is kaizen and path != "other reaction":
                                key = "votes" if path == "vote" else "logs"
                                confirmed[key] += result.ok
                    figures.append(figure)
                    print_figure(figure, postgres=args.postgres)
            await asyncio.sleep(2)  # follow-ups (theme refreshes) finish before memory is read
            loaded_mb = kaizen.rss_mb()
            handled = sum(len(r.latencies) for f in figures for r in f.rounds["kaizen-bot"])
        finally:
            for server in servers:
                server.stop()
    logs, votes = await count_rows_async(database_url)
    print(
        f"kaizen-bot resident memory: {idle_mb:.0f} MB idle, {loaded_mb:.0f} MB after "
        f"{handled} requests (+{loaded_mb - idle_mb:.1f} MB)"
    )
    intact = logs == confirmed["logs"] and votes == confirmed["votes"]
    print(
        f"stored: {logs} logs for {confirmed['logs']} confirmed, {votes} votes for "
        f"{confirmed['votes']} confirmed: " + ("nothing lost or doubled" if intact else "MISMATCH")
    )
    if len(args.paths) == len(PATHS):
        write_results(args, database_url, figures, idle_mb, loaded_mb, handled, intact)
    else:
        print("bench/RESULTS.md is written only when every path ran")
    return 0 if intact else 1


def print_figure(figure: Figure, *, postgres: bool = False) -> None:
    print(
        f"{figure.path:>16} c={figure.concurrency:<3} "
        f"bare {spread(figure.rates('bare'))} req/s · "
        f"kaizen-bot {spread(figure.rates('kaizen-bot'))} req/s, "
        f"p99 {figure.p99_ms('kaizen-bot'):.0f} ms (bare {figure.p99_ms('bare'):.0f} ms) · "
        f"ratio {spread(figure.ratios(), '{:.3f}')} · "
        f"servers busy {figure.server_busy('kaizen-bot'):.0%} (bare "
        f"{figure.server_busy('bare'):.0%}) of their core"
        + (f", PostgreSQL {figure.database_ms():.3f} ms CPU a request" if postgres else "")
        + (
            f" · the bare app committing a row per request: ratio "
            f"{spread(figure.ratios(FLOOR), '{:.3f}')}, busy {figure.server_busy(FLOOR):.0%}"
            if figure.has_floor
            else ""
        )
        + f" · load generator busy {figure.load_busy():.0%} of its core at most",
        flush=True,
    )


def write_results(
    args: argparse.Namespace,
    database_url: str,
    figures: list[Figure],
    idle_mb: float,
    loaded_mb: float,
    handled: int,
    intact: bool,
) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        "# Benchmark results",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}",
        f"- database: {database_url.split('://')[0]}",
        f"- command: `.venv/bin/python bench/bench_throughput.py --rounds {args.rounds} "
        f"--seconds {args.seconds}{' --postgres' if args.postgres else ''}`",
        "- servers pinned to core 0 with taskset, load and the Slack stand-in on core 1, rounds "
        "interleaved; each cell is the median of the rounds (min–max). Requests are signed "
        "before a round starts. *Load generator busy*: the most of its core the load used in "
        "a round; near 100 % the load, not the server, set the rate. *Busy*: how much of "
        "its core each server used (median of the rounds); below 100 % it waited, for the "
        "load or for its database."
        + (
            " *PostgreSQL CPU*: the database's own CPU time per request kaizen-bot answered, "
            "on the same two cores. *Bare, committing*: the bare app storing one row per "
            "request in the same database (a transaction each, a pool of ten connections) "
            "before it acks, against the bare app in the same run: what answering only after "
            "a commit to PostgreSQL costs an app that does nothing else."
            if args.postgres
            else ""
        ),
        "",
        "| path | c | bare Bolt req/s | kaizen-bot req/s | kaizen-bot p99 ms | bare p99 ms "
        "| ratio | kaizen-bot busy | bare busy |"
        + (" PostgreSQL CPU ms/req | bare, committing: ratio |" if args.postgres else "")
        + " load generator busy |",
        "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if args.postgres else "") + "---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.path} | {f.concurrency} | {spread(f.rates('bare'))} | "
            f"{spread(f.rates('kaizen-bot'))} | {f.p99_ms('kaizen-bot'):.0f} | "
            f"{f.p99_ms('bare'):.0f} | {spread(f.ratios(), '{:.3f}')} | "
            f"{f.server_busy('kaizen-bot'):.0%} | {f.server_busy('bare'):.0%} | "
            + (
                f"{f.database_ms():.3f} | {spread(f.ratios(FLOOR), '{:.3f}')} | "
                if f.has_floor
                else ""
            )
            + f"{f.load_busy():.0%} |"
        )
    lines += [
        "",
        f"- kaizen-bot resident memory: {idle_mb:.0f} MB idle, {loaded_mb:.0f} MB after "
        f"{handled} requests",
        f"- every confirmed write stored once: {'yes' if intact else 'NO'}",
        "",
    ]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")


async def with_postgres(args: argparse.Namespace, folder: Path) -> int:
    admin = os.environ.get("KAIZEN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"kaizen_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
    try:
        return await measure(args, url, folder)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--postgres", action="store_true", help="kaizen-bot on PostgreSQL")
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=list(PATHS),
        default=list(PATHS),
        help="which paths to load (default: all)",
    )
    args = parser.parse_args()
    args.paths = [PATHS[name] for name in args.paths]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(os.environ.get("KAIZEN_BENCH_DIR") or tmp)
        if args.postgres:
            return asyncio.run(with_postgres(args, folder))
        return asyncio.run(measure(args, f"sqlite+aiosqlite:///{folder}/bench.db", folder))


if __name__ == "__main__":
    raise SystemExit(main())
