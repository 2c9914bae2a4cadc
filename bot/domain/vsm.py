"""Value stream map arithmetic, after Martin & Osterling's *Value Stream Mapping*.

Pure functions over frozen steps: lead time, process time, flow efficiency (activity ratio),
rolled %C&A, the constraint, and the measured wait per step from logged waits.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from bot.domain.durations import parse_duration
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.text import is_blank, without_controls

K = TypeVar("K", bound=Hashable)

MAX_STEPS = 30
MAX_STEP_NAME = 60


class MapState(StrEnum):
    CURRENT = "current"
    FUTURE = "future"


@dataclass(frozen=True, slots=True)
class Step:
    """One process box. ``wait_minutes`` is the queue *before* the step."""

    name: str
    position: int
    process_minutes: int
    wait_minutes: int
    pct_complete_accurate: int = 100
    owner_role: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class MapMetrics:
    lead_time: int
    total_process_time: int
    total_wait_time: int
    flow_efficiency: float | None
    """Total PT ÷ LT in 0–1; None when the lead time is zero (nothing to divide by)."""
    rolled_ca: float | None
    """Π %C&A in 0–1; None for a map with no steps."""
    constraint: Step | None
    """The step with the largest wait; None when no step waits at all."""
    step_count: int


@dataclass(frozen=True, slots=True)
class MeasuredWait:
    count: int
    median: float
    p85: float


@dataclass(frozen=True, slots=True)
class MetricDelta:
    current: float | None
    future: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.future is None:
            return None
        return self.future - self.current


@dataclass(frozen=True, slots=True)
class MapComparison:
    current: MapMetrics
    future: MapMetrics
    lead_time: MetricDelta
    process_time: MetricDelta
    flow_efficiency: MetricDelta
    rolled_ca: MetricDelta


def ordered(steps: Iterable[Step]) -> list[Step]:
    return sorted(steps, key=lambda s: (s.position, s.name.casefold()))


def compute_metrics(steps: Sequence[Step]) -> MapMetrics:
    total_pt = sum(s.process_minutes for s in steps)
    total_wt = sum(s.wait_minutes for s in steps)
    lead_time = total_pt + total_wt
    rolled: float | None = None
    if steps:
        rolled = math.prod(s.pct_complete_accurate / 100 for s in steps)
    waiting = [s for s in ordered(steps) if s.wait_minutes > 0]
    # Ties go to the earlier step: work queues there first.
    constraint = max(waiting, key=lambda s: s.wait_minutes, default=None)
    if constraint is not None:
        top = constraint.wait_minutes
        constraint = next(s for s in waiting if s.wait_minutes == top)
    return MapMetrics(
        lead_time=lead_time,
        total_process_time=total_pt,
        total_wait_time=total_wt,
        flow_efficiency=(total_pt / lead_time) if lead_time > 0 else None,
        rolled_ca=rolled,
        constraint=constraint,
        step_count=len(steps),
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default), q in 0–100."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be in 0–100, not {q}")
    data = sorted(values)
    rank = (len(data) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return data[low] + (data[high] - data[low]) * (rank - low)


def measure_waits(waits: Iterable[tuple[K, int]]) -> dict[K, MeasuredWait]:
    """Median and p85 of the logged waits per step key (a step id or name)."""
    by_step: dict[K, list[float]] = {}
    for key, minutes in waits:
        by_step.setdefault(key, []).append(float(minutes))
    return {
        key: MeasuredWait(count=len(v), median=percentile(v, 50), p85=percentile(v, 85))
        for key, v in by_step.items()
    }


def compare_maps(current: Sequence[Step], future: Sequence[Step]) -> MapComparison:
    cur, fut = compute_metrics(current), compute_metrics(future)
    return MapComparison(
        current=cur,
        future=fut,
        lead_time=MetricDelta(cur.lead_time, fut.lead_time),
        process_time=MetricDelta(cur.total_process_time, fut.total_process_time),
        flow_efficiency=MetricDelta(cur.flow_efficiency, fut.flow_efficiency),
        rolled_ca=MetricDelta(cur.rolled_ca, fut.rolled_ca),
    )


def parse_percent(text: str) -> int:
    cleaned = text.strip().removesuffix("%").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidInput(f"“{text}” is not a percentage: type a number from 0 to 100.") from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise InvalidInput(f"%C&A must be between 0 and 100, not {text}.")
    # Half up, as people round: round() would turn 12.5 into 12 and 13.5 into 14.
    return math.floor(value + 0.5)


def clean_step_name(text: str, existing: Mapping[str, int] | None = None) -> str:
    """Strip and check a step name; ``existing`` maps casefolded names to step ids."""
    name = " ".join(without_controls(text).split())
    if is_blank(name):
        raise InvalidInput("Give the step a name.")
    if len(name) > MAX_STEP_NAME:
        raise InvalidInput(f"Step names are at most {MAX_STEP_NAME} characters.")
    if existing and name.casefold() in existing:
        raise InvalidInput(f"This map already has a step called “{name}”.")
    return name


@dataclass(frozen=True, slots=True)
class StepDraft:
    """A step as typed in the form; storage gives it an id and a position on its map."""

    name: str
    process_minutes: int
    wait_minutes: int
    pct_complete_accurate: int = 100
    owner_role: str = ""


NO_WAIT = {"0", "0m", "none", "no", "-", "—"}


def parse_wait(text: str) -> int:
    """The queue before a step: a duration, or nothing (blank, ``0``, ``none``) for no wait."""
    cleaned = text.strip()
    if not cleaned or cleaned.casefold() in NO_WAIT:
        return 0
    return parse_duration(cleaned)


def check_room(step_count: int) -> None:
    if step_count >= MAX_STEPS:
        raise NotAllowed(
            f"This map already has {MAX_STEPS} steps, the most a map holds. "
            "Merge or remove a step first.",
            field="name",
        )


def place_after(order: Sequence[int], step_id: int, after_id: int | None) -> list[int]:
    """Step ids in their new order with ``step_id`` right after ``after_id`` (None: first)."""
    rest = [i for i in order if i != step_id]
    if after_id is None:
        return [step_id, *rest]
    if after_id == step_id:
        raise InvalidInput("A step can't go after itself: pick another place.", field="after")
    if after_id not in rest:
        raise NotFound("That step is not on this map any more: pick another place.", field="after")
    at = rest.index(after_id) + 1
    return [*rest[:at], step_id, *rest[at:]]


class Placement(StrEnum):
    AFTER = "after"
    BEFORE = "before"
    FIRST = "first"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class MoveRequest:
    name: str
    placement: Placement
    other: str | None = None


MOVE_USAGE = "Try `/vsm move Testing after Code review`, `… before …`, `… first` or `… last`."
_ENDS = {
    "first": Placement.FIRST,
    "to the start": Placement.FIRST,
    "to start": Placement.FIRST,
    "last": Placement.LAST,
    "to the end": Placement.LAST,
    "to end": Placement.LAST,
}


def parse_move(text: str, names: Iterable[str]) -> MoveRequest:
    """Read ``‹step› after|before ‹other›`` or ``‹step› first|last`` against the map's names.

    Step names may themselves contain "after" or "before": every split is tried and the one
    naming two steps of the map wins.
    """
    known = {n.casefold() for n in names}
    words = text.split()
    folded = [w.casefold() for w in words]
    for at, word in enumerate(folded):
        if word in (Placement.AFTER, Placement.BEFORE) and 0 < at < len(words) - 1:
            name, other = " ".join(words[:at]), " ".join(words[at + 1 :])
            if name.casefold() in known and other.casefold() in known:
                return MoveRequest(name, Placement(word), other)
    joined = " ".join(folded)
    for ending, placement in _ENDS.items():
        if joined.endswith(" " + ending):
            name = " ".join(words[: len(words) - len(ending.split())])
            if name:
                return MoveRequest(name, placement)
    for at, word in enumerate(folded):
        if word in (Placement.AFTER, Placement.BEFORE) and 0 < at < len(words) - 1:
            # Names that are not on the map: let the caller say which one it could not find.
            return MoveRequest(" ".join(words[:at]), Placement(word), " ".join(words[at + 1 :]))
    raise InvalidInput(f"I can't tell where to move it. {MOVE_USAGE}")


def after_id_for(
    order: Sequence[int], step_id: int, placement: Placement, other_id: int | None = None
) -> int | None:
    """The step a move puts ``step_id`` after (None: first), given the map's order of ids."""
    rest = [i for i in order if i != step_id]
    if placement is Placement.FIRST:
        return None
    if placement is Placement.LAST:
        return rest[-1] if rest else None
    if other_id == step_id:
        raise InvalidInput("A step can't move next to itself: name another step.")
    if other_id not in rest:
        raise NotFound("That step is not on this map.")
    if placement is Placement.AFTER:
        return other_id
    at = rest.index(other_id)
    return rest[at - 1] if at > 0 else None
