"""The kaizen backlog: themes and their history, votes, action items, digest subscriptions.

Every function takes the workspace (and the channel where one applies); a theme number or an
id from another workspace or channel finds nothing. Vote counts and rankings are aggregated in
SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.channels import ChannelConfig
from bot.domain.errors import NotAllowed, NotFound
from bot.domain.hypotheses import Hypothesis, Metric, Verdict
from bot.domain.kaizen import (
    ActionItem,
    ActionStatus,
    KaizenExport,
    NewActionItem,
    NewTheme,
    Theme,
    ThemeChange,
    Vote,
    VoteOutcome,
)
from bot.domain.themes import (
    OPEN_STATUSES,
    ThemeAction,
    ThemeStatus,
    format_theme_ref,
    next_status,
)
from bot.domain.votes import over_vote_limit
from bot.domain.wastes import WasteCategory
from storage import retro as retro_store
from storage import waste as waste_store
from storage.channels import channel_config
from storage.deliveries import claim_deliveries, claim_then_insert, delivery_pair
from storage.driver import DriverTransaction, insert_many, select_rows
from storage.models import ActionItem as ActionRow
from storage.models import ChannelSettings, Step, Subscription, Workspace
from storage.models import Retro as RetroRow
from storage.models import RetroNote as NoteRow
from storage.models import Theme as ThemeRow
from storage.models import ThemeEvent as EventRow
from storage.models import Vote as VoteRow
from storage.sql import advisory_lock, insert_ignoring_conflict, rows_changed
from storage.workspaces import Scope

_OPEN = [s.value for s in OPEN_STATUSES]


# -- themes -----------------------------------------------------------------------------------


def _select_themes() -> Any:
    # The count as a column of the query: a loaded row may predate a vote stored since.
    votes = ThemeRow.votes.label("votes")
    return select(ThemeRow, Step.name, votes).outerjoin(Step, Step.id == ThemeRow.step_id)


def _ranked(stmt: Any) -> Any:
    return stmt.order_by(ThemeRow.votes.desc(), ThemeRow.created_at, ThemeRow.id)


def _hypothesis(row: ThemeRow) -> Hypothesis | None:
    if row.hyp_metric is None or row.hyp_target is None or row.hyp_check_date is None:
        return None
    return Hypothesis(
        metric=Metric(row.hyp_metric),
        target=row.hyp_target,
        check_date=row.hyp_check_date,
        baseline=row.hyp_baseline,
        step_id=row.hyp_step_id,
        category=WasteCategory(row.hyp_category) if row.hyp_category else None,
        change=row.hyp_change,
        verdict=Verdict(row.hyp_verdict) if row.hyp_verdict else None,
        measured=row.hyp_measured,
    )


def _theme(found: Sequence[Any]) -> Theme:
    row, step_name, votes = found
    return Theme(
        id=row.id,
        number=row.number,
        channel_id=row.channel_id,
        title=row.title,
        problem=row.problem,
        category=WasteCategory(row.category) if row.category else None,
        step_id=row.step_id,
        step_name=step_name,
        status=ThemeStatus(row.status),
        author_id=row.author_id,
        message_channel=row.message_channel,
        message_ts=row.message_ts,
        version=row.version,
        hypothesis=_hypothesis(row),
        votes=int(votes or 0),
        created_at=row.created_at,
    )


async def _one_theme(session: AsyncSession, *where: Any) -> Theme | None:
    found = (await session.execute(_select_themes().where(*where))).first()
    return _theme(found) if found else None


async def allocate_theme_number(session: AsyncSession, *, workspace_id: int) -> int:
    """The next K-number of the workspace; one atomic UPDATE, so concurrent adds never collide."""
    result = await session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(next_theme_number=Workspace.next_theme_number + 1)
        .returning(Workspace.next_theme_number)
    )
    return int(result.scalar_one()) - 1


async def add_theme(
    session: AsyncSession, *, scope: Scope, theme: NewTheme, author_id: str, now: datetime
) -> Theme:
    number = await allocate_theme_number(session, workspace_id=scope.workspace_id)
    hyp = theme.hypothesis
    row = ThemeRow(
        workspace_id=scope.workspace_id,
        channel_id=scope.channel_id,
        number=number,
        title=theme.title,
        problem=theme.problem,
        category=theme.category.value if theme.category else None,
        step_id=theme.step_id,
        status=ThemeStatus.PROPOSED.value,
        author_id=author_id,
        version=1,
        hyp_metric=hyp.metric.value if hyp else None,
        hyp_change=hyp.change if hyp else "",
        hyp_baseline=hyp.baseline if hyp else None,
        hyp_target=hyp.target if hyp else None,
        hyp_check_date=hyp.check_date if hyp else None,
        hyp_step_id=hyp.step_id if hyp else None,
        hyp_category=hyp.category.value if hyp and hyp.category else None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    session.add(
        EventRow(
            workspace_id=scope.workspace_id,
            theme_id=row.id,
            actor_id=author_id,
            from_status=None,
            to_status=ThemeStatus.PROPOSED.value,
            at=now,
        )
    )
    await session.flush()
    found = await get_theme_by_id(session, workspace_id=scope.workspace_id, theme_id=row.id)
    assert found is not None
    return found


_THEME_WITH_SETTINGS = (
    _select_themes()
    .add_columns(ChannelSettings)
    .outerjoin(
        ChannelSettings,
        and_(
            ChannelSettings.workspace_id == ThemeRow.workspace_id,
            ChannelSettings.channel_id == ThemeRow.channel_id,
        ),
    )
    .where(ThemeRow.workspace_id == bindparam("workspace_id"), ThemeRow.id == bindparam("theme_id"))
)
"""Built once: every vote re-renders a theme message from it."""


async def get_theme_and_config(
    session: AsyncSession, *, workspace_id: int, theme_id: int
) -> tuple[Theme, ChannelConfig] | None:
    """A theme with its channel's settings, in one statement (for its channel message)."""
    params = {"workspace_id": workspace_id, "theme_id": theme_id}
    found = (await session.execute(_THEME_WITH_SETTINGS, params)).first()
    if found is None:
        return None
    row, step_name, votes, settings = found
    return _theme((row, step_name, votes)), channel_config(settings)


