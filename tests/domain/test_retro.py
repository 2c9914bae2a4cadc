from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.observations import LoggedWaste, Source
from bot.domain.retro import (
    DEFAULT_TEMPLATE,
    MAX_NOTE,
    TEMPLATE_COLUMNS,
    TEMPLATE_LABELS,
    Note,
    RetroPhase,
    RetroTemplate,
    clean_note,
    clean_votes_per_person,
    column_label,
    costliest,
    lookback_window,
    next_phase,
    over_limit_message,
    phase_due,
    rank_notes,
    validate_schedule,
    waste_totals,
)
from bot.domain.wastes import WasteCategory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_retro_template_defaults_to_downtime() -> None:
    assert DEFAULT_TEMPLATE is RetroTemplate.DOWNTIME
    assert next(iter(RetroTemplate)) is RetroTemplate.DOWNTIME


def test_template_columns_of_downtime_are_the_waste_categories() -> None:
    assert TEMPLATE_COLUMNS[RetroTemplate.DOWNTIME] == tuple(c.value for c in WasteCategory)
    assert len(TEMPLATE_COLUMNS[RetroTemplate.DOWNTIME]) == 8


@pytest.mark.parametrize(
    ("template", "columns"),
    [
        (RetroTemplate.START_STOP_CONTINUE, ("Start", "Stop", "Continue")),
        (RetroTemplate.MAD_SAD_GLAD, ("Mad", "Sad", "Glad")),
        (RetroTemplate.FOUR_LS, ("Liked", "Learned", "Lacked", "Longed for")),
    ],
)
def test_template_columns_of_classic_formats(
    template: RetroTemplate, columns: tuple[str, ...]
) -> None:
    assert TEMPLATE_COLUMNS[template] == columns


def test_template_labels_cover_every_template_and_fit_an_option() -> None:
    assert set(TEMPLATE_LABELS) == set(RetroTemplate)
    assert all(0 < len(label) <= 75 for label in TEMPLATE_LABELS.values())


@pytest.mark.parametrize(
    ("phase", "following"),
    [
        (RetroPhase.COLLECT, RetroPhase.VOTE),
        (RetroPhase.VOTE, RetroPhase.SUMMARY),
        (RetroPhase.SUMMARY, RetroPhase.CLOSED),
    ],
)
def test_next_phase_moves_one_step(phase: RetroPhase, following: RetroPhase) -> None:
    assert next_phase(phase) is following


def test_next_phase_refuses_after_closed() -> None:
    with pytest.raises(NotAllowed, match="already closed"):
        next_phase(RetroPhase.CLOSED)


@pytest.mark.parametrize(
    ("phase", "now", "due"),
    [
        (RetroPhase.COLLECT, NOW - timedelta(seconds=1), False),
        (RetroPhase.COLLECT, NOW, True),
        (RetroPhase.COLLECT, NOW + HOUR, True),
        (RetroPhase.VOTE, NOW + HOUR, False),
        (RetroPhase.VOTE, NOW + 24 * HOUR, True),
        (RetroPhase.SUMMARY, NOW + 1000 * HOUR, False),
        (RetroPhase.CLOSED, NOW + 1000 * HOUR, False),
    ],
)
def test_phase_due_at_each_deadline(phase: RetroPhase, now: datetime, due: bool) -> None:
    assert phase_due(phase, NOW, NOW + 24 * HOUR, now) is due


def test_phase_due_never_without_a_deadline() -> None:
    assert phase_due(RetroPhase.COLLECT, None, None, NOW) is False
    assert phase_due(RetroPhase.VOTE, None, None, NOW) is False


def test_validate_schedule_accepts_collect_then_vote() -> None:
    validate_schedule(NOW + HOUR, NOW + 2 * HOUR, NOW)


