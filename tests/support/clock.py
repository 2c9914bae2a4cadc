"""The tests' clock: the app's settable clock, pinned to Monday 16 November 2026, 09:00 UTC."""

from __future__ import annotations

from bot.clock import SettableClock as FrozenClock

__all__ = ["FrozenClock"]
