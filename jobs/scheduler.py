"""The scheduler inside ``kaizen-bot run``: periodic ticks that find due work in the database.

Schedules live in the database (each channel's digest day, time and time zone), so a tick every
minute reads them afresh: a changed setting is followed without a restart, a run missed while
the bot was down is found at the first tick after start, and exactly-once is the claims' job,
not the timer's. APScheduler's ``AsyncIOScheduler`` drives the ticks on the app's own loop, in
HTTP and Socket Mode alike.

``PERIODIC_JOBS`` is the one table of periodic work: one line per job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.deps import Deps
from bot.usecases.digests import JOB_DIGEST, run_due_digests
from bot.usecases.housekeeping import run_housekeeping
from bot.usecases.reminders import JOB_REMINDER, run_due_reminders
from bot.usecases.theme_posts import retry_unposted_theme_messages
from bot.usecases.verdicts import JOB_VERDICT, run_due_verdicts
from jobs.retro_phases import advance_retro_phases

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    run: Callable[[Deps, datetime], Awaitable[object]]
    every: timedelta
    records: str = ""
    """The ``job_runs`` job name its claims are recorded under, for ``kaizen-bot jobs list``."""


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("digests", run_due_digests, timedelta(minutes=1), JOB_DIGEST),
    PeriodicJob("reminders", run_due_reminders, timedelta(minutes=5), JOB_REMINDER),
    PeriodicJob("verdicts", run_due_verdicts, timedelta(minutes=5), JOB_VERDICT),
    PeriodicJob("theme_posts", retry_unposted_theme_messages, timedelta(minutes=5)),
    PeriodicJob("retro_phases", advance_retro_phases, timedelta(minutes=1)),
    # Often enough that an anonymous log is unlinked from its reporter soon after the undo hour.
    PeriodicJob("housekeeping", run_housekeeping, timedelta(minutes=5)),
)


def find_job(name: str) -> PeriodicJob | None:
    return next((job for job in PERIODIC_JOBS if job.name == name), None)


async def run_job(deps: Deps, job: PeriodicJob, now: datetime | None = None) -> object | None:
    """One run of a job; an error is logged, never raised into the scheduler."""
    try:
        result = await job.run(deps, now or deps.now())
    except Exception:
        logger.exception("job.failed", extra={"job": job.name})
        return None
    logger.debug("job.ran", extra={"job": job.name})
    return result


def start_scheduler(
    deps: Deps, jobs: tuple[PeriodicJob, ...] = PERIODIC_JOBS, *, first_run_in: float = 5.0
) -> AsyncIOScheduler:
    """Start the ticks on the running loop; the first comes ``first_run_in`` seconds after start
    (catching up what came due while the bot was down)."""
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=UTC)
    first = datetime.now(UTC) + timedelta(seconds=first_run_in)
    for job in jobs:
        scheduler.add_job(
            run_job,
            "interval",
            args=(deps, job),
            seconds=job.every.total_seconds(),
            id=job.name,
            next_run_time=first,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(job.every.total_seconds()),
        )
    scheduler.start()
    return scheduler


def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    scheduler.shutdown(wait=False)
