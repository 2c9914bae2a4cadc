"""Kaizen hypotheses: what a theme promises to change, how it is measured, and the verdict.

*"If we ‹change›, ‹metric› will go from ‹baseline› to ‹target› by ‹check date›."* The baseline
is measured when the hypothesis is set, over the ``BASELINE_WINDOW`` before it; the check date
measures the same window before the check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from bot.domain.durations import format_hours, parse_duration
from bot.domain.errors import InvalidInput
from bot.domain.vsm import Step, compute_metrics, percentile
from bot.domain.wastes import CATEGORIES, WasteCategory

BASELINE_WINDOW = timedelta(weeks=4)


class Metric(StrEnum):
    LEAD_TIME = "lead_time"
    FLOW_EFFICIENCY = "flow_efficiency"
    STEP_WAIT = "step_wait"
    WASTE_COUNT = "waste_count"
    MINUTES_LOST = "minutes_lost"


LOWER_IS_BETTER: frozenset[Metric] = frozenset(
    {Metric.LEAD_TIME, Metric.STEP_WAIT, Metric.WASTE_COUNT, Metric.MINUTES_LOST}
)
TIME_METRICS: frozenset[Metric] = frozenset(
    {Metric.LEAD_TIME, Metric.STEP_WAIT, Metric.MINUTES_LOST}
)

METRIC_LABELS: Mapping[Metric, str] = MappingProxyType(
    {
        Metric.LEAD_TIME: "Lead time",
        Metric.FLOW_EFFICIENCY: "Flow efficiency",
        Metric.STEP_WAIT: "Measured wait at a step",
        Metric.WASTE_COUNT: "Waste count",
        Metric.MINUTES_LOST: "Time lost",
    }
)

METRIC_UNITS: Mapping[Metric, str] = MappingProxyType(
    {
        Metric.LEAD_TIME: "minutes",
        Metric.FLOW_EFFICIENCY: "fraction",
        Metric.STEP_WAIT: "minutes",
        Metric.WASTE_COUNT: "wastes",
        Metric.MINUTES_LOST: "minutes",
    }
)
"""What a stored baseline, target or measurement is counted in."""

METRIC_TARGET_EXAMPLES: Mapping[Metric, str] = MappingProxyType(
    {
        Metric.LEAD_TIME: "3d",
        Metric.FLOW_EFFICIENCY: "25%",
        Metric.STEP_WAIT: "4h",
        Metric.WASTE_COUNT: "5",
        Metric.MINUTES_LOST: "6h",
    }
)
"""How a target is typed, for a modal's placeholder."""


def format_metric_value(metric: Metric, value: float | None) -> str:
    """``3.5 d`` for times, ``12.5 %`` for flow efficiency, ``7`` for a count; ``–`` for None."""
    if value is None:
        return "–"
    if metric in TIME_METRICS:
        return format_hours(value)
    if metric is Metric.FLOW_EFFICIENCY:
        return f"{value * 100:.1f} %"
    return str(round(value))


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_target(metric: Metric, text: str) -> float:
    """A target as typed in the modal, in the metric's stored unit (``METRIC_UNITS``).

    Times are durations (``3d``), flow efficiency a percentage (``25`` or ``25%``), and the
    count a whole number. A bare ``0`` is accepted for the measures that can reach zero.
    """
    stripped = text.strip()
    example = METRIC_TARGET_EXAMPLES[metric]
    if metric is Metric.FLOW_EFFICIENCY:
        number = stripped.removesuffix("%").strip()
        if not _NUMBER.fullmatch(number):
            raise InvalidInput(
                f"“{stripped}” is not a percentage: type one like {example}.", field="target"
            )
        return float(number) / 100
    if metric is Metric.WASTE_COUNT:
        if not re.fullmatch(r"[0-9]{1,9}", stripped):
            raise InvalidInput(
                f"“{stripped}” is not a count: type a whole number like {example}.",
                field="target",
            )
        return float(stripped)
    if metric is Metric.MINUTES_LOST and _NUMBER.fullmatch(stripped) and float(stripped) == 0:
        return 0.0
    try:
        return float(parse_duration(stripped))
    except InvalidInput as error:
        raise InvalidInput(error.message, field="target") from None


