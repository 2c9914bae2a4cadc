from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.hypotheses import (
    BASELINE_WINDOW,
    LOWER_IS_BETTER,
    METRIC_LABELS,
    METRIC_TARGET_EXAMPLES,
    METRIC_UNITS,
    Hypothesis,
    Metric,
    Observation,
    Verdict,
    describe_hypothesis,
    format_metric_value,
    judge,
    measure,
    measurement_window,
    parse_target,
    validate_hypothesis,
)
from bot.domain.vsm import Step
from bot.domain.wastes import WasteCategory

W = WasteCategory
M = Metric
START = datetime(2026, 10, 5, tzinfo=UTC)
END = START + BASELINE_WINDOW
TODAY = date(2026, 11, 2)
HOUR = 60
DAY = 24 * HOUR

STEPS = [
    Step("Code", 1, process_minutes=4 * HOUR, wait_minutes=1 * DAY, id=1),
    Step("Review", 2, process_minutes=1 * HOUR, wait_minutes=2 * DAY, id=2),
    Step("Deploy", 3, process_minutes=1 * HOUR, wait_minutes=18 * HOUR, id=3),
]


def _obs(
    minutes: int | None,
    *,
    at: datetime = START,
    category: WasteCategory = W.WAITING,
    step_id: int | None = None,
    is_wait: bool = False,
) -> Observation:
    return Observation(category, minutes, step_id, at, is_wait)


def test_metric_lower_is_better_for_all_but_flow_efficiency() -> None:
    assert set(Metric) - LOWER_IS_BETTER == {M.FLOW_EFFICIENCY}


def test_metric_tables_cover_every_metric() -> None:
    for table in (METRIC_LABELS, METRIC_UNITS, METRIC_TARGET_EXAMPLES):
        assert set(table) == set(Metric)


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [
        (M.LEAD_TIME, 5040, "3 d 12 h"),
        (M.STEP_WAIT, 210, "3 h 30 min"),
        (M.MINUTES_LOST, 45, "45 min"),
        (M.FLOW_EFFICIENCY, 0.125, "12.5 %"),
        (M.FLOW_EFFICIENCY, 1.0, "100.0 %"),
        (M.WASTE_COUNT, 7.0, "7"),
        (M.WASTE_COUNT, 0.0, "0"),
        (M.LEAD_TIME, None, "–"),
    ],
)
def test_format_metric_value_in_the_metric_unit(
    metric: Metric, value: float | None, text: str
) -> None:
    assert format_metric_value(metric, value) == text


