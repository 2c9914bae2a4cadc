"""Batches the database driver runs by itself (aiosqlite on SQLite, asyncpg on PostgreSQL)
read back exactly as SQLAlchemy's writes do."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asyncpg.exceptions import ForeignKeyViolationError
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from bot.domain.channels import ChannelConfig
from bot.domain.hypotheses import Hypothesis, Metric
from bot.domain.kaizen import NewTheme
from bot.domain.observations import NewWaste, Source
from bot.domain.retro import RetroTemplate
from storage import kaizen
from storage import retro as retros
from storage import waste as store
from storage.channels import update_channel_config
from storage.db import Database
from storage.deliveries import claim_deliveries
from storage.driver import DriverTransaction, _result, _row_values
from storage.models import Delivery, Observation
from storage.workspaces import Scope, resolve_workspace
from tests.support import databases

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
NEW_RETRO = retros.NewRetro(
    title="Retro",
    template=RetroTemplate.MAD_SAD_GLAD,
    facilitator_id="U1",
    anonymous=True,
    votes_per_person=3,
    collect_until=NOW + timedelta(days=1),
    vote_until=NOW + timedelta(days=2),
)


def log(n: int, *, anonymous: bool = False, delivery: str | None = None) -> store.NewLog:
    waste = NewWaste(
        category="waiting" if n % 2 else None,
        description=f"log {n} — “quoted” ✓",
        minutes=n * 5 or None,
        is_wait=bool(n % 2),
        link="https://example.com/x" if n == 1 else "",
        anonymous=anonymous,
        source=Source.MODAL,
    )
    return store.NewLog(
        scope=Scope(1, "C1"),
        waste=waste,
        reporter_id="U1",
        reporter_key="k" * 64,
        delivery=delivery or f"d{n}",
        now=NOW + timedelta(seconds=n),
    )


async def test_logs_stored_by_the_driver_read_back_as_the_ones_sqlalchemy_stores(
    any_db: Database,
) -> None:
    async with any_db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    logs = [log(0), log(1), log(2, anonymous=True)]
    by_driver = await any_db.run_batch(lambda driver: store.add_observations(driver, logs))
    async with any_db.transaction() as session:
        read = [
            await store.get_observation(session, workspace_id=1, observation_id=w.id)
            for w in by_driver
            if w is not None
        ]
    assert read == by_driver
    assert [w.created_at for w in read if w] == [
        NOW,
        NOW + timedelta(seconds=1),
        NOW + timedelta(seconds=2),
    ]
    assert [(w.is_wait, w.anonymous, w.reporter_id) for w in read if w] == [
        (False, False, "U1"),
        (True, False, "U1"),
        (False, True, None),
    ]


async def test_a_repeated_delivery_in_a_driver_batch_is_stored_once(any_db: Database) -> None:
    async with any_db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    first = await any_db.run_batch(
        lambda driver: store.add_observations(driver, [log(1, delivery="same")])
    )
    repeated = [log(2, delivery="same"), log(3, delivery="new"), log(3, delivery="new")]
    again = await any_db.run_batch(lambda driver: store.add_observations(driver, repeated))
    assert first[0] is not None
    assert [w is None for w in again] == [True, False, True]
    async with any_db.transaction() as session:
        assert await session.scalar(select(func.count(Observation.id))) == 2
        assert await session.scalar(select(func.count(Delivery.id))) == 2


async def test_logs_written_with_one_statement_claim_each_delivery_once(any_db: Database) -> None:
    """``one_write``: on PostgreSQL the claims and the logs go in one statement, with no
    transaction around it; what is stored and answered is what a transaction gives."""
    async with any_db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)

    def batch(logs: list[store.NewLog]) -> Any:
        return any_db.run_batch(lambda driver: store.add_observations(driver, logs), one_write=True)

    first = await batch([log(1, delivery="same"), log(2), log(2, delivery="d2")])
    again = await batch(
        [
            log(3, delivery="same"),
            log(4),
            log(4, delivery="d4"),
            log(5),
            replace(log(6), delivery=""),
        ]
    )
    assert [w is None for w in first] == [False, False, True]
    assert [w is None for w in again] == [True, False, True, False, False]
    async with any_db.transaction() as session:
        read = [
            await store.get_observation(session, workspace_id=1, observation_id=w.id)
            for w in [*first, *again]
            if w is not None
        ]
        assert await session.scalar(select(func.count(Delivery.id))) == 4
        assert await session.scalar(select(func.count(Observation.id))) == 5
    assert [w.description for w in read if w] == [f"log {n} — “quoted” ✓" for n in (1, 2, 4, 5, 6)]


async def test_logs_refused_in_one_statement_claim_nothing(any_db: Database) -> None:
    async with any_db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    # A workspace that does not exist: the foreign key refuses the statement, claims included.
    refused = [log(1), replace(log(2), scope=Scope(999, "C1"))]
    with pytest.raises((sqlite3.IntegrityError, ForeignKeyViolationError)):
        await any_db.run_batch(
            lambda driver: store.add_observations(driver, refused), one_write=True
        )
    stored = await any_db.run_batch(
        lambda driver: store.add_observations(driver, [log(1), log(2)]), one_write=True
    )
    assert all(w is not None for w in stored)
    async with any_db.transaction() as session:
        assert await session.scalar(select(func.count(Observation.id))) == 2
        assert await session.scalar(select(func.count(Delivery.id))) == 2


async def test_votes_written_with_one_statement_count_each_delivery_once(
    any_db: Database,
) -> None:
    """On PostgreSQL a batch's claims and votes go in one statement, with no transaction
    around it; on SQLite in the batch's transaction. Either way each vote counts once, a
    repeated delivery counts nothing, and a theme's count is the votes stored."""
    async with any_db.transaction() as session:
        ws = (await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)).id
        first, second = [
            await kaizen.add_theme(
                session,
                scope=Scope(ws, "C1"),
                theme=NewTheme(title=title, problem="p"),
                author_id="U1",
                now=NOW,
            )
            for title in ("First", "Second")
        ]

    def vote(theme: int, user: str, delivery: str | None) -> tuple[kaizen.NewVote, str | None]:
        return kaizen.NewVote(ws, theme, user, NOW), delivery

    def batch(votes: list[tuple[kaizen.NewVote, str | None]], *, also: str | None = None) -> Any:
        claims = [(ws, d, NOW) for d in [*(d for _, d in votes if d), also] if d]
        return any_db.run_batch(
            lambda driver: kaizen.claim_and_add_votes(driver, claims, votes), one_write=True
        )

    claimed, counted = await batch(
        [
            vote(first.id, "U1", "d1"),
            vote(first.id, "U1", "d2"),  # the same person again, another delivery
            vote(second.id, "U2", None),
            vote(second.id, "U3", "d3"),
        ],
        also="closed",  # a vote on a closed theme: claimed, not counted
    )
    assert counted == [True, False, True, True]
    assert claimed == {(ws, d) for d in ("d1", "d2", "d3", "closed")}
    async with any_db.transaction() as session:
        await kaizen.remove_vote(session, workspace_id=ws, theme_id=first.id, user_id="U1")
    # Slack sends d1 again after the vote was taken back, then the person votes once more.
    claimed, counted = await batch(
        [
            vote(first.id, "U1", "d1"),
            vote(first.id, "U1", "d4"),
            vote(second.id, "U2", "d5"),
            vote(first.id, "U5", "d6"),
        ],
        also="closed",
    )
    assert counted == [False, True, False, True]
    assert claimed == {(ws, d) for d in ("d4", "d5", "d6")}
    # A theme that is not there: the statement is refused whole, its claims with it.
    with pytest.raises((sqlite3.IntegrityError, ForeignKeyViolationError)):
        await batch([vote(first.id, "U6", "d7"), vote(9999, "U6", "d8")])
    claimed, counted = await batch([vote(first.id, "U6", "d7")])
    assert (claimed, counted) == ({(ws, "d7")}, [True])
    async with any_db.transaction() as session:
        voters = await kaizen.list_voters(session, workspace_id=ws, theme_id=first.id)
        shown = {t.title: t.votes for t in await kaizen.list_themes(session, scope=Scope(ws, "C1"))}
        assert await session.scalar(select(func.count(Delivery.id))) == 8
    assert sorted(voters) == ["U1", "U5", "U6"]
    assert shown == {"First": 3, "Second": 2}


