"""Drawing plumbing shared by the chart renderers: palette, fonts, text fitting, PNG output.

Renders build their figures on Agg canvases and never touch pyplot or rcParams, so charts can
be drawn concurrently in worker threads; a figure kept for reuse (the flow chart's) is kept per
thread, never shared. A :class:`Sheet` is a figure whose one
full-size axes is measured in inches, which keeps box-and-arrow layouts easy to reason about.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from typing import Any, Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, fontManager
from matplotlib.ft2font import FT2Font
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text
from PIL import Image

from bot.domain.durations import format_duration

DPI = 100

# Palette: calm navy for work, amber for waiting, red for what needs attention.
INK = "#1f2a37"
MUTED = "#667085"
FAINT = "#98a2b3"
RULE = "#d0d5dd"
NAVY = "#1f4e79"
NAVY_FILL = "#eef4fb"
AMBER = "#f5b83d"
AMBER_EDGE = "#b7791f"
AMBER_TEXT = "#9a5b00"
RED = "#d92d20"
RED_FILL = "#fde8e7"
GREEN = "#1f8a4c"
BURST_FILL = "#ffd43b"
HIGHLIGHT_FILL = "#fff1dc"
HIGHLIGHT_EDGE = "#f08c00"
HIGHLIGHT_TEXT = "#b45309"
PANEL_FILL = "#f8fafc"

FONT = "DejaVu Sans"
# matplotlib's DejaVu Sans has no CJK; when the host has one of these, names in those scripts
# render properly instead of as placeholder boxes.
_FALLBACK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "Noto Sans CJK SC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
FontStyle = Literal["normal", "italic", "oblique"]

_WIDTHS_KEPT = 4096
"""Text widths a reused sheet remembers before it starts again."""

_PLACEHOLDER = "□"
_ELLIPSIS = "…"


@functools.cache
def font_families() -> tuple[str, ...]:
    installed = {entry.name for entry in fontManager.ttflist}
    return (FONT, *(name for name in _FALLBACK_FONTS if name in installed))


@functools.cache
def _coverage() -> frozenset[int]:
    """Code points every weight and style we draw with can show, across the font stack."""
    covered: set[int] = set()
    for family in font_families():
        per_style: set[int] | None = None
        styles: tuple[tuple[str, FontStyle], ...] = (
            ("normal", "normal"),
            ("bold", "normal"),
            ("normal", "italic"),
        )
        for weight, style in styles:
            prop = FontProperties(family=family, weight=weight, style=style)
            path = findfont(prop, fallback_to_default=False)
            codes = set(FT2Font(path).get_charmap())
            per_style = codes if per_style is None else per_style & codes
        covered |= per_style or set()
    return frozenset(covered)


def clean_text(text: str) -> str:
    """Make user text drawable: one line, and only glyphs the fonts have.

    Emoji and other symbols the fonts lack are dropped (they are decoration in a step name);
    letters of scripts the fonts lack become a placeholder box so the name keeps its shape.
    Drawing missing glyphs would emit a warning per character.
    """
    covered = _coverage()
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch.isspace():
            out.append(" ")
        elif ord(ch) in covered:
            out.append(ch)
        elif unicodedata.category(ch)[0] in "LN":
            out.append(_PLACEHOLDER)
    return " ".join("".join(out).split())


def fmt_duration(minutes: float) -> str:
    """The app's one duration style (``2 d 4 h``, ``1 h 30 min``), never negative on a chart."""
    return format_duration(max(0.0, float(minutes)))


def fmt_percent(ratio: float | None, *, digits: int = 1) -> str:
    if ratio is None:
        return "—"
    return f"{ratio * 100:.{digits}f}%"


def fmt_signed(value: float, text: str) -> str:
    """``text`` (already formatted, unsigned) with a typographic sign taken from ``value``."""
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"−{text}"
    return f"±{text}"


def font(size: float, *, weight: str = "normal", style: FontStyle = "normal") -> FontProperties:
    return FontProperties(family=list(font_families()), size=size, weight=weight, style=style)


