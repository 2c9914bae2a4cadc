"""The yardstick: a bare slack-bolt AsyncApp that only acks what kaizen-bot handles.

Served by Bolt's own aiohttp server, with the same signing secret and a Web API client pointed
at the same stand-in for Slack, so that a run of ``bench_throughput.py`` compares kaizen-bot's
work against the framework's floor. Usage (started by the benchmark, pinned to one core):
``python bench/_bare_bolt_app.py --port 3001 --api-url http://127.0.0.1:PORT/api/``

With ``--commit-to postgresql://…`` each listener first stores one row in that PostgreSQL
database, in a transaction of its own (asyncpg, a pool of ten connections, as kaizen-bot's),
and acks after the commit: an app that answers only once its write is stored and does nothing
else, so what a commit before each reply costs on that server and these cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

ACKS_TABLE = "bench_acks"


def committing(dsn: str) -> Callable[[str], Awaitable[None]]:
    """Store one row per call in its own transaction, on a pool made at the first call."""
    made: asyncio.Task[Any] | None = None

    async def make_pool() -> Any:
        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        await pool.execute(
            f"CREATE TABLE IF NOT EXISTS {ACKS_TABLE} (id bigserial PRIMARY KEY, "
            "kind text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
        )
        return pool

    async def commit(kind: str) -> None:
        nonlocal made
        if made is None:
            made = asyncio.ensure_future(make_pool())
        pool = await made
        await pool.execute(f"INSERT INTO {ACKS_TABLE} (kind) VALUES ($1)", kind)

    return commit


def _stored_first(
    store: Callable[[str], Awaitable[None]], kind: str
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    async def store_then_ack(ack: Any) -> None:
        await store(kind)
        await ack()

    return store_then_ack


def build_bare_app(
    api_url: str,
    signing_secret: str,
    token: str,
    *,
    store: Callable[[str], Awaitable[None]] | None = None,
) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        # As kaizen-bot does: the reply waits for the listener, so no 10 ms ack polling.
        process_before_response=True,
    )

    async def ack_only(ack: Any) -> None:
        await ack()

    def listener(kind: str) -> Callable[[Any], Coroutine[Any, Any, None]]:
        return ack_only if store is None else _stored_first(store, kind)

    app.command("/waste")(listener("command"))
    app.event("reaction_added")(listener("reaction"))
    app.view(re.compile(".+"))(listener("view"))
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--commit-to", help="a PostgreSQL URL: store a row before each ack")
    args = parser.parse_args()
    app = build_bare_app(
        args.api_url,
        os.environ.get("SLACK_SIGNING_SECRET", "bench-secret"),
        os.environ.get("SLACK_BOT_TOKEN", "xoxb-bench"),
        store=committing(args.commit_to) if args.commit_to else None,
    )
    app.start(port=args.port, path="/slack/events", host="127.0.0.1")