async def test_a_failed_driver_batch_leaves_nothing_and_the_database_usable(
    any_db: Database,
) -> None:
    async with any_db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)

    async def half_then_refused(driver: DriverTransaction) -> None:
        await claim_deliveries(driver, [(1, "kept?", NOW)])
        await store.add_observations(driver, [log(1)])
        # A workspace that does not exist: the foreign key refuses the whole batch.
        await store.add_observations(driver, [replace(log(2), scope=Scope(999, "C1"))])

    with pytest.raises((sqlite3.IntegrityError, ForeignKeyViolationError)):
        await any_db.run_batch(half_then_refused)
    async with any_db.transaction(write_lock=True) as session:
        assert await session.scalar(select(func.count(Observation.id))) == 0
        assert await session.scalar(select(func.count(Delivery.id))) == 0


async def test_a_read_only_database_refuses_a_driver_batch_and_says_so(
    sqlite_template: Path, tmp_path: Path
) -> None:
    url = databases.copy_sqlite(sqlite_template, tmp_path)
    path = url.removeprefix("sqlite+aiosqlite:///")
    read_only = Database(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    try:
        with pytest.raises(sqlite3.OperationalError):
            await read_only.run_batch(lambda driver: claim_deliveries(driver, [(1, "x", NOW)]))
        assert read_only.health.failure is not None and "readonly" in read_only.health.failure
    finally:
        await read_only.dispose()


async def test_a_timestamp_stored_by_the_driver_is_the_text_sqlalchemy_stores(
    db: Database,
) -> None:
    """SQLite compares timestamps as text: a whole second must be written as SQLAlchemy
    writes it (with ``.000000``), not as sqlite3's own adapter would."""
    whole = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)
    async with db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=whole)
        await store.add_observations(session, [replace(log(1, delivery="orm"), now=whole)])
    at_whole = [replace(log(1, delivery="driver"), now=whole)]
    await db.run_batch(lambda driver: store.add_observations(driver, at_whole))
    async with db.transaction() as session:
        stored = (await session.execute(text("SELECT created_at FROM observations"))).all()
        claimed = (await session.execute(text("SELECT received_at FROM deliveries"))).all()
    assert [row[0] for row in stored] == ["2026-03-02 09:30:15.000000"] * 2
    assert [row[0] for row in claimed] == ["2026-03-02 09:30:15.000000"] * 2


