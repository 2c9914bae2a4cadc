"""Value stream map images: real PNGs of a sensible size that change when the map does."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from functools import partial

import numpy as np
import pytest
from matplotlib import image as mpimg
from numpy.typing import NDArray

from bot.charts._canvas import clean_text, fmt_duration
from bot.charts.vsm_map import render_comparison, render_value_stream
from bot.domain.vsm import Burst, MapNotes, MeasuredWait, Step, map_changes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
H = 60
D = 24 * H


def pet_clinic() -> list[Step]:
    return [
        Step("Idea intake", 1, 2 * H, 3 * D, 70, "Product Owner", id=1),
        Step("Backlog refinement", 2, 3 * H, 4 * D, 80, "Scrum Team", id=2),
        Step("Development", 3, 3 * D, 2 * D, 85, "Developer", id=3),
        Step("Code review", 4, 2 * H, 1 * D, 90, "Developer", id=4),
        Step("Testing", 5, 1 * D, 5 * D, 75, "Tester", id=5),
        Step("Change approval board", 6, 1 * H, 10 * D, 60, "CAB", id=6),
        Step("Deployment", 7, 4 * H, 2 * D, 80, "IT Admin", id=7),
    ]


def many_steps(count: int) -> list[Step]:
    return [
        Step(
            f"Step {i + 1}", i + 1, 30 + (i * 37) % 300, 60 + (i * 431) % 5000, 90, "Dev", id=i + 1
        )
        for i in range(count)
    ]


def strictly(render: Callable[[], bytes]) -> bytes:
    """Render with every warning turned into an error, so none can escape unnoticed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return render()


def decode(png: bytes) -> NDArray[np.float32]:
    assert png.startswith(PNG_SIGNATURE)
    pixels: NDArray[np.float32] = mpimg.imread(io.BytesIO(png), format="png")
    return pixels


def size_of(png: bytes) -> tuple[int, int]:
    height, width = decode(png).shape[:2]
    return width, height


@pytest.fixture(scope="module")
def plain() -> bytes:
    return strictly(lambda: render_value_stream(pet_clinic(), title="Pet Clinic"))


def test_render_value_stream_is_a_slide_sized_png(plain: bytes) -> None:
    width, height = size_of(plain)
    assert 1600 <= width <= 2000
    assert 300 <= height <= 1600


def test_a_seven_step_map_is_laid_out_in_rows_to_read_at_preview_size(plain: bytes) -> None:
    # Slack previews an image about 600 px wide: a 3.8 : 1 strip shrinks its text to specks.
    width, height = size_of(plain)
    assert width / height < 1.6


def test_render_value_stream_draws_1_7_and_30_steps_wrapping_long_maps() -> None:
    sizes = {
        count: size_of(strictly(partial(render_value_stream, many_steps(count), title="Delivery")))
        for count in (1, 7, 30)
    }

    for width, height in sizes.values():
        assert 1000 <= width <= 3000
        assert 300 <= height <= 6000
    assert sizes[1][0] == sizes[7][0] and sizes[1][1] < sizes[7][1]
    # Thirty steps wrap onto eight rows of four instead of shrinking the boxes.
    assert sizes[30][0] == sizes[7][0]
    assert sizes[30][1] > 2.5 * sizes[7][1]


def test_render_value_stream_is_deterministic(plain: bytes) -> None:
    assert render_value_stream(pet_clinic(), title="Pet Clinic") == plain


def test_render_value_stream_changes_when_a_wait_changes(plain: bytes) -> None:
    steps = pet_clinic()
    longer = [*steps[:4], replace(steps[4], wait_minutes=9 * D), *steps[5:]]

    after = decode(render_value_stream(longer, title="Pet Clinic"))

    assert decode(plain).shape == after.shape
    assert not np.array_equal(decode(plain), after)


