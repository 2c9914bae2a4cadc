"""The per-process memory of recent keys: forgets after its time, keeps at most its size."""

from __future__ import annotations

from bot.recent import Recent


def test_a_key_is_seen_for_its_time_then_forgotten() -> None:
    recent = Recent(keep_for=60, most=10)
    recent.note("T1:U1", now=100.0)
    assert recent.seen("T1:U1", now=160.0)
    assert not recent.seen("T1:U1", now=160.5)
    assert not recent.seen("T1:U2", now=100.0)
    recent.note("T1:U1", now=200.0)  # noted again: seen again
    assert recent.seen("T1:U1", now=250.0)


def test_the_oldest_keys_make_room_for_new_ones() -> None:
    recent = Recent(keep_for=60, most=3)
    for n in range(5):
        recent.note(f"U{n}", now=float(n))
    recent.note("U2", now=5.0)  # noted again: now the newest
    recent.note("U5", now=6.0)
    assert len(recent) == 3
    assert [u for u in ("U0", "U1", "U2", "U3", "U4", "U5") if recent.seen(u, now=6.0)] == [
        "U2",
        "U4",
        "U5",
    ]
