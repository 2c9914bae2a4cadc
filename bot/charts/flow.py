"""The waste Pareto for the flow summary and the weekly digest.

Left, a Pareto chart: waste logs per category, descending, with the cumulative share on a
second axis and the "vital few" (up to 80 %) in the darker colour. Right, the time lost per
category, the top one flagged as the most annoying waste. With last period's counts, each bar
carries its change.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, PercentFormatter

from bot.charts._canvas import (
    AMBER,
    GREEN,
    INK,
    MUTED,
    NAVY,
    RED,
    RULE,
    Sheet,
    clean_text,
    fmt_duration,
    fmt_signed,
    font,
    render_message,
)

EMPTY_MESSAGE = "No waste logged this period"
EMPTY_HINT = "Log one with /waste, /wait, or the waste emoji reaction on any message."
VITAL_FEW = 80.0
MIN_SLOTS = 6

WIDTH = 20.0
HEIGHT = 7.6
TOP_H = 1.25
LIGHT_NAVY = "#a9c1dc"
LINE_ORANGE = "#e8590c"
GRID = "#eaecf0"
TREND_H = 4.4
LOST_LEFT = 14.0
LOST_W = 5.2


@dataclass(frozen=True, slots=True)
class _Layout:
    """A chart's figure and axes, made once per thread and layout, cleared between charts:
    creating a figure's axes and their ticks is a third of a chart's drawing time."""

    sheet: Sheet
    trend: tuple[Axes, Axes] | None
    """Waste logs a week and, above them on the same weeks, hours lost a week."""
    pareto: tuple[Axes, Axes, Axes] | None
    """The Pareto's bars, its cumulative share (a twin), and the time lost by category."""


_per_thread = threading.local()


def _layout(*, trend: bool, pareto: bool) -> _Layout:
    """This thread's figure for the layout, cleared (a figure is never drawn by two threads at
    once). Only the layout used last is kept, to hold one figure's memory a thread."""
    key = (trend, pareto)
    kept: tuple[tuple[bool, bool], _Layout] | None = getattr(_per_thread, "layout", None)
    if kept is not None and kept[0] == key:
        kept[1].sheet.clear()
        return kept[1]
    height = HEIGHT + (TREND_H if trend else 0.0)
    sheet = Sheet(WIDTH, height)
    figure = sheet.figure
    trend_axes = None
    if trend:
        count_ax = figure.add_axes((0.95 / WIDTH, 0.75 / height, 18.1 / WIDTH, 1.6 / height))
        lost_ax = figure.add_axes(
            (0.95 / WIDTH, 2.5 / height, 18.1 / WIDTH, 1.0 / height), sharex=count_ax
        )
        trend_axes = (count_ax, lost_ax)
    pareto_axes = None
    if pareto:
        bottom, plot_h = height - HEIGHT + 1.45, HEIGHT - TOP_H - 1.45 - 0.55
        bars = figure.add_axes((0.95 / WIDTH, bottom / height, 10.2 / WIDTH, plot_h / height))
        share = bars.twinx()
        lost = figure.add_axes(
            (LOST_LEFT / WIDTH, bottom / height, LOST_W / WIDTH, plot_h / height)
        )
        pareto_axes = (bars, share, lost)
    layout = _Layout(sheet, trend_axes, pareto_axes)
    _per_thread.layout = (key, layout)
    return layout


