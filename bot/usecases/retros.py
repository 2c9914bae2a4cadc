"""Async retros: start, notes, nudges, votes, and moving a retro from phase to phase.

The Slack handlers (``handlers/retro.py``, the reaction router) and the phase job
(``jobs/retro_phases.py``) both call these. A phase moves by a conditional update, so only one
caller wins and only the winner posts. Notes are never logged or shown to anyone but their
author before the reveal.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deps import Deps
from bot.domain.errors import NotAllowed, NotFound
from bot.domain.kaizen import (
    ActionItem,
    NewActionItem,
    NewTheme,
    check_due_date,
    local_date,
)
from bot.domain.retro import (
    TEMPLATE_COLUMNS,
    ActionLine,
    Lookback,
    Note,
    Retro,
    RetroPhase,
    RetroTemplate,
    VerdictLine,
    VoteResult,
    WaitCheck,
    check_collecting,
    check_facilitator,
    clean_note,
    costliest,
    lookback_window,
    next_phase,
    over_limit_message,
    rank_notes,
    waste_totals,
)
from bot.domain.themes import MAX_TITLE, format_theme_ref
from bot.domain.vsm import measure_waits
from bot.domain.wastes import WasteCategory
from bot.usecases.notify import NOT_A_MEMBER, tell
from bot.usecases.work import Origin, Reaction, Work, workspace_transaction
from bot.views.common import Message, build_error, escape, with_invite_hint
from bot.views.retro import (
    build_announcement,
    build_note_message,
    build_note_stored,
    build_nudge,
    build_nudged,
    build_stalled,
    build_summary,
    build_voting_open,
)
from storage import retro as store
from storage.channels import get_channel_config
from storage.vsm import list_steps
from storage.waste import list_observations, list_waits_by_step
from storage.workspaces import Scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetroRef:
    """A retro named by a button or modal: only found in the workspace and channel it names."""

    channel_id: str
    retro_id: int
    note_id: int | None = None

    @classmethod
    def read(cls, value: str | None, channel: str | None = None) -> RetroRef:
        """``C…:retro[:note]`` from a button; NotFound when malformed or, pressed in a channel,
        naming another channel (a button copied from elsewhere acts on nothing)."""
        parts = (value or "").split(":")
        if (
            len(parts) not in (2, 3)
            or not all(p.isdigit() for p in parts[1:])
            or not re.fullmatch(TEAM_CHANNEL_ID, parts[0])
            or (channel is not None and channel[:1] in "CG" and channel != parts[0])
        ):
            raise NotFound(GONE)
        return cls(parts[0], int(parts[1]), int(parts[2]) if len(parts) == 3 else None)


TEAM_CHANNEL_ID = r"[CG][A-Z0-9]{1,31}"
GONE = "That retro is not in this channel any more."
NO_OPEN_RETRO = (
    "There is no retro collecting notes or votes in this channel. Start one with `/retro start`."
)


async def load_retro(work: Work, ref: RetroRef) -> Retro:
    retro = await store.get_retro(
        work.session, scope=work.scope(ref.channel_id), retro_id=ref.retro_id
    )
    if retro is None:
        raise NotFound(GONE)
    return retro


# -- starting ---------------------------------------------------------------------------------


async def check_no_open_retro(deps: Deps, origin: Origin, channel: str) -> None:
    async with workspace_transaction(deps, origin) as work:
        retro = await store.get_open_retro(work.session, scope=work.scope(channel))
    if retro is not None:
        raise NotAllowed(already_running(retro))


def already_running(retro: Retro) -> str:
    return (
        f"This channel already has a retro running: *{escape(retro.title)}*, facilitated by "
        f"<@{retro.facilitator_id}>. One retro at a time per channel; `/retro status` shows "
        "where it is."
    )


async def start_retro(deps: Deps, origin: Origin, channel: str, new: store.NewRetro) -> Retro:
    """Store the retro (NotAllowed when one is running); announce it with ``announce``."""
    async with workspace_transaction(deps, origin) as work:
        retro = await store.add_retro(
            work.session, scope=work.scope(channel), new=new, now=deps.now()
        )
        if retro is None:
            open_retro = await store.get_open_retro(work.session, scope=work.scope(channel))
            assert open_retro is not None
            raise NotAllowed(already_running(open_retro))
    logger.info(
        "retro.started",
        extra={"team": origin.team_id, "channel": channel, "retro": retro.id},
    )
    return retro


async def announce(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    retro: Retro,
    response_url: str | None,
) -> None:
    """Post the thread root; where the bot is not in the channel, take the retro back and say so."""
    async with workspace_transaction(deps, origin) as work:
        message = await _announcement(work.session, work.scope(retro.channel_id), retro)
    try:
        posted = await client.chat_postMessage(channel=retro.channel_id, **message)
    except SlackApiError as exc:
        if exc.response.get("error") not in NOT_A_MEMBER:
            raise
        async with workspace_transaction(deps, origin) as work:
            await store.delete_retro(
                work.session, scope=work.scope(retro.channel_id), retro_id=retro.id
            )
        text = {"text": f"I can't post *{escape(retro.title)}* here, so it was not started."}
        hint = with_invite_hint(text, retro.channel_id)
        await tell(
            client, user=retro.facilitator_id, channel=None, message=hint, response_url=response_url
        )
        return
    async with workspace_transaction(deps, origin) as work:
        await store.set_retro_message(
            work.session,
            scope=work.scope(retro.channel_id),
            retro_id=retro.id,
            message_ts=str(posted["ts"]),
        )


async def _lookback(session: AsyncSession, scope: Scope, retro: Retro) -> Lookback:
    previous = await store.get_previous_retro(session, scope=scope, before_id=retro.id)
    before, start, end = lookback_window(
        retro.created_at, previous.created_at if previous else None
    )
    current = await list_observations(session, scope=scope, start=start, end=end)
    earlier = await list_observations(session, scope=scope, start=before, end=start)
    actions: list[ActionItem] = []
    if previous is not None:
        actions = await store.list_open_retro_actions(session, scope=scope, retro_id=previous.id)
    verdicts = await store.list_verdicts(session, scope=scope, start=start.date(), end=end.date())
    return Lookback(
        start=start,
        end=end,
        first=previous is None,
        totals=waste_totals(current, earlier),
        costliest=costliest(current),
        waits=await _wait_checks(session, scope, start, end),
        verdicts=tuple(
            VerdictLine(format_theme_ref(v.theme_number), v.title, v.verdict) for v in verdicts
        ),
        open_actions=tuple(ActionLine(a.text, a.owner_id, a.due_date) for a in actions),
    )


async def _wait_checks(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> tuple[WaitCheck, ...]:
    steps = {s.id: s for s in await list_steps(session, scope=scope)}
    waits = await list_waits_by_step(session, scope=scope, start=start, end=end)
    measured = measure_waits(waits)
    return tuple(
        WaitCheck(steps[i].name, steps[i].wait_minutes, m.median, m.count)
        for i, m in sorted(measured.items())
        if i in steps
    )


async def _announcement(session: AsyncSession, scope: Scope, retro: Retro) -> Message:
    participation = await store.get_participation(
        session, workspace_id=scope.workspace_id, retro_id=retro.id
    )
    config = await get_channel_config(session, scope=scope)
    return build_announcement(
        retro,
        await _lookback(session, scope, retro),
        notes=participation.notes,
        people=participation.people,
        vote_emoji=config.vote_emoji,
    )


async def refresh_announcement(
    client: AsyncWebClient, deps: Deps, workspace_id: int, ref: RetroRef
) -> None:
    """Re-render the thread root from the database (counts and phase, never notes)."""
    scope = Scope(workspace_id, ref.channel_id)
    async with deps.db.transaction() as session:
        retro = await store.get_retro(session, scope=scope, retro_id=ref.retro_id)
        if retro is None or retro.message_ts is None:
            return
        message = await _announcement(session, scope, retro)
    try:
        await client.chat_update(channel=retro.channel_id, ts=retro.message_ts, **message)
    except SlackApiError as exc:
        logger.warning(
            "retro.announcement_update_failed",
            extra={"channel": retro.channel_id, "error": exc.response.get("error")},
        )


def refresh_soon(client: AsyncWebClient, deps: Deps, workspace_id: int, ref: RetroRef) -> None:
    deps.spawn_coalesced(
        f"retro.refresh:{workspace_id}:{ref.retro_id}",
        lambda: refresh_announcement(
            client, deps, workspace_id, RetroRef(ref.channel_id, ref.retro_id)
        ),
    )


# -- notes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteForm:
    retro: Retro
    own: list[Note]
    editing: Note | None


async def note_form(deps: Deps, origin: Origin, ref: RetroRef, user: str) -> NoteForm:
    """What the note modal shows ``user``: the retro, and their own notes (nobody else's)."""
    async with workspace_transaction(deps, origin) as work:
        retro = await load_retro(work, ref)
        check_collecting(retro)
        own = await store.list_author_notes(
            work.session,
            workspace_id=work.workspace_id,
            retro_id=retro.id,
            author_key=work.reporter_key(user),
        )
    editing = next((n for n in own if n.id == ref.note_id), None)
    if ref.note_id is not None and editing is None:
        raise NotFound("You can only change your own notes.")
    return NoteForm(retro, own, editing)


@dataclass(frozen=True, slots=True)
class StoredNote:
    retro: Retro
    own: int
    edited: bool
    workspace_id: int


async def save_note(
    deps: Deps, origin: Origin, ref: RetroRef, user: str, column: str | None, text: str
) -> StoredNote:
    """Add a note (or change the author's note ``ref.note_id``) while the retro collects.

    InvalidInput names the field; NotAllowed once collecting has ended.
    """
    async with workspace_transaction(deps, origin) as work:
        retro = await load_retro(work, ref)
        check_collecting(retro)
        column, body = clean_note(text, retro.template, column)
        key = work.reporter_key(user)
        if ref.note_id is None:
            await store.add_note(
                work.session,
                scope=work.scope(retro.channel_id),
                retro=retro,
                author_key=key,
                author_id=user,
                column=column,
                text=body,
                now=deps.now(),
            )
        elif not await store.update_note(
            work.session,
            workspace_id=work.workspace_id,
            retro_id=retro.id,
            note_id=ref.note_id,
            author_key=key,
            column=column,
            text=body,
        ):
            raise NotFound("You can only change your own notes.")
        own = await store.list_author_notes(
            work.session, workspace_id=work.workspace_id, retro_id=retro.id, author_key=key
        )
    # Neither the text nor, in an anonymous retro, the author reaches the log.
    extra = {"team": origin.team_id, "channel": retro.channel_id, "retro": retro.id}
    if not retro.anonymous:
        extra["user"] = user
    logger.info("retro.note_saved", extra=extra)
    return StoredNote(retro, len(own), ref.note_id is not None, work.workspace_id)


async def after_note(client: AsyncWebClient, deps: Deps, stored: StoredNote, user: str) -> None:
    retro = stored.retro
    refresh_soon(client, deps, stored.workspace_id, RetroRef(retro.channel_id, retro.id))
    await tell(
        client,
        user=user,
        channel=retro.channel_id,
        message=build_note_stored(retro, own=stored.own, edited=stored.edited),
    )


# -- status and nudges ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    retro: Retro
    participation: store.Participation
    own: int
    ranked: list[Note]


async def get_status(deps: Deps, origin: Origin, channel: str, user: str) -> Status | None:
    async with workspace_transaction(deps, origin) as work:
        retro = await store.get_latest_retro(work.session, scope=work.scope(channel))
        if retro is None or retro.phase is RetroPhase.CLOSED:
            return None
        ws = work.workspace_id
        participation = await store.get_participation(
            work.session, workspace_id=ws, retro_id=retro.id
        )
        own = await store.list_author_notes(
            work.session, workspace_id=ws, retro_id=retro.id, author_key=work.reporter_key(user)
        )
        ranked = []
        if retro.phase is RetroPhase.SUMMARY:
            ranked = rank_notes(
                await store.list_notes(work.session, workspace_id=ws, retro_id=retro.id)
            )
    return Status(retro, participation, len(own), ranked)


async def channel_members(client: AsyncWebClient, channel: str) -> set[str]:
    members: set[str] = set()
    cursor = None
    while True:
        page = await client.conversations_members(channel=channel, limit=1000, cursor=cursor)
        members.update(page.get("members") or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return members


@dataclass(frozen=True, slots=True)
class Nudge:
    retro: Retro
    users: list[str]
    again: bool


async def claim_nudge(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    ref: RetroRef,
    user: str,
    bot_user: str | None,
) -> Nudge:
    """Who to nudge: channel members with no note yet, once per retro; the facilitator only."""
    async with workspace_transaction(deps, origin) as work:
        retro = await load_retro(work, ref)
        check_facilitator(retro, user)
        check_collecting(retro)
        ws, scope = work.workspace_id, work.scope(retro.channel_id)
        taken = await store.get_participation(work.session, workspace_id=ws, retro_id=retro.id)
        members = await channel_members(client, retro.channel_id) - {bot_user or "", user}
        quiet = sorted(m for m in members if work.reporter_key(m) not in taken.author_keys)
        if not await store.claim_nudge(
            work.session, scope=scope, retro_id=retro.id, now=deps.now()
        ):
            return Nudge(retro, [], again=True)
    extra = {"team": origin.team_id, "channel": retro.channel_id, "count": len(quiet)}
    logger.info("retro.nudged", extra=extra)
    return Nudge(retro, quiet, again=False)


async def send_nudges(client: AsyncWebClient, nudge: Nudge) -> None:
    """A DM to each; it says who runs the retro and when notes close, never who wrote what."""
    for member in nudge.users:
        try:
            await client.chat_postMessage(channel=member, **build_nudge(nudge.retro))
        except SlackApiError as exc:
            logger.warning("retro.nudge_failed", extra={"error": exc.response.get("error")})


def nudged_message(nudge: Nudge) -> Message:
    return build_nudged(len(nudge.users), again=nudge.again)


# -- votes ------------------------------------------------------------------------------------


async def vote_on_note(client: AsyncWebClient, deps: Deps, reaction: Reaction) -> bool:
    """The vote emoji on a revealed note; False when the message is no retro note."""
    origin, scope, user = reaction.origin, reaction.scope, reaction.user
    message_ts, delivery = reaction.message_ts, reaction.delivery
    async with workspace_transaction(deps, origin) as work:
        found = await store.find_note_by_message(work.session, scope=scope, message_ts=message_ts)
    if found is None:
        return False
    retro, note = found
    if user not in await channel_members(client, retro.channel_id):
        text = "Only members of the channel vote in its retro; that vote was not counted."
        await tell(client, user=user, channel=None, message=build_error(text))
        return True
    async with workspace_transaction(deps, origin) as work:
        if not await work.first_delivery(delivery):
            return True
        result = await store.add_note_vote(
            work.session, scope=scope, retro=retro, note=note, user_id=user, now=deps.now()
        )
    logger.info(
        "retro.vote",
        extra={"channel": retro.channel_id, "retro": retro.id, "outcome": result.value},
    )
    if result is VoteResult.OVER_LIMIT:
        message = build_error(over_limit_message(retro.votes_per_person))
        await tell(client, user=user, channel=retro.channel_id, message=message)
    elif result is VoteResult.NOT_VOTING and retro.phase is RetroPhase.SUMMARY:
        message = build_error("Voting on this retro has ended; that vote was not counted.")
        await tell(client, user=user, channel=retro.channel_id, message=message)
    return True


async def unvote_on_note(deps: Deps, reaction: Reaction) -> bool:
    """Removing the vote emoji from a note; False when the message is no retro note."""
    origin, scope, user = reaction.origin, reaction.scope, reaction.user
    message_ts, delivery = reaction.message_ts, reaction.delivery
    async with workspace_transaction(deps, origin) as work:
        found = await store.find_note_by_message(work.session, scope=scope, message_ts=message_ts)
        if found is None:
            return False
        if await work.first_delivery(delivery):
            retro, note = found
            await store.remove_note_vote(
                work.session, scope=scope, retro=retro, note=note, user_id=user
            )
    return True


# -- phases -----------------------------------------------------------------------------------


async def check_can_close(deps: Deps, origin: Origin, channel: str, user: str) -> None:
    """NotFound without a retro collecting or voting; NotAllowed for anyone but its facilitator."""
    async with workspace_transaction(deps, origin) as work:
        retro = await store.get_open_retro(work.session, scope=work.scope(channel))
    if retro is None:
        raise NotFound(NO_OPEN_RETRO)
    check_facilitator(retro, user)


async def close_phase(
    client: AsyncWebClient, deps: Deps, origin: Origin, channel: str, user: str
) -> tuple[Retro, RetroPhase]:
    """The facilitator's ``/retro close``: collect → vote, vote → summary."""
    async with workspace_transaction(deps, origin) as work:
        retro = await store.get_open_retro(work.session, scope=work.scope(channel))
        workspace_id = work.workspace_id
    if retro is None:
        raise NotFound(NO_OPEN_RETRO)
    check_facilitator(retro, user)
    moved = await advance(client, deps, workspace_id, retro)
    if moved is Advance.LOST:
        raise NotAllowed("This retro has just moved on; `/retro status` shows where it is.")
    if moved is Advance.STALLED:
        raise NotAllowed(str(build_stalled(retro, next_phase(retro.phase))["text"]))
    return retro, next_phase(retro.phase)


class Advance(StrEnum):
    MOVED = "moved"
    LOST = "lost"
    """Another process moved the retro first; it posts."""
    STALLED = "stalled"
    """The bot is not in the channel: the retro stays where it was, nothing is shown."""


async def advance(client: AsyncWebClient, deps: Deps, workspace_id: int, retro: Retro) -> Advance:
    """Move ``retro`` on from the phase it was read in, and post what the new phase shows.

    Where the bot cannot post, the move is taken back (no note is shown early) and the
    facilitator told once; the next run tries again. Waste-walk notes become waste logs with
    the summary, once each however often it is tried.
    """
    new = next_phase(retro.phase)
    scope = Scope(workspace_id, retro.channel_id)
    async with deps.db.transaction() as session:
        if not await store.claim_phase(
            session,
            workspace_id=workspace_id,
            retro_id=retro.id,
            old=retro.phase,
            new=new,
            now=deps.now(),
        ):
            return Advance.LOST
        if new is RetroPhase.SUMMARY and retro.template is RetroTemplate.DOWNTIME:
            await store.add_waste_logs(
                session, scope=scope, retro_id=retro.id, anonymous=retro.anonymous, now=deps.now()
            )
    logger.info(
        "retro.phase", extra={"channel": retro.channel_id, "retro": retro.id, "phase": new.value}
    )
    try:
        if new is RetroPhase.VOTE:
            await _reveal(client, deps, scope, retro)
        else:
            await _post_summary(client, deps, scope, retro)
    except SlackApiError as exc:
        if exc.response.get("error") not in NOT_A_MEMBER:
            raise
        await _stalled(client, deps, scope, retro, new)
        return Advance.STALLED
    async with deps.db.transaction() as session:
        await store.mark_stalled(session, workspace_id=workspace_id, retro_id=retro.id, now=None)
    await refresh_announcement(client, deps, workspace_id, RetroRef(retro.channel_id, retro.id))
    return Advance.MOVED


async def _stalled(
    client: AsyncWebClient, deps: Deps, scope: Scope, retro: Retro, new: RetroPhase
) -> None:
    async with deps.db.transaction() as session:
        await store.claim_phase(
            session,
            workspace_id=scope.workspace_id,
            retro_id=retro.id,
            old=new,
            new=retro.phase,
            now=deps.now(),
        )
        first = await store.mark_stalled(
            session, workspace_id=scope.workspace_id, retro_id=retro.id, now=deps.now()
        )
    logger.warning("retro.not_in_channel", extra={"channel": retro.channel_id, "retro": retro.id})
    if first:
        await client.chat_postMessage(channel=retro.facilitator_id, **build_stalled(retro, new))


async def _reveal(client: AsyncWebClient, deps: Deps, scope: Scope, retro: Retro) -> None:
    """Each note in the thread, one message each, with the vote emoji seeded."""
    async with deps.db.transaction() as session:
        notes = await store.list_notes(session, workspace_id=scope.workspace_id, retro_id=retro.id)
        config = await get_channel_config(session, scope=scope)
    # Grouped by column, so the order notes were written in says nothing about who wrote them.
    order = {c: i for i, c in enumerate(TEMPLATE_COLUMNS[retro.template])}
    for note in sorted(notes, key=lambda n: (order.get(n.column, 99), n.id)):
        if note.message_ts is not None:
            continue
        message = build_note_message(retro, note, vote_emoji=config.vote_emoji)
        posted = await client.chat_postMessage(
            channel=retro.channel_id, thread_ts=retro.message_ts, **message
        )
        ts = str(posted["ts"])
        async with deps.db.transaction() as session:
            await store.set_note_message(
                session, workspace_id=scope.workspace_id, note_id=note.id, message_ts=ts
            )
        try:
            await client.reactions_add(
                channel=retro.channel_id, timestamp=ts, name=config.vote_emoji
            )
        except SlackApiError as exc:
            logger.info("retro.vote_emoji_not_added", extra={"error": exc.response.get("error")})
    message = build_voting_open(retro, notes=len(notes), vote_emoji=config.vote_emoji)
    await client.chat_postMessage(
        channel=retro.channel_id, thread_ts=retro.message_ts, reply_broadcast=True, **message
    )


async def _post_summary(client: AsyncWebClient, deps: Deps, scope: Scope, retro: Retro) -> None:
    async with deps.db.transaction() as session:
        ranked = rank_notes(
            await store.list_notes(session, workspace_id=scope.workspace_id, retro_id=retro.id)
        )
    logged = len(ranked) if retro.template is RetroTemplate.DOWNTIME else 0
    message = build_summary(retro, ranked, logged=logged)
    await client.chat_postMessage(
        channel=retro.channel_id, thread_ts=retro.message_ts, reply_broadcast=True, **message
    )


# -- outcomes ---------------------------------------------------------------------------------


async def summary_note(deps: Deps, origin: Origin, ref: RetroRef) -> tuple[Retro, Note]:
    """A note of a retro past its vote, for a theme or an action item."""
    if ref.note_id is None:
        raise NotFound(GONE)
    async with workspace_transaction(deps, origin) as work:
        retro = await load_retro(work, ref)
        note = await store.get_note(
            work.session, workspace_id=work.workspace_id, retro_id=retro.id, note_id=ref.note_id
        )
    if note is None or retro.phase not in (RetroPhase.SUMMARY, RetroPhase.CLOSED):
        raise NotFound(GONE)
    return retro, note


def theme_draft(retro: Retro, note: Note) -> NewTheme:
    title = " ".join(note.text.split())
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
    category = WasteCategory(note.column) if retro.template is RetroTemplate.DOWNTIME else None
    problem = f"From the retro “{retro.title}”: {note.text}"
    return NewTheme(title=title, problem=problem[:1000], category=category)


async def add_retro_action(
    deps: Deps, origin: Origin, ref: RetroRef, item: NewActionItem, user: str
) -> ActionItem:
    async with workspace_transaction(deps, origin) as work:
        retro = await load_retro(work, ref)
        config = await get_channel_config(work.session, scope=work.scope(retro.channel_id))
        check_due_date(item.due_date, local_date(deps.now(), config.timezone))
        added = await store.add_retro_action_item(
            work.session,
            scope=work.scope(retro.channel_id),
            retro_id=retro.id,
            item=item,
            created_by=user,
            now=deps.now(),
        )
    logger.info(
        "retro.action_added",
        extra={"team": origin.team_id, "channel": retro.channel_id, "retro": retro.id},
    )
    return added
