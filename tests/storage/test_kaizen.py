"""The kaizen backlog's storage on SQLite and PostgreSQL: numbers, ranking, votes, races, export."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.domain.channels import ChannelConfig
from bot.domain.errors import NotAllowed, NotFound
from bot.domain.export import build_export_csv
from bot.domain.kaizen import ActionStatus, NewActionItem, NewTheme, VoteOutcome
from bot.domain.observations import NewWaste, Source
from bot.domain.themes import ThemeAction, ThemeStatus
from storage import kaizen as store
from storage.channels import update_channel_config
from storage.db import Database
from storage.waste import add_observation
from storage.workspaces import Scope, get_or_add_workspace

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


async def workspace(db: Database, team: str = "T1") -> int:
    async with db.transaction() as s:
        return await get_or_add_workspace(s, team_id=team, enterprise_id=None, now=NOW)


async def add(db: Database, scope: Scope, title: str, at: datetime = NOW) -> int:
    async with db.transaction() as s:
        theme = await store.add_theme(
            s, scope=scope, theme=NewTheme(title=title, problem=""), author_id="U1", now=at
        )
    return theme.id


async def test_concurrent_adds_get_distinct_numbers_per_workspace(any_db: Database) -> None:
    ws, other = await workspace(any_db), await workspace(any_db, "T2")
    await asyncio.gather(*(add(any_db, Scope(ws, f"C{n % 3}"), f"t{n}") for n in range(12)))
    await add(any_db, Scope(other, "C1"), "elsewhere")
    async with any_db.transaction() as s:
        numbers = []
        for channel in ("C0", "C1", "C2"):
            numbers += [t.number for t in await store.list_themes(s, scope=Scope(ws, channel))]
        [theirs] = await store.list_themes(s, scope=Scope(other, "C1"))
    assert sorted(numbers) == list(range(1, 13))
    assert theirs.number == 1


async def test_the_backlog_ranks_by_votes_then_age_and_hides_closed(any_db: Database) -> None:
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    old = await add(any_db, scope, "old", NOW)
    new = await add(any_db, scope, "new", NOW + timedelta(hours=1))
    top = await add(any_db, scope, "top", NOW + timedelta(hours=2))
    gone = await add(any_db, scope, "gone", NOW + timedelta(hours=3))
    async with any_db.transaction() as s:
        for theme_id, voters in (
            (top, ["U1", "U2"]),
            (new, ["U1"]),
            (old, ["U3"]),
            (gone, ["U4"] * 3),
        ):
            theme = await store.get_theme_by_id(s, workspace_id=ws, theme_id=theme_id)
            assert theme is not None
            for voter in voters:
                await store.add_vote(
                    s, scope=scope, theme=theme, user_id=voter, limit=None, now=NOW
                )
        await store.change_theme_status(
            s, scope=scope, number=4, action=ThemeAction.DROP, actor_id="U1", now=NOW
        )
        ranked = await store.list_themes(s, scope=scope)
    assert [(t.title, t.votes) for t in ranked] == [("top", 2), ("old", 1), ("new", 1)]


async def test_votes_are_one_per_person_and_the_limit_holds(any_db: Database) -> None:
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    ids_ = [await add(any_db, scope, f"t{n}") for n in range(3)]
    async with any_db.transaction() as s:
        themes = [await store.get_theme_by_id(s, workspace_id=ws, theme_id=i) for i in ids_]
        outcomes = [
            await store.add_vote(s, scope=scope, theme=t, user_id="U1", limit=2, now=NOW)
            for t in [*themes, themes[0]]
            if t is not None
        ]
        assert outcomes == [
            VoteOutcome.COUNTED,
            VoteOutcome.COUNTED,
            VoteOutcome.OVER_LIMIT,
            VoteOutcome.ALREADY_COUNTED,
        ]
        assert await store.count_open_votes(s, scope=scope, user_id="U1") == 2
        assert await store.remove_vote(s, workspace_id=ws, theme_id=ids_[2], user_id="U1") is False
        assert await store.remove_vote(s, workspace_id=ws, theme_id=ids_[0], user_id="U1") is True


async def test_of_two_overlapping_moves_only_the_first_applies(any_db: Database) -> None:
    if any_db.url.startswith("sqlite"):
        pytest.skip("SQLite has one connection: its writers never overlap")
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    await add(any_db, scope, "t")
    async with any_db.transaction() as s:
        await store.change_theme_status(
            s, scope=scope, number=1, action=ThemeAction.START, actor_id="U1", now=NOW
        )

    # Two transactions open at once: the first to write wins, the second is refused.
    async with any_db.transaction() as first, any_db.transaction() as second:
        await store.change_theme_status(
            first, scope=scope, number=1, action=ThemeAction.DONE, actor_id="U2", now=NOW
        )
        await first.commit()
        with pytest.raises(NotAllowed):
            await store.change_theme_status(
                second, scope=scope, number=1, action=ThemeAction.DROP, actor_id="U3", now=NOW
            )


async def test_a_move_the_rules_refuse_changes_nothing(any_db: Database) -> None:
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    theme_id = await add(any_db, scope, "t")
    with pytest.raises(NotAllowed):
        async with any_db.transaction() as s:
            await store.change_theme_status(
                s, scope=scope, number=1, action=ThemeAction.DONE, actor_id="U2", now=NOW
            )
    with pytest.raises(NotFound):
        async with any_db.transaction() as s:
            await store.change_theme_status(
                s, scope=Scope(ws, "C2"), number=1, action=ThemeAction.START, actor_id="U2", now=NOW
            )
    async with any_db.transaction() as s:
        changes = await store.list_theme_changes(s, workspace_id=ws, theme_id=theme_id)
        theme = await store.get_theme_by_id(s, workspace_id=ws, theme_id=theme_id)
    assert theme is not None and (theme.status, theme.version) == (ThemeStatus.PROPOSED, 1)
    assert [c.to_status for c in changes] == [ThemeStatus.PROPOSED]


async def test_action_items_overdue_first_and_done_once(any_db: Database) -> None:
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    async with any_db.transaction() as s:
        for text, due in (
            ("later", date(2026, 12, 1)),
            ("none", None),
            ("late", date(2026, 11, 1)),
        ):
            await store.add_action_item(
                s, scope=scope, item=NewActionItem(text, "U1", due), created_by="U2", now=NOW
            )
        mine = await store.list_owner_actions(s, workspace_id=ws, owner_id="U1", today=NOW.date())
        assert [a.text for a in mine] == ["late", "later", "none"]
        first = await store.complete_action_item(
            s, workspace_id=ws, item_id=mine[0].id, channel_id="C1", now=NOW
        )
        again = await store.complete_action_item(
            s, workspace_id=ws, item_id=mine[0].id, channel_id=None, now=NOW
        )
        elsewhere = await store.complete_action_item(
            s, workspace_id=ws, item_id=mine[1].id, channel_id="C2", now=NOW
        )
    assert first is not None and first[0].status is ActionStatus.DONE and first[1] is True
    assert again is not None and again[1] is False
    assert elsewhere is None


async def test_the_export_has_every_kind_and_hides_anonymous_reporters(any_db: Database) -> None:
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    theme_id = await add(any_db, scope, "t")
    async with any_db.transaction() as s:
        for anonymous in (False, True):
            await add_observation(
                s,
                scope=scope,
                waste=NewWaste("waiting", "slow", 60, source=Source.COMMAND, anonymous=anonymous),
                reporter_id="U7",
                reporter_key="k",
                now=NOW,
            )
        theme = await store.get_theme_by_id(s, workspace_id=ws, theme_id=theme_id)
        assert theme is not None
        await store.add_vote(s, scope=scope, theme=theme, user_id="U2", limit=None, now=NOW)
        await store.add_action_item(
            s, scope=scope, item=NewActionItem("do", "U3", None, theme_id), created_by="U1", now=NOW
        )
        export = await store.get_export(s, workspace_id=ws, channel_id="C1")
        other = await store.get_export(s, workspace_id=ws, channel_id="C2")
    lines = build_export_csv(export).splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [
        "waste",
        "waste",
        "theme",
        "vote",
        "action",
    ]
    assert ",U7," in lines[1] and ",U7," not in lines[2]
    assert other.themes == [] and other.observations == []


async def test_two_votes_at_once_by_one_person_keep_to_the_limit(any_db: Database) -> None:
    if any_db.url.startswith("sqlite"):
        pytest.skip("SQLite has one connection: its writers never overlap")
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    for title in ("a", "b"):
        await add(any_db, scope, title)
    async with any_db.transaction() as s:
        first_theme = await store.get_theme(s, scope=scope, number=1)
        second_theme = await store.get_theme(s, scope=scope, number=2)
    assert first_theme is not None and second_theme is not None

    async def vote(session: object, theme: object) -> VoteOutcome:
        return await store.add_vote(
            session,  # type: ignore[arg-type]
            scope=scope,
            theme=theme,  # type: ignore[arg-type]
            user_id="U1",
            limit=1,
            now=NOW,
        )

    async def second_vote() -> VoteOutcome:
        async with any_db.transaction() as s:
            return await vote(s, second_theme)

    async with any_db.transaction() as first:
        assert await vote(first, first_theme) is VoteOutcome.COUNTED
        pending = asyncio.create_task(second_vote())
        # The second vote must wait for the first to commit (or, unguarded, it finishes alone).
        deadline = asyncio.get_running_loop().time() + 10
        while not pending.done() and asyncio.get_running_loop().time() < deadline:
            async with any_db.engine.connect() as probe:
                waiting = await probe.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                )
            if waiting:
                break
            await asyncio.sleep(0.01)
    assert await pending is VoteOutcome.OVER_LIMIT
    async with any_db.transaction() as s:
        assert await store.count_open_votes(s, scope=scope, user_id="U1") == 1


async def test_a_reacted_message_reads_settings_theme_and_rank_at_once(any_db: Database) -> None:
    ws, other = await workspace(any_db), await workspace(any_db, "T2")
    scope = Scope(ws, "C1")
    old = await add(any_db, scope, "old", NOW)
    new = await add(any_db, scope, "new", NOW + timedelta(hours=1))
    top = await add(any_db, scope, "top", NOW + timedelta(hours=2))
    gone = await add(any_db, scope, "gone", NOW + timedelta(hours=3))
    async with any_db.transaction() as s:
        await update_channel_config(
            s, scope=scope, config=ChannelConfig(vote_emoji="star"), now=NOW
        )
        for theme_id, voters in (
            (top, ["U1", "U2"]),
            (new, ["U1"]),
            (old, ["U3"]),
            (gone, ["U1", "U2", "U3"]),
        ):
            theme = await store.get_theme_by_id(s, workspace_id=ws, theme_id=theme_id)
            assert theme is not None
            await store.set_theme_message(
                s, workspace_id=ws, theme_id=theme_id, channel_id="C1", message_ts=f"1.{theme_id}"
            )
            for voter in voters:
                await store.add_vote(
                    s, scope=scope, theme=theme, user_id=voter, limit=None, now=NOW
                )
        await store.change_theme_status(
            s, scope=scope, number=4, action=ThemeAction.DROP, actor_id="U1", now=NOW
        )

        async def reacted(ts: str, rank_with: int | None = 0, on: Scope = scope) -> Any:
            return await store.find_reacted_message(s, scope=on, message_ts=ts, rank_with=rank_with)

        # The backlog reads top (2), old (1), new (1): the closed theme ranks nothing.
        found = await reacted(f"1.{new}")
        assert found.config.vote_emoji == "star"
        assert found.theme is not None and (found.theme.title, found.theme.votes) == ("new", 1)
        assert [(await reacted(f"1.{t}")).ahead for t in (top, old, new)] == [0, 1, 2]
        # One more vote takes "new" level with "top", and it is the older of the two.
        assert (await reacted(f"1.{new}", rank_with=1)).ahead == 0
        assert (await reacted(f"1.{old}", rank_with=1)).ahead == 0
        unranked = await reacted(f"1.{new}", rank_with=None)
        assert unranked.ahead is None and unranked.theme == found.theme
        # A message that is no theme, and the same message seen from another workspace.
        plain = await reacted("9.999")
        assert plain.theme is None and plain.config.vote_emoji == "star"
        elsewhere = await reacted(f"1.{top}", on=Scope(other, "C1"))
        assert elsewhere.theme is None and elsewhere.config == ChannelConfig()


async def test_a_theme_shows_the_votes_stored_however_they_come_and_go(
    any_db: Database,
) -> None:
    """The count the theme keeps against the votes there are, after votes in a batch (by the
    driver and in a session), one by one within a limit (one over it undone), repeats, votes
    taken back, and a person's votes deleted by any other statement."""
    ws = await workspace(any_db)
    scope = Scope(ws, "C1")
    ids_ = [await add(any_db, scope, f"t{n}") for n in range(3)]

    async def shown() -> dict[int, int]:
        async with any_db.transaction() as s:
            themes = [await store.get_theme_by_id(s, workspace_id=ws, theme_id=i) for i in ids_]
            return {t.id: t.votes for t in themes if t is not None}

    async def stored() -> dict[int, int]:
        async with any_db.transaction() as s:
            rows = await s.execute(
                text("SELECT theme_id, count(*) FROM votes GROUP BY theme_id"), {}
            )
            counts = {int(theme): int(n) for theme, n in rows}
        return {i: counts.get(i, 0) for i in ids_}

    batch = [store.NewVote(ws, ids_[n % 3], f"U{n}", NOW) for n in range(7)]
    await any_db.run_batch(lambda driver: store.add_votes(driver, [*batch, batch[0]]))
    async with any_db.transaction() as s:
        again = [store.NewVote(ws, ids_[1], f"U{n}", NOW) for n in range(4)]
        await store.add_votes(s, again)
    assert await shown() == await stored() == {ids_[0]: 3, ids_[1]: 5, ids_[2]: 2}
    async with any_db.transaction() as s:
        themes = [await store.get_theme_by_id(s, workspace_id=ws, theme_id=i) for i in ids_]
        outcomes = [
            await store.add_vote(s, scope=scope, theme=t, user_id="ULIMIT", limit=1, now=NOW)
            for t in themes
            if t is not None
        ]
        assert outcomes[1:] == [VoteOutcome.OVER_LIMIT] * 2
        assert await store.remove_vote(s, workspace_id=ws, theme_id=ids_[1], user_id="U3")
        assert not await store.remove_vote(s, workspace_id=ws, theme_id=ids_[1], user_id="U3")
    assert await shown() == await stored() == {ids_[0]: 4, ids_[1]: 4, ids_[2]: 2}
    async with any_db.transaction() as s:
        await s.execute(text("DELETE FROM votes WHERE user_id = 'U0'"), {})
    assert await shown() == await stored() == {ids_[0]: 3, ids_[1]: 3, ids_[2]: 2}
