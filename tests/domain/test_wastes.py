from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain import durations, wastes
from bot.domain.errors import InvalidInput
from bot.domain.wastes import (
    CATEGORIES,
    MAX_DESCRIPTION,
    QuickWait,
    QuickWaste,
    WasteCategory,
    category_synonyms,
    clean_description,
    parse_category,
    parse_quick_wait,
    parse_quick_waste,
)
from bot.domain.wastes import _leading_category as _leading_category

W = WasteCategory


def test_waste_category_is_in_downtime_order() -> None:
    assert [c.value for c in WasteCategory] == [
        "defects",
        "overproduction",
        "waiting",
        "non_utilized_talent",
        "transportation",
        "inventory",
        "motion",
        "extra_processing",
    ]


def test_categories_describe_every_category_in_order() -> None:
    assert list(CATEGORIES) == list(WasteCategory)
    for key, info in CATEGORIES.items():
        assert info.key is key


@pytest.mark.parametrize("category", list(WasteCategory))
def test_categories_fit_a_slack_select_option(category: WasteCategory) -> None:
    info = CATEGORIES[category]
    assert 0 < len(info.label) <= 75
    assert 0 < len(info.meaning) <= 75
    assert re.fullmatch(r":[a-z0-9_+-]+:", info.emoji)


def test_categories_have_distinct_emoji() -> None:
    assert len({info.emoji for info in CATEGORIES.values()}) == len(CATEGORIES)


def test_categories_use_readable_labels() -> None:
    assert CATEGORIES[W.DEFECTS].label == "Defects"
    assert CATEGORIES[W.NON_UTILIZED_TALENT].label == "Non-utilized talent"
    assert CATEGORIES[W.EXTRA_PROCESSING].label == "Extra processing"
    assert CATEGORIES[W.WAITING].emoji == ":hourglass_flowing_sand:"
    assert CATEGORIES[W.DEFECTS].emoji == ":bug:"


@pytest.mark.parametrize("category", list(WasteCategory))
def test_parse_category_reads_every_key_and_label(category: WasteCategory) -> None:
    info = CATEGORIES[category]
    spellings = {
        category.value,
        category.value.upper(),
        category.value.replace("_", " "),
        category.value.replace("_", "-"),
        info.label,
        info.label.lower(),
        info.label.upper(),
        f"  {info.label}  ",
    }
    for spelling in spellings:
        assert parse_category(spelling) is category, spelling


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("bug", W.DEFECTS),
        ("bugs", W.DEFECTS),
        ("rework", W.DEFECTS),
        ("defect", W.DEFECTS),
        ("failed deploy", W.DEFECTS),
        ("Failed-Deploy", W.DEFECTS),
        ("incident", W.DEFECTS),
        ("regression", W.DEFECTS),
        ("hotfix", W.DEFECTS),
        ("flaky tests", W.DEFECTS),
        ("blocked", W.WAITING),
        ("queue", W.WAITING),
        ("wait", W.WAITING),
        ("delay", W.WAITING),
        ("approval", W.WAITING),
        ("bottleneck", W.WAITING),
        ("handoff", W.TRANSPORTATION),
        ("hand-off", W.TRANSPORTATION),
        ("hand off", W.TRANSPORTATION),
        ("hand_off", W.TRANSPORTATION),
        ("handover", W.TRANSPORTATION),
        ("silo", W.TRANSPORTATION),
        ("gate", W.TRANSPORTATION),
        ("wip", W.INVENTORY),
        ("WIP", W.INVENTORY),
        ("backlog", W.INVENTORY),
        ("inventory", W.INVENTORY),
        ("stale", W.INVENTORY),
        ("work in progress", W.INVENTORY),
        ("context switch", W.MOTION),
        ("context switching", W.MOTION),
        ("Context-Switching", W.MOTION),
        ("task switching", W.MOTION),
        ("switching", W.MOTION),
        ("searching", W.MOTION),
        ("interruptions", W.MOTION),
        ("gold plating", W.EXTRA_PROCESSING),
        ("gold-plating", W.EXTRA_PROCESSING),
        ("overengineering", W.EXTRA_PROCESSING),
        ("redundant", W.EXTRA_PROCESSING),
        ("reinventing the wheel", W.EXTRA_PROCESSING),
        ("unused skills", W.NON_UTILIZED_TALENT),
        ("talent", W.NON_UTILIZED_TALENT),
        ("disempowered", W.NON_UTILIZED_TALENT),
        ("non-utilised talent", W.NON_UTILIZED_TALENT),
        ("micromanagement", W.NON_UTILIZED_TALENT),
        ("overproduction", W.OVERPRODUCTION),
        ("unneeded feature", W.OVERPRODUCTION),
        ("unused feature", W.OVERPRODUCTION),
        ("yagni", W.OVERPRODUCTION),
        ("YAGNI", W.OVERPRODUCTION),
        ("scope creep", W.OVERPRODUCTION),
    ],
)
def test_parse_category_reads_synonyms(text: str, category: WasteCategory) -> None:
    assert parse_category(text) is category


