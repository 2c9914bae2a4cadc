"""Votes: the channel's vote emoji on a theme message casts one, removing it takes it back.

A reaction is read, claimed and counted in one transaction: the channel's emoji settings, the
theme the message is, the delivery's claim (a retried event counts once) and the vote itself.
Votes that arrive together share that transaction (``VoteWriter``, a ``bot.usecases.writer``
group commit), each answered only after it commits; a removal has a transaction of its own. On
PostgreSQL such a batch needs no transaction around it: its reads, then one statement, atomic
by itself, that claims the deliveries and stores the votes whose delivery it claimed.
What follows the commit runs after the reply: the theme message shows the new count (paced and
coalesced per theme, see ``bot.usecases.themes``), and the voter's App Home is published again
only when the vote changed what it shows (the channel's top themes) and they opened it lately.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.kaizen import Theme, VoteOutcome
from bot.domain.votes import is_same_emoji, vote_limit_message
from bot.usecases.home import opened_home_lately, refresh_home
from bot.usecases.notify import tell
from bot.usecases.themes import refresh_theme_soon
from bot.usecases.work import Origin, Reaction, Work, retried, workspace_transaction
from bot.usecases.writer import BatchWorkspaces, GroupWriter, writer_for
from bot.views.common import build_error
from bot.views.home import THEMES_PER_CHANNEL
from storage import kaizen as store
from storage.deliveries import delivery_pair
from storage.driver import DriverTransaction
from storage.workspaces import Scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reacted:
    """An emoji added to or removed from a message, as the event told it."""

    origin: Origin
    channel: str
    user: str
    message_ts: str
    emoji: str
    delivery: str | None
    """The event id: a retried delivery is handled once."""


class Elsewhere(StrEnum):
    """What a reaction that is no vote on a theme may still be."""

    WASTE = "waste"
    """The channel's waste emoji: a waste log."""
    NOTE = "note"
    """The vote emoji on a message that is no theme: perhaps a retro note."""


@dataclass(frozen=True, slots=True)
class NotATheme:
    """A reaction for another feature, with the workspace it was resolved in."""

    to: Elsewhere
    reaction: Reaction


def is_vote_emoji(reaction: str, config: ChannelConfig) -> bool:
    return is_same_emoji(reaction, config.vote_emoji)


def _not_counted(outcome: VoteOutcome, theme: Theme, limit: int | None) -> str:
    if outcome is VoteOutcome.CLOSED:
        status = theme.status.value.replace("_", " ")
        return f"{theme.ref} is {status}: votes on it no longer count."
    return f"{vote_limit_message(limit or 0)} Your vote on {theme.ref} was not counted."


@dataclass(frozen=True, slots=True)
class _Target:
    reaction: Reaction
    config: ChannelConfig
    theme: Theme | None
    """None when the emoji is no vote or the message is no theme, or on a repeated delivery."""
    elsewhere: NotATheme | None
    on_home: bool
    """Whether the theme shows on App Home (among its channel's top themes) ranked with the
    votes asked for; False when not asked."""


def _aim(reaction: Reaction, emoji: str, found: store.ReactedMessage) -> _Target:
    """What the reaction is for, its delivery not yet claimed."""
    config, theme = found.config, found.theme
    on_home = found.ahead is not None and found.ahead < THEMES_PER_CHANNEL
    if is_same_emoji(emoji, config.waste_emoji):
        return _Target(reaction, config, None, NotATheme(Elsewhere.WASTE, reaction), False)
    if not is_vote_emoji(emoji, config):
        return _Target(reaction, config, None, None, False)
    if theme is None:
        # A vote emoji on a retro note is the retro's; on any other message, nothing.
        note = NotATheme(Elsewhere.NOTE, reaction) if found.note else None
        return _Target(reaction, config, None, note, False)
    return _Target(reaction, config, theme, None, on_home)


def _repeat(target: _Target) -> _Target:
    """A repeated delivery of a vote: nothing to do."""
    return _Target(target.reaction, target.config, None, None, False)


def _reaction(work: Work, reacted: Reacted) -> Reaction:
    return _reaction_in(work.workspace_id, reacted)


def _reaction_in(workspace_id: int, reacted: Reacted) -> Reaction:
    scope = Scope(workspace_id, reacted.channel)
    return Reaction(reacted.origin, scope, reacted.user, reacted.message_ts, reacted.delivery)


async def _target(work: Work, reacted: Reacted, *, rank_with: int | None) -> _Target:
    """What the reaction is for, read in the vote's own transaction; the delivery is claimed
    only when it is a vote on a theme, so a late retry of an old removal cannot take back a
    newer vote."""
    reaction = _reaction(work, reacted)
    found = await store.find_reacted_message(
        work.session, scope=reaction.scope, message_ts=reacted.message_ts, rank_with=rank_with
    )
    target = _aim(reaction, reacted.emoji, found)
    if target.theme is not None and not await work.first_delivery(reacted.delivery):
        return _repeat(target)
    return target


