"""Value stream map images, drawn the way Martin & Osterling draw them.

Process boxes run left to right with an inventory triangle (the wait) before each; underneath,
the timeline ladder puts waits on the upper rungs and process times on the lower ones and ends
in the totals box. Kaizen bursts mark the steps where most waste was logged and the constraint
(the largest wait) is outlined in red. Long maps wrap onto several rows rather than shrinking
their text, so the image stays readable at Slack's preview size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle
from matplotlib.ticker import FuncFormatter

from bot.charts._canvas import (
    AMBER,
    AMBER_EDGE,
    AMBER_TEXT,
    BURST_FILL,
    FAINT,
    GREEN,
    HIGHLIGHT_EDGE,
    HIGHLIGHT_FILL,
    HIGHLIGHT_TEXT,
    INK,
    MUTED,
    NAVY,
    NAVY_FILL,
    PANEL_FILL,
    RED,
    RED_FILL,
    RULE,
    Sheet,
    clean_text,
    fmt_duration,
    fmt_percent,
    fmt_signed,
    font,
    render_message,
    rounded_box,
)
from bot.domain.vsm import (
    MapMetrics,
    MeasuredWait,
    MetricDelta,
    Step,
    compare_maps,
    compute_metrics,
    ordered,
)

EMPTY_MESSAGE = "No steps yet — add one with /vsm add"
EMPTY_HINT = "Each step needs a name, its process time and the wait before it."
MEASURED_TOLERANCE = 0.25
"""A measured wait more than this fraction away from the estimate is highlighted."""

# Geometry, in inches (the canvas is DPI px per inch).
WIDTH = 20.0
MARGIN = 0.35
MAX_PER_ROW = 7
MAX_SLOT = 2.7
GAP = 1.05  # the wait zone before each box
TOTALS_GAP = 0.35
TOTALS_W = 2.3
TITLE_H = 1.2
LEGEND_H = 0.6
LABEL_H = 0.55
HEADER_H = 0.86
DATA_H = 0.6
BOX_H = HEADER_H + DATA_H
LADDER_DROP = 0.4  # from the bottom of the boxes to the upper rung
RUNG = 0.42
ROW_H = LABEL_H + BOX_H + LADDER_DROP + RUNG + 0.62
BOX_PAD = 0.1

NAME_SIZE = 10.5
ROLE_SIZE = 8.5
DATA_SIZE = 9.5
WAIT_SIZE = 9.5
MEASURED_SIZE = 8
LADDER_SIZE = 8.5


@dataclass(frozen=True, slots=True)
class _Grid:
    rows: int
    per_row: int
    slot: float
    x0: float
    height: float

    @property
    def box_w(self) -> float:
        return self.slot - GAP

    def slot_x(self, index: int) -> float:
        return self.x0 + (index % self.per_row) * self.slot

    def row_top(self, index: int) -> float:
        return self.height - TITLE_H - (index // self.per_row) * ROW_H


def _grid(count: int) -> _Grid:
    rows = max(1, math.ceil(count / MAX_PER_ROW))
    per_row = max(1, math.ceil(count / rows))
    room = WIDTH - 2 * MARGIN - TOTALS_GAP - TOTALS_W
    slot = min(MAX_SLOT, room / per_row)
    content = per_row * slot + TOTALS_GAP + TOTALS_W
    x0 = max(MARGIN, (WIDTH - content) / 2)
    return _Grid(rows, per_row, slot, x0, TITLE_H + rows * ROW_H + LEGEND_H)


def render_value_stream(
    steps: Sequence[Step],
    *,
    title: str,
    measured: Mapping[int, MeasuredWait] | None = None,
    waste_counts: Mapping[int, int] | None = None,
    state_label: str = "Current state",
) -> bytes:
    """A value stream map as PNG bytes; ``measured`` and ``waste_counts`` are keyed by step id."""
    clean_title = clean_text(title) or "Value stream"
    clean_state = clean_text(state_label)
    if not steps:
        heading = f"{clean_title} — {clean_state}" if clean_state else clean_title
        return render_message(heading, EMPTY_MESSAGE, hint=EMPTY_HINT)

    chain = ordered(steps)
    metrics = compute_metrics(chain)
    grid = _grid(len(chain))
    sheet = Sheet(WIDTH, grid.height)
    measured = measured or {}
    bursts = _burst_counts(chain, waste_counts or {})

    _draw_title(sheet, clean_title, clean_state, metrics)
    any_measured = any_off = False
    for index, step in enumerate(chain):
        seen = measured.get(step.id) if step.id is not None else None
        is_constraint = step is metrics.constraint
        any_measured |= seen is not None
        any_off |= _draw_wait(sheet, grid, index, step, seen, is_constraint=is_constraint)
        _draw_box(sheet, grid, index, step, is_constraint=is_constraint)
        if index in bursts:
            top = grid.row_top(index) - LABEL_H
            right = grid.slot_x(index) + grid.slot
            _kaizen_burst(sheet, right - 0.24, top + 0.24, 0.3, bursts[index])
    _draw_ladder(sheet, grid, chain, metrics)
    _draw_totals(sheet, grid, len(chain), metrics)
    _draw_legend(sheet, bursts=bool(bursts), measured=any_measured, any_off=any_off)
    return sheet.png()


def _burst_counts(chain: Sequence[Step], waste_counts: Mapping[int, int]) -> dict[int, int]:
    """Positions in ``chain`` of the steps with the most waste logged, and that count."""
    counts = {i: waste_counts.get(s.id, 0) for i, s in enumerate(chain) if s.id is not None}
    top = max(counts.values(), default=0)
    if top <= 0:
        return {}
    return {i: n for i, n in counts.items() if n == top}


def _draw_title(sheet: Sheet, title: str, state: str, metrics: MapMetrics) -> None:
    top = sheet.height
    sheet.text(
        MARGIN,
        top - 0.5,
        sheet.fit_one(title, WIDTH - 2 * MARGIN, size=20, weight="bold"),
        size=20,
        weight="bold",
    )
    x = MARGIN
    if state:
        pill = sheet.fit_one(state, 4.0, size=10, weight="bold")
        sheet.text(
            x + 0.08,
            top - 0.92,
            pill.upper(),
            size=10,
            weight="bold",
            color="white",
            va="center",
            bbox={"boxstyle": "round,pad=0.35", "fc": NAVY, "ec": NAVY},
        )
        x += sheet.measure(pill.upper(), size=10, weight="bold") + 0.4
    parts = [
        f"{metrics.step_count} step{'s' if metrics.step_count != 1 else ''}",
        f"lead time {fmt_duration(metrics.lead_time)}",
        f"flow efficiency {fmt_percent(metrics.flow_efficiency)}",
    ]
    if metrics.constraint is not None:
        name = sheet.fit_one(clean_text(metrics.constraint.name) or "?", 5.0, size=11)
        parts.append(f"constraint: {name}")
    summary = sheet.fit_one("  ·  ".join(parts), WIDTH - MARGIN - x, size=11)
    sheet.text(x, top - 0.92, summary, size=11, color=MUTED, va="center")


def _draw_box(sheet: Sheet, grid: _Grid, index: int, step: Step, *, is_constraint: bool) -> None:
    left = grid.slot_x(index) + GAP
    top = grid.row_top(index) - LABEL_H
    width = grid.box_w
    edge = RED if is_constraint else NAVY
    line = 2.6 if is_constraint else 1.3
    ax = sheet.ax
    ax.add_patch(
        Rectangle((left, top - HEADER_H), width, HEADER_H, fc="white", ec="none", zorder=2)
    )
    ax.add_patch(
        Rectangle(
            (left, top - BOX_H),
            width,
            DATA_H,
            fc=RED_FILL if is_constraint else NAVY_FILL,
            ec="none",
            zorder=2,
        )
    )
    ax.add_line(Line2D([left, left + width], [top - HEADER_H] * 2, color=edge, lw=0.8, zorder=3))
    ax.add_patch(
        Rectangle((left, top - BOX_H), width, BOX_H, fc="none", ec=edge, lw=line, zorder=4)
    )

    # Header: the name in bold, the owner role under it, centred as a block.
    inner = width - 2 * BOX_PAD
    role = clean_text(step.owner_role)
    name_size, name_lines = sheet.fit_shrinking(
        clean_text(step.name) or "?",
        inner,
        sizes=((NAME_SIZE, 2), (NAME_SIZE - 1, 2), (NAME_SIZE - 1, 3), (NAME_SIZE - 2, 3)),
        weight="bold",
    )
    name_h = len(name_lines) * name_size * 1.22 / 72
    role_h = ROLE_SIZE * 1.5 / 72 if role else 0.0
    y = top - (HEADER_H - name_h - role_h) / 2
    sheet.text(
        left + width / 2,
        y,
        "\n".join(name_lines),
        size=name_size,
        weight="bold",
        ha="center",
        va="top",
        linespacing=1.1,
    )
    if role:
        sheet.text(
            left + width / 2,
            y - name_h - 0.03,
            sheet.fit_one(role, inner, size=ROLE_SIZE),
            size=ROLE_SIZE,
            style="italic",
            color=MUTED,
            ha="center",
            va="top",
        )

    # Data box: PT and %C&A, labels left and values right as on a paper map.
    rows = (("PT", fmt_duration(step.process_minutes)), ("%C&A", f"{step.pct_complete_accurate}%"))
    for row, (label, value) in enumerate(rows):
        y_row = top - HEADER_H - DATA_H * (0.3 + 0.42 * row)
        sheet.text(left + BOX_PAD, y_row, label, size=DATA_SIZE - 0.5, color=MUTED, va="center")
        sheet.text(
            left + width - BOX_PAD,
            y_row,
            value,
            size=DATA_SIZE,
            weight="bold",
            color=INK,
            ha="right",
            va="center",
        )

    # The step number as a badge on the top-left corner.
    ax.add_patch(Circle((left, top), 0.14, fc=edge, ec="white", lw=1.2, zorder=6))
    sheet.text(
        left,
        top,
        str(index + 1),
        size=7.5,
        weight="bold",
        color="white",
        ha="center",
        va="center_baseline",
        zorder=7,
    )


def _draw_wait(
    sheet: Sheet,
    grid: _Grid,
    index: int,
    step: Step,
    seen: MeasuredWait | None,
    *,
    is_constraint: bool,
) -> bool:
    """The inventory triangle and arrow before a box; True when the measured wait is off."""
    x = grid.slot_x(index)
    top = grid.row_top(index) - LABEL_H
    mid = x + GAP / 2
    y_arrow = top - 0.5
    first_in_row = index % grid.per_row == 0
    start = x + (0.05 if first_in_row else 0.0)
    _arrow(sheet, start, x + GAP - 0.02, y_arrow)
    if step.wait_minutes > 0:
        fill, edge = (RED, RED) if is_constraint else (AMBER, AMBER_EDGE)
    else:
        fill, edge = ("#eaecf0", FAINT)
    base, height, half = y_arrow + 0.08, 0.38, 0.23
    sheet.ax.add_patch(
        Polygon(
            [(mid - half, base), (mid + half, base), (mid, base + height)],
            closed=True,
            fc=fill,
            ec=edge,
            lw=1.2,
            zorder=4,
            joinstyle="round",
        )
    )
    sheet.text(
        mid,
        base + 0.11,
        "I",
        size=8,
        weight="bold",
        color="white" if step.wait_minutes > 0 else MUTED,
        ha="center",
        va="center",
        zorder=5,
    )
    if is_constraint:
        sheet.text(
            mid,
            top + 0.13,
            "CONSTRAINT",
            size=7.5,
            weight="bold",
            color=RED,
            ha="center",
            va="center",
        )
    wait_color = RED if is_constraint else (INK if step.wait_minutes > 0 else MUTED)
    sheet.text(
        mid,
        y_arrow - 0.09,
        f"WT {fmt_duration(step.wait_minutes)}",
        size=WAIT_SIZE,
        weight="bold",
        color=wait_color,
        ha="center",
        va="top",
    )
    if seen is None:
        return False
    off = _measured_off(step.wait_minutes, seen.median)
    # Two lines when they fit the gap, otherwise each splits in two rather than spill over.
    room = GAP - 0.16
    median, p85 = fmt_duration(seen.median), fmt_duration(seen.p85)
    lines: list[str] = []
    for whole, parts in (
        (f"measured {median}", ["measured", median]),
        (f"p85 {p85} · n={seen.count}", [f"p85 {p85}", f"n={seen.count}"]),
    ):
        lines += [whole] if sheet.measure(whole, size=MEASURED_SIZE) <= room else parts
    bbox = (
        {"boxstyle": "round,pad=0.25", "fc": HIGHLIGHT_FILL, "ec": HIGHLIGHT_EDGE, "lw": 1.0}
        if off
        else {"boxstyle": "round,pad=0.25", "fc": "white", "ec": RULE, "lw": 0.8}
    )
    sheet.text(
        mid,
        y_arrow - 0.38,
        "\n".join(lines),
        size=MEASURED_SIZE,
        color=HIGHLIGHT_TEXT if off else MUTED,
        ha="center",
        va="top",
        linespacing=1.15,
        bbox=bbox,
    )
    return off


def _arrow(sheet: Sheet, start: float, end: float, y: float) -> None:
    sheet.ax.add_patch(
        FancyArrowPatch(
            (start, y), (end, y), arrowstyle="-|>", mutation_scale=14, color=NAVY, lw=1.4, zorder=3
        )
    )


def _measured_off(estimate: int, median: float) -> bool:
    if estimate <= 0:
        return median > 0
    return abs(median - estimate) > MEASURED_TOLERANCE * estimate


def _draw_ladder(sheet: Sheet, grid: _Grid, chain: Sequence[Step], metrics: MapMetrics) -> None:
    """The timeline under each row: waits on the upper rungs, process times on the lower."""
    for row in range(grid.rows):
        members = range(row * grid.per_row, min(len(chain), (row + 1) * grid.per_row))
        top = grid.row_top(members[0]) - LABEL_H
        y_up = top - BOX_H - LADDER_DROP
        y_low = y_up - RUNG
        xs: list[float] = [grid.slot_x(members[0])]
        ys: list[float] = [y_up]
        for index in members:
            step = chain[index]
            x = grid.slot_x(index)
            left, right = x + GAP, x + grid.slot
            xs += [left, left, right, right]
            ys += [y_up, y_low, y_low, y_up]
            is_constraint = step is metrics.constraint
            if is_constraint:
                sheet.ax.add_line(
                    Line2D(
                        [x, left], [y_up, y_up], color=RED, lw=3.2, zorder=4, solid_capstyle="butt"
                    )
                )
            sheet.text(
                x + GAP / 2,
                y_up + 0.06,
                fmt_duration(step.wait_minutes),
                size=LADDER_SIZE,
                weight="bold" if is_constraint else "normal",
                color=RED if is_constraint else AMBER_TEXT,
                ha="center",
                va="bottom",
            )
            sheet.text(
                (left + right) / 2,
                y_low - 0.07,
                fmt_duration(step.process_minutes),
                size=LADDER_SIZE,
                color=NAVY,
                ha="center",
                va="top",
            )
        last = members[-1]
        end = grid.slot_x(last) + grid.slot
        if last == len(chain) - 1:
            # The last rung runs into the totals box instead of climbing back up.
            xs[-1] = end + TOTALS_GAP
            ys[-1] = y_low
        else:
            xs.append(end + 0.3)
            ys.append(y_up)
            y_arrow = top - 0.5
            _arrow(sheet, end, end + 0.38, y_arrow)
            sheet.text(
                end + 0.45,
                y_arrow,
                f"continues with step {last + 2}",
                size=8.5,
                style="italic",
                color=MUTED,
                va="center",
            )
        sheet.ax.add_line(Line2D(xs, ys, color=INK, lw=1.6, zorder=3, solid_joinstyle="miter"))


def _draw_totals(sheet: Sheet, grid: _Grid, count: int, metrics: MapMetrics) -> None:
    last = count - 1
    top = grid.row_top(last) - LABEL_H
    bottom = top - BOX_H - LADDER_DROP - RUNG - 0.12
    left = grid.slot_x(last) + grid.slot + TOTALS_GAP
    sheet.ax.add_patch(
        rounded_box(left, bottom, TOTALS_W, top - bottom, fill=PANEL_FILL, edge=NAVY, linewidth=1.3)
    )
    rows = (
        ("Lead time", fmt_duration(metrics.lead_time)),
        ("Process time", fmt_duration(metrics.total_process_time)),
        ("Flow efficiency", fmt_percent(metrics.flow_efficiency)),
        ("Rolled %C&A", fmt_percent(metrics.rolled_ca)),
    )
    pitch = (top - bottom - 0.2) / len(rows)
    for i, (label, value) in enumerate(rows):
        y = top - 0.12 - pitch * (i + 0.5)
        sheet.text(left + 0.16, y, label, size=10, color=MUTED, va="center")
        sheet.text(
            left + TOTALS_W - 0.16,
            y,
            value,
            size=13 if i == 0 else 12,
            weight="bold",
            color=NAVY if i == 0 else INK,
            ha="right",
            va="center",
        )
        if i:
            sheet.ax.add_line(
                Line2D(
                    [left + 0.12, left + TOTALS_W - 0.12],
                    [y + pitch / 2] * 2,
                    color=RULE,
                    lw=0.8,
                    zorder=3,
                )
            )


def _kaizen_burst(sheet: Sheet, cx: float, cy: float, radius: float, count: int) -> None:
    """Martin & Osterling's kaizen burst: a jagged starburst flagging an improvement spot."""
    sheet.ax.add_patch(_burst_shape(cx, cy, radius, zorder=8))
    sheet.text(
        cx,
        cy - 0.01,
        str(count),
        size=10 if count < 100 else 8,
        weight="bold",
        color=RED,
        ha="center",
        va="center",
        zorder=9,
    )