def test_render_value_stream_draws_themes_as_bursts_and_ranks_hot_spots_by_time(
    plain: bytes,
) -> None:
    steps = pet_clinic()
    nothing = render_value_stream(
        steps, title="Pet Clinic", notes=MapNotes(bursts={}, lost_minutes={1: 0, 5: 0})
    )
    planned = render_value_stream(
        steps,
        title="Pet Clinic",
        notes=MapNotes(bursts={6: [Burst("K-2", "proposed")]}),
    )
    started = render_value_stream(
        steps,
        title="Pet Clinic",
        notes=MapNotes(bursts={6: [Burst("K-2", "in progress")]}),
    )
    hot = render_value_stream(
        steps, title="Pet Clinic", notes=MapNotes(lost_minutes={5: 6 * D, 6: 15 * D})
    )

    assert nothing == plain
    assert not np.array_equal(decode(plain), decode(planned))
    assert not np.array_equal(decode(planned), decode(started))
    assert not np.array_equal(decode(plain), decode(hot))


def test_render_value_stream_carries_its_date_and_data_window(plain: bytes) -> None:
    dated = render_value_stream(
        pet_clinic(),
        title="Pet Clinic",
        notes=MapNotes(drawn_on=date(2026, 12, 3), window=(date(2026, 11, 5), date(2026, 12, 3))),
    )
    assert not np.array_equal(decode(plain), decode(dated))


def test_render_value_stream_marks_a_future_states_changes() -> None:
    future = future_state()
    changes = map_changes(pet_clinic(), future)
    marked = render_value_stream(
        future, title="Pet Clinic", state_label="Future state", notes=MapNotes(changes=changes)
    )
    unmarked = render_value_stream(future, title="Pet Clinic", state_label="Future state")
    assert not np.array_equal(decode(marked), decode(unmarked))


def test_render_value_stream_shows_measured_waits_and_highlights_those_far_off(
    plain: bytes,
) -> None:
    steps = pet_clinic()
    near = {5: MeasuredWait(7, 5.5 * D, 6 * D)}  # 10% over the 5-day estimate
    far = {5: MeasuredWait(7, 7 * D, 9 * D)}  # 40% over it

    with_near = decode(
        render_value_stream(steps, title="Pet Clinic", notes=MapNotes(measured=near))
    )
    with_far = decode(render_value_stream(steps, title="Pet Clinic", notes=MapNotes(measured=far)))

    assert not np.array_equal(decode(plain), with_near)
    # The highlight is orange: far more strongly orange pixels than the plain estimate.
    assert orange_pixels(with_far) > orange_pixels(with_near) + 200


def orange_pixels(pixels: NDArray[np.float32]) -> int:
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return int(np.count_nonzero((r > 0.9) & (g > 0.85) & (g < 0.97) & (b > 0.78) & (b < 0.9)))


def test_render_value_stream_ignores_data_for_steps_not_on_the_map(plain: bytes) -> None:
    png = render_value_stream(
        pet_clinic(),
        title="Pet Clinic",
        notes=MapNotes(
            measured={99: MeasuredWait(3, 60, 90)},
            lost_minutes={99: 400},
            bursts={99: [Burst("K-1", "proposed")]},
        ),
    )

    assert png == plain


NAMES = [
    "Prüfung",
    "テスト",
    "Déploiement 🚀",
    "👍🏽",
    "العربية",
    "Budget sign-off at $5k and $x$ approval",
    "Supercalifragilisticexpialidocious-and-then-some-more-characters-here",
    "A very long step name that goes on and on about approvals, sign-offs and forms",
]


def test_render_value_stream_draws_any_step_name_without_warnings() -> None:
    steps = [Step(name, i, 90, (i + 1) * D, 80, name, id=i) for i, name in enumerate(NAMES)]

    png = strictly(
        lambda: render_value_stream(
            steps,
            title=" ".join(NAMES),
            state_label="Zukunft 🚀 テスト",
            notes=MapNotes(
                measured={i: MeasuredWait(2, 3 * D, 4 * D) for i in range(len(NAMES))},
                lost_minutes={2: 2 * H, 3: 2 * H},
                bursts={2: [Burst("K-12345", "in progress"), Burst("K-2", "done")]},
            ),
        )
    )

    assert 1000 <= size_of(png)[0] <= 3000


