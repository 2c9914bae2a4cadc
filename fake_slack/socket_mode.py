"""Socket Mode for the fake Slack: ``apps.connections.open`` and the WebSocket behind it.

Slack hands an app a ``wss://`` URL, says ``hello``, then pushes envelopes (``slash_commands``,
``interactive``, ``events_api``) that the app acknowledges with their ``envelope_id`` and,
where Slack accepts one, a response payload. ``deliver`` plays Slack's side of that exchange.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web

Json = dict[str, Any]


class SocketModeHub:
    def __init__(self) -> None:
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[Json]] = {}
        self._ids = itertools.count(1)
        self._connected = asyncio.Event()
        self.acks: list[Json] = []

    def open_url(self, base_url: str) -> str:
        return base_url.replace("http://", "ws://", 1) + f"link/{next(self._ids)}"

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "connection_info": {"app_id": "A0001"},
                "debug_info": {"host": "fake"},
            }
        )
        self._connected.set()
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                ack = json.loads(message.data)
                self.acks.append(ack)
                waiter = self._acks.pop(str(ack.get("envelope_id")), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(ack)
        finally:
            self._sockets.remove(socket)
            if not self._sockets:
                self._connected.clear()
        return socket

    async def wait_connected(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def deliver(
        self,
        kind: str,
        payload: Json,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Json:
        """Push one envelope and return the app's acknowledgement (with ``payload`` if any)."""
        await self.wait_connected(timeout)
        envelope_id = f"env-{next(self._ids)}"
        waiter: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = waiter
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(waiter, timeout)

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
