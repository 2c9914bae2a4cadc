"""The group writer's order: a write that must come after the items handed in waits for them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from bot.usecases.work import Origin
from bot.usecases.writer import GroupWriter
from storage.db import Database


@dataclass(frozen=True)
class Note:
    origin: Origin
    text: str


class HeldWriter(GroupWriter[Note, str]):
    """Stores a batch when the test lets it (one event per batch), and remembers the order."""

    name = "test.writer"
    batch_failed = "test.batch_failed"

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.stored: list[str] = []
        self.batches: asyncio.Queue[asyncio.Event] = asyncio.Queue()

    async def store_together(self, items: list[Note]) -> list[str]:
        await self.held()
        self.stored += [item.text for item in items]
        return [item.text for item in items]

    async def store_alone(self, item: Note) -> str:
        raise AssertionError("no batch fails here")

    async def held(self) -> None:
        """Until the test lets this batch go."""
        gate = asyncio.Event()
        self.batches.put_nowait(gate)
        await gate.wait()


async def test_settle_waits_for_the_items_handed_in_before_and_not_for_later_ones(
    db: Database,
) -> None:
    writer = HeldWriter(db)
    origin = Origin("T1", None)
    vote = asyncio.create_task(writer.submit(Note(origin, "vote")))
    first_batch = await asyncio.wait_for(writer.batches.get(), 10)  # being written
    settled = asyncio.create_task(writer.settle())
    await asyncio.sleep(0)
    assert not settled.done()
    later = asyncio.create_task(writer.submit(Note(origin, "handed in after")))
    await asyncio.sleep(0)

    first_batch.set()
    await asyncio.wait_for(settled, 10)  # the vote is stored: a removal may go now
    assert await vote == "vote" and writer.stored == ["vote"]
    next_batch = await asyncio.wait_for(writer.batches.get(), 10)  # with the later item...
    assert not later.done()  # ...which settle() did not wait for
    next_batch.set()
    assert await later == "handed in after"
    await writer.drain()


async def test_settle_with_nothing_handed_in_returns_at_once(db: Database) -> None:
    await asyncio.wait_for(HeldWriter(db).settle(), 10)


class RecordingWriter(GroupWriter[Note, str]):
    """Stores every batch at once and remembers how the items were grouped."""

    name = "test.recording_writer"
    batch_failed = "test.recording_batch_failed"

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.batches: list[list[str]] = []

    async def store_together(self, items: list[Note]) -> list[str]:
        self.batches.append([item.text for item in items])
        return [item.text for item in items]

    async def store_alone(self, item: Note) -> str:
        raise AssertionError("no batch fails here")


async def _after_turns(turns: int, writer: GroupWriter[Note, str], text: str) -> str:
    for _ in range(turns):
        await asyncio.sleep(0)
    return await writer.submit(Note(Origin("T1", None), text))


async def test_items_arriving_over_the_next_turns_share_the_first_ones_transaction(
    db: Database,
) -> None:
    writer = RecordingWriter(db)
    # Each arrives fewer turns after the one before than the writer waits for a quiet loop.
    gap = writer.quiet_turns - 1
    texts = [f"log {n}" for n in range(6)]
    stored = await asyncio.gather(
        *(_after_turns(n * gap, writer, text) for n, text in enumerate(texts))
    )
    assert stored == texts
    assert writer.batches == [texts]


async def test_a_lone_item_is_written_after_a_few_quiet_turns_and_a_late_one_apart(
    db: Database,
) -> None:
    writer = RecordingWriter(db)
    first = asyncio.create_task(writer.submit(Note(Origin("T1", None), "first")))
    # The quiet turns, and a few for the task, the writer and the answer to pass their turns.
    for _ in range(writer.quiet_turns + 6):
        await asyncio.sleep(0)
    assert first.done() and await first == "first"  # no timer: a handful of turns
    assert await _after_turns(0, writer, "later") == "later"
    assert writer.batches == [["first"], ["later"]]


async def test_a_steady_stream_is_written_after_a_bounded_wait(db: Database) -> None:
    writer = RecordingWriter(db)
    texts = [f"log {n}" for n in range(3 * writer.gather_turns)]
    stored = await asyncio.gather(*(_after_turns(n, writer, text) for n, text in enumerate(texts)))
    assert stored == texts
    assert len(writer.batches) > 1  # a new item every turn does not hold the first forever
    assert [text for batch in writer.batches for text in batch] == texts


class TwoAtOnce(HeldWriter):
    batches_at_once = 2


async def _handed_in(writer: GroupWriter[Note, str], text: str) -> asyncio.Task[str]:
    handed = asyncio.create_task(writer.submit(Note(Origin("T1", None), text)))
    await asyncio.sleep(0)
    return handed


async def test_on_postgresql_a_batch_starts_while_another_waits_for_the_server(
    any_db: Database,
) -> None:
    writer = TwoAtOnce(any_db)
    first = await _handed_in(writer, "first")
    first_batch = await asyncio.wait_for(writer.batches.get(), 10)
    second = await _handed_in(writer, "second")
    if any_db.writes_one_at_a_time:  # SQLite: the second waits for the first batch's end
        for _ in range(20):
            await asyncio.sleep(0)
        assert writer.batches.empty()
        first_batch.set()
        assert await first == "first"
        (await asyncio.wait_for(writer.batches.get(), 10)).set()
        assert await second == "second"
        await writer.drain()
        return
    second_batch = await asyncio.wait_for(writer.batches.get(), 10)
    third = await _handed_in(writer, "third")
    settled = asyncio.create_task(writer.settle())
    for _ in range(20):
        await asyncio.sleep(0)
    assert writer.batches.empty()  # two at once at most: the third waits for a free one
    second_batch.set()
    assert await second == "second" and not first.done()
    third_batch = await asyncio.wait_for(writer.batches.get(), 10)
    await asyncio.sleep(0)
    assert not settled.done()  # the first and third were handed in before settle()
    first_batch.set()
    third_batch.set()
    assert (await first, await third) == ("first", "third")
    await asyncio.wait_for(settled, 10)
    assert sorted(writer.stored) == ["first", "second", "third"]
    await writer.drain()


class FailingWriter(HeldWriter):
    """Every batch fails as a whole; each item is then stored alone, or refused ("bad …")."""

    name = "test.failing_writer"

    async def store_together(self, items: list[Note]) -> list[str]:
        await self.held()
        raise RuntimeError("the batch failed")

    async def store_alone(self, item: Note) -> str:
        if item.text.startswith("bad"):
            raise ValueError(item.text)
        self.stored.append(item.text)
        return item.text


@pytest.mark.parametrize("kind", [HeldWriter, FailingWriter])
async def test_a_request_cancelled_while_it_waits_is_stored_and_the_others_answered(
    db: Database, kind: type[HeldWriter]
) -> None:
    writer = kind(db)
    origin = Origin("T1", None)
    gone = asyncio.create_task(writer.submit(Note(origin, "client gone")))
    staying = asyncio.create_task(writer.submit(Note(origin, "staying")))
    batch = await asyncio.wait_for(writer.batches.get(), 10)
    gone.cancel()  # the request's client went away while its item was being written
    await asyncio.sleep(0)
    batch.set()
    assert await asyncio.wait_for(staying, 10) == "staying"
    assert gone.cancelled()
    assert writer.stored == ["client gone", "staying"]
    # It goes on: a later item is stored and answered, a refused one told why.
    later = asyncio.create_task(writer.submit(Note(origin, "later")))
    refused = asyncio.create_task(writer.submit(Note(origin, "bad one")))
    (await asyncio.wait_for(writer.batches.get(), 10)).set()
    assert await asyncio.wait_for(later, 10) == "later"
    if kind is FailingWriter:
        with pytest.raises(ValueError, match="bad one"):
            await asyncio.wait_for(refused, 10)
    else:
        assert await asyncio.wait_for(refused, 10) == "bad one"
    await writer.drain()
