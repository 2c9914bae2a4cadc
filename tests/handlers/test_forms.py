"""Modal forms read into typed models: every problem comes back keyed by its input block."""

from __future__ import annotations

from typing import Any

import pytest

from bot import ids
from bot.domain.hypotheses import Metric
from bot.domain.wastes import WasteCategory
from fake_slack.driver import checkboxes, datepicker, input_values, plain, static_select
from handlers.edge import FormErrors
from handlers.forms import ThemeForm, WasteForm, read_form
from handlers.payloads import ViewSubmission

A, W = ids.ACTION_KAIZEN_INPUT, ids.ACTION_WASTE_INPUT


def submission(values: dict[str, Any]) -> ViewSubmission:
    return ViewSubmission.model_validate(
        {"user": {"id": "U1"}, "view": {"id": "V1", "state": {"values": values}}}
    )


def test_a_theme_form_reads_into_a_typed_proposal() -> None:
    sub = submission(
        input_values(
            (ids.BLOCK_THEME_TITLE, A, plain("  Testers in refinement ")),
            (ids.BLOCK_THEME_PROBLEM, A, plain("Stories bounce back from QA")),
            (ids.BLOCK_THEME_CATEGORY, A, static_select("defects")),
            (ids.BLOCK_THEME_METRIC, A, static_select("waste_count")),
            (ids.BLOCK_THEME_TARGET, A, plain(" 3 ")),
            (ids.BLOCK_THEME_CHECK_DATE, A, datepicker("2026-12-24")),
        )
    )
    proposal = read_form(ThemeForm, sub, channel="C1").proposal()
    assert (proposal.channel, proposal.theme.title) == ("C1", "Testers in refinement")
    assert proposal.theme.category is WasteCategory.DEFECTS
    assert (proposal.metric, proposal.target, str(proposal.check_date)) == (
        Metric.WASTE_COUNT,
        "3",
        "2026-12-24",
    )


def test_every_bad_theme_field_is_named_by_its_block_at_once() -> None:
    sub = submission(
        input_values(
            (ids.BLOCK_THEME_TITLE, A, plain(None)),
            (ids.BLOCK_THEME_CATEGORY, A, static_select("boredom")),
            (ids.BLOCK_THEME_STEP, A, static_select("first")),
            (ids.BLOCK_THEME_METRIC, A, static_select("lead_time")),
        )
    )
    with pytest.raises(FormErrors) as raised:
        read_form(ThemeForm, sub)
    assert raised.value.errors == {
        ids.BLOCK_THEME_CHANNEL: "Pick the channel of the team this theme is for.",
        ids.BLOCK_THEME_TITLE: "Give the theme a title.",
        ids.BLOCK_THEME_CATEGORY: "Pick one of the eight kinds of waste.",
        ids.BLOCK_THEME_STEP: "Pick a step of this channel's value stream.",
        ids.BLOCK_THEME_TARGET: "Type the value the metric should reach.",
        ids.BLOCK_THEME_CHECK_DATE: "Pick the date to measure it again.",
    }


def test_a_waste_form_reads_its_checkboxes_and_keeps_the_domain_message() -> None:
    sub = submission(
        input_values(
            (ids.BLOCK_WASTE_CATEGORY, W, static_select("waiting")),
            (ids.BLOCK_WASTE_DESCRIPTION, W, plain("CI queue")),
            (ids.BLOCK_WASTE_MINUTES, W, plain("two ages")),
            (ids.BLOCK_WASTE_ANONYMOUS, W, checkboxes(["anonymous"])),
        )
    )
    with pytest.raises(FormErrors) as raised:
        read_form(WasteForm, sub, channel="C1")
    assert list(raised.value.errors) == [ids.BLOCK_WASTE_MINUTES]

    sub = submission(
        input_values(
            (ids.BLOCK_WASTE_CATEGORY, W, static_select("waiting")),
            (ids.BLOCK_WASTE_DESCRIPTION, W, plain("CI queue")),
            (ids.BLOCK_WASTE_MINUTES, W, plain("2h")),
            (ids.BLOCK_WASTE_ANONYMOUS, W, checkboxes(["anonymous"])),
        )
    )
    form = read_form(WasteForm, sub, channel="C1")
    assert (form.minutes, form.anonymous, form.link) == (120, True, "")