def test_render_value_stream_draws_zero_times_and_no_owner() -> None:
    steps = [Step("Ship", 1, 0, 0, 0), Step("Tell", 2, 0, 0, 100)]

    png = strictly(lambda: render_value_stream(steps, title="Nothing yet"))

    assert size_of(png)[0] >= 1000


def test_render_value_stream_of_an_empty_map_is_a_friendly_image(plain: bytes) -> None:
    png = strictly(lambda: render_value_stream([], title="Pet Clinic"))

    width, height = size_of(png)
    assert 1000 <= width <= 3000
    assert 300 <= height <= 6000
    assert png != plain


def test_render_value_stream_is_safe_in_worker_threads() -> None:
    maps = [pet_clinic()[:1], many_steps(2), pet_clinic()[4:5], many_steps(1)]
    expected = [render_value_stream(steps, title="Threads") for steps in maps]

    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda steps: render_value_stream(steps, title="Threads"), maps))

    assert got == expected


def future_state() -> list[Step]:
    return [
        Step("Idea intake", 1, 2 * H, 2 * D, 85, "Product Owner", id=11),
        Step("Development", 2, 2 * D, 1 * D, 90, "Developer", id=12),
        Step("Testing", 3, 6 * H, 2 * H, 90, "Tester", id=13),
        Step("Automated change checks", 4, 10, 30, 98, "Pipeline", id=14),
        Step("Deployment", 5, 30, 4 * H, 95, "IT Admin", id=15),
    ]


def test_render_comparison_is_a_slide_sized_png() -> None:
    png = strictly(lambda: render_comparison(pet_clinic(), future_state(), title="Pet Clinic"))

    width, height = size_of(png)
    assert 1600 <= width <= 2000
    assert 300 <= height <= 2400


def test_render_comparison_changes_with_the_future_state() -> None:
    better = future_state()
    worse = [replace(step, wait_minutes=step.wait_minutes * 3) for step in better]

    assert decode(render_comparison(pet_clinic(), better, title="Pet Clinic")).tobytes() != (
        decode(render_comparison(pet_clinic(), worse, title="Pet Clinic")).tobytes()
    )


@pytest.mark.parametrize(
    ("current", "future"),
    [
        ([], []),
        (pet_clinic(), []),
        ([], future_state()),
        (many_steps(30), future_state()),
        ([Step("テスト 🚀", 1, 0, 0, 0)], [Step("Prüfung", 1, 0, 0, 100)]),
    ],
)
def test_render_comparison_draws_partial_and_odd_maps(
    current: list[Step], future: list[Step]
) -> None:
    png = strictly(lambda: render_comparison(current, future, title="Pet Clinic 🚀"))

    width, height = size_of(png)
    assert 1000 <= width <= 3000
    assert 300 <= height <= 6000


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 min"),
        (45, "45 min"),
        (119, "1 h 59 min"),
        (210, "3 h 30 min"),
        (2 * D, "2 d"),
        (3.5 * D, "3 d 12 h"),
        (150 * D, "150 d"),
        (-5, "0 min"),
    ],
)
def test_fmt_duration_is_the_apps_one_duration_style(minutes: float, text: str) -> None:
    assert fmt_duration(minutes) == text


def test_clean_text_keeps_what_the_font_draws_and_drops_emoji() -> None:
    assert clean_text("Déploiement 🚀") == "Déploiement"
    assert clean_text("Prüfung\n  step") == "Prüfung step"
    assert clean_text("👍🏽") == ""
    assert len(clean_text("テスト")) == 3
