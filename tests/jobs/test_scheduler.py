"""The scheduler runs each periodic job on the app's own event loop, and survives a failing one."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.deps import Deps
from jobs.scheduler import PERIODIC_JOBS, PeriodicJob, run_job, start_scheduler
from tests.support.harness import Harness


def test_the_periodic_jobs_are_one_table_of_unique_names() -> None:
    names = [job.name for job in PERIODIC_JOBS]
    assert names[:3] == ["digests", "reminders", "verdicts"] and len(set(names)) == len(names)


async def test_a_job_runs_on_the_apps_loop_with_the_apps_clock(harness: Harness) -> None:
    seen: list[tuple[datetime, asyncio.AbstractEventLoop]] = []
    ran = asyncio.Event()

    async def probe(deps: Deps, now: datetime) -> None:
        seen.append((now, asyncio.get_running_loop()))
        ran.set()

    job = PeriodicJob("probe", probe, timedelta(seconds=1))
    scheduler = start_scheduler(harness.deps, (job,), first_run_in=0)
    try:
        async with asyncio.timeout(5):
            await ran.wait()
    finally:
        scheduler.shutdown(wait=False)
    assert seen and seen[0] == (harness.clock(), asyncio.get_running_loop())


async def test_a_failing_job_is_logged_not_raised(harness: Harness) -> None:
    async def broken(deps: Deps, now: datetime) -> None:
        raise RuntimeError("boom")

    assert await run_job(harness.deps, PeriodicJob("broken", broken, timedelta(1))) is None
