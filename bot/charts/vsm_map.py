"""Value stream map images, drawn the way Martin & Osterling draw them.

Process boxes run left to right with an inventory triangle (the wait) before each; underneath,
the timeline ladder puts waits on the upper rungs and process times on the lower ones and ends
in the totals box. Kaizen bursts mark the planned improvements (themes linked to a step, with
their K-number and status), waste hot spots are ranked by the time lost at each step, and the
constraint (the largest wait; every step in a tie) is outlined in red. A future state marks its
new and changed steps and names the removed ones. Four steps to a row at most, so the image
stays readable at the size Slack previews it (about 600 px wide). Every image carries the date it
was drawn and the window its logged data comes from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
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
    Burst,
    MapMetrics,
    MapNotes,
    MeasuredWait,
    MetricDelta,
    Step,
    StepChange,
    StepDelta,
    compare_maps,
    compute_metrics,
    measured_lead_time,
    ordered,
    rank_hot_spots,
    step_deltas,
)

EMPTY_MESSAGE = "No steps yet — add one with /vsm add"
EMPTY_HINT = "Each step needs a name, its process time and the wait before it."
MEASURED_TOLERANCE = 0.25
"""A measured wait more than this fraction away from the estimate is highlighted."""

# Geometry, in inches. The sheet is narrow and drawn at a high DPI: Slack previews an image
# about 600 px wide, and text keeps its size relative to the sheet's width, not its pixels.
WIDTH = 12.0
MAP_DPI = 160
MARGIN = 0.35
MAX_PER_ROW = 4
MAX_SLOT = 2.7
GAP = 1.05  # the wait zone before each box
TOTALS_GAP = 0.25
TOTALS_W = 2.45
TITLE_H = 1.5
LEGEND_H = 0.95
STATUS_COLORS = {"done": GREEN, "dropped": MUTED}
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
    totals = TOTALS_GAP + TOTALS_W
    slot = min(MAX_SLOT, (WIDTH - 2 * MARGIN) / per_row)
    free = (per_row * rows - count) * slot
    if free < totals:
        # The last row is full: the totals box needs a column of its own.
        slot = min(MAX_SLOT, (WIDTH - 2 * MARGIN - totals) / per_row)
        content = per_row * slot + totals
    else:
        content = per_row * slot
    x0 = max(MARGIN, (WIDTH - content) / 2)
    return _Grid(rows, per_row, slot, x0, TITLE_H + rows * ROW_H + LEGEND_H)


def render_value_stream(
    steps: Sequence[Step],
    *,
    title: str,
    notes: MapNotes | None = None,
    state_label: str = "Current state",
) -> bytes:
    """A value stream map as PNG bytes."""
    clean_title = clean_text(title) or "Value stream"
    clean_state = clean_text(state_label)
    notes = notes or MapNotes()
    if not steps:
        heading = f"{clean_title} — {clean_state}" if clean_state else clean_title
        return render_message(heading, EMPTY_MESSAGE, hint=EMPTY_HINT)

    chain = ordered(steps)
    metrics = compute_metrics(chain)
    grid = _grid(len(chain))
    sheet = Sheet(WIDTH, grid.height, dpi=MAP_DPI)
    measured = notes.measured or {}
    bursts = notes.bursts or {}
    on_map = {s.id for s in chain if s.id is not None}
    hot = rank_hot_spots({k: v for k, v in (notes.lost_minutes or {}).items() if k in on_map})

    _draw_title(sheet, clean_title, clean_state, metrics, _dateline(notes))
    any_measured = any_off = any_burst = False
    for index, step in enumerate(chain):
        seen = measured.get(step.id) if step.id is not None else None
        is_constraint = any(step is c for c in metrics.constraints)
        any_measured |= seen is not None
        any_off |= _draw_wait(sheet, grid, index, step, seen, is_constraint=is_constraint)
        _draw_box(sheet, grid, index, step, is_constraint=is_constraint)
        top = grid.row_top(index) - LABEL_H
        left, right = grid.slot_x(index) + GAP, grid.slot_x(index) + grid.slot
        if step.id is not None and bursts.get(step.id):
            any_burst = True
            _draw_bursts(sheet, right, top, bursts[step.id])
        if step.id is not None and step.id in hot:
            lost = (notes.lost_minutes or {})[step.id]
            sheet.text(
                (left + right) / 2,
                top - BOX_H - 0.05,
                f"waste hot spot #{hot[step.id]}\n{fmt_duration(lost)} lost",
                size=8,
                weight="bold",
                color=RED,
                ha="center",
                va="top",
                linespacing=1.05,
            )
        if notes.changes is not None:
            _draw_change(sheet, left, top, notes.changes.of(step))
    _draw_ladder(sheet, grid, chain, metrics)
    _draw_totals(sheet, grid, len(chain), metrics, measured_lead_time(chain, measured))
    _draw_legend(
        sheet,
        bursts=any_burst,
        hot=bool(hot),
        measured=any_measured,
        any_off=any_off,
        removed=notes.changes.removed if notes.changes else (),
        changes=notes.changes is not None,
    )
    return sheet.png()


def _dateline(notes: MapNotes) -> str:
    parts = []
    if notes.drawn_on is not None:
        parts.append(f"Drawn {_day(notes.drawn_on)}")
    if notes.window is not None:
        start, end = notes.window
        parts.append(f"logged waits and waste from {_day(start)} to {_day(end)}")
    return " · ".join(parts)


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def _draw_bursts(sheet: Sheet, right: float, top: float, bursts: Sequence[Burst]) -> None:
    """The first theme's K-number in the burst, its status beside it, "+n" for more."""
    first = bursts[0]
    cx, cy = right - 0.22, top + 0.2
    _kaizen_burst(sheet, cx, cy, 0.34, first.ref)
    more = f" +{len(bursts) - 1}" if len(bursts) > 1 else ""
    sheet.text(
        cx - 0.38,
        top + 0.13,
        f"{first.status}{more}",
        size=8,
        weight="bold",
        color=STATUS_COLORS.get(first.status, RED),
        ha="right",
        va="center",
    )