def _burst_shape(cx: float, cy: float, radius: float, *, zorder: float) -> Polygon:
    # Uneven spikes read as hand-drawn, like the burst on a whiteboard map.
    spikes = (1.0, 0.82, 0.96, 0.86, 1.0, 0.8, 0.93, 0.88, 1.0, 0.84, 0.95, 0.83)
    points: list[tuple[float, float]] = []
    for i, outer in enumerate(spikes):
        for k, r in ((0, outer), (1, 0.58)):
            angle = math.pi / 2 + (2 * i + k) * math.pi / len(spikes)
            points.append((cx + radius * r * math.cos(angle), cy + radius * r * math.sin(angle)))
    return Polygon(
        points, closed=True, fc=BURST_FILL, ec=RED, lw=1.4, zorder=zorder, joinstyle="miter"
    )


def _draw_legend(sheet: Sheet, *, bursts: bool, measured: bool, any_off: bool) -> None:
    y = 0.32
    x = MARGIN
    ax = sheet.ax

    def label(text: str) -> None:
        nonlocal x
        sheet.text(x, y, text, size=8.5, color=MUTED, va="center")
        x += sheet.measure(text, size=8.5) + 0.4

    ax.add_patch(
        Polygon(
            [(x, y - 0.09), (x + 0.22, y - 0.09), (x + 0.11, y + 0.11)],
            closed=True,
            fc=AMBER,
            ec=AMBER_EDGE,
            lw=1.0,
        )
    )
    x += 0.3
    label("wait before a step (WT)")
    ax.add_patch(Rectangle((x, y - 0.1), 0.3, 0.2, fc=NAVY_FILL, ec=NAVY, lw=1.0))
    x += 0.38
    label("process step: process time (PT), percent complete & accurate (%C&A)")
    ax.add_patch(Rectangle((x, y - 0.1), 0.3, 0.2, fc=RED_FILL, ec=RED, lw=2.0))
    x += 0.38
    label("constraint: the largest wait")
    if bursts:
        ax.add_patch(_burst_shape(x + 0.13, y, 0.15, zorder=5))
        x += 0.34
        label("most waste logged (count)")
    if measured:
        ax.add_patch(
            rounded_box(
                x,
                y - 0.09,
                0.3,
                0.18,
                fill=HIGHLIGHT_FILL if any_off else "white",
                edge=HIGHLIGHT_EDGE if any_off else RULE,
            )
        )
        x += 0.38
        label("measured wait: median, p85, logs; highlighted when >25% off the estimate")


