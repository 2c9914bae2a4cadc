"""The waste Pareto image: a real PNG that follows the data, and a friendly empty state."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from matplotlib import image as mpimg
from numpy.typing import NDArray

from bot.charts.flow import render_flow_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

WEEK = [
    ("Waiting", 14, 61 * 60),
    ("Defects", 9, 22 * 60),
    ("Extra processing", 6, 7 * 60),
    ("Motion", 5, 210),
    ("Transportation", 3, 300),
    ("Non-utilized talent", 2, 90),
    ("Inventory", 1, 20),
    ("Overproduction", 1, 0),
]


def strictly(render: Callable[[], bytes]) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return render()


def decode(png: bytes) -> NDArray[np.float32]:
    assert png.startswith(PNG_SIGNATURE)
    pixels: NDArray[np.float32] = mpimg.imread(io.BytesIO(png), format="png")
    return pixels


@pytest.fixture(scope="module")
def week() -> bytes:
    return strictly(lambda: render_flow_chart(title="Week", categories=WEEK))


def test_render_flow_chart_is_a_slide_sized_png(week: bytes) -> None:
    height, width = decode(week).shape[:2]
    assert 1600 <= width <= 2000
    assert 300 <= height <= 1000


def test_render_flow_chart_shows_the_change_against_last_period(week: bytes) -> None:
    alone = decode(week)
    compared = decode(
        render_flow_chart(
            title="Week",
            categories=WEEK,
            previous={"Waiting": 11, "Defects": 12, "Motion": 5, "Inventory": 0, "Other": 3},
        )
    )

    assert alone.shape == compared.shape
    assert not np.array_equal(alone, compared)


def test_render_flow_chart_changes_when_the_counts_do(week: bytes) -> None:
    fewer = [("Waiting", 4, 61 * 60), *WEEK[1:]]

    assert not np.array_equal(
        decode(week), decode(render_flow_chart(title="Week", categories=fewer))
    )


def test_render_flow_chart_sorts_categories_given_out_of_order(week: bytes) -> None:
    shuffled = [WEEK[3], WEEK[0], WEEK[6], WEEK[1], WEEK[2], WEEK[4], WEEK[5], WEEK[7]]

    assert render_flow_chart(title="Week", categories=shuffled) == week


@pytest.mark.parametrize(
    "categories",
    [
        [("waiting", 1, 0)],
        [("Wartezeit 🚀", 3, 45), ("テスト", 2, 10**6), ("$x$ budget", 1, 5)],
        [(f"A rather long category label number {i}", 20 - i, i * 60) for i in range(14)],
    ],
)
def test_render_flow_chart_draws_odd_labels_without_warnings(
    categories: list[tuple[str, int, int]],
) -> None:
    png = strictly(
        lambda: render_flow_chart(title="Week 🚀", categories=categories, previous={"waiting": 1})
    )

    height, width = decode(png).shape[:2]
    assert 1000 <= width <= 3000
    assert 300 <= height <= 6000


@pytest.mark.parametrize("categories", [[], [("Waiting", 0, 0), ("Defects", 0, 30)]])
def test_render_flow_chart_with_nothing_logged_is_a_friendly_image(
    categories: list[tuple[str, int, int]], week: bytes
) -> None:
    png = strictly(lambda: render_flow_chart(title="Week", categories=categories, previous={}))

    height, width = decode(png).shape[:2]
    assert 1000 <= width <= 3000
    assert 300 <= height <= 1000
    assert png != week


TREND = [(f"W{n}", n * 2, n * 90) for n in range(40, 48)]


def test_the_eight_week_trend_is_drawn_below_the_pareto() -> None:
    without = decode(strictly(lambda: render_flow_chart(title="Week", categories=WEEK)))
    with_trend = decode(
        strictly(lambda: render_flow_chart(title="Week", categories=WEEK, trend=TREND))
    )
    assert with_trend.shape[1] == without.shape[1]
    assert with_trend.shape[0] > without.shape[0] + 300
    # The band below the Pareto is not blank: the weekly bars are drawn there.
    band = with_trend[-300:-80, 100:-100, :3]
    assert (band < 0.9).any()


def test_a_quiet_week_with_an_earlier_trend_still_draws_the_trend() -> None:
    png = strictly(lambda: render_flow_chart(title="Week", categories=[], trend=TREND))
    assert decode(png).shape[0] > 1000


def test_no_logs_at_all_in_eight_weeks_is_the_friendly_empty_image() -> None:
    quiet = [(label, 0, 0) for label, _, _ in TREND]
    png = strictly(lambda: render_flow_chart(title="Week", categories=[], trend=quiet))
    assert decode(png).shape[0] == 400


MANY = [(f"Category {n} with a longer name", 40 - n, n * 75) for n in range(12)]
FEW = [("Defects", 3, 0), ("No category yet", 2, 0)]
CHARTS: list[dict[str, Any]] = [
    {"title": "Week", "categories": WEEK, "previous": {"Waiting": 11, "Gone": 2}, "trend": TREND},
    {"title": "Many " * 30, "categories": MANY, "previous": {"Category 3": 9}, "trend": TREND},
    {"title": "Few", "categories": FEW, "trend": TREND[::-1]},
    {"title": "No trend", "categories": WEEK[:3]},
    {"title": "Trend only", "categories": [], "trend": TREND},
]


def test_a_chart_is_drawn_the_same_whatever_was_drawn_before_it() -> None:
    # Charts reuse their thread's figure: nothing of one may show in the next.
    with ThreadPoolExecutor(max_workers=1) as fresh_thread:
        alone = fresh_thread.submit(lambda: render_flow_chart(**CHARTS[0])).result()
    for chart in [*CHARTS[1:], *CHARTS[::-1]]:
        render_flow_chart(**chart)
    after_others = render_flow_chart(**CHARTS[0])
    assert np.array_equal(decode(after_others), decode(alone))


def test_charts_drawn_at_once_in_worker_threads_are_each_their_own() -> None:
    expected = [render_flow_chart(**chart) for chart in CHARTS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda chart: render_flow_chart(**chart), CHARTS * 3))
    assert [decode(png).tobytes() for png in got] == [decode(png).tobytes() for png in expected * 3]