@pytest.mark.parametrize("text", ["", "   ", "coffee", "waste", "the bug", "bugged", "🐛"])
def test_parse_category_returns_none_for_other_words(text: str) -> None:
    assert parse_category(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("waiting 2h for the CI runner", QuickWaste(W.WAITING, 120, "waiting for the CI runner")),
        (
            "Waiting: 2h for the CI runner",
            QuickWaste(W.WAITING, 120, "Waiting: for the CI runner"),
        ),
        ("defects 30m login broke", QuickWaste(W.DEFECTS, 30, "defects login broke")),
        (
            "extra_processing 1d 4h polishing",
            QuickWaste(W.EXTRA_PROCESSING, 1680, "extra_processing polishing"),
        ),
        (
            "Extra processing: polishing",
            QuickWaste(W.EXTRA_PROCESSING, None, "Extra processing: polishing"),
        ),
        (
            "non-utilized talent nobody asked the devs",
            QuickWaste(W.NON_UTILIZED_TALENT, None, "non-utilized talent nobody asked the devs"),
        ),
        ("rework on the login page", QuickWaste(W.DEFECTS, None, "rework on the login page")),
        ("blocked 2h on review", QuickWaste(W.WAITING, 120, "blocked on review")),
        (
            "Context switch 30m between three projects",
            QuickWaste(W.MOTION, 30, "Context switch between three projects"),
        ),
        (
            "context switching all day",
            QuickWaste(W.MOTION, None, "context switching all day", "switching all day"),
        ),
        (
            "hand-off to ops took ages",
            QuickWaste(W.TRANSPORTATION, None, "hand-off to ops took ages"),
        ),
        ("2h flaky tests", QuickWaste(None, 120, "flaky tests")),
        ("the CI runner was down", QuickWaste(None, None, "the CI runner was down")),
        ("  waiting   2h   for   CI  ", QuickWaste(W.WAITING, 120, "waiting for CI")),
        (
            "waiting 1h\n  the   runner \n\n was down  ",
            QuickWaste(W.WAITING, 60, "waiting\nthe runner\n\nwas down"),
        ),
        (
            "waiting\nthe runner was down",
            QuickWaste(W.WAITING, None, "waiting\nthe runner was down"),
        ),
        ("waitingroom is full", QuickWaste(None, None, "waitingroom is full")),
    ],
)
def test_parse_quick_waste_reads_category_duration_and_description(
    text: str, expected: QuickWaste
) -> None:
    assert parse_quick_waste(text) == expected


@pytest.mark.parametrize(
    "description",
    [
        "Robert'); DROP TABLE wastes;--",
        "SELECT * FROM wastes WHERE 1=1",
        "déploiement échoué — 测试环境 🐛🔥",
        "<@U123> and <#C456|general> and <https://example.com|link>",
        "*bold* _italic_ `code` ~strike~",
        "%s %(name)s {0} {name}",
    ],
)
def test_parse_quick_waste_passes_any_text_through_unchanged(description: str) -> None:
    assert parse_quick_waste(f"motion {description}") == QuickWaste(
        W.MOTION, None, f"motion {description}"
    )


@pytest.mark.parametrize("text", ["", "   ", "waiting", "waiting 2h", "2h", "Defects:", "\n\n"])
def test_parse_quick_waste_asks_what_happened(text: str) -> None:
    with pytest.raises(InvalidInput, match="Say what happened") as caught:
        parse_quick_waste(text)
    assert caught.value.field == "description"


@pytest.mark.parametrize(
    ("text", "minutes", "description"),
    [
        ("waiting two hours for CI", 120, "waiting for CI"),
        ("waiting half a day for the test environment", 720, "waiting for the test environment"),
        ("blocked 90 minutes on review", 90, "blocked on review"),
        ("waiting an hour and a half for CI", 90, "waiting for CI"),
    ],
)
def test_parse_quick_waste_reads_spoken_times(text: str, minutes: int, description: str) -> None:
    result = parse_quick_waste(text)
    assert (result.minutes, result.description, result.unread_time) == (
        minutes,
        description,
        None,
    )


def test_parse_quick_waste_names_a_time_it_did_not_read() -> None:
    result = parse_quick_waste("waiting for CI for about two hours")
    assert result.minutes is None
    assert result.unread_time == "about two hours"