# --- current vs future -------------------------------------------------------------------------

CARD_H = 1.6
BARS_H = 2.7

_Kind = Literal["duration", "ratio"]


def render_comparison(current: Sequence[Step], future: Sequence[Step], *, title: str) -> bytes:
    """Current vs future state: each headline metric with its delta, and where the time goes."""
    clean_title = clean_text(title) or "Value stream"
    if not current and not future:
        return render_message(
            f"{clean_title} — current vs future state",
            EMPTY_MESSAGE,
            hint="Map the current state first, then the future with /vsm future.",
        )
    comparison = compare_maps(current, future)
    height = TITLE_H + CARD_H + 0.75 + BARS_H + 0.85
    sheet = Sheet(WIDTH, height)
    sheet.text(
        MARGIN,
        height - 0.5,
        sheet.fit_one(clean_title, WIDTH - 2 * MARGIN, size=20, weight="bold"),
        size=20,
        weight="bold",
    )
    sheet.text(
        MARGIN, height - 0.92, "Current state vs future state", size=11, color=MUTED, va="center"
    )

    cards: tuple[tuple[str, MetricDelta, _Kind, bool], ...] = (
        ("LEAD TIME", comparison.lead_time, "duration", False),
        ("PROCESS TIME", comparison.process_time, "duration", False),
        ("FLOW EFFICIENCY", comparison.flow_efficiency, "ratio", True),
        ("ROLLED %C&A", comparison.rolled_ca, "ratio", True),
    )
    gap = 0.3
    card_w = (WIDTH - 2 * MARGIN - gap * (len(cards) - 1)) / len(cards)
    card_top = height - TITLE_H
    for i, (name, delta, kind, higher_is_better) in enumerate(cards):
        _metric_card(
            sheet,
            MARGIN + i * (card_w + gap),
            card_top,
            card_w,
            name,
            delta,
            kind,
            higher_is_better=higher_is_better,
        )

    bars_top = card_top - CARD_H - 0.35
    sheet.text(
        MARGIN, bars_top - 0.1, "Where the lead time goes", size=12, weight="bold", va="center"
    )
    legend_x = MARGIN + sheet.measure("Where the lead time goes", size=12, weight="bold") + 0.5
    for fill, text in ((AMBER, "waiting (WT)"), (NAVY, "working (PT)"), (RED, "constraint")):
        sheet.ax.add_patch(Rectangle((legend_x, bars_top - 0.18), 0.3, 0.16, fc=fill, ec="none"))
        sheet.text(legend_x + 0.38, bars_top - 0.1, text, size=9, color=MUTED, va="center")
        legend_x += 0.38 + sheet.measure(text, size=9) + 0.35

    bar_left, bar_right = MARGIN + 1.5, WIDTH - MARGIN - 1.9
    bottom = 0.55
    ax = sheet.figure.add_axes(
        (
            bar_left / WIDTH,
            bottom / height,
            (bar_right - bar_left) / WIDTH,
            (bars_top - 0.45 - bottom) / height,
        )
    )
    _time_bars(
        sheet,
        ax,
        (
            ("Current", ordered(current), comparison.current),
            ("Future", ordered(future), comparison.future),
        ),
        width_in=bar_right - bar_left,
    )
    return sheet.png()


