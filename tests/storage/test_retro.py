"""Retro storage on SQLite and PostgreSQL: one open retro per channel, racing votes and claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.domain.retro import RetroPhase, RetroTemplate, VoteResult
from storage import retro as store
from storage.db import Database
from storage.workspaces import Scope, get_or_add_workspace

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def new_retro(votes: int = 2) -> store.NewRetro:
    return store.NewRetro(
        title="Retro",
        template=RetroTemplate.MAD_SAD_GLAD,
        facilitator_id="U1",
        anonymous=True,
        votes_per_person=votes,
        collect_until=NOW + timedelta(days=1),
        vote_until=NOW + timedelta(days=2),
    )


async def scope_of(db: Database, team: str = "T1", channel: str = "C1") -> Scope:
    async with db.transaction() as s:
        return Scope(
            await get_or_add_workspace(s, team_id=team, enterprise_id=None, now=NOW), channel
        )


async def start(db: Database, scope: Scope, votes: int = 2) -> store.Retro | None:
    async with db.transaction() as s:
        return await store.add_retro(s, scope=scope, new=new_retro(votes), now=NOW)


async def test_two_starts_at_once_leave_one_open_retro(any_db: Database) -> None:
    scope = await scope_of(any_db)
    started = await asyncio.gather(*(start(any_db, scope) for _ in range(8)))
    assert sum(r is not None for r in started) == 1
    other = await scope_of(any_db, "T2")
    assert await start(any_db, other) is not None  # another workspace is not held up


async def test_racing_votes_of_one_person_stay_within_the_limit(any_db: Database) -> None:
    scope = await scope_of(any_db)
    retro = await start(any_db, scope)
    assert retro is not None
    async with any_db.transaction() as s:
        notes = [
            await store.add_note(
                s, scope=scope, retro=retro, author_key=f"k{n}", author_id=f"U{n}",
                column="Mad", text=f"note {n}", now=NOW,
            )
            for n in range(12)
        ]  # fmt: skip
        assert await store.claim_phase(
            s, workspace_id=scope.workspace_id, retro_id=retro.id,
            old=RetroPhase.COLLECT, new=RetroPhase.VOTE, now=NOW,
        )  # fmt: skip
        retro = await store.get_retro(s, scope=scope, retro_id=retro.id)
    assert retro is not None and retro.phase is RetroPhase.VOTE

    async def vote(note: store.Note) -> VoteResult:
        assert retro is not None
        async with any_db.transaction() as s:
            return await store.add_note_vote(
                s, scope=scope, retro=retro, note=note, user_id="U9", now=NOW
            )

    results = await asyncio.gather(*(vote(n) for n in notes))
    assert sorted(results) == sorted([VoteResult.COUNTED] * 2 + [VoteResult.OVER_LIMIT] * 10)
    async with any_db.transaction() as s:
        counted = await store.list_notes(s, workspace_id=scope.workspace_id, retro_id=retro.id)
    assert sum(n.votes for n in counted) == 2


async def test_a_note_from_another_workspace_or_channel_is_not_found(any_db: Database) -> None:
    scope = await scope_of(any_db)
    retro = await start(any_db, scope)
    assert retro is not None
    async with any_db.transaction() as s:
        note = await store.add_note(
            s, scope=scope, retro=retro, author_key="k", author_id="U2", column="Mad",
            text="hidden", now=NOW,
        )  # fmt: skip
        await store.set_note_message(
            s, workspace_id=scope.workspace_id, note_id=note.id, message_ts="1.000100"
        )
    other_ws = await scope_of(any_db, "T2")
    async with any_db.transaction() as s:
        assert await store.find_note_by_message(s, scope=scope, message_ts="1.000100")
        assert await store.find_note_by_message(s, scope=other_ws, message_ts="1.000100") is None
        elsewhere = Scope(scope.workspace_id, "C2")
        assert await store.find_note_by_message(s, scope=elsewhere, message_ts="1.000100") is None
        assert await store.get_retro(s, scope=other_ws, retro_id=retro.id) is None
        assert note.author_id is None  # an anonymous retro keeps no author id
