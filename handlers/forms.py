"""Modal forms at the edge: opening each with its metadata, and reading it into a typed form.

Each modal has a form model whose fields are its input blocks (the alias is the block id).
``read_form`` hands the model what Slack sent and turns every problem into ``FormErrors``
keyed by block id: the domain's own message where a domain rule read the field, else the
field's ``pick`` message. Rules across fields live in the model's ``cross_check``. This module
registers no listeners; the feature modules use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.deps import Deps
from bot.domain.channels import ChannelConfig
from bot.domain.durations import parse_duration
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
from bot.domain.observations import NewWaste, Source
from bot.domain.themes import clean_problem, clean_title
from bot.domain.vsm import MapState, StepDraft, clean_step_name, parse_percent, parse_wait
from bot.domain.wastes import WasteCategory, clean_description
from bot.usecases.action_items import list_open_themes
from bot.usecases.channel_settings import get_settings
from bot.usecases.themes import ThemeProposal, list_map_steps
from bot.usecases.work import Origin
from bot.views.kaizen import build_action_modal, build_settings_modal, build_theme_modal
from bot.views.vsm import MAX_OWNER_ROLE, START
from bot.views.waste import MAX_LINK, MAX_WORK_ITEM
from handlers.edge import FormErrors
from handlers.payloads import CHANNEL_ID, ModalMeta, ViewSubmission

T = TypeVar("T")

# Themes live in a team's channel (public or private), never in a DM.
TEAM_CHANNEL_ID = r"^[CG][A-Z0-9]{1,31}$"
USER_ID = r"^[UW][A-Z0-9]{1,31}$"
WEB_ADDRESS = r"^https?://\S+$"
CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
A = ids.ACTION_KAIZEN_INPUT
CATEGORIES = {c.value for c in WasteCategory}
METRICS = {m.value for m in Metric}
STATES = {s.value for s in MapState}


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


# -- reading a form ----------------------------------------------------------------------------


def _problem(message: str) -> PydanticCustomError:
    # The message is shown as written: escape braces, which pydantic would fill in.
    return PydanticCustomError("form", message.replace("{", "{{").replace("}", "}}"))


def domain(clean: Callable[[str], Any], *, blank: Any = ...) -> BeforeValidator:
    """Read the field with a domain rule; its KaizenError message is the field's error.

    With ``blank``, an empty field is that value and the rule is not asked.
    """

    def read(value: Any) -> Any:
        text = "" if value is None else str(value)
        if blank is not ... and not text.strip():
            return blank
        try:
            return clean(text)
        except KaizenError as error:
            raise _problem(error.message) from None

    return BeforeValidator(read)


def pick(message: str, *, allowed: Collection[str] | str = (), optional: bool = True) -> Any:
    """A picked value that must be one of ``allowed`` (or match it, a pattern), else ``message``."""

    def read(value: Any) -> Any:
        if value in (None, "", []) and optional:
            return None
        text = str(value or "")
        ok = re.match(allowed, text) if isinstance(allowed, str) else text in allowed
        if not ok:
            raise _problem(message)
        return text

    return BeforeValidator(read)


def _digits(message: str) -> BeforeValidator:
    def read(value: Any) -> int | None:
        if value in (None, ""):
            return None
        if not str(value).isdigit():
            raise _problem(message)
        return int(value)

    return BeforeValidator(read)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        raise _problem("Pick a date from the calendar.") from None


def _trimmed(limit: int, message: str) -> BeforeValidator:
    def read(value: Any) -> str:
        text = " ".join(str(value or "").split())
        if len(text) > limit:
            raise _problem(message)
        return text

    return BeforeValidator(read)


PickedDate = Annotated[date | None, BeforeValidator(_date)]


class Form(BaseModel):
    """A modal's input blocks; subclasses name each field's block with ``alias``."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True)
    action_id: ClassVar[str] = A

    @classmethod
    def cross_check(cls, raw: dict[str, Any]) -> dict[str, str]:
        """Problems that involve several fields, keyed by block id, from the raw values."""
        return {}


def _slack_value(element: dict[str, Any]) -> Any:
    """What one input holds: typed text, a picked option's value, a date, a user, a list."""
    if "selected_options" in element:
        return [o.get("value") for o in element.get("selected_options") or []]
    if "selected_option" in element:
        return (element.get("selected_option") or {}).get("value")
    for key in (
        "selected_date",
        "selected_time",
        "selected_date_time",
        "selected_user",
        "selected_conversation",
    ):
        if key in element:
            return element[key]
    return element.get("value")


