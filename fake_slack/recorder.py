"""What the fake Slack heard, and the failures a test asks it to give.

Every request is recorded with its decoded arguments and the answer it got (``calls``,
``wait_for``); ``fail_next``, ``rate_limit_next``, ``server_error_next`` and ``hold_next``
make the next calls to a method fail or wait the way Slack's sometimes do.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections import deque
from collections.abc import Callable, Mapping

from aiohttp import web
from multidict import CIMultiDict

from .records import Call, Fault, Hold, Json, error_payload

_POLL_INTERVAL = 0.005


class Recorder:
    """The calls received, and the failures still to give."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._holds: dict[str, deque[Hold]] = {}

    @property
    def calls(self) -> list[Call]:
        return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self._calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        # A plain number keeps test call sites short; the loop below enforces the deadline.
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Call:
        """The first recorded call to ``method`` matching ``predicate``, waiting if need be."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self._calls:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            if time.monotonic() >= deadline:
                seen = ", ".join(call.method for call in self._calls) or "none"
                raise TimeoutError(
                    f"no matching {method} call within {timeout} s; calls seen: {seen}"
                )
            await asyncio.sleep(_POLL_INTERVAL)

    def reset(self) -> None:
        """Forget recorded calls and pending failures; users, channels and messages stay."""
        self._calls.clear()
        self._faults.clear()
        self._holds.clear()

    def fail_next(self, method: str, error: str = "not_in_channel", times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with ``{"ok": false, "error": ...}``."""
        self._add_fault(method, Fault("error", error=error), times)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next calls with HTTP 429, ``Retry-After`` and ``error: ratelimited``."""
        self._add_fault(method, Fault("ratelimit", retry_after=retry_after), times)

    def server_error_next(self, method: str, status: int = 500, times: int = 1) -> None:
        """Answer the next calls with an HTTP 5xx and ``error: fatal_error``."""
        self._add_fault(method, Fault("server", status=status), times)

    def hold_next(self, method: str) -> Hold:
        """Keep the next call to ``method`` unanswered until the hold is released.

        For ordering races: calls made while it waits are answered first, as when Slack
        delivers one request of several slower than the others.
        """
        hold = Hold()
        self._holds.setdefault(method, deque()).append(hold)
        return hold

    def _add_fault(self, method: str, fault: Fault, times: int) -> None:
        self._faults.setdefault(method, deque()).extend([fault] * times)

    def _take_fault(self, method: str) -> Fault | None:
        pending = self._faults.get(method)
        return pending.popleft() if pending else None

    def _answer(
        self,
        request: web.Request,
        method: str,
        args: Json,
        headers: CIMultiDict[str],
        payload: Json,
        *,
        status: int = 200,
        extra_headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        self._record(request, method, args, headers, status, payload)
        return web.json_response(payload, status=status, headers=extra_headers)

    def _answer_fault(
        self,
        request: web.Request,
        method: str,
        args: Json,
        headers: CIMultiDict[str],
        fault: Fault,
    ) -> web.Response:
        if fault.kind == "ratelimit":
            return self._answer(
                request,
                method,
                args,
                headers,
                error_payload("ratelimited"),
                status=429,
                extra_headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.kind == "server":
            return self._answer(
                request, method, args, headers, error_payload("fatal_error"), status=fault.status
            )
        return self._answer(request, method, args, headers, error_payload(fault.error))

    def _record(
        self,
        request: web.Request,
        method: str,
        args: Json,
        headers: CIMultiDict[str],
        status: int,
        payload: Json,
    ) -> None:
        self._calls.append(
            Call(
                method=method,
                args=args,
                headers=headers,
                status=status,
                response=copy.deepcopy(payload),
                path=request.path,
            )
        )