@pytest.mark.parametrize(
    ("metric", "text", "value"),
    [
        (M.LEAD_TIME, "3d", 3 * DAY),
        (M.STEP_WAIT, "4h", 4 * HOUR),
        (M.MINUTES_LOST, "1d 4h", 28 * HOUR),
        (M.MINUTES_LOST, "0", 0),
        (M.FLOW_EFFICIENCY, "25%", 0.25),
        (M.FLOW_EFFICIENCY, " 12.5 % ", 0.125),
        (M.FLOW_EFFICIENCY, "40", 0.4),
        (M.WASTE_COUNT, "5", 5),
        (M.WASTE_COUNT, "0", 0),
    ],
)
def test_parse_target_reads_the_metric_unit(metric: Metric, text: str, value: float) -> None:
    assert parse_target(metric, text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("metric", "text"),
    [
        (M.LEAD_TIME, "3"),
        (M.LEAD_TIME, "soon"),
        (M.STEP_WAIT, "0h"),
        (M.FLOW_EFFICIENCY, "a quarter"),
        (M.FLOW_EFFICIENCY, ""),
        (M.WASTE_COUNT, "2.5"),
        (M.WASTE_COUNT, "-1"),
        (M.WASTE_COUNT, "five"),
    ],
)
def test_parse_target_names_the_target_field(metric: Metric, text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_target(metric, text)
    assert caught.value.field == "target"


def test_measure_lead_time_and_flow_efficiency_come_from_the_map() -> None:
    lead_time = measure(M.LEAD_TIME, steps=STEPS, observations=[], start=START, end=END)
    flow = measure(M.FLOW_EFFICIENCY, steps=STEPS, observations=[], start=START, end=END)
    assert lead_time == 6 * HOUR + 3 * DAY + 18 * HOUR
    assert flow == pytest.approx(6 / 96)


@pytest.mark.parametrize("metric", [M.LEAD_TIME, M.FLOW_EFFICIENCY])
def test_measure_map_metrics_of_an_empty_map_are_none(metric: Metric) -> None:
    assert measure(metric, steps=[], observations=[], start=START, end=END) is None
    zero = [Step("Idle", 1, 0, 0)]
    assert measure(metric, steps=zero, observations=[], start=START, end=END) is None


def test_measure_step_wait_is_the_median_wait_at_the_step_in_the_window() -> None:
    observations = [
        _obs(60, step_id=2, is_wait=True),
        _obs(120, step_id=2, is_wait=True, at=START + timedelta(days=1)),
        _obs(600, step_id=2, is_wait=True, at=END - timedelta(seconds=1)),
        _obs(9999, step_id=2, is_wait=True, at=END),  # the window is half-open
        _obs(9999, step_id=2, is_wait=True, at=START - timedelta(seconds=1)),
        _obs(9999, step_id=1, is_wait=True),  # another step
        _obs(9999, step_id=2, is_wait=False),  # a waste that is not a wait
        _obs(None, step_id=2, is_wait=True),
    ]
    measured = measure(
        M.STEP_WAIT, steps=STEPS, observations=observations, start=START, end=END, step_id=2
    )
    assert measured == 120


def test_measure_step_wait_interpolates_an_even_count() -> None:
    observations = [_obs(m, step_id=2, is_wait=True) for m in (60, 120, 180, 240)]
    measured = measure(
        M.STEP_WAIT, steps=STEPS, observations=observations, start=START, end=END, step_id=2
    )
    assert measured == 150


def test_measure_step_wait_without_waits_is_none() -> None:
    measured = measure(
        M.STEP_WAIT, steps=STEPS, observations=[_obs(60)], start=START, end=END, step_id=2
    )
    assert measured is None


def test_measure_step_wait_needs_a_step() -> None:
    with pytest.raises(ValueError, match="step_id"):
        measure(M.STEP_WAIT, steps=STEPS, observations=[], start=START, end=END)


OBSERVATIONS = [
    _obs(30, category=W.DEFECTS, step_id=1),
    _obs(None, category=W.DEFECTS, step_id=2),
    _obs(120, category=W.WAITING, step_id=2, is_wait=True),
    _obs(45, category=W.MOTION),
    _obs(500, category=W.DEFECTS, at=END),
]


@pytest.mark.parametrize(
    ("category", "step_id", "count", "minutes"),
    [
        (None, None, 4, 195),
        (W.DEFECTS, None, 2, 30),
        (None, 2, 2, 120),
        (W.DEFECTS, 2, 1, 0),
        (W.INVENTORY, None, 0, 0),
    ],
)
def test_measure_waste_count_and_minutes_lost_filter_by_category_and_step(
    category: WasteCategory | None, step_id: int | None, count: int, minutes: int
) -> None:
    def measured(metric: Metric) -> float | None:
        return measure(
            metric,
            steps=[],
            observations=OBSERVATIONS,
            start=START,
            end=END,
            step_id=step_id,
            category=category,
        )

    assert measured(M.WASTE_COUNT) == count
    assert measured(M.MINUTES_LOST) == minutes


def test_measurement_window_is_the_baseline_window_before_the_moment() -> None:
    assert measurement_window(END) == (START, END)
    assert timedelta(weeks=4) == BASELINE_WINDOW


def test_validate_hypothesis_accepts_an_improvement() -> None:
    validate_hypothesis(M.LEAD_TIME, 5040, 3 * DAY, TODAY + timedelta(days=30), TODAY)
    validate_hypothesis(M.FLOW_EFFICIENCY, 0.05, 0.2, TODAY + timedelta(days=1), TODAY)
    validate_hypothesis(M.WASTE_COUNT, 12, 0, TODAY + timedelta(days=1), TODAY)
    validate_hypothesis(M.STEP_WAIT, 600, 60, TODAY + timedelta(days=1), TODAY, step_id=2)


def test_validate_hypothesis_accepts_any_target_without_a_baseline() -> None:
    validate_hypothesis(M.MINUTES_LOST, None, 600, TODAY + timedelta(days=1), TODAY)


@pytest.mark.parametrize(
    ("metric", "baseline", "target", "check", "field", "message"),
    [
        (M.LEAD_TIME, 5040, 3000, TODAY, "check_date", "Pick a check date after today."),
        (
            M.LEAD_TIME,
            5040,
            3000,
            TODAY - timedelta(days=1),
            "check_date",
            "Pick a check date after today.",
        ),
        (
            M.LEAD_TIME,
            5040,
            6000,
            TODAY + timedelta(days=7),
            "target",
            "Lead time should go down: pick a target below the baseline 3 d 12 h.",
        ),
        (
            M.FLOW_EFFICIENCY,
            0.125,
            0.1,
            TODAY + timedelta(days=7),
            "target",
            "Flow efficiency should go up: pick a target above the baseline 12.5 %.",
        ),
        (
            M.WASTE_COUNT,
            4,
            4,
            TODAY + timedelta(days=7),
            "target",
            "The target is the baseline, 4: pick one that would show a change.",
        ),
        (
            M.FLOW_EFFICIENCY,
            0.5,
            1.5,
            TODAY + timedelta(days=7),
            "target",
            "Flow efficiency is a percentage from 0 to 100.",
        ),
        (
            M.MINUTES_LOST,
            None,
            -5,
            TODAY + timedelta(days=7),
            "target",
            "The target cannot be negative.",
        ),
        (
            M.STEP_WAIT,
            600,
            60,
            TODAY + timedelta(days=7),
            "step",
            "Pick the step whose wait should go down.",
        ),
    ],
)
def test_validate_hypothesis_names_the_field_to_fix(
    metric: Metric,
    baseline: float | None,
    target: float,
    check: date,
    field: str,
    message: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_hypothesis(metric, baseline, target, check, TODAY)
    assert caught.value.field == field
    assert caught.value.message == message


def test_validate_hypothesis_rejects_a_non_finite_target() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_hypothesis(M.LEAD_TIME, None, float("nan"), TODAY + timedelta(1), TODAY)
    assert caught.value.field == "target"


def _hypothesis(metric: Metric, target: float, baseline: float | None = None) -> Hypothesis:
    return Hypothesis(metric, target, TODAY, baseline)


@pytest.mark.parametrize(
    ("metric", "target", "measured", "verdict"),
    [
        (M.LEAD_TIME, 3000, 2900, Verdict.MET),
        (M.LEAD_TIME, 3000, 3000, Verdict.MET),
        (M.LEAD_TIME, 3000, 3001, Verdict.NOT_MET),
        (M.FLOW_EFFICIENCY, 0.2, 0.25, Verdict.MET),
        (M.FLOW_EFFICIENCY, 0.2, 0.2, Verdict.MET),
        (M.FLOW_EFFICIENCY, 0.2, 0.1, Verdict.NOT_MET),
        (M.WASTE_COUNT, 0, 0, Verdict.MET),
        (M.WASTE_COUNT, 3, 4, Verdict.NOT_MET),
        (M.STEP_WAIT, 60, None, Verdict.NOT_ENOUGH_DATA),
    ],
)
def test_judge_compares_in_the_better_direction(
    metric: Metric, target: float, measured: float | None, verdict: Verdict
) -> None:
    assert judge(_hypothesis(metric, target), measured) is verdict


_VALUES = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(st.sampled_from(list(Metric)), _VALUES, _VALUES)
def test_judge_met_means_the_measurement_is_on_the_right_side(
    metric: Metric, target: float, measured: float
) -> None:
    verdict = judge(_hypothesis(metric, target), measured)
    right_side = measured <= target if metric in LOWER_IS_BETTER else measured >= target
    assert (verdict is Verdict.MET) == right_side
    assert verdict is not Verdict.NOT_ENOUGH_DATA


@given(st.sampled_from(list(Metric)), _VALUES, _VALUES)
def test_judge_meets_a_validated_target_when_measured_at_the_target(
    metric: Metric, baseline: float, target: float
) -> None:
    if metric is Metric.FLOW_EFFICIENCY:
        baseline, target = baseline / 1e6, target / 1e6
    try:
        validate_hypothesis(metric, baseline, target, TODAY + timedelta(1), TODAY, step_id=1)
    except InvalidInput:
        return
    hypothesis = _hypothesis(metric, target, baseline)
    assert judge(hypothesis, target) is Verdict.MET
    assert judge(hypothesis, baseline) is Verdict.NOT_MET


def test_describe_hypothesis_reads_as_a_sentence() -> None:
    hypothesis = Hypothesis(
        M.LEAD_TIME,
        3 * DAY,
        date(2027, 3, 1),
        5040,
        change="automate the test environment",
    )
    assert describe_hypothesis(hypothesis) == (
        "If we automate the test environment, lead time will go from 3 d 12 h to 3 d by 1 Mar 2027."
    )


def test_describe_hypothesis_names_the_waste_the_change_removes() -> None:
    hypothesis = Hypothesis(
        M.STEP_WAIT,
        4 * HOUR,
        date(2027, 3, 1),
        2 * DAY,
        step_id=2,
        category=W.WAITING,
        change="We pair on reviews.",
    )
    assert describe_hypothesis(hypothesis, step_name="Review") == (
        "If we pair on reviews to remove waiting, the wait at Review will go from 2 d to 4 h "
        "by 1 Mar 2027."
    )


def test_describe_hypothesis_without_a_change_or_baseline() -> None:
    hypothesis = Hypothesis(M.FLOW_EFFICIENCY, 0.25, date(2027, 1, 15), None)
    assert describe_hypothesis(hypothesis) == "Flow efficiency will reach 25.0 % by 15 Jan 2027."


@pytest.mark.parametrize(
    ("hypothesis", "phrase"),
    [
        (
            Hypothesis(M.WASTE_COUNT, 2, date(2027, 1, 15), 9, category=W.DEFECTS),
            "the number of wastes logged as defects in 4 weeks will go from 9 to 2",
        ),
        (
            Hypothesis(M.WASTE_COUNT, 2, date(2027, 1, 15), 9),
            "the number of wastes logged in 4 weeks will go from 9 to 2",
        ),
        (
            Hypothesis(M.MINUTES_LOST, 600, date(2027, 1, 15), 3000, category=W.MOTION),
            "the time lost to motion in 4 weeks will go from 2 d 2 h to 10 h",
        ),
    ],
)
def test_describe_hypothesis_for_logged_waste(hypothesis: Hypothesis, phrase: str) -> None:
    assert phrase in describe_hypothesis(hypothesis).lower()