async def get_theme(session: AsyncSession, *, scope: Scope, number: int) -> Theme | None:
    """Theme K-``number`` of this channel; None for another channel's or workspace's."""
    return await _one_theme(
        session,
        ThemeRow.workspace_id == scope.workspace_id,
        ThemeRow.channel_id == scope.channel_id,
        ThemeRow.number == number,
    )


async def require_theme(session: AsyncSession, *, scope: Scope, number: int) -> Theme:
    """Like ``get_theme``, but NotFound saying why for a number that is not this channel's."""
    theme = await get_theme(session, scope=scope, number=number)
    if theme is not None:
        return theme
    ref = format_theme_ref(number)
    raise NotFound(f"There is no {ref} in this channel. `/kaizen list` shows the backlog.")


async def get_theme_by_id(
    session: AsyncSession, *, workspace_id: int, theme_id: int
) -> Theme | None:
    return await _one_theme(session, ThemeRow.workspace_id == workspace_id, ThemeRow.id == theme_id)


async def find_theme_by_message(
    session: AsyncSession, *, scope: Scope, message_ts: str
) -> Theme | None:
    """The theme posted as message ``message_ts`` in the scope's channel, if it is one."""
    return await _one_theme(
        session,
        ThemeRow.workspace_id == scope.workspace_id,
        ThemeRow.message_channel == scope.channel_id,
        ThemeRow.message_ts == message_ts,
    )


async def set_theme_message(
    session: AsyncSession, *, workspace_id: int, theme_id: int, channel_id: str, message_ts: str
) -> None:
    await session.execute(
        update(ThemeRow)
        .where(ThemeRow.workspace_id == workspace_id, ThemeRow.id == theme_id)
        .values(message_channel=channel_id, message_ts=message_ts)
    )


async def list_themes(
    session: AsyncSession, *, scope: Scope, open_only: bool = True, limit: int | None = None
) -> list[Theme]:
    """The channel's backlog, most votes first; on a tie the older theme first."""
    stmt = _select_themes().where(
        ThemeRow.workspace_id == scope.workspace_id, ThemeRow.channel_id == scope.channel_id
    )
    if open_only:
        stmt = stmt.where(ThemeRow.status.in_(_OPEN))
    stmt = _ranked(stmt)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_theme(r) for r in (await session.execute(stmt)).all()]


async def list_theme_channels(
    session: AsyncSession, *, workspace_id: int, limit: int = 20
) -> list[str]:
    """Channels of the workspace with open themes, the most recently active first."""
    rows = await session.execute(
        select(ThemeRow.channel_id)
        .where(ThemeRow.workspace_id == workspace_id, ThemeRow.status.in_(_OPEN))
        .group_by(ThemeRow.channel_id)
        .order_by(func.max(ThemeRow.updated_at).desc(), ThemeRow.channel_id)
        .limit(limit)
    )
    return [channel for (channel,) in rows.all()]


async def list_channel_themes(
    session: AsyncSession, *, workspace_id: int, channel_ids: Sequence[str], per_channel: int
) -> dict[str, list[Theme]]:
    """The top open themes of each of these channels, in one query (for App Home)."""
    if not channel_ids:
        return {}
    stmt = _ranked(
        _select_themes().where(
            ThemeRow.workspace_id == workspace_id,
            ThemeRow.channel_id.in_(list(channel_ids)),
            ThemeRow.status.in_(_OPEN),
        )
    )
    found: dict[str, list[Theme]] = {}
    for row in (await session.execute(stmt)).all():
        theme = _theme(row)
        top = found.setdefault(theme.channel_id, [])
        if len(top) < per_channel:
            top.append(theme)
    return found