def _metric_card(
    sheet: Sheet,
    x: float,
    top: float,
    width: float,
    name: str,
    delta: MetricDelta,
    kind: _Kind,
    *,
    higher_is_better: bool,
) -> None:
    sheet.ax.add_patch(rounded_box(x, top - CARD_H, width, CARD_H, fill=PANEL_FILL, edge=RULE))

    def show(value: float | None) -> str:
        if value is None:
            return "—"
        return fmt_duration(value) if kind == "duration" else fmt_percent(value)

    sheet.text(x + 0.25, top - 0.32, name, size=9.5, weight="bold", color=MUTED, va="center")
    before, after = show(delta.current), show(delta.future)
    y = top - 0.82
    sheet.text(x + 0.25, y, before, size=15, color=MUTED, va="center")
    x_arrow = x + 0.25 + sheet.measure(before, size=15) + 0.15
    sheet.text(x_arrow, y, "→", size=15, color=MUTED, va="center")
    sheet.text(
        x_arrow + sheet.measure("→", size=15) + 0.15,
        y,
        after,
        size=22,
        weight="bold",
        color=INK,
        va="center",
    )

    change = delta.delta
    if change is None:
        text, color = "no comparison yet", MUTED
    else:
        if kind == "duration":
            text = fmt_signed(change, fmt_duration(abs(change)))
            if delta.current:
                pct = 100 * change / delta.current
                text += f"  ({fmt_signed(round(pct), f'{abs(pct):.0f}%')})"
        else:
            points = change * 100
            text = fmt_signed(round(points, 1), f"{abs(points):.1f} pts")
        better = change > 0 if higher_is_better else change < 0
        color = MUTED if abs(change) < 1e-9 else (GREEN if better else RED)
    sheet.text(x + 0.25, top - 1.3, text, size=12, weight="bold", color=color, va="center")