class Sheet:
    """A white figure with one axes spanning it, in inches, origin at the bottom left."""

    def __init__(self, width: float, height: float, *, dpi: int = DPI) -> None:
        self.width = width
        self.height = height
        self.dpi = dpi
        self.figure = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax: Axes = self.figure.add_axes((0.0, 0.0, 1.0, 1.0))
        self.ax.set_xlim(0, width)
        self.ax.set_ylim(0, height)
        self.ax.set_axis_off()
        self._renderer = self.canvas.get_renderer()  # type: ignore[no-untyped-call]
        self._widths: dict[tuple[str, float, str, str], float] = {}

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        size: float = 10,
        weight: str = "normal",
        style: FontStyle = "normal",
        color: str = INK,
        ha: str = "left",
        va: str = "baseline",
        zorder: float = 5,
        **kwargs: Any,
    ) -> Text:
        return self.ax.text(
            x,
            y,
            s,
            fontproperties=font(size, weight=weight, style=style),
            color=color,
            ha=ha,
            va=va,
            zorder=zorder,
            parse_math=False,
            **kwargs,
        )

    def measure(
        self, s: str, *, size: float, weight: str = "normal", style: FontStyle = "normal"
    ) -> float:
        """Width of ``s`` in inches."""
        if not s:
            return 0.0
        key = (s, size, weight, style)
        if key not in self._widths:
            prop = font(size, weight=weight, style=style)
            width, _, _ = self._renderer.get_text_width_height_descent(s, prop, ismath=False)
            self._widths[key] = float(width) / self.dpi
        return self._widths[key]

    def fit(
        self,
        s: str,
        width: float,
        *,
        size: float,
        weight: str = "normal",
        style: FontStyle = "normal",
        max_lines: int = 1,
    ) -> list[str]:
        """Word-wrap ``s`` into at most ``max_lines`` lines of ``width`` inches.

        Words too long for a line are broken; text that does not fit ends in an ellipsis.
        Line widths are summed from word widths (shaping a string costs about a millisecond).
        """

        def w(text: str) -> float:
            return self.measure(text, size=size, weight=weight, style=style)

        def longest_prefix(text: str, suffix: str = "") -> int:
            """Length of the longest prefix of ``text`` that fits with ``suffix``, at least 1."""
            low, high = 1, len(text)
            while low < high:
                mid = (low + high + 1) // 2
                if w(text[:mid].rstrip() + suffix) <= width:
                    low = mid
                else:
                    high = mid - 1
            return low

        space = w(" ")
        lines: list[str] = []
        current, current_w = "", 0.0
        for word in s.split():
            word_w = w(word)
            if current and current_w + space + word_w <= width:
                current, current_w = f"{current} {word}", current_w + space + word_w
                continue
            if current:
                lines.append(current)
            while word_w > width and len(word) > 1:
                cut = longest_prefix(word)
                lines.append(word[:cut])
                word = word[cut:]
                word_w = w(word)
            current, current_w = word, word_w
        if current:
            lines.append(current)
        if len(lines) <= max_lines:
            return lines
        kept = lines[:max_lines]
        last = " ".join([kept[-1], *lines[max_lines:]])
        cut = longest_prefix(last, _ELLIPSIS)
        kept[-1] = last[:cut].rstrip(" .,;:-") + _ELLIPSIS
        return kept

    def fit_shrinking(
        self,
        s: str,
        width: float,
        *,
        sizes: Sequence[tuple[float, int]],
        weight: str = "normal",
    ) -> tuple[float, list[str]]:
        """The first (size, max lines) of ``sizes`` that fits ``s`` without breaking a word.

        Falls back to the last, wrapped and ellipsised, when none does.
        """
        whole = " ".join(s.split())
        for size, max_lines in sizes:
            lines = self.fit(s, width, size=size, weight=weight, max_lines=max_lines)
            if " ".join(lines) == whole:
                return size, lines
        size, max_lines = sizes[-1]
        return size, self.fit(s, width, size=size, weight=weight, max_lines=max_lines)

    def fit_one(self, s: str, width: float, *, size: float, weight: str = "normal") -> str:
        lines = self.fit(s, width, size=size, weight=weight, max_lines=1)
        return lines[0] if lines else ""

    def clear(self) -> None:
        """Remove every artist drawn on the sheet's axes, keeping the figure, the axes and
        their settings, for the next chart of the same layout. The axes' scales, ticks and
        labels are left as they are: a chart drawn on a cleared sheet must set them all."""
        for ax in self.figure.axes:
            drawn = [*ax.patches, *ax.lines, *ax.texts, *ax.collections, *ax.images, *ax.artists]
            for artist in drawn:
                artist.remove()
            ax.containers.clear()
        if len(self._widths) > _WIDTHS_KEPT:
            self._widths.clear()

    def png(self) -> bytes:
        """The sheet as an opaque PNG. Without the alpha channel, which a white sheet does not
        need, the PNG is smaller and quicker to compress; level 3 costs half of level 6's time
        for a file up to a fifth larger."""
        self.canvas.draw()  # type: ignore[no-untyped-call]
        rgba = self.canvas.buffer_rgba()  # type: ignore[no-untyped-call]
        size = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", size, rgba, "raw", "RGBA", 0, 1).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=3)
        return buffer.getvalue()


def render_message(title: str, message: str, *, hint: str = "") -> bytes:
    """A small friendly image for when there is nothing to draw yet."""
    sheet = Sheet(16.0, 4.0)
    sheet.ax.add_patch(rounded_box(0.4, 0.4, 15.2, 3.2, fill=PANEL_FILL, edge=RULE))
    heading = sheet.fit_one(clean_text(title), 14.4, size=18, weight="bold")
    sheet.text(0.8, 3.05, heading, size=18, weight="bold", va="top")
    sheet.text(8.0, 1.85, message, size=20, color=NAVY, ha="center", va="center")
    if hint:
        sheet.text(8.0, 1.2, hint, size=12, color=MUTED, ha="center", va="center")
    return sheet.png()


def rounded_box(
    x: float, y: float, w: float, h: float, *, fill: str, edge: str, linewidth: float = 1.0
) -> FancyBboxPatch:
    return FancyBboxPatch(
        (x, y),
        w,
        h,
        boxstyle="round,pad=0,rounding_size=0.12",
        facecolor=fill,
        edgecolor=edge,
        linewidth=linewidth,
    )