F = TypeVar("F", bound=Form)


def read_form(form: type[F], sub: ViewSubmission, **given: Any) -> F:
    """The typed form, or FormErrors naming every bad field by its block id.

    ``given`` fills fields the modal does not show (the channel it was opened in).
    """
    values = sub.view.state.get("values", {})
    raw = {
        block: _slack_value(element)
        for block, inputs in values.items()
        if isinstance(element := inputs.get(form.action_id), dict)
    }
    aliases = {name: f.alias or name for name, f in form.model_fields.items()}
    raw |= {aliases[name]: value for name, value in given.items() if value is not None}
    errors: dict[str, str] = {}
    try:
        found: F | None = form.model_validate(raw)
    except ValidationError as error:
        found = None
        for problem in error.errors(include_url=False):
            block = aliases.get(str(problem["loc"][0]), str(problem["loc"][0]))
            errors.setdefault(block, problem["msg"])
    for block, message in form.cross_check(raw).items():
        errors.setdefault(block, message)
    if errors or found is None:
        raise FormErrors(errors)
    return found


def _block(block_id: str) -> Any:
    return Field(alias=block_id)


# -- the kaizen modals -------------------------------------------------------------------------


def _known_metric(value: Any) -> Metric | None:
    return Metric(value) if value in METRICS else None


class ThemeForm(Form):
    channel: Annotated[
        str,
        pick(
            "Pick the channel of the team this theme is for.",
            allowed=TEAM_CHANNEL_ID,
            optional=False,
        ),
        _block(ids.BLOCK_THEME_CHANNEL),
    ] = ""
    title: Annotated[str, domain(clean_title), _block(ids.BLOCK_THEME_TITLE)] = ""
    problem: Annotated[str, domain(clean_problem), _block(ids.BLOCK_THEME_PROBLEM)] = ""
    category: Annotated[
        WasteCategory | None,
        pick("Pick one of the eight kinds of waste.", allowed=CATEGORIES),
        _block(ids.BLOCK_THEME_CATEGORY),
    ] = None
    step: Annotated[
        int | None,
        _digits("Pick a step of this channel's value stream."),
        _block(ids.BLOCK_THEME_STEP),
    ] = None
    metric: Annotated[
        Metric | None, BeforeValidator(_known_metric), _block(ids.BLOCK_THEME_METRIC)
    ] = None
    target: Annotated[
        str, BeforeValidator(lambda v: str(v or "").strip()), _block(ids.BLOCK_THEME_TARGET)
    ] = ""
    check_date: Annotated[PickedDate, _block(ids.BLOCK_THEME_CHECK_DATE)] = None
    change: Annotated[
        str,
        BeforeValidator(lambda v: " ".join(str(v or "").split())[:500]),
        _block(ids.BLOCK_THEME_CHANGE),
    ] = ""

    @classmethod
    def cross_check(cls, raw: dict[str, Any]) -> dict[str, str]:
        """A hypothesis is all or nothing: a metric, the value it should reach, a date."""
        picked = raw.get(ids.BLOCK_THEME_METRIC)
        target = str(raw.get(ids.BLOCK_THEME_TARGET) or "").strip()
        check_date = raw.get(ids.BLOCK_THEME_CHECK_DATE)
        if _known_metric(picked) is None:
            if picked or target or check_date:
                return {ids.BLOCK_THEME_METRIC: "Pick the metric the hypothesis is about."}
            return {}
        errors = {}
        if not target:
            errors[ids.BLOCK_THEME_TARGET] = "Type the value the metric should reach."
        if not check_date:
            errors[ids.BLOCK_THEME_CHECK_DATE] = "Pick the date to measure it again."
        return errors

    def proposal(self) -> ThemeProposal:
        theme = NewTheme(
            title=self.title, problem=self.problem, category=self.category, step_id=self.step
        )
        return ThemeProposal(
            self.channel, theme, self.metric, self.target, self.check_date, self.change
        )


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


