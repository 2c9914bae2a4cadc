"""Claims on scheduled posts: one ``job_runs`` row per (job, key) makes a post exactly-once.

A post is claimed (a committed row, status ``running``) before it is sent. The unique (job, key)
lets only one process or run win the claim on SQLite and PostgreSQL alike. After sending, the
claim is marked ``done``; a post that failed is marked ``failed`` and may be claimed again once
its retry time has come; a post that came due too long ago is recorded ``missed``. A claim still
``running`` after its lease was left by a process that stopped mid-post: it is taken over like a
failed one, by one taker only (the takeover is one conditional UPDATE of the row).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun
from storage.sql import insert_ignoring_conflict

RUNNING = "running"
DONE = "done"
FAILED = "failed"
MISSED = "missed"
SKIPPED = "skipped"
FINAL = frozenset({DONE, MISSED, SKIPPED})


@dataclass(frozen=True, slots=True)
class JobResult:
    job: str
    key: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    detail: str


async def claim_run(
    session: AsyncSession,
    *,
    job: str,
    key: str,
    now: datetime,
    lease: timedelta,
    retry_failed_after: timedelta = timedelta(0),
) -> bool:
    """True when this caller now holds the claim; False when another run has or had it.

    A ``failed`` claim is taken over once ``retry_failed_after`` has passed since it failed, a
    ``running`` one once ``lease`` has passed since it was claimed.
    """
    values = {"job": job, "key": key, "status": RUNNING, "started_at": now, "detail": ""}
    if await insert_ignoring_conflict(session, JobRun.__table__, values) is not None:  # type: ignore[arg-type]
        return True
    result = await session.execute(
        update(JobRun)
        .where(
            JobRun.job == job,
            JobRun.key == key,
            _open_to_take(now=now, lease=lease, retry_failed_after=retry_failed_after),
        )
        .values(status=RUNNING, started_at=now, finished_at=None, detail="")
    )
    return bool(getattr(result, "rowcount", 0))


def _open_to_take(*, now: datetime, lease: timedelta, retry_failed_after: timedelta) -> Any:
    return or_(
        and_(JobRun.status == FAILED, JobRun.finished_at <= now - retry_failed_after),
        and_(JobRun.status == RUNNING, JobRun.started_at <= now - lease),
    )


async def finish_run(
    session: AsyncSession, *, job: str, key: str, status: str, now: datetime, detail: str = ""
) -> None:
    """Record how a claimed run ended (``done``, ``failed`` releases it, ``skipped``)."""
    await session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.key == key)
        .values(status=status, finished_at=now, detail=detail[:2000])
    )


async def record_missed(
    session: AsyncSession, *, job: str, key: str, now: datetime, detail: str
) -> bool:
    """Record a run that came due too long ago to post; False when it was handled already."""
    values = {
        "job": job,
        "key": key,
        "status": MISSED,
        "started_at": now,
        "finished_at": now,
        "detail": detail,
    }
    return await insert_ignoring_conflict(session, JobRun.__table__, values) is not None  # type: ignore[arg-type]


async def list_handled_keys(
    session: AsyncSession, *, job: str, keys: Iterable[str], now: datetime, lease: timedelta
) -> set[str]:
    """Which of ``keys`` have a claim that a tick must not take again: anything but failed, or
    running past its lease."""
    wanted = list(keys)
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        rows = await session.scalars(
            select(JobRun.key).where(
                JobRun.job == job,
                JobRun.key.in_(wanted[i : i + 500]),
                JobRun.status != FAILED,
                ~and_(JobRun.status == RUNNING, JobRun.started_at <= now - lease),
            )
        )
        found.update(rows)
    return found


async def get_run(session: AsyncSession, *, job: str, key: str) -> JobResult | None:
    row = await session.scalar(select(JobRun).where(JobRun.job == job, JobRun.key == key))
    return _result(row) if row is not None else None


async def list_last_runs(session: AsyncSession) -> dict[str, JobResult]:
    """The latest run of each job, by start time."""
    latest = (
        select(JobRun.job, func.max(JobRun.id).label("last_id")).group_by(JobRun.job).subquery()
    )
    rows = await session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.last_id))
    return {row.job: _result(row) for row in rows}


async def count_runs(session: AsyncSession, *, job: str, status: str | None = None) -> int:
    stmt = select(func.count(JobRun.id)).where(JobRun.job == job)
    if status is not None:
        stmt = stmt.where(JobRun.status == status)
    return int(await session.scalar(stmt) or 0)


def _result(row: JobRun) -> JobResult:
    return JobResult(
        job=row.job,
        key=row.key,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        detail=row.detail,
    )
