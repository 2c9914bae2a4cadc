"""``kaizen-bot digest`` and ``kaizen-bot jobs``: by hand, under the scheduler's own claims."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import build_parser, main
from bot.deps import Deps
from fake_slack import FakeSlack
from jobs import cli
from storage import jobs as runs
from storage.db import Database
from tests.support import databases
from tests.support import harness as harness_support
from tests.support.clock import FrozenClock
from tests.support.jobs import add_logs

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


@pytest.fixture
def url(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    database = databases.copy_sqlite(sqlite_template, tmp_path)
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli")
    return database


async def _seed(url: str) -> None:
    db = Database(url)
    deps = Deps(settings=harness_support.test_settings("http://127.0.0.1:9/api/", url), db=db)
    deps.clock = FrozenClock(NOW)
    await add_logs(deps, count=7, start=NOW - timedelta(days=7), end=NOW)
    await db.dispose()
    deps.cpu.shutdown()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["digest", "--channel", "C404"], "kaizen-bot: no channel C404 in this database\n"),
        (["digest", "--channel", "C1", "--week", "2026-47"], "is not a week"),
        (["digest", "--channel", "C1", "--week", "2026-W60"], "2026 has no week 60.\n"),
    ],
)
def test_digest_refuses_an_unknown_channel_or_a_malformed_week_in_one_line(
    url: str, argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(url))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1


def test_a_dry_run_prints_the_digest_and_claims_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(url))
    assert main(["digest", "--channel", "C1", "--week", "2026-W47", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Weekly flow digest" in out and "7 waste logs" in out

    async def claims() -> int:
        db = Database(url)
        async with db.transaction() as s:
            count = await runs.count_runs(s, job="digest")
        await db.dispose()
        return count

    assert asyncio.run(claims()) == 0


async def test_digest_run_twice_at_once_posts_once(url: str) -> None:
    await _seed(url)
    async with FakeSlack() as fake:
        settings = harness_support.test_settings(fake.api_url, url)
        args = parse("digest", "--channel", "C1", "--week", "2026-W47")
        codes = await asyncio.gather(
            cli.run_command(args, settings), cli.run_command(args, settings)
        )
        again = await cli.run_command(args, settings)
        posted = [c for c in fake.calls_to("chat.postMessage") if c.ok]
    assert codes == [0, 0] and again == 0
    assert len(posted) == 1 and "Weekly flow digest" in str(posted[0].args["text"])


async def test_jobs_list_shows_each_schedule_and_the_last_result(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _seed(url)
    async with FakeSlack() as fake:
        settings = harness_support.test_settings(fake.api_url, url)
        await cli.run_command(parse("digest", "--channel", "C1", "--week", "2026-W47"), settings)
        capsys.readouterr()
        assert await cli.run_command(parse("jobs", "list"), settings) == 0
    out = capsys.readouterr().out
    assert "digests    every 1 min — last: done" in out and "1:C1:2026-W47" in out
    assert "reminders  every 5 min — last: never run" in out
    assert "C1 (workspace 1): Mon 09:00 UTC — next" in out


async def test_jobs_run_verdicts_as_of_a_date(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with FakeSlack() as fake:
        settings = harness_support.test_settings(fake.api_url, url)
        assert (
            await cli.run_command(
                parse("jobs", "run", "verdicts", "--date", "2026-12-14"), settings
            )
            == 0
        )
    assert "verdicts: judged: none due; 0 failed to post" in capsys.readouterr().out