def test_parse_quick_waste_rejects_a_zero_duration() -> None:
    with pytest.raises(InvalidInput, match="zero"):
        parse_quick_waste("waiting 0h for nothing")


def test_parse_quick_waste_accepts_the_longest_description() -> None:
    text = "x" * MAX_DESCRIPTION
    assert parse_quick_waste(text).description == text


def test_parse_quick_waste_rejects_a_description_over_the_limit() -> None:
    with pytest.raises(InvalidInput, match="3000 characters") as caught:
        parse_quick_waste("x" * (MAX_DESCRIPTION + 1))
    assert caught.value.field == "description"


@given(st.text(max_size=200))
def test_parse_quick_waste_raises_only_invalid_input(text: str) -> None:
    try:
        result = parse_quick_waste(text)
    except InvalidInput:
        return
    assert result.description == result.description.strip()
    assert 0 < len(result.description) <= MAX_DESCRIPTION


@given(
    st.sampled_from(list(WasteCategory)),
    st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1),
)
def test_parse_quick_waste_reads_any_key_before_a_description(
    category: WasteCategory, words: str
) -> None:
    description = " ".join(words.split())
    try:
        result = parse_quick_waste(f"{category.value} · {description}")
    except InvalidInput:
        return
    assert result.category is category
    assert result.description == f"{category.value} · {description}".strip()


_NAMES = [
    *(synonym for category in WasteCategory for synonym in category_synonyms(category, limit=99)),
    *(category.value for category in WasteCategory),
    *(info.label for info in CATEGORIES.values()),
]
_FIRST_WORDS = [
    *_NAMES,
    "Hand-off",
    "hand_OVER",
    "WAITING:",
    "waiting,",
    "Work-in-progress",
    "-",
    "–",
    "—",
    "...",
    "2h",
    "for",
    "the",
    "in",
]


def _longest_name_first(line: str) -> str | None:
    """The words read as the category, by definition: the longest run of first words that is
    a name, of no more words than the longest name has."""
    most = max(len(name.split()) for name in _NAMES)
    ends = [word.end() for word in re.finditer(r"\S+", line)][:most]
    for end in reversed(ends):
        if parse_category(line[:end]) is not None:
            return line[:end]
    return None


@given(st.lists(st.sampled_from(_FIRST_WORDS), min_size=1, max_size=6))
@example(["stale", "backlog", "2h"])  # a name that begins a longer one
@example(["work-in-progress", "2h"])  # the longest names: three words
@example(["Non-utilized", "talent:", "2h"])
@example(["reinventing", "the", "wheel", "-"])
def test_quick_logs_read_the_longest_name_the_first_words_make(words: list[str]) -> None:
    line = " ".join(words) + " for the build"
    leading = _leading_category(line)
    assert (leading and leading.spoken) == _longest_name_first(line)


def test_clean_description_strips_and_keeps_inner_text() -> None:
    assert clean_description("  two\n  lines  ") == "two\n  lines"