async def test_reactions_read_by_the_driver_find_what_the_session_finds(any_db: Database) -> None:
    """Channel settings, theme messages (with step, votes and hypothesis), and messages that
    are no theme, read either way."""
    async with any_db.transaction() as session:
        ws = await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
        other = await resolve_workspace(session, team_id="T2", enterprise_id=None, now=NOW)
        config = ChannelConfig(vote_emoji="star", waste_emoji="x", vote_limit=3)
        await update_channel_config(session, scope=Scope(ws.id, "C1"), config=config, now=NOW)
        hypothesis = Hypothesis(
            metric=Metric.LEAD_TIME, target=2.5, check_date=date(2026, 4, 1), baseline=None
        )
        themes = [
            await kaizen.add_theme(
                session,
                scope=Scope(ws.id, channel),
                theme=NewTheme(title=f"T{n}", problem="p", hypothesis=hypothesis if n else None),
                author_id="U1",
                now=NOW,
            )
            for n, channel in enumerate(["C1", "C2"])
        ]
        for theme, ts in zip(themes, ["1.1", "2.2"], strict=True):
            await kaizen.set_theme_message(
                session,
                workspace_id=ws.id,
                theme_id=theme.id,
                channel_id=theme.channel_id,
                message_ts=ts,
            )
        await kaizen.add_votes(session, [kaizen.NewVote(ws.id, themes[0].id, "U2", NOW)])
        retro = await retros.add_retro(session, scope=Scope(ws.id, "C2"), new=NEW_RETRO, now=NOW)
        assert retro is not None
        note = await retros.add_note(
            session,
            scope=Scope(ws.id, "C2"),
            retro=retro,
            author_key="k",
            author_id="U1",
            column="glad",
            text="CI got faster",
            now=NOW,
        )
        await retros.set_note_message(
            session, workspace_id=ws.id, note_id=note.id, message_ts="5.5"
        )
    reactions = [
        (Scope(ws.id, "C1"), "1.1"),
        (Scope(ws.id, "C2"), "2.2"),
        (Scope(ws.id, "C2"), "9.9"),
        (Scope(other.id, "C1"), "1.1"),
        (Scope(ws.id, "C1"), "1.1"),
        (Scope(ws.id, "C2"), "5.5"),
        (Scope(ws.id, "C1"), "5.5"),
        (Scope(other.id, "C2"), "5.5"),
    ]
    async with any_db.transaction() as session:
        by_session = await kaizen.find_reacted_messages(session, reactions)
        one_by_one = [
            await kaizen.find_reacted_message(session, scope=scope, message_ts=ts)
            for scope, ts in reactions
        ]
    by_driver = await any_db.run_batch(
        lambda driver: kaizen.find_reacted_messages(driver, reactions)
    )
    assert by_driver == by_session
    assert [(r.config, r.theme, r.note) for r in one_by_one] == [
        (r.config, r.theme, r.note) for r in by_driver
    ]
    found = [(r.config.vote_emoji, r.theme and (r.theme.title, r.theme.votes)) for r in by_driver]
    top = ("star", ("T0", 1))
    plain = ("+1", None)
    assert found == [top, ("+1", ("T1", 0)), plain, plain, top, plain, ("star", None), plain]
    assert [r.note for r in by_driver] == [False] * 5 + [True, False, False]
    assert by_driver[1].theme is not None and by_driver[1].theme.hypothesis == hypothesis