def _draw_change(sheet: Sheet, left: float, top: float, change: StepChange) -> None:
    if change is StepChange.SAME:
        return
    color = GREEN if change is StepChange.NEW else NAVY
    sheet.text(
        left + 0.2,
        top + 0.13,
        change.value.upper(),
        size=7.5,
        weight="bold",
        color="white",
        va="center",
        bbox={"boxstyle": "round,pad=0.25", "fc": color, "ec": color},
    )


def _draw_title(sheet: Sheet, title: str, state: str, metrics: MapMetrics, dateline: str) -> None:
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
    tied = metrics.constraints
    if len(tied) > 1:
        names = " = ".join(clean_text(s.name) or "?" for s in tied)
        parts.append(f"constraint: a tie, {names}")
    elif metrics.constraint is not None:
        name = sheet.fit_one(clean_text(metrics.constraint.name) or "?", 5.0, size=11)
        parts.append(f"constraint: {name}")
    summary = sheet.fit_one("  ·  ".join(parts), WIDTH - MARGIN - x, size=11)
    sheet.text(x, top - 0.92, summary, size=11, color=MUTED, va="center")
    if dateline:
        sheet.text(
            MARGIN,
            top - 1.28,
            sheet.fit_one(dateline, WIDTH - 2 * MARGIN, size=9.5),
            size=9.5,
            style="italic",
            color=MUTED,
            va="center",
        )


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
    role_lines = sheet.fit(role, inner, size=ROLE_SIZE, max_lines=2) if role else []
    name_h = len(name_lines) * name_size * 1.22 / 72
    role_h = ROLE_SIZE * 1.45 * len(role_lines) / 72
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
            "\n".join(role_lines),
            size=ROLE_SIZE,
            linespacing=1.1,
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
    median = fmt_duration(seen.median)
    count = f"{seen.count} wait{'s' if seen.count != 1 else ''}"
    p85 = seen.p85_shown
    spread = (
        (f"p85 {fmt_duration(p85)} · {count}", [f"p85 {fmt_duration(p85)}", count])
        if p85 is not None
        else (count, [count])
    )
    lines: list[str] = []
    for whole, parts in ((f"measured {median}", ["measured", median]), spread):
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
            is_constraint = any(step is c for c in metrics.constraints)
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
                end + 0.02,
                y_arrow - 0.1,
                f"to step {last + 2}",
                size=8,
                style="italic",
                color=MUTED,
                va="top",
            )
        sheet.ax.add_line(Line2D(xs, ys, color=INK, lw=1.6, zorder=3, solid_joinstyle="miter"))


