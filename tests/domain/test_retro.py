from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.retro import (
    DEFAULT_TEMPLATE,
    TEMPLATE_COLUMNS,
    TEMPLATE_LABELS,
    RetroPhase,
    RetroTemplate,
    next_phase,
    phase_due,
    validate_schedule,
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