def render_flow_chart(
    *,
    title: str,
    categories: Sequence[tuple[str, int, int]],
    previous: Mapping[str, int] | None = None,
    trend: Sequence[tuple[str, int, int]] | None = None,
) -> bytes:
    """Pareto of waste counts and minutes lost by category, as PNG bytes.

    ``categories`` holds (label, count, minutes lost); ``previous`` maps a label to its count
    in the period before, to show the change. ``trend`` holds (week label, count, minutes
    lost) per week, oldest first, drawn below as the weekly trend.
    """
    clean_title = clean_text(title) or "Waste this period"
    rows = [(label, count, max(0, minutes)) for label, count, minutes in categories if count > 0]
    has_trend = bool(trend) and any(count for _, count, _ in trend or ())
    if not rows and not has_trend:
        return render_message(clean_title, EMPTY_MESSAGE, hint=EMPTY_HINT)
    # Stable sort: the caller's order breaks ties.
    rows.sort(key=lambda row: -row[1])
    base = TREND_H if has_trend else 0.0
    height = HEIGHT + base
    layout = _layout(trend=has_trend, pareto=bool(rows))
    sheet = layout.sheet
    if trend and layout.trend is not None:
        _trend(sheet, layout.trend, trend)
    if layout.pareto is None:
        sheet.text(0.4, height - 0.5, clean_title, size=20, weight="bold")
        sheet.text(WIDTH / 2, base + HEIGHT / 2, EMPTY_MESSAGE, size=20, color=NAVY, ha="center")
        sheet.text(
            WIDTH / 2, base + HEIGHT / 2 - 0.6, EMPTY_HINT, size=12, color=MUTED, ha="center"
        )
        return sheet.png()

    bars, share, lost_ax = layout.pareto
    total = sum(count for _, count, _ in rows)
    lost = sum(minutes for _, _, minutes in rows)
    sheet.text(
        0.4,
        height - 0.5,
        sheet.fit_one(clean_title, WIDTH - 0.8, size=20, weight="bold"),
        size=20,
        weight="bold",
    )
    summary = [f"{total} waste log{'s' if total != 1 else ''}", f"{fmt_duration(lost)} lost"]
    if previous is not None:
        before = sum(previous.values())
        summary.append(f"{fmt_signed(total - before, str(abs(total - before)))} vs last period")
    sheet.text(0.4, height - 0.92, "  ·  ".join(summary), size=11, color=MUTED, va="center")

    _pareto(sheet, bars, share, rows, previous, width_in=10.2)
    heading = "Waste logs by category"
    sheet.text(0.4, height - TOP_H - 0.2, heading, size=12, weight="bold", va="center")
    sheet.text(
        0.4 + sheet.measure(heading, size=12, weight="bold") + 0.25,
        height - TOP_H - 0.2,
        "dark bars: the vital few, making up 80% of the logs",
        size=9,
        color=MUTED,
        va="center",
    )

    _minutes_lost(sheet, lost_ax, rows, label_w=2.1)
    sheet.text(
        LOST_LEFT - 2.2,
        height - TOP_H - 0.2,
        "Time lost by category",
        size=12,
        weight="bold",
        va="center",
    )

    if previous:
        shown = {label for label, _, _ in rows}
        gone = [(label, n) for label, n in previous.items() if n > 0 and label not in shown]
        if gone:
            text = "Not logged this period (count last period): " + ", ".join(
                f"{clean_text(label)} {n}" for label, n in gone
            )
            sheet.text(
                0.4,
                base + 0.3,
                sheet.fit_one(text, WIDTH - 0.8, size=9),
                size=9,
                color=MUTED,
                va="center",
            )
    return sheet.png()


def _pareto(
    sheet: Sheet,
    ax: Axes,
    share: Axes,
    rows: Sequence[tuple[str, int, int]],
    previous: Mapping[str, int] | None,
    *,
    width_in: float,
) -> None:
    counts = [count for _, count, _ in rows]
    total = sum(counts)
    cumulative: list[float] = []
    running = 0
    for count in counts:
        running += count
        cumulative.append(100 * running / total)
    # The vital few: every bar up to and including the one that crosses 80 %.
    vital = next(i for i, share in enumerate(cumulative) if share >= VITAL_FEW - 1e-9)
    xs = list(range(len(rows)))
    colors = [NAVY if i <= vital else LIGHT_NAVY for i in xs]
    ax.bar(xs, counts, width=0.62, color=colors, zorder=2)
    top = max(counts)
    ax.set_ylim(0, top * 1.28 + 0.5)
    # Few categories keep the bar width of six, centred, instead of turning into slabs.
    pad = max(0, MIN_SLOTS - len(rows)) / 2
    ax.set_xlim(-0.6 - pad, len(rows) - 0.4 + pad)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.set_xticks([])
    ax.set_ylabel("Waste logs", color=MUTED, fontsize=10)
    ax.tick_params(axis="y", colors=MUTED, labelsize=9)
    ax.grid(axis="y", color=GRID, lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(RULE)

    share.plot(xs, cumulative, color=LINE_ORANGE, lw=2.0, marker="o", markersize=5, zorder=2)
    share.axhline(VITAL_FEW, color=MUTED, lw=1.0, ls=(0, (4, 3)), zorder=1)
    share.text(
        0.995,
        VITAL_FEW + 1.5,
        f"{VITAL_FEW:.0f}%",
        transform=share.get_yaxis_transform(),
        ha="right",
        va="bottom",
        fontproperties=font(8.5),
        color=MUTED,
        parse_math=False,
    )
    share.set_ylim(0, 108)
    share.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    share.set_ylabel("Cumulative share", color=LINE_ORANGE, fontsize=10)
    share.tick_params(axis="y", colors=LINE_ORANGE, labelsize=9)
    for side in ("top", "left", "bottom"):
        share.spines[side].set_visible(False)
    share.spines["right"].set_color(RULE)

    label_w = width_in / len(rows) * 0.92
    label_size = 10 if len(rows) <= 8 else 8.5
    value_pad = top * 0.025
    # Values go on the twin axes (drawn last) with a white backing so the line never hides them.
    backing = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85}
    for x, (label, count, _) in zip(xs, rows, strict=True):
        lines = sheet.fit(clean_text(label) or "?", label_w, size=label_size, max_lines=2)
        ax.text(
            x,
            -0.03,
            "\n".join(lines),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            fontproperties=font(label_size),
            color=INK,
            parse_math=False,
        )
        share.text(
            x,
            count + value_pad,
            str(count),
            transform=ax.transData,
            ha="center",
            va="bottom",
            fontproperties=font(11, weight="bold"),
            color=INK,
            parse_math=False,
            zorder=4,
            bbox=backing,
        )
        if previous is not None:
            change, color = _change(count, previous.get(label))
            share.text(
                x + 0.33,
                count + value_pad,
                change,
                transform=ax.transData,
                ha="left",
                va="bottom",
                fontproperties=font(9, weight="bold"),
                color=color,
                parse_math=False,
                zorder=4,
                bbox=backing,
            )


