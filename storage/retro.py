"""Retros, their notes and the votes on them.

Every function takes the workspace (and the channel where a request names one): a retro or note
id from another workspace or channel finds nothing. Phase changes are conditional updates
(``WHERE phase = <old>``), so of two processes moving the same retro on, exactly one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.kaizen import ActionItem, ActionStatus, NewActionItem
from bot.domain.observations import Source
from bot.domain.retro import (
    OPEN_PHASES,
    Note,
    Retro,
    RetroPhase,
    RetroRecord,
    RetroTemplate,
    VoteResult,
)
from storage import kaizen as kaizen_store
from storage.models import ActionItem as ActionRow
from storage.models import Observation
from storage.models import Retro as RetroRow
from storage.models import RetroNote as NoteRow
from storage.models import RetroVote as VoteRow
from storage.models import Theme as ThemeRow
from storage.sql import advisory_lock, insert_ignoring_conflict
from storage.workspaces import Scope

_OPEN = [phase.value for phase in OPEN_PHASES]
RETRO_LOCKS = 0x7274  # "rt": the namespace of the retro advisory locks


@dataclass(frozen=True, slots=True)
class NewRetro:
    title: str
    template: RetroTemplate
    facilitator_id: str
    anonymous: bool
    votes_per_person: int
    collect_until: datetime
    vote_until: datetime


@dataclass(frozen=True, slots=True)
class Participation:
    """Who has written notes: how many notes, and the author keys (and ids when not anonymous)."""

    notes: int
    author_keys: frozenset[str]
    author_ids: tuple[str, ...]

    @property
    def people(self) -> int:
        return len(self.author_keys)


@dataclass(frozen=True, slots=True)
class Verdict:
    theme_number: int
    title: str
    verdict: str
    measured: float | None


def _retro(row: RetroRow) -> Retro:
    return Retro(
        id=row.id,
        channel_id=row.channel_id,
        title=row.title,
        template=RetroTemplate(row.template),
        phase=RetroPhase(row.phase),
        facilitator_id=row.facilitator_id,
        anonymous=row.anonymous,
        votes_per_person=row.votes_per_person,
        collect_until=row.collect_until,
        vote_until=row.vote_until,
        message_ts=row.message_ts,
        created_at=row.created_at,
        nudged=row.nudged_at is not None,
    )


def _note(row: NoteRow, votes: int = 0) -> Note:
    return Note(
        id=row.id,
        retro_id=row.retro_id,
        column=row.column,
        text=row.text,
        author_id=row.author_id,
        message_ts=row.message_ts,
        created_at=row.created_at,
        votes=votes,
    )


def _in_scope(scope: Scope) -> tuple[Any, ...]:
    return (RetroRow.workspace_id == scope.workspace_id, RetroRow.channel_id == scope.channel_id)


async def _one(session: AsyncSession, *where: Any) -> Retro | None:
    row = await session.scalar(select(RetroRow).where(*where).order_by(RetroRow.id.desc()))
    return _retro(row) if row is not None else None


# -- retros -----------------------------------------------------------------------------------


async def get_retro(session: AsyncSession, *, scope: Scope, retro_id: int) -> Retro | None:
    return await _one(session, *_in_scope(scope), RetroRow.id == retro_id)


async def get_open_retro(session: AsyncSession, *, scope: Scope) -> Retro | None:
    """The channel's retro collecting notes or votes, if there is one."""
    return await _one(session, *_in_scope(scope), RetroRow.phase.in_(_OPEN))


async def get_latest_retro(session: AsyncSession, *, scope: Scope) -> Retro | None:
    return await _one(session, *_in_scope(scope))


async def get_previous_retro(
    session: AsyncSession, *, scope: Scope, before_id: int
) -> Retro | None:
    return await _one(session, *_in_scope(scope), RetroRow.id < before_id)


