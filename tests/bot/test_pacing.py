"""Per-workspace turns for Slack calls: a burst at once, then spread at the rate."""

from __future__ import annotations

import asyncio

import pytest

from bot import pacing
from bot.pacing import Pacer


def test_a_burst_goes_at_once_and_the_rest_is_spread_at_the_rate() -> None:
    pacer = Pacer(per_minute=60, burst=3)
    waits = [pacer.delay("T1", now=100.0) for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]


def test_turns_come_back_with_time_up_to_the_burst() -> None:
    pacer = Pacer(per_minute=60, burst=2)
    assert [pacer.delay("T1", now=0.0) for _ in range(2)] == [0.0, 0.0]
    # One second later one turn is back; an hour later no more than the burst.
    assert pacer.delay("T1", now=1.0) == 0.0
    assert pacer.delay("T1", now=1.0) == pytest.approx(1.0)
    assert [pacer.delay("T1", now=3600.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_workspaces_do_not_wait_for_each_other() -> None:
    pacer = Pacer(per_minute=60, burst=1)
    assert pacer.delay("T1", now=0.0) == 0.0
    assert pacer.delay("T1", now=0.0) == pytest.approx(1.0)
    assert pacer.delay("T2", now=0.0) == 0.0


def test_only_workspaces_back_to_a_full_burst_are_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pacing, "KEYS_REMEMBERED", 3)
    pacer = Pacer(per_minute=60, burst=1)
    pacer.delay("busy", now=9.5)
    pacer.delay("busy", now=9.5)  # its next turn is promised for 10.5
    for key in ("idle1", "idle2"):
        pacer.delay(key, now=0.0)
    pacer.delay("new", now=10.0)  # full: the idle ones go, the busy one stays
    assert pacer.delay("busy", now=10.0) == pytest.approx(1.5)
    assert pacer.delay("idle1", now=10.0) == 0.0


def test_a_pacer_needs_a_rate_and_a_burst() -> None:
    with pytest.raises(ValueError):
        Pacer(per_minute=0, burst=1)
    with pytest.raises(ValueError):
        Pacer(per_minute=60, burst=0)


async def test_turns_are_taken_in_the_order_asked() -> None:
    pacer = Pacer(per_minute=1200, burst=1)  # one every 50 ms
    loop = asyncio.get_running_loop()
    done: list[tuple[int, float]] = []

    async def caller(n: int) -> None:
        await pacer.turn("T1")
        done.append((n, loop.time()))

    start = loop.time()
    await asyncio.gather(*(caller(n) for n in range(4)))
    assert [n for n, _ in done] == [0, 1, 2, 3]
    assert done[-1][1] - start >= 0.15 - 0.005