class ActionItemForm(Form):
    text: Annotated[str, domain(clean_action_text), _block(ids.BLOCK_ACTION_ITEM_TEXT)] = ""
    owner: Annotated[
        str,
        pick("Pick who owns this action.", allowed=USER_ID, optional=False),
        _block(ids.BLOCK_ACTION_ITEM_OWNER),
    ] = ""
    due: Annotated[PickedDate, _block(ids.BLOCK_ACTION_ITEM_DUE)] = None
    theme: Annotated[
        int | None,
        _digits("Pick one of this channel's themes."),
        _block(ids.BLOCK_ACTION_ITEM_THEME),
    ] = None

    def item(self) -> NewActionItem:
        return NewActionItem(text=self.text, owner_id=self.owner, due_date=self.due)


ACTION_ITEM_FIELDS: dict[str | None, str] = {
    "text": ids.BLOCK_ACTION_ITEM_TEXT,
    "due": ids.BLOCK_ACTION_ITEM_DUE,
    "theme": ids.BLOCK_ACTION_ITEM_THEME,
    None: ids.BLOCK_ACTION_ITEM_TEXT,
}


def _vote_emoji(text: str) -> str:
    return clean_emoji(text, field="vote_emoji")


def _waste_emoji(text: str) -> str:
    return clean_emoji(text, field="waste_emoji")


class SettingsForm(Form):
    digest_weekday: Annotated[
        int,
        pick("Pick a day of the week.", allowed=set("0123456"), optional=False),
        _block(ids.BLOCK_CHANNEL_SETTINGS_DIGEST_DAY),
    ] = 0
    digest_time: Annotated[
        str,
        pick("Pick a time of day.", allowed=CLOCK_TIME, optional=False),
        _block(ids.BLOCK_CHANNEL_SETTINGS_DIGEST_TIME),
    ] = ""
    timezone: Annotated[
        str, domain(clean_timezone), _block(ids.BLOCK_CHANNEL_SETTINGS_TIMEZONE)
    ] = ""
    vote_emoji: Annotated[
        str, domain(_vote_emoji), _block(ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI)
    ] = ""
    waste_emoji: Annotated[
        str, domain(_waste_emoji), _block(ids.BLOCK_CHANNEL_SETTINGS_WASTE_EMOJI)
    ] = ""
    vote_limit: Annotated[
        int | None, domain(clean_vote_limit), _block(ids.BLOCK_CHANNEL_SETTINGS_VOTE_LIMIT)
    ] = None

    @classmethod
    def cross_check(cls, raw: dict[str, Any]) -> dict[str, str]:
        try:
            vote = _vote_emoji(str(raw.get(ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI) or ""))
            waste = _waste_emoji(str(raw.get(ids.BLOCK_CHANNEL_SETTINGS_WASTE_EMOJI) or ""))
        except KaizenError:
            return {}
        if vote == waste:
            message = "Voting and logging waste need different emoji."
            return {ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI: message}
        return {}

    def config(self) -> ChannelConfig:
        """The settings typed; whether the digest is on is kept by the use case."""
        return ChannelConfig(
            timezone=self.timezone,
            digest_weekday=self.digest_weekday,
            digest_time=self.digest_time,
            digest_enabled=False,
            vote_emoji=self.vote_emoji,
            waste_emoji=self.waste_emoji,
            vote_limit=self.vote_limit,
        )


SETTINGS_FIELDS: dict[str | None, str] = {
    "timezone": ids.BLOCK_CHANNEL_SETTINGS_TIMEZONE,
    "vote_emoji": ids.BLOCK_CHANNEL_SETTINGS_VOTE_EMOJI,
    "waste_emoji": ids.BLOCK_CHANNEL_SETTINGS_WASTE_EMOJI,
    "vote_limit": ids.BLOCK_CHANNEL_SETTINGS_VOTE_LIMIT,
    None: ids.BLOCK_CHANNEL_SETTINGS_TIMEZONE,
}


# -- waste, wait and the map -------------------------------------------------------------------


def _link(value: Any) -> str:
    link = str(value or "").strip()
    if link and (not re.match(WEB_ADDRESS, link) or len(link) > MAX_LINK):
        raise _problem("Paste a web address starting with https://")
    return link


