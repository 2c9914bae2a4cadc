"""A hypothesis baseline added up in SQL: the same totals as the domain over loaded rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.hypotheses import Observation, total_logs
from bot.domain.kaizen import as_observation
from bot.domain.observations import NewWaste, Source
from bot.domain.vsm import MapState, StepDraft
from bot.domain.wastes import WasteCategory
from storage.db import Database
from storage.vsm import add_step
from storage.waste import add_observation, get_logged_totals, list_observations
from storage.workspaces import Scope, get_or_add_workspace

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=28), NOW


async def test_logged_totals_in_sql_match_the_domain_over_the_same_logs(any_db: Database) -> None:
    async with any_db.transaction() as s:
        ws = await get_or_add_workspace(s, team_id="T1", enterprise_id=None, now=NOW)
        scope = Scope(ws, "C1")
        draft = StepDraft("Review", 60, 120)
        step = await add_step(
            s, scope=scope, state=MapState.CURRENT, draft=draft, after_id=None, now=NOW
        )
        logs = [
            (WasteCategory.WAITING.value, 30, True, step.id, NOW - timedelta(days=1)),
            (WasteCategory.WAITING.value, 90, True, step.id, NOW - timedelta(days=2)),
            (WasteCategory.DEFECTS.value, None, False, step.id, NOW - timedelta(days=3)),
            (WasteCategory.DEFECTS.value, 20, False, None, NOW - timedelta(days=4)),
            (None, 500, False, step.id, NOW - timedelta(days=5)),  # not categorised yet
            (WasteCategory.WAITING.value, 700, True, step.id, NOW - timedelta(days=40)),  # before
        ]
        for category, minutes, is_wait, step_id, at in logs:
            new = NewWaste(
                category=category,
                description="x",
                minutes=minutes,
                is_wait=is_wait,
                step_id=step_id,
                source=Source.COMMAND,
            )
            await add_observation(
                s, scope=scope, waste=new, reporter_id="U1", reporter_key="k", now=at
            )
        loaded = await list_observations(s, scope=scope, start=START - timedelta(days=30), end=END)
        observations: list[Observation] = [o for o in map(as_observation, loaded) if o is not None]
        for step_id, category in [
            (None, None),
            (step.id, None),
            (None, WasteCategory.DEFECTS),
            (step.id, WasteCategory.WAITING),
        ]:
            in_sql = await get_logged_totals(
                s, scope=scope, start=START, end=END, step_id=step_id, category=category
            )
            loaded_totals = total_logs(
                observations, start=START, end=END, step_id=step_id, category=category
            )
            assert (in_sql.count, in_sql.minutes, sorted(in_sql.step_waits)) == (
                loaded_totals.count,
                loaded_totals.minutes,
                sorted(loaded_totals.step_waits),
            )
    assert in_sql.count == 2 and sorted(in_sql.step_waits) == [30, 90]