def _change(count: int, before: int | None) -> tuple[str, str]:
    """The change against last period; more waste than before is the bad direction."""
    if before is None or before <= 0:
        return "new", RED
    diff = count - before
    if diff == 0:
        return "±0", MUTED
    return fmt_signed(diff, str(abs(diff))), RED if diff > 0 else GREEN


def _minutes_lost(
    sheet: Sheet, ax: Axes, rows: Sequence[tuple[str, int, int]], *, label_w: float
) -> None:
    by_time = sorted(rows, key=lambda row: -row[2])
    minutes = [m for _, _, m in by_time]
    top = max(minutes)
    ys = list(range(len(by_time)))
    colors = [RED if i == 0 and top > 0 else AMBER for i in ys]
    ax.barh(ys, minutes, height=0.62, color=colors, zorder=2)
    ax.set_ylim(max(len(by_time), MIN_SLOTS) - 0.4, -0.6)
    ax.set_xlim(0, (top or 1) * 1.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(RULE)
    size = 10 if len(rows) <= 8 else 8.5
    for y, (label, _, m) in zip(ys, by_time, strict=True):
        lines = sheet.fit(clean_text(label) or "?", label_w, size=size, max_lines=2)
        ax.text(
            -0.03,
            y,
            "\n".join(lines),
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontproperties=font(size),
            color=INK,
            parse_math=False,
            linespacing=1.1,
        )
        value = fmt_duration(m)
        if y == 0 and top > 0:
            value += "  most time lost"
        ax.text(
            m + top * 0.02,
            y,
            value,
            ha="left",
            va="center",
            fontproperties=font(10, weight="bold" if y == 0 else "normal"),
            color=RED if y == 0 and top > 0 else INK,
            parse_math=False,
        )


def _trend(sheet: Sheet, axes: tuple[Axes, Axes], trend: Sequence[tuple[str, int, int]]) -> None:
    """Bottom band: waste logs per week as bars, hours lost as a line on a second axis."""
    sheet.ax.plot([0.4, WIDTH - 0.4], [TREND_H, TREND_H], color=RULE, lw=1.0)
    heading = f"The last {len(trend)} weeks"
    sheet.text(0.4, TREND_H - 0.45, heading, size=14, weight="bold", va="center")
    sheet.text(
        0.4 + sheet.measure(heading, size=14, weight="bold") + 0.25,
        TREND_H - 0.45,
        "bars: waste logs a week  ·  line: hours lost a week",
        size=11,
        color=MUTED,
        va="center",
    )
    # Two strips over the same weeks, each from zero: hours lost above, waste logs below.
    ax, lost = axes
    xs = list(range(len(trend)))
    counts = [count for _, count, _ in trend]
    hours = [minutes / 60 for _, _, minutes in trend]
    colors = [NAVY if i == len(xs) - 1 else LIGHT_NAVY for i in xs]
    ax.bar(xs, counts, width=0.55, color=colors, zorder=2)
    ax.set_ylim(0, max([*counts, 1]) * 1.3)
    ax.set_xlim(-0.6, len(xs) - 0.4)
    ax.set_xticks(xs)
    ax.set_xticklabels([clean_text(label) for label, _, _ in trend])
    ax.tick_params(axis="x", colors=INK, labelsize=12, length=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.set_yticks([v for v in ax.get_yticks() if 0 <= v <= max(counts) * 1.05])
    ax.tick_params(axis="y", colors=MUTED, labelsize=9)
    ax.set_ylabel("Waste logs", color=MUTED, fontsize=10)
    ax.grid(axis="y", color=GRID, lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(RULE)
    for x, count in zip(xs, counts, strict=True):
        ax.text(
            x,
            count,
            str(count),
            ha="center",
            va="bottom",
            fontproperties=font(12, weight="bold"),
            color=INK,
            parse_math=False,
        )
    lost.plot(xs, hours, color=LINE_ORANGE, lw=2.0, marker="o", markersize=5, zorder=3)
    top_hours = max([*hours, 1])
    lost.set_ylim(0, top_hours * 1.25)
    lost.yaxis.set_major_locator(MaxNLocator(nbins=3))
    lost.set_yticks([v for v in lost.get_yticks() if 0 <= v <= top_hours * 1.25])
    lost.set_ylabel("Hours lost", color=LINE_ORANGE, fontsize=10)
    lost.tick_params(axis="y", colors=LINE_ORANGE, labelsize=9)
    lost.tick_params(axis="x", labelbottom=False, length=0)
    lost.grid(axis="y", color=GRID, lw=0.8, zorder=0)
    for side in ("top", "right", "bottom"):
        lost.spines[side].set_visible(False)
    lost.spines["left"].set_color(RULE)