class WasteForm(Form):
    action_id: ClassVar[str] = ids.ACTION_WASTE_INPUT

    channel: Annotated[
        str,
        pick(
            "Pick the channel of the team this waste belongs to.",
            allowed=CHANNEL_ID,
            optional=False,
        ),
        _block(ids.BLOCK_WASTE_CHANNEL),
    ] = ""
    category: Annotated[
        str,
        pick("Pick one of the eight kinds of waste.", allowed=CATEGORIES, optional=False),
        _block(ids.BLOCK_WASTE_CATEGORY),
    ] = ""
    description: Annotated[str, domain(clean_description), _block(ids.BLOCK_WASTE_DESCRIPTION)] = ""
    minutes: Annotated[
        int | None, domain(parse_duration, blank=None), _block(ids.BLOCK_WASTE_MINUTES)
    ] = None
    link: Annotated[str, BeforeValidator(_link), _block(ids.BLOCK_WASTE_LINK)] = ""
    step: Annotated[
        int | None,
        _digits("Pick a step of this channel's value stream."),
        _block(ids.BLOCK_WASTE_STEP),
    ] = None
    anonymous: Annotated[
        bool,
        BeforeValidator(lambda v: "anonymous" in (v or [])),
        _block(ids.BLOCK_WASTE_ANONYMOUS),
    ] = False

    def waste(self, meta: WasteModalMeta) -> NewWaste:
        return NewWaste(
            category=self.category,
            description=self.description,
            minutes=self.minutes,
            step_id=self.step,
            link=self.link,
            source=meta.s if meta.s in (Source.SHORTCUT, Source.MODAL) else Source.MODAL,
            anonymous=self.anonymous,
            message_ts=meta.ts,
        )


def _wait_reason(text: str) -> str:
    try:
        return clean_description(text)
    except KaizenError as error:
        error.message = error.message.replace("what happened", "what you waited for")
        raise


def _work_item(value: Any) -> str:
    work_item = str(value or "").strip()
    if len(work_item) > MAX_WORK_ITEM:
        raise _problem(f"Keep the work item to {MAX_WORK_ITEM} characters.")
    return work_item


class WaitForm(Form):
    action_id: ClassVar[str] = ids.ACTION_WAIT_INPUT

    minutes: Annotated[int, domain(parse_duration), _block(ids.BLOCK_WAIT_MINUTES)] = 0
    reason: Annotated[str, domain(_wait_reason), _block(ids.BLOCK_WAIT_REASON)] = ""
    work_item: Annotated[str, BeforeValidator(_work_item), _block(ids.BLOCK_WAIT_WORK_ITEM)] = ""
    step: Annotated[
        int | None,
        _digits("Pick a step of this channel's value stream."),
        _block(ids.BLOCK_WAIT_STEP),
    ] = None

    def waste(self) -> NewWaste:
        return NewWaste(
            category=WasteCategory.WAITING.value,
            description=self.reason,
            minutes=self.minutes,
            is_wait=True,
            step_id=self.step,
            work_item=self.work_item,
            source=Source.MODAL,
        )


def _owner_role(value: Any) -> str:
    owner = " ".join(str(value or "").split())
    if len(owner) > MAX_OWNER_ROLE:
        raise _problem(f"Keep the owner role to {MAX_OWNER_ROLE} characters.")
    return owner


class StepForm(Form):
    action_id: ClassVar[str] = ids.ACTION_VSM_INPUT

    name: Annotated[str, domain(clean_step_name), _block(ids.BLOCK_VSM_NAME)] = ""
    owner: Annotated[str, BeforeValidator(_owner_role), _block(ids.BLOCK_VSM_OWNER)] = ""
    process: Annotated[int, domain(parse_duration), _block(ids.BLOCK_VSM_PROCESS)] = 0
    wait: Annotated[int, domain(parse_wait), _block(ids.BLOCK_VSM_WAIT)] = 0
    percent: Annotated[int, domain(parse_percent, blank=100), _block(ids.BLOCK_VSM_CA)] = 100
    state: Annotated[
        MapState | None,
        pick("Pick the current or the future map.", allowed=STATES),
        _block(ids.BLOCK_VSM_STATE),
    ] = None
    after: Annotated[
        str | None,
        pick("Pick a place in the stream.", allowed=rf"^(\d+|{re.escape(START)})$"),
        _block(ids.BLOCK_VSM_AFTER),
    ] = None

    def draft(self) -> StepDraft:
        return StepDraft(
            self.name,
            self.process,
            self.wait,
            pct_complete_accurate=self.percent,
            owner_role=self.owner,
        )


# -- opening the kaizen modals ------------------------------------------------------------------


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
