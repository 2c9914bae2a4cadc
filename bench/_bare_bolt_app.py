"""The yardstick: a bare slack-bolt AsyncApp that only acks what kaizen-bot handles.

Served by Bolt's own aiohttp server, with the same signing secret and a Web API client pointed
at the same stand-in for Slack, so that a run of ``bench_throughput.py`` compares kaizen-bot's
work against the framework's floor. Usage (started by the benchmark, pinned to one core):
``python bench/_bare_bolt_app.py --port 3001 --api-url http://127.0.0.1:PORT/api/``
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build_bare_app(api_url: str, signing_secret: str, token: str) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        # As kaizen-bot does: the reply waits for the listener, so no 10 ms ack polling.
        process_before_response=True,
    )

    @app.command("/waste")
    async def ack_command(ack: Any) -> None:
        await ack()

    @app.event("reaction_added")
    async def ack_reaction(ack: Any) -> None:
        await ack()

    @app.view(re.compile(".+"))
    async def ack_view(ack: Any) -> None:
        await ack()

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    app = build_bare_app(
        args.api_url,
        os.environ.get("SLACK_SIGNING_SECRET", "bench-secret"),
        os.environ.get("SLACK_BOT_TOKEN", "xoxb-bench"),
    )
    app.start(port=args.port, path="/slack/events", host="127.0.0.1")
