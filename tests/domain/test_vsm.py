from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.vsm import (
    MAX_STEPS,
    MeasuredWait,
    MoveRequest,
    Placement,
    Step,
    after_id_for,
    check_room,
    clean_step_name,
    compare_maps,
    compute_metrics,
    measure_waits,
    ordered,
    parse_move,
    parse_percent,
    parse_wait,
    percentile,
    place_after,
)

# Three steps worked by hand:
#   LT = (60 + 0) + (30 + 240) + (90 + 120) = 540 min; PT = 180; WT = 360
#   flow efficiency = 180 / 540 = 1/3; rolled %C&A = 0.9 × 0.8 × 1.0 = 0.72
#   constraint = Review (the largest wait, 240 min)
BUILD = Step("Build", 1, process_minutes=60, wait_minutes=0, pct_complete_accurate=90)
REVIEW = Step("Review", 2, process_minutes=30, wait_minutes=240, pct_complete_accurate=80)
DEPLOY = Step("Deploy", 3, process_minutes=90, wait_minutes=120)
THREE = [BUILD, REVIEW, DEPLOY]


def test_compute_metrics_of_a_hand_computed_map() -> None:
    metrics = compute_metrics(THREE)
    assert metrics.lead_time == 540
    assert metrics.total_process_time == 180
    assert metrics.total_wait_time == 360
    assert metrics.flow_efficiency == pytest.approx(1 / 3)
    assert metrics.rolled_ca == pytest.approx(0.72)
    assert metrics.constraint == REVIEW
    assert metrics.step_count == 3


def test_compute_metrics_does_not_depend_on_the_order_given() -> None:
    assert compute_metrics(THREE) == compute_metrics(list(reversed(THREE)))


def test_compute_metrics_of_an_empty_map_divides_by_nothing() -> None:
    metrics = compute_metrics([])
    assert metrics.lead_time == 0
    assert metrics.total_process_time == 0
    assert metrics.total_wait_time == 0
    assert metrics.flow_efficiency is None
    assert metrics.rolled_ca is None
    assert metrics.constraint is None
    assert metrics.step_count == 0


def test_compute_metrics_of_zero_time_steps_has_no_flow_efficiency() -> None:
    metrics = compute_metrics([Step("Plan", 1, 0, 0), Step("Do", 2, 0, 0)])
    assert metrics.lead_time == 0
    assert metrics.flow_efficiency is None
    assert metrics.rolled_ca == 1.0
    assert metrics.constraint is None


def test_compute_metrics_of_a_map_without_waits_is_fully_efficient() -> None:
    metrics = compute_metrics([Step("Plan", 1, 30, 0), Step("Do", 2, 90, 0)])
    assert metrics.flow_efficiency == 1.0
    assert metrics.constraint is None


def test_compute_metrics_of_only_waiting_has_zero_flow_efficiency() -> None:
    metrics = compute_metrics([Step("Queue", 1, 0, 600)])
    assert metrics.flow_efficiency == 0.0
    assert metrics.constraint is not None
    assert metrics.constraint.name == "Queue"


def test_compute_metrics_with_zero_percent_ca_rolls_to_zero() -> None:
    metrics = compute_metrics([BUILD, Step("Test", 2, 60, 60, pct_complete_accurate=0)])
    assert metrics.rolled_ca == 0.0


def test_compute_metrics_constraint_tie_goes_to_the_earlier_step() -> None:
    late = Step("Late", 5, 10, 300)
    early = Step("Early", 2, 10, 300)
    assert compute_metrics([late, early]).constraint == early


def test_ordered_sorts_by_position_then_name() -> None:
    b = Step("b", 1, 0, 0)
    a = Step("A", 1, 0, 0)
    first = Step("z", 0, 0, 0)
    assert ordered([b, a, first]) == [first, a, b]


_STEP = st.builds(
    Step,
    name=st.text(min_size=1, max_size=10),
    position=st.integers(min_value=0, max_value=MAX_STEPS),
    process_minutes=st.integers(min_value=0, max_value=10**6),
    wait_minutes=st.integers(min_value=0, max_value=10**6),
    pct_complete_accurate=st.integers(min_value=0, max_value=100),
)
_MAPS = st.lists(_STEP, max_size=MAX_STEPS)