_Row = tuple[str, Sequence[Step], MapMetrics]


def _time_bars(sheet: Sheet, ax: Axes, rows: tuple[_Row, _Row], *, width_in: float) -> None:
    """One stacked bar per state: each step's wait then its process time, on one time scale."""
    longest = max(metrics.lead_time for _, _, metrics in rows)
    unit, suffix = (
        (1440.0, "d") if longest >= 2 * 1440 else (60.0, "h") if longest >= 120 else (1.0, "m")
    )
    span = longest / unit or 1.0
    ax.set_xlim(0, span)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    bar_h = 0.62
    for slot, (label, chain, metrics) in enumerate(rows):
        y = len(rows) - 1 - slot
        ax.text(
            -0.012 * span,
            y,
            f"{label} state",
            ha="right",
            va="center",
            fontproperties=font(11, weight="bold"),
            color=INK,
            parse_math=False,
        )
        if not chain:
            ax.text(
                0.01 * span,
                y,
                "No steps mapped yet",
                ha="left",
                va="center",
                fontproperties=font(11, style="italic"),
                color=MUTED,
                parse_math=False,
            )
            continue
        left = 0.0
        for step in chain:
            is_constraint = step is metrics.constraint
            for minutes, fill in (
                (step.wait_minutes, RED if is_constraint else AMBER),
                (step.process_minutes, NAVY),
            ):
                width = minutes / unit
                if width <= 0:
                    continue
                ax.barh(
                    y, width, left=left, height=bar_h, color=fill, edgecolor="white", linewidth=0.8
                )
                seg_in = width / span * width_in
                if fill != NAVY and seg_in >= 0.5:
                    lines = [fmt_duration(minutes)]
                    name = sheet.fit_one(clean_text(step.name) or "?", seg_in - 0.12, size=8.5)
                    if seg_in >= 0.75 and name:
                        lines.insert(0, name)
                    ax.text(
                        left + width / 2,
                        y,
                        "\n".join(lines),
                        ha="center",
                        va="center",
                        fontproperties=font(8.5),
                        color="white" if is_constraint else INK,
                        parse_math=False,
                        linespacing=1.15,
                    )
                left += width
        ax.text(
            left + 0.01 * span,
            y,
            f"{fmt_duration(metrics.lead_time)}\nflow eff. {fmt_percent(metrics.flow_efficiency)}",
            ha="left",
            va="center",
            fontproperties=font(10),
            color=INK,
            parse_math=False,
            linespacing=1.3,
            clip_on=False,
        )
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}{suffix}"))
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(RULE)
    ax.tick_params(axis="x", colors=MUTED, labelsize=9)
    ax.grid(axis="x", color="#eaecf0", lw=0.8)
    ax.set_axisbelow(True)
