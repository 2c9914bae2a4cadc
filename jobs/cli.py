"""``kaizen-bot jobs list|run`` and ``kaizen-bot digest``: the scheduled work, by hand.

``jobs list`` shows each periodic job with its last recorded result and each channel's digest
schedule with its next run; ``jobs run NAME [--date D]`` runs one job now (as at noon UTC on D);
``digest --channel C… [--week 2026-W47] [--dry-run]`` builds one channel's digest and posts it
under the same claim as the scheduler (so it is never posted twice), or only prints it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time

from bot.cli import CommandError, Subcommand, database_for, settings_for_command
from bot.deps import Deps
from bot.domain.errors import KaizenError
from bot.settings import Settings
from bot.usecases.digests import (
    build_channel_digest,
    describe_schedules,
    due_for_week,
    list_digest_schedules,
    post_channel_digest_now,
)
from bot.usecases.reminders import run_due_reminders
from bot.views.digest import message_as_text
from jobs.scheduler import PERIODIC_JOBS, find_job, run_job
from storage import jobs as runs


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a date like 2026-11-20") from None


def _jobs_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="jobs_command", required=True)
    actions.add_parser("list", help="each schedule, its next run and last result")
    run = actions.add_parser("run", help="run one job now")
    run.add_argument("name", choices=[job.name for job in PERIODIC_JOBS])
    run.add_argument("--date", type=_day, default=None, help="run as of this day (YYYY-MM-DD)")


def _digest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", required=True, help="the channel id (C…)")
    parser.add_argument("--week", default=None, help="the ISO week, like 2026-W47 (default: last)")
    parser.add_argument("--dry-run", action="store_true", help="print it; post and claim nothing")


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    deps = Deps(settings=settings, db=database_for(settings, create=False))
    try:
        if getattr(args, "jobs_command", None) is None:
            return await _digest(deps, args.channel, args.week, dry_run=args.dry_run)
        if args.jobs_command == "list":
            return await _list(deps)
        return await _run(deps, args.name, args.date)
    except KaizenError as error:
        raise CommandError(error.message) from None
    finally:
        await deps.close()


async def _from_environment(args: argparse.Namespace) -> int:
    return await run_command(args, settings_for_command())


DIGEST = Subcommand(
    name="digest",
    summary="post one channel's weekly digest now, or only print it",
    description=(
        "Build the weekly digest of a channel (its workspace is found from the channel) for an "
        "ISO week, by default the latest one due, and post it under the scheduler's own claim: "
        "a digest already posted for that week is not posted again. With --dry-run it is only "
        "printed; nothing is posted or claimed."
    ),
    run=_from_environment,
    arguments=_digest_arguments,
)

JOBS = Subcommand(
    name="jobs",
    summary="the scheduled jobs: list them, or run one now",
    description=(
        "list: each periodic job with its last result, and each channel's digest schedule with "
        "its next run. run NAME [--date D]: run one job now, as at noon UTC on D if given."
    ),
    run=_from_environment,
    arguments=_jobs_arguments,
)


async def _list(deps: Deps) -> int:
    now = deps.now()
    async with deps.db.transaction() as session:
        last = await runs.list_last_runs(session)
    print("Periodic jobs (run inside `kaizen-bot run`):")
    for job in PERIODIC_JOBS:
        found = last.get(job.records)
        result = (
            f"{found.status} at {found.started_at:%Y-%m-%d %H:%M} UTC ({found.key}"
            + (f": {found.detail}" if found.detail else "")
            + ")"
            if found
            else ("never run" if job.records else "not recorded")
        )
        minutes = int(job.every.total_seconds() // 60)
        print(f"  {job.name:<10} every {minutes} min — last: {result}")
    schedules = await list_digest_schedules(deps)
    print("Digest schedules:" if schedules else "Digest schedules: none (no channel has data yet)")
    for line in describe_schedules(schedules, now):
        print(line)
    return 0


async def _run(deps: Deps, name: str, day: date | None) -> int:
    job = find_job(name)
    assert job is not None  # argparse allowed only known names
    now = datetime.combine(day, time(12), tzinfo=UTC) if day else deps.now()
    if name == "reminders":
        result: object = await run_due_reminders(deps, now, any_hour=True)
    else:
        result = await run_job(deps, job, now)
    if result is None:
        print(f"kaizen-bot: the {name} job failed; see the log", file=sys.stderr)
        return 1
    print(f"{name}: {result}")
    return 0


async def _digest(deps: Deps, channel: str, week: str | None, *, dry_run: bool) -> int:
    due = await due_for_week(deps, channel, week)
    if dry_run:
        built = await build_channel_digest(
            deps, due.scope, start=due.start, end=due.due, timezone=due.schedule.timezone
        )
        print(message_as_text(built.message))
        print(f"(dry run: {due.week} not posted, nothing claimed)", file=sys.stderr)
        return 0
    status = await post_channel_digest_now(deps, due)
    messages = {
        runs.DONE: (0, f"posted the {due.week} digest to {channel}"),
        "taken": (0, f"the {due.week} digest of {channel} was posted already; not posted again"),
        runs.FAILED: (1, f"Slack refused the {due.week} digest of {channel}; see the log"),
        "uninstalled": (2, "the app is not installed in that channel's workspace"),
    }
    code, text = messages[status]
    print(f"kaizen-bot: {text}", file=sys.stderr if code else sys.stdout)
    return code
