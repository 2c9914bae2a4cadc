"""The waste confirmation's hand-written block is the one slack_sdk's models build."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import ButtonElement, MarkdownTextObject, SectionBlock

from bot import ids
from bot.domain.observations import LoggedWaste, Source
from bot.views.waste import build_waste_confirmation, describe


def logged(**changes: object) -> LoggedWaste:
    fields: dict[str, object] = {
        "id": 42,
        "channel_id": "C1",
        "category": "waiting",
        "description": "the CI runner <again> & again",
        "minutes": 90,
        "is_wait": False,
        "step_id": None,
        "step_name": None,
        "work_item": "",
        "link": "",
        "source": Source.COMMAND,
        "anonymous": False,
        "reporter_id": "U1",
        "created_at": datetime(2026, 3, 2, tzinfo=UTC),
    }
    return LoggedWaste(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "waste",
    [
        logged(),
        logged(category=None, minutes=None, description=""),
        logged(anonymous=True, reporter_id=None, is_wait=True, step_name="Review"),
        logged(description="x" * 5000, link="https://example.com/1"),
    ],
)
def test_the_logged_block_is_what_the_models_build(waste: LoggedWaste) -> None:
    note = " anonymously" if waste.anonymous else ""
    expected = SectionBlock(
        text=MarkdownTextObject(text=f":white_check_mark: Logged{note}: {describe(waste)}"),
        accessory=ButtonElement(action_id=ids.ACTION_WASTE_UNDO, text="Undo", value=str(waste.id)),
    ).to_dict()
    assert build_waste_confirmation(waste)["blocks"][0] == expected