@pytest.mark.parametrize(
    ("collect_until", "vote_until", "field"),
    [
        (NOW, NOW + HOUR, "collect_until"),
        (NOW - HOUR, NOW + HOUR, "collect_until"),
        (NOW + HOUR, NOW + HOUR, "vote_until"),
        (NOW + 2 * HOUR, NOW + HOUR, "vote_until"),
    ],
)
def test_validate_schedule_names_the_bad_field(
    collect_until: datetime, vote_until: datetime, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_schedule(collect_until, vote_until, NOW)
    assert caught.value.field == field


# -- notes, ranking and the look back ---------------------------------------------------------


def test_a_note_keeps_its_lines_and_needs_a_column_of_its_template() -> None:
    assert clean_note("  first\nsecond  \n", RetroTemplate.MAD_SAD_GLAD, "Mad") == (
        "Mad",
        "first\nsecond",
    )
    with pytest.raises(InvalidInput) as bad:
        clean_note("text", RetroTemplate.MAD_SAD_GLAD, "waiting")
    assert bad.value.field == "column"
    with pytest.raises(InvalidInput) as missing:
        clean_note("text", RetroTemplate.DOWNTIME, None)
    assert "kind of waste" in missing.value.message


@pytest.mark.parametrize("text", ["", "   \n  ", "x" * (MAX_NOTE + 1)])
def test_an_empty_or_over_long_note_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        clean_note(text, RetroTemplate.DOWNTIME, "waiting")
    assert bad.value.field == "text"


@pytest.mark.parametrize("text", ["0", "21", "two", "", "1.5"])
def test_votes_per_person_is_a_small_whole_number(text: str) -> None:
    with pytest.raises(InvalidInput):
        clean_votes_per_person(text)


def test_a_waste_walk_column_reads_as_its_waste() -> None:
    assert column_label(RetroTemplate.DOWNTIME, "non_utilized_talent") == "Non-utilized talent"
    assert column_label(RetroTemplate.FOUR_LS, "Lacked") == "Lacked"


def note(note_id: int, votes: int, minutes_in: int = 0) -> Note:
    return Note(
        note_id, 1, "Mad", f"n{note_id}", None, None, NOW + timedelta(minutes=minutes_in), votes
    )


def test_notes_rank_by_votes_then_by_who_came_first() -> None:
    ranked = rank_notes([note(1, 1, 5), note(2, 3, 9), note(3, 1, 1), note(4, 0)])
    assert [n.id for n in ranked] == [2, 3, 1, 4]


def test_the_first_retro_looks_back_14_days_later_ones_to_the_previous() -> None:
    before, start, end = lookback_window(NOW, None)
    assert (start, end) == (NOW - timedelta(days=14), NOW)
    assert before == NOW - timedelta(days=28)
    before, start, _ = lookback_window(NOW, NOW - timedelta(days=7))
    assert (before, start) == (NOW - timedelta(days=14), NOW - timedelta(days=7))


def waste(waste_id: int, category: str, minutes: int | None) -> LoggedWaste:
    return LoggedWaste(
        waste_id,
        "C1",
        category,
        f"w{waste_id}",
        minutes,
        False,
        None,
        None,
        "",
        "",
        Source.COMMAND,
        False,
        None,
        NOW,
    )


def test_waste_totals_compare_with_the_period_before_and_rank_by_time_lost() -> None:
    current = [waste(1, "defects", 60), waste(2, "waiting", 600), waste(3, "defects", None)]
    previous = [waste(4, "defects", 5), waste(5, "motion", 5)]
    totals = waste_totals(current, previous)
    assert [(t.category.value, t.count, t.minutes, t.previous_count) for t in totals] == [
        ("waiting", 1, 600, 0),
        ("defects", 2, 60, 1),
        ("motion", 0, 0, 1),
    ]
    assert [w.id for w in costliest(current)] == [2, 1]


def test_over_the_limit_says_how_many_votes_there_were() -> None:
    assert "your one vote" in over_limit_message(1)
    assert "all 3 of your votes" in over_limit_message(3)
