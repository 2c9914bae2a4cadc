"""Modal forms at the edge: opening each with its metadata, and reading its fields back.

A reader returns the typed input or raises ``FormErrors`` keyed by input block id, naming
every field that can be checked without stored data. Used by the feature modules; it registers
no listeners.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from pydantic import Field
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.errors import KaizenError
from bot.domain.hypotheses import Metric
from bot.domain.kaizen import (
    NewActionItem,
    NewTheme,
    clean_action_text,
    clean_emoji,
    clean_timezone,
    clean_vote_limit,
)
from bot.domain.observations import Source
from bot.domain.themes import clean_problem, clean_title
from bot.domain.wastes import WasteCategory
from bot.usecases.action_items import list_open_themes
from bot.usecases.channel_settings import get_settings
from bot.usecases.themes import ThemeProposal, list_map_steps
from bot.usecases.work import Origin
from bot.views.kaizen import build_action_modal, build_settings_modal, build_theme_modal
from handlers.edge import FormErrors
from handlers.payloads import CHANNEL_ID, ModalMeta, ViewSubmission

# Themes live in a team's channel (public or private), never in a DM.
TEAM_CHANNEL_ID = r"^[CG][A-Z0-9]{1,31}$"
A = ids.ACTION_KAIZEN_INPUT
CATEGORIES = {c.value for c in WasteCategory}


class KaizenModalMeta(ModalMeta):
    """What the kaizen modals carry between opening and submit (``private_metadata``)."""

    command: ClassVar[str] = ids.CMD_KAIZEN

    c: str | None = Field(default=None, pattern=TEAM_CHANNEL_ID)
    t: int | None = Field(default=None, ge=1)
    s: bool = False
    """The theme modal shows the step picker (the channel has a map)."""
    r: str | None = Field(default=None, max_length=500)


class WasteModalMeta(ModalMeta):
    """What the waste and wait modals carry between opening and submit."""

    command: ClassVar[str] = ids.CMD_WASTE

    c: str | None = Field(default=None, pattern=CHANNEL_ID)
    s: Source = Source.MODAL
    ts: str | None = Field(default=None, pattern=r"^\d{1,12}\.\d{1,8}$")
    r: str | None = Field(default=None, max_length=500)
    ni: bool = False
    """The bot is not in the channel: the confirmation says how to invite it."""


class Fields:
    """Collects field errors while a form is read; ``check`` raises them all at once."""

    def __init__(self, sub: ViewSubmission, action_id: str) -> None:
        self.sub, self.action_id = sub, action_id
        self.errors: dict[str, str] = {}

    def text(self, block: str) -> str:
        return self.sub.text(block, self.action_id)

    def selected(self, block: str) -> str | None:
        return self.sub.selected(block, self.action_id)

    def picked(self, block: str, key: str) -> str | None:
        picked = (self.sub.value(block, self.action_id) or {}).get(key)
        return str(picked) if picked else None

    def picked_options(self, block: str) -> set[str]:
        """The values of the checked boxes."""
        options = (self.sub.value(block, self.action_id) or {}).get("selected_options") or []
        return {str(o.get("value")) for o in options}

    def clean(self, block: str, clean: Any, default: Any = "") -> Any:
        """``clean(text)``, or ``default`` with the domain's message as the field error."""
        try:
            return clean(self.text(block))
        except KaizenError as error:
            self.errors[block] = error.message
            return default

    def date(self, block: str) -> date | None:
        picked = self.picked(block, "selected_date")
        try:
            return date.fromisoformat(picked) if picked else None
        except ValueError:
            self.errors[block] = "Pick a date from the calendar."
            return None

    def number(self, block: str, message: str) -> int | None:
        """A picked option that must be a number (a step id, a theme number), if any."""
        value = self.selected(block)
        if value is not None and not value.isdigit():
            self.errors[block] = message
        return int(value) if value and value.isdigit() else None

    def require(self, block: str, ok: bool, message: str) -> None:
        if not ok:
            self.errors.setdefault(block, message)

    def check(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


def theme_fields(meta: KaizenModalMeta) -> dict[str | None, str]:
    """Where a domain error about a theme field shows in the modal."""
    return {
        "title": ids.BLOCK_THEME_TITLE,
        "problem": ids.BLOCK_THEME_PROBLEM,
        "step": ids.BLOCK_THEME_STEP if meta.s else ids.BLOCK_THEME_METRIC,
        "metric": ids.BLOCK_THEME_METRIC,
        "target": ids.BLOCK_THEME_TARGET,
        "check_date": ids.BLOCK_THEME_CHECK_DATE,
        None: ids.BLOCK_THEME_TITLE,
    }


def read_theme_form(sub: ViewSubmission, meta: KaizenModalMeta) -> ThemeProposal:
    form = Fields(sub, A)
    channel = meta.c or form.picked(ids.BLOCK_THEME_CHANNEL, "selected_conversation") or ""
    form.require(
        ids.BLOCK_THEME_CHANNEL,
        bool(re.match(TEAM_CHANNEL_ID, channel)),
        "Pick the channel of the team this theme is for.",
    )
    title = form.clean(ids.BLOCK_THEME_TITLE, clean_title)
    problem = form.clean(ids.BLOCK_THEME_PROBLEM, clean_problem)
    category = form.selected(ids.BLOCK_THEME_CATEGORY)
    form.require(
        ids.BLOCK_THEME_CATEGORY,
        category in (None, *CATEGORIES),
        "Pick one of the eight kinds of waste.",
    )
    step = form.number(ids.BLOCK_THEME_STEP, "Pick a step of this channel's value stream.")
    metric, target, check_date = _read_hypothesis(form)
    form.check()
    theme = NewTheme(
        title=title, problem=problem, step_id=step,
        category=WasteCategory(category) if category else None,
    )  # fmt: skip
    change = " ".join(form.text(ids.BLOCK_THEME_CHANGE).split())[:500]
    return ThemeProposal(channel, theme, metric, target, check_date, change)


def _read_hypothesis(form: Fields) -> tuple[Metric | None, str, date | None]:
    picked = form.selected(ids.BLOCK_THEME_METRIC)
    metric = Metric(picked) if picked in {m.value for m in Metric} else None
    target = form.text(ids.BLOCK_THEME_TARGET).strip()
    check_date = form.date(ids.BLOCK_THEME_CHECK_DATE)
    form.require(
        ids.BLOCK_THEME_METRIC,
        metric is not None or not (picked or target or check_date),
        "Pick the metric the hypothesis is about.",
    )
    if metric is not None:
        form.require(
            ids.BLOCK_THEME_TARGET, bool(target), "Type the value the metric should reach."
        )
        form.require(
            ids.BLOCK_THEME_CHECK_DATE, check_date is not None, "Pick the date to measure it again."
        )
    return metric, target, check_date


ACTION_ITEM_FIELDS: dict[str | None, str] = {
    "text": ids.BLOCK_ACTION_TEXT,
    "due": ids.BLOCK_ACTION_DUE,
    "theme": ids.BLOCK_ACTION_THEME,
    None: ids.BLOCK_ACTION_TEXT,
}


def read_action_item_form(sub: ViewSubmission) -> tuple[NewActionItem, int | None]:
    form = Fields(sub, A)
    text = form.clean(ids.BLOCK_ACTION_TEXT, clean_action_text)
    owner = form.picked(ids.BLOCK_ACTION_OWNER, "selected_user") or ""
    form.require(
        ids.BLOCK_ACTION_OWNER,
        bool(re.match(r"^[UW][A-Z0-9]{1,31}$", owner)),
        "Pick who owns this action.",
    )
    due = form.date(ids.BLOCK_ACTION_DUE)
    theme = form.number(ids.BLOCK_ACTION_THEME, "Pick one of this channel's themes.")
    form.check()
    return NewActionItem(text=text, owner_id=owner, due_date=due), theme


SETTINGS_FIELDS: dict[str | None, str] = {
    "timezone": ids.BLOCK_SETTINGS_TIMEZONE,
    "vote_emoji": ids.BLOCK_SETTINGS_VOTE_EMOJI,
    "waste_emoji": ids.BLOCK_SETTINGS_WASTE_EMOJI,
    "vote_limit": ids.BLOCK_SETTINGS_VOTE_LIMIT,
    None: ids.BLOCK_SETTINGS_TIMEZONE,
}


def read_settings_form(sub: ViewSubmission) -> ChannelConfig:
    form = Fields(sub, A)
    day = form.selected(ids.BLOCK_SETTINGS_DIGEST_DAY) or ""
    form.require(
        ids.BLOCK_SETTINGS_DIGEST_DAY, day.isdigit() and int(day) <= 6, "Pick a day of the week."
    )
    time = form.picked(ids.BLOCK_SETTINGS_DIGEST_TIME, "selected_time") or ""
    form.require(
        ids.BLOCK_SETTINGS_DIGEST_TIME,
        bool(re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", time)),
        "Pick a time of day.",
    )
    timezone = form.clean(ids.BLOCK_SETTINGS_TIMEZONE, clean_timezone, None)
    vote = form.clean(ids.BLOCK_SETTINGS_VOTE_EMOJI, lambda t: clean_emoji(t, field="vote_emoji"))
    waste = form.clean(
        ids.BLOCK_SETTINGS_WASTE_EMOJI, lambda t: clean_emoji(t, field="waste_emoji")
    )
    limit = form.clean(ids.BLOCK_SETTINGS_VOTE_LIMIT, clean_vote_limit, None)
    form.require(
        ids.BLOCK_SETTINGS_VOTE_EMOJI,
        not (vote and vote == waste),
        "Voting and logging waste need different emoji.",
    )
    form.check()
    return ChannelConfig(
        timezone=timezone, digest_weekday=int(day), digest_time=time, digest_enabled=False,
        vote_emoji=vote, waste_emoji=waste, vote_limit=limit,
    )  # fmt: skip


async def open_theme_form(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    trigger_id: str,
    channel: str | None,
    response_url: str | None = None,
    draft: NewTheme | None = None,
) -> None:
    """The theme modal; ``draft`` pre-fills it (a retro's top note)."""
    steps = await list_map_steps(deps, origin, channel)
    meta = KaizenModalMeta(c=channel, s=bool(steps), r=response_url or None)
    view = build_theme_modal(
        metadata=meta.dump(), steps=steps, ask_channel=channel is None, draft=draft
    )
    await client.views_open(trigger_id=trigger_id, view=view)


async def open_action_item_form(
    client: AsyncWebClient,
    deps: Deps,
    origin: Origin,
    trigger_id: str,
    channel: str,
    theme_number: int | None,
    user: str,
) -> None:
    themes = await list_open_themes(deps, origin, channel)
    meta = KaizenModalMeta(c=channel, t=theme_number)
    view = build_action_modal(
        metadata=meta.dump(), themes=themes, theme_number=theme_number, owner_id=user
    )
    await client.views_open(trigger_id=trigger_id, view=view)


async def open_settings_form(
    client: AsyncWebClient, deps: Deps, origin: Origin, trigger_id: str, channel: str
) -> None:
    config = await get_settings(deps, origin, channel)
    view = build_settings_modal(metadata=KaizenModalMeta(c=channel).dump(), config=config)
    await client.views_open(trigger_id=trigger_id, view=view)