async def add_retro(
    session: AsyncSession, *, scope: Scope, new: NewRetro, now: datetime
) -> Retro | None:
    """Start a retro; None when the channel has one collecting or voting already.

    The channel's retro lock makes two starts at once settle on one retro. A retro still showing its
    summary is closed: the new one takes over the channel.
    """
    await advisory_lock(session, space=RETRO_LOCKS, key=f"{scope.workspace_id}:{scope.channel_id}")
    if await get_open_retro(session, scope=scope) is not None:
        return None
    await session.execute(
        update(RetroRow)
        .where(*_in_scope(scope), RetroRow.phase == RetroPhase.SUMMARY.value)
        .values(phase=RetroPhase.CLOSED.value, closed_at=now)
    )
    row = RetroRow(
        workspace_id=scope.workspace_id,
        channel_id=scope.channel_id,
        title=new.title,
        template=new.template.value,
        phase=RetroPhase.COLLECT.value,
        facilitator_id=new.facilitator_id,
        anonymous=new.anonymous,
        votes_per_person=new.votes_per_person,
        collect_until=new.collect_until,
        vote_until=new.vote_until,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return _retro(row)


async def delete_retro(session: AsyncSession, *, scope: Scope, retro_id: int) -> None:
    """Take back a retro that could not be announced (the bot is not in the channel)."""
    await session.execute(delete(RetroRow).where(*_in_scope(scope), RetroRow.id == retro_id))


async def set_retro_message(
    session: AsyncSession, *, scope: Scope, retro_id: int, message_ts: str
) -> None:
    await session.execute(
        update(RetroRow)
        .where(*_in_scope(scope), RetroRow.id == retro_id)
        .values(message_ts=message_ts)
    )


async def claim_phase(
    session: AsyncSession,
    *,
    workspace_id: int,
    retro_id: int,
    old: RetroPhase,
    new: RetroPhase,
    now: datetime,
) -> bool:
    """Move a retro from ``old`` to ``new``; False when another caller moved it first."""
    values: dict[str, Any] = {"phase": new.value}
    if new is RetroPhase.CLOSED:
        values["closed_at"] = now
    result = await session.execute(
        update(RetroRow)
        .where(
            RetroRow.workspace_id == workspace_id,
            RetroRow.id == retro_id,
            RetroRow.phase == old.value,
        )
        .values(**values)
    )
    return getattr(result, "rowcount", 0) == 1


async def mark_stalled(
    session: AsyncSession, *, workspace_id: int, retro_id: int, now: datetime | None
) -> bool:
    """Record (or with ``now=None`` clear) a phase change that could not be posted.

    True only for the first record, so the facilitator is told once, not at every tick.
    """
    where = [RetroRow.workspace_id == workspace_id, RetroRow.id == retro_id]
    if now is not None:
        where.append(RetroRow.stalled_at.is_(None))
    result = await session.execute(update(RetroRow).where(*where).values(stalled_at=now))
    return getattr(result, "rowcount", 0) == 1


async def claim_nudge(session: AsyncSession, *, scope: Scope, retro_id: int, now: datetime) -> bool:
    """True for the one nudge a retro gets."""
    result = await session.execute(
        update(RetroRow)
        .where(*_in_scope(scope), RetroRow.id == retro_id, RetroRow.nudged_at.is_(None))
        .values(nudged_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def list_due_retros(session: AsyncSession, *, now: datetime) -> list[tuple[int, Retro]]:
    """(workspace id, retro) of every retro whose collect or vote deadline has passed."""
    rows = await session.scalars(
        select(RetroRow)
        .where(
            or_(
                and_(RetroRow.phase == RetroPhase.COLLECT.value, RetroRow.collect_until <= now),
                and_(RetroRow.phase == RetroPhase.VOTE.value, RetroRow.vote_until <= now),
            )
        )
        .order_by(RetroRow.id)
    )
    return [(row.workspace_id, _retro(row)) for row in rows]


# -- notes ------------------------------------------------------------------------------------


async def add_note(
    session: AsyncSession,
    *,
    scope: Scope,
    retro: Retro,
    author_key: str,
    author_id: str,
    column: str,
    text: str,
    now: datetime,
) -> Note:
    """Store a note; its author's id only when the retro is not anonymous."""
    row = NoteRow(
        workspace_id=scope.workspace_id,
        retro_id=retro.id,
        author_key=author_key,
        author_id=None if retro.anonymous else author_id,
        column=column,
        text=text,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return _note(row)


async def update_note(
    session: AsyncSession,
    *,
    workspace_id: int,
    retro_id: int,
    note_id: int,
    author_key: str,
    column: str,
    text: str,
) -> bool:
    """Change one's own note; False when the note is not this author's (or not this retro's)."""
    result = await session.execute(
        update(NoteRow)
        .where(
            NoteRow.workspace_id == workspace_id,
            NoteRow.retro_id == retro_id,
            NoteRow.id == note_id,
            NoteRow.author_key == author_key,
        )
        .values(column=column, text=text)
    )
    return getattr(result, "rowcount", 0) == 1


async def list_author_notes(
    session: AsyncSession, *, workspace_id: int, retro_id: int, author_key: str
) -> list[Note]:
    rows = await session.scalars(
        select(NoteRow)
        .where(
            NoteRow.workspace_id == workspace_id,
            NoteRow.retro_id == retro_id,
            NoteRow.author_key == author_key,
        )
        .order_by(NoteRow.created_at, NoteRow.id)
    )
    return [_note(row) for row in rows]


async def get_participation(
    session: AsyncSession, *, workspace_id: int, retro_id: int
) -> Participation:
    rows = (
        await session.execute(
            select(NoteRow.author_key, NoteRow.author_id).where(
                NoteRow.workspace_id == workspace_id, NoteRow.retro_id == retro_id
            )
        )
    ).all()
    ids = sorted({author for _, author in rows if author})
    return Participation(
        notes=len(rows), author_keys=frozenset(key for key, _ in rows), author_ids=tuple(ids)
    )


def _votes() -> Any:
    return (
        select(func.count(VoteRow.id))
        .where(VoteRow.note_id == NoteRow.id)
        .correlate(NoteRow)
        .scalar_subquery()
    )


async def list_notes(session: AsyncSession, *, workspace_id: int, retro_id: int) -> list[Note]:
    """A retro's notes with their votes, in the order they were written."""
    rows = await session.execute(
        select(NoteRow, _votes())
        .where(NoteRow.workspace_id == workspace_id, NoteRow.retro_id == retro_id)
        .order_by(NoteRow.created_at, NoteRow.id)
    )
    return [_note(row, int(votes or 0)) for row, votes in rows.all()]


async def get_note(
    session: AsyncSession, *, workspace_id: int, retro_id: int, note_id: int
) -> Note | None:
    found = (
        await session.execute(
            select(NoteRow, _votes()).where(
                NoteRow.workspace_id == workspace_id,
                NoteRow.retro_id == retro_id,
                NoteRow.id == note_id,
            )
        )
    ).first()
    return _note(found[0], int(found[1] or 0)) if found else None


async def set_note_message(
    session: AsyncSession, *, workspace_id: int, note_id: int, message_ts: str
) -> None:
    await session.execute(
        update(NoteRow)
        .where(NoteRow.workspace_id == workspace_id, NoteRow.id == note_id)
        .values(message_ts=message_ts)
    )


async def find_note_by_message(
    session: AsyncSession, *, scope: Scope, message_ts: str
) -> tuple[Retro, Note] | None:
    """The note posted as the message ``message_ts`` in the scope's channel, with its retro."""
    found = (
        await session.execute(
            select(RetroRow, NoteRow)
            .join(NoteRow, NoteRow.retro_id == RetroRow.id)
            .where(
                *_in_scope(scope),
                NoteRow.workspace_id == scope.workspace_id,
                NoteRow.message_ts == message_ts,
            )
        )
    ).first()
    return (_retro(found[0]), _note(found[1])) if found else None


async def add_waste_logs(
    session: AsyncSession, *, scope: Scope, retro_id: int, anonymous: bool, now: datetime
) -> int:
    """Each waste-walk note becomes a waste log of its category (no author when anonymous).

    Each log is keyed by its note, so a summary tried again (the bot was out of the channel)
    adds no log twice; how many were added this time.
    """
    rows = await session.scalars(
        select(NoteRow)
        .where(NoteRow.workspace_id == scope.workspace_id, NoteRow.retro_id == retro_id)
        .order_by(NoteRow.created_at, NoteRow.id)
    )
    added = 0
    for row in list(rows):
        values = {
            "workspace_id": scope.workspace_id,
            "channel_id": scope.channel_id,
            "category": row.column,
            "description": row.text,
            "is_wait": False,
            "work_item": "",
            "link": "",
            "source": Source.RETRO.value,
            "anonymous": anonymous,
            "reporter_id": None if anonymous else row.author_id,
            "reporter_key": row.author_key,
            "reaction_key": f"retro-note:{row.id}",
            "created_at": now,
        }
        table = Observation.__table__
        if await insert_ignoring_conflict(session, table, values) is not None:  # type: ignore[arg-type]
            added += 1
    return added


# -- votes ------------------------------------------------------------------------------------


async def add_note_vote(
    session: AsyncSession, *, scope: Scope, retro: Retro, note: Note, user_id: str, now: datetime
) -> VoteResult:
    """One vote per person and note, at most ``votes_per_person`` in the retro."""
    if retro.phase is not RetroPhase.VOTE:
        return VoteResult.NOT_VOTING
    # Two reactions of one person at once must not both fit under the limit. An advisory lock,
    # not a row lock: the delivery claimed before this takes a key-share lock on the workspace.
    key = f"{scope.workspace_id}:{retro.id}:{user_id}"
    await advisory_lock(session, space=RETRO_LOCKS, key=key)
    new_id = await insert_ignoring_conflict(
        session,
        VoteRow.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": scope.workspace_id,
            "note_id": note.id,
            "user_id": user_id,
            "created_at": now,
        },
    )
    if new_id is None:
        return VoteResult.ALREADY_COUNTED
    used = await session.scalar(
        select(func.count(VoteRow.id))
        .join(NoteRow, NoteRow.id == VoteRow.note_id)
        .where(
            VoteRow.workspace_id == scope.workspace_id,
            VoteRow.user_id == user_id,
            NoteRow.retro_id == retro.id,
        )
    )
    if int(used or 0) > retro.votes_per_person:
        await session.execute(delete(VoteRow).where(VoteRow.id == new_id))
        return VoteResult.OVER_LIMIT
    return VoteResult.COUNTED


async def remove_note_vote(
    session: AsyncSession, *, scope: Scope, retro: Retro, note: Note, user_id: str
) -> bool:
    if retro.phase is not RetroPhase.VOTE:
        return False
    result = await session.execute(
        delete(VoteRow).where(
            VoteRow.workspace_id == scope.workspace_id,
            VoteRow.note_id == note.id,
            VoteRow.user_id == user_id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


# -- what the retro looks back on -------------------------------------------------------------


async def add_retro_action_item(
    session: AsyncSession,
    *,
    scope: Scope,
    retro_id: int,
    item: NewActionItem,
    created_by: str,
    now: datetime,
) -> ActionItem:
    row = ActionRow(
        workspace_id=scope.workspace_id,
        channel_id=scope.channel_id,
        retro_id=retro_id,
        text=item.text,
        owner_id=item.owner_id,
        due_date=item.due_date,
        status=ActionStatus.OPEN.value,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    found = await kaizen_store.get_action_item(
        session, workspace_id=scope.workspace_id, item_id=row.id
    )
    assert found is not None
    return found


async def list_open_retro_actions(
    session: AsyncSession, *, scope: Scope, retro_id: int
) -> list[ActionItem]:
    rows = await session.scalars(
        select(ActionRow.id)
        .where(
            ActionRow.workspace_id == scope.workspace_id,
            ActionRow.channel_id == scope.channel_id,
            ActionRow.retro_id == retro_id,
            ActionRow.status == ActionStatus.OPEN.value,
        )
        .order_by(ActionRow.id)
    )
    found = [
        await kaizen_store.get_action_item(session, workspace_id=scope.workspace_id, item_id=i)
        for i in rows
    ]
    return [item for item in found if item is not None]


async def list_verdicts(
    session: AsyncSession, *, scope: Scope, start: date, end: date
) -> list[Verdict]:
    """Hypotheses of the channel's themes judged with a check date in [start, end]."""
    rows = await session.scalars(
        select(ThemeRow)
        .where(
            ThemeRow.workspace_id == scope.workspace_id,
            ThemeRow.channel_id == scope.channel_id,
            ThemeRow.hyp_verdict.is_not(None),
            ThemeRow.hyp_check_date >= start,
            ThemeRow.hyp_check_date <= end,
        )
        .order_by(ThemeRow.number)
    )
    return [Verdict(r.number, r.title, r.hyp_verdict or "", r.hyp_measured) for r in rows]


async def list_retros_with_notes(
    session: AsyncSession, *, workspace_id: int, channel_id: str | None = None
) -> list[RetroRecord]:
    """Each retro with its notes, for the export; notes of a retro still collecting stay out."""
    stmt = select(RetroRow).where(RetroRow.workspace_id == workspace_id)
    if channel_id is not None:
        stmt = stmt.where(RetroRow.channel_id == channel_id)
    retros = [_retro(row) for row in await session.scalars(stmt.order_by(RetroRow.id))]
    found = []
    for retro in retros:
        notes: list[Note] = []
        if retro.phase is not RetroPhase.COLLECT:
            notes = await list_notes(session, workspace_id=workspace_id, retro_id=retro.id)
        found.append(RetroRecord(retro, tuple(notes)))
    return found
