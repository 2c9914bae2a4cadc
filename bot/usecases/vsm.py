"""The value stream map: reading a map with what was measured on it, keeping its steps, and
posting its picture."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.errors import KaizenError, NotFound
from bot.domain.vsm import MapState, Step, StepDraft, after_id_for, measure_waits, parse_move
from bot.usecases.notify import (
    FOLLOW_UP_FAILURES,
    NOT_A_MEMBER,
    certainly_not_done,
    failure_reason,
    tell,
)
from bot.usecases.work import Origin, Work, retried, workspace_transaction
from bot.views.common import Message, build_error
from bot.views.vsm import (
    START,
    build_map_not_posted,
    build_step_moved,
    build_step_not_found,
    build_upload_failed,
)
from storage import vsm as store
from storage import waste as waste_store
from storage.workspaces import Scope

logger = logging.getLogger(__name__)

WINDOW_DAYS = 28
"""Measured waits and kaizen bursts count what was logged in this many days before now."""

STATE_WORDS = {state.value: state for state in MapState}


@dataclass(frozen=True, slots=True)
class MeasuredMap:
    steps: list[Step]
    measured: dict[int, Any] = field(default_factory=dict)
    waste_counts: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MapUpload:
    filename: str
    title: str
    comment: str


def split_state(text: str) -> tuple[MapState, str]:
    """``future Testing`` → (future, "Testing"); text without a state word is the current map."""
    first, _, rest = text.partition(" ")
    state = STATE_WORDS.get(first.casefold())
    return (state, rest.strip()) if state else (MapState.CURRENT, text)


async def list_map(deps: Deps, origin: Origin, channel: str, state: MapState) -> list[Step]:
    async with workspace_transaction(deps, origin) as work:
        return await store.list_steps(work.session, scope=work.scope(channel), state=state)


async def read_map(deps: Deps, origin: Origin, channel: str, state: MapState) -> MeasuredMap:
    """A map's steps; the current map with the waits and wastes logged in the window."""
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        steps = await store.list_steps(work.session, scope=scope, state=state)
        if not steps or state is not MapState.CURRENT:
            return MeasuredMap(steps)
        end = deps.now()
        start = end - timedelta(days=WINDOW_DAYS)
        waits = await waste_store.list_waits_by_step(
            work.session, scope=scope, start=start, end=end
        )
        counts = await waste_store.count_by_step(work.session, scope=scope, start=start, end=end)
    return MeasuredMap(steps, measure_waits(waits), counts)


async def find_step_to_change(
    deps: Deps, origin: Origin, channel: str, text: str, *, with_map: bool
) -> tuple[MapState, Step | None, list[Step]]:
    """The step ``text`` names, on the current map or (``future ‹step›``) the future one, and
    the steps of its map (when ``with_map``, or when nothing was found, to say what there is).

    The whole text is tried as a current-map name first, so a step called "Future planning"
    is still found.
    """
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        state, found = MapState.CURRENT, await store.find_step(work.session, scope=scope, name=text)
        if found is None:
            state, name = split_state(text)
            found = await store.find_step(work.session, scope=scope, name=name, state=state)
        steps: list[Step] = []
        if found is None or with_map:
            steps = await store.list_steps(work.session, scope=scope, state=state)
    return state, found, steps


async def post_map_image(
    client: AsyncWebClient,
    origin: Origin,
    png: Awaitable[bytes],
    *,
    channel: str,
    user: str,
    response_url: str | None,
    upload: MapUpload,
    again: str = "/vsm show",
) -> None:
    """Upload a drawn map; however the upload fails, tell the person and how to get it."""
    content = await png
    where = {"team": origin.team_id, "channel": channel, "user": user}
    try:
        await client.files_upload_v2(
            channel=channel,
            content=content,
            filename=upload.filename,
            title=upload.title,
            initial_comment=upload.comment,
        )
    except FOLLOW_UP_FAILURES as exc:
        error = failure_reason(exc)
        logger.warning("vsm.upload_failed", extra={**where, "error": error})
        failed = build_upload_failed(error, again, certain=certainly_not_done(error))
        message = build_map_not_posted(channel) if error in NOT_A_MEMBER else failed
        await tell(client, user=user, channel=None, message=message, response_url=response_url)
        return
    logger.info("vsm.posted", extra=where)