@dataclass(frozen=True, slots=True)
class _Vote:
    """A reaction added, handed to the ``VoteWriter``."""

    origin: Origin
    deps: Deps
    reacted: Reacted
    rank_with: int | None
    now: datetime


@dataclass(frozen=True, slots=True)
class _Cast:
    target: _Target
    outcome: VoteOutcome | None
    """None when the reaction is no vote on a theme, or a repeated delivery."""


async def _cast(work: Work, vote: _Vote) -> _Cast:
    target = await _target(work, vote.reacted, rank_with=vote.rank_with)
    if (theme := target.theme) is None:
        return _Cast(target, None)
    outcome = await store.add_vote(
        work.session,
        scope=target.reaction.scope,
        theme=theme,
        user_id=vote.reacted.user,
        limit=target.config.vote_limit,
        now=vote.now,
    )
    return _Cast(target, outcome)


@retried
async def _cast_alone(deps: Deps, vote: _Vote) -> _Cast:
    async with workspace_transaction(deps, vote.origin) as work:
        return await _cast(work, vote)


class VoteWriter(GroupWriter[_Vote, _Cast]):
    """One writer per database and process for votes: the reactions added meanwhile are read,
    claimed and counted in one transaction, with a few statements for all of them (the
    channels' settings and theme messages, the deliveries' claims, the votes); a vote in a
    channel with a vote limit (a lock and a count per person) or one that must be ranked for
    the voter's Home is counted on its own, in the same transaction.

    A batch whose workspaces are cached and whose votes need no rank is read and written by the
    driver alone (``Database.run_batch``), on PostgreSQL with one write statement and no
    transaction (``store.claim_and_add_votes``): three round trips to the server where BEGIN,
    two inserts and COMMIT made six. Should a vote limit turn up in what it read, the batch is
    counted in a session instead, before anything was written.
    """

    name = "kaizen.vote_writer"
    # A vote's batch waits on PostgreSQL for three round trips (two reads, the write): one
    # batch at a time, the process waited on them, its core half idle.
    batches_at_once = 2
    batch_failed = "kaizen.vote_batch_failed"

    async def store_alone(self, item: _Vote) -> _Cast:
        return await _cast_alone(item.deps, item)

    async def store_together(self, items: list[_Vote]) -> list[_Cast]:
        workspaces = BatchWorkspaces(self.db)
        unranked = all(item.rank_with is None for item in items)
        refs = workspaces.cached(item.origin for item in items) if unranked else None
        if refs is not None:
            reactions = [
                _reaction_in(ref.id, item.reacted) for ref, item in zip(refs, items, strict=True)
            ]
            counted = await self.db.run_batch(
                lambda driver: _count_together(driver, reactions, items), one_write=True
            )
            if counted is not None:
                return [cast for cast in counted if cast is not None]
        async with self.db.transaction(write_lock=True) as session:
            works = [
                Work(session, ref.id, item.deps, ref.reporter_secret)
                for item in items
                for ref in [await workspaces.get(session, item.origin, item.now)]
            ]
            reactions = [
                _reaction(work, item.reacted) for work, item in zip(works, items, strict=True)
            ]
            casts = await _count_together(session, reactions, items)
            assert casts is not None
            # Ranked for a Home: after the others, each as if in a transaction of its own.
            for k, (work, item) in enumerate(zip(works, items, strict=True)):
                if item.rank_with is not None:
                    casts[k] = await _cast(work, item)
        workspaces.committed()
        done = [cast for cast in casts if cast is not None]
        assert len(done) == len(items)
        return done