@pytest.mark.parametrize("text", ["", " \n\t "])
def test_clean_description_rejects_empty_text(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_description(text)
    assert caught.value.field == "description"


def test_clean_description_rejects_text_over_the_limit() -> None:
    with pytest.raises(InvalidInput, match="this one has 3001") as caught:
        clean_description("é" * 3001)
    assert caught.value.field == "description"


@pytest.mark.parametrize(
    ("text", "expected", "without_step"),
    [
        (
            "2d test environment in Testing",
            QuickWait(2880, "test environment in Testing", "Testing"),
            "test environment",
        ),
        (
            "2d waited in line IN Code review.",
            QuickWait(2880, "waited in line IN Code review.", "Code review"),
            "waited in line",
        ),
        ("3h for a review", QuickWait(180, "for a review", None), "for a review"),
        ("1d 4h login", QuickWait(1680, "login", None), "login"),
        ("2h stuck in", QuickWait(120, "stuck in", None), "stuck in"),
        ("2h in Testing", QuickWait(120, "in Testing", "Testing"), "in Testing"),
        (
            "2h env in Testing\nsecond line",
            QuickWait(120, "env in Testing\nsecond line", None),
            "env in Testing\nsecond line",
        ),
        (
            "2h env\nstill down in Deploy",
            QuickWait(120, "env\nstill down in Deploy", "Deploy"),
            "env\nstill down",
        ),
    ],
)
def test_parse_quick_wait_reads_duration_reason_and_step_hint(
    text: str, expected: QuickWait, without_step: str
) -> None:
    wait = parse_quick_wait(text)
    assert wait == expected
    assert wait.reason_without_step == without_step


def test_parse_quick_wait_ignores_a_hint_too_long_to_be_a_step() -> None:
    wait = parse_quick_wait("2h env in " + "a very long place " * 5)
    assert wait.step_hint is None


@pytest.mark.parametrize("text", ["", "test environment", "waiting 2h env", "90 env"])
def test_parse_quick_wait_needs_a_leading_duration(text: str) -> None:
    with pytest.raises(InvalidInput, match="/wait 2d test environment in Testing") as caught:
        parse_quick_wait(text)
    assert caught.value.field == "duration"


@pytest.mark.parametrize("text", ["2d", "  2d  ", "1d 4h -"])
def test_parse_quick_wait_needs_a_reason(text: str) -> None:
    with pytest.raises(InvalidInput, match="Say what you waited for") as caught:
        parse_quick_wait(text)
    assert caught.value.field == "reason"


def test_parse_quick_wait_rejects_an_out_of_range_duration() -> None:
    with pytest.raises(InvalidInput, match="longer than 365 days"):
        parse_quick_wait("400d for approval")


@given(st.text(max_size=200))
def test_parse_quick_wait_raises_only_invalid_input(text: str) -> None:
    try:
        wait = parse_quick_wait(text)
    except InvalidInput:
        return
    assert wait.minutes > 0
    assert wait.reason
    assert wait.reason_without_step


_NAMES = sorted(wastes._LOOKUP)
_SINGLE_NAMES = st.sampled_from([n for n in _NAMES if " " not in n]).map(
    lambda n: n.capitalize() if len(n) % 2 else n
)
_KNOWN_UNITS = st.sampled_from(sorted(durations._UNIT_MINUTES))
_WORDS = st.one_of(
    st.sampled_from([n for n in _NAMES if " " not in n]),
    st.sampled_from(_NAMES),
    st.sampled_from(["and", "AND", "And", "for", "x", "two", "half", "an", "hours", "ſ", "K"]),
    st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True),
    st.text(min_size=1, max_size=6).filter(lambda t: not t.isspace()),
)
_AMOUNTS = st.one_of(
    st.integers(0, 1200).map(str),
    st.from_regex(r"0{1,3}[0-9]{1,2}|[0-9]{4,6}|[0-9]\.[0-9]|\.5", fullmatch=True),
    st.sampled_from(["-5", "+2", "two", "a"]),
)
_UNITS = st.one_of(
    st.sampled_from(["m", "min", "mins", "h", "hr", "Hours", "D", "days", "w", "wks", "WEEK"]),
    st.sampled_from(["mo", "s", "x", "hours2", "m,", "h-", "ſ", "K"]),
    st.from_regex(r"[A-Za-z]{1,6}", fullmatch=True),
)


@settings(max_examples=1000)
@given(
    # Mostly the common shape, so that most examples are read by both.
    word=st.one_of(_SINGLE_NAMES, _SINGLE_NAMES, _WORDS),
    amount=st.one_of(st.integers(1, 999).map(str), _AMOUNTS),
    unit=st.one_of(_KNOWN_UNITS, _UNITS),
    rest=st.lists(
        st.one_of(_WORDS, _AMOUNTS, _UNITS, _KNOWN_UNITS, st.sampled_from([",", "-", ":"])),
        max_size=5,
    ),
    spaced=st.sampled_from([False, False, False, True]),
)
@example(word="waiting", amount="45", unit="m", rest=["for", "the", "build"], spaced=False)
@example(word="Waiting", amount="2", unit="h", rest=["and", "30m", "more"], spaced=False)
@example(word="blocked", amount="0", unit="h", rest=["on", "review"], spaced=False)
@example(word="waiting", amount="2", unit="h", rest=["30m"], spaced=False)
@example(word="waiting", amount="2", unit="h", rest=["-", "CI"], spaced=False)
@example(word="waiting", amount="999", unit="w", rest=["again"], spaced=False)
def test_the_common_start_of_a_quick_log_is_read_as_the_general_reading_reads_it(
    word: str, amount: str, unit: str, rest: list[str], spaced: bool
) -> None:
    line = wastes._normalise_lines(" ".join([word, amount + (" " if spaced else "") + unit, *rest]))
    line = line.partition("\n")[0]
    common = wastes._common_start(line)
    if common is None:
        return
    assert common == wastes._start(line)


def test_most_quick_logs_are_read_by_their_common_start() -> None:
    for text in ("waiting 45m for the build", "Blocked 2h on review", "defects 3h rework"):
        assert wastes._common_start(text) is not None
    # What the common reading leaves to the general one.
    for text in ("waiting 2h and 30m for it", "waiting 2h 30m", "waiting 0h for x", "hand off 1h"):
        assert wastes._common_start(text) is None


def test_no_category_name_holds_a_digit() -> None:
    """What the common start relies on: a duration after the first word ends every name."""
    assert not [name for name in _NAMES if any(c.isdigit() for c in name)]
