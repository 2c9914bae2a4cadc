"""Everything a value stream map image shows besides its steps, gathered in one transaction.

Measured waits and waste hot spots come from the logs of the last ``WINDOW_DAYS``; kaizen
bursts are the themes linked to a step; a future state is drawn against the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.kaizen import Theme
from bot.domain.themes import ThemeStatus
from bot.domain.vsm import Burst, MapNotes, MapState, Step, map_changes, measure_waits
from bot.usecases.work import Work
from storage import kaizen as theme_store
from storage import vsm as map_store
from storage import waste as waste_store

WINDOW_DAYS = 28


@dataclass(frozen=True, slots=True)
class MapPicture:
    steps: list[Step]
    notes: MapNotes


def bursts_by_step(themes: list[Theme]) -> dict[int, list[Burst]]:
    """Themes linked to a step, still planned or done (a dropped one is no improvement)."""
    bursts: dict[int, list[Burst]] = {}
    for theme in sorted(themes, key=lambda t: t.number):
        if theme.step_id is None or theme.status is ThemeStatus.DROPPED:
            continue
        status = theme.status.value.replace("_", " ")
        bursts.setdefault(theme.step_id, []).append(Burst(ref=theme.ref, status=status))
    return bursts


async def load_map_picture(
    work: Work, *, channel_id: str, state: MapState, now: datetime
) -> MapPicture:
    scope = work.scope(channel_id)
    steps = await map_store.list_steps(work.session, scope=scope, state=state)
    start = now - timedelta(days=WINDOW_DAYS)
    if not steps or state is MapState.FUTURE:
        current = await map_store.list_steps(work.session, scope=scope) if steps else []
        notes = MapNotes(
            drawn_on=now.date(), changes=map_changes(current, steps) if current else None
        )
        return MapPicture(steps, notes)
    waits = await waste_store.list_waits_by_step(work.session, scope=scope, start=start, end=now)
    lost = await waste_store.lost_by_step(work.session, scope=scope, start=start, end=now)
    themes = await theme_store.list_themes(work.session, scope=scope, open_only=False)
    notes = MapNotes(
        measured=measure_waits(waits),
        bursts=bursts_by_step(themes),
        lost_minutes=lost,
        drawn_on=now.date(),
        window=(start.date(), now.date()),
    )
    return MapPicture(steps, notes)