@dataclass(frozen=True, slots=True)
class Observation:
    """A logged waste or wait, as far as measuring a hypothesis needs to know."""

    category: WasteCategory
    minutes: int | None
    step_id: int | None
    created_at: datetime
    is_wait: bool


class Verdict(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NOT_ENOUGH_DATA = "not_enough_data"


VERDICT_LABELS: Mapping[Verdict, str] = MappingProxyType(
    {
        Verdict.MET: "met",
        Verdict.NOT_MET: "not met",
        Verdict.NOT_ENOUGH_DATA: "not enough data",
    }
)


@dataclass(frozen=True, slots=True)
class Hypothesis:
    metric: Metric
    target: float
    check_date: date
    baseline: float | None
    """None when there was nothing to measure when the hypothesis was set."""
    step_id: int | None = None
    category: WasteCategory | None = None
    change: str = ""
    verdict: Verdict | None = None
    """Set on the check date, when the metric was measured again."""
    measured: float | None = None


def measurement_window(end: datetime) -> tuple[datetime, datetime]:
    """The ``[start, end)`` window a measurement taken at ``end`` looks at."""
    return end - BASELINE_WINDOW, end


@dataclass(frozen=True, slots=True)
class LoggedTotals:
    """What the logged-waste metrics read of a window's categorised logs (one step's or one
    category's when the hypothesis names one): how many, their minutes, and each wait's
    minutes at the step."""

    count: int
    minutes: int
    step_waits: tuple[int, ...] = ()


def total_logs(
    observations: Sequence[Observation],
    *,
    start: datetime,
    end: datetime,
    step_id: int | None = None,
    category: WasteCategory | None = None,
) -> LoggedTotals:
    """The totals of observations already loaded (``storage.waste.get_logged_totals`` adds
    them up in SQL instead)."""
    window = [o for o in observations if start <= o.created_at < end]
    selected = [
        o
        for o in window
        if (category is None or o.category == category)
        and (step_id is None or o.step_id == step_id)
    ]
    waits = tuple(
        o.minutes
        for o in window
        if o.is_wait and step_id is not None and o.step_id == step_id and o.minutes is not None
    )
    return LoggedTotals(len(selected), sum(o.minutes or 0 for o in selected), waits)


def measure(
    metric: Metric,
    *,
    steps: Sequence[Step],
    observations: Sequence[Observation],
    start: datetime,
    end: datetime,
    step_id: int | None = None,
    category: WasteCategory | None = None,
) -> float | None:
    """The metric's value now (map metrics) or over ``[start, end)`` (logged wastes)."""
    totals = total_logs(observations, start=start, end=end, step_id=step_id, category=category)
    return measure_totals(metric, steps=steps, totals=totals, step_id=step_id)


def measure_totals(
    metric: Metric, *, steps: Sequence[Step], totals: LoggedTotals, step_id: int | None = None
) -> float | None:
    """The metric's value from the map and the window's totals.

    None means there is nothing to measure: a map without steps or lead time, or no wait
    logged at the step. A count of zero wastes is a measurement, not a lack of one.
    """
    if metric is Metric.LEAD_TIME or metric is Metric.FLOW_EFFICIENCY:
        metrics = compute_metrics(steps)
        if metrics.lead_time <= 0:
            return None
        if metric is Metric.LEAD_TIME:
            return float(metrics.lead_time)
        return metrics.flow_efficiency
    if metric is Metric.STEP_WAIT:
        if step_id is None:
            raise ValueError("step_wait is measured at a step: pass step_id")
        waits = [float(m) for m in totals.step_waits]
        return percentile(waits, 50) if waits else None
    if metric is Metric.WASTE_COUNT:
        return float(totals.count)
    return float(totals.minutes)


def _improves(metric: Metric, baseline: float, value: float) -> bool:
    return value < baseline if metric in LOWER_IS_BETTER else value > baseline


def validate_hypothesis(
    metric: Metric,
    baseline: float | None,
    target: float,
    check_date: date,
    today: date,
    *,
    step_id: int | None = None,
) -> None:
    """InvalidInput, naming the modal field, for a hypothesis that could not be judged fairly."""
    if metric is Metric.STEP_WAIT and step_id is None:
        raise InvalidInput("Pick the step whose wait should go down.", field="step")
    if check_date <= today:
        raise InvalidInput("Pick a check date after today.", field="check_date")
    if not math.isfinite(target) or target < 0:
        raise InvalidInput("The target cannot be negative.", field="target")
    if metric is Metric.FLOW_EFFICIENCY and target > 1:
        raise InvalidInput("Flow efficiency is a percentage from 0 to 100.", field="target")
    if baseline is None:
        return
    label = METRIC_LABELS[metric]
    shown = format_metric_value(metric, baseline)
    if math.isclose(target, baseline, rel_tol=1e-9, abs_tol=1e-9):
        raise InvalidInput(
            f"The target is the baseline, {shown}: pick one that would show a change.",
            field="target",
        )
    if not _improves(metric, baseline, target):
        if metric in LOWER_IS_BETTER:
            message = f"{label} should go down: pick a target below the baseline {shown}."
        else:
            message = f"{label} should go up: pick a target above the baseline {shown}."
        raise InvalidInput(message, field="target")


def judge(hypothesis: Hypothesis, measured: float | None) -> Verdict:
    """Met when the measurement reached the target, in the metric's better direction."""
    if measured is None:
        return Verdict.NOT_ENOUGH_DATA
    if hypothesis.metric in LOWER_IS_BETTER:
        reached = measured <= hypothesis.target
    else:
        reached = measured >= hypothesis.target
    return Verdict.MET if reached else Verdict.NOT_MET


_MAP_METRICS = frozenset({Metric.LEAD_TIME, Metric.FLOW_EFFICIENCY, Metric.STEP_WAIT})


def _format_date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _metric_phrase(hypothesis: Hypothesis, step_name: str | None) -> str:
    category = CATEGORIES[hypothesis.category].label.lower() if hypothesis.category else None
    match hypothesis.metric:
        case Metric.LEAD_TIME:
            return "lead time"
        case Metric.FLOW_EFFICIENCY:
            return "flow efficiency"
        case Metric.STEP_WAIT:
            return f"the wait at {step_name}" if step_name else "the wait at the step"
        case Metric.WASTE_COUNT:
            kind = f" as {category}" if category else ""
            where = f" at {step_name}" if step_name else ""
            return f"the number of wastes logged{kind}{where} in {BASELINE_WINDOW.days // 7} weeks"
        case Metric.MINUTES_LOST:
            lost = f"the time lost to {category}" if category else "the time lost"
            where = f" at {step_name}" if step_name else ""
            return f"{lost}{where} in {BASELINE_WINDOW.days // 7} weeks"


def describe_hypothesis(hypothesis: Hypothesis, *, step_name: str | None = None) -> str:
    """One sentence: *If we ‹change›, ‹metric› will go from ‹baseline› to ‹target› by ‹date›.*"""
    metric = hypothesis.metric
    phrase = _metric_phrase(hypothesis, step_name)
    target = format_metric_value(metric, hypothesis.target)
    if hypothesis.baseline is None:
        movement = f"will reach {target}"
    else:
        movement = f"will go from {format_metric_value(metric, hypothesis.baseline)} to {target}"
    claim = f"{phrase} {movement} by {_format_date(hypothesis.check_date)}."
    change = hypothesis.change.strip().rstrip(".")
    # People often type the whole clause; "If we if we …" reads badly.
    change = re.sub(r"^(?:if\s+)?we\s+", "", change, flags=re.IGNORECASE)
    if not change:
        return claim[0].upper() + claim[1:]
    if hypothesis.category is not None and metric in _MAP_METRICS:
        # The map metrics do not name the waste themselves, so the sentence has to.
        change = f"{change} to remove {CATEGORIES[hypothesis.category].label.lower()}"
    return f"If we {change}, {claim}"