@given(_MAPS)
def test_compute_metrics_lead_time_is_process_plus_wait(steps: list[Step]) -> None:
    metrics = compute_metrics(steps)
    assert metrics.total_process_time == sum(s.process_minutes for s in steps)
    assert metrics.total_wait_time == sum(s.wait_minutes for s in steps)
    assert metrics.lead_time == metrics.total_process_time + metrics.total_wait_time


@given(_MAPS)
def test_compute_metrics_flow_efficiency_is_a_fraction(steps: list[Step]) -> None:
    metrics = compute_metrics(steps)
    if metrics.lead_time == 0:
        assert metrics.flow_efficiency is None
    else:
        assert metrics.flow_efficiency is not None
        assert 0 <= metrics.flow_efficiency <= 1


@given(_MAPS)
def test_compute_metrics_rolled_ca_never_beats_the_worst_step(steps: list[Step]) -> None:
    metrics = compute_metrics(steps)
    if not steps:
        assert metrics.rolled_ca is None
        return
    assert metrics.rolled_ca is not None
    assert 0 <= metrics.rolled_ca <= min(s.pct_complete_accurate for s in steps) / 100


@given(_MAPS)
def test_compute_metrics_constraint_waits_longest(steps: list[Step]) -> None:
    metrics = compute_metrics(steps)
    longest = max((s.wait_minutes for s in steps), default=0)
    if longest == 0:
        assert metrics.constraint is None
    else:
        assert metrics.constraint is not None
        assert metrics.constraint.wait_minutes == longest


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 85, 5.0),
        ([1.0, 2.0, 3.0], 50, 2.0),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 85, 3.55),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
    ],
)
def test_percentile_interpolates_like_numpy(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0–100"):
        percentile([1.0], 101)


@given(
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50),
    st.floats(min_value=0, max_value=100),
)
def test_percentile_stays_within_the_values(values: list[int], q: float) -> None:
    floats = [float(v) for v in values]
    result = percentile(floats, q)
    assert min(floats) <= result <= max(floats)


def test_measure_waits_groups_by_step() -> None:
    waits = [(1, 60), (1, 120), (1, 600), (2, 30)]
    # p85 of 60, 120, 600: rank 0.85 × 2 = 1.7, so 120 + 0.7 × (600 − 120) = 456
    assert measure_waits(waits) == {
        1: MeasuredWait(count=3, median=120.0, p85=456.0),
        2: MeasuredWait(count=1, median=30.0, p85=30.0),
    }


def test_measure_waits_of_nothing_is_empty() -> None:
    assert measure_waits([]) == {}


def test_compare_maps_reports_each_delta() -> None:
    future = [
        Step("Build", 1, 60, 0, 95),
        Step("Review", 2, 30, 60, 90),
        Step("Deploy", 3, 30, 30),
    ]
    comparison = compare_maps(THREE, future)
    assert comparison.lead_time.delta == 210 - 540
    assert comparison.process_time.delta == 120 - 180
    assert comparison.flow_efficiency.delta == pytest.approx(120 / 210 - 1 / 3)
    assert comparison.rolled_ca.delta == pytest.approx(0.855 - 0.72)
    assert comparison.current.constraint == REVIEW
    assert comparison.future.constraint is not None
    assert comparison.future.constraint.name == "Review"


def test_compare_maps_without_a_future_map_has_no_ratio_deltas() -> None:
    comparison = compare_maps(THREE, [])
    assert comparison.lead_time.delta == -540
    assert comparison.flow_efficiency.delta is None
    assert comparison.rolled_ca.delta is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("85", 85),
        ("85%", 85),
        (" 85 % ", 85),
        ("0", 0),
        ("100", 100),
        ("12.4", 12),
        ("12.5", 13),
        ("13.5", 14),
        ("99.5", 100),
    ],
)
def test_parse_percent_reads_whole_percentages(text: str, value: int) -> None:
    assert parse_percent(text) == value