async def change_theme_status(
    session: AsyncSession,
    *,
    scope: Scope,
    number: int,
    action: ThemeAction,
    actor_id: str,
    now: datetime,
) -> Theme:
    """Move a theme on and record who did it; NotAllowed when the rules or a race say no.

    The UPDATE only applies to the version that was read, so of two people pressing "done" at
    the same moment exactly one moves the theme; the other is told it changed under them.
    """
    theme = await require_theme(session, scope=scope, number=number)
    target = next_status(theme.status, action, number)
    result = await session.execute(
        update(ThemeRow)
        .where(
            ThemeRow.workspace_id == scope.workspace_id,
            ThemeRow.id == theme.id,
            ThemeRow.version == theme.version,
        )
        .values(status=target.value, version=ThemeRow.version + 1, updated_at=now)
    )
    if rows_changed(result) != 1:
        raise NotAllowed(f"Someone changed {theme.ref} at the same moment; look at it again.")
    session.add(
        EventRow(
            workspace_id=scope.workspace_id,
            theme_id=theme.id,
            actor_id=actor_id,
            from_status=theme.status.value,
            to_status=target.value,
            at=now,
        )
    )
    await session.flush()
    changed = await get_theme_by_id(session, workspace_id=scope.workspace_id, theme_id=theme.id)
    assert changed is not None
    return changed


async def list_theme_changes(
    session: AsyncSession, *, workspace_id: int, theme_id: int
) -> list[ThemeChange]:
    rows = await session.scalars(
        select(EventRow)
        .where(EventRow.workspace_id == workspace_id, EventRow.theme_id == theme_id)
        .order_by(EventRow.at, EventRow.id)
    )
    return [
        ThemeChange(
            actor_id=r.actor_id,
            from_status=ThemeStatus(r.from_status) if r.from_status else None,
            to_status=ThemeStatus(r.to_status),
            at=r.at,
        )
        for r in rows
    ]


# -- votes ------------------------------------------------------------------------------------


VOTE_LOCKS = 0x766F  # "vo": the namespace of the per-person vote-limit locks


async def count_open_votes(session: AsyncSession, *, scope: Scope, user_id: str) -> int:
    """The votes a person has on the channel's open themes (what a dot-vote limit counts)."""
    count = await session.scalar(
        select(func.count(VoteRow.id))
        .join(ThemeRow, ThemeRow.id == VoteRow.theme_id)
        .where(
            VoteRow.workspace_id == scope.workspace_id,
            VoteRow.user_id == user_id,
            ThemeRow.workspace_id == scope.workspace_id,
            ThemeRow.channel_id == scope.channel_id,
            ThemeRow.status.in_(_OPEN),
        )
    )
    return int(count or 0)


@dataclass(frozen=True, slots=True)
class ReactedMessage:
    """What a reaction on a channel message needs to know, read in one statement."""

    config: ChannelConfig
    """The channel's settings (its vote and waste emoji, its vote limit)."""
    theme: Theme | None
    """The theme the message was posted for, if it is a theme message."""
    ahead: int | None
    """How many of the channel's open themes rank ahead of the theme (with the extra votes
    asked for), as the backlog and App Home rank them; None when not asked."""
    note: bool = False
    """Whether a retro note was posted as the message: most messages people react to are
    neither a theme nor a note, and the reaction is then no vote at all."""


def _ranked_ahead(extra: int) -> Any:
    """Open themes of the theme's channel ranked ahead of it, were it ``extra`` votes more."""
    other = aliased(ThemeRow)
    older = or_(
        other.created_at < ThemeRow.created_at,
        and_(other.created_at == ThemeRow.created_at, other.id < ThemeRow.id),
    )
    # More votes, or as many and older (the tie-break).
    return (
        select(func.count(other.id))
        .where(
            other.workspace_id == ThemeRow.workspace_id,
            other.channel_id == ThemeRow.channel_id,
            other.status.in_(_OPEN),
            other.id != ThemeRow.id,
            other.votes + case((older, 1), else_=0) > ThemeRow.votes + extra,
        )
        .correlate(ThemeRow)
        .scalar_subquery()
    )


def _select_reacted(extra: int | None) -> Any:
    # One row always, settings and theme each where there is one: a channel without a
    # settings row has the defaults, most messages are no theme.
    one = select(literal(1).label("one")).subquery("one")
    return (
        # The rank reads every open theme of the channel: only when asked.
        select(
            ChannelSettings,
            ThemeRow,
            Step.name,
            ThemeRow.votes,
            literal(None) if extra is None else _ranked_ahead(extra),
            exists(
                select(NoteRow.id)
                .join(RetroRow, RetroRow.id == NoteRow.retro_id)
                .where(
                    NoteRow.workspace_id == bindparam("workspace_id"),
                    RetroRow.channel_id == bindparam("channel_id"),
                    NoteRow.message_ts == bindparam("message_ts"),
                )
            ),
        )
        .select_from(one)
        .outerjoin(
            ChannelSettings,
            and_(
                ChannelSettings.workspace_id == bindparam("workspace_id"),
                ChannelSettings.channel_id == bindparam("channel_id"),
            ),
        )
        .outerjoin(
            ThemeRow,
            and_(
                ThemeRow.workspace_id == bindparam("workspace_id"),
                ThemeRow.message_channel == bindparam("channel_id"),
                ThemeRow.message_ts == bindparam("message_ts"),
            ),
        )
        .outerjoin(Step, Step.id == ThemeRow.step_id)
    )


