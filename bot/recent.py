"""A bounded memory of keys seen lately in this process, each forgotten after a while.

For hints that save work, never for correctness: another process has its own memory, and a
restart forgets everything.
"""

from __future__ import annotations

from collections import OrderedDict


class Recent:
    """Keys noted in the last ``keep_for`` seconds, at most ``most`` of them (oldest dropped)."""

    def __init__(self, *, keep_for: float, most: int) -> None:
        self.keep_for = keep_for
        self.most = most
        self._noted: OrderedDict[str, float] = OrderedDict()

    def note(self, key: str, now: float) -> None:
        self._noted[key] = now
        self._noted.move_to_end(key)
        while len(self._noted) > self.most:
            self._noted.popitem(last=False)

    def seen(self, key: str, now: float) -> bool:
        noted = self._noted.get(key)
        return noted is not None and now - noted <= self.keep_for

    def __len__(self) -> int:
        return len(self._noted)