async def test_a_connection_goes_back_to_the_pool_rolled_back_only_when_it_must(
    db: Database,
) -> None:
    """A driver batch ends its own transaction: the pool asks the driver's thread for no
    rollback after it. A connection given back in the middle of one is rolled back: nothing
    of it stays."""
    async with db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
    rollbacks: list[bool] = []
    rollback = driver.rollback

    async def counted() -> None:
        rollbacks.append(driver.in_transaction)
        await rollback()

    driver.rollback = counted
    async with db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    await db.run_batch(lambda batch: store.add_observations(batch, [log(1)]))
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Observation.id))) == 1
    assert rollbacks == []
    async with db.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is driver
        await raw.execute("BEGIN IMMEDIATE")
        await raw.execute("DELETE FROM observations")
    assert rollbacks == [True]
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Observation.id))) == 1


async def test_a_batch_that_waits_for_anything_but_its_statements_is_refused_unwritten(
    db: Database,
) -> None:
    """On SQLite a batch is sqlite3's blocking calls, during which the event loop does not
    run: a batch that awaits anything else is rolled back, not left half done."""
    async with db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)

    async def claims_then_sleeps(driver: DriverTransaction) -> None:
        await claim_deliveries(driver, [(1, "claimed", NOW)])
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its statements"):
        await db.run_batch(claims_then_sleeps)
    stored = await db.run_batch(lambda driver: store.add_observations(driver, [log(1)]))
    assert stored[0] is not None
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Delivery.id))) == 1