_REACTED = {extra: _select_reacted(extra) for extra in (None, 0, 1)}
"""Built once: every reaction reads one of them."""


async def find_reacted_message(
    session: AsyncSession, *, scope: Scope, message_ts: str, rank_with: int | None = None
) -> ReactedMessage:
    """The channel's settings and the theme posted as message ``message_ts``, if it is one;
    with its rank were it ``rank_with`` votes more, when that is given."""
    params = {"workspace_id": scope.workspace_id, "channel_id": scope.channel_id}
    found = (await session.execute(_REACTED[rank_with], params | {"message_ts": message_ts})).one()
    settings, row, step_name, votes, ahead, note = found
    theme = _theme((row, step_name, votes)) if row is not None else None
    ranked = None if ahead is None or theme is None else int(ahead)
    return ReactedMessage(
        config=channel_config(settings), theme=theme, ahead=ranked, note=bool(note)
    )


async def find_reacted_messages(
    session: AsyncSession | DriverTransaction, reactions: Sequence[tuple[Scope, str]]
) -> list[ReactedMessage]:
    """``find_reacted_message`` (unranked) for many (scope, message ts) at once, in two
    statements whatever their number, each built once per number of channels or messages: the
    channels' settings, then the theme messages; and a third for the retro notes among the
    messages that are no theme, if there are any. In a ``DriverTransaction`` (a batch's, on
    either database), each sent by the driver itself (``storage.driver.select_rows``)."""
    if not reactions:
        return []
    channels = sorted({(scope.workspace_id, scope.channel_id) for scope, _ in reactions})
    messages = sorted({(scope.workspace_id, scope.channel_id, ts) for scope, ts in reactions})
    settings, themes = await _read_reacted(session, channels, messages)
    others = [key for key in messages if key not in themes]
    notes = await _read_notes(session, others) if others else set()
    return [
        ReactedMessage(
            config=channel_config(settings.get((scope.workspace_id, scope.channel_id))),
            theme=themes.get(key),
            ahead=None,
            note=key in notes,
        )
        for scope, ts in reactions
        for key in [(scope.workspace_id, scope.channel_id, ts)]
    ]


_SETTINGS: Any = ChannelSettings.__table__
_THEMES: Any = ThemeRow.__table__
_SETTINGS_NAMES = tuple(c.key for c in _SETTINGS.c)
_THEME_NAMES = tuple(c.key for c in _THEMES.c)
"""The columns' names, in the order the statements select them (a column collection is
slow to walk, and a batch of votes reads both)."""


def _any_of(columns: Sequence[Any], count: int) -> Any:
    """``(a, b) = (?, ?) OR …``, ``count`` times, with parameters ``p{i}_{j}``."""
    return or_(
        *(
            tuple_(*columns)
            == tuple_(*(bindparam(f"p{i}_{j}", type_=c.type) for j, c in enumerate(columns)))
            for i in range(count)
        )
    )


def _settings_of(count: int) -> Any:
    return select(*_SETTINGS.c).where(
        _any_of((_SETTINGS.c.workspace_id, _SETTINGS.c.channel_id), count)
    )


def _themes_at(count: int) -> Any:
    steps = Step.__table__
    keys = (_THEMES.c.workspace_id, _THEMES.c.message_channel, _THEMES.c.message_ts)
    return (
        select(*_THEMES.c, steps.c.name, _THEMES.c.votes)
        .select_from(_THEMES.outerjoin(steps, steps.c.id == _THEMES.c.step_id))
        .where(_any_of(keys, count))
    )