async def _place(work: Work, scope: Scope, state: MapState, after: str, opened: MapState) -> Any:
    """The step to add after: the one picked, or the end of the map when the form offered no
    place or offered places on the other map."""
    if after and state is opened:
        return None if after == START else int(after)
    order = [s.id for s in await store.list_steps(work.session, scope=scope, state=state)]
    return order[-1] if order else None


@dataclass(frozen=True, slots=True)
class StepChange:
    channel: str
    state: MapState
    opened: MapState
    """The map the form was opened on (its position picker lists that map's steps)."""
    step_id: int | None
    """None adds a step."""
    draft: StepDraft
    after: str
    """The raw position choice: "" when the form had none, START, or a step id."""


@retried
async def save_step(
    deps: Deps, origin: Origin, change: StepChange, *, user: str, delivery: str
) -> tuple[Step, list[Step]] | None:
    """Add or update a step once (None for a resubmitted form); NotFound when it is gone."""
    now = deps.now()
    async with workspace_transaction(deps, origin) as work:
        scope, state = work.scope(change.channel), change.state
        if not await work.first_delivery(delivery):
            return None
        if change.step_id is None:
            after_id = await _place(work, scope, state, change.after, change.opened)
            step = await store.add_step(
                work.session,
                scope=scope,
                state=state,
                draft=change.draft,
                after_id=after_id,
                now=now,
            )
        else:
            step = await _update_step(work, scope, change, now)
        steps = await store.list_steps(work.session, scope=scope, state=state)
    logger.info(
        "vsm.step_saved",
        extra={
            "team": origin.team_id,
            "channel": change.channel,
            "user": user,
            "state": state.value,
        },
    )
    return next(s for s in steps if s.id == step.id), steps


async def _update_step(work: Work, scope: Scope, change: StepChange, now: Any) -> Step:
    assert change.step_id is not None
    state = change.state
    found = await store.update_step(
        work.session, scope=scope, state=state, step_id=change.step_id, draft=change.draft, now=now
    )
    if found is None:
        raise NotFound("That step is not on this channel's map any more.", field="name")
    if change.after:
        after_id = None if change.after == START else int(change.after)
        found = await store.move_step(
            work.session,
            scope=scope,
            state=state,
            step_id=change.step_id,
            after_id=after_id,
            now=now,
        )
    assert found is not None
    return found


@retried
async def remove_step(
    deps: Deps, origin: Origin, channel: str, state: MapState, step_id: int, *, user: str
) -> tuple[Step, list[Step]] | None:
    """Take a step off the map; None when it was gone already."""
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        removed = await store.remove_step(
            work.session, scope=scope, state=state, step_id=step_id, now=deps.now()
        )
        steps = await store.list_steps(work.session, scope=scope, state=state)
    if removed is None:
        return None
    logger.info(
        "vsm.step_removed",
        extra={"team": origin.team_id, "channel": channel, "user": user, "state": state.value},
    )
    return removed, steps


async def move_step(deps: Deps, origin: Origin, channel: str, text: str) -> Message:
    """``/vsm move Testing after Code review``: the answer to show."""
    state, text = split_state(text)
    if not text:
        return build_error("Which step, and where to? Try `/vsm move Testing after Code review`.")
    async with workspace_transaction(deps, origin) as work:
        scope = work.scope(channel)
        steps = await store.list_steps(work.session, scope=scope, state=state)
        by_name = {s.name.casefold(): s for s in steps}
        try:
            request = parse_move(text, by_name)
            moving = by_name.get(request.name.casefold())
            other = by_name.get(request.other.casefold()) if request.other else None
            if moving is None or (request.other and other is None):
                missing = request.name if moving is None else (request.other or "")
                return build_step_not_found(missing, steps, state)
            assert moving.id is not None
            order = [s.id for s in steps if s.id is not None]
            after_id = after_id_for(
                order, moving.id, request.placement, other.id if other else None
            )
        except KaizenError as error:
            return build_error(error.message)
        await store.move_step(
            work.session,
            scope=scope,
            state=state,
            step_id=moving.id,
            after_id=after_id,
            now=deps.now(),
        )
        steps = await store.list_steps(work.session, scope=scope, state=state)
    return build_step_moved(next(s for s in steps if s.id == moving.id), steps, state)