async def test_a_batch_waits_for_another_writer_without_stopping_the_event_loop(
    db: Database,
) -> None:
    """A batch runs in the event loop only while the write lock is free: when another process
    holds it, the batch waits in the driver's thread, requests go on being served meanwhile,
    and it is stored once the lock is free. A session after it waits for the lock too."""
    async with db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    await db.run_batch(lambda driver: store.add_observations(driver, [log(0)]))
    path = db.url.removeprefix("sqlite+aiosqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        batch = asyncio.create_task(
            db.run_batch(lambda driver: store.add_observations(driver, [log(1)]))
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(20):  # as requests served meanwhile would
            await asyncio.sleep(0.01)
        assert loop.time() - started < 3  # SQLite's busy timeout would have stopped it 15 s
        assert not batch.done()
        other.execute("COMMIT")
        stored = await asyncio.wait_for(batch, 10)
        assert stored[0] is not None

        other.execute("BEGIN IMMEDIATE")
        loop.call_later(0.2, other.execute, "COMMIT")
        async with db.transaction(write_lock=True) as session:
            assert await session.scalar(select(func.count(Observation.id))) == 2
    finally:
        other.close()


async def test_a_batch_whose_caller_gave_up_still_leaves_the_connection_to_the_next(
    db: Database,
) -> None:
    """A request cancelled while its batch runs in the driver's thread (it waited there for
    another process's write lock): the batch still ends as it would have, the connection is
    not thrown away, and the next batch and session use it after the first one is done."""
    async with db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    async with db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
        "SELECT count(*) FROM c"
    )
    running = threading.Event()  # set in the driver's thread

    async def claims_then_counts(batch: DriverTransaction) -> None:
        await claim_deliveries(batch, [(1, "claimed", NOW)])
        running.set()
        await batch.fetch(slow, [])

    path = db.url.removeprefix("sqlite+aiosqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the batch goes to the driver's thread to wait
        batch = asyncio.create_task(db.run_batch(claims_then_counts))
        await asyncio.sleep(0.1)
        other.execute("COMMIT")
    finally:
        other.close()
    for _ in range(100):
        await asyncio.sleep(0.02)
        if running.is_set():
            break
    assert driver.in_transaction  # the batch is halfway when its caller gives up
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    stored = await asyncio.wait_for(
        db.run_batch(lambda driver: store.add_observations(driver, [log(2)])), 30
    )
    assert stored[0] is not None
    async with db.transaction() as session:
        assert await session.scalar(select(func.count(Observation.id))) == 1
        assert await session.scalar(select(func.count(Delivery.id))) == 2
    async with db.engine.connect() as connection:
        assert (await connection.get_raw_connection()).driver_connection is driver


@settings(max_examples=500, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.timezones()
    )
)
def test_a_timestamp_the_driver_writes_on_sqlite_is_the_text_sqlalchemy_writes(
    moment: datetime,
) -> None:
    dialect = sqlite_dialect()
    column = Delivery.__table__.c.received_at
    by_sqlalchemy = column.type.dialect_impl(dialect).bind_processor(dialect)
    by_driver = _row_values(Delivery.__table__, ("received_at",), dialect)
    assert by_driver({"received_at": moment}) == [by_sqlalchemy(moment)]
    assert by_driver({"received_at": None}) == [None]


def test_a_naive_timestamp_is_refused_by_the_driver_as_by_sqlalchemy() -> None:
    values = _row_values(Delivery.__table__, ("workspace_id", "received_at"), sqlite_dialect())
    with pytest.raises(ValueError, match="naive datetime"):
        values({"workspace_id": 1, "received_at": datetime(2026, 3, 2, 9, 30)})


@settings(max_examples=500, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.timezones()
    ),
    other=st.sampled_from(["2026-03-02 09:30:15", "2026-03-02", "2026-03-02T09:30:15.123456"]),
)
def test_a_timestamp_the_driver_reads_on_sqlite_is_the_one_sqlalchemy_reads(
    moment: datetime, other: str
) -> None:
    dialect = sqlite_dialect()
    column_type = Delivery.__table__.c.received_at.type
    by_sqlalchemy = column_type.dialect_impl(dialect).result_processor(dialect, None)
    by_driver = _result(column_type, dialect)
    written = _row_values(Delivery.__table__, ("received_at",), dialect)({"received_at": moment})
    for text_ in (*written, other, None):
        assert by_driver(text_) == by_sqlalchemy(text_)
        assert by_driver(text_) is None or by_driver(text_).tzinfo is UTC


async def test_a_batch_on_a_connection_beyond_the_pool_size_closes_it_cleanly(
    postgres_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    """On PostgreSQL a connection taken beyond the pool's size is closed when it comes back:
    an await, which failed ("greenlet_spawn has not been called") when it was given back
    synchronously, and left the connection open."""
    if postgres_url is None:
        pytest.skip("no PostgreSQL server reachable (CI requires one when present)")
    db = Database(postgres_url)
    await databases.truncate_all(db)
    async with db.transaction() as session:
        await resolve_workspace(session, team_id="T1", enterprise_id=None, now=NOW)
    pool: Any = db.engine.sync_engine.pool
    held = [await db.engine.connect() for _ in range(pool.size())]
    caplog.set_level(logging.ERROR, logger="sqlalchemy.pool")

    async def batch(driver: DriverTransaction) -> list[Any]:
        stored = await store.add_observations(driver, [log(1)])
        for connection in held:  # the pool is full again before the batch's one comes back
            await connection.close()
        return stored

    stored = await db.run_batch(batch)
    assert pool.checkedout() == 0
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    async with db.transaction() as session:
        assert stored[0] is not None
        read = await store.get_observation(session, workspace_id=1, observation_id=stored[0].id)
    assert read == stored[0]
    await db.dispose()