def _draw_totals(
    sheet: Sheet, grid: _Grid, count: int, metrics: MapMetrics, measured_lt: int | None
) -> None:
    last = count - 1
    top = grid.row_top(last) - LABEL_H
    bottom = top - BOX_H - LADDER_DROP - RUNG - 0.12
    left = grid.slot_x(last) + grid.slot + TOTALS_GAP
    sheet.ax.add_patch(
        rounded_box(left, bottom, TOTALS_W, top - bottom, fill=PANEL_FILL, edge=NAVY, linewidth=1.3)
    )
    rows: tuple[tuple[str, str], ...] = (("Lead time", fmt_duration(metrics.lead_time)),)
    if measured_lt is not None:
        rows += (("with measured waits", fmt_duration(measured_lt)),)
    rows += (
        ("Process time", fmt_duration(metrics.total_process_time)),
        ("Flow efficiency", fmt_percent(metrics.flow_efficiency)),
        ("Rolled %C&A", fmt_percent(metrics.rolled_ca)),
    )
    pitch = (top - bottom - 0.2) / len(rows)
    for i, (label, value) in enumerate(rows):
        y = top - 0.12 - pitch * (i + 0.5)
        sheet.text(
            left + (0.3 if label.islower() else 0.16),
            y,
            label,
            size=8.5 if label.islower() else 9.5,
            style="italic" if label.islower() else "normal",
            color=MUTED,
            va="center",
        )
        sheet.text(
            left + TOTALS_W - 0.16,
            y,
            value,
            size=12 if i == 0 else 11,
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


def _kaizen_burst(sheet: Sheet, cx: float, cy: float, radius: float, label: str) -> None:
    """Martin & Osterling's kaizen burst: a jagged starburst marking a planned improvement."""
    sheet.ax.add_patch(_burst_shape(cx, cy, radius, zorder=8))
    sheet.text(
        cx,
        cy - 0.01,
        label,
        size=8 if len(label) <= 4 else 6.5,
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


def _draw_legend(
    sheet: Sheet,
    *,
    bursts: bool,
    hot: bool,
    measured: bool,
    any_off: bool,
    removed: Sequence[str],
    changes: bool,
) -> None:
    """The key, wrapped onto as many lines as the sheet's width needs, bottom up."""
    ax = sheet.ax
    items: list[tuple[str, str]] = [
        ("wait", "wait before a step (WT)"),
        ("box", "step: process time (PT), % complete & accurate"),
        ("constraint", "constraint: the largest wait"),
    ]
    if bursts:
        items.append(("burst", "kaizen burst: a theme planned at this step (K-number, status)"))
    if hot:
        items.append(("", "waste hot spots: the most time lost to logged waste"))
    if measured:
        items.append(("measured", "measured wait: median of logged waits (p85 from 5)"))
    if changes:
        items.append(("", "NEW / CHANGED: against the current state"))
    lines: list[list[tuple[str, str]]] = [[]]
    x = MARGIN
    for kind, text in items:
        width = (0.38 if kind else 0.0) + sheet.measure(text, size=8.5) + 0.4
        if x + width > WIDTH - MARGIN and lines[-1]:
            lines.append([])
            x = MARGIN
        lines[-1].append((kind, text))
        x += width
    y = 0.25 + 0.28 * (len(lines) - 1)
    if removed:
        gone = "Removed from the current state: " + ", ".join(clean_text(n) for n in removed)
        sheet.text(
            MARGIN,
            y + 0.3,
            sheet.fit_one(gone, WIDTH - 2 * MARGIN, size=9, weight="bold"),
            size=9,
            weight="bold",
            color=RED,
            va="center",
        )
    for line in lines:
        x = MARGIN
        for kind, text in line:
            if kind == "wait":
                ax.add_patch(
                    Polygon(
                        [(x, y - 0.09), (x + 0.22, y - 0.09), (x + 0.11, y + 0.11)],
                        closed=True,
                        fc=AMBER,
                        ec=AMBER_EDGE,
                        lw=1.0,
                    )
                )
            elif kind == "box":
                ax.add_patch(Rectangle((x, y - 0.1), 0.3, 0.2, fc=NAVY_FILL, ec=NAVY, lw=1.0))
            elif kind == "constraint":
                ax.add_patch(Rectangle((x, y - 0.1), 0.3, 0.2, fc=RED_FILL, ec=RED, lw=2.0))
            elif kind == "burst":
                ax.add_patch(_burst_shape(x + 0.13, y, 0.15, zorder=5))
            elif kind == "measured":
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
            if kind:
                x += 0.38
            sheet.text(x, y, text, size=8.5, color=MUTED, va="center")
            x += sheet.measure(text, size=8.5) + 0.4
        y -= 0.28


# --- current vs future -------------------------------------------------------------------------

CARD_H = 1.3
BARS_H = 2.6

_Kind = Literal["duration", "ratio"]


def render_comparison(
    current: Sequence[Step],
    future: Sequence[Step],
    *,
    title: str,
    drawn_on: date | None = None,
) -> bytes:
    """Current vs future state: the headline metrics with their deltas, where the time goes,
    and a table of each step's PT and WT in both states."""
    clean_title = clean_text(title) or "Value stream"
    if not current and not future:
        return render_message(
            f"{clean_title} — current vs future state",
            EMPTY_MESSAGE,
            hint="Map the current state first, then the future with /vsm future.",
        )
    comparison = compare_maps(current, future)
    deltas = step_deltas(current, future)
    table_h = TABLE_ROW * (len(deltas) + 1) + 0.7
    height = TITLE_H + 2 * CARD_H + 0.25 + 0.75 + BARS_H + 0.6 + table_h
    sheet = Sheet(WIDTH, height, dpi=MAP_DPI)
    sheet.text(
        MARGIN,
        height - 0.5,
        sheet.fit_one(clean_title, WIDTH - 2 * MARGIN, size=20, weight="bold"),
        size=20,
        weight="bold",
    )
    subtitle = "Current state vs future state"
    if drawn_on is not None:
        subtitle += f"  ·  drawn {_day(drawn_on)}"
    sheet.text(MARGIN, height - 0.92, subtitle, size=11, color=MUTED, va="center")

    cards: tuple[tuple[str, MetricDelta, _Kind, bool], ...] = (
        ("LEAD TIME", comparison.lead_time, "duration", False),
        ("PROCESS TIME", comparison.process_time, "duration", False),
        ("FLOW EFFICIENCY", comparison.flow_efficiency, "ratio", True),
        ("ROLLED %C&A", comparison.rolled_ca, "ratio", True),
    )
    gap = 0.3
    card_w = (WIDTH - 2 * MARGIN - gap) / 2
    card_top = height - TITLE_H
    for i, (name, delta, kind, higher_is_better) in enumerate(cards):
        _metric_card(
            sheet,
            MARGIN + (i % 2) * (card_w + gap),
            card_top - (i // 2) * (CARD_H + 0.25),
            card_w,
            name,
            delta,
            kind,
            higher_is_better=higher_is_better,
        )

    bars_top = card_top - 2 * CARD_H - 0.25 - 0.35
    sheet.text(
        MARGIN, bars_top - 0.1, "Where the lead time goes", size=12, weight="bold", va="center"
    )
    legend_x = MARGIN + sheet.measure("Where the lead time goes", size=12, weight="bold") + 0.5
    for fill, text in ((AMBER, "waiting (WT)"), (NAVY, "working (PT)"), (RED, "constraint")):
        sheet.ax.add_patch(Rectangle((legend_x, bars_top - 0.18), 0.3, 0.16, fc=fill, ec="none"))
        sheet.text(legend_x + 0.38, bars_top - 0.1, text, size=9, color=MUTED, va="center")
        legend_x += 0.38 + sheet.measure(text, size=9) + 0.35

    bar_left, bar_right = MARGIN + 1.5, WIDTH - MARGIN - 1.6
    bottom = table_h + 0.55
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
    _step_table(sheet, deltas, top=table_h)
    return sheet.png()


TABLE_ROW = 0.3
_TABLE_COLUMNS = (
    ("Step", 0.0),
    ("WT now", 4.2),
    ("WT future", 5.35),
    ("WT change", 6.6),
    ("PT now", 7.9),
    ("PT future", 9.05),
    ("PT change", 10.3),
)


def _change_cell(before: Step | None, after: Step | None, attr: str) -> tuple[str, str]:
    if before is None:
        assert after is not None
        return f"+{fmt_duration(getattr(after, attr))} (new)", NAVY
    if after is None:
        return f"−{fmt_duration(getattr(before, attr))} (removed)", GREEN
    change = getattr(after, attr) - getattr(before, attr)
    if change == 0:
        return "no change", MUTED
    return fmt_signed(change, fmt_duration(abs(change))), GREEN if change < 0 else RED


def _step_table(sheet: Sheet, deltas: Sequence[StepDelta], *, top: float) -> None:
    """Each step's PT and WT now and in the future state, so a wait that vanished shows."""
    sheet.text(MARGIN, top - 0.15, "Step by step", size=12, weight="bold", va="center")
    y = top - 0.55
    for label, x in _TABLE_COLUMNS:
        sheet.text(
            MARGIN + x,
            y,
            label,
            size=9,
            weight="bold",
            color=MUTED,
            va="center",
            ha="left" if x == 0 else "right",
        )
    sheet.ax.add_line(
        Line2D([MARGIN, WIDTH - MARGIN], [y - 0.15] * 2, color=RULE, lw=0.8, zorder=3)
    )

    def time(step: Step | None, attr: str) -> str:
        return "—" if step is None else fmt_duration(getattr(step, attr))

    for row in deltas:
        y -= TABLE_ROW
        wt_change, wt_color = _change_cell(row.current, row.future, "wait_minutes")
        pt_change, pt_color = _change_cell(row.current, row.future, "process_minutes")
        cells = (
            (sheet.fit_one(clean_text(row.name) or "?", 3.9, size=9.5), INK),
            (time(row.current, "wait_minutes"), INK),
            (time(row.future, "wait_minutes"), INK),
            (wt_change, wt_color),
            (time(row.current, "process_minutes"), INK),
            (time(row.future, "process_minutes"), INK),
            (pt_change, pt_color),
        )
        for (text, color), (_, x) in zip(cells, _TABLE_COLUMNS, strict=True):
            sheet.text(
                MARGIN + x,
                y,
                text,
                size=9.5,
                weight="normal" if color in (INK, MUTED) else "bold",
                color=color,
                va="center",
                ha="left" if x == 0 else "right",
            )


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

    sheet.text(x + 0.25, top - 0.28, name, size=9.5, weight="bold", color=MUTED, va="center")
    before, after = show(delta.current), show(delta.future)
    y = top - 0.7
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
    sheet.text(x + 0.25, top - 1.08, text, size=12, weight="bold", color=color, va="center")


_Row = tuple[str, Sequence[Step], MapMetrics]


def _time_bars(sheet: Sheet, ax: Axes, rows: tuple[_Row, _Row], *, width_in: float) -> None:
    """One stacked bar per state: each step's wait then its process time, on one time scale."""
    longest = max(metrics.lead_time for _, _, metrics in rows)
    unit, suffix = (
        (1440.0, "d") if longest >= 2 * 1440 else (60.0, "h") if longest >= 120 else (1.0, "min")
    )
    span = longest / unit or 1.0
    ax.set_xlim(0, span)
    ax.set_ylim(-0.75, len(rows) - 0.4)
    bar_h = 0.55
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
            is_constraint = any(step is c for c in metrics.constraints)
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
        waits = sorted((s for s in chain if s.wait_minutes > 0), key=lambda s: -s.wait_minutes)
        if waits:
            caption = "largest waits: " + " · ".join(
                f"{clean_text(s.name) or '?'} {fmt_duration(s.wait_minutes)}" for s in waits[:4]
            )
            ax.text(
                0,
                y - bar_h / 2 - 0.06,
                sheet.fit_one(caption, width_in, size=8.5),
                ha="left",
                va="top",
                fontproperties=font(8.5),
                color=MUTED,
                parse_math=False,
            )
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
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g} {suffix}"))
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(RULE)
    ax.tick_params(axis="x", colors=MUTED, labelsize=9)
    ax.grid(axis="x", color="#eaecf0", lw=0.8)
    ax.set_axisbelow(True)