async def _count_together(
    session: AsyncSession | DriverTransaction,
    reactions: list[Reaction],
    items: list[_Vote],
) -> list[_Cast | None] | None:
    """The votes not ranked for a Home (None in their stead for the others). In a
    ``DriverTransaction`` (no session to lock in), None when one of them is within a vote
    limit: then nothing was written."""
    mine = [k for k, item in enumerate(items) if item.rank_with is None]
    found = await store.find_reacted_messages(
        session, [(reactions[k].scope, reactions[k].message_ts) for k in mine]
    )
    targets = {
        k: _aim(reactions[k], items[k].reacted.emoji, f) for k, f in zip(mine, found, strict=True)
    }
    votes = [k for k in mine if targets[k].theme is not None]
    if isinstance(session, DriverTransaction) and any(_limited(targets[k]) for k in votes):
        return None
    # A second copy of a delivery in the batch is a repeat, whatever became of the first.
    firsts: list[int] = []
    seen: set[tuple[int, str]] = set()
    for k in votes:
        if delivery := items[k].reacted.delivery:
            key = delivery_pair(reactions[k].scope.workspace_id, delivery)
            if key in seen:
                targets[k] = _repeat(targets[k])
                continue
            seen.add(key)
        firsts.append(k)
    plain = [k for k in firsts if _theme_of(targets[k]).is_open and not _limited(targets[k])]
    claimed, counted = await store.claim_and_add_votes(
        session,
        [
            (reactions[k].scope.workspace_id, delivery, items[k].now)
            for k in firsts
            if (delivery := items[k].reacted.delivery)
        ],
        [
            (
                store.NewVote(
                    reactions[k].scope.workspace_id,
                    _theme_of(targets[k]).id,
                    items[k].reacted.user,
                    items[k].now,
                ),
                items[k].reacted.delivery,
            )
            for k in plain
        ],
    )
    fresh: set[int] = set()
    for k in firsts:
        delivery = items[k].reacted.delivery
        if delivery and delivery_pair(reactions[k].scope.workspace_id, delivery) not in claimed:
            targets[k] = _repeat(targets[k])
        else:
            fresh.add(k)
    outcomes: dict[int, VoteOutcome] = {
        k: VoteOutcome.COUNTED if new else VoteOutcome.ALREADY_COUNTED
        for k, new in zip(plain, counted, strict=True)
        if k in fresh
    }
    outcomes.update({k: VoteOutcome.CLOSED for k in fresh if not _theme_of(targets[k]).is_open})
    # Votes within a limit: one by one, in the order of their locks.
    rest = sorted(
        (k for k in fresh if k not in outcomes),
        key=lambda k: (
            reactions[k].scope.workspace_id,
            reactions[k].scope.channel_id,
            items[k].reacted.user,
        ),
    )
    for k in rest:
        assert isinstance(session, AsyncSession)
        outcomes[k] = await store.add_vote(
            session,
            scope=reactions[k].scope,
            theme=_theme_of(targets[k]),
            user_id=items[k].reacted.user,
            limit=targets[k].config.vote_limit,
            now=items[k].now,
        )
    casts: list[_Cast | None] = [None] * len(items)
    for k in mine:
        casts[k] = _Cast(targets[k], outcomes.get(k))
    return casts


def _limited(target: _Target) -> bool:
    """A vote on an open theme in a channel with a vote limit."""
    theme = target.theme
    return theme is not None and theme.is_open and target.config.vote_limit is not None


def _theme_of(target: _Target) -> Theme:
    assert target.theme is not None
    return target.theme


async def cast_vote(client: AsyncWebClient, deps: Deps, reacted: Reacted) -> NotATheme | None:
    """A vote on a theme message: one per person, within the channel's limit; counted with
    the others that arrive meanwhile (``VoteWriter``), told only after that commit.

    Returns where the reaction belongs when it is no vote on a theme (None when it was handled
    here, or is ignored).
    """
    origin, user = reacted.origin, reacted.user
    # Ranked as if the vote were in, and only for a Home that may be looked at again soon.
    rank_with = 1 if opened_home_lately(deps, origin, user) else None
    vote = _Vote(origin, deps, reacted, rank_with, deps.now())
    cast = await writer_for(deps.db, VoteWriter).submit(vote)
    target, outcome = cast.target, cast.outcome
    if (theme := target.theme) is None or outcome is None:
        return target.elsewhere
    scope, limit = target.reaction.scope, target.config.vote_limit
    logger.info(
        "kaizen.vote",
        extra={
            "team": origin.team_id,
            "channel": scope.channel_id,
            "user": user,
            "outcome": outcome.value,
        },
    )
    if outcome is VoteOutcome.COUNTED:
        refresh_theme_soon(client, deps, origin, theme.id)
        if target.on_home:
            refresh_home(client, deps, origin, user)
    elif outcome in (VoteOutcome.OVER_LIMIT, VoteOutcome.CLOSED):
        text = _not_counted(outcome, theme, limit)
        await tell(client, user=user, channel=scope.channel_id, message=build_error(text))
    return None


async def remove_vote(client: AsyncWebClient, deps: Deps, reacted: Reacted) -> NotATheme | None:
    """The vote emoji taken off a theme message takes the person's vote back: after the votes
    handed to the writer before it, so a vote taken back at once is not counted after all."""
    await writer_for(deps.db, VoteWriter).settle()
    return await _remove_vote(client, deps, reacted)


@retried
async def _remove_vote(client: AsyncWebClient, deps: Deps, reacted: Reacted) -> NotATheme | None:
    # Ranked before the removal: a theme that leaves the top changes the Home too.
    rank_with = 0 if opened_home_lately(deps, reacted.origin, reacted.user) else None
    async with workspace_transaction(deps, reacted.origin) as work:
        target = await _target(work, reacted, rank_with=rank_with)
        if (theme := target.theme) is None:
            return target.elsewhere
        removed = await store.remove_vote(
            work.session, workspace_id=work.workspace_id, theme_id=theme.id, user_id=reacted.user
        )
    if removed:
        refresh_theme_soon(client, deps, reacted.origin, theme.id)
        if target.on_home:
            refresh_home(client, deps, reacted.origin, reacted.user)
    return None