@pytest.mark.parametrize("text", ["", "abc", "101", "-1", "100.5", "nan", "inf", "50%%"])
def test_parse_percent_rejects_other_text(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_percent(text)


def test_clean_step_name_collapses_whitespace() -> None:
    assert clean_step_name("  Code   review\n") == "Code review"


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "Give the step a name"), ("   ", "Give the step a name"), ("x" * 61, "60 characters")],
)
def test_clean_step_name_rejects_empty_or_long_names(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        clean_step_name(text)


def test_clean_step_name_rejects_a_name_already_on_the_map() -> None:
    with pytest.raises(InvalidInput, match="already has a step called “REVIEW”"):
        clean_step_name("REVIEW", {"review": 2})
    assert clean_step_name("Deploy", {"review": 2}) == "Deploy"


@pytest.mark.parametrize(
    ("text", "minutes"), [("", 0), ("  ", 0), ("0", 0), ("none", 0), ("3d", 4320)]
)
def test_parse_wait_reads_no_wait_as_zero(text: str, minutes: int) -> None:
    assert parse_wait(text) == minutes


@pytest.mark.parametrize("text", ["soon", "5", "-2h", "400d"])
def test_parse_wait_rejects_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_wait(text)


def test_check_room_refuses_the_31st_step() -> None:
    check_room(MAX_STEPS - 1)
    with pytest.raises(NotAllowed, match="30 steps") as raised:
        check_room(MAX_STEPS)
    assert raised.value.field == "name"


def test_place_after_puts_a_step_first_after_another_or_moves_it() -> None:
    assert place_after([1, 2, 3], 9, None) == [9, 1, 2, 3]
    assert place_after([1, 2, 3], 9, 2) == [1, 2, 9, 3]
    assert place_after([1, 2, 3], 1, 3) == [2, 3, 1]
    assert place_after([1, 2, 3], 3, None) == [3, 1, 2]


def test_place_after_refuses_itself_or_a_missing_step() -> None:
    with pytest.raises(InvalidInput) as itself:
        place_after([1, 2], 2, 2)
    with pytest.raises(NotFound) as missing:
        place_after([1, 2], 2, 7)
    assert itself.value.field == missing.value.field == "after"


@given(st.lists(st.integers(1, 50), unique=True, min_size=1), st.data())
def test_place_after_keeps_every_step_once(order: list[int], data: st.DataObject) -> None:
    step = data.draw(st.sampled_from(order))
    after = data.draw(st.sampled_from([None, *(i for i in order if i != step)]))
    placed = place_after(order, step, after)
    assert sorted(placed) == sorted(order)
    assert placed.index(step) == (0 if after is None else placed.index(after) + 1)


NAMES = ["Code review", "Testing", "Review after release", "Deploy"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Testing after Code review", MoveRequest("Testing", Placement.AFTER, "Code review")),
        ("testing BEFORE deploy", MoveRequest("testing", Placement.BEFORE, "deploy")),
        (
            "Review after release after Testing",
            MoveRequest("Review after release", Placement.AFTER, "Testing"),
        ),
        ("Deploy first", MoveRequest("Deploy", Placement.FIRST)),
        ("Code review to the end", MoveRequest("Code review", Placement.LAST)),
        ("Nope after Testing", MoveRequest("Nope", Placement.AFTER, "Testing")),
    ],
)
def test_parse_move_reads_where_a_step_goes(text: str, expected: MoveRequest) -> None:
    assert parse_move(text, NAMES) == expected


@pytest.mark.parametrize("text", ["Testing", "after Testing", "Testing somewhere"])
def test_parse_move_without_a_place_shows_an_example(text: str) -> None:
    with pytest.raises(InvalidInput, match="/vsm move"):
        parse_move(text, NAMES)


def test_after_id_for_turns_a_placement_into_the_step_before() -> None:
    order = [1, 2, 3, 4]
    assert after_id_for(order, 3, Placement.FIRST) is None
    assert after_id_for(order, 1, Placement.LAST) == 4
    assert after_id_for(order, 4, Placement.LAST) == 3
    assert after_id_for(order, 4, Placement.AFTER, 1) == 1
    assert after_id_for(order, 4, Placement.BEFORE, 2) == 1
    assert after_id_for(order, 3, Placement.BEFORE, 1) is None
    with pytest.raises(InvalidInput):
        after_id_for(order, 2, Placement.AFTER, 2)


def test_measure_waits_median_and_p85_of_a_step() -> None:
    # 60, 120, 180, 240, 1440: median 180; p85 at rank 3.4 → 240 + 0.4 × 1200 = 720.
    measured = measure_waits([(7, m) for m in (240, 60, 1440, 180, 120)])
    assert list(measured) == [7]
    assert (measured[7].count, measured[7].median) == (5, 180.0)
    assert measured[7].p85 == pytest.approx(720.0)
