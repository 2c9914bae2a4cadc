"""Two real ``kaizen-bot run`` processes on one PostgreSQL database, behind the same events.

Both start at once on an empty database (their migrations race), then everything a team does
arrives at both at once: waste logs, votes and votes taken back, value-stream steps added,
renamed and removed, themes proposed and moved on, with some deliveries sent to both processes
as Slack's retries would. Every write is stored once, no conflict between the processes reaches
a user, the theme messages show the votes the database holds, and each channel's weekly digest,
due when the processes start, is posted once although both schedulers try.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from inspect import signature
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.domain.themes import STATUS_LABELS, ThemeStatus
from bot.views.kaizen import votes_label
from fake_slack import Call, FakeSlack, SlackDriver
from fake_slack.driver import DriverResponse, input_values, plain, static_select, timepicker
from jobs.scheduler import find_job, start_scheduler
from storage.db import Database
from storage.models import JobRun, Observation, Step, Theme, ThemeEvent, Vote
from tests.support import databases
from tests.support.kaizen import theme_values
from tests.support.processes import BotProcess, LogCounts, bot_processes
from tests.support.scaleout import add_step, apologised, step_values

SECRET = "scaleout-secret"
THEMES, STEPS, MORE_STEPS, LOGS = "C1", "C2", "C3", "C4"
CHANNELS = {THEMES: "kaizen", STEPS: "delivery", MORE_STEPS: "ops", LOGS: "support"}
DIGEST_TEXT = "Weekly flow digest"
WAIT = 300.0
"""Seconds to wait for what follows a reply (posts, the scheduler's ticks); generous, for a
loaded machine. Nothing is asserted about how long anything took."""

VOTED = (1, 2, 3)
MOVES: dict[int, tuple[str, ...]] = {
    1: ("select",),
    2: ("start",),
    4: ("select", "start", "done"),
    5: ("start", "drop"),
    6: ("select",),
}
FINAL = {
    1: ThemeStatus.SELECTED,
    2: ThemeStatus.IN_PROGRESS,
    3: ThemeStatus.PROPOSED,
    4: ThemeStatus.DONE,
    5: ThemeStatus.DROPPED,
    6: ThemeStatus.SELECTED,
}


@pytest.fixture
async def postgres() -> None:
    """This test runs on the real server only; required when ``KAIZEN_TEST_POSTGRES=required``."""
    if not await databases.postgres_reachable():
        where = databases.PG_ADMIN_URL
        if databases.postgres_required():
            pytest.fail(f"PostgreSQL is required but not reachable at {where}")
        pytest.skip(f"no PostgreSQL server reachable at {where} (CI requires one when present)")


def digest_settings(due: datetime) -> dict[str, Any]:
    """The settings modal with the weekly digest due at ``due`` (UTC), no vote limit."""
    a = ids.ACTION_KAIZEN_INPUT
    return input_values(
        (ids.BLOCK_CHANNEL_SETTINGS_TIMEZONE, a, plain("UTC")),
        (ids.BLOCK_CHANNEL_SETTINGS_DIGEST_DAY, a, static_select(str(due.weekday()))),
        (ids.BLOCK_CHANNEL_SETTINGS_DIGEST_TIME, a, timepicker(f"{due:%H:%M}")),
        (ids.BLOCK_CHANNEL_SETTINGS_VOTE_LIMIT, a, plain(None)),
        (ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI, a, plain(":+1:")),
        (ids.BLOCK_CHANNEL_SETTINGS_WASTE_EMOJI, a, plain(":wastebasket:")),
    )


def refused(response: DriverResponse) -> str:
    """What a user would read as a failure: an apology, an error status or a field error."""
    body = response.json if isinstance(response.json, dict) else {}
    if apologised(response) or body.get("response_action") == "errors":
        return f"{response.status} {response.text[:300]}"
    return ""


async def wait_until(what: str, check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}")
        await asyncio.sleep(0.2)


def mentions(title: str) -> Callable[[Call], bool]:
    return lambda call: title in str(call.args.get("text"))


@dataclass
class Team:
    """The people sending requests, spread over both processes as a load balancer would."""

    fake: FakeSlack
    drivers: list[SlackDriver]
    replies: list[tuple[str, DriverResponse]] = field(default_factory=list)
    theme_ts: dict[int, str] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to(self, n: int) -> SlackDriver:
        return self.drivers[n % len(self.drivers)]

    def both(self, n: int) -> list[SlackDriver]:
        """The delivery and its retry, each to another process."""
        return [self.to(n), self.to(n + 1)]

    async def sent(self, kind: str, *requests: Awaitable[DriverResponse]) -> None:
        for response in await asyncio.gather(*requests):
            self.replies.append((kind, response))

    # -- before the load -----------------------------------------------------------------------

    async def set_digests_due(self, due: datetime) -> None:
        for n, channel in enumerate(CHANNELS):
            await self.sent(
                "settings",
                self.to(n).view_submission(
                    ids.VIEW_CHANNEL_SETTINGS,
                    digest_settings(due),
                    user="U1",
                    view_id=f"VSET{channel}",
                    private_metadata=json.dumps({"c": channel}),
                ),
            )

    async def propose(self, n: int, title: str, drivers: list[SlackDriver]) -> None:
        await self.sent(
            "theme",
            *(
                d.view_submission(
                    ids.VIEW_THEME,
                    theme_values(title),
                    user=f"UP{n}",
                    view_id=f"VTHEME{n}",
                    private_metadata=json.dumps({"c": THEMES}),
                )
                for d in drivers
            ),
        )

    async def seed_themes(self) -> None:
        for number in range(1, 7):
            title = f"Seeded theme {number}"
            await self.propose(number, title, [self.to(number)])
            posted = await self.fake.wait_for("chat.postMessage", mentions(title), WAIT)
            self.theme_ts[number] = str(posted.response["ts"])

    async def open_form(self, n: int, text: str) -> None:
        """``/vsm edit …`` or ``/vsm remove …``: the modal it opens, kept to submit later."""
        trigger = f"trigger-form-{n}"
        await self.sent(
            "form",
            self.to(n).command("/vsm", text, user="UE", channel=MORE_STEPS, trigger_id=trigger),
        )
        opened = await self.fake.wait_for(
            "views.open", lambda c: c.args.get("trigger_id") == trigger, WAIT
        )
        self.forms[text] = opened.response["view"]

    async def seed_steps(self) -> None:
        for n in range(6):
            await self.sent("step", add_step(self.to(n), n, MORE_STEPS, f"Seed {n}"))
        for n in range(3):
            await self.open_form(n, f"edit Seed {n}")
        # The last step stays: a step added at the end while the last one goes is refused with
        # "pick another place", a clear answer but not the stored write this test counts.
        for n in (3, 4):
            await self.open_form(n, f"remove Seed {n}")

    # -- all at once ---------------------------------------------------------------------------

    async def log(self, n: int) -> None:
        targets = self.both(n) if n % 4 == 0 else [self.to(n)]
        await self.sent(
            "log",
            *(
                d.command(
                    "/waste",
                    f"waiting {n + 1}m for review",
                    user=f"UL{n}",
                    channel=LOGS,
                    trigger_id=f"trigger-log-{n}",
                    retry_num=k or None,
                )
                for k, d in enumerate(targets)
            ),
        )

    async def vote(self, n: int, *, take_back: bool) -> None:
        await self.react("vote", n, self.both(n) if n % 3 == 0 else [self.to(n)])
        if take_back:
            await self.react("unvote", n, self.both(n + 1) if n % 2 == 0 else [self.to(n + 1)])

    async def react(self, kind: str, n: int, targets: list[SlackDriver]) -> None:
        """Person ``UV<n>`` adds (or removes) the vote emoji on one of the voted themes."""
        send = SlackDriver.reaction_added if kind == "vote" else SlackDriver.reaction_removed
        ts = self.theme_ts[VOTED[n % len(VOTED)]]
        await self.sent(
            kind,
            *(
                send(d, "+1", user=f"UV{n}", channel=THEMES, ts=ts, event_id=f"Ev{kind}{n}",
                     retry_num=k or None)
                for k, d in enumerate(targets)
            ),
        )  # fmt: skip

    async def add_steps(self, n: int) -> None:
        targets = self.both(n) if n % 4 == 0 else [self.to(n)]
        await self.sent("step", *(add_step(d, 100 + n, STEPS, f"Flow {n}") for d in targets))

    async def add_steps_more(self, n: int) -> None:
        await self.sent("step", add_step(self.to(n), 200 + n, MORE_STEPS, f"Extra {n}"))

    async def edit_step(self, n: int, text: str, values: dict[str, Any], callback: str) -> None:
        form = self.forms[text]
        await self.sent(
            "step",
            self.to(n).view_submission(
                callback,
                values,
                user="UE",
                view_id=str(form["id"]),
                private_metadata=str(form["private_metadata"]),
            ),
        )

    async def move_theme(self, number: int) -> None:
        for k, move in enumerate(MOVES[number]):
            await self.sent(
                "move",
                self.to(number + k).block_action(
                    f"{ids.ACTION_THEME_STATUS}.{move}",
                    f"{number}:{move}",
                    user="U1",
                    channel=THEMES,
                    message_ts=self.theme_ts[number],
                ),
            )

    async def everything_at_once(self) -> None:
        work: list[Awaitable[None]] = []
        work += [self.log(n) for n in range(24)]
        work += [self.vote(n, take_back=n % 5 == 0) for n in range(18)]
        work += [self.add_steps(n) for n in range(12)]
        work += [self.add_steps_more(n) for n in range(4)]
        work += [
            self.edit_step(n, f"edit Seed {n}", step_values(f"Renamed {n}"), ids.VIEW_VSM_STEP)
            for n in range(3)
        ]
        work += [self.edit_step(n, f"remove Seed {n}", {}, ids.VIEW_VSM_REMOVE) for n in (3, 4)]
        work += [self.propose(n, f"Proposed theme {n}", self.both(n)) for n in range(7, 10)]
        work += [self.propose(n, f"Proposed theme {n}", [self.to(n)]) for n in range(10, 13)]
        work += [self.move_theme(number) for number in MOVES]
        await asyncio.gather(*work)


# -- reading the outcome -----------------------------------------------------------------------


async def scalar(db: Database, statement: Any) -> Any:
    async with db.transaction() as s:
        return await s.scalar(statement)


async def step_names(db: Database, channel: str) -> list[tuple[int, str]]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(Step.position, Step.name)
            .where(Step.channel_id == channel)
            .order_by(Step.position)
        )
        return [(int(p), str(n)) for p, n in rows.all()]


async def themes_shown(db: Database, fake: FakeSlack) -> dict[int, tuple[str, str]]:
    """Each theme: (what its message says, what the database says it should say)."""
    async with db.transaction() as s:
        counted = select(Vote.theme_id, func.count(Vote.id)).group_by(Vote.theme_id)
        votes = dict((await s.execute(counted)).all())
        themes = (await s.scalars(select(Theme).order_by(Theme.number))).all()
    shown = {}
    for theme in themes:
        message = fake.message(THEMES, theme.message_ts) if theme.message_ts else None
        expected = (
            f"— {votes_label(votes.get(theme.id, 0))}, {STATUS_LABELS[ThemeStatus(theme.status)]}"
        )
        shown[theme.number] = (str((message or {}).get("text", "")), expected)
    return shown


def digests_posted(fake: FakeSlack) -> dict[str, int]:
    posted = dict.fromkeys(CHANNELS, 0)
    for call in fake.calls_to("chat.postMessage"):
        if str(call.args.get("text", "")).startswith(DIGEST_TEXT):
            channel = str(call.args.get("channel"))
            posted[channel] = posted.get(channel, 0) + 1
    return posted


def scheduler_started(process: BotProcess) -> datetime | None:
    """When the process started its scheduler, from its ``start.scheduler`` log line."""
    for line in process.log_text().splitlines():
        if "start.scheduler" in line:
            stamp = " ".join(line.split()[:2])
            return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").astimezone(UTC)
    return None


def first_tick_after(process: BotProcess, moment: datetime) -> datetime | None:
    """The digest job's first tick at or after ``moment`` (a few seconds after the scheduler
    started, then one each period), as ``start_scheduler`` sets them."""
    job = find_job("digests")
    started = scheduler_started(process)
    if job is None or started is None:
        return None
    first_in = signature(start_scheduler).parameters["first_run_in"].default
    tick = started + timedelta(seconds=first_in)
    while tick < moment:
        tick += job.every
    return tick


def expected_votes() -> dict[int, int]:
    """18 people vote on themes 1-3 in turn; every fifth takes the vote back."""
    counts = dict.fromkeys(VOTED, 0)
    for n in range(18):
        if n % 5:
            counts[VOTED[n % len(VOTED)]] += 1
    return counts


async def check_writes(db: Database) -> None:
    logged = select(func.count(Observation.id)).where(Observation.channel_id == LOGS)
    assert await scalar(db, logged) == 24, "waste logs stored once each"
    async with db.transaction() as s:
        numbers = list(await s.scalars(select(Theme.number).order_by(Theme.number)))
        rows = await s.execute(select(Theme.number, Theme.status))
        statuses = dict(rows.all())
        counted = (
            select(Theme.number, func.count(Vote.id))
            .join(Vote, Vote.theme_id == Theme.id)
            .group_by(Theme.number)
        )
        votes = dict((await s.execute(counted)).all())
    assert numbers == list(range(1, 13)), "themes numbered once each, without gaps"
    assert {n: ThemeStatus(statuses[n]) for n in FINAL} == FINAL
    assert votes == expected_votes()
    moved = select(func.count(ThemeEvent.id)).where(ThemeEvent.from_status.is_not(None))
    assert await scalar(db, moved) == sum(len(m) for m in MOVES.values()), "moves recorded once"
    flow = await step_names(db, STEPS)
    assert [p for p, _ in flow] == list(range(1, 13))
    assert sorted(name for _, name in flow) == sorted(f"Flow {n}" for n in range(12))
    more = await step_names(db, MORE_STEPS)
    assert [p for p, _ in more] == list(range(1, 9))
    assert sorted(name for _, name in more) == sorted(
        [*(f"Renamed {n}" for n in range(3)), "Seed 5", *(f"Extra {n}" for n in range(4))]
    )


async def test_two_processes_store_each_write_once_and_post_one_digest_per_channel(
    postgres: None, tmp_path: Path
) -> None:
    async with (
        databases.empty_postgres_database(prefix="kaizen_scaleout") as url,
        FakeSlack(trigger_ttl=None) as fake,
        bot_processes(
            api_url=fake.api_url, database_url=url, folder=tmp_path, signing_secret=SECRET
        ) as processes,
        AsyncExitStack() as stack,
    ):
        for channel, name in CHANNELS.items():
            fake.add_channel(channel, name)
        drivers = [
            await stack.enter_async_context(
                p.driver(fake, signing_secret=SECRET, team_id=fake.team_id)
            )
            for p in processes
        ]
        db = Database(url)
        stack.push_async_callback(db.dispose)
        team = Team(fake, drivers)
        # Due half an hour ago: well inside the catch-up window, so each scheduler's next tick
        # finds every channel's digest waiting.
        await team.set_digests_due(datetime.now(UTC) - timedelta(minutes=30))
        settings_saved = datetime.now(UTC)
        await team.seed_themes()
        await team.seed_steps()
        await team.everything_at_once()

        assert [(kind, refused(r)) for kind, r in team.replies if refused(r)] == []
        await check_writes(db)

        async def messages_follow_the_database() -> bool:
            return all(want in text for text, want in (await themes_shown(db, fake)).values())

        await wait_until("theme messages show the stored votes", messages_follow_the_database, WAIT)

        async def digests_settled() -> bool:
            posted = digests_posted(fake)
            assert max(posted.values()) <= 1, f"a digest was posted twice: {posted}"
            ticks = [first_tick_after(p, settings_saved) for p in processes]
            if None in ticks or min(posted.values()) < 1:
                return False
            # Each scheduler's first tick after the settings, and a margin for it to run.
            last = max(t for t in ticks if t is not None)
            return datetime.now(UTC) > last + timedelta(seconds=20)

        await wait_until("one digest per channel, both schedulers past it", digests_settled, WAIT)
        assert digests_posted(fake) == dict.fromkeys(CHANNELS, 1)
        async with db.transaction() as s:
            runs = (
                await s.execute(select(JobRun.key, JobRun.status).where(JobRun.job == "digest"))
            ).all()
        assert sorted(status for _, status in runs) == ["done"] * len(CHANNELS)

    apologies = [c.method for c in fake.calls if "went wrong" in json.dumps(c.args)]
    assert apologies == [], "an apology reached a user"
    counts = LogCounts.of(processes)
    print(
        f"transactions retried: {counts.retried} (deadlocks: {counts.deadlocks_retried}); "
        f"listener failures: {counts.listener_failures}"
    )
    assert counts.listener_failures == 0
    assert counts.errors == []