def _params(keys: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    return {f"p{i}_{j}": value for i, key in enumerate(keys) for j, value in enumerate(key)}


async def _read_reacted(
    transaction: AsyncSession | DriverTransaction,
    channels: list[tuple[int, str]],
    messages: list[tuple[int, str, str]],
) -> tuple[dict[tuple[int, str], Any], dict[tuple[int, str | None, str | None], Theme]]:
    """The channels' settings rows and the themes posted as the messages."""
    settings: dict[tuple[int, str], Any] = {}
    rows = await select_rows(
        transaction,
        ("settings", len(channels)),
        partial(_settings_of, len(channels)),
        _params(channels),
    )
    for row in rows:
        found = SimpleNamespace(**dict(zip(_SETTINGS_NAMES, row, strict=True)))
        settings[(found.workspace_id, found.channel_id)] = found
    themes: dict[tuple[int, str | None, str | None], Theme] = {}
    rows = await select_rows(
        transaction,
        ("themes", len(messages)),
        partial(_themes_at, len(messages)),
        _params(messages),
    )
    columns = len(_THEME_NAMES)
    for row in rows:
        found = SimpleNamespace(**dict(zip(_THEME_NAMES, row[:columns], strict=True)))
        theme = _theme((found, *row[columns:]))
        themes[(found.workspace_id, theme.message_channel, theme.message_ts)] = theme
    return settings, themes


def _notes_at(count: int) -> Any:
    keys = (NoteRow.workspace_id, RetroRow.channel_id, NoteRow.message_ts)
    return select(*keys).join(RetroRow, RetroRow.id == NoteRow.retro_id).where(_any_of(keys, count))


async def _read_notes(
    transaction: AsyncSession | DriverTransaction, messages: list[tuple[int, str, str]]
) -> set[tuple[int, str, str]]:
    """The messages among ``messages`` that were posted as retro notes."""
    rows = await select_rows(
        transaction,
        ("notes", len(messages)),
        partial(_notes_at, len(messages)),
        _params(messages),
    )
    return {(int(ws), str(channel), str(ts)) for ws, channel, ts in rows}


_VOTES: Any = VoteRow.__table__
_ADD_VOTE = {
    name: module.insert(_VOTES).on_conflict_do_nothing().returning(_VOTES.c.id)
    for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
}
"""INSERT … ON CONFLICT DO NOTHING RETURNING id, built once."""


async def add_vote(
    session: AsyncSession,
    *,
    scope: Scope,
    theme: Theme,
    user_id: str,
    limit: int | None,
    now: datetime,
) -> VoteOutcome:
    """One vote per person and theme; over the channel's limit the vote is not kept."""
    if not theme.is_open:
        return VoteOutcome.CLOSED
    if limit is not None:
        # Counted after the insert: without the lock, two votes at once could each see only
        # themselves and both stay over the limit.
        key = f"{scope.workspace_id}:{scope.channel_id}:{user_id}"
        await advisory_lock(session, space=VOTE_LOCKS, key=key)
    values = {
        "workspace_id": scope.workspace_id,
        "theme_id": theme.id,
        "user_id": user_id,
        "created_at": now,
    }
    inserted = await session.execute(_ADD_VOTE[session.get_bind().dialect.name], values)
    new_id = inserted.scalar_one_or_none()
    if new_id is None:
        return VoteOutcome.ALREADY_COUNTED
    if limit is not None:
        # Counted with the new vote in, so two votes racing cannot both slip under the limit.
        others = await count_open_votes(session, scope=scope, user_id=user_id) - 1
        if over_vote_limit(others, limit):
            await session.execute(delete(VoteRow).where(VoteRow.id == new_id))
            return VoteOutcome.OVER_LIMIT
    return VoteOutcome.COUNTED


_ADD_VOTES = {
    "postgresql": postgresql.insert(_VOTES)
    .on_conflict_do_nothing()
    .returning(_VOTES.c.theme_id, _VOTES.c.user_id)
}
"""The same for many at once, in a PostgreSQL session (SQLite's driver sends its own):
SQLAlchemy sends the rows as one multi-row INSERT."""


@dataclass(frozen=True, slots=True)
class NewVote:
    """A vote on an open theme of a channel without a vote limit."""

    workspace_id: int
    theme_id: int
    user_id: str
    now: datetime


async def add_votes(
    session: AsyncSession | DriverTransaction, votes: Sequence[NewVote]
) -> list[bool]:
    """Many votes in one statement (``add_vote`` without a limit, on open themes): True for
    each vote counted now, False for a person's second vote on a theme (before, or earlier in
    ``votes``)."""
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for vote in votes:
        rows.setdefault((vote.theme_id, vote.user_id), _vote_values(vote))
    if not rows:
        return []
    # In key order, so that two processes inserting the same votes cannot deadlock on them.
    ordered = [rows[k] for k in sorted(rows)]
    added = await insert_many(
        session,
        _VOTES,
        ordered,
        returning=("theme_id", "user_id"),
        skip_conflicts=True,
        otherwise=_ADD_VOTES,
    )
    counted = {(int(theme), str(user)) for theme, user in added}
    answers = []
    for vote in votes:
        key = (vote.theme_id, vote.user_id)
        answers.append(key in counted)
        counted.discard(key)  # a second copy of it in ``votes`` is a repeat
    return answers


async def claim_and_add_votes(
    session: AsyncSession | DriverTransaction,
    claims: Sequence[tuple[int, str, datetime]],
    votes: Sequence[tuple[NewVote, str | None]],
) -> tuple[set[tuple[int, str]], list[bool]]:
    """``claim_deliveries`` (workspace id, key, received at), then ``add_votes`` for the votes
    (a vote, its delivery key or None) whose delivery was claimed now in the vote's workspace,
    or that have none. The (workspace id, key) pairs claimed now, and for each vote whether it
    counted now: False for a person's second vote on a theme and for a vote whose delivery was
    claimed before. Give each delivery key once.

    In a ``DriverTransaction`` on PostgreSQL, the claims and the votes go in one statement,
    atomic by itself (``claim_then_insert``), so the batch needs no transaction of its own.
    """
    if votes and isinstance(session, DriverTransaction) and session.claims_with_insert:
        # In key order, so that two processes inserting the same votes cannot deadlock.
        ordered = sorted(votes, key=lambda given: (given[0].theme_id, given[0].user_id))
        claimed, added = await claim_then_insert(
            session,
            claims,
            _VOTES,
            [(_vote_values(vote), delivery) for vote, delivery in ordered],
            returning=("theme_id", "user_id"),
            skip_conflicts=True,
        )
        counted = {(int(theme), str(user)) for theme, user in added}
        answers = []
        for vote, delivery in votes:
            key = (vote.theme_id, vote.user_id)
            fresh = delivery is None or delivery_pair(vote.workspace_id, delivery) in claimed
            answers.append(fresh and key in counted)
            if fresh:
                counted.discard(key)  # a second copy of it in ``votes`` is a repeat
        return claimed, answers
    claimed = await claim_deliveries(session, claims)
    eligible = [
        k
        for k, (vote, delivery) in enumerate(votes)
        if delivery is None or delivery_pair(vote.workspace_id, delivery) in claimed
    ]
    answers = [False] * len(votes)
    added_now = await add_votes(session, [votes[k][0] for k in eligible])
    for k, new in zip(eligible, added_now, strict=True):
        answers[k] = new
    return claimed, answers


def _vote_values(vote: NewVote) -> dict[str, Any]:
    return {
        "workspace_id": vote.workspace_id,
        "theme_id": vote.theme_id,
        "user_id": vote.user_id,
        "created_at": vote.now,
    }


async def remove_vote(
    session: AsyncSession, *, workspace_id: int, theme_id: int, user_id: str
) -> bool:
    """False when there was no such vote (a removal after a vote over the limit, a repeat)."""
    result = await session.execute(
        delete(VoteRow).where(
            VoteRow.workspace_id == workspace_id,
            VoteRow.theme_id == theme_id,
            VoteRow.user_id == user_id,
        )
    )
    return rows_changed(result) > 0


async def list_voters(session: AsyncSession, *, workspace_id: int, theme_id: int) -> list[str]:
    rows = await session.scalars(
        select(VoteRow.user_id)
        .where(VoteRow.workspace_id == workspace_id, VoteRow.theme_id == theme_id)
        .order_by(VoteRow.created_at, VoteRow.id)
    )
    return list(rows)


# -- action items -----------------------------------------------------------------------------


def _select_actions() -> Any:
    return select(ActionRow, ThemeRow.number).outerjoin(ThemeRow, ThemeRow.id == ActionRow.theme_id)


def _action(found: Sequence[Any]) -> ActionItem:
    row, number = found
    return ActionItem(
        id=row.id,
        channel_id=row.channel_id,
        theme_id=row.theme_id,
        theme_number=number,
        text=row.text,
        owner_id=row.owner_id,
        due_date=row.due_date,
        status=ActionStatus(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        done_at=row.done_at,
    )


async def get_action_item(
    session: AsyncSession, *, workspace_id: int, item_id: int
) -> ActionItem | None:
    found = (
        await session.execute(
            _select_actions().where(ActionRow.workspace_id == workspace_id, ActionRow.id == item_id)
        )
    ).first()
    return _action(found) if found else None


async def add_action_item(
    session: AsyncSession, *, scope: Scope, item: NewActionItem, created_by: str, now: datetime
) -> ActionItem:
    row = ActionRow(
        workspace_id=scope.workspace_id,
        channel_id=scope.channel_id,
        theme_id=item.theme_id,
        text=item.text,
        owner_id=item.owner_id,
        due_date=item.due_date,
        status=ActionStatus.OPEN.value,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    found = await get_action_item(session, workspace_id=scope.workspace_id, item_id=row.id)
    assert found is not None
    return found


async def complete_action_item(
    session: AsyncSession,
    *,
    workspace_id: int,
    item_id: int,
    channel_id: str | None,
    now: datetime,
) -> tuple[ActionItem, bool] | None:
    """Mark an item done: the item and whether this call changed it; None if there is none.

    ``channel_id`` (a button in a channel message) must be the item's channel; from App Home
    the workspace is the scope.
    """
    where = [ActionRow.workspace_id == workspace_id, ActionRow.id == item_id]
    if channel_id is not None:
        where.append(ActionRow.channel_id == channel_id)
    result = await session.execute(
        update(ActionRow)
        .where(*where, ActionRow.status == ActionStatus.OPEN.value)
        .values(status=ActionStatus.DONE.value, done_at=now)
    )
    changed = rows_changed(result) > 0
    found = (await session.execute(_select_actions().where(*where))).first()
    return (_action(found), changed) if found else None


_THEME_ACTIONS = (
    _select_actions()
    .where(
        ActionRow.workspace_id == bindparam("workspace_id"),
        ActionRow.theme_id == bindparam("theme_id"),
    )
    .order_by(
        case((ActionRow.status == ActionStatus.OPEN.value, 0), else_=1),
        ActionRow.due_date.is_(None),
        ActionRow.due_date,
        ActionRow.id,
    )
)
"""Built once: every theme message shows them."""


async def list_theme_actions(
    session: AsyncSession, *, workspace_id: int, theme_id: int
) -> list[ActionItem]:
    """A theme's action items: open ones first, then by due date."""
    params = {"workspace_id": workspace_id, "theme_id": theme_id}
    return [_action(r) for r in (await session.execute(_THEME_ACTIONS, params)).all()]


async def list_owner_actions(
    session: AsyncSession, *, workspace_id: int, owner_id: str, today: date, limit: int = 20
) -> list[ActionItem]:
    """A person's open action items: overdue first, then by due date, undated last."""
    stmt = (
        _select_actions()
        .where(
            ActionRow.workspace_id == workspace_id,
            ActionRow.owner_id == owner_id,
            ActionRow.status == ActionStatus.OPEN.value,
        )
        .order_by(
            case((ActionRow.due_date < today, 0), else_=1),
            ActionRow.due_date.is_(None),
            ActionRow.due_date,
            ActionRow.id,
        )
        .limit(limit)
    )
    return [_action(r) for r in (await session.execute(stmt)).all()]


# -- subscriptions ----------------------------------------------------------------------------


async def add_subscription(
    session: AsyncSession, *, scope: Scope, user_id: str, now: datetime
) -> bool:
    """False when the person was subscribed already."""
    new_id = await insert_ignoring_conflict(
        session,
        Subscription.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": scope.workspace_id,
            "channel_id": scope.channel_id,
            "user_id": user_id,
            "created_at": now,
        },
    )
    return new_id is not None


async def remove_subscription(session: AsyncSession, *, scope: Scope, user_id: str) -> bool:
    result = await session.execute(
        delete(Subscription).where(
            Subscription.workspace_id == scope.workspace_id,
            Subscription.channel_id == scope.channel_id,
            Subscription.user_id == user_id,
        )
    )
    return rows_changed(result) > 0


# -- export -----------------------------------------------------------------------------------


async def get_export(
    session: AsyncSession, *, workspace_id: int, channel_id: str | None = None
) -> KaizenExport:
    """A workspace's data, or one channel's, oldest first, for the CSV export."""
    themes_stmt = _select_themes().where(ThemeRow.workspace_id == workspace_id)
    votes_stmt = (
        select(ThemeRow.number, ThemeRow.channel_id, VoteRow.user_id, VoteRow.created_at)
        .join(ThemeRow, ThemeRow.id == VoteRow.theme_id)
        .where(VoteRow.workspace_id == workspace_id)
    )
    actions_stmt = _select_actions().where(ActionRow.workspace_id == workspace_id)
    if channel_id is not None:
        themes_stmt = themes_stmt.where(ThemeRow.channel_id == channel_id)
        votes_stmt = votes_stmt.where(ThemeRow.channel_id == channel_id)
        actions_stmt = actions_stmt.where(ActionRow.channel_id == channel_id)
    themes = [_theme(r) for r in (await session.execute(themes_stmt.order_by(ThemeRow.number)))]
    votes = [
        Vote(theme_number=n, channel_id=c, user_id=u, created_at=at)
        for n, c, u, at in await session.execute(
            votes_stmt.order_by(VoteRow.created_at, VoteRow.id)
        )
    ]
    actions = [
        _action(r)
        for r in await session.execute(actions_stmt.order_by(ActionRow.created_at, ActionRow.id))
    ]
    observations = await waste_store.list_all_observations(
        session, workspace_id=workspace_id, channel_id=channel_id
    )
    retros = await retro_store.list_retros_with_notes(
        session, workspace_id=workspace_id, channel_id=channel_id
    )
    return KaizenExport(
        observations=observations, themes=themes, votes=votes, actions=actions, retros=retros
    )


async def list_unposted_themes(
    session: AsyncSession, *, created_after: datetime, created_before: datetime, limit: int = 50
) -> list[tuple[int, Theme]]:
    """Open themes never posted in their channel, in every workspace, oldest first, each with
    its workspace id: for posting them again (a failed post must not drop a theme)."""
    stmt = (
        _select_themes()
        .add_columns(ThemeRow.workspace_id)
        .where(
            ThemeRow.message_ts.is_(None),
            ThemeRow.status.in_(_OPEN),
            ThemeRow.created_at >= created_after,
            ThemeRow.created_at < created_before,
        )
        .order_by(ThemeRow.created_at, ThemeRow.id)
        .limit(limit)
    )
    return [(int(r[3]), _theme(r[:3])) for r in (await session.execute(stmt)).all()]


# -- for the digest and the scheduled jobs ----------------------------------------------------


async def list_themes_by_ids(
    session: AsyncSession, *, workspace_id: int, theme_ids: Sequence[int]
) -> dict[int, Theme]:
    if not theme_ids:
        return {}
    stmt = _select_themes().where(
        ThemeRow.workspace_id == workspace_id, ThemeRow.id.in_(list(theme_ids))
    )
    return {t.id: t for t in (_theme(r) for r in (await session.execute(stmt)).all())}


async def list_theme_moves(
    session: AsyncSession, *, scope: Scope, start: datetime, end: datetime, statuses: Sequence[str]
) -> list[tuple[int, str]]:
    """(theme id, new status) of the channel's themes moved to ``statuses`` in [start, end)."""
    rows = await session.execute(
        select(EventRow.theme_id, EventRow.to_status)
        .join(ThemeRow, ThemeRow.id == EventRow.theme_id)
        .where(
            EventRow.workspace_id == scope.workspace_id,
            ThemeRow.workspace_id == scope.workspace_id,
            ThemeRow.channel_id == scope.channel_id,
            EventRow.to_status.in_(list(statuses)),
            EventRow.at >= start,
            EventRow.at < end,
        )
        .order_by(EventRow.at, EventRow.id)
    )
    return [(theme_id, status) for theme_id, status in rows.all()]


async def list_judged_themes(
    session: AsyncSession, *, scope: Scope, first_day: date, last_day: date
) -> list[Theme]:
    """The channel's themes whose hypothesis was judged with a check date in the days given."""
    stmt = _select_themes().where(
        ThemeRow.workspace_id == scope.workspace_id,
        ThemeRow.channel_id == scope.channel_id,
        ThemeRow.hyp_verdict.is_not(None),
        ThemeRow.hyp_check_date >= first_day,
        ThemeRow.hyp_check_date <= last_day,
    )
    return [_theme(r) for r in (await session.execute(stmt.order_by(ThemeRow.number))).all()]


async def list_due_hypotheses(
    session: AsyncSession, *, on_or_before: date, limit: int = 500
) -> list[tuple[int, Theme]]:
    """(workspace id, theme) of every unjudged hypothesis checked on or before the day given."""
    stmt = (
        _select_themes()
        .where(
            ThemeRow.hyp_metric.is_not(None),
            ThemeRow.hyp_verdict.is_(None),
            ThemeRow.hyp_check_date <= on_or_before,
        )
        .order_by(ThemeRow.hyp_check_date, ThemeRow.id)
        .limit(limit)
    )
    found = (await session.execute(stmt)).all()
    return [(r[0].workspace_id, _theme(r)) for r in found]


async def set_verdict(
    session: AsyncSession,
    *,
    workspace_id: int,
    theme_id: int,
    verdict: str,
    measured: float | None,
    now: datetime,
) -> None:
    await session.execute(
        update(ThemeRow)
        .where(ThemeRow.workspace_id == workspace_id, ThemeRow.id == theme_id)
        .values(hyp_verdict=verdict, hyp_measured=measured, updated_at=now)
    )


async def count_open_themes(session: AsyncSession, *, scope: Scope) -> int:
    count = await session.scalar(
        select(func.count(ThemeRow.id)).where(
            ThemeRow.workspace_id == scope.workspace_id,
            ThemeRow.channel_id == scope.channel_id,
            ThemeRow.status.in_(_OPEN),
        )
    )
    return int(count or 0)


async def list_overdue_actions(
    session: AsyncSession, *, scope: Scope, today: date, limit: int = 5
) -> tuple[list[ActionItem], int]:
    """The channel's open items due before ``today`` (oldest first, up to ``limit``); how many."""
    where = (
        ActionRow.workspace_id == scope.workspace_id,
        ActionRow.channel_id == scope.channel_id,
        ActionRow.status == ActionStatus.OPEN.value,
        ActionRow.due_date < today,
    )
    stmt = (
        select(ActionRow, ThemeRow.number, func.count().over())
        .outerjoin(ThemeRow, ThemeRow.id == ActionRow.theme_id)
        .where(*where)
        .order_by(ActionRow.due_date, ActionRow.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [_action((row, number)) for row, number, _ in rows], int(rows[0][2]) if rows else 0


async def list_actions_to_remind(
    session: AsyncSession, *, due_by: date, limit: int = 2000
) -> list[tuple[int, ActionItem]]:
    """(workspace id, item) of open items due on or before ``due_by`` not yet reminded that day.

    ``due_by`` is the latest local date anywhere (UTC + 14 h); each owner's own date is checked
    by the caller.
    """
    stmt = (
        _select_actions()
        .where(
            ActionRow.status == ActionStatus.OPEN.value,
            ActionRow.due_date <= due_by,
            (ActionRow.last_reminded_on.is_(None)) | (ActionRow.last_reminded_on < due_by),
        )
        .order_by(ActionRow.workspace_id, ActionRow.owner_id, ActionRow.due_date, ActionRow.id)
        .limit(limit)
    )
    found = (await session.execute(stmt)).all()
    return [(r[0].workspace_id, _action(r)) for r in found]


async def mark_reminded(
    session: AsyncSession, *, workspace_id: int, item_ids: Sequence[int], on: date
) -> None:
    await session.execute(
        update(ActionRow)
        .where(ActionRow.workspace_id == workspace_id, ActionRow.id.in_(list(item_ids)))
        .values(last_reminded_on=on)
    )
