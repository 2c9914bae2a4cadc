"""Two app instances on one database at once (PostgreSQL is what scale-out runs on).

Requests are spread over both instances as a load balancer would; every write either lands
exactly once or is refused with a clear answer, and no database conflict reaches a user.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot import ids
from bot.domain.vsm import MAX_STEPS
from storage.db import Database
from storage.models import Observation, Step, Theme, Vote
from tests.support.clock import FrozenClock
from tests.support.kaizen import theme_values
from tests.support.scaleout import Cluster, add_step, apologised, running_cluster


async def count(db: Database, column: object, *where: object) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count(column)).where(*where)) or 0)  # type: ignore[call-overload]


def field_error(response: object) -> str:
    body = getattr(response, "json", None) or {}
    return json.dumps(body.get("errors", {})) if body.get("response_action") == "errors" else ""


async def test_steps_added_at_once_in_two_channels_all_land(
    any_db: Database, clock: FrozenClock
) -> None:
    async with running_cluster(any_db.url, clock) as cluster:
        responses = await asyncio.gather(
            *(
                add_step(cluster.pick(n).driver, n, "C1" if n % 2 else "C2", f"Step {n}")
                for n in range(40)
            )
        )
    assert [r.text for r in responses if apologised(r) or field_error(r)] == []
    for channel in ("C1", "C2"):
        positions = await _positions(any_db, channel)
        assert positions == list(range(1, 21)), channel


async def test_the_step_cap_holds_across_instances(any_db: Database, clock: FrozenClock) -> None:
    async with running_cluster(any_db.url, clock) as cluster:
        responses = await asyncio.gather(
            *(add_step(cluster.pick(n).driver, n, "C1", f"Step {n}") for n in range(MAX_STEPS + 8))
        )
    assert [r.text for r in responses if apologised(r)] == []
    refused = [r for r in responses if "30 steps" in field_error(r)]
    assert len(refused) == 8
    assert await _positions(any_db, "C1") == list(range(1, MAX_STEPS + 1))


async def test_themes_votes_and_logs_at_once_are_each_stored_once(
    any_db: Database, clock: FrozenClock
) -> None:
    async with running_cluster(any_db.url, clock) as cluster:
        ts = await _first_theme(cluster)
        work = []
        for n in range(12):
            instance = cluster.pick(n)
            work.append(
                instance.driver.view_submission(
                    ids.VIEW_THEME,
                    theme_values(f"Theme number {n}"),
                    user="U1",
                    view_id=f"VTHEME{n}",
                    private_metadata=json.dumps({"c": "C1"}),
                )
            )
            # The same vote reaches both instances (a retry or a duplicate delivery).
            for twin in cluster.instances:
                work.append(
                    twin.driver.reaction_added(
                        "+1", user=f"UV{n}", channel="C1", ts=ts, event_id=f"EvVote{n}"
                    )
                )
                work.append(
                    twin.driver.command(
                        "/waste",
                        f"waiting 1h for review {n}",
                        user=f"UL{n}",
                        channel="C2",
                        trigger_id=f"trigger-log-{n}",
                    )
                )
        responses = await asyncio.gather(*work)
    assert [r.text for r in responses if apologised(r) or field_error(r)] == []
    assert "listener.failed" not in json.dumps([r.text for r in responses])
    numbers = await _theme_numbers(any_db)
    assert numbers == list(range(1, 14))
    assert await count(any_db, Vote.id) == 12
    assert await count(any_db, Observation.id, Observation.channel_id == "C2") == 12


async def _first_theme(cluster: Cluster, title: str = "The theme everyone votes for") -> str:
    first = cluster.instances[0]
    await first.driver.view_submission(
        ids.VIEW_THEME,
        theme_values(title),
        user="U1",
        view_id=f"VTHEME{title}",
        private_metadata=json.dumps({"c": "C1"}),
    )
    await first.deps.drain()
    [posted] = [
        c for c in cluster.fake.calls_to("chat.postMessage") if title in str(c.args.get("text"))
    ]
    return str(posted.response["ts"])


async def _positions(db: Database, channel: str) -> list[int]:
    async with db.transaction() as s:
        rows = await s.scalars(
            select(Step.position).where(Step.channel_id == channel).order_by(Step.position)
        )
        return list(rows)


async def _theme_numbers(db: Database) -> list[int]:
    async with db.transaction() as s:
        return list(await s.scalars(select(Theme.number).order_by(Theme.number)))
